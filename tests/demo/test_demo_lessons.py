"""The demo teacher's lesson plans (demo.lessons, the seed's last step): past plans with groups,
exit tickets whose scores count in mastery, one plan for tomorrow, and none left by a reset."""

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from accounts.models import User
from assessments.models import MasteryEstimate, MasteryEvidence, Score, ScoreSource
from demo import district as demo
from demo.district import DEMO_LOGINS
from demo.lessons import PAST_SCHOOL_DAYS
from demo.records import INSTRUCTIONAL_DAY
from lessons.models import (
    GroupActivity,
    GroupKind,
    LessonPlan,
    PlanGroup,
    PlanGroupMember,
    PlanMaterial,
)
from lessons.selectors import plan_for_user, plans_of_teacher, sections_plannable_by
from lessons.services import material_add_file
from students.models import CalendarDate, Section, SectionAssignment
from students.selectors import section_roster

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 4)  # a Friday: tomorrow's plan is on Monday the 7th
TOMORROW = date(2026, 12, 7)
STUDENTS = 260
SEED = 5


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker) -> Iterator[demo.DemoDistrict]:
    """One small demo as of TODAY, every step included, built once and rolled back after."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield demo.build_demo_district(students=STUDENTS, seed=SEED, today=TODAY)
        transaction.set_rollback(True)


def _teacher() -> User:
    return User.objects.get(email=DEMO_LOGINS["teacher"])


def _teacher_sections(built: demo.DemoDistrict) -> list[Section]:
    return list(
        Section.objects.filter(
            pk__in=SectionAssignment.objects.filter(staff_id=built.teacher_staff_id).values(
                "section_id"
            )
        ).order_by("pk")
    )


def test_the_lessons_step_runs_last_as_the_teachers_login() -> None:
    names = [step.name for step in demo.SEED_STEPS]
    assert names[-1] == "lessons"
    assert names.index("assessments") < names.index("logins") < names.index("lessons")


def test_each_teacher_section_has_weeks_of_past_plans_with_groups(built) -> None:
    sections = _teacher_sections(built)
    assert len(sections) >= 2
    assert set(sections_plannable_by(_teacher())) == set(sections)
    for section in sections:
        # The school days before today, from the calendar the records step wrote.
        school_days = CalendarDate.objects.filter(
            school_id=section.school_id, event=INSTRUCTIONAL_DAY, date__lt=TODAY
        ).order_by("-date")[:PAST_SCHOOL_DAYS]
        expected_days = sorted(day.date for day in school_days)
        past = list(
            LessonPlan.objects.filter(section=section, first_day__lt=TODAY).prefetch_related(
                "standards", "groups__activities", "groups__members", "materials"
            )
        )
        assert [plan.first_day for plan in past] == expected_days, section
        assessed = set(
            section.assessments.exclude(exit_for_plans__isnull=False).values_list(
                "standards", flat=True
            )
        )
        roster = len(section_roster(section))
        for plan in past:
            assert plan.last_day == plan.first_day
            assert plan.objective.startswith("Students ")
            standards = {s.pk for s in plan.standards.all()}
            assert 1 <= len(standards) <= 2 and standards <= assessed
            groups = list(plan.groups.all())
            built_kinds = {g.kind for g in groups if g.kind != GroupKind.CUSTOM}
            assert built_kinds == {GroupKind.RETEACH, GroupKind.PRACTICE, GroupKind.EXTEND}
            assert all(g.standard_id in standards for g in groups)
            assert all(len(g.activities.all()) == 1 for g in groups)
            placed = sum(len(g.members.all()) for g in groups)
            assert 0 < placed <= roster
            [material] = plan.materials.all()
            assert material.is_link and material.url.startswith("https://")
        taught = sum(plan.is_taught for plan in past)
        assert taught > len(past) / 2  # most, not necessarily all
        # Some reteach, practice and extend students across the weeks, from the estimates.
        kinds = set(
            PlanGroupMember.objects.filter(plan__in=past).values_list("group__kind", flat=True)
        )
        assert {GroupKind.RETEACH, GroupKind.PRACTICE, GroupKind.EXTEND} <= kinds


def test_exit_tickets_score_the_section_and_count_in_mastery(built) -> None:
    teacher = _teacher()
    for section in _teacher_sections(built):
        plans = list(
            LessonPlan.objects.filter(section=section, exit_ticket__isnull=False).select_related(
                "exit_ticket"
            )
        )
        assert plans, section
        for plan in plans:
            ticket = plan.exit_ticket
            assert ticket is not None
            assert plan.is_taught and ticket.section_id == section.pk
            assert ticket.due_on == plan.first_day
            assert set(ticket.standards.values_list("pk", flat=True)) == set(
                plan.standards.values_list("pk", flat=True)
            )
            scores = Score.objects.filter(student_assessment__assessment=ticket)
            assert scores.count() >= len(section_roster(section)) * 0.8
            assert set(scores.values_list("source", flat=True)) == {ScoreSource.ENTERED}
            assert not scores.exclude(scored_on=plan.first_day).exists()
            # The scores are evidence, and the estimates have caught up with them.
            evidence = MasteryEvidence.objects.filter(score__in=scores)
            assert evidence.exists()
            pairs = set(evidence.values_list("student_id", "standard_id"))
            estimates = MasteryEstimate.objects.filter(
                student_id__in={s for s, _ in pairs}, standard_id__in={t for _, t in pairs}
            )
            assert not estimates.filter(pending_since__isnull=False).exists()
            caught_up = estimates.filter(latest_observed_on__gte=plan.first_day)
            assert caught_up.count() >= len(pairs) * 0.9
        # The teacher reads and edits each of them.
        assert plan_for_user(teacher, plans[0].pk).may_edit


def test_each_teacher_section_has_exactly_one_plan_for_tomorrow(built) -> None:
    for section in _teacher_sections(built):
        future = list(LessonPlan.objects.filter(section=section, first_day__gte=TODAY))
        assert [plan.first_day for plan in future] == [TOMORROW]
        [tomorrow] = future
        assert not tomorrow.is_taught and tomorrow.exit_ticket_id is None
        members = PlanGroupMember.objects.filter(plan=tomorrow)
        assert members.count() == len(section_roster(section))
        # Grouped from the current estimates (levels at placement are today's).
        standard = tomorrow.groups.exclude(standard__isnull=True).first()
        assert standard is not None and standard.standard_id is not None
        now = dict(
            MasteryEstimate.objects.filter(
                standard_id=standard.standard_id, student_id__in=members.values("student_id")
            ).values_list("student_id", "level")
        )
        for member in members:
            if member.student_id in now and member.level_at_placement is not None:
                assert member.level_at_placement == now[member.student_id]


def test_the_teacher_sees_no_plans_of_other_teachers_sections(built) -> None:
    teacher = _teacher()
    own = {s.pk for s in _teacher_sections(built)}
    seen = plans_of_teacher(teacher, TODAY - timedelta(days=60), TODAY + timedelta(days=10))
    assert seen and {plan.section_id for plan in seen} == own
    # Only the demo teacher (the one teacher with a login) has plans.
    assert not LessonPlan.objects.exclude(section_id__in=own).exists()
    assert set(LessonPlan.objects.values_list("created_by", flat=True)) == {teacher.pk}


def test_the_reset_leaves_no_plans_and_removes_material_files(
    built, settings, tmp_path, django_capture_on_commit_callbacks
) -> None:
    settings.MEDIA_ROOT = tmp_path
    teacher = _teacher()
    plan = LessonPlan.objects.filter(created_by=teacher).first()
    assert plan is not None
    material = material_add_file(
        acting_user=teacher,
        plan=plan,
        upload=ContentFile(b"Warm-up questions\n", name="warm-up.txt"),
    )
    stored = material.file.name
    assert default_storage.exists(stored)
    with transaction.atomic():
        with django_capture_on_commit_callbacks(execute=True):
            assert demo.demo_district_delete()
        for model in (LessonPlan, PlanGroup, PlanGroupMember, GroupActivity, PlanMaterial):
            assert not model.objects.exists(), model
        assert not default_storage.exists(stored)
        transaction.set_rollback(True)

"""The demo district has lived a school year: the replay gives dated history that "levels as of a
date" reads, families have languages and contact preferences, sizes are as stated, and the same
seed gives the same year."""

import hashlib
from collections import Counter, defaultdict
from datetime import date

import pytest
from django.db.models import Count
from django.urls import reverse

from accounts.models import User
from assessments.models import MasteryEstimate, MasteryEstimateHistory, Score
from demo import district as demo
from demo import mastery
from demo.district import DEMO_LOGINS
from lessons.models import LessonPlan, PlanGroupMember
from students.models import (
    AttendanceEvent,
    Grade,
    Guardian,
    Section,
    SectionAssignment,
    StudentSchoolMembership,
)
from tests.dashboard.test_pages import heatmap_of

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 4)  # a Friday in December: four months of the year lived
STUDENTS = 300
SEED = 5


def _digest(rows) -> str:
    return hashlib.sha256(repr(sorted(rows)).encode()).hexdigest()


def _fresh_id_sequences() -> None:
    """Start every table's ids where a fresh database would: "the same seed gives the same
    district" is about two runs on fresh databases, and the learned model's fit reads students
    in id order (so a rebuild with other ids may differ in the last digits of a probability)."""
    from django.apps import apps
    from django.core.management.color import no_style
    from django.db import connection

    models = [
        model
        for app in ("students", "assessments", "accounts", "lessons")
        for model in apps.get_app_config(app).get_models()
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # AUTOINCREMENT then continues from each table's largest id (none: 1).
            cursor.execute("DELETE FROM sqlite_sequence")
        else:
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)


def _year_fingerprint(district) -> dict[str, object]:
    """Counts and hashes of what the year wrote, by natural keys (database ids differ)."""
    scores = Score.objects.filter(district=district)
    history = MasteryEstimateHistory.objects.filter(student__district=district)
    plans = LessonPlan.objects.filter(section__district=district)
    return {
        "scores": _digest(
            scores.values_list(
                "student__source_id",
                "student_assessment__assessment__source_id",
                "points",
                "status",
                "scored_on",
            )
        ),
        "estimates": _digest(
            MasteryEstimate.objects.filter(student__district=district).values_list(
                "student__source_id", "standard__code", "level", "evidence_count"
            )
        ),
        "history": _digest(
            history.values_list("student__source_id", "standard__code", "as_of", "level")
        ),
        "attendance": _digest(
            AttendanceEvent.objects.filter(district=district).values_list(
                "student__source_id", "event_date", "category"
            )
        ),
        "grades": _digest(
            Grade.objects.filter(district=district).values_list(
                "student__source_id", "section__source_id", "letter_grade", "numeric_grade"
            )
        ),
        "guardians": _digest(
            Guardian.objects.filter(district=district).values_list(
                "source_id", "language", "contact_method", "contact_time"
            )
        ),
        # The demo teacher's lesson plans (demo.lessons): days, standards, groups, exit tickets.
        "plans": _digest(
            tuple("" if value is None else value for value in row)
            for row in PlanGroupMember.objects.filter(plan__section__district=district).values_list(
                "plan__section__source_id",
                "plan__first_day",
                "plan__objective",
                "plan__exit_ticket__title",
                "group__kind",
                "group__standard__code",
                "group__activities__text",
                "student__source_id",
                "level_at_placement",
            )
        ),
        "counts": (
            scores.count(),
            history.count(),
            plans.count(),
            plans.filter(taught_at__isnull=False).count(),
        ),
    }


def test_the_replayed_year_has_dated_history_that_levels_as_of_a_date_reads(client) -> None:
    _fresh_id_sequences()
    built = demo.build_demo_district(students=STUDENTS, seed=SEED, today=TODAY)
    district = built.district

    # Most estimates have at least three history points on distinct dates.
    dates_per_pair = defaultdict(set)
    for student, standard, as_of in MasteryEstimateHistory.objects.filter(
        student__district=district
    ).values_list("student_id", "standard_id", "as_of"):
        dates_per_pair[(student, standard)].add(as_of)
    estimates = MasteryEstimate.objects.filter(student__district=district).count()
    with_three = sum(1 for dates in dates_per_pair.values() if len(dates) >= 3)
    assert with_three / estimates > 0.5, (with_three, estimates)
    # The history spans the months lived, not one day.
    months = {d.month for dates in dates_per_pair.values() for d in dates}
    assert {9, 10, 11} <= months

    # Mid-year students were not scored before they arrived.
    late = StudentSchoolMembership.objects.filter(
        district=district, begin_date__gt=date(2026, 8, 31)
    )
    assert late.exists()
    for membership in late:
        assert not Score.objects.filter(
            student_id=membership.student_id, scored_on__lt=membership.begin_date
        ).exists()

    # "Levels as of" a date in the middle of the year shows the levels that held then: for each
    # cell, the newest history row on or before that date.
    middle = date(2026, 10, 14)
    teacher = User.objects.get(email=DEMO_LOGINS["teacher"])
    section = Section.objects.filter(
        pk__in=SectionAssignment.objects.filter(staff_id=built.teacher_staff_id).values(
            "section_id"
        )
    ).first()
    assert section is not None
    client.force_login(teacher)
    url = reverse("students:section_detail", kwargs={"pk": section.pk})
    response = client.get(url, {"as_of": middle.isoformat()})
    assert response.status_code == 200
    heatmap = heatmap_of(response)
    student_ids, standard_ids = heatmap.student_ids, heatmap.standard_ids
    expected: dict[tuple[int, int], tuple[date, int]] = {}
    for student, standard, as_of, level in (
        MasteryEstimateHistory.objects.filter(
            student_id__in=student_ids, standard_id__in=standard_ids, as_of__lte=middle
        )
        .order_by("as_of", "recorded_at", "id")
        .values_list("student_id", "standard_id", "as_of", "level")
    ):
        expected[(student, standard)] = (as_of, level)
    assert len(expected) > 20
    differs_from_today = 0
    now = dict(
        (((s, t), level))
        for s, t, level in MasteryEstimate.objects.filter(
            student_id__in=student_ids, standard_id__in=standard_ids
        ).values_list("student_id", "standard_id", "level")
    )
    for row, student in enumerate(student_ids):
        for column, standard in enumerate(standard_ids):
            shown = heatmap.levels[row][column]
            if (student, standard) in expected:
                assert shown == expected[(student, standard)][1], (student, standard)
                differs_from_today += shown != now.get((student, standard))
            else:
                assert shown == 0  # no evidence yet on that date
    assert differs_from_today > 0  # the past is not today's levels again

    # Guardians read the family's language: about a quarter not English, mostly Spanish; each
    # has contact preferences.
    languages = Counter(
        Guardian.objects.filter(district=district).values_list("language", flat=True)
    )
    total = sum(languages.values())
    assert "" not in languages
    other = total - languages["English"]
    assert 0.12 < other / total < 0.38, languages
    assert languages["Spanish"] > other / 2
    methods = dict(
        Guardian.objects.filter(district=district)
        .values_list("contact_method")
        .annotate(n=Count("id"))
        .values_list("contact_method", "n")
    )
    assert set(methods) == {"email", "text"}

    # The same seed and day build the same year.
    first = _year_fingerprint(district)
    assert demo.demo_district_delete()
    User.objects.all().delete()
    _fresh_id_sequences()
    again = demo.build_demo_district(students=STUDENTS, seed=SEED, today=TODAY)
    assert _year_fingerprint(again.district) == first


def test_the_default_demo_gives_the_principal_a_school_of_400() -> None:
    build = demo.DemoBuild(students=demo.DEFAULT_STUDENTS, seed=demo.DEFAULT_SEED, today=TODAY)
    for step in demo.SEED_STEPS[:4]:  # district, schools, staff, sections: no families
        step.run(build)
    assert [step.name for step in demo.SEED_STEPS[:4]] == [
        "district",
        "schools",
        "staff",
        "sections",
    ]
    assert build.schools[build.demo_school].students >= 400


def test_the_86k_district_has_one_high_school_of_about_2000() -> None:
    build = demo.DemoBuild(students=86_000, seed=demo.DEFAULT_SEED, today=TODAY)
    demo.district_step(build)
    demo.schools_step(build)
    assert build.rollup_school is not None
    rollup = build.schools[build.rollup_school]
    assert rollup.level == "high"
    assert 1850 <= rollup.students <= 2150, rollup.students
    others = [s.students for s in build.schools if s.level == "high" and s is not rollup]
    assert max(others) < rollup.students


def test_past_the_score_cap_the_logins_sections_get_all_and_every_school_some(
    monkeypatch,
) -> None:
    monkeypatch.setattr(mastery, "SCORE_ROWS_CAP", 4000)
    built = demo.build_demo_district(students=260, seed=SEED, today=TODAY)
    scores = Score.objects.filter(district=built.district)
    scored_sections = set(
        scores.values_list("student_assessment__assessment__section_id", flat=True)
    )
    # Every school has scored sections, not just the first ones by id.
    for school_id in built.school_ids:
        assert Section.objects.filter(school_id=school_id, pk__in=scored_sections).exists()
    # The demo teacher's sections have all their assessments scored.
    for section_id in SectionAssignment.objects.filter(staff_id=built.teacher_staff_id).values_list(
        "section_id", flat=True
    ):
        section = Section.objects.get(pk=section_id)
        scored = (
            scores.filter(student_assessment__assessment__section_id=section_id)
            .values("student_assessment__assessment_id")
            .distinct()
            .count()
        )
        assert scored == section.assessments.count(), section
    # Within the cap, give or take the last section's roster. The cap is the replay's: the demo
    # teacher's exit tickets (demo.lessons, a later step) come on top of it.
    replayed = scores.filter(student_assessment__assessment__exit_for_plans__isnull=True)
    assert replayed.count() < 4000 + 30
    assert scores.count() > replayed.count()

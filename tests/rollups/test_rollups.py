"""The rollups' arithmetic against a brute-force count written plainly here, on random small
districts (hypothesis): a rebuild, incremental updates against a rebuild (drift 0), a tampered
table's drift, the estimates' and imports' hooks, the nightly catch-up, and the selectors'
numbers and query counts."""

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from assessments.models import (
    Assessment,
    AssessmentItem,
    MasteryEstimate,
    MasteryEstimateHistory,
    MasteryOverride,
    MasteryPolicy,
    Standard,
    StandardKind,
)
from assessments.services import (
    ScoreInput,
    mastery_override_clear,
    mastery_override_set,
    scores_record,
)
from interop.report import ImportReport
from interop.signals import records_imported
from rollups import selectors
from rollups.counting import month_first, months_between, rules_for
from rollups.models import (
    ALL_SUBJECTS,
    RollupPending,
    RollupRebuild,
    SchoolEngagementDay,
    SchoolStandardMonth,
    SchoolSubjectMonth,
    SectionStandardMonth,
)
from rollups.services import (
    rollups_catch_up,
    rollups_flush,
    rollups_pending_add,
    rollups_rebuild,
    rollups_update_students,
)
from rollups.subgroups import (
    ProgramSpan,
    StudentTraits,
    student_subgroups,
    subgroup_label,
    subgroups_of,
)
from students.models import (
    AcademicSession,
    District,
    Enrollment,
    ProgramParticipation,
    School,
    Section,
    SessionKind,
    Student,
    StudentSchoolMembership,
)
from tests import factories
from tests.conftest import World

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 10)
# The district's year starts on August 15: August to November are past, December is current.
MONTHS = [
    (dt.date(2026, 8, 1), dt.date(2026, 8, 31), False),
    (dt.date(2026, 9, 1), dt.date(2026, 9, 30), False),
    (dt.date(2026, 10, 1), dt.date(2026, 10, 31), False),
    (dt.date(2026, 11, 1), dt.date(2026, 11, 30), False),
    (dt.date(2026, 12, 1), TODAY, True),
]
PROGRAM_KEYS = {"iep": "iep", "504": "504", "ell": "el", "frl": "frl"}


def end_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.max))


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


# --- The brute force: every month, every school, every student, every standard, in the open.


def _in_force(row, day: dt.date) -> bool:
    return (
        row.is_active
        and (row.begin_date is None or row.begin_date <= day)
        and (row.end_date is None or row.end_date >= day)
    )


def brute_force(district: District) -> tuple[dict, dict, dict]:
    stored_policy = MasteryPolicy.objects.filter(district=district).first()
    mastery = stored_policy.mastery_level if stored_policy else 3
    district.refresh_from_db()
    percent = district.subject_proficiency_percent
    standards = list(Standard.objects.filter(district=district))
    subject_of = {s.pk: s.subject for s in standards}
    students = list(Student.objects.filter(district=district, is_active=True))
    estimates = {(e.student_id, e.standard_id): e.level for e in MasteryEstimate.objects.all()}
    history = list(MasteryEstimateHistory.objects.all())
    overrides = list(MasteryOverride.objects.order_by("set_at", "pk"))

    def level(student_id: int, standard_id: int, day: dt.date, current: bool) -> int:
        if current:
            shown = estimates.get((student_id, standard_id), 0)
        else:
            points = [
                h
                for h in history
                if h.student_id == student_id and h.standard_id == standard_id and h.as_of <= day
            ]
            shown = max(points, key=lambda h: (h.as_of, h.recorded_at, h.pk)).level if points else 0
        for override in overrides:
            if (override.student_id, override.standard_id) != (student_id, standard_id):
                continue
            if current:
                in_force = override.cleared_at is None
            else:
                end = end_of(day)
                in_force = override.set_at <= end and (
                    override.cleared_at is None or override.cleared_at > end
                )
            if in_force:
                shown = override.level
        return shown

    def groups(student: Student, day: dt.date) -> set[str]:
        found = {"all"}
        for program in ProgramParticipation.objects.filter(student=student):
            if _in_force(program, day) and program.program in PROGRAM_KEYS:
                found.add(PROGRAM_KEYS[program.program])
        found.update(f"race:{race}" for race in student.races)
        if student.hispanic_or_latino:
            found.add("ethnicity:hispanic")
        if student.sex:
            found.add(f"sex:{student.sex}")
        return found

    def add_level(row: list[int], shown: int) -> None:
        row[0] += 1
        if shown >= mastery:
            row[1] += 1
        if 1 <= shown <= 4:
            row[1 + shown] += 1

    school_rows: dict = defaultdict(lambda: [0] * 6)
    subject_rows: dict = defaultdict(lambda: [0] * 8)
    section_rows: dict = defaultdict(lambda: [0] * 6)
    for school in School.objects.filter(district=district, is_active=True):
        for first, day, current in MONTHS:
            for student in students:
                grades = {
                    m.grade_level
                    for m in StudentSchoolMembership.objects.filter(student=student, school=school)
                    if _in_force(m, day)
                }
                measured = {}
                for standard in standards:
                    shown = level(student.pk, standard.pk, day, current)
                    if shown >= 1:
                        measured[standard.pk] = shown
                if not grades or not measured:
                    continue
                by_subject: dict[str, list[int]] = defaultdict(list)
                for standard_id, shown in measured.items():
                    by_subject[subject_of[standard_id]].append(shown)
                    by_subject[ALL_SUBJECTS].append(shown)
                for grade in grades:
                    for group in groups(student, day):
                        for standard_id, shown in measured.items():
                            add_level(
                                school_rows[(school.pk, grade, group, standard_id, first)], shown
                            )
                        for subject, shown_levels in by_subject.items():
                            row = subject_rows[(school.pk, grade, group, subject, first)]
                            proficient = sum(1 for s in shown_levels if s >= mastery)
                            row[0] += 1
                            row[1] += proficient * 100 >= percent * len(shown_levels)
                            row[2] += len(shown_levels)
                            row[3] += proficient
                            for shown in shown_levels:
                                if 1 <= shown <= 4:
                                    row[3 + shown] += 1
        for section in Section.objects.filter(school=school, is_active=True):
            aligned: set[int] = set()
            for assessment in Assessment.objects.filter(section=section, is_active=True):
                aligned.update(assessment.standards.values_list("pk", flat=True))
                for item in assessment.items.filter(is_active=True):
                    aligned.update(item.standards.values_list("pk", flat=True))
            for first, day, current in MONTHS:
                for enrollment in Enrollment.objects.filter(section=section):
                    if not _in_force(enrollment, day) or not enrollment.student.is_active:
                        continue
                    for standard_id in aligned:
                        shown = level(enrollment.student_id, standard_id, day, current)
                        if shown >= 1:
                            add_level(section_rows[(section.pk, standard_id, first)], shown)
    return dict(school_rows), dict(subject_rows), dict(section_rows)


def stored(district: District) -> tuple[dict, dict, dict]:
    levels = ("level_1", "level_2", "level_3", "level_4")
    school_rows = {
        row[:5]: list(row[5:])
        for row in SchoolStandardMonth.objects.filter(district=district).values_list(
            "school_id",
            "grade_level",
            "subgroup",
            "standard_id",
            "month",
            "students_measured",
            "students_proficient",
            *levels,
        )
    }
    subject_rows = {
        row[:5]: list(row[5:])
        for row in SchoolSubjectMonth.objects.filter(district=district).values_list(
            "school_id",
            "grade_level",
            "subgroup",
            "subject",
            "month",
            "students_measured",
            "students_proficient_in_subject",
            "pairs_measured",
            "pairs_proficient",
            *levels,
        )
    }
    section_rows = {
        row[:3]: list(row[3:])
        for row in SectionStandardMonth.objects.filter(district=district).values_list(
            "section_id",
            "standard_id",
            "month",
            "students_measured",
            "students_proficient",
            *levels,
        )
    }
    return school_rows, subject_rows, section_rows


# --- Random small districts.

# Open-ended records weigh double: most groups hold someone.
RECORD_BEGINS = [None, None, dt.date(2026, 8, 1), dt.date(2026, 9, 30), dt.date(2026, 10, 1), TODAY]
RECORD_ENDS = [None, None, dt.date(2026, 8, 31), dt.date(2026, 9, 29), dt.date(2026, 11, 30), TODAY]
HISTORY_DAYS = [
    dt.date(2026, 6, 30),
    dt.date(2026, 8, 31),
    dt.date(2026, 9, 1),
    dt.date(2026, 10, 15),
    dt.date(2026, 11, 30),
    dt.date(2026, 12, 1),
    dt.date(2026, 12, 20),
]
INSTANTS = [
    at(dt.date(2026, 9, 15)),
    end_of(dt.date(2026, 9, 30)),
    end_of(dt.date(2026, 9, 30)) + dt.timedelta(microseconds=1),
    at(dt.date(2026, 10, 31), 23),
    at(dt.date(2026, 11, 20)),
    at(dt.date(2026, 12, 9)),
]


def random_district(data: st.DataObject) -> District:
    draw = data.draw
    district = factories.DistrictFactory.create(
        subject_proficiency_percent=draw(st.sampled_from([50, 70, 100]))
    )
    AcademicSession.objects.create(
        district=district,
        title="2026-2027",
        kind=SessionKind.SCHOOL_YEAR,
        school_year=2027,
        start_date=dt.date(2026, 8, 15),
        end_date=dt.date(2027, 6, 1),
    )
    MasteryPolicy.objects.create(district=district, mastery_level=draw(st.sampled_from([2, 3, 4])))
    schools = [
        factories.SchoolFactory.create(district=district),
        factories.SchoolFactory.create(district=district, is_active=draw(st.booleans())),
    ]
    cluster = Standard.objects.create(
        district=district, code="C1", subject="Math", kind=StandardKind.CLUSTER
    )
    standards = [
        Standard.objects.create(district=district, code="M1", subject="Math", parent=cluster),
        Standard.objects.create(district=district, code="M2", subject="Math", parent=cluster),
        Standard.objects.create(district=district, code="E1", subject="ELA"),
        Standard.objects.create(district=district, code="X1", subject=""),
    ]
    sections = []
    for school in schools:
        for _ in range(draw(st.integers(1, 2))):
            section = factories.SectionFactory.create(
                school=school, is_active=draw(st.booleans()) or draw(st.booleans())
            )
            sections.append(section)
            assessment = Assessment.objects.create(
                district=district,
                section=section,
                title="Quiz",
                is_active=draw(st.booleans()) or draw(st.booleans()),
            )
            assessment.standards.add(
                *draw(st.lists(st.sampled_from(standards), min_size=1, max_size=3))
            )
            if draw(st.booleans()):
                item = AssessmentItem.objects.create(
                    district=district,
                    assessment=assessment,
                    code="1",
                    is_active=draw(st.booleans()),
                )
                item.standards.add(draw(st.sampled_from(standards)))
    for _ in range(draw(st.integers(2, 8))):
        student = factories.StudentFactory.create(
            district=district,
            is_active=draw(st.integers(0, 5)) > 0,
            sex=draw(st.sampled_from(["", "female", "male"])),
            races=draw(st.lists(st.sampled_from(["White", "Asian"]), max_size=2, unique=True)),
            hispanic_or_latino=draw(st.sampled_from([None, True, False])),
        )
        for _ in range(draw(st.integers(1, 2))):
            StudentSchoolMembership.objects.create(
                district=district,
                student=student,
                school=draw(st.sampled_from(schools)),
                grade_level=draw(st.sampled_from(["03", "04"])),
                begin_date=draw(st.sampled_from(RECORD_BEGINS)),
                end_date=draw(st.sampled_from(RECORD_ENDS)),
                is_active=draw(st.integers(0, 5)) > 0,
            )
        for _ in range(draw(st.integers(0, 2))):
            ProgramParticipation.objects.create(
                district=district,
                student=student,
                program=draw(st.sampled_from(["iep", "504", "ell", "frl", "gifted"])),
                begin_date=draw(st.sampled_from(RECORD_BEGINS)),
                end_date=draw(st.sampled_from(RECORD_ENDS)),
                is_active=draw(st.integers(0, 5)) > 0,
            )
        for section in draw(
            st.lists(st.sampled_from(sections), min_size=1, max_size=2, unique=True)
        ):
            Enrollment.objects.create(
                district=district,
                student=student,
                section=section,
                begin_date=draw(st.sampled_from(RECORD_BEGINS)),
                end_date=draw(st.sampled_from(RECORD_ENDS)),
                is_active=draw(st.integers(0, 5)) > 0,
            )
        for standard in draw(
            st.lists(st.sampled_from(standards), min_size=1, max_size=4, unique=True)
        ):
            random_estimate(data, student, standard)
    return district


def random_estimate(data: st.DataObject, student: Student, standard: Standard) -> None:
    draw = data.draw
    MasteryEstimate.objects.update_or_create(
        student=student, standard=standard, defaults={"level": draw(st.integers(0, 4))}
    )
    for _ in range(draw(st.integers(0, 3))):
        MasteryEstimateHistory.objects.create(
            student=student,
            standard=standard,
            level=draw(st.integers(0, 4)),
            evidence_count=1,
            method="test",
            as_of=draw(st.sampled_from(HISTORY_DAYS)),
            recorded_at=draw(st.sampled_from(INSTANTS)),
        )
    if draw(st.integers(0, 3)) == 0:
        random_override(data, student, standard)


def random_override(data: st.DataObject, student: Student, standard: Standard) -> None:
    draw = data.draw
    override = MasteryOverride.objects.create(
        student=student, standard=standard, level=draw(st.integers(1, 4)), note="judged"
    )
    set_at = draw(st.sampled_from(INSTANTS))
    cleared_at = draw(st.sampled_from([None, *[i for i in INSTANTS if i >= set_at]]))
    # set_at is auto_now_add: dated afterwards. Several in force at once: the newest wins.
    MasteryOverride.objects.filter(pk=override.pk).update(set_at=set_at, cleared_at=cleared_at)


HYPOTHESIS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
)


class _Rollback(Exception):
    pass


def _example(test: Callable[[], None]) -> None:
    """Run one hypothesis example in a savepoint that is rolled back, so examples never see each
    other's rows."""
    try:
        with transaction.atomic():
            test()
            raise _Rollback
    except _Rollback:
        pass


@HYPOTHESIS
@given(data=st.data())
def test_a_rebuild_counts_what_the_brute_force_counts(data: st.DataObject) -> None:
    def example() -> None:
        district = random_district(data)
        report = rollups_rebuild(district.pk, today=TODAY)
        assert stored(district) == brute_force(district)
        assert report.months == tuple(first for first, _, _ in MONTHS)
        assert report.rows == sum(len(table) for table in stored(district)) + (
            SchoolEngagementDay.objects.filter(district=district, day=TODAY).count()
        )
        # Rebuilt again, nothing differs.
        assert rollups_rebuild(district.pk, today=TODAY).drift == 0

    _example(example)


@HYPOTHESIS
@given(data=st.data())
def test_incremental_updates_give_exactly_the_rows_of_a_rebuild(data: st.DataObject) -> None:
    def example() -> None:
        district = random_district(data)
        rollups_rebuild(district.pk, today=TODAY)
        students = list(Student.objects.filter(district=district))
        standards = list(Standard.objects.filter(district=district, kind="standard"))
        for _ in range(data.draw(st.integers(1, 4))):
            student = data.draw(st.sampled_from(students))
            change = data.draw(
                st.sampled_from(["estimate", "history", "override", "program", "membership"])
            )
            since: dt.date | None = None
            if change == "estimate":
                MasteryEstimate.objects.update_or_create(
                    student=student,
                    standard=data.draw(st.sampled_from(standards)),
                    defaults={"level": data.draw(st.integers(0, 4))},
                )
                since = TODAY
            elif change == "history":
                # As the engine writes it: a point dated by the newest evidence, now.
                as_of = data.draw(st.sampled_from(HISTORY_DAYS))
                MasteryEstimateHistory.objects.create(
                    student=student,
                    standard=data.draw(st.sampled_from(standards)),
                    level=data.draw(st.integers(0, 4)),
                    evidence_count=1,
                    method="test",
                    as_of=as_of,
                    recorded_at=at(TODAY, 13),
                )
                since = min(as_of, TODAY)
            elif change == "override":
                # Set or cleared now: only the current month changes.
                standard = data.draw(st.sampled_from(standards))
                active = MasteryOverride.objects.filter(
                    student=student, standard=standard, cleared_at__isnull=True
                )
                if active.exists() and data.draw(st.booleans()):
                    active.update(cleared_at=at(TODAY, 14))
                else:
                    active.update(cleared_at=at(TODAY, 14))
                    override = MasteryOverride.objects.create(
                        student=student,
                        standard=standard,
                        level=data.draw(st.integers(1, 4)),
                        note="n",
                    )
                    MasteryOverride.objects.filter(pk=override.pk).update(set_at=at(TODAY, 14))
                since = TODAY
            elif change == "program":
                ProgramParticipation.objects.create(
                    district=district,
                    student=student,
                    program=data.draw(st.sampled_from(["iep", "ell"])),
                    begin_date=data.draw(st.sampled_from(RECORD_BEGINS)),
                )
            else:
                membership = StudentSchoolMembership.objects.filter(student=student).first()
                if membership is not None:
                    membership.end_date = data.draw(st.sampled_from(RECORD_ENDS))
                    membership.is_active = data.draw(st.booleans())
                    membership.save()
            if data.draw(st.booleans()):
                rollups_update_students([student.pk], today=TODAY, months_from=since)
            else:
                # Through the queue, as the estimates' notice does.
                rollups_pending_add(student_ids=[student.pk], since=since or MONTHS[0][0])
                assert rollups_flush(wait=False, today=TODAY).students == 1
        assert stored(district) == brute_force(district)
        assert rollups_rebuild(district.pk, today=TODAY).drift == 0

    _example(example)


def _seeded(world: World) -> None:
    """Three students of grade 4 at the world's school, measured on two standards."""
    second = Standard.objects.create(
        district=world.district, code="CCSS.MATH.CONTENT.4.NF.A.2", subject="Mathematics"
    )
    world.assessment.standards.add(second)
    for student, level in (
        (world.student, 3),
        (world.classmate, 1),
        (world.other_section_student, 4),
    ):
        for standard in (world.standard, second):
            MasteryEstimate.objects.create(student=student, standard=standard, level=level)


def test_a_rebuild_reports_the_rows_a_tampered_table_holds_wrongly(world: World) -> None:
    _seeded(world)
    first = rollups_rebuild(world.district.pk, today=TODAY)
    assert first.drift == first.rows > 0  # the first build adds every row
    row = SchoolStandardMonth.objects.filter(district=world.district).first()
    assert row is not None
    row.students_measured += 1
    row.save()
    SchoolSubjectMonth.objects.filter(district=world.district).order_by("pk").first().delete()  # type: ignore[union-attr]  # rows exist (asserted above)
    SectionStandardMonth.objects.create(
        district=world.district,
        school=world.school,
        section=world.other_section,
        standard=world.standard,
        month=dt.date(2026, 12, 1),
        students_measured=4,
    )
    report = rollups_rebuild(world.district.pk, today=TODAY)
    assert report.drift == 3
    assert {table: drift.total for table, drift in report.drift_by_table.items()} == {
        "school_standard": 1,
        "school_subject": 1,
        "section_standard": 1,
        "school_engagement": 0,
    }
    assert report.drift_by_table["school_standard"].changed == 1
    assert report.drift_by_table["school_subject"].added == 1
    assert report.drift_by_table["section_standard"].removed == 1
    assert report.rebuild_id is not None
    kept = RollupRebuild.objects.get(pk=report.rebuild_id)
    assert (kept.drift, kept.as_of, kept.reason) == (3, TODAY, "manual")
    assert kept.drift_detail["school_standard"] == {"added": 0, "removed": 0, "changed": 1}
    assert rollups_rebuild(world.district.pk, today=TODAY).drift == 0


def test_rows_of_a_school_no_longer_active_go_at_the_rebuild(world: World) -> None:
    _seeded(world)
    rollups_rebuild(world.district.pk, today=TODAY)
    assert SchoolStandardMonth.objects.filter(school=world.school).exists()
    School.objects.filter(pk=world.school.pk).update(is_active=False)
    report = rollups_rebuild(world.district.pk, today=TODAY)
    assert report.drift > 0
    assert not SchoolStandardMonth.objects.filter(school=world.school).exists()
    assert not SectionStandardMonth.objects.filter(school=world.school).exists()


def test_a_recorded_score_reaches_the_rollups_through_the_estimates_task(
    world: World, django_capture_on_commit_callbacks, eager_celery
) -> None:
    with time_machine.travel(at(TODAY), tick=False):
        rollups_rebuild(world.district.pk)
        assert not SchoolStandardMonth.objects.exists()
        with django_capture_on_commit_callbacks(execute=True):
            scores_record(
                scores=[
                    ScoreInput(
                        student_id=world.student.pk,
                        assessment_id=world.assessment.pk,
                        points=Decimal("9"),
                        scored_on=dt.date(2026, 10, 1),
                    )
                ]
            )
    estimate = MasteryEstimate.objects.get(student=world.student, standard=world.standard)
    assert estimate.level == 4
    december = SchoolStandardMonth.objects.get(
        school=world.school, subgroup="all", standard=world.standard, month=dt.date(2026, 12, 1)
    )
    assert (december.grade_level, december.students_measured, december.level_4) == ("04", 1, 1)
    # The score is dated October 1: its history point counts from October's end on.
    months = set(
        SchoolStandardMonth.objects.filter(subgroup="all", standard=world.standard).values_list(
            "month", flat=True
        )
    )
    assert months == {dt.date(2026, m, 1) for m in (10, 11, 12)}
    assert SectionStandardMonth.objects.filter(
        section=world.section, standard=world.standard, month=dt.date(2026, 12, 1)
    ).values_list("students_measured", "students_proficient").get() == (1, 1)
    assert not RollupPending.objects.exists()
    # The update was exact: a rebuild finds nothing to change.
    with time_machine.travel(at(TODAY), tick=False):
        assert rollups_rebuild(world.district.pk).drift == 0


def test_an_override_set_and_cleared_reaches_the_current_month(
    world: World, django_capture_on_commit_callbacks, eager_celery
) -> None:
    MasteryEstimate.objects.create(student=world.student, standard=world.standard, level=1)
    with time_machine.travel(at(TODAY), tick=False):
        rollups_rebuild(world.district.pk)

        def level_4() -> int:
            return SchoolStandardMonth.objects.get(
                school=world.school, subgroup="all", month=dt.date(2026, 12, 1)
            ).level_4

        assert level_4() == 0
        with django_capture_on_commit_callbacks(execute=True):
            mastery_override_set(
                student_id=world.student.pk,
                standard_id=world.standard.pk,
                level=4,
                note="Showed it in class",
                acting_user=world.teacher,
                clear_on_new_score=False,
            )
        assert level_4() == 1
        with django_capture_on_commit_callbacks(execute=True):
            mastery_override_clear(
                student_id=world.student.pk,
                standard_id=world.standard.pk,
                acting_user=world.teacher,
            )
        assert level_4() == 0


def test_an_import_that_changed_memberships_recounts_the_district(
    world: World, eager_celery
) -> None:
    _seeded(world)
    unchanged = ImportReport(format="oneroster")
    unchanged.count("school_memberships", unchanged=3)
    unchanged.count("scores", created=10)
    records_imported.send(sender=None, district_id=world.district.pk, report=unchanged)
    assert not RollupRebuild.objects.exists()
    changed = ImportReport(format="oneroster")
    changed.count("school_memberships", updated=1)
    records_imported.send(sender=None, district_id=world.district.pk, report=changed)
    rebuild = RollupRebuild.objects.get()
    assert (rebuild.district_id, rebuild.reason) == (world.district.pk, "import")
    assert SchoolStandardMonth.objects.filter(district=world.district).exists()


def test_the_imports_recount_waits_while_the_district_recomputes_wholesale(
    world: World, monkeypatch
) -> None:
    """A gradebook import leaves the district's estimates pending: its recount waits for them
    (it would count every level twice and hold a worker), then counts once they are current,
    or once STORM_WAIT has passed."""
    import rollups.services
    from config.celery_app import app
    from rollups.tasks import RECOUNT_AGAIN_SECONDS, rollups_recount

    _seeded(world)
    monkeypatch.setattr(rollups.services, "STORM_ESTIMATES", 2)
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    sent: list[tuple[tuple, float]] = []
    monkeypatch.setattr(
        rollups_recount, "apply_async", lambda args, countdown: sent.append((args, countdown))
    )
    pending = MasteryEstimate.objects.filter(student__district=world.district)[:2]
    MasteryEstimate.objects.filter(pk__in=[e.pk for e in pending]).update(
        pending_since=timezone.now()
    )

    assert rollups_recount.run(world.district.pk) == 0
    assert not RollupRebuild.objects.exists()
    [(args, countdown)] = sent
    assert (args[:2], countdown) == ((world.district.pk, "import"), RECOUNT_AGAIN_SECONDS)
    waiting_since = args[2]

    # Still recomputing: it waits again, keeping the time it began to wait.
    rollups_recount.run(*args)
    assert sent[1][0] == args and not RollupRebuild.objects.exists()

    # Past STORM_WAIT it counts anyway.
    long_ago = (timezone.now() - rollups.services.STORM_WAIT).isoformat()
    rollups_recount.run(world.district.pk, "import", long_ago)
    assert RollupRebuild.objects.count() == 1 and len(sent) == 2

    # Estimates current: it counts at once.
    MasteryEstimate.objects.update(pending_since=None)
    rollups_recount.run(world.district.pk, "import", waiting_since)
    assert RollupRebuild.objects.count() == 2 and len(sent) == 2


def test_a_change_of_the_districts_rules_recounts_it(
    world: World, django_capture_on_commit_callbacks, eager_celery
) -> None:
    _seeded(world)
    rollups_rebuild(world.district.pk, today=TODAY)
    with django_capture_on_commit_callbacks(execute=True):
        world.district.subject_proficiency_percent = 100
        world.district.save()
    with django_capture_on_commit_callbacks(execute=True):
        MasteryPolicy.objects.create(district=world.district, mastery_level=2)
    assert (
        list(RollupRebuild.objects.filter(reason="settings").values_list("district_id", flat=True))
        == [world.district.pk] * 2
    )


def test_the_flush_waits_for_estimates_still_recomputing_then_counts_them_once(
    world: World,
) -> None:
    _seeded(world)
    estimate = MasteryEstimate.objects.get(student=world.student, standard=world.standard)
    estimate.pending_since = timezone.now()
    estimate.save()
    assert rollups_pending_add(student_ids=[world.student.pk], since=TODAY) is True
    assert rollups_pending_add(student_ids=[world.classmate.pk], since=TODAY) is False
    waiting = rollups_flush(today=TODAY)
    assert waiting.deferred and waiting.students == 0
    assert RollupPending.objects.count() == 2
    MasteryEstimate.objects.filter(pk=estimate.pk).update(pending_since=None)
    done = rollups_flush(today=TODAY)
    assert (done.deferred, done.students) == (False, 2)
    assert done.updates[0].groups == 1  # both in grade 4 of one school: one recount
    assert not RollupPending.objects.exists()
    # Waited long enough, a flush counts even while estimates are pending.
    rollups_pending_add(student_ids=[world.student.pk], since=TODAY)
    MasteryEstimate.objects.filter(pk=estimate.pk).update(pending_since=timezone.now())
    RollupPending.objects.update(created_at=timezone.now() - dt.timedelta(seconds=10))
    assert rollups_flush(today=TODAY).students == 1


def test_many_students_queued_recount_the_district_whole(world: World, monkeypatch) -> None:
    _seeded(world)
    monkeypatch.setattr("rollups.services.RECOUNT_MIN_STUDENTS", 2)
    rollups_pending_add(
        student_ids=[world.student.pk, world.classmate.pk, world.other_section_student.pk],
        since=TODAY,
    )
    report = rollups_flush(wait=False, today=TODAY)
    assert report.districts_recounted == 1
    assert RollupRebuild.objects.get().reason == "update"


def test_the_nightly_catch_up_leaves_only_real_drift(world: World) -> None:
    """Days pass: a membership ends, a programme begins, a month closes. The catch-up brings the
    rows there, so the nightly rebuild's drift stays 0."""
    _seeded(world)
    membership = StudentSchoolMembership.objects.get(student=world.classmate)
    membership.end_date = dt.date(2026, 12, 12)
    membership.save()
    ProgramParticipation.objects.create(
        district=world.district,
        student=world.student,
        program="iep",
        begin_date=dt.date(2026, 12, 14),
    )
    rollups_rebuild(world.district.pk, today=TODAY)
    day = dt.date(2026, 12, 15)
    assert rollups_catch_up(world.district.pk, since=TODAY, today=day) == 2
    assert rollups_rebuild(world.district.pk, today=day).drift == 0
    next_month = dt.date(2027, 1, 4)
    rollups_catch_up(world.district.pk, since=day, today=next_month)
    report = rollups_rebuild(world.district.pk, today=next_month)
    assert report.drift == 0
    assert dt.date(2027, 1, 1) in report.months


def test_the_nightly_task_rebuilds_every_district(world: World, eager_celery, caplog) -> None:
    from rollups.tasks import rollups_rebuild_all

    _seeded(world)
    with time_machine.travel(at(TODAY), tick=False):
        rollups_rebuild_all()
        assert rollups_rebuild_all() == 0
    nightly = RollupRebuild.objects.filter(district=world.district, reason="nightly")
    assert nightly.count() == 2
    assert nightly.first().drift == 0  # type: ignore[union-attr]  # two rows exist


def test_the_beat_schedule_rebuilds_at_half_past_two_and_sweeps_the_queue() -> None:
    from celery.schedules import crontab
    from django.conf import settings as django_settings

    schedule = django_settings.CELERY_BEAT_SCHEDULE
    nightly = schedule["rollups-rebuild"]
    assert nightly["task"] == "rollups.tasks.rollups_rebuild_all"
    assert nightly["schedule"] == crontab(hour=2, minute=30)
    assert schedule["rollups-flush"]["task"] == "rollups.tasks.rollups_flush"


# --- Subgroups and months.


def test_subgroups_follow_programmes_by_date_and_demographics() -> None:
    traits = StudentTraits(
        sex="female",
        races=("Asian", "White"),
        hispanic_or_latino=True,
        programs=(
            ProgramSpan("iep", dt.date(2026, 9, 1), None),
            ProgramSpan("ell", None, dt.date(2026, 9, 30)),
            ProgramSpan("gifted", None, None),
        ),
    )
    assert subgroups_of(traits, dt.date(2026, 8, 31)) == {
        "all",
        "el",
        "sex:female",
        "race:Asian",
        "race:White",
        "ethnicity:hispanic",
    }
    assert subgroups_of(traits, dt.date(2026, 10, 1)) == {
        "all",
        "iep",
        "sex:female",
        "race:Asian",
        "race:White",
        "ethnicity:hispanic",
    }
    assert [subgroup_label(k) for k in ("all", "el", "frl", "sex:female", "race:Asian")] == [
        "All students",
        "English learner",
        "Free or reduced lunch",
        "Female",
        "Asian",
    ]
    # Race codes as the importers store them read as words, never as codes.
    assert [
        subgroup_label(f"race:{code}")
        for code in ("american_indian_or_alaska_native", "black_or_african_american", "two_or_more")
    ] == ["American Indian or Alaska Native", "Black or African American", "Two or more"]


def test_student_subgroups_read_the_records(world: World) -> None:
    Student.objects.filter(pk=world.student.pk).update(sex="male", races=["White"])
    ProgramParticipation.objects.create(
        district=world.district, student=world.student, program="504", end_date=dt.date(2026, 9, 1)
    )
    ProgramParticipation.objects.create(
        district=world.district, student=world.student, program="frl", is_active=False
    )
    found = student_subgroups([world.student.pk, world.classmate.pk], dt.date(2026, 8, 20))
    assert found[world.student.pk] == {"all", "504", "sex:male", "race:White"}
    assert found[world.classmate.pk] == {"all"}


def test_months_run_from_the_school_years_first_month_to_the_current_one(world: World) -> None:
    assert [m.first.month for m in rules_for(world.district.pk, TODAY).months] == [
        7,
        8,
        9,
        10,
        11,
        12,
    ]
    AcademicSession.objects.create(
        district=world.district,
        title="2026-2027",
        kind=SessionKind.SCHOOL_YEAR,
        school_year=2027,
        start_date=dt.date(2026, 8, 15),
        end_date=dt.date(2027, 6, 1),
    )
    months = rules_for(world.district.pk, TODAY).months
    assert [(m.first, m.day, m.is_current) for m in months] == MONTHS
    assert months_between(dt.date(2026, 11, 3), dt.date(2027, 2, 2))[-2].day == dt.date(2027, 1, 31)
    assert month_first(TODAY) == dt.date(2026, 12, 1)


# --- Selectors: the numbers pages show, and constant queries.


def _grade_four(world: World) -> None:
    """Grade 4 of the world's school: the student (IEP) at level 4 and 3 on two Math standards
    of one cluster; the classmate at 1 and 2; the other section's student at 3 on the first."""
    cluster = Standard.objects.create(
        district=world.district, code="4.NF.A", subject="Mathematics", kind=StandardKind.CLUSTER
    )
    Standard.objects.filter(pk=world.standard.pk).update(parent=cluster)
    second = Standard.objects.create(
        district=world.district, code="4.NF.A.2", subject="Mathematics", parent=cluster
    )
    reading = Standard.objects.create(district=world.district, code="RL.4.1", subject="ELA")
    world.assessment.standards.add(second)
    ProgramParticipation.objects.create(
        district=world.district, student=world.student, program="iep"
    )
    for student, standard, level in (
        (world.student, world.standard, 4),
        (world.student, second, 3),
        (world.classmate, world.standard, 1),
        (world.classmate, second, 2),
        (world.other_section_student, world.standard, 3),
        (world.other_section_student, reading, 3),
        (world.other_school_student, world.standard, 2),
    ):
        MasteryEstimate.objects.create(student=student, standard=standard, level=level)
    rollups_rebuild(world.district.pk, today=TODAY)


def test_the_school_rollup_sets_a_subgroup_against_the_rest_of_the_school(world: World) -> None:
    _grade_four(world)
    rollup = selectors.school_rollup(world.school, month=TODAY, subgroup="iep")
    assert rollup.month == dt.date(2026, 12, 1)
    assert rollup.subgroups == ["all", "iep"]
    # The total: students proficient on 70% of their standards (the IEP student: 2 of 2).
    assert (rollup.total.group.students, rollup.total.group.students_proficient) == (1, 1)
    rest = rollup.total.rest
    assert rest is not None
    assert (rest.students, rest.students_proficient, rest.measured, rest.proficient) == (2, 1, 4, 2)
    assert rest.levels == (1, 1, 2, 0)
    [grade] = rollup.grades
    assert (grade.key, grade.label, grade.group.students) == ("04", "Grade 4", 1)
    subjects = {row.key: row for row in rollup.subjects}
    assert subjects["ELA"].group.students == 0 and subjects["ELA"].rest.students == 1  # type: ignore[union-attr]  # a subgroup's rows have a rest
    first = next(row for row in rollup.standards if row.key == world.standard.pk)
    assert (first.code, first.group.students, first.group.levels) == ("4.NF.A.1", 1, (0, 0, 0, 1))
    assert first.rest is not None and (first.rest.students, first.rest.proficient) == (2, 1)
    [cluster] = rollup.clusters
    assert (cluster.label, cluster.group.measured, cluster.group.proficient) == ("4.NF.A", 2, 2)
    assert cluster.group.students == 1 and not cluster.group.exact
    assert cluster.rest is not None and (cluster.rest.students, cluster.rest.measured) == (2, 3)
    sections = {row.key: row for row in rollup.sections}
    math = sections[world.section.pk]
    assert (math.group.students, math.group.measured, math.group.proficient) == (2, 4, 2)
    assert math.teachers and math.rest is None


def test_the_school_rollup_filters_by_grade_and_subject(world: World) -> None:
    _grade_four(world)
    reading = selectors.school_rollup(world.school, month=TODAY, subject="ELA")
    assert [row.key for row in reading.subjects] == ["ELA"]
    assert [row.code for row in reading.standards] == ["RL.4.1"]
    assert (reading.total.group.students, reading.total.group.students_proficient) == (1, 1)
    assert selectors.school_rollup(world.school, month=TODAY, grade="05").grades == []


def test_the_district_rollup_sets_schools_side_by_side(world: World) -> None:
    _grade_four(world)
    rollup = selectors.district_rollup(world.district, month=TODAY)
    by_school = {row.key: row for row in rollup.schools}
    assert by_school[world.school.pk].group.students == 3
    assert by_school[world.other_school.pk].group.students == 1
    assert rollup.total.group.students == 4
    assert rollup.total.group.measured == 7
    trend = selectors.district_trend(world.district)
    assert [point.month for point in trend] == [dt.date(2026, 12, 1)]
    assert selectors.rollup_months(world.district.pk) == [dt.date(2026, 12, 1)]
    assert selectors.rollup_subjects(world.district.pk, month=TODAY) == ["ELA", "Mathematics"]
    school_trend = selectors.school_trend(world.school, subgroup="iep")
    assert school_trend[0].group.students == 1 and school_trend[0].rest.students == 2  # type: ignore[union-attr]  # a subgroup's points have a rest


def _sized_district(schools: int, students_per_school: int) -> District:
    """A district of some size, its rollups built: for the query counts."""
    district = factories.DistrictFactory.create()
    standards = [
        Standard.objects.create(district=district, code=f"S{n}", subject=("Math", "ELA")[n % 2])
        for n in range(4)
    ]
    for _ in range(schools):
        school = factories.SchoolFactory.create(district=district)
        section = factories.SectionFactory.create(school=school, grade_levels=["04"])
        assessment = Assessment.objects.create(district=district, section=section, title="Quiz")
        assessment.standards.add(*standards)
        for n in range(students_per_school):
            student = factories.StudentFactory.create(
                district=district, sex=("female", "male")[n % 2]
            )
            StudentSchoolMembership.objects.create(
                district=district, student=student, school=school, grade_level=("03", "04")[n % 2]
            )
            Enrollment.objects.create(district=district, student=student, section=section)
            for standard in standards:
                MasteryEstimate.objects.create(student=student, standard=standard, level=1 + n % 4)
    rollups_rebuild(district.pk, today=TODAY)
    return district


@pytest.mark.parametrize(("schools", "students"), [(1, 3), (4, 12)])
def test_the_selectors_queries_are_constant_in_students_and_schools(
    schools: int, students: int, django_assert_num_queries
) -> None:
    district = _sized_district(schools, students)
    school = School.objects.filter(district=district).first()
    assert school is not None
    with django_assert_num_queries(6):
        rollup = selectors.school_rollup(school, month=TODAY, subgroup="sex:female")
    assert rollup.total.group.students + rollup.total.rest.students == students  # type: ignore[union-attr]  # a subgroup's total has a rest
    with django_assert_num_queries(6):
        selectors.school_rollup(school, month=TODAY, grade="04", subject="Math")
    with django_assert_num_queries(2):
        whole = selectors.district_rollup(district, month=TODAY)
    assert whole.total.group.students == schools * students
    with django_assert_num_queries(1):
        selectors.school_trend(school)
    with django_assert_num_queries(1):
        selectors.district_trend(district, subgroup="sex:male")

"""Attendance and engagement as a rollup (issue 19, SchoolEngagementDay): the rows against a
brute-force count written plainly here on random small districts (hypothesis), incremental
updates against a rebuild (drift 0), the nightly catch-up of a new day and the history's pruning,
an import of attendance events recounting, and the school page reading the rows only (no query
of estimates or attendance events) in a number of queries that does not grow."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from assessments.models import MasteryEstimate, Standard, Trend
from interop.report import ImportReport
from interop.signals import records_imported
from rollups.models import WHOLE_SCHOOL, SchoolEngagementDay
from rollups.services import (
    ENGAGEMENT_RECENT_DAYS,
    rollups_catch_up,
    rollups_rebuild,
    rollups_update_students,
)
from students.models import (
    AcademicSession,
    AttendanceCategory,
    AttendanceEvent,
    District,
    ProgramParticipation,
    School,
    SessionKind,
    Student,
    StudentSchoolMembership,
)
from tests import factories
from tests.conftest import World
from tests.rollups.test_rollups import HYPOTHESIS, PROGRAM_KEYS, _example

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 10)
YEAR_START = dt.date(2026, 8, 15)
YEAR_END = dt.date(2027, 6, 1)
BEGINS = [None, None, dt.date(2026, 9, 1), dt.date(2026, 11, 16), TODAY, dt.date(2026, 12, 11)]
ENDS = [None, None, dt.date(2026, 10, 30), dt.date(2026, 12, 9), TODAY]
# Weekdays of the year so far, where absences fall (many in November: around 10% of the days).
WEEKDAYS = [
    YEAR_START + dt.timedelta(days=n)
    for n in range((TODAY - YEAR_START).days + 1)
    if (YEAR_START + dt.timedelta(days=n)).weekday() < 5
]
ABSENCE_DAYS = [day for day in WEEKDAYS if day >= dt.date(2026, 10, 20)]
ABSENT = (AttendanceCategory.UNEXCUSED_ABSENCE, AttendanceCategory.EXCUSED_ABSENCE)


# --- The brute force: every active school, every student enrolled today, in the open.


def _in_force(row, day: dt.date) -> bool:
    return (
        row.is_active
        and (row.begin_date is None or row.begin_date <= day)
        and (row.end_date is None or row.end_date >= day)
    )


def _chronic(student: Student, percent: Decimal) -> bool:
    """Absent on `percent` of the weekdays enrolled this year up to today (no calendars here):
    enrolled means an active membership of any school spans the day."""
    enrolled = {
        day
        for membership in StudentSchoolMembership.objects.filter(student=student, is_active=True)
        for day in WEEKDAYS
        if (membership.begin_date is None or membership.begin_date <= day)
        and (membership.end_date is None or membership.end_date >= day)
    }
    absent = {
        event.event_date
        for event in AttendanceEvent.objects.filter(student=student, is_active=True)
        if event.section_id is None and event.category in ABSENT and event.event_date in enrolled
    }
    return bool(enrolled) and len(absent) * 100 >= percent * len(enrolled)


def _falling(student: Student) -> bool:
    subjects = {
        estimate.standard.subject
        for estimate in MasteryEstimate.objects.filter(student=student).select_related("standard")
        if estimate.trend == Trend.FALLING
        and estimate.standard.is_active
        and estimate.standard.subject
    }
    return len(subjects) >= 2


def _groups(student: Student, day: dt.date) -> set[str]:
    groups = {"all"}
    for participation in ProgramParticipation.objects.filter(student=student):
        if participation.program in PROGRAM_KEYS and _in_force(participation, day):
            groups.add(PROGRAM_KEYS[participation.program])
    groups.update(f"race:{race}" for race in student.races or [] if race)
    if student.hispanic_or_latino:
        groups.add("ethnicity:hispanic")
    if student.sex:
        groups.add(f"sex:{student.sex}")
    return groups


def brute_force(district: District, day: dt.date = TODAY) -> dict:
    district.refresh_from_db()
    counts: dict = {}
    for school in School.objects.filter(district=district, is_active=True):
        rows: dict = defaultdict(lambda: [0, 0, 0])
        rows[(WHOLE_SCHOOL, "all")] = [0, 0, 0]
        grades: dict[int, str] = {}
        for membership in StudentSchoolMembership.objects.filter(school=school):
            if membership.student.is_active and _in_force(membership, day):
                held = grades.get(membership.student_id)
                if held is None or membership.grade_level < held:
                    grades[membership.student_id] = membership.grade_level
        for student_id, grade in grades.items():
            student = Student.objects.get(pk=student_id)
            values = (
                1,
                int(_chronic(student, district.chronic_absence_percent)),
                int(_falling(student)),
            )
            for group in _groups(student, day):
                for place in (grade, WHOLE_SCHOOL):
                    for index, value in enumerate(values):
                        rows[(place, group)][index] += value
        for (place, group), values in rows.items():
            counts[(school.pk, place, group)] = tuple(values)
    return counts


def stored(district: District, day: dt.date = TODAY) -> dict:
    return {
        (school_id, grade, group): (students, chronic, falling)
        for school_id, grade, group, students, chronic, falling in (
            SchoolEngagementDay.objects.filter(district=district, day=day).values_list(
                "school_id",
                "grade_level",
                "subgroup",
                "students",
                "chronically_absent",
                "falling_two_subjects",
            )
        )
    }


# --- Random districts.


def _absences(data: st.DataObject, district: District, school: School, student: Student) -> None:
    draw = data.draw
    days = draw(st.lists(st.sampled_from(ABSENCE_DAYS), max_size=14, unique=True))
    AttendanceEvent.objects.bulk_create(
        AttendanceEvent(
            district=district,
            student=student,
            school=school,
            event_date=day,
            category=draw(st.sampled_from([*ABSENT, AttendanceCategory.TARDY])),
            is_active=draw(st.integers(0, 6)) > 0,
        )
        for day in days
    )


def _trends(data: st.DataObject, student: Student, standards: list[Standard]) -> None:
    for standard in data.draw(
        st.lists(st.sampled_from(standards), min_size=0, max_size=3, unique=True)
    ):
        MasteryEstimate.objects.update_or_create(
            student=student,
            standard=standard,
            defaults={
                "level": 2,
                "trend": data.draw(st.sampled_from([Trend.FALLING, Trend.FALLING, Trend.RISING])),
            },
        )


def random_district(data: st.DataObject) -> District:
    draw = data.draw
    district = factories.DistrictFactory.create(
        chronic_absence_percent=draw(st.sampled_from([Decimal("10"), Decimal("12.5")]))
    )
    AcademicSession.objects.create(
        district=district,
        title="2026-2027",
        kind=SessionKind.SCHOOL_YEAR,
        school_year=2027,
        start_date=YEAR_START,
        end_date=YEAR_END,
    )
    schools = [
        factories.SchoolFactory.create(district=district),
        factories.SchoolFactory.create(district=district, is_active=draw(st.booleans())),
    ]
    standards = [
        Standard.objects.create(district=district, code="M1", subject="Math"),
        Standard.objects.create(district=district, code="M2", subject="Math"),
        Standard.objects.create(district=district, code="E1", subject="ELA"),
        Standard.objects.create(district=district, code="S1", subject="Science", is_active=False),
        Standard.objects.create(district=district, code="X1", subject=""),
    ]
    for _ in range(draw(st.integers(1, 8))):
        student = factories.StudentFactory.create(
            district=district,
            is_active=draw(st.integers(0, 6)) > 0,
            sex=draw(st.sampled_from(["", "female", "male"])),
            races=draw(st.lists(st.sampled_from(["white", "asian"]), max_size=2, unique=True)),
            hispanic_or_latino=draw(st.sampled_from([None, True, False])),
        )
        for _ in range(draw(st.integers(1, 2))):
            StudentSchoolMembership.objects.create(
                district=district,
                student=student,
                school=draw(st.sampled_from(schools)),
                grade_level=draw(st.sampled_from(["03", "04", "KG"])),
                begin_date=draw(st.sampled_from(BEGINS)),
                end_date=draw(st.sampled_from(ENDS)),
                is_active=draw(st.integers(0, 5)) > 0,
            )
        for _ in range(draw(st.integers(0, 2))):
            ProgramParticipation.objects.create(
                district=district,
                student=student,
                program=draw(st.sampled_from(["iep", "504", "ell", "frl", "gifted"])),
                begin_date=draw(st.sampled_from(BEGINS)),
                end_date=draw(st.sampled_from(ENDS)),
                is_active=draw(st.integers(0, 5)) > 0,
            )
        _absences(data, district, schools[0], student)
        _trends(data, student, standards)
    return district


@HYPOTHESIS
@given(data=st.data())
def test_a_rebuild_counts_what_the_brute_force_counts(data: st.DataObject) -> None:
    def example() -> None:
        district = random_district(data)
        report = rollups_rebuild(district.pk, today=TODAY)
        assert stored(district) == brute_force(district)
        assert report.drift_by_table["school_engagement"].added == len(stored(district))
        # Every active school was counted, even with nobody enrolled.
        for school in School.objects.filter(district=district, is_active=True):
            assert (school.pk, WHOLE_SCHOOL, "all") in stored(district)
        assert rollups_rebuild(district.pk, today=TODAY).drift == 0

    _example(example)


@HYPOTHESIS
@given(data=st.data())
def test_incremental_updates_give_exactly_the_rows_of_a_rebuild(data: st.DataObject) -> None:
    def example() -> None:
        district = random_district(data)
        rollups_rebuild(district.pk, today=TODAY)
        students = list(Student.objects.filter(district=district))
        school = School.objects.filter(district=district).order_by("pk")[0]
        standards = list(Standard.objects.filter(district=district))
        for _ in range(data.draw(st.integers(1, 4))):
            student = data.draw(st.sampled_from(students))
            change = data.draw(st.sampled_from(["absence", "trend", "program", "membership"]))
            if change == "absence":
                _absences(data, district, school, student)
            elif change == "trend":
                _trends(data, student, standards)
            elif change == "program":
                ProgramParticipation.objects.create(
                    district=district,
                    student=student,
                    program=data.draw(st.sampled_from(["iep", "ell"])),
                    begin_date=data.draw(st.sampled_from(BEGINS)),
                )
            else:
                membership = StudentSchoolMembership.objects.filter(student=student).first()
                if membership is not None:
                    membership.end_date = data.draw(st.sampled_from(ENDS))
                    membership.is_active = data.draw(st.booleans())
                    membership.save()
            # A change of trends comes with a month (the estimates' notice); of records, none.
            since = TODAY if change == "trend" else None
            rollups_update_students([student.pk], today=TODAY, months_from=since)
        assert stored(district) == brute_force(district)
        assert rollups_rebuild(district.pk, today=TODAY).drift == 0

    _example(example)


# --- The nightly catch-up, history, imports.


def _attending(world: World, count: int, chronic: int) -> list[Student]:
    made = []
    for index in range(count):
        student = factories.StudentFactory.create(district=world.district)
        StudentSchoolMembership.objects.create(
            district=world.district, student=student, school=world.school, grade_level="05"
        )
        if index < chronic:
            AttendanceEvent.objects.bulk_create(
                AttendanceEvent(
                    district=world.district,
                    student=student,
                    school=world.school,
                    event_date=day,
                    category=AttendanceCategory.UNEXCUSED_ABSENCE,
                )
                for day in ABSENCE_DAYS[:30]
            )
        made.append(student)
    return made


def _whole_school(world: World, day: dt.date) -> tuple[int, int, int] | None:
    return stored(world.district, day).get((world.school.pk, WHOLE_SCHOOL, "all"))


def test_the_nightly_catch_up_counts_the_new_day_and_leaves_no_drift(world: World) -> None:
    """A day passes: chronic absence moves with the days enrolled and a membership ends. The
    catch-up counts the new day in every school, so the nightly rebuild finds nothing to fix."""
    _attending(world, 12, chronic=2)
    rollups_rebuild(world.district.pk, today=TODAY)
    counted = _whole_school(world, TODAY)
    assert counted is not None and counted[1] == 2
    leaving = StudentSchoolMembership.objects.filter(school=world.school).first()
    assert leaving is not None
    leaving.end_date = TODAY
    leaving.save()
    day = dt.date(2026, 12, 11)
    rollups_catch_up(world.district.pk, since=TODAY, today=day)
    assert stored(world.district, day) == brute_force(world.district, day)
    assert _whole_school(world, day)[0] == counted[0] - 1  # type: ignore[index]  # counted
    report = rollups_rebuild(world.district.pk, today=day)
    assert report.drift == 0
    # Yesterday's rows are kept as they were: a history.
    assert _whole_school(world, TODAY) == counted


def test_the_history_keeps_the_last_week_and_each_months_last_day(world: World) -> None:
    _attending(world, 3, chronic=0)
    days = [
        dt.date(2026, 10, 5),
        dt.date(2026, 10, 30),
        dt.date(2026, 11, 2),
        dt.date(2026, 11, 30),
    ]
    days += [TODAY - dt.timedelta(days=n) for n in range(1, ENGAGEMENT_RECENT_DAYS + 3)]
    for day in days:
        rollups_rebuild(world.district.pk, today=day)
    rollups_rebuild(world.district.pk, today=TODAY)
    kept = set(
        SchoolEngagementDay.objects.filter(school=world.school).values_list("day", flat=True)
    )
    recent = {TODAY - dt.timedelta(days=n) for n in range(ENGAGEMENT_RECENT_DAYS + 1)}
    # October's and November's last days counted, and the last week; December's older days go
    # (its last day counted is today's).
    assert kept == {dt.date(2026, 10, 30), dt.date(2026, 11, 30)} | recent


def test_an_import_of_attendance_events_recounts_the_engagement(world: World, eager_celery) -> None:
    students = _attending(world, 12, chronic=0)
    rollups_rebuild(world.district.pk, today=TODAY)
    AttendanceEvent.objects.bulk_create(
        AttendanceEvent(
            district=world.district,
            student=students[0],
            school=world.school,
            event_date=day,
            category=AttendanceCategory.EXCUSED_ABSENCE,
        )
        for day in ABSENCE_DAYS[:30]
    )
    report = ImportReport()
    report.count("attendance_events", created=30)
    with time_machine.travel(dt.datetime(2026, 12, 10, 12, tzinfo=dt.UTC), tick=False):
        records_imported.send(sender=None, district_id=world.district.pk, report=report)
    assert _whole_school(world, TODAY)[1] == 1  # type: ignore[index]  # counted by the rebuild


# --- The page reads the rows.

NOW = dt.datetime(2026, 12, 10, 12, tzinfo=dt.UTC)
READ_NEVER = ("assessments_masteryestimate", "students_attendanceevent")


def _page_queries(client: Client, world: World) -> tuple[list[str], str]:
    client.force_login(world.principal)
    url = reverse("students:school_detail", args=[world.school.pk])
    assert client.get(url).status_code == 200  # the session and the access grants, read once
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries], response.content.decode()


@pytest.mark.parametrize("students", [10, 25])
def test_the_school_page_reads_no_estimates_or_attendance_in_as_many_queries(
    client: Client, world: World, students: int
) -> None:
    standards = [
        Standard.objects.create(district=world.district, code=code, subject=subject)
        for code, subject in (("M.1", "Math"), ("R.1", "Reading"))
    ]
    made = _attending(world, students, chronic=3)
    for student in made[:10]:
        for standard in standards:
            MasteryEstimate.objects.create(
                student=student, standard=standard, level=1, trend=Trend.FALLING
            )
    with time_machine.travel(NOW, tick=False):
        rollups_rebuild(world.district.pk, today=TODAY)
        queries, html = _page_queries(client, world)
    for sql in queries:
        assert not any(table in sql for table in READ_NEVER), sql
    assert "Counted among the students enrolled today (December 10, 2026)" in html
    assert "Students whose trend is falling in two or more subjects: <a" in html
    # Pinned (25 for 10 students and for 25): the session, access, the report and the
    # section's one read of its rows.
    assert len(queries) <= 25, "\n".join(queries)


def test_a_day_not_counted_yet_reads_the_latest_and_says_so(client: Client, world: World) -> None:
    _attending(world, 12, chronic=2)
    rollups_rebuild(world.district.pk, today=TODAY - dt.timedelta(days=1))
    with time_machine.travel(NOW, tick=False):
        _, html = _page_queries(client, world)
    assert "Counted as of December 9, 2026, among the students enrolled that day" in html
    # Never counted: said so, no numbers made up.
    SchoolEngagementDay.objects.all().delete()
    with time_machine.travel(NOW, tick=False):
        _, html = _page_queries(client, world)
    assert "Not counted yet" in html

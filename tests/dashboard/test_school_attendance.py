"""The school report's "Attendance and engagement" (issue 19): chronic absence by grade and
subgroup among the students enrolled today, suppressed (a grade of 9 hidden, 10 and 11 shown) with
the share checked against a plain count; the students falling in two or more subjects counted
(falling in one is not), each count linked to the list of exactly those students, which logs
only them; teachers and guardians 404; the queries do not grow with the students. The section
reads the rollups (SchoolEngagementDay): the tests recount them after writing records, as
production's imports and estimate notices do."""

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from assessments.models import MasteryEstimate, Standard, Trend
from privacy.models import AccessLogEntry
from rollups.services import rollups_update_students
from students.attendance import attendance_rates, chronic_absence_rule
from students.models import (
    AttendanceCategory,
    AttendanceEvent,
    ProgramParticipation,
    Student,
    StudentSchoolMembership,
)
from tests import factories
from tests.conftest import World

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 10, 12, tzinfo=dt.UTC)
# Thirty weekdays of October and November: far above 10% of the year's weekdays so far.
ABSENT_DAYS = [
    day
    for day in (dt.date(2026, 10, 1) + dt.timedelta(days=n) for n in range(60))
    if day.weekday() < 5
][:30]


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(NOW, tick=False):
        yield


def _enrolled(world: World, grade: str, count: int, chronic: int = 0) -> list[Student]:
    """`count` students in the grade today, the first `chronic` of them absent 30 days."""
    made = []
    for index in range(count):
        student = factories.StudentFactory.create(district=world.district)
        StudentSchoolMembership.objects.create(
            district=world.district, student=student, school=world.school, grade_level=grade
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
                for day in ABSENT_DAYS
            )
        made.append(student)
    return made


def _counted(*students: Student) -> None:
    """Recount the rollups of these students' school, as an import or the estimates' notice
    does after records change."""
    rollups_update_students([s.pk for s in students], today=NOW.date())


def _row(html: str, label: str, after: str) -> str:
    """The table row whose heading cell names `label`, in the table after the heading `after`."""
    part = html.split(after, 1)[1]
    for row in part.split("<tr>")[1:]:
        row = row.split("</tr>")[0]
        if row.strip().startswith('<th scope="row">') and f">{label}<" in row:
            return row
    raise AssertionError(f"no row for {label}")


def _page(client: Client, world: World) -> str:
    client.force_login(world.principal)
    response = client.get(reverse("students:school_detail", args=[world.school.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _list(client: Client, world: World, **params: str):
    client.force_login(world.principal)
    url = reverse("dashboard:school_counted_students", args=[world.school.pk])
    return client.get(url, params)


def test_a_grade_of_9_is_hidden_and_grades_of_10_and_11_are_shown_with_their_share(
    client: Client, world: World
) -> None:
    sixth = _enrolled(world, "06", 9, chronic=9)
    seventh = _enrolled(world, "07", 10, chronic=3)
    eighth = _enrolled(world, "08", 11, chronic=0)
    _counted(*sixth, *seventh, *eighth)
    html = _page(client, world)
    assert "Attendance and engagement" in html
    assert chronic_absence_rule(10) in html

    sixth_row = _row(html, "Grade 6", "Chronic absence by grade")
    assert "fewer than 10" in sixth_row and ">9<" not in sixth_row and "%" not in sixth_row
    # The share against a plain count, and against the attendance module's own rule.
    rates = attendance_rates([s.pk for s in seventh], school_year=2027, as_of=NOW.date())
    assert sum(rate.is_chronic for rate in rates.values()) == 3
    seventh_row = _row(html, "Grade 7", "Chronic absence by grade")
    assert ">10<" in seventh_row and ">3<" in seventh_row and "30%" in seventh_row
    eighth_row = _row(html, "Grade 8", "Chronic absence by grade")
    assert ">11<" in eighth_row and ">0<" in eighth_row and "0%" in eighth_row
    assert len(eighth) == 11
    # Aggregates only: nothing logged.
    assert not AccessLogEntry.objects.exists()


def test_a_subgroup_of_9_is_hidden_and_one_of_10_is_shown(client: Client, world: World) -> None:
    students = _enrolled(world, "07", 25, chronic=5)
    for program, group in (("iep", students[:9]), ("504", students[:10])):
        for student in group:
            ProgramParticipation.objects.create(
                district=world.district, student=student, program=program
            )
    _counted(*students)
    html = _page(client, world)
    iep = _row(html, "IEP", "Chronic absence by subgroup")
    assert "fewer than 10" in iep and ">9<" not in iep
    plan = _row(html, "504 plan", "Chronic absence by subgroup")
    assert ">10<" in plan and ">5<" in plan and "50%" in plan
    # Its list names the subgroup in words, not by its key.
    listed = _list(client, world, measure="chronic", subgroup="504").content.decode()
    assert "504 plan" in listed and "subgroup 504" not in listed


def test_each_chronic_count_lists_exactly_its_students_and_logs_only_them(
    client: Client, world: World
) -> None:
    seventh = _enrolled(world, "07", 10, chronic=3)
    eighth = _enrolled(world, "08", 11, chronic=2)
    _counted(*seventh, *eighth)
    html = _page(client, world)
    list_url = reverse("dashboard:school_counted_students", args=[world.school.pk])
    assert f"{list_url}?measure=chronic&amp;grade=07&amp;absent=on" in html
    response = _list(client, world, measure="chronic", grade="07", absent="on")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    listed = response.content.decode()
    for student in seventh[:3]:
        assert student.sort_name in listed
    for student in seventh[3:] + eighth:
        assert student.sort_name not in listed
    logged = set(AccessLogEntry.objects.values_list("student_id", flat=True))
    assert logged == {s.pk for s in seventh[:3]}

    everyone = _list(client, world, measure="chronic", grade="08").content.decode()
    assert all(s.sort_name in everyone for s in eighth)
    assert not any(s.sort_name in everyone for s in seventh)


def _falling(student: Student, *standards: Standard) -> None:
    for standard in standards:
        MasteryEstimate.objects.create(
            student=student, standard=standard, level=1, trend=Trend.FALLING
        )


def test_students_falling_in_two_subjects_are_counted_and_in_one_are_not(
    client: Client, world: World
) -> None:
    math_a, math_b, reading = (
        Standard.objects.create(district=world.district, code=code, subject=subject)
        for code, subject in (("M.1", "Math"), ("M.2", "Math"), ("R.1", "Reading"))
    )
    # Enough students that the rest of the school is no small group either (the pair school,
    # falling: a difference of fewer than 10 would hide the count as "not shown").
    students = _enrolled(world, "07", 24)
    two_subjects = students[:10]
    for student in two_subjects:
        _falling(student, math_a, reading)
    one_subject_twice, one_subject = students[10], students[11]
    _falling(one_subject_twice, math_a, math_b)
    _falling(one_subject, reading)
    # Rising in a second subject does not count.
    MasteryEstimate.objects.create(student=one_subject, standard=math_a, trend=Trend.RISING)
    _counted(*students)

    html = _page(client, world)
    list_url = reverse("dashboard:school_counted_students", args=[world.school.pk])
    assert f'<a href="{list_url}?measure=falling">10</a>' in html

    response = _list(client, world, measure="falling")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    listed = response.content.decode()
    assert all(s.sort_name in listed for s in two_subjects)
    assert one_subject_twice.sort_name not in listed and one_subject.sort_name not in listed
    logged = set(AccessLogEntry.objects.values_list("student_id", flat=True))
    assert logged == {s.pk for s in two_subjects}


def test_a_falling_count_below_10_reads_fewer_than_10(client: Client, world: World) -> None:
    """Nine students falling in two subjects: hidden, as is the count of the whole school less
    them would be (the count is hidden either way, never 9)."""
    math, reading = (
        Standard.objects.create(district=world.district, code=code, subject=subject)
        for code, subject in (("M.1", "Math"), ("R.1", "Reading"))
    )
    students = _enrolled(world, "07", 12)
    for student in students[:9]:
        _falling(student, math, reading)
    _counted(*students)
    html = _page(client, world)
    falling = html.split("Students whose trend is falling in two or more subjects:")[1]
    assert falling.split("</p>")[0].count("fewer than 10") == 1


@pytest.mark.parametrize("params", [{"measure": "sideways"}, {"measure": "chronic", "grade": "13"}])
def test_a_bad_list_filter_is_a_clear_400(client: Client, world: World, params: dict) -> None:
    response = _list(client, world, **params)
    assert response.status_code == 400
    assert not AccessLogEntry.objects.exists()


@pytest.mark.parametrize("role", ["teacher", "guardian", "outsider"])
def test_teachers_and_guardians_get_404(client: Client, world: World, role: str) -> None:
    _enrolled(world, "07", 10, chronic=3)
    client.force_login(world.users_by_role()[role])
    url = reverse("dashboard:school_counted_students", args=[world.school.pk])
    for params in ({"measure": "chronic", "absent": "on"}, {"measure": "falling"}):
        assert client.get(url, params).status_code == 404
    assert client.get(reverse("students:school_detail", args=[world.school.pk])).status_code == 404
    assert not AccessLogEntry.objects.exists()


def test_a_principal_gets_404_for_another_schools_list(client: Client, world: World) -> None:
    client.force_login(world.principal)
    url = reverse("dashboard:school_counted_students", args=[world.other_school.pk])
    assert client.get(url, {"measure": "falling"}).status_code == 404


@pytest.mark.parametrize("extra_students", [0, 15])
def test_the_section_reads_the_same_few_queries_whatever_the_students(
    client: Client, world: World, extra_students: int, django_assert_max_num_queries
) -> None:
    _counted(*_enrolled(world, "07", 10 + extra_students, chronic=3))
    client.force_login(world.principal)
    url = reverse("students:school_detail", args=[world.school.pk])
    client.get(url)  # the session and the access grants, read once
    # The report's 25 (tests/dashboard/test_school_report.py) and the section's five.
    with django_assert_max_num_queries(30):
        assert client.get(url).status_code == 200


def test_a_total_hides_one_more_grade_here_and_in_the_enrolment_counts(
    client: Client, world: World
) -> None:
    """With the school's total shown, one hidden grade of 9 could be worked out from the others:
    the smallest other grade is hidden too ("not shown"), in this section and in the staff
    overview's enrolment counts alike."""
    already = StudentSchoolMembership.objects.filter(school=world.school, grade_level="04").count()
    _counted(
        *_enrolled(world, "04", 9 - already),
        *_enrolled(world, "07", 10),
        *_enrolled(world, "08", 11),
    )
    html = _page(client, world)
    assert ">30<" in _row(html, "The whole school", "Chronic absence in the whole school")
    assert "fewer than 10" in _row(html, "Grade 4", "Chronic absence by grade")
    seventh = _row(html, "Grade 7", "Chronic absence by grade")
    assert "not shown" in seventh and ">10<" not in seventh
    assert ">11<" in _row(html, "Grade 8", "Chronic absence by grade")
    overview = html.split('id="staff-heading"')[1]
    grade_7_enrolled = overview.split("Grade 7")[1].split("</tr>")[0]
    assert "not shown" in grade_7_enrolled and ">10<" not in grade_7_enrolled


def test_the_cached_attendance_is_retired_by_an_import(
    client: Client, world: World, django_capture_on_commit_callbacks, eager_celery
) -> None:
    """The school page keeps its attendance and enrolment facts per process for the day, under
    the district's report versions: records written without a recount are not seen; an import
    of attendance events recounts the district's rollups, whose change retires them, so the
    next load shows the new counts."""
    from django.core.cache import caches
    from django.test import override_settings

    from interop.report import ImportReport
    from interop.signals import records_imported
    from tests.dashboard.test_cache import CACHED

    with override_settings(CACHES=CACHED):
        caches["dashboard"].clear()
        caches["dashboard_versions"].clear()
        with django_capture_on_commit_callbacks(execute=True):
            _counted(*_enrolled(world, "04", 12, chronic=0))
        before = _row(_page(client, world), "Grade 4", "Chronic absence by grade")
        counted, absent = (int(n) for n in re.findall(r">(\d+)</a>", before))
        assert counted >= 12 and absent == 0
        _enrolled(world, "04", 10, chronic=10)  # written without an import: not seen yet
        assert _row(_page(client, world), "Grade 4", "Chronic absence by grade") == before
        report = ImportReport()
        report.count("attendance_events", created=300)
        with django_capture_on_commit_callbacks(execute=True):
            records_imported.send(sender=None, district_id=world.district.pk, report=report)
        after = _row(_page(client, world), "Grade 4", "Chronic absence by grade")
        assert [int(n) for n in re.findall(r">(\d+)</a>", after)] == [counted + 10, 10]
        caches["dashboard"].clear()
        caches["dashboard_versions"].clear()

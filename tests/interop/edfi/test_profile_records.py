"""Selectors and partials for what an Ed-Fi import brings to the student profile: each partial
rendered on its own from its selector's context object, for the roles that see it and those
that do not."""

import datetime as dt
from decimal import Decimal
from typing import Any, cast

import pytest
from django.template.loader import render_to_string

from accounts.access import student_for_user
from students import models as sm
from students.selectors import (
    student_attendance,
    student_cohorts_programs,
    student_discipline,
    student_grades,
)
from tests.conftest import World
from tests.factories import AcademicSessionFactory, StaffFactory


def _attendance(world: World, absences: int, tardies: int) -> None:
    start = dt.date(2026, 9, 1)
    rows = []
    for n in range(20):
        when = start + dt.timedelta(days=n)
        if n < absences:
            category = (
                sm.AttendanceCategory.UNEXCUSED_ABSENCE
                if n % 2
                else (sm.AttendanceCategory.EXCUSED_ABSENCE)
            )
        elif n < absences + tardies:
            category = sm.AttendanceCategory.TARDY
        else:
            category = sm.AttendanceCategory.PRESENT
        rows.append(
            sm.AttendanceEvent(
                district=world.district,
                student=world.student,
                school=world.school,
                event_date=when,
                category=category,
                school_year=2027,
            )
        )
    sm.AttendanceEvent.objects.bulk_create(rows)


@pytest.mark.parametrize(
    ("absences", "counted", "tardies", "chronic", "percent"),
    # 30 instructional days from Tuesday 1 September; events fall on consecutive days from
    # then, so those on the weekend (5 and 6 September) are not instructional and do not count.
    [(2, 2, 2, False, "6.6"), (3, 3, 1, True, "10"), (7, 5, 2, True, "16.6")],
)
def test_attendance_counts_are_judged_by_the_chronic_absence_rule(
    world: World,
    absences: int,
    counted: int,
    tardies: int,
    chronic: bool,
    percent: str,
    django_assert_max_num_queries,
) -> None:
    day, weekdays = dt.date(2026, 9, 1), list[dt.date]()
    while len(weekdays) < 30:
        if day.weekday() < 5:
            weekdays.append(day)
        day += dt.timedelta(days=1)
    sm.CalendarDate.objects.bulk_create(
        sm.CalendarDate(
            district=world.district, school=world.school, date=d, event="Instructional day"
        )
        for d in weekdays
    )
    _attendance(world, absences=absences, tardies=2)
    access = student_for_user(world.teacher, world.student.pk)
    with django_assert_max_num_queries(3):
        summary = student_attendance(access)
    assert summary.school_year == 2027
    assert (summary.absences, summary.instructional_days) == (counted, 30)
    assert summary.excused + summary.unexcused == counted
    # Present days come from the calendar, not from the PRESENT rows recorded.
    assert summary.present == 30 - counted
    assert summary.tardies == tardies and summary.tardy_level == "good"
    assert summary.is_chronic is chronic
    assert summary.absent_percent == Decimal(percent)
    assert not summary.days_estimated
    assert summary.days_recorded == 20
    # The calendar covers every instructional day enrolled: each is present unless an event
    # says otherwise, and shows its letter (not its colour alone).
    assert [m.title for m in summary.months] == ["September 2026", "October 2026"]
    october = [d for week in summary.months[1].weeks for d in week if d]
    assert (october[0].category, october[0].mark) == ("present", "P")  # Thursday 1 October
    assert (october[2].category, october[2].mark) == ("", "")  # Saturday 3 October
    assert october[-1].category == ""  # 31 October: after the 30 days the calendar holds
    html = render_to_string("students/profile/_attendance.html", {"attendance": summary})
    assert (
        f'Absent <span class="count">{counted}</span> of 30 instructional days enrolled so far'
        f" ({percent}%)"
    ) in html
    assert ("<strong>Chronically absent</strong>" in html) is chronic
    assert ("Not chronically absent" in html) is not chronic
    assert f"attendance-count level-{'alert' if chronic else 'good'}" in html
    assert summary.chronic_rule in html and "10% or more" in summary.chronic_rule
    assert "<caption>September 2026</caption>" in html
    assert "Unexcused absence" in html or absences < 2


def test_attendance_calendar_marks_the_most_notable_event_of_a_day(world: World) -> None:
    when = dt.date(2026, 10, 5)
    for category in (sm.AttendanceCategory.TARDY, sm.AttendanceCategory.EXCUSED_ABSENCE):
        sm.AttendanceEvent.objects.create(
            district=world.district,
            student=world.student,
            event_date=when,
            category=category,
            school_year=2027,
        )
    summary = student_attendance(student_for_user(world.teacher, world.student.pk))
    (october,) = [m for m in summary.months if m.title == "October 2026"]
    days = [d for week in october.weeks for d in week if d and d.day == 5]
    assert days[0].category == sm.AttendanceCategory.EXCUSED_ABSENCE
    assert days[0].mark == "E"
    assert (summary.absences, summary.tardies) == (1, 0)


def test_no_attendance_renders_an_empty_state(world: World) -> None:
    summary = student_attendance(student_for_user(world.teacher, world.student.pk))
    html = render_to_string("students/profile/_attendance.html", {"attendance": summary})
    assert "No attendance recorded." in html


@pytest.fixture
def incident(world: World) -> sm.DisciplineIncident:
    reporter = StaffFactory.create(district=world.district)
    incident = sm.DisciplineIncident.objects.create(
        district=world.district,
        school=world.school,
        incident_identifier="I-1",
        incident_date=dt.date(2026, 11, 3),
        location="Playground",
        reporter_name="Rita Reporter",
        behaviors=["Fighting"],
        reported_by=reporter,
    )
    sm.StudentDisciplineIncident.objects.create(
        district=world.district, student=world.student, incident=incident, participation="Victim"
    )
    action = sm.DisciplineAction.objects.create(
        district=world.district,
        incident=incident,
        action_identifier="A-1",
        action_date=dt.date(2026, 11, 4),
        disciplines="Conference with parents",
    )
    action.students.add(world.student)
    return incident


def test_discipline_is_shown_to_principals_and_district_staff(
    world: World, incident: sm.DisciplineIncident
) -> None:
    for user in (world.principal, world.district_staff):
        record = student_discipline(student_for_user(user, world.student.pk))
        assert record.allowed
        assert [e.incident for e in record.entries] == [incident]
        assert record.entries[0].participation == "Victim"
        html = render_to_string("students/profile/_discipline.html", {"discipline": record})
        assert "Rita Reporter" in html and "Conference with parents" in html


def test_discipline_is_hidden_from_teachers_and_guardians(
    world: World, incident: sm.DisciplineIncident
) -> None:
    for user in (world.teacher, world.parent):
        record = student_discipline(student_for_user(user, world.student.pk))
        assert not record.allowed and record.entries == []
        html = render_to_string("students/profile/_discipline.html", {"discipline": record})
        assert html.strip() == ""


def test_guardians_see_discipline_when_the_district_allows_it(
    world: World, incident: sm.DisciplineIncident
) -> None:
    sm.District.objects.filter(pk=world.district.pk).update(guardians_see_discipline=True)
    record = student_discipline(student_for_user(world.parent, world.student.pk))
    assert record.allowed and len(record.entries) == 1


def test_grades_and_transcripts(world: World) -> None:
    period = AcademicSessionFactory.create(
        district=world.district,
        school=world.school,
        title="First Six Weeks",
        kind=sm.SessionKind.GRADING_PERIOD,
    )
    sm.Grade.objects.create(
        district=world.district,
        student=world.student,
        section=world.section,
        grading_period=period,
        grade_type="Final",
        letter_grade="B+",
    )
    course = sm.Course.objects.create(district=world.district, title="Algebra I")
    record = sm.AcademicRecord.objects.create(
        district=world.district,
        student=world.student,
        school_year=2026,
        cumulative_gpa=Decimal("3.20"),
    )
    sm.CourseTranscript.objects.create(
        district=world.district,
        student=world.student,
        academic_record=record,
        course=course,
        attempt_result="Pass",
        final_letter_grade="A-",
        final_numeric_grade=Decimal("90"),
    )
    grades = student_grades(student_for_user(world.parent, world.student.pk))
    # GradesRecord lists are typed list[object]; active_transcripts is a Prefetch to_attr.
    assert [cast(sm.Grade, g).letter_grade for g in grades.grades] == ["B+"]
    academic_record = cast(Any, grades.academic_records[0])
    assert [t.course.title for t in academic_record.active_transcripts] == ["Algebra I"]
    html = render_to_string("students/profile/_grades.html", {"grades": grades})
    assert "First Six Weeks" in html and "B+" in html
    assert "Algebra I" in html and "A- (90)" in html and "cumulative GPA 3.20" in html


def test_cohorts_and_programs(world: World) -> None:
    cohort = sm.Cohort.objects.create(
        district=world.district,
        identifier="C-1",
        description="Reading intervention",
        cohort_type="Academic Intervention",
    )
    sm.CohortMembership.objects.create(
        district=world.district,
        student=world.student,
        cohort=cohort,
        begin_date=dt.date(2026, 9, 1),
    )
    sm.CohortMembership.objects.create(
        district=world.district,
        student=world.student,
        cohort=cohort,
        begin_date=dt.date(2025, 9, 1),
        end_date=dt.date(2026, 1, 1),
    )
    sm.ProgramParticipation.objects.create(
        district=world.district,
        student=world.student,
        program=sm.Program.ENGLISH_LEARNER,
        program_name="ELL services",
    )
    context = student_cohorts_programs(student_for_user(world.teacher, world.student.pk))
    current = [cast(sm.CohortMembership, m).cohort for m in context.cohorts]
    assert current == [cohort]  # the ended membership is not current
    assert [p.program for p in context.programs] == [sm.Program.ENGLISH_LEARNER]
    html = render_to_string(
        "students/profile/_cohorts_programs.html", {"cohorts_programs": context}
    )
    assert "Reading intervention" in html and "ELL services" in html


def test_selectors_start_from_an_access_check(world: World) -> None:
    from django.http import Http404

    with pytest.raises(Http404):
        student_for_user(world.other_teacher, world.student.pk)


def test_the_student_page_shows_attendance_to_all_and_discipline_only_to_those_allowed(
    client, world: World, incident: sm.DisciplineIncident
) -> None:
    _attendance(world, absences=7, tardies=2)
    url = f"/students/{world.student.pk}/"
    for user, sees_discipline in (
        (world.teacher, False),
        (world.parent, False),
        (world.principal, True),
        (world.district_staff, True),
    ):
        client.force_login(user)
        # The tab on its own: the profile's address sends a guardian to the family portal,
        # whose attendance page tests/portal/test_child_pages.py tries.
        page = client.get(f"/students/{world.student.pk}/tabs/attendance/").content.decode()
        assert 'id="attendance-heading"' in page, user
        assert 'Absent <span class="count">5</span> of' in page, user
        assert ("Rita Reporter" in page) is sees_discipline, user
        grades = client.get(f"/students/{world.student.pk}/tabs/grades/").content.decode()
        assert 'id="grades-heading"' in grades, user
    # Someone else's child: the page does not exist for them.
    client.force_login(world.other_parent)
    assert client.get(url).status_code == 404
    assert client.get(f"/students/{world.student.pk}/tabs/attendance/").status_code == 404

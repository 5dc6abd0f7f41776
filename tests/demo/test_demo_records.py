"""The demo district's school year on record (demo.records): calendars, attendance, grades,
report cards, last year's transcripts and discipline."""

import hashlib
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from django.db import connection, transaction
from django.db.models import Avg

from assessments.models import Score, ScoreStatus
from demo import district as demo
from demo.district import GRADES
from demo.records import GRADE_TYPE, INSTRUCTIONAL_DAY, SCORE_SD, score_percent
from students.models import (
    AcademicRecord,
    AcademicSession,
    AttendanceCategory,
    AttendanceEvent,
    CalendarDate,
    Course,
    CourseTranscript,
    DisciplineAction,
    DisciplineIncident,
    Enrollment,
    Grade,
    ReportCard,
    School,
    SchoolLevel,
    SessionKind,
    StaffSchoolAssignment,
    StudentDisciplineIncident,
    StudentSchoolMembership,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 4)  # the first quarter has ended, the second is under way
STUDENTS = 1000
SEED = 5
ABSENT = {AttendanceCategory.EXCUSED_ABSENCE, AttendanceCategory.UNEXCUSED_ABSENCE}
POINTS = {"A": 4, "B": 3, "C": 2, "D": 1, "F": 0}


def _letter(percent: float) -> str:
    for floor, letter in ((90, "A"), (80, "B"), (70, "C"), (60, "D")):
        if percent >= floor:
            return letter
    return "F"


def _quarters(district) -> list[AcademicSession]:
    return list(
        AcademicSession.objects.filter(district=district, kind=SessionKind.GRADING_PERIOD).order_by(
            "start_date"
        )
    )


def _instructional_days(district) -> dict[int, list[date]]:
    days: dict[int, list[date]] = defaultdict(list)
    for school_id, day in (
        CalendarDate.objects.filter(district=district, event=INSTRUCTIONAL_DAY)
        .order_by("date")
        .values_list("school_id", "date")
    ):
        days[school_id].append(day)
    return days


def _memberships(district) -> dict[int, tuple[int, str, date]]:
    """student id -> (school id, grade level, entry day)."""
    found: dict[int, tuple[int, str, date]] = {}
    for student, school, grade, begin in StudentSchoolMembership.objects.filter(
        district=district
    ).values_list("student_id", "school_id", "grade_level", "begin_date"):
        assert begin is not None
        found[student] = (school, grade, begin)
    return found


def _fingerprint(district) -> str:
    """A hash of every row the records step writes, by source ids and values (never by pk)."""
    tables = [
        sorted(
            CalendarDate.objects.filter(district=district).values_list(
                "source_id", "school__source_id", "date", "event"
            )
        ),
        sorted(
            AttendanceEvent.objects.filter(district=district).values_list(
                "source_id",
                "student__source_id",
                "school__source_id",
                "event_date",
                "category",
                "reason",
                "school_year",
            )
        ),
        sorted(
            Grade.objects.filter(district=district).values_list(
                "source_id",
                "student__source_id",
                "section__source_id",
                "grading_period__source_id",
                "letter_grade",
                "numeric_grade",
            )
        ),
        sorted(
            ReportCard.objects.filter(district=district).values_list(
                "source_id",
                "student__source_id",
                "grading_period__source_id",
                "gpa_grading_period",
                "gpa_cumulative",
                "days_absent",
                "days_in_attendance",
                "days_tardy",
            )
        ),
        sorted(
            ReportCard.grades.through.objects.filter(reportcard__district=district).values_list(
                "reportcard__source_id", "grade__source_id"
            )
        ),
        sorted(
            AcademicRecord.objects.filter(district=district).values_list(
                "source_id",
                "student__source_id",
                "school_year",
                "cumulative_credits_attempted",
                "cumulative_credits_earned",
                "cumulative_gpa",
            )
        ),
        sorted(
            CourseTranscript.objects.filter(district=district).values_list(
                "source_id",
                "academic_record__source_id",
                "course__source_id",
                "school__source_id",
                "attempt_result",
                "credits_earned",
                "final_letter_grade",
                "final_numeric_grade",
            )
        ),
        sorted(
            (i.source_id, i.school.source_id, i.incident_date, i.location, i.description)
            for i in DisciplineIncident.objects.filter(district=district).select_related("school")
        ),
        sorted(
            StudentDisciplineIncident.objects.filter(district=district).values_list(
                "source_id", "student__source_id", "incident__source_id", "participation"
            )
        ),
        sorted(
            (a.source_id, a.action_date, a.disciplines, a.length_days)
            for a in DisciplineAction.objects.filter(district=district)
        ),
    ]
    return hashlib.sha256(repr(tables).encode()).hexdigest()


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker) -> Iterator[demo.DemoDistrict]:
    """One 1000-student district as of TODAY, built once for the module and rolled back after
    it. Without the assessments step (slow, and not what these statistics are about): every
    grade here comes from the student's ability; test_the_same_seed... covers grades from scores.
    """
    steps = [step for step in demo.SEED_STEPS if step.name != "assessments"]
    with django_db_blocker.unblock(), transaction.atomic():
        yield demo.build_demo_district(students=STUDENTS, seed=SEED, today=TODAY, steps=steps)
        transaction.set_rollback(True)


def test_the_same_seed_and_day_give_the_same_records_with_grades_from_scores() -> None:
    if demo.demo_district_get() is not None:  # the module's district, when built already
        demo.demo_district_delete()
    today = date(2027, 4, 20)  # three quarters ended
    first = demo.build_demo_district(students=demo.MIN_STUDENTS, seed=3, today=today)
    district = first.district
    quarters = _quarters(district)
    assert {g.grading_period_id for g in Grade.objects.filter(district=district)} == {
        q.pk for q in quarters[:3]
    }

    # Grades follow the quarter's scores where the student has scored work in the section.
    checked = []
    for quarter in quarters[:3]:
        averages = dict(
            (
                (student, section),
                average,
            )
            for student, section, average in Score.objects.filter(
                district=district,
                item__isnull=True,
                status=ScoreStatus.SCORED,
                student_assessment__assessment__section__isnull=False,
                student_assessment__assessment__due_on__range=(
                    quarter.start_date,
                    quarter.end_date,
                ),
            )
            .values_list("student_id", "student_assessment__assessment__section_id")
            .annotate(average=Avg("normalized"))
            .order_by()
        )
        for grade in Grade.objects.filter(grading_period=quarter):
            average = averages.get((grade.student_id, grade.section_id))
            if average is not None:
                assert grade.numeric_grade is not None
                expected = min(100.0, score_percent(average))
                checked.append(abs(float(grade.numeric_grade) - expected))
    assert len(checked) > 100
    assert max(checked) <= 5 * SCORE_SD
    assert statistics.mean(checked) <= 1.2 * SCORE_SD

    hashed = _fingerprint(district)
    assert demo.demo_district_delete()
    again = demo.build_demo_district(students=demo.MIN_STUDENTS, seed=3, today=today)
    assert _fingerprint(again.district) == hashed


def test_the_records_step_runs_after_the_assessments_and_before_the_logins() -> None:
    names = [step.name for step in demo.SEED_STEPS]
    assert names.index("assessments") < names.index("records") < names.index("logins")


def test_every_school_has_a_calendar_of_weekdays_with_the_usual_closures(built) -> None:
    district = built.district
    quarters = _quarters(district)
    first_day, last_day = quarters[0].start_date, quarters[-1].end_date
    calendars: dict[int, list[tuple[date, str]]] = defaultdict(list)
    for school_id, day, event in (
        CalendarDate.objects.filter(district=district)
        .order_by("date")
        .values_list("school_id", "date", "event")
    ):
        calendars[school_id].append((day, event))
    assert set(calendars) == set(built.school_ids)
    calendar = calendars[built.school_ids[0]]
    assert all(other == calendar for other in calendars.values())  # the closures are shared
    weekdays = [
        first_day + timedelta(days=n)
        for n in range((last_day - first_day).days + 1)
        if (first_day + timedelta(days=n)).weekday() < 5
    ]
    assert [day for day, _ in calendar] == weekdays  # every weekday, no weekend
    events = dict(calendar)
    instructional = [day for day, event in calendar if event == INSTRUCTIONAL_DAY]
    assert 175 <= len(instructional) <= 180
    assert events[first_day] == events[last_day] == INSTRUCTIONAL_DAY
    assert events[date(2026, 9, 7)] == "Holiday"  # Labor Day
    assert {events[date(2026, 11, d)] for d in (25, 26, 27)} == {"Thanksgiving break"}
    assert events[date(2027, 1, 18)] == events[date(2027, 2, 15)] == "Holiday"  # MLK, Presidents'
    fall, spring = AcademicSession.objects.filter(
        district=district, kind=SessionKind.SEMESTER
    ).order_by("start_date")
    winter = [event for day, event in calendar if fall.end_date < day < spring.start_date]
    assert len(winter) >= 10
    assert set(winter) == {"Winter break"}
    assert Counter(events.values())["Spring break"] == 5
    assert Counter(events.values())["Teacher work day"] >= 2


def test_attendance_holds_only_non_present_days_of_enrolment_before_today(built) -> None:
    district = built.district
    members = _memberships(district)
    days = _instructional_days(district)
    seen: set[tuple[int, date]] = set()
    events = list(
        AttendanceEvent.objects.filter(district=district).values_list(
            "student_id", "school_id", "section_id", "event_date", "category", "school_year"
        )
    )
    assert len(events) > 3000
    school_days = {school: set(found) for school, found in days.items()}
    for student, school, section, day, category, school_year in events:
        member_school, _, entry = members[student]
        assert category != AttendanceCategory.PRESENT
        assert school == member_school and section is None and school_year == 2027
        assert entry <= day < TODAY
        assert day in school_days[school]
        assert (student, day) not in seen
        seen.add((student, day))
    categories = Counter(category for *_, category, _ in events)
    assert set(categories) == {
        AttendanceCategory.EXCUSED_ABSENCE,
        AttendanceCategory.UNEXCUSED_ABSENCE,
        AttendanceCategory.TARDY,
        AttendanceCategory.EARLY_DEPARTURE,
    }
    assert categories[AttendanceCategory.EARLY_DEPARTURE] < categories[AttendanceCategory.TARDY]
    # Mid-year transfers in (about 5%) have no events before their first day.
    late = [s for s, (school, _, entry) in members.items() if entry > days[school][0]]
    assert 0.02 * STUDENTS <= len(late) <= 0.09 * STUDENTS


def test_about_one_student_in_eight_is_chronically_absent(built) -> None:
    district = built.district
    members = _memberships(district)
    days = _instructional_days(district)
    absent: Counter[int] = Counter()
    unexcused: Counter[int] = Counter()
    tardy: Counter[int] = Counter()
    for student, category in AttendanceEvent.objects.filter(district=district).values_list(
        "student_id", "category"
    ):
        if category in ABSENT:
            absent[student] += 1
            unexcused[student] += category == AttendanceCategory.UNEXCUSED_ABSENCE
        elif category == AttendanceCategory.TARDY:
            tardy[student] += 1
    levels = dict(School.objects.filter(district=district).values_list("pk", "level"))
    rates = {}
    for student, (school, _, entry) in members.items():
        enrolled = sum(1 for day in days[school] if entry <= day < TODAY)
        rates[student] = absent[student] / enrolled
    chronic = [student for student, rate in rates.items() if rate >= 0.10]
    assert 0.08 <= len(chronic) / len(members) <= 0.17
    assert 0.02 <= statistics.mean(rates.values()) <= 0.08
    assert sum(1 for rate in rates.values() if rate == 0) < 0.3 * len(members)
    # Frequent absentees' absences are more often unexcused; high schoolers are tardy more.
    share = {
        group: sum(unexcused[s] for s in students) / max(1, sum(absent[s] for s in students))
        for group, students in (
            ("chronic", chronic),
            ("others", [s for s in members if rates[s] < 0.10]),
        )
    }
    assert share["chronic"] > share["others"]
    tardies: dict[str, list[int]] = defaultdict(list)
    for student, (school, _, _) in members.items():
        tardies[levels[school]].append(tardy[student])
    assert statistics.mean(tardies[SchoolLevel.HIGH]) > statistics.mean(
        tardies[SchoolLevel.ELEMENTARY]
    )


def test_grades_exist_exactly_for_ended_quarters_and_every_student_section(built) -> None:
    district = built.district
    quarters = _quarters(district)
    ended = [q for q in quarters if q.end_date < TODAY]
    assert len(ended) == 1
    expected = {
        (student, section, quarter.pk)
        for student, section, begin in Enrollment.objects.filter(district=district).values_list(
            "student_id", "section_id", "begin_date"
        )
        for quarter in ended
        if begin is not None and begin <= quarter.end_date
    }
    grades = list(Grade.objects.filter(district=district))
    assert {(g.student_id, g.section_id, g.grading_period_id) for g in grades} == expected
    assert len(grades) == len(expected)
    for grade in grades:
        assert grade.grade_type == GRADE_TYPE and grade.school_year == 2027
        assert grade.numeric_grade is not None
        assert grade.letter_grade == _letter(float(grade.numeric_grade))
    letters = Counter(g.letter_grade for g in grades)
    assert set(letters) == set(POINTS)
    assert letters["A"] + letters["B"] > len(grades) / 2 > letters["F"] * 10


def test_report_cards_total_the_quarters_attendance_and_link_its_grades(built) -> None:
    district = built.district
    quarter = _quarters(district)[0]
    members = _memberships(district)
    days = _instructional_days(district)
    absent: Counter[int] = Counter()
    tardy: Counter[int] = Counter()
    for student, category in AttendanceEvent.objects.filter(
        district=district, event_date__range=(quarter.start_date, quarter.end_date)
    ).values_list("student_id", "category"):
        if category in ABSENT:
            absent[student] += 1
        elif category == AttendanceCategory.TARDY:
            tardy[student] += 1
    cards = list(ReportCard.objects.filter(district=district).prefetch_related("grades"))
    graded = {student for student, (_, _, entry) in members.items() if entry <= quarter.end_date}
    assert {card.student_id for card in cards} == graded
    prior = dict(AcademicRecord.objects.filter(district=district).values_list("student_id", "pk"))
    for card in cards:
        school, _, entry = members[card.student_id]
        enrolled = sum(
            1 for day in days[school] if max(entry, quarter.start_date) <= day <= quarter.end_date
        )
        assert card.grading_period_id == quarter.pk
        assert card.days_absent == absent[card.student_id]
        assert card.days_tardy == tardy[card.student_id]
        assert card.days_absent is not None and card.days_in_attendance is not None
        assert card.days_absent + card.days_in_attendance == enrolled
        grades = list(card.grades.all())
        assert {g.pk for g in grades} == set(
            Grade.objects.filter(student_id=card.student_id, grading_period=quarter).values_list(
                "pk", flat=True
            )
        )
        gpa = statistics.mean(POINTS[g.letter_grade] for g in grades)
        assert card.gpa_grading_period == pytest.approx(gpa, abs=0.006)
        if card.student_id not in prior:  # no courses of last year: cumulative is this year's
            assert card.gpa_cumulative == card.gpa_grading_period


def test_last_years_transcripts_are_those_of_students_now_in_grades_6_and_up(built) -> None:
    district = built.district
    members = _memberships(district)
    records = {r.student_id: r for r in AcademicRecord.objects.filter(district=district)}
    assert set(records) == {s for s, (_, grade, _) in members.items() if GRADES.index(grade) >= 6}
    courses = {c.pk: c for c in Course.objects.filter(district=district)}
    transcripts: dict[int, list[CourseTranscript]] = defaultdict(list)
    for transcript in CourseTranscript.objects.filter(district=district):
        transcripts[transcript.academic_record_id].append(transcript)
    results: Counter[str] = Counter()
    for student, record in records.items():
        grade = GRADES.index(members[student][1])
        taken = GRADES[grade - 1]
        assert record.school_year == 2026 and record.session_id is None
        rows = transcripts[record.pk]
        assert len(rows) == (2 if grade == 6 else 4)
        assert {courses[t.course_id].grade_levels[0] for t in rows} == {taken}
        assert len({courses[t.course_id].subject for t in rows}) == len(rows)
        high_school = grade - 1 >= 9
        for transcript in rows:
            assert transcript.student_id == student and transcript.grade_level_when_taken == taken
            assert transcript.final_numeric_grade is not None
            numeric = float(transcript.final_numeric_grade)
            assert transcript.final_letter_grade == _letter(numeric)
            assert transcript.attempt_result == ("Pass" if numeric >= 60 else "Fail")
            results[transcript.attempt_result] += 1
            if high_school:
                assert transcript.credits_earned == (1 if numeric >= 60 else 0)
            else:
                assert transcript.credits_earned is None
        gpa = statistics.mean(POINTS[t.final_letter_grade] for t in rows)
        assert record.cumulative_gpa == pytest.approx(gpa, abs=0.006)
        if high_school:
            assert record.cumulative_credits_attempted == len(rows)
            assert record.cumulative_credits_earned == sum(t.credits_earned or 0 for t in rows)
        else:
            assert record.cumulative_credits_earned is None
    assert results["Pass"] > 20 * results["Fail"] > 0


def test_every_school_has_a_few_incidents_with_its_students_and_principal(built) -> None:
    district = built.district
    members = _memberships(district)
    schools = {s.pk: s for s in School.objects.filter(district=district)}
    principals = dict(
        StaffSchoolAssignment.objects.filter(
            school__district=district, position="Principal"
        ).values_list("school_id", "staff_id")
    )
    school_days = _instructional_days(district)
    incidents = list(DisciplineIncident.objects.filter(district=district))
    per_school = Counter(incident.school_id for incident in incidents)
    for pk, school in schools.items():
        low, high = (2, 4) if school.level == SchoolLevel.ELEMENTARY else (5, 10)
        assert low <= per_school[pk] <= high, school.name
    links = defaultdict(list)
    for link in StudentDisciplineIncident.objects.filter(district=district):
        links[link.incident_id].append(link)
    actions = defaultdict(list)
    for action in DisciplineAction.objects.filter(district=district).prefetch_related("students"):
        actions[action.incident_id].append(action)
    behaviors = set()
    for incident in incidents:
        assert incident.incident_date < TODAY
        assert incident.incident_date in school_days[incident.school_id]
        assert incident.reported_by_id == principals[incident.school_id]
        assert incident.description and incident.location and incident.behaviors
        behaviors.update(incident.behaviors)
        involved = links[incident.pk]
        assert 1 <= len(involved) <= 3
        assert involved[0].participation == "Perpetrator"
        for link in involved:
            school_id, _, entry = members[link.student_id]
            assert school_id == incident.school_id and entry <= incident.incident_date
            assert link.participation in {"Perpetrator", "Victim", "Witness"}
        perpetrators = {link.student_id for link in involved if link.participation == "Perpetrator"}
        acted_on = {s.pk for action in actions[incident.pk] for s in action.students.all()}
        assert acted_on == perpetrators
        for action in actions[incident.pk]:
            assert action.disciplines and incident.incident_date <= action.action_date < TODAY
            if "suspension" in action.disciplines:
                assert action.length_days is not None and action.length_days >= 1
    assert len(behaviors) >= 3
    # The description is encrypted at rest.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT description FROM {DisciplineIncident._meta.db_table} WHERE id = %s",
            [incidents[0].pk],
        )
        (stored,) = cursor.fetchone()
    assert stored and incidents[0].description not in stored

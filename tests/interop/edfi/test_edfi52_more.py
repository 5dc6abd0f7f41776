"""Ed-Fi 5.2 discipline, programs, cohorts, calendars, grades, transcripts, gradebooks,
standards and assessments: the hand-written sample (valid against the 5.2 schemas, see
test_edfi52) lands in Trellis as the same records as Ed-Fi 1.x."""

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import cast

import pytest
from django.core.management import call_command

from assessments.models import Assessment, AssessmentItem, Score, Standard, StudentAssessment
from interop.edfi.service import edfi_import
from interop.report import ImportReport
from students import models as sm

from .conftest import FILES

SAMPLE = FILES / "v52"

EXPECTED = {
    "discipline_incidents": 1,
    "student_discipline_incidents": 2,
    "discipline_actions": 1,
    "program_participations": 4,
    "cohorts": 1,
    "cohort_memberships": 1,
    "calendar_dates": 2,
    "academic_sessions": 2,  # the session and the grading period
    "grades": 2,
    "report_cards": 1,
    "academic_records": 1,
    "course_transcripts": 1,
    "gradebook_entries": 1,
    "student_gradebook_entries": 2,
    "learning_standards": 2,
    "assessments": 1,
    "objective_assessments": 2,
    "assessment_items": 1,
    "performance_levels": 2,
    "student_assessments": 2,
    # 2 gradebook grades, 2 whole results (one not tested), 1 objective and 1 item result.
    "scores": 6,
}


def _inventory() -> dict[str, int]:
    out = io.StringIO()
    call_command("data_inventory", "--json", stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def _copy(tmp_path: Path, name: str, old: str, new: str) -> Path:
    """The sample with one replacement in one file."""
    target = tmp_path / "set"
    target.mkdir()
    for path in SAMPLE.glob("*.xml"):
        text = path.read_text()
        if path.name == name:
            assert old in text
            text = text.replace(old, new, 1)
        (target / path.name).write_text(text)
    return target


@pytest.fixture
def imported(db: None) -> ImportReport:
    report = edfi_import(path=SAMPLE)
    assert report.ok, report.errors.as_json()
    return report


def test_52_counts_and_notes(imported: ImportReport) -> None:
    counts = _inventory()
    assert {key: counts[key] for key in EXPECTED} == EXPECTED
    notes = "\n".join(imported.notes)
    assert "1 Calendar (kept as each calendar date's school)" in notes
    assert "1 StaffDisciplineIncidentAssociation (staff involvement" in notes
    assert "1 StaffCohortAssociation (cohort staff" in notes
    assert "not read by this importer" not in notes


def test_52_discipline(imported: ImportReport) -> None:
    incident = sm.DisciplineIncident.objects.get()
    assert (incident.incident_identifier, incident.incident_date) == (
        "INC-2024-017",
        dt.date(2024, 10, 8),
    )
    assert incident.incident_time == dt.time(10, 15)
    assert incident.school.source_id == "255901001"
    assert (incident.location, incident.reporter_name) == ("Playground", "Rosa Alvarez")
    assert incident.behaviors == ["School Code of Conduct"]
    assert incident.reported_to_law_enforcement is False

    offender = sm.StudentDisciplineIncident.objects.get(student__source_id="604823")
    assert (offender.participation, offender.behaviors) == (
        "Perpetrator",
        ["School Code of Conduct"],
    )
    victim = sm.StudentDisciplineIncident.objects.get(student__source_id="604822")
    assert (victim.participation, victim.behaviors) == ("Victim", [])

    action = sm.DisciplineAction.objects.get()
    assert (action.action_identifier, action.action_date) == ("DA-2024-009", dt.date(2024, 10, 9))
    assert action.incident == incident
    assert action.disciplines == "In School Suspension"
    assert (action.length_days, action.actual_length_days) == (Decimal(1), Decimal("0.5"))
    assert action.length_difference_reason == "Term modified by district"
    assert action.assigned_by is not None and action.assigned_by.source_id == "T-207"
    assert action.responsibility_school == incident.school and action.assignment_school is None
    assert list(action.students.values_list("source_id", flat=True)) == ["604823"]


def test_52_programs_and_cohorts(imported: ImportReport) -> None:
    by_student = {
        (p.student.source_id, p.program): p
        for p in sm.ProgramParticipation.objects.select_related("student")
    }
    assert set(by_student) == {
        ("604822", sm.Program.IEP),
        ("604822", sm.Program.GIFTED),
        ("604823", sm.Program.ENGLISH_LEARNER),
        ("604823", sm.Program.FREE_REDUCED_LUNCH),
    }
    iep = by_student["604822", sm.Program.IEP]
    assert (iep.program_name, iep.begin_date, iep.end_date) == (
        "Special Education",
        dt.date(2024, 8, 19),
        None,
    )
    # A food service association is free/reduced lunch whatever its program's type says.
    assert by_student["604823", sm.Program.FREE_REDUCED_LUNCH].program_name == "School Meals"
    assert by_student["604823", sm.Program.ENGLISH_LEARNER].end_date == dt.date(2025, 5, 30)

    cohort = sm.Cohort.objects.get()
    assert (cohort.identifier, cohort.cohort_type, cohort.scope) == (
        "READ-3",
        "Academic Intervention",
        "School",
    )
    assert cohort.school is not None and cohort.school.source_id == "255901001"
    assert cohort.program_name == "Young Scholars"
    membership = sm.CohortMembership.objects.get()
    assert (membership.student.source_id, membership.begin_date) == ("604822", dt.date(2024, 9, 9))


def test_52_calendar_dates_and_grading_periods(imported: ImportReport) -> None:
    days = list(sm.CalendarDate.objects.values_list("date", "event", "school__source_id"))
    assert days == [
        (dt.date(2024, 9, 2), "Holiday", "255901001"),
        (dt.date(2024, 9, 3), "Instructional day", "255901001"),
    ]
    period = sm.AcademicSession.objects.get(kind=sm.SessionKind.GRADING_PERIOD)
    assert (period.title, period.start_date, period.end_date, period.school_year) == (
        "2024-2025 Fall Semester Exam 1",
        dt.date(2024, 8, 19),
        dt.date(2024, 9, 27),
        2025,
    )


def test_52_grades_transcripts_and_gradebook(imported: ImportReport) -> None:
    period = sm.AcademicSession.objects.get(kind=sm.SessionKind.GRADING_PERIOD)
    grade = sm.Grade.objects.get(student__source_id="604822")
    assert (grade.letter_grade, grade.numeric_grade, grade.grade_type) == (
        "B+",
        Decimal(88),
        "Grading Period",
    )
    assert grade.grading_period == period and grade.section.section_code == "MATH-03-A"
    assert grade.school_year == 2025

    card = sm.ReportCard.objects.get()
    assert card.student.source_id == "604822" and card.grading_period == period
    assert (card.gpa_grading_period, card.gpa_cumulative) == (Decimal("3.30"), Decimal("3.45"))
    assert (card.days_absent, card.days_in_attendance, card.days_tardy) == (1, 28, 1)
    assert list(card.grades.all()) == [grade]

    record = sm.AcademicRecord.objects.get()
    assert (record.school_year, record.cumulative_credits_earned, record.cumulative_gpa) == (
        2025,
        Decimal(1),
        Decimal("3.45"),
    )
    transcript = sm.CourseTranscript.objects.get()
    assert transcript.academic_record == record
    assert transcript.school is not None
    assert (transcript.course.title, transcript.school.source_id) == (
        "Grade 3 Mathematics",
        "255901001",
    )
    assert (transcript.attempt_result, transcript.grade_level_when_taken) == ("Pass", "03")
    assert (transcript.final_letter_grade, transcript.credits_earned) == ("B+", Decimal(1))

    entry = Assessment.objects.get(kind="gradebook")
    assert (entry.title, entry.category, entry.assigned_on) == (
        "Place value quiz",
        "Quiz",
        dt.date(2024, 9, 10),
    )
    assert entry.section is not None and entry.section.section_code == "MATH-03-A"
    results = {r.student.source_id: r for r in StudentAssessment.objects.filter(assessment=entry)}
    assert results["604822"].administered_on == dt.date(2024, 9, 12)
    # No DateFulfilled: the result is dated the day its entry was assigned.
    assert results["604823"].administered_on == dt.date(2024, 9, 10)
    score = Score.objects.get(student_assessment=results["604822"], item=None)
    assert (score.points, score.rubric_level) == (Decimal(85), "B")


def test_52_standards_assessments_and_results(imported: ImportReport) -> None:
    child = Standard.objects.get(code="TEKS.MATH.3.2.A")
    assert child.parent is not None and child.parent.code == "TEKS.MATH.3.2"
    assert (child.framework, child.subject, child.grade_levels) == (
        "Texas Essential Knowledge and Skills",
        "Mathematics",
        ["03"],
    )

    test = Assessment.objects.get(kind="test")
    assert (test.title, test.category, test.subject, test.family) == (
        "Grade 3 Math Beginning of Year",
        "Benchmark test",
        "Mathematics",
        "Grand Bend Benchmarks",
    )
    assert (test.min_points, test.max_points) == (0, 10)
    levels = list(test.performance_levels.order_by("rank").values_list("code", "min_score"))
    assert levels == [("Below Basic", 0), ("Proficient", 6)]

    place_value = AssessmentItem.objects.get(code="NUM-PV")
    assert place_value.parent == AssessmentItem.objects.get(code="NUM")
    assert place_value.title == "Place value" and place_value.max_points == 4
    assert [s.code for s in place_value.standards.all()] == ["TEKS.MATH.3.2.A"]
    question = AssessmentItem.objects.get(code="Q1")
    assert (question.kind, question.correct_response) == ("item", "C")

    result = StudentAssessment.objects.get(assessment=test, student__source_id="604822")
    assert result.administered_on == dt.date(2024, 9, 5)
    assert result.performance_level is not None
    assert result.performance_level.code == "Proficient"
    scores = {
        (s.item.code if s.item else None): (s.points, s.rubric_level)
        for s in Score.objects.filter(student_assessment=result)
    }
    assert scores == {None: (8, ""), "NUM-PV": (3, ""), "Q1": (1, "Correct")}
    absent = StudentAssessment.objects.get(assessment=test, student__source_id="604823")
    assert absent.status == "exempt"


def test_52_second_import_changes_nothing(imported: ImportReport) -> None:
    again = edfi_import(path=SAMPLE)
    assert again.ok, again.errors.as_json()
    assert {
        n: (c.created, c.updated) for n, c in again.counts.items() if c.created or c.updated
    } == {}


@pytest.mark.parametrize(
    ("name", "old", "new", "column", "message"),
    [
        (
            "StudentDiscipline.xml",
            "<StudentUniqueId>604823</StudentUniqueId></StudentIdentity></StudentReference>\n"
            "    <DisciplineIncidentReference>",
            "<StudentUniqueId>999999</StudentUniqueId></StudentIdentity></StudentReference>\n"
            "    <DisciplineIncidentReference>",
            "StudentDisciplineIncidentBehaviorAssociation/StudentReference",
            "unknown student '999999'",
        ),
        (
            "StudentDiscipline.xml",
            "<IncidentIdentifier>INC-2024-017</IncidentIdentifier><SchoolReference>",
            "<IncidentIdentifier>INC-0000</IncidentIdentifier><SchoolReference>",
            "StudentDisciplineIncidentBehaviorAssociation/DisciplineIncidentReference",
            "unknown discipline incident",
        ),
        (
            "StudentProgram.xml",
            "<StudentUniqueId>604822</StudentUniqueId>",
            "<StudentUniqueId>999999</StudentUniqueId>",
            "StudentSpecialEducationProgramAssociation/StudentReference",
            "unknown student '999999'",
        ),
        (
            "StudentCohort.xml",
            "<StudentUniqueId>604822</StudentUniqueId>",
            "<StudentUniqueId>999999</StudentUniqueId>",
            "StudentCohortAssociation/StudentReference",
            "unknown student '999999'",
        ),
        (
            "StudentGrade.xml",
            "<SectionIdentifier>MATH-03-A</SectionIdentifier>",
            "<SectionIdentifier>MATH-03-Z</SectionIdentifier>",
            "Grade/SectionReference",
            "unknown section",
        ),
        (
            "StudentGradebook.xml",
            "<SectionIdentifier>MATH-03-A</SectionIdentifier>",
            "<SectionIdentifier>MATH-03-Z</SectionIdentifier>",
            "GradebookEntry/SectionReference",
            "unknown section",
        ),
        (
            "StudentTranscript.xml",
            "<StudentUniqueId>604822</StudentUniqueId></StudentIdentity></StudentReference>\n"
            "    <Education",
            "<StudentUniqueId>999999</StudentUniqueId></StudentIdentity></StudentReference>\n"
            "    <Education",
            "StudentAcademicRecord/StudentReference",
            "unknown student '999999'",
        ),
        (
            "StudentAssessment.xml",
            "<StudentUniqueId>604822</StudentUniqueId>",
            "<StudentUniqueId>999999</StudentUniqueId>",
            "StudentAssessment/StudentReference",
            "unknown student '999999'",
        ),
        (
            "StudentAssessment.xml",
            "<IdentificationCode>NUM-PV</IdentificationCode>",
            "<IdentificationCode>NUM-XX</IdentificationCode>",
            "StudentAssessment/StudentObjectiveAssessment/ObjectiveAssessmentReference",
            "unknown objective assessment",
        ),
    ],
)
def test_52_unknown_references_are_errors(
    db: None, tmp_path: Path, name: str, old: str, new: str, column: str, message: str
) -> None:
    report = edfi_import(path=_copy(tmp_path, name, old, new))
    assert not report.ok
    # The first error names the reference; records that needed the refused one follow it.
    errors = report.errors.as_json()
    assert (errors[0]["file"], errors[0]["column"]) == (name, column), errors
    assert message in cast(str, errors[0]["message"])
    assert {e["file"] for e in errors} == {name}
    assert not sm.Student.objects.exists()  # all or nothing


def test_52_unknown_descriptor_values_are_read_as_their_value(db: None, tmp_path: Path) -> None:
    path = _copy(
        tmp_path,
        "StudentDiscipline.xml",
        "<Discipline>uri://ed-fi.org/DisciplineDescriptor#In School Suspension</Discipline>",
        "<Discipline>uri://grandbend.example/DisciplineDescriptor#Lunch detention</Discipline>",
    )
    report = edfi_import(path=path)
    assert report.ok, report.errors.as_json()
    assert sm.DisciplineAction.objects.get().disciplines == "Lunch detention"


def test_52_a_result_without_an_administration_date_is_an_error(db: None, tmp_path: Path) -> None:
    path = _copy(
        tmp_path,
        "StudentAssessment.xml",
        "<AdministrationDate>2024-09-05T09:00:00</AdministrationDate>",
        "",
    )
    report = edfi_import(path=path)
    [error] = report.errors.as_json()
    assert error["column"] == "StudentAssessment/AdministrationDate"

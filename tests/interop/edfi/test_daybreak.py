"""inBloom's Daybreak district, end to end: counts, records field by field, a second import that
changes nothing, and what the three teachers and the guardians then see."""

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from accounts.access import student_for_user, students_visible_to
from accounts.models import User
from accounts.services import (
    InvitationError,
    derived_access_sync,
    invitation_accept,
    invitation_create,
)
from assessments.models import AssessmentItem, MasteryEvidence, Score, Standard, StudentAssessment
from interop.edfi.service import edfi_import
from interop.report import ImportReport
from students import models as sm

EXPECTED = {
    "students": 78,
    "guardians": 9,
    "staff": 14,
    "schools": 3,
    "sections": 97,
    "enrollments": 297,
    "student_assessments": 203,
    "learning_standards": 1499,
    "attendance_events": 5550,
    "discipline_incidents": 2,
    "discipline_actions": 2,
    "student_discipline_incidents": 4,
    "courses": 95,
    "calendar_dates": 558,
    "assessments": 19,
    "objective_assessments": 12,
    "assessment_items": 4,
    "gradebook_entries": 12,
    "student_gradebook_entries": 315,
    "course_transcripts": 196,
    "academic_records": 117,
    "grades": 4,
    "report_cards": 2,
    "cohorts": 3,
    "cohort_memberships": 6,
    "guardian_relationships": 9,
    "school_memberships": 167,
    "section_assignments": 11,
    "student_competencies": 59,
}


def _inventory() -> dict[str, int]:
    out = io.StringIO()
    call_command("data_inventory", "--json", stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_daybreak_counts_and_report(daybreak: ImportReport) -> None:
    counts = _inventory()
    assert {key: counts[key] for key in EXPECTED} == EXPECTED
    # Scores: 203 whole results, 300 objective results, 50 item results, 315 gradebook grades.
    assert counts["scores"] == 203 + 300 + 50 + 315
    notes = "\n".join(daybreak.notes)
    assert "enrollments: 28 repeat(s) of an earlier record, identical, merged" in notes
    assert "learning_standards: 10 repeat(s)" in notes
    assert "InterchangeAssessmentMetadata-Learning.xml" in notes  # not in the control file
    assert "NO CONTACT ALLOWED" in notes
    assert daybreak.counts["enrollments"].created == 297


def test_daybreak_records_field_by_field(daybreak: ImportReport) -> None:
    student = sm.Student.objects.get(source_id="100000000")
    assert (student.first_name, student.last_name, student.sex) == ("Bennie", "Cimmino", "male")
    assert student.birth_date == dt.date(2005, 7, 2)
    assert student.hispanic_or_latino is False
    emails = {c.value for c in student.contacts.filter(kind=sm.ContactKind.EMAIL)}
    assert emails == {"Bennie.C@gmail.com", "B.Cimmino@gmail.com", "Bennie.Cimmino@gmail.com"}
    assert student.programs.filter(program=sm.Program.FREE_REDUCED_LUNCH).get().program_name == (
        "Reduced price"
    )

    # Stray whitespace inside identifiers is collapsed.
    section = sm.Section.objects.get(source_id="Daybreak Central High|Sec 145")
    assert section.school.name == "Daybreak Central High"
    teacher = sm.Staff.objects.get(source_id="cgray")
    assert (teacher.first_name, teacher.last_name, teacher.kind) == ("Charles", "Gray", "teacher")
    assert section.assignments.filter(staff=teacher).exists()

    restricted = sm.GuardianRelationship.objects.filter(contact_restricted=True)
    assert restricted.count() == 2
    assert not restricted.filter(portal_access=True).exists()
    minister = sm.GuardianRelationship.objects.get(guardian__source_id="5713667332")
    assert minister.relationship == sm.Relationship.OTHER

    incident = sm.DisciplineIncident.objects.get(incident_identifier="Disruption")
    assert incident.reporter_name == "Gold Finger"
    assert incident.weapons == ["Club"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reporter_name FROM students_disciplineincident WHERE id = %s", [incident.pk]
        )
        stored = cursor.fetchone()[0]
    assert "Gold Finger" not in stored  # encrypted at rest
    action = sm.DisciplineAction.objects.get(action_identifier="cap0-lea0-sch1-da0")
    assert action.incident == incident
    assert set(action.students.values_list("source_id", flat=True)) == {"100000000", "100000001"}
    assert "Suspension from school for a week" in action.disciplines

    absence = sm.AttendanceEvent.objects.filter(
        category=sm.AttendanceCategory.EXCUSED_ABSENCE
    ).first()
    assert absence is not None and absence.reason == "Absent excused"

    act = StudentAssessment.objects.get(source_id="900000000|ACT|Twelfth grade|1|2011-05-01")
    whole = Score.objects.get(student_assessment=act, item__isnull=True)
    assert whole.points == Decimal(81)
    english = Score.objects.get(student_assessment=act, item__code="ACT-English")
    assert english.points == Decimal(18)
    item = AssessmentItem.objects.get(code="AssessmentItem-1")
    assert item.standards.count() == 2
    # Aligned items feed the mastery engine through scores_record.
    aligned_scores = Score.objects.filter(item__standards__isnull=False).distinct()
    assert aligned_scores.exists()
    assert (
        MasteryEvidence.objects.filter(score__in=aligned_scores).count() >= aligned_scores.count()
    )

    transcript = sm.CourseTranscript.objects.filter(student__source_id="800000000").first()
    assert transcript is not None and transcript.academic_record.student_id == transcript.student_id
    standard = Standard.objects.get(source_id="RI.11-12.1")
    assert standard.description.startswith("Cite strong and thorough textual evidence")


def test_second_import_changes_nothing(daybreak: ImportReport, daybreak_path: Path) -> None:
    before = _inventory()
    again = edfi_import(path=daybreak_path)
    assert again.ok
    changed = {
        name: (counts.created, counts.updated)
        for name, counts in again.counts.items()
        if counts.created or counts.updated
    }
    assert changed == {}
    assert _inventory() == before


def test_teachers_see_exactly_their_sections_students(daybreak: ImportReport) -> None:
    out = io.StringIO()
    call_command("invite_staff", "--all", "--json", stdout=out)
    logins = json.loads(out.getvalue().strip().splitlines()[-1])["logins"]
    assert sorted(row["staff"] for row in logins) == ["cgray", "linda.kim", "rbraverman"]
    for staff_number in ("cgray", "linda.kim", "rbraverman"):
        user = User.objects.get(staff_record__staff_number=staff_number)
        expected = set(
            sm.Enrollment.objects.current()
            .filter(section__assignments__staff__staff_number=staff_number)
            .values_list("student_id", flat=True)
        )
        assert expected
        assert set(students_visible_to(user).values_list("pk", flat=True)) == expected
        # With their assessment history.
        some = next(iter(expected))
        assert student_for_user(user, some).can_see_scores
    cgray = User.objects.get(staff_record__staff_number="cgray")
    act_takers = set(
        StudentAssessment.objects.filter(assessment__title="ACT").values_list(
            "student_id", flat=True
        )
    )
    assert act_takers <= set(students_visible_to(cgray).values_list("pk", flat=True))


def test_guardians_see_only_their_children_and_restricted_ones_get_no_portal(
    daybreak: ImportReport,
) -> None:
    allowed = sm.GuardianRelationship.objects.filter(contact_restricted=False).first()
    assert allowed is not None
    # The district grants portal access (an import never does), then invites.
    sm.GuardianRelationship.objects.filter(pk=allowed.pk).update(portal_access=True)
    invitation, token = invitation_create(guardian=allowed.guardian, email="parent@example.org")
    user = invitation_accept(token=token, password="pw-Trellis-123")
    derived_access_sync()
    children = set(
        sm.GuardianRelationship.objects.filter(
            guardian=allowed.guardian, portal_access=True
        ).values_list("student_id", flat=True)
    )
    assert set(students_visible_to(user).values_list("pk", flat=True)) == children

    restricted = sm.GuardianRelationship.objects.filter(contact_restricted=True).first()
    assert restricted is not None
    with pytest.raises(InvitationError, match="contact-restricted"):
        invitation_create(guardian=restricted.guardian, email="no@example.org")


def test_imported_scores_enqueue_one_recompute_per_pair_after_commit(
    db: None, daybreak_path: Path, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    from assessments import tasks
    from assessments.models import MasteryEstimate

    batches: list[list[int]] = []
    # Every publish goes through config.celery_app.publish: apply_async, without retry.
    monkeypatch.setattr(
        tasks.mastery_recompute,
        "apply_async",
        lambda args, **options: batches.append(list(args[0])),
    )
    with django_capture_on_commit_callbacks(execute=True):
        report = edfi_import(path=daybreak_path)
    assert report.ok
    enqueued = [pk for batch in batches for pk in batch]
    assert enqueued, "aligned scores must reach the mastery engine"
    assert len(enqueued) == len(set(enqueued))  # once per (student, standard)
    assert set(enqueued) == set(
        MasteryEstimate.objects.filter(pending_since__isnull=False).values_list("pk", flat=True)
    )

"""One student's records for an inspection package (34 CFR 99.10): students.inventory's
records_of_student (every personal entry's rows, by category, only that student's) and
students.record_pdf's readable PDF of them."""

import datetime as dt
import io
import json
import time
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import Role, RoleMembership, User
from alerts.models import AlertDelivery, AlertedAbsence, AlertKind
from assessments.models import (
    LearnerState,
    MasteryEstimate,
    MasteryEstimateHistory,
    MasteryEvidence,
    MasteryOverride,
    Score,
    StudentAssessment,
)
from privacy.models import AccessLogEntry
from privacy.services import access_log_record
from students import inventory
from students.models import (
    AcademicRecord,
    AttendanceCategory,
    AttendanceEvent,
    Cohort,
    CohortMembership,
    ContactDetail,
    Course,
    CourseTranscript,
    DisciplineAction,
    DisciplineIncident,
    Enrollment,
    Grade,
    GuardianRelationship,
    ProgramParticipation,
    ReportCard,
    Student,
    StudentCompetency,
    StudentDisciplineIncident,
    StudentSchoolMembership,
    StudentUserObjectPermission,
)
from students.record_pdf import records_pdf
from tests import factories
from tests.conftest import World

pytestmark = pytest.mark.django_db

GENERATED_AT = dt.datetime(2026, 11, 2, 15, 30, tzinfo=dt.UTC)


def give_every_kind(world: World, student: Student, guardian_user: User, tag: str) -> dict:
    """One row (or more) of every personal kind for `student`, each carrying `tag` where it
    has text; returns {model label: ids of the student's rows}."""
    district = world.district
    relationship = GuardianRelationship.objects.get(student=student)
    guardian = relationship.guardian
    own_email = ContactDetail.objects.create(
        district=district, student=student, kind="email", value=f"{tag}@example.org"
    )
    guardian_phone = ContactDetail.objects.create(
        district=district, guardian=guardian, kind="phone", value=f"555-{tag}"
    )
    program = ProgramParticipation.objects.create(
        district=district, student=student, program="iep", program_name=f"{tag} support"
    )
    cohort = Cohort.objects.create(district=district, identifier=f"{tag}-group")
    membership = CohortMembership.objects.create(district=district, student=student, cohort=cohort)
    absence = AttendanceEvent.objects.create(
        district=district,
        student=student,
        school=world.school,
        event_date=dt.date(2026, 10, 5),
        category=AttendanceCategory.UNEXCUSED_ABSENCE,
        reason=f"{tag} reason",
    )
    grade = Grade.objects.create(
        district=district,
        student=student,
        section=world.section,
        letter_grade="B+",
        numeric_grade=Decimal("88.50"),
    )
    report_card = ReportCard.objects.create(
        district=district, student=student, gpa_cumulative=Decimal("3.40")
    )
    academic_record = AcademicRecord.objects.create(
        district=district, student=student, school_year=2026
    )
    course = Course.objects.create(district=district, title=f"{tag} course")
    transcript = CourseTranscript.objects.create(
        district=district,
        student=student,
        academic_record=academic_record,
        course=course,
        final_letter_grade="A",
    )
    competency = StudentCompetency.objects.create(
        district=district, student=student, objective=world.standard, competency_level=f"{tag}-lvl"
    )
    incident = DisciplineIncident.objects.create(
        district=district,
        school=world.school,
        incident_identifier=f"{tag}-1",
        incident_date=dt.date(2026, 10, 6),
        description=f"{tag} incident description",
        reporter_name=f"{tag} reporter",
    )
    part = StudentDisciplineIncident.objects.create(
        district=district, student=student, incident=incident, participation="Perpetrator"
    )
    action = DisciplineAction.objects.create(
        district=district,
        incident=incident,
        action_identifier=f"{tag}-a",
        action_date=dt.date(2026, 10, 7),
        disciplines=f"{tag} detention",
    )
    action.students.add(student)
    permission = StudentUserObjectPermission.objects.create(
        user=world.teacher,
        permission=Permission.objects.get(codename="view_student_record"),
        content_object=student,
    )
    access_log_record(
        actor=world.teacher, role=Role.TEACHER, what=f"{tag} page", students=[student]
    )
    result = StudentAssessment.objects.create(
        district=district,
        student=student,
        assessment=world.assessment,
        administered_on=dt.date(2026, 10, 1),
    )
    score = Score.objects.create(
        district=district,
        student_assessment=result,
        student=student,
        points=Decimal("8"),
        normalized=0.8,
        scored_on=dt.date(2026, 10, 1),
        comment=f"{tag} comment",
        entered_by=world.teacher,
    )
    evidence = MasteryEvidence.objects.create(
        score=score,
        student=student,
        standard=world.standard,
        item_key=f"{tag}-item",
        observed_on=dt.date(2026, 10, 1),
        value=0.8,
    )
    estimate = MasteryEstimate.objects.create(
        student=student, standard=world.standard, probability=0.7, level=3
    )
    history = MasteryEstimateHistory.objects.create(
        student=student,
        standard=world.standard,
        level=3,
        evidence_count=1,
        method=f"{tag}-method",
        as_of=dt.date(2026, 10, 1),
        recorded_at=timezone.now(),
    )
    override = MasteryOverride.objects.create(
        student=student, standard=world.standard, level=4, note=f"{tag} override note"
    )
    learner = LearnerState.objects.create(student=student, counters={"tag": tag})
    delivery = AlertDelivery.objects.create(
        user=guardian_user,
        kind=AlertKind.ABSENCE,
        day=dt.date(2026, 10, 5),
        email=guardian_user.email,
        language="en",
    )
    alerted = AlertedAbsence.objects.create(delivery=delivery, user=guardian_user, event=absence)
    return {
        "students.Student": {student.pk},
        "students.StudentSchoolMembership": set(
            StudentSchoolMembership.objects.filter(student=student).values_list("pk", flat=True)
        ),
        "students.Enrollment": set(
            Enrollment.objects.filter(student=student).values_list("pk", flat=True)
        ),
        "students.Guardian": {guardian.pk},
        "students.GuardianRelationship": {relationship.pk},
        "students.ContactDetail": {own_email.pk, guardian_phone.pk},
        "students.ProgramParticipation": {program.pk},
        "students.CohortMembership": {membership.pk},
        "students.AttendanceEvent": {absence.pk},
        "students.Grade": {grade.pk},
        "students.ReportCard": {report_card.pk},
        "students.AcademicRecord": {academic_record.pk},
        "students.CourseTranscript": {transcript.pk},
        "students.StudentCompetency": {competency.pk},
        "students.DisciplineIncident": {incident.pk},
        "students.StudentDisciplineIncident": {part.pk},
        "students.DisciplineAction": {action.pk},
        "students.StudentUserObjectPermission": {permission.pk},
        "privacy.AccessLogEntry": set(
            AccessLogEntry.objects.filter(student=student).values_list("pk", flat=True)
        ),
        "accounts.RoleMembership": set(
            RoleMembership.objects.filter(student=student).values_list("pk", flat=True)
        ),
        "assessments.StudentAssessment": {result.pk},
        "assessments.Score": {score.pk},
        "assessments.MasteryEvidence": {evidence.pk},
        "assessments.MasteryEstimate": {estimate.pk},
        "assessments.MasteryEstimateHistory": {history.pk},
        "assessments.MasteryOverride": {override.pk},
        "assessments.LearnerState": {learner.pk},
        "alerts.AlertedAbsence": {alerted.pk},
    }


@pytest.fixture
def two_students(world: World) -> tuple[Student, dict, Student, dict]:
    Student.objects.filter(pk=world.classmate.pk).update(first_name="Zebulon", last_name="Quimby")
    world.classmate.refresh_from_db()
    ada = give_every_kind(world, world.student, world.parent, "adatag")
    zeb = give_every_kind(world, world.classmate, world.other_parent, "zebtag")
    # Rows of nobody's: a staff member's contact, a shared incident's other student.
    ContactDetail.objects.create(
        district=world.district,
        staff=factories.StaffFactory.create(district=world.district),
        kind="email",
        value="stafftag@example.org",
    )
    return world.student, ada, world.classmate, zeb


def ids_by_model(records: dict[str, list[dict]]) -> dict[str, set]:
    """{model label: ids} of the rows, read back from each row's record_type."""
    names = {
        str(entry.model._meta.verbose_name).lower(): entry.label
        for entry in inventory.registered_records()
        if entry.personal
    }
    found: dict[str, set] = {}
    for rows in records.values():
        for row in rows:
            found.setdefault(names[row["record_type"].lower()], set()).add(row["id"])
    return found


def test_records_of_student_holds_exactly_each_students_rows_of_every_kind(
    two_students: tuple[Student, dict, Student, dict],
) -> None:
    ada, ada_ids, zeb, zeb_ids = two_students
    # Every personal entry of the apps this test knows is crafted above (a new app's entries
    # are its own tests' to craft).
    crafted_apps = {"students", "privacy", "accounts", "assessments", "alerts"}
    personal = {
        entry.label
        for entry in inventory.registered_records()
        if entry.personal and entry.label.split(".")[0] in crafted_apps
    }
    assert personal == set(ada_ids)

    for student, expected, other_tag in ((ada, ada_ids, "zebtag"), (zeb, zeb_ids, "adatag")):
        records = inventory.records_of_student(student)
        assert list(records) == inventory.personal_categories()
        found = ids_by_model(records)
        for label in personal:
            assert found.get(label, set()) == expected[label], label
        text = json.dumps(records, ensure_ascii=False)
        assert other_tag not in text
        assert "stafftag" not in text
    ada_text = json.dumps(inventory.records_of_student(ada))
    assert "Zebulon" not in ada_text
    assert "Quimby" not in ada_text


def test_rows_are_json_ready_with_readable_values_and_encrypted_fields_decrypted(
    two_students: tuple[Student, dict, Student, dict],
) -> None:
    ada, _ada_ids, _zeb, _zeb_ids = two_students
    records = inventory.records_of_student(ada)
    assert json.loads(json.dumps(records)) == records

    (student_row,) = records["student"]
    assert student_row["record_type"] == "Student"
    assert student_row["first_name"] == "Ada"
    assert student_row["birth_date"] == "2016-05-04"
    assert student_row["uuid"] == str(ada.uuid)
    assert student_row["district"] == {"id": ada.district_id, "label": "Home District"}

    contacts = {row["value"] for row in records["contacts"]}
    assert contacts == {"adatag@example.org", "555-adatag"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM students_contactdetail WHERE student_id = %s", [ada.pk])
        (stored,) = cursor.fetchone()
    assert "adatag" not in stored  # the row is encrypted at rest, the package is not
    assert all("value_hash" not in row for row in records["contacts"])

    discipline = {row["record_type"]: row for row in records["discipline"]}
    assert discipline["Discipline incident"]["description"] == "adatag incident description"
    assert discipline["Discipline incident"]["reporter_name"] == "adatag reporter"
    assert discipline["Discipline action"]["disciplines"] == "adatag detention"
    assert "students" not in discipline["Discipline action"]  # the other students it names

    (grade,) = [row for row in records["grades"] if row["record_type"] == "Grade"]
    assert grade["numeric_grade"] == "88.50"
    assert grade["section"] == {"id": grade["section"]["id"], "label": "Grade 4 Math"}
    (absence,) = records["attendance"]
    assert absence["category"] == "Unexcused absence"
    (score,) = [row for row in records["assessments"] if row["record_type"] == "Score"]
    assert score["entered_by"]["label"] == str(User.objects.get(pk=score["entered_by"]["id"]))
    (override,) = [r for r in records["mastery"] if r["record_type"] == "Mastery override"]
    assert override["set_at"].endswith(("+00:00", "Z")) or "T" in override["set_at"]


def test_no_secret_leaves_in_a_package(two_students: tuple[Student, dict, Student, dict]) -> None:
    ada, _ada_ids, _zeb, _zeb_ids = two_students
    text = json.dumps(inventory.records_of_student(ada))
    for user in User.objects.all():
        assert user.password not in text
    assert "pbkdf2" not in text
    assert "argon2" not in text
    (log_row,) = inventory.records_of_student(ada)["access_log"]
    entry = AccessLogEntry.objects.get(student=ada)
    assert entry.student_key not in text  # a keyed hash
    assert log_row["what"] == "adatag page"
    assert log_row["role"] == "teacher"
    assert {"student_key", "actor_label", "actor_user", "path"}.isdisjoint(log_row)


def test_the_access_log_shows_roles_only_where_the_district_chose_so(
    two_students: tuple[Student, dict, Student, dict],
) -> None:
    ada, _ada_ids, _zeb, _zeb_ids = two_students
    (named,) = inventory.records_of_student(ada)["access_log"]
    assert named["actor_name"]
    ada.district.access_log_names = "roles"
    ada.district.save(update_fields=["access_log_names"])
    ada.refresh_from_db()
    (roles_only,) = inventory.records_of_student(ada)["access_log"]
    assert "actor_name" not in roles_only
    assert roles_only["role"] == "teacher"


def test_queries_do_not_grow_with_rows_and_chunks_change_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def attendance(count: int) -> None:
        AttendanceEvent.objects.bulk_create(
            AttendanceEvent(
                district=world.district,
                student=world.student,
                school=world.school,
                section=world.section,
                event_date=dt.date(2026, 9, 1) + dt.timedelta(days=day),
                category=AttendanceCategory.TARDY,
            )
            for day in range(count)
        )

    attendance(3)
    with CaptureQueriesContext(connection) as few:
        inventory.records_of_student(world.student)
    attendance(40)
    with CaptureQueriesContext(connection) as many:
        whole = inventory.records_of_student(world.student)
    assert len(many) == len(few)
    assert len(whole["attendance"]) == 43
    assert [row["id"] for row in whole["attendance"]] == sorted(
        row["id"] for row in whole["attendance"]
    )

    monkeypatch.setattr(inventory, "ROWS_PER_QUERY", 5)
    assert inventory.records_of_student(world.student) == whole


def test_the_json_writer_streams_the_same_records(
    two_students: tuple[Student, dict, Student, dict],
) -> None:
    ada, _ada_ids, _zeb, _zeb_ids = two_students
    out = io.StringIO()
    inventory.write_records_json(ada, out)
    assert json.loads(out.getvalue()) == inventory.records_of_student(ada)


def test_the_pdf_is_readable_with_the_name_as_written_and_every_category(
    two_students: tuple[Student, dict, Student, dict],
) -> None:
    ada, _ada_ids, _zeb, _zeb_ids = two_students
    Student.objects.filter(pk=ada.pk).update(first_name="Zoë", last_name="Núñez-Łukasiewicz")
    ada.refresh_from_db()
    records = inventory.records_of_student(ada)
    pdf = records_pdf(ada.display_name, records, generated_at=GENERATED_AT)

    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    pages = [page.extract_text() for page in reader.pages]
    text = "\n".join(pages)
    assert "Education records of Zoë Núñez-Łukasiewicz" in text
    for category in records:
        assert str(inventory.category_of(category).title) in text, category
    assert "adatag@example.org" in text
    assert "adatag incident description" in text
    assert "zebtag" not in text
    assert f"Page 1 of {len(reader.pages)}" in pages[0]
    assert f"Page {len(reader.pages)} of {len(reader.pages)}" in pages[-1]


def test_the_pdf_says_when_a_category_is_empty_and_speaks_spanish(world: World) -> None:
    records = inventory.records_of_student(world.student)
    assert records["discipline"] == []
    english = PdfReader(io.BytesIO(records_pdf("Ada Lovelace", records, generated_at=GENERATED_AT)))
    assert "No records of this kind." in "".join(p.extract_text() for p in english.pages)
    spanish = PdfReader(
        io.BytesIO(records_pdf("Ada Lovelace", records, generated_at=GENERATED_AT, language="es"))
    )
    spanish_text = "".join(p.extract_text() for p in spanish.pages)
    assert "Página 1 de" in spanish_text


def test_a_long_access_log_renders_on_many_pages(world: World) -> None:
    rows = [
        {
            "record_type": "Access log entry",
            "id": number,
            "at": "2026-10-01T08:00:00+00:00",
            "actor_name": "Dana Ødegård",
            "role": "teacher",
            "what": "section page",
            "purpose": "To teach the student's class and follow their progress. " * (number % 3),
            "student": {"id": world.student.pk, "label": "Ada Lovelace"},
        }
        for number in range(3000)
    ]
    started = time.perf_counter()
    pdf = records_pdf("Ada Lovelace", {"access_log": iter(rows)}, generated_at=GENERATED_AT)
    elapsed = time.perf_counter() - started
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) > 40
    last = reader.pages[-1].extract_text()
    assert "Access log entry 2999" in last
    assert "2026-10-01 08:00" in last
    assert "Ada Lovelace" not in last.replace("Education records of Ada Lovelace", "")
    assert elapsed < 60  # seconds; about 1 s here (a bound against a quadratic layout only)

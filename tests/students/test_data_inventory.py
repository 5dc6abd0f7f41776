"""data_inventory: active records of each kind, as a table or one line of JSON."""

import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role, User
from privacy.models import AccessLogEntry
from privacy.services import access_log_record
from students import inventory
from students.models import (
    AcademicSession,
    ContactDetail,
    Course,
    District,
    Enrollment,
    Guardian,
    GuardianRelationship,
    ProgramParticipation,
    School,
    Section,
    SourcedRecord,
    Staff,
    Student,
)
from tests import factories
from tests.conftest import World

pytestmark = pytest.mark.django_db

KEYS = [
    "students",
    "guardians",
    "staff",
    "schools",
    "sections",
    "enrollments",
    "access_log_entries",
    "districts",
    "courses",
    "academic_sessions",
    "guardian_relationships",
    "program_participations",
    "contact_details",
    "users",
]


def inventory_json() -> dict[str, int]:
    stdout = io.StringIO()
    call_command("data_inventory", "--json", stdout=stdout)
    lines = stdout.getvalue().splitlines()
    return json.loads(lines[-1])


def active(model: type[SourcedRecord] | type[User]) -> int:
    return model.objects.filter(is_active=True).count()


def test_json_is_one_last_line_of_integer_counts_matching_the_database(world: World) -> None:
    access_log_record(
        actor=world.teacher, role=Role.TEACHER, what="roster", students=[world.student]
    )
    ContactDetail.objects.create(
        district=world.district, student=world.student, kind="email", value="ada@example.org"
    )
    ProgramParticipation.objects.create(
        district=world.district, student=world.student, program="iep"
    )
    factories.AcademicSessionFactory.create(district=world.district)
    Course.objects.create(district=world.district, title="Math 4")

    stdout = io.StringIO()
    call_command("data_inventory", "--json", stdout=stdout)
    text = stdout.getvalue()
    assert text.endswith("\n")
    counts = json.loads(text.splitlines()[-1])

    assert list(counts)[: len(KEYS)] == KEYS
    assert all(type(value) is int for value in counts.values())
    assert counts == {
        **counts,
        "students": active(Student),
        "guardians": active(Guardian),
        "staff": active(Staff),
        "schools": active(School),
        "sections": active(Section),
        "enrollments": active(Enrollment),
        "access_log_entries": AccessLogEntry.objects.count(),
        "districts": active(District),
        "courses": active(Course),
        "academic_sessions": active(AcademicSession),
        "guardian_relationships": active(GuardianRelationship),
        "program_participations": active(ProgramParticipation),
        "contact_details": active(ContactDetail),
        "users": active(User),
    }
    assert counts["students"] == 5
    assert counts["access_log_entries"] == 1
    assert counts["contact_details"] == 1
    assert counts["users"] >= 8


def test_inactive_records_are_not_counted(world: World) -> None:
    before = inventory_json()
    factories.StudentFactory.create(district=world.district, is_active=False)
    factories.GuardianFactory.create(district=world.district, is_active=False)
    factories.StaffFactory.create(district=world.district, is_active=False)
    factories.SchoolFactory.create(district=world.district, is_active=False)
    factories.SectionFactory.create(school=world.school, is_active=False)
    Enrollment.objects.filter(student=world.classmate).update(is_active=False)
    GuardianRelationship.objects.filter(student=world.classmate).update(is_active=False)
    User.objects.filter(pk=world.outsider.pk).update(is_active=False)

    after = inventory_json()
    assert after["students"] == before["students"]
    assert after["guardians"] == before["guardians"]
    assert after["staff"] == before["staff"]
    assert after["schools"] == before["schools"]
    assert after["sections"] == before["sections"]
    assert after["enrollments"] == before["enrollments"] - 1
    assert after["guardian_relationships"] == before["guardian_relationships"] - 1
    assert after["users"] == before["users"] - 1


def test_each_count_is_one_query(world: World) -> None:
    with CaptureQueriesContext(connection) as queries:
        counts = inventory.inventory_counts()
    assert len(queries) == len(counts)


def test_the_table_is_aligned_in_two_columns(world: World) -> None:
    stdout = io.StringIO()
    call_command("data_inventory", stdout=stdout)
    lines = stdout.getvalue().splitlines()
    rows = [line for line in lines if line.split()[0] in KEYS]
    assert [row.split()[0] for row in rows] == KEYS
    assert len({len(row) for row in rows}) == 1
    students = next(row for row in rows if row.startswith("students "))
    assert students.split()[-1] == "5"


def test_apps_extend_the_registry_in_a_stable_order(monkeypatch, world: World) -> None:
    monkeypatch.setattr(inventory, "_registry", dict(inventory._registry))
    before = inventory.registered_keys()
    inventory.register_count("test_sections", lambda: Section.objects.all())
    inventory.register_count("test_sevens", lambda: 7)
    with pytest.raises(ValueError, match="already counts"):
        inventory.register_count("students", lambda: 0)
    with pytest.raises(ValueError, match="snake_case"):
        inventory.register_count("Bad Key", lambda: 0)
    inventory.register_count("students", lambda: 42, replace=True)

    counts = inventory_json()
    assert list(counts) == [*before, "test_sections", "test_sevens"]
    assert list(counts)[: len(KEYS)] == list(KEYS)
    assert counts["test_sections"] == Section.objects.count()
    assert counts["test_sevens"] == 7
    assert counts["students"] == 42


# --- The registry of records: what each model holds about a student (the inspection package).


def test_every_project_model_has_an_entry_in_the_registry() -> None:
    missing = inventory.models_without_entry()
    assert missing == [], (
        "Models with no entry in students.inventory (register_records from the app's "
        f"AppConfig.ready(), personal or not): {', '.join(missing)}"
    )


def test_a_model_without_an_entry_is_named() -> None:
    # The check above can fail: a registry that lacks two models names exactly them.
    entries = [
        entry
        for entry in inventory.registered_records()
        if entry.label not in {"students.Grade", "assessments.MasteryOverride"}
    ]
    assert inventory.models_without_entry(entries) == [
        "assessments.MasteryOverride",
        "students.Grade",
    ]
    # Only the project's own apps: installed packages' models (auth, allauth) need none.
    labels = {model._meta.label for model in inventory.project_models()}
    assert "students.Student" in labels
    assert "rollups.RollupPending" in labels
    assert not {"auth.Group", "account.EmailAddress", "sessions.Session"} & labels
    assert "students.DisciplineAction_students" not in labels


def test_every_lookup_ends_at_a_student_and_bad_ones_are_named() -> None:
    assert inventory.entry_problems() == []
    bad = [
        inventory.RecordsEntry(
            label="students.Enrollment",
            category="enrollment",
            personal=True,
            student_lookup=("section",),
            student_rows=None,
            note="",
            omit=(),
        ),
        inventory.RecordsEntry(
            label="students.Grade",
            category="grades",
            personal=True,
            student_lookup=("pupil",),
            student_rows=None,
            note="",
            omit=(),
        ),
        inventory.RecordsEntry(
            label="students.Nothing",
            category="grades",
            personal=False,
            student_lookup=(),
            student_rows=None,
            note="",
            omit=(),
        ),
    ]
    problems = inventory.entry_problems(bad)
    assert problems[0] == "students.Enrollment: 'section' ends at students.Section."
    assert problems[1].startswith("students.Grade: 'pupil' does not resolve")
    assert problems[2] == "students.Nothing: no such model."


def test_the_judgements_of_what_is_about_a_student() -> None:
    entries = {entry.label: entry for entry in inventory.registered_records()}
    # A login is about its holder; a guardian's name and contacts come as the child's guardian.
    assert not entries["accounts.User"].personal
    assert entries["students.Guardian"].personal
    assert entries["students.ContactDetail"].student_lookup == (
        "student",
        "guardian__relationships__student",
    )
    # Aggregates and settings are nobody's.
    for label in ("rollups.SchoolStandardMonth", "students.District", "assessments.Standard"):
        assert not entries[label].personal, label
    for label in (
        "students.Student",
        "students.DisciplineAction",
        "privacy.AccessLogEntry",
        "assessments.MasteryEstimateHistory",
        "assessments.MasteryOverride",
        "alerts.AlertedAbsence",
        "accounts.RoleMembership",
    ):
        assert entries[label].personal, label
    assert all(entry.note for entry in entries.values() if not entry.personal)


def test_register_records_refuses_what_cannot_be_right(monkeypatch) -> None:
    monkeypatch.setattr(inventory, "_records", dict(inventory._records))
    monkeypatch.setattr(inventory, "_categories", dict(inventory._categories))
    with pytest.raises(ValueError, match="already has an entry"):
        inventory.register_records(
            "students.Grade", category="grades", personal=True, student_lookup="student"
        )
    with pytest.raises(ValueError, match="say how to find a student's rows"):
        inventory.register_records("students.Grade", category="grades", personal=True)
    with pytest.raises(ValueError, match="takes no student lookup"):
        inventory.register_records(
            "students.School", category="organisation", personal=False, student_lookup="pk"
        )
    with pytest.raises(ValueError, match="snake_case"):
        inventory.register_records("students.Grade", category="Grades", personal=False)
    with pytest.raises(ValueError, match="app_label.ModelName"):
        inventory.register_records("Grade", category="grades", personal=False)

    inventory.register_records(
        "students.Grade",
        category="report_cards",
        personal=True,
        student_lookup="student",
        replace=True,
    )
    # A category used before it is described comes last, under its key in words.
    assert inventory.personal_categories()[-1] == "report_cards"
    assert str(inventory.category_of("report_cards").title) == "Report cards"


def test_the_registry_listing_as_a_table_and_as_json(world: World) -> None:
    stdout = io.StringIO()
    call_command("data_inventory", "--registry", "--json", stdout=stdout)
    listing = json.loads(stdout.getvalue().splitlines()[-1])
    by_model = {row["model"]: row for row in listing}
    assert set(by_model) == {entry.label for entry in inventory.registered_records()}
    assert by_model["students.AttendanceEvent"] == {
        "model": "students.AttendanceEvent",
        "personal": True,
        "category": "attendance",
        "lookup": "student",
        "note": "",
    }
    assert by_model["accounts.User"]["personal"] is False
    assert by_model["accounts.User"]["lookup"] is None
    assert by_model["students.ContactDetail"]["lookup"] == (
        "student or guardian__relationships__student"
    )

    stdout = io.StringIO()
    call_command("data_inventory", "--registry", stdout=stdout)
    lines = stdout.getvalue().splitlines()
    assert lines[0].split() == ["model", "personal", "category", "lookup"]
    row = next(line for line in lines if line.startswith("students.Guardian "))
    assert row.split() == ["students.Guardian", "yes", "guardians", "relationships__student"]
    # No student's data: the listing says where data is, never what it holds.
    assert "Ada" not in stdout.getvalue()

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

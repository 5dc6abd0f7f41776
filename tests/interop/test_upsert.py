"""Set-based upserts: the PostgreSQL path (COPY + ON CONFLICT) runs when DATABASE_URL points at
PostgreSQL, the generic path (bulk_create(update_conflicts=True)) on SQLite; both are asserted
by the same tests, and the generic path is also forced on PostgreSQL."""

import datetime as dt

import pytest
from django.db import connection

from interop import upsert
from interop.upsert import source_id_map, sourced_upsert
from students.models import ContactDetail, District, School, Student

pytestmark = pytest.mark.django_db

FIELDS = ("source_id", "first_name", "last_name", "birth_date", "races", "is_active")


@pytest.fixture(params=["native", "generic"])
def path(request, monkeypatch):
    """'native' is whatever the configured database uses; 'generic' forces the Python path."""
    if request.param == "generic" and connection.vendor == "postgresql":
        monkeypatch.setattr(upsert, "_upsert_postgresql", upsert._upsert_generic, raising=True)
    return request.param


def _students(district: District, rows) -> upsert.UpsertResult:
    return sourced_upsert(
        Student, fields=FIELDS, rows=rows, district_id=district.pk, source_system="test"
    )


def test_creates_then_leaves_unchanged_rows_alone(path) -> None:
    district = District.objects.create(name="D")
    rows = [
        ("s1", "Ada", "Lovelace", dt.date(2015, 1, 2), ["white"], True),
        ("s2", "Alan", "Turing", None, [], True),
    ]
    first = _students(district, rows)
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    before = dict(Student.objects.values_list("source_id", "updated_at"))
    second = _students(district, rows)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    assert dict(Student.objects.values_list("source_id", "updated_at")) == before
    ada = Student.objects.get(source_id="s1")
    assert (ada.birth_date, ada.races, ada.district_id) == (
        dt.date(2015, 1, 2),
        ["white"],
        district.pk,
    )
    # uuid4's default, filled on insert (by gen_random_uuid() in PostgreSQL's insert): one each.
    uuids = list(Student.objects.values_list("uuid", flat=True))
    assert len(set(uuids)) == 2 and all(u is not None and u.version == 4 for u in uuids)


def test_updates_only_changed_rows_and_deactivates_missing(path) -> None:
    district = District.objects.create(name="D")
    _students(district, [("s1", "Ada", "L", None, [], True), ("s2", "Al", "T", None, [], True)])
    uuid_before = Student.objects.get(source_id="s1").uuid
    result = sourced_upsert(
        Student,
        fields=FIELDS,
        rows=[("s1", "Ada", "Byron", None, [], True)],
        district_id=district.pk,
        source_system="test",
        deactivate_missing=True,
    )
    assert (result.created, result.updated, result.unchanged, result.deactivated) == (0, 1, 0, 1)
    ada = Student.objects.get(source_id="s1")
    assert ada.last_name == "Byron" and ada.uuid == uuid_before  # insert-only columns kept
    assert not Student.objects.get(source_id="s2").is_active


def test_other_districts_and_sources_are_out_of_scope(path) -> None:
    district, other = District.objects.create(name="D"), District.objects.create(name="O")
    _students(other, [("s1", "Other", "Kid", None, [], True)])
    Student.objects.create(district=district, first_name="Hand", last_name="Made")
    result = sourced_upsert(
        Student,
        fields=FIELDS,
        rows=[("s1", "Ada", "L", None, [], True)],
        district_id=district.pk,
        source_system="test",
        deactivate_missing=True,
    )
    assert (result.created, result.deactivated) == (1, 0)
    assert Student.objects.filter(is_active=True).count() == 3
    assert source_id_map(Student, district_id=district.pk, source_system="test") == {
        "s1": Student.objects.get(district=district, source_id="s1").pk
    }


def test_encrypted_values_compare_by_keyed_hash(path) -> None:
    district = District.objects.create(name="D")
    student = Student.objects.create(district=district, first_name="A", last_name="B")
    fields = ("source_id", "student_id", "kind", "label", "value", "is_active")
    rows = [("s1:email", student.pk, "email", "", "ada@example.test", True)]
    assert (
        sourced_upsert(
            ContactDetail, fields=fields, rows=rows, district_id=district.pk, source_system="t"
        ).created
        == 1
    )
    stored = ContactDetail.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM students_contactdetail")
        ciphertext = cursor.fetchone()[0]
    assert "ada@" not in ciphertext and stored.value == "ada@example.test"
    again = sourced_upsert(
        ContactDetail, fields=fields, rows=rows, district_id=district.pk, source_system="t"
    )
    assert (again.updated, again.unchanged) == (0, 1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM students_contactdetail")
        assert cursor.fetchone()[0] == ciphertext  # not rewritten
    changed = [("s1:email", student.pk, "email", "", "ada@new.example", True)]
    assert (
        sourced_upsert(
            ContactDetail, fields=fields, rows=changed, district_id=district.pk, source_system="t"
        ).updated
        == 1
    )
    stored.refresh_from_db()
    assert stored.value == "ada@new.example"


def test_districts_upsert_by_source_alone(path) -> None:
    fields = ("source_id", "name", "is_active")
    result = sourced_upsert(
        District, fields=fields, rows=[("d1", "North", True)], district_id=None, source_system="t"
    )
    assert result.created == 1
    result = sourced_upsert(
        District,
        fields=fields,
        rows=[("d1", "North ISD", True)],
        district_id=None,
        source_system="t",
    )
    assert result.updated == 1 and District.objects.get(source_id="d1").name == "North ISD"


def test_schools_with_json_and_foreign_keys(path) -> None:
    district = District.objects.create(name="D")
    fields = ("source_id", "name", "grade_levels", "is_active")
    rows = [("sch1", "Maple", ["KG", "01"], True)]
    sourced_upsert(School, fields=fields, rows=rows, district_id=district.pk, source_system="t")
    again = sourced_upsert(
        School, fields=fields, rows=rows, district_id=district.pk, source_system="t"
    )
    assert again.unchanged == 1
    assert School.objects.get().grade_levels == ["KG", "01"]

"""A first load into a table (no rows of the load's district and source yet) writes it the
cheap way (interop.upsert): a plain INSERT without ON CONFLICT, its plain indexes built once
after the rows are in (students.bulk_keys.IndexesSetAside), and no deactivation pass. The same
records and report as the upsert, every index back as it was, and later imports upsert."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction

from interop.upsert import UpsertResult, sourced_upsert
from students import bulk_keys
from students import models as sm
from students.bulk_keys import IndexesSetAside
from tests.interop.conftest import (
    analysed_schools,
    edit_rows,
    run_import,
    statistics_of_an_empty_district,
)
from tests.interop.test_oneroster_vendor_columns import FROZEN
from tests.interop.test_roundtrip import records, wipe

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="indexes are set aside on PostgreSQL only"
    ),
]


@pytest.fixture(autouse=True)
def _statistics_of_an_empty_district() -> None:
    statistics_of_an_empty_district()


def indexes() -> list[tuple[str, str]]:
    """Every index of the students app's tables, by name and definition."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes"
            " WHERE tablename LIKE 'students\\_%%' ORDER BY 1"
        )
        return cursor.fetchall()


@pytest.fixture
def indexes_set_aside(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str]]]:
    """Each table whose indexes a load dropped, in order, with the statements that dropped
    them."""
    aside: list[tuple[str, list[str]]] = []
    original = IndexesSetAside.set_aside_if_it_pays

    def recording(self: IndexesSetAside, table: str, rows: int, *, uniques: bool = False) -> bool:
        done = original(self, table, rows, uniques=uniques)
        if done:
            aside.append((table, [drop for drop, _ in self.aside]))
        return done

    monkeypatch.setattr(IndexesSetAside, "set_aside_if_it_pays", recording)
    return aside


def schools_upsert(
    district_id: int, rows: list[tuple[str, str]], *, deactivate_missing: bool = False
) -> UpsertResult:
    """A sourced upsert of schools (source id, name) into the district."""
    return sourced_upsert(
        sm.School,
        fields=("source_id", "name"),
        rows=rows,
        district_id=district_id,
        source_system="test",
        deactivate_missing=deactivate_missing,
    )


@pytest.fixture
def plain_inserts() -> Iterator[list[str]]:
    """The tables written by a plain INSERT (a first load), from the statements run."""
    tables: list[str] = []

    def watch(execute, sql, params, many, context):  # noqa: ANN001, ANN202
        if sql.startswith('INSERT INTO "students_') and " SELECT " in sql:
            tables.append(sql.split('"')[1])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):
        yield tables


def test_a_first_load_builds_indexes_once_and_writes_what_the_upsert_writes(
    fixture_copy, monkeypatch: pytest.MonkeyPatch, indexes_set_aside: list[tuple[str, list[str]]]
) -> None:
    folder = fixture_copy()
    before = indexes()
    with time_machine.travel(FROZEN, tick=False):
        row_by_row = run_import(folder)
    assert row_by_row.report["ok"] and indexes_set_aside == []  # the fixture is small
    expected = records()
    wipe()

    monkeypatch.setattr(bulk_keys, "FIRST_LOAD_ROWS", 2)
    with time_machine.travel(FROZEN, tick=False):
        built_once = run_import(folder)
    assert built_once.report == row_by_row.report
    assert records() == expected
    # Contact details and enrollments have plain indexes; both were built once.
    assert {"students_contactdetail", "students_enrollment"} <= {t for t, _ in indexes_set_aside}
    assert indexes() == before


def test_only_a_first_load_inserts_plainly_and_a_second_upserts_and_deactivates(
    fixture_copy, plain_inserts: list[str]
) -> None:
    folder = fixture_copy()
    first = run_import(folder)
    assert first.report["ok"]
    assert {"students_student", "students_enrollment"} <= set(plain_inserts)
    created = first.report["entities"]["enrollments"]["created"]
    assert created == sm.Enrollment.objects.count() > 0

    plain_inserts.clear()
    gone = edit_rows_dropping_first(folder, "enrollments.csv")
    second = run_import(folder)
    assert second.report["ok"] and plain_inserts == []
    assert second.report["entities"]["enrollments"]["deactivated"] == 1
    assert not sm.Enrollment.objects.get(source_id=gone).is_active


def edit_rows_dropping_first(folder: Path, filename: str) -> str:
    """Drop the file's first row; its sourcedId."""
    dropped: list[str] = []

    def drop(rows: list[dict]) -> list[dict]:
        dropped.append(rows[0]["sourcedId"])
        return rows[1:]

    edit_rows(folder, filename, drop)
    return dropped[0]


def test_another_districts_rows_do_not_make_a_load_a_second_one(plain_inserts: list[str]) -> None:
    """First is per district and source: a district's first load inserts plainly beside
    another's rows, and its own second load upserts."""
    rows = [("s1", "One"), ("s2", "Two")]
    for name in ("A", "B"):
        district = sm.District.objects.create(name=name, source_id=name)
        plain_inserts.clear()
        result = schools_upsert(district.pk, rows, deactivate_missing=True)
        assert (result.created, plain_inserts) == (2, ["students_school"])
    plain_inserts.clear()
    again = schools_upsert(district.pk, [("s1", "One, renamed")], deactivate_missing=True)
    assert (again.created, again.updated, again.deactivated) == (0, 1, 1)
    assert plain_inserts == []
    assert sm.School.objects.filter(district__name="A", is_active=True).count() == 2


def test_building_indexes_again_pays_for_half_the_table_or_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bulk_keys, "FIRST_LOAD_ROWS", 2)
    analysed_schools(200)
    # A build reads the whole table: it pays for a load of half of it or more.
    aside = IndexesSetAside()
    assert not aside.pays_for("students_school", 99)
    assert aside.pays_for("students_school", 100)
    assert not aside.pays_for("students_school", 1)  # under FIRST_LOAD_ROWS


def test_indexes_set_aside_come_back_as_they_were_and_serve_the_rows_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = indexes()
    district = sm.District.objects.create(name="D", source_id="d")
    aside = IndexesSetAside()
    monkeypatch.setattr(bulk_keys, "FIRST_LOAD_ROWS", 2)
    assert aside.set_aside_if_it_pays("students_contactdetail", 10)
    dropped = {name for name, _ in before} - {name for name, _ in indexes()}
    assert "students_contactdetail_district_id_c3f1c612" in dropped
    # Unique and constraint indexes stay: the upsert's arbiter and the table's guarantees.
    assert not {"contactdetail_unique_source", "students_contactdetail_pkey"} & dropped
    student = sm.Student.objects.create(district=district, source_id="st", first_name="A")
    sm.ContactDetail.objects.create(
        district=district, student=student, kind="email", value="a@example.org"
    )
    aside.restore()
    assert indexes() == before
    assert sm.ContactDetail.objects.filter(district=district).count() == 1


@pytest.mark.parametrize("indexes_aside", [False, True], ids=["indexes kept", "indexes aside"])
def test_a_first_load_that_meets_rows_written_meanwhile_upserts_them(
    plain_inserts: list[str], monkeypatch: pytest.MonkeyPatch, indexes_aside: bool
) -> None:
    """Two first imports at once: the second's check saw no rows, but the first's are there by
    its insert. With its indexes in place, the plain insert meets them at the unique index and
    writes nothing; with them set aside, the question asked again under the table's lock sees
    them and the indexes come back. Either way the rows are upserted and the missing
    deactivated, as a later load would."""
    if indexes_aside:
        monkeypatch.setattr(bulk_keys, "FIRST_LOAD_ROWS", 2)
    before = indexes()
    district = sm.District.objects.create(name="D", source_id="d")

    def schools(rows: list[tuple[str, str]]) -> UpsertResult:
        return schools_upsert(district.pk, rows, deactivate_missing=True)

    schools([("s1", "One"), ("s2", "Two")])

    asked: list[str] = []

    def no_rows_yet(execute, sql, params, many, context):  # noqa: ANN001, ANN202
        if sql.startswith("SELECT NOT EXISTS (SELECT 1 FROM"):
            asked.append(sql)
            if len(asked) == 1:
                sql, params = "SELECT true", ()  # what a check before the other's insert saw
        return execute(sql, params, many, context)

    plain_inserts.clear()
    with connection.execute_wrapper(no_rows_yet):
        result = schools([("s1", "One, renamed"), ("s3", "Three")])
    if indexes_aside:
        assert len(asked) == 2 and plain_inserts == []  # asked again, and never inserted
    else:
        assert plain_inserts == ["students_school"]  # tried, and rolled back to its savepoint
    assert indexes() == before
    assert (result.created, result.updated, result.deactivated) == (1, 1, 1)
    assert dict(sm.School.objects.values_list("source_id", "is_active")) == {
        "s1": True,
        "s2": False,
        "s3": True,
    }
    assert sm.School.objects.get(source_id="s1").name == "One, renamed"


def test_a_first_load_builds_its_unique_indexes_after_and_a_duplicate_fails_it(
    monkeypatch: pytest.MonkeyPatch, indexes_set_aside: list[tuple[str, list[str]]]
) -> None:
    """A first load large enough writes by plain insert with even its unique indexes and
    constraints set aside, and builds them after: a duplicate the importers would have refused
    still fails the load, at the build, and every index comes back."""
    monkeypatch.setattr(bulk_keys, "FIRST_LOAD_ROWS", 2)
    statistics_of_an_empty_district()
    before = indexes()
    district = sm.District.objects.create(name="D", source_id="d")
    assert schools_upsert(district.pk, [("s1", "One"), ("s2", "Two")]).created == 2
    dropped = [drop for _, drops in indexes_set_aside for drop in drops]
    assert any("school_unique_source" in drop for drop in dropped)  # the unique source index
    assert indexes() == before
    other = sm.District.objects.create(name="E", source_id="e")
    with pytest.raises(IntegrityError, match="school_unique_source"), transaction.atomic():
        schools_upsert(other.pk, [("s3", "Three"), ("s3", "Three again")])
    assert indexes() == before

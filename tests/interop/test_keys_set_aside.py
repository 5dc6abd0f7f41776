"""Large imports check a table's foreign keys once instead of row by row at COMMIT
(students.bulk_keys.ForeignKeysSetAside): OneRoster for one large upsert, Ed-Fi for the rest of
the run once a table's batches add up. The same records and report either way, every key back
as it was, and a row that breaks a key still aborts the import."""

from __future__ import annotations

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction

from students import bulk_keys
from students import models as sm
from students.bulk_keys import ForeignKeysSetAside
from tests.interop.conftest import (
    analysed_schools,
    foreign_keys,
    run_import,
    statistics_of_an_empty_district,
)
from tests.interop.test_oneroster_vendor_columns import FROZEN
from tests.interop.test_roundtrip import records, wipe

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="foreign keys are set aside on PostgreSQL only"
    ),
]


@pytest.fixture(autouse=True)
def _statistics_of_an_empty_district() -> None:
    statistics_of_an_empty_district()


@pytest.fixture
def set_aside_tables(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tables whose keys were dropped, in order, as the import sets them aside."""
    dropped: list[str] = []
    original = ForeignKeysSetAside.set_aside

    def recording(self: ForeignKeysSetAside, tables: list[str]) -> bool:
        done = original(self, tables)
        if done:
            dropped.extend(tables)
        return done

    monkeypatch.setattr(ForeignKeysSetAside, "set_aside", recording)
    return dropped


def test_a_large_roster_upsert_checks_keys_once_and_writes_the_same(
    fixture_copy, monkeypatch: pytest.MonkeyPatch, set_aside_tables: list[str]
) -> None:
    folder = fixture_copy()
    keys = foreign_keys()
    with time_machine.travel(FROZEN, tick=False):
        checked_per_row = run_import(folder)
    assert checked_per_row.report["ok"] and set_aside_tables == []
    expected = records()
    wipe()

    monkeypatch.setattr(bulk_keys, "BULK_FOREIGN_KEY_ROWS", 2)
    with time_machine.travel(FROZEN, tick=False):
        checked_once = run_import(folder)
    assert checked_once.report == checked_per_row.report
    assert records() == expected
    assert {"students_student", "students_enrollment"} <= set(set_aside_tables)
    assert foreign_keys() == keys


def test_a_table_that_holds_ten_times_the_load_keeps_its_row_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bulk_keys, "BULK_FOREIGN_KEY_ROWS", 2)
    analysed_schools(200)
    # Checking the keys once reads the whole table: it pays only for a tenth of it or more.
    keys = ForeignKeysSetAside()
    assert not keys.pays_for("students_school", 19)
    assert keys.pays_for("students_school", 20)
    assert not keys.pays_for("students_school", 1)  # under BULK_FOREIGN_KEY_ROWS


def _keys_aside_with_a_ghost_school(district: sm.District) -> None:
    with transaction.atomic():
        aside = ForeignKeysSetAside()
        assert aside.set_aside(["students_school"])
        assert "students_school" not in {table for table, _, _ in foreign_keys()}
        # Keys are deferred: without the key, nothing checks this row before restore.
        sm.School.objects.create(district_id=district.pk + 1000, name="Ghost", source_id="g")
        aside.restore()


def test_a_row_that_breaks_a_key_set_aside_aborts_and_the_key_comes_back() -> None:
    keys = foreign_keys()
    district = sm.District.objects.create(name="D", source_id="d")
    with pytest.raises(IntegrityError, match="district"):
        _keys_aside_with_a_ghost_school(district)
    assert foreign_keys() == keys
    assert not sm.School.objects.filter(source_id="g").exists()

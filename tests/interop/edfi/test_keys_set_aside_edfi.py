"""Ed-Fi sets a large table's foreign keys aside for the rest of the run once its batches add
up (interop.edfi.loader.Loader.keys_set_aside_for): the same records and report as with the
checks row by row, and every key back as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection, transaction

from interop.edfi import loader as edfi_loader
from interop.edfi import service as edfi_service
from interop.edfi.service import edfi_import
from students import bulk_keys
from students import models as sm
from students.bulk_keys import ForeignKeysSetAside
from tests.interop.conftest import foreign_keys
from tests.interop.test_keys_set_aside import set_aside_tables as set_aside_tables  # a fixture

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="foreign keys are set aside on PostgreSQL only"
    ),
]

EVENT_FIELDS = (
    "student__source_id",
    "school__source_id",
    "section__source_id",
    "event_date",
    "category",
)


def test_edfi_sets_a_large_tables_keys_aside_for_the_run_and_writes_the_same(
    daybreak_path: Path, monkeypatch: pytest.MonkeyPatch, set_aside_tables: list[str]
) -> None:
    keys = foreign_keys()
    with transaction.atomic():  # rolled back below: the second import starts from nothing
        checked_per_row = edfi_import(path=daybreak_path)
        assert checked_per_row.ok and set_aside_tables == []
        counts = {entity: vars(count) for entity, count in checked_per_row.counts.items()}
        events = set(sm.AttendanceEvent.objects.values_list(*EVENT_FIELDS))
        transaction.set_rollback(True)
    assert len(events) == 5550 and not sm.AttendanceEvent.objects.exists()

    # Batches of 500 events: the keys go aside once 2,000 are written, for the rest of the run.
    monkeypatch.setattr(bulk_keys, "BULK_FOREIGN_KEY_ROWS", 2000)
    monkeypatch.setattr(edfi_loader, "SHARED_BATCH", 500)
    checked_once = edfi_import(path=daybreak_path)
    assert checked_once.ok
    assert {entity: vars(count) for entity, count in checked_once.counts.items()} == counts
    assert set_aside_tables.count("students_attendanceevent") == 1
    assert set(sm.AttendanceEvent.objects.values_list(*EVENT_FIELDS)) == events
    assert foreign_keys() == keys


def _attendance_rows_when_set_aside(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The attendance events already written each time their table's keys were set aside."""
    written: list[int] = []
    original = ForeignKeysSetAside.set_aside

    def recording(self: ForeignKeysSetAside, tables: list[str]) -> bool:
        done = original(self, tables)
        if done and "students_attendanceevent" in tables:
            written.append(sm.AttendanceEvent.objects.count())
        return done

    monkeypatch.setattr(ForeignKeysSetAside, "set_aside", recording)
    # The position is told after every element, so that batches of 500 read it exactly.
    monkeypatch.setattr(edfi_service, "PROGRESS_EVERY", 1)
    monkeypatch.setattr(edfi_loader, "SHARED_BATCH", 500)
    return written


def test_a_file_large_enough_sets_the_keys_aside_before_its_first_batch(
    daybreak_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Daybreak's 5,550 attendance events in batches of 500: from 2,000 rows on, the keys go
    aside before the first batch, on what the rest of the file will bring, not after four
    batches checked row by row."""
    written = _attendance_rows_when_set_aside(monkeypatch)
    monkeypatch.setattr(bulk_keys, "BULK_FOREIGN_KEY_ROWS", 2000)
    assert edfi_import(path=daybreak_path).ok
    assert written == [0]


def test_a_file_below_the_rule_keeps_its_row_checks(
    daybreak_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = _attendance_rows_when_set_aside(monkeypatch)
    monkeypatch.setattr(bulk_keys, "BULK_FOREIGN_KEY_ROWS", 6000)  # above the file's 5,550
    assert edfi_import(path=daybreak_path).ok
    assert written == []

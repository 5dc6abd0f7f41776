"""A large Ed-Fi load reads its XML in a forked second process (interop.edfi.relay) while this
process loads: the same records, counts, errors, warnings and mappings as one process reading
and loading in turn, and a child that never outlives the load or touches its connection."""

from __future__ import annotations

import os
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction

from interop.edfi import relay, service
from interop.edfi.relay import RelayError, relayed
from interop.edfi.service import edfi_import
from interop.progress import Progress
from tests.interop.edfi.conftest import FILES
from tests.interop.edfi.test_hostile_files import student_file
from tests.interop.edfi.test_id_ref_v1 import _fixture as ref_fixture
from tests.interop.edfi.test_id_ref_v1 import _snapshot

pytestmark = pytest.mark.skipif(not relay.relay_available(), reason="no os.fork here")


def _same(event: tuple[Any, ...]) -> tuple[Any, ...]:
    return event


def _outcome(folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The report (without its timings) and the rows an import of `folder` writes; rolled back."""
    savepoint = transaction.savepoint()
    try:
        report = edfi_import(path=folder).as_json()
        for timing in ("seconds", "started", "finished"):
            report.pop(timing, None)
        return report, _snapshot()
    finally:
        transaction.savepoint_rollback(savepoint)


def _relays_counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that counts the loads that read in a child."""
    used: list[int] = []
    real = service.relayed

    def counted(*args: Any) -> Iterator[tuple[Any, ...]]:
        used.append(1)
        return real(*args)

    monkeypatch.setattr(service, "relayed", counted)
    return used


@pytest.fixture
def children(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every load reads in a child, whatever its size; the list counts the loads that did."""
    monkeypatch.setattr(service, "RELAY_MIN_BYTES", 0)
    return _relays_counted(monkeypatch)


def _both_ways(
    folder: Path, settings: Any, children: list[int], *, read: bool = True
) -> dict[str, Any]:
    """The outcome of importing `folder` in one process and with a reading child, which must
    be the same; `read`: whether the load gets as far as reading records (a file refused
    while the load is planned stops it before)."""
    settings.TRELLIS_EDFI_READ_IN_CHILD = False
    in_one = _outcome(folder)
    assert children == []
    settings.TRELLIS_EDFI_READ_IN_CHILD = True
    in_two = _outcome(folder)
    assert children == ([1] if read else [])
    assert in_two == in_one
    return in_one[0]


@pytest.mark.parametrize(
    "name", ["base", "v52", "malformed", "missing_required", "unknown_ref", "wrong_namespace"]
)
def test_each_fixture_reads_the_same_in_a_second_process(
    db: None, settings: Any, children: list[int], name: str
) -> None:
    report = _both_ways(
        FILES / name, settings, children, read=name not in {"malformed", "wrong_namespace"}
    )
    # The fixtures cover both outcomes: a clean load and refusals with their errors.
    assert report["ok"] is (name in {"base", "v52"})
    if not report["ok"]:
        assert report["errors"]


def test_a_zip_refs_and_a_broken_ref_read_the_same_in_a_second_process(
    db: None, settings: Any, children: list[int], tmp_path: Path
) -> None:
    folder = ref_fixture(tmp_path / "refs", "section association")
    archive = tmp_path / "refs.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in folder.iterdir():
            zipped.write(path, path.name)
    assert _both_ways(archive, settings, children)["ok"]
    grades = folder / "Interchange-StudentGrade.xml"
    grades.write_text(grades.read_text().replace('ref="ssa"', 'ref="ssa-9"', 1))
    children.clear()
    report = _both_ways(folder, settings, children)
    assert "no element of this import has id 'ssa-9'" in str(report["errors"])


def test_an_element_past_the_record_limit_stops_the_same_in_a_second_process(
    db: None, settings: Any, children: list[int], tmp_path: Path
) -> None:
    folder = tmp_path / "base"
    shutil.copytree(FILES / "base", folder)
    settings.TRELLIS_IMPORT_MAX_RECORD_BYTES = 64 * 1024
    student_file(folder, b"<Name><FirstName>" + b"a" * 200_000 + b"</FirstName></Name>")
    report = _both_ways(folder, settings, children)
    assert "the most one record may take" in str(report["errors"])


def test_daybreak_reads_in_a_second_process_by_default_and_loads_the_same(
    db: None, daybreak_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The size rule is left as it is: Daybreak's 7.6 MB pays for the fork.
    report = _both_ways(daybreak_path, settings, _relays_counted(monkeypatch))
    assert report["ok"] and report["entities"]["attendance_events"]["created"] == 5550


# --- the relay itself ----------------------------------------------------------------------


def test_the_relay_gives_every_event_in_order_from_another_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(relay, "BATCH_EVENTS", 7)  # many batches, and one left partly full
    monkeypatch.setattr(relay, "RUN_AHEAD", 2)

    def produce() -> Iterator[tuple[Any, ...]]:
        yield ("pid", os.getpid())
        for number in range(5000):
            yield ("n", number, {"nested": [number]})

    events = list(relayed(produce, _same, _same))
    assert events[0][1] != os.getpid()
    assert events[1:] == [("n", number, {"nested": [number]}) for number in range(5000)]


def test_a_failure_in_the_child_is_raised_here_with_its_traceback() -> None:
    def produce() -> Iterator[tuple[Any, ...]]:
        yield ("first",)
        raise ValueError("element 7 cannot be read")

    events = relayed(produce, _same, _same)
    assert next(events) == ("first",)  # what was read before the failure comes first
    with pytest.raises(RelayError, match="element 7 cannot be read") as failure:
        next(events)
    assert "Traceback" in str(failure.value) and "ValueError" in str(failure.value)


def test_a_load_that_stops_early_leaves_no_child_behind() -> None:
    def produce() -> Iterator[tuple[Any, ...]]:
        yield ("pid", os.getpid())
        while True:  # a child that would read forever
            yield ("more",)

    events = relayed(produce, _same, _same)
    child = next(events)[1]
    os.kill(child, 0)  # running
    events.close()
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)  # killed and reaped


@pytest.mark.django_db(transaction=True)
def test_the_child_leaves_the_loaders_database_session_alone() -> None:
    """The child inherits the open connection: leaving by os._exit, it never closes it, so the
    loader's transaction goes on (on PostgreSQL a closed session would fail the next query)."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE relay_probe (n integer)")
            cursor.execute("INSERT INTO relay_probe VALUES (1)")

        def produce() -> Iterator[tuple[Any, ...]]:
            yield ("read", 1)

        assert list(relayed(produce, _same, _same)) == [("read", 1)]
        with connection.cursor() as cursor:
            cursor.execute("SELECT n FROM relay_probe")
            assert cursor.fetchall() == [(1,)]
            cursor.execute("DROP TABLE relay_probe")


class _FileRows(Progress):
    """The rows the progress bar shows for each file when it finishes."""

    def __init__(self) -> None:
        self.name = ""
        self.rows = 0
        self.finished: dict[str, int] = {}

    def file_started(self, name: str, total_bytes: int) -> None:
        self.name, self.rows = name, 0

    def advance(self, rows: int, bytes_read: int) -> None:
        self.rows = rows

    def file_finished(self) -> None:
        self.finished[self.name] = self.rows


def test_each_file_finishes_with_all_of_its_rows_on_the_progress_bar(
    db: None, daybreak_path: Path
) -> None:
    """The reader tells its position every PROGRESS_EVERY elements; a file's last rows (and
    every row of a file shorter than that) still reach the bar before it finishes."""
    progress = _FileRows()
    assert edfi_import(path=daybreak_path, progress=progress).ok
    assert progress.finished["InterchangeAttendance.xml"] == 5550
    assert 0 < progress.finished["InterchangeStudentCohort.xml"] < service.PROGRESS_EVERY

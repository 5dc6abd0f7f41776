"""Hostile OneRoster files: a field or a row past its limit is refused with the file and the line
(and the rest of the file is not read), and what an import keeps about errors is bounded by the
one error limit, whatever the file holds. Memory and time are measured by
bench/hostile_imports.py, never asserted here."""

from pathlib import Path

import pytest
from django.db import transaction

from interop.oneroster.importer import OneRosterImport
from interop.progress import Progress
from interop.registry import ImportContext
from interop.report import ErrorCollector, ImportReport
from interop.sources import ImportSource
from tests.interop.conftest import edit_rows, run_import

pytestmark = pytest.mark.django_db

# The defaults of TRELLIS_IMPORT_MAX_FIELD_CHARS and TRELLIS_IMPORT_MAX_RECORD_BYTES.
MAX_FIELD_CHARS = 1024 * 1024
MAX_RECORD_BYTES = 4 * 1024 * 1024

# users.csv of the v12 fixture: the columns before givenName, then those after it.
BEFORE_NAME = "st9,active,2026-08-01T00:00:00Z,true,ada9,,"
AFTER_NAME = ",Lovelace,,,,,,,04,,,,,,,s1,"


def write_users(folder: Path, *rows: bytes) -> None:
    """users.csv: the fixture's header and rows, then `rows`, then a row with an error of its
    own (enabledUser), which must not be reported when reading stopped before it."""
    path = folder / "users.csv"
    text = path.read_bytes().rstrip(b"\r\n") + b"\r\n"
    with open(path, "wb") as handle:
        handle.write(text)
        for row in rows:
            handle.write(row)
        handle.write(b"st10,active,2026-08-01T00:00:00Z,maybe,u,,Al,T,,,,,,,04,,,,,,,s1,\r\n")


def users_line(folder: Path) -> int:
    """The line a row appended by write_users starts on."""
    return len((folder / "users.csv").read_bytes().rstrip(b"\r\n").splitlines()) + 1


def assert_stopped_at(outcome, line: int, words: str) -> None:
    assert outcome.exit_code == 1
    errors = outcome.report["errors"]
    users = [e for e in errors if e["file"] == "users.csv"]
    assert users[0]["line"] == line and words in users[0]["message"], users
    assert "the rest of the file is not read" in users[0]["message"]
    # Reading stopped at that row: the error on the row after it was never seen.
    assert not any(e["column"] == "enabledUser" for e in users), users


def test_a_field_over_the_limit_is_refused_with_its_file_and_line(fixture_copy) -> None:
    folder = fixture_copy()
    line = users_line(folder)
    name = b"a" * (MAX_FIELD_CHARS + 1)
    write_users(folder, BEFORE_NAME.encode() + name + AFTER_NAME.encode() + b"\r\n")
    outcome = run_import(folder)
    assert_stopped_at(outcome, line, f"A field longer than {MAX_FIELD_CHARS:,} characters")


def test_the_field_limit_is_a_setting(fixture_copy, settings) -> None:
    settings.TRELLIS_IMPORT_MAX_FIELD_CHARS = 1000
    folder = fixture_copy()
    line = users_line(folder)
    write_users(folder, f'{BEFORE_NAME}"{"a" * 1001}"{AFTER_NAME}\r\n'.encode())
    assert_stopped_at(run_import(folder), line, "A field longer than 1,000 characters")


@pytest.mark.parametrize(
    "piece",
    [b",a", b',"a\r\n"'],
    ids=["one line of tiny fields", "tiny quoted fields on lines of their own"],
)
def test_a_row_over_the_limit_is_refused_with_its_file_and_line(fixture_copy, piece) -> None:
    folder = fixture_copy()
    line = users_line(folder)
    # A row refused is one that reads past the limit; the readers buffer up to 16 KiB ahead.
    count = (MAX_RECORD_BYTES + 64 * 1024) // len(piece)
    row = b"st9,active,2026-08-01T00:00:00Z,true" + piece * count
    write_users(folder, row + b"\r\n")
    outcome = run_import(folder)
    assert_stopped_at(outcome, line, f"A row longer than {MAX_RECORD_BYTES:,} bytes")


def test_a_manifest_row_over_the_limit_is_refused(fixture_copy, settings) -> None:
    settings.TRELLIS_IMPORT_MAX_RECORD_BYTES = 64 * 1024
    folder = fixture_copy()
    with open(folder / "manifest.csv", "ab") as handle:
        handle.write(b"source.notes," + b"x" * 200_000 + b"\r\n")
    outcome = run_import(folder)
    errors = outcome.report["errors"]
    assert errors[0]["file"] == "manifest.csv"
    assert "A row longer than 65,536 bytes" in errors[0]["message"]


def test_the_error_limit_is_one_setting(fixture_copy, settings) -> None:
    settings.TRELLIS_IMPORT_ERROR_LIMIT = 7
    folder = fixture_copy()
    edit_rows(
        folder,
        "enrollments.csv",
        lambda rows: [
            dict(rows[0], sourcedId=f"bad{n}", classSourcedId=f"nope{n}") for n in range(30)
        ],
    )
    outcome = run_import(folder)
    assert len(outcome.report["errors"]) == 7 and outcome.report["error_total"] == 30


def import_keeping_the_importer(folder: Path) -> tuple[OneRosterImport, ImportReport]:
    """Run the OneRoster importer as import_execute does (rolled back), keeping the importer
    to look at what it kept."""
    report = ImportReport(format="oneroster", errors=ErrorCollector())
    with ImportSource(folder) as source, transaction.atomic():
        importer = OneRosterImport(ImportContext(source=source, report=report, progress=Progress()))
        importer.run()
        transaction.set_rollback(True)
    return importer, report


def test_records_with_errors_are_remembered_only_up_to_the_error_limit(
    fixture_copy, settings
) -> None:
    settings.TRELLIS_IMPORT_ERROR_LIMIT = 5
    folder = fixture_copy()
    # 50 users with an error each, then an enrollment of each of them.
    edit_rows(
        folder,
        "users.csv",
        lambda rows: [
            *rows,
            *(dict(rows[0], sourcedId=f"bad{n}", givenName="") for n in range(50)),
        ],
    )
    edit_rows(
        folder,
        "roles.csv",
        lambda rows: [
            *rows,
            *(dict(rows[0], sourcedId=f"role-bad{n}", userSourcedId=f"bad{n}") for n in range(50)),
        ],
    )
    edit_rows(
        folder,
        "enrollments.csv",
        lambda rows: [
            *rows,
            *(dict(rows[0], sourcedId=f"enr-bad{n}", userSourcedId=f"bad{n}") for n in range(50)),
        ],
    )
    importer, report = import_keeping_the_importer(folder)
    assert sum(len(ids) for ids in importer.invalid.values()) == 5
    assert len(report.errors.kept) == 5
    # The kept errors are the users' own; no enrollment is blamed for a user that had errors.
    assert {issue.file for issue in report.errors.kept} == {"users.csv"}
    # Past the limit an enrollment of an unremembered user cannot be told from one of a user
    # that does not exist: it is not counted, and the total says it is a minimum.
    assert report.errors.total == 50
    assert report.errors.total_is_minimum
    assert report.as_json()["error_total_is_minimum"] is True


def test_the_command_says_when_the_total_is_a_minimum(fixture_copy) -> None:
    folder = fixture_copy()
    edit_rows(
        folder,
        "classes.csv",
        lambda rows: [*rows, *(dict(rows[0], sourcedId=f"bad{n}", title="") for n in range(8))],
    )
    edit_rows(
        folder,
        "enrollments.csv",
        lambda rows: [
            *rows,
            *(dict(rows[0], sourcedId=f"enr-bad{n}", classSourcedId=f"bad{n}") for n in range(8)),
        ],
    )
    outcome = run_import(folder, "--error-limit", "3")
    assert outcome.report["error_total"] == 8
    assert "at least 8 errors in all: nothing was written." in outcome.stderr


def test_below_the_limit_references_to_records_with_errors_are_not_counted(
    fixture_copy,
) -> None:
    folder = fixture_copy()
    edit_rows(
        folder,
        "classes.csv",
        lambda rows: [*rows, *(dict(rows[0], sourcedId=f"bad{n}", title="") for n in range(8))],
    )
    edit_rows(
        folder,
        "enrollments.csv",
        lambda rows: [
            *rows,
            *(dict(rows[0], sourcedId=f"enr-bad{n}", classSourcedId=f"bad{n}") for n in range(8)),
        ],
    )
    importer, report = import_keeping_the_importer(folder)
    assert report.errors.total == 8 and not report.errors.total_is_minimum
    assert importer.invalid["classes"] == {f"bad{n}" for n in range(8)}


def test_an_error_keeps_a_bounded_message() -> None:
    errors = ErrorCollector(limit=3)
    errors.add(file="f.csv", line=2, column="c" * 10_000, message="m" * 100_000, value="v" * 999)
    issue = errors.kept[0]
    assert len(issue.message) <= 500 and issue.message.endswith("...")
    assert len(issue.column) <= 200
    assert issue.value is not None and len(issue.value) <= 80

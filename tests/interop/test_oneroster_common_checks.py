"""Every OneRoster file's shared columns (sourcedId, status, dateLastModified) are read by a quick
test for the plainly valid row and, for anything else, by the checks that name what is wrong:
the quick test must pass only rows the checks find nothing to say about (no error, warning or
mapping), and should pass them all in a bulk file (or it saves nothing)."""

import itertools
from typing import cast

import pytest

from interop.oneroster import schema
from interop.oneroster.reader import CsvFile, Row
from interop.progress import Progress
from interop.registry import ImportContext
from interop.report import ImportReport
from interop.sources import ImportSource

SOURCED_IDS = ["", "u-1", "x" * 255, "x" * 256, None]
STATUSES = ["", "active", "tobedeleted", "Active", "inactive", "deleted", None]
DATES = [
    "",
    "2026-09-03",
    "2026-09-03T10:00:00Z",
    "2026-09-03T10:00:00.123Z",
    "2026-02-30",
    "03/09/2026",
    "yesterday",
    None,
]
# (sourcedId required, status a column, dateLastModified a column, delta file)
CHECKS = list(itertools.product((True, False), (True, False), (True, False), (True, False)))


def row_of(report: ImportReport, values: dict) -> Row:
    # Checking a row reads neither the source nor the progress: both stay None.
    context = ImportContext(
        source=cast(ImportSource, None), report=report, progress=cast(Progress, None)
    )
    present = {name: value for name, value in values.items() if value is not None}
    return Row(CsvFile(context, schema.USERS_12, "bulk"), 2, present)


@pytest.mark.parametrize("checks", CHECKS, ids=[repr(c) for c in CHECKS])
def test_the_quick_test_passes_exactly_the_rows_the_checks_accept(checks) -> None:
    delta = checks[3]
    for sourced_id, status, modified in itertools.product(SOURCED_IDS, STATUSES, DATES):
        values = {"sourcedId": sourced_id, "status": status, "dateLastModified": modified}
        report = ImportReport()
        CsvFile._check_common_fully(row_of(report, values), checks)
        # Plainly valid: nothing to report (a warning or a mapping needs the full checks).
        accepted = not report.errors and not report.warnings and not report.mappings
        quick = CsvFile._plainly_valid(row_of(ImportReport(), values), checks)
        # Never passes a row the checks refuse; in a bulk file, passes every row they accept.
        assert not (quick and not accepted), values
        if not delta:
            assert quick == accepted, values
        # And the reader's own entry point reports what the full checks report.
        through = ImportReport()
        row = row_of(through, values)
        row.file._check_common(row, checks)
        assert through.errors.total == report.errors.total, values
        assert through.warnings.total == report.warnings.total, values
        assert through.mappings == report.mappings, values

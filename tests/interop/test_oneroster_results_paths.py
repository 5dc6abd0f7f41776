"""results.csv rows are read by a plain path (every value plainly valid) and, for anything else,
by the checked path that names what is wrong: the plain path must accept exactly the rows the
checked path accepts without an error or a mapping to report, and read them the same."""

import datetime as dt
from decimal import Decimal
from typing import cast

import pytest

from interop.oneroster import schema
from interop.oneroster.importer import OneRosterImport
from interop.oneroster.reader import CsvFile, Row
from interop.progress import Progress
from interop.registry import ImportContext
from interop.report import ImportReport
from interop.sources import ImportSource

VALID = {
    "sourcedId": "res-1",
    "status": "active",
    "lineItemSourcedId": "li-1",
    "studentSourcedId": "stu-1",
    "scoreStatus": "fully graded",
    "score": "8",
    "textScore": "",
    "scoreDate": "2026-09-03",
    "comment": "",
    "inProgress": "false",
    "incomplete": "false",
    "late": "false",
    "missing": "false",
}

# Each case changes some columns of VALID (None removes the column).
CASES = [
    {},
    {"score": "7.5004"},
    {"score": "7.5005"},
    {"score": "-0"},
    {"score": "999999.9994"},
    {"score": "1000000"},
    {"score": "-1000000"},
    {"score": "1e3"},
    {"score": "NaN"},
    {"score": "Infinity"},
    {"score": "eight"},
    {"score": ""},
    {"score": None},
    {"score": "", "scoreStatus": "submitted"},
    {"scoreStatus": "partially graded"},
    {"scoreStatus": "exempt"},
    {"scoreStatus": "Fully Graded"},
    {"scoreStatus": ""},
    {"scoreDate": "2026-09-03T10:00:00Z"},
    {"scoreDate": "2026-09-03T25:00:00Z"},
    {"scoreDate": "2026-02-30"},
    {"scoreDate": "03/09/2026"},
    {"scoreDate": ""},
    {"lineItemSourcedId": "li-unknown"},
    {"lineItemSourcedId": ""},
    {"studentSourcedId": "stu-unknown"},
    {"studentSourcedId": None},
    {"textScore": "x" * 60},
    {"textScore": "x" * 61},
    {"missing": "TRUE"},
    {"late": "True", "incomplete": "false"},
    {"inProgress": "true"},
    {"incomplete": "yes"},
    {"late": ""},
    {"missing": None, "late": None},
    {"late": "1", "missing": "0"},
    {"inProgress": "2"},
]


@pytest.fixture
def importer() -> OneRosterImport:
    # These paths read neither the source nor the progress: both stay None.
    context = ImportContext(
        source=cast(ImportSource, None), report=ImportReport(), progress=cast(Progress, None)
    )
    reading = OneRosterImport(context)
    reading.assessments = {"li-1": 11}
    reading.students = {"stu-1": 21}
    return reading


def row_of(importer: OneRosterImport, change: dict) -> Row:
    values = {**VALID, **change}
    values = {name: value for name, value in values.items() if value is not None}
    return Row(CsvFile(importer.context, schema.RESULTS_12, "bulk"), 2, values)


@pytest.mark.parametrize("change", CASES, ids=[repr(c)[:60] for c in CASES])
def test_the_plain_path_reads_what_the_checked_path_accepts(importer, change: dict) -> None:
    plain = importer.result_plain(row_of(importer, change))
    assert importer.report.errors.total == 0  # the plain path never reports: it declines
    checked_row = row_of(importer, change)
    checked = importer.result_checked(checked_row)
    # Accepted by the checks without an error exactly when the plain path reads it, the same;
    # a value the checks read as another (`Fully Graded`, `1`) takes them, to be reported.
    assert checked_row.ok == (importer.report.errors.total == 0)
    assert plain == (checked if checked_row.ok and not importer.report.mappings else None)


def test_the_plain_path_reads_values_as_the_checks_do(importer) -> None:
    fields = importer.result_plain(row_of(importer, {"score": "7.5015", "late": "TRUE"}))
    assert fields == ("li-1", 11, "stu-1", 21, dt.date(2026, 9, 3), Decimal("7.502"), "late")
    assert importer.result_plain(row_of(importer, {"score": "eight"})) is None

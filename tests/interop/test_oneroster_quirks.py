"""Real exports as they come: BOM, CRLF, quoted commas and newlines, any column order, vendor
columns, empty optional fields, dates with a time, a zip with a top folder. Each variant must
import to exactly the records of the plain fixture."""

import csv
import io
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from assessments.models import Score
from students import models as sm
from tests.interop.conftest import FIXTURES, read_csv, run_import
from tests.interop.test_roundtrip import records, wipe

pytestmark = pytest.mark.django_db


def rewrite(folder: Path, change: Callable[[str, list[str], list[list[str]]], tuple]) -> None:
    """Apply change(filename, header, rows) -> (header, rows, encoding, newline) to every CSV."""
    for path in folder.glob("*.csv"):
        with open(path, newline="", encoding="utf-8") as handle:
            header, *rows = list(csv.reader(handle))
        header, rows, bom, newline = change(path.name, header, rows)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator=newline, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(header)
        writer.writerows(rows)
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode())


@pytest.mark.parametrize(
    "quirk",
    ["bom_crlf", "reordered_and_vendor_columns", "quoted_everything", "datetimes"],
)
def test_quirky_exports_import_to_the_same_records(
    tmp_path, quirk, django_db_reset_sequences
) -> None:
    folder = tmp_path / "quirky"
    shutil.copytree(FIXTURES / "v12", folder)

    def change(name: str, header: list[str], rows: list[list[str]]) -> tuple:
        if quirk == "bom_crlf":
            return header, rows, True, "\r\n"
        if quirk == "reordered_and_vendor_columns" and name != "manifest.csv":
            order = list(reversed(range(len(header))))
            header = ["ext_vendor_flag", *(header[i] for i in order), "metadata.district.code"]
            rows = [["x", *(row[i] for i in order), "NV-1"] for row in rows]
            return header, rows, False, "\n"
        if quirk == "quoted_everything":
            return header, rows, False, "\n"
        if quirk == "datetimes" and name in {
            "academicSessions.csv",
            "enrollments.csv",
            "lineItems.csv",
            "results.csv",
        }:
            dated = {"startDate", "endDate", "beginDate", "assignDate", "dueDate", "scoreDate"}
            columns = [i for i, c in enumerate(header) if c in dated]
            for row in rows:
                for i in columns:
                    if row[i] and "T" not in row[i]:
                        row[i] += "T00:00:00.000Z"
            return header, rows, False, "\n"
        return header, rows, False, "\n"

    rewrite(folder, change)
    if quirk == "quoted_everything":
        for path in folder.glob("*.csv"):
            with open(path, newline="") as handle:
                header, *rows = list(csv.reader(handle))
            with open(path, "w", newline="") as handle:
                writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
                writer.writerows([header, *rows])
    outcome = run_import(folder)
    assert outcome.exit_code == 0, outcome.report["errors"]
    quirky = records()
    wipe()
    assert run_import(FIXTURES / "v12").exit_code == 0
    assert quirky == records()


def test_quoted_commas_and_newlines_survive(fixture_copy) -> None:
    folder = fixture_copy()
    rows = read_csv(folder / "results.csv")
    rows[0]["comment"] = 'Good work, Ada.\r\nNext: "mixed numbers".'
    columns = list(rows[0])
    with open(folder / "results.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
    with open(folder / "results.csv", "a", newline="") as handle:
        handle.write("res9,active,,li1,st9,fully graded,5,,2026-09-10,,,,,\r\n")
    outcome = run_import(folder)
    # The bad row after the multi-line record is reported on its own physical line.
    assert outcome.report["errors"][0]["line"] == 6
    edit = read_csv(folder / "results.csv")[:-1]
    with open(folder / "results.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(edit)
    assert run_import(folder).exit_code == 0
    assert (
        Score.objects.get(source_id="res1").comment == 'Good work, Ada.\r\nNext: "mixed numbers".'
    )


def test_empty_optional_fields_and_a_zip_with_a_top_folder(tmp_path) -> None:
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for member in (FIXTURES / "v11").iterdir():
            archive.write(member, f"district-export-2026/{member.name}")
    outcome = run_import(path)
    assert outcome.exit_code == 0, outcome.report["errors"]
    assert sm.Student.objects.get(source_id="st3").middle_name == ""

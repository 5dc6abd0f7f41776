"""Hostile Ed-Fi files: the control file is read as a stream with bounded lines and parsed
without backtracking, an element past the record limit is refused with its file and line, and
what the importer keeps of the files' own words is bounded by the one error limit. Memory and
time are measured by bench/hostile_imports.py, never asserted here."""

import shutil
from pathlib import Path

import pytest

from interop.edfi.loader import Loader
from interop.edfi.service import edfi_import, plan_files
from interop.report import ImportReport
from interop.sources import ImportSource
from students.models import District

from .conftest import FILES

CONTROL = "MainControlFile.ctl"


@pytest.fixture
def base(tmp_path: Path) -> Path:
    folder = tmp_path / "base"
    shutil.copytree(FILES / "base", folder)
    return folder


def errors_of(report: ImportReport, file: str) -> list[dict]:
    return [e for e in report.errors.as_json() if e["file"] == file]


def test_a_control_line_of_100000_characters_is_refused_with_a_clear_error(
    db: None, base: Path
) -> None:
    # This line made the old pattern backtrack for half a minute.
    line = "edfi-xml,StudentParent,x" + " " * 100_000 + "y"
    (base / CONTROL).write_text(f"edfi-xml,StudentParent,Interchange-Student.xml\n{line}\n")
    report = edfi_import(path=base)
    [error] = errors_of(report, CONTROL)
    assert error["line"] == 2
    assert error["message"] == "a control line longer than 4,096 characters (a line names one file)"


def test_a_control_file_line_past_the_record_limit_stops_the_read(
    db: None, base: Path, settings
) -> None:
    settings.TRELLIS_IMPORT_MAX_RECORD_BYTES = 64 * 1024
    with open(base / CONTROL, "wb") as handle:
        handle.write(b"edfi-xml,StudentParent,Interchange-Student.xml\n")
        handle.write(b"edfi-xml,StudentParent," + b"x" * 1_000_000 + b"\n")
        handle.write(b"not a control line\n")
    report = edfi_import(path=base)
    [error] = errors_of(report, CONTROL)
    assert error["line"] == 2
    assert error["message"] == (
        "a line longer than 65,536 bytes, the most one record may take: "
        "the rest of the control file is not read"
    )


def test_a_control_file_larger_than_a_control_file_is_not_read(db: None, base: Path) -> None:
    (base / CONTROL).write_text("edfi-xml,StudentParent,Interchange-Student.xml\n" * 50_000)
    report = ImportReport()
    with ImportSource(base) as source:
        plans = plan_files(source, report)
    assert len(plans) == 4
    [error] = errors_of(report, CONTROL)
    assert error["message"] == (
        "the control file is 2,350,000 bytes; a control file lists the interchange files and "
        "is at most 1,048,576 bytes: it is not read"
    )


def test_a_control_file_that_is_not_utf8_is_an_error_not_a_crash(db: None, base: Path) -> None:
    (base / CONTROL).write_bytes(b"edfi-xml,StudentParent,Interchange-Student.xml\n\xff\xfe\n")
    report = edfi_import(path=base)
    [error] = errors_of(report, CONTROL)
    assert "not UTF-8 text" in str(error["message"])


def test_a_file_listed_again_and_again_is_read_once(db: None, base: Path) -> None:
    # Lines of every form the control file's reader accepts or refuses, then one line repeated.
    (base / CONTROL).write_text(
        "# the order\n"
        "  edfi-xml , StudentParent , Interchange-Student.xml  \r\n"
        "edfi-xml,EducationOrganization,some/folder/Interchange-EdOrg.xml\n"
        "\n"
        "edfi-xml,Student Parent,Interchange-Schedule.xml\n"
        "edfi-xml,Schedule,Interchange-Missing.xml\n"
        + "edfi-xml,StudentParent,Interchange-Student.xml\n"
        * 10_000
    )
    report = ImportReport()
    with ImportSource(base) as source:
        plans = plan_files(source, report)
    names = [plan.name for plan in plans]
    assert names[:2] == ["Interchange-Student.xml", "Interchange-EdOrg.xml"]
    assert len(names) == len(set(names)) == 4
    assert [(e["line"], e["message"]) for e in errors_of(report, CONTROL)] == [
        (
            5,
            "a control line reads edfi-xml,<Interchange>,<file>: "
            "'edfi-xml,Student Parent,Interchange-Schedule.xml'",
        ),
        (6, "Interchange-Missing.xml is not in the upload"),
    ]


def test_the_error_limit_is_one_setting(db: None, base: Path, settings) -> None:
    settings.TRELLIS_IMPORT_ERROR_LIMIT = 7
    (base / CONTROL).write_text("not a control line\n" * 30)
    report = edfi_import(path=base)
    assert len(report.errors.kept) == 7 and report.errors.total == 30


def student_file(folder: Path, student: bytes) -> None:
    (folder / "Interchange-Student.xml").write_bytes(
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<InterchangeStudentParent xmlns="http://ed-fi.org/0100">\n'
        b"  <Student>\n" + student + b"\n  </Student>\n</InterchangeStudentParent>\n"
    )


@pytest.mark.parametrize(
    "inside",
    [
        b"<Name><FirstName>" + b"a" * 200_000 + b"</FirstName></Name>",
        b"<StudentUniqueStateId>S-1</StudentUniqueStateId>" + b"<x/>" * 50_000,
    ],
    ids=["a long text", "many small elements"],
)
def test_an_element_past_the_record_limit_is_refused_with_its_file_and_line(
    db: None, base: Path, settings, inside: bytes
) -> None:
    settings.TRELLIS_IMPORT_MAX_RECORD_BYTES = 64 * 1024
    student_file(base, inside)
    report = edfi_import(path=base)
    [error] = errors_of(report, "Interchange-Student.xml")
    assert error["line"] == 3
    assert error["message"] == (
        "an element longer than 65,536 bytes, the most one record may take: "
        "the rest of the file is not read"
    )


def test_warnings_and_unread_elements_are_kept_up_to_the_error_limit(settings) -> None:
    settings.TRELLIS_IMPORT_ERROR_LIMIT = 5
    loader = Loader(report=ImportReport(), district=District(name="D"))
    for number in range(300):
        loader.warn(f"relation {number} {'r' * 10_000} kept as Other")
        loader.not_read(f"Unknown{number} (not read by this importer)")
    loader.warn("relation 'another' kept as Other")
    assert len(loader.warnings) == len(loader.not_kept) == 5
    assert all(len(message) <= 200 for message in loader.warnings)
    assert (loader.other_warnings, loader.other_not_kept) == (296, 295)

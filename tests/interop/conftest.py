"""Helpers for the OneRoster tests: copies of the hand-made fixture sets to edit per rule, the
import command run as a user runs it, and a snapshot of every table an import writes."""

import csv
import io
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Model

from assessments.models import (
    Assessment,
    AssessmentItem,
    MasteryEstimate,
    MasteryEvidence,
    Score,
    Standard,
    StudentAssessment,
)
from students import models as sm

FIXTURES = Path(__file__).parent / "fixtures"

WRITTEN_MODELS: list[type[Model]] = [
    sm.District,
    sm.School,
    sm.AcademicSession,
    sm.Course,
    sm.Section,
    sm.Student,
    sm.Staff,
    sm.Guardian,
    sm.StudentSchoolMembership,
    sm.StaffSchoolAssignment,
    sm.ContactDetail,
    sm.GuardianRelationship,
    sm.Enrollment,
    sm.SectionAssignment,
    Standard,
    Assessment,
    AssessmentItem,
    StudentAssessment,
    Score,
    MasteryEvidence,
    MasteryEstimate,
]


def db_snapshot() -> dict[str, list[Mapping[str, object]]]:
    """Every row (every column, timestamps included) of every table an import writes."""
    snapshot: dict[str, list[Mapping[str, object]]] = {
        # `_default_manager` is `objects` (each of these models has only that manager); mypy's
        # `type[Model]` has no `objects`.
        model.__name__: list(model._default_manager.order_by("pk").values())
        for model in WRITTEN_MODELS
    }
    snapshot["assessment_standards"] = list(
        Assessment.standards.through.objects.order_by("pk").values()
    )
    return snapshot


@dataclass
class ImportOutcome:
    exit_code: int
    report: dict
    stdout: str
    stderr: str

    def counts(self, entity: str) -> dict[str, int]:
        return self.report["entities"].get(
            entity, {"created": 0, "updated": 0, "deactivated": 0, "unchanged": 0}
        )

    def totals(self) -> dict[str, int]:
        totals = {"created": 0, "updated": 0, "deactivated": 0, "unchanged": 0}
        for counts in self.report["entities"].values():
            for key in totals:
                totals[key] += counts[key]
        return totals


def run_import(path: Path, *args: str) -> ImportOutcome:
    """`import_oneroster PATH --json ...`, its exit status and the JSON (the last stdout line)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    exit_code = 0
    try:
        call_command(
            "import_oneroster",
            str(path),
            "--json",
            "--no-progress",
            *args,
            stdout=stdout,
            stderr=stderr,
        )
    except CommandError as exc:
        exit_code = exc.returncode
    lines = stdout.getvalue().strip().splitlines()
    return ImportOutcome(exit_code, orjson.loads(lines[-1]), stdout.getvalue(), stderr.getvalue())


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> None:
    columns = columns or list(rows[0])
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture
def fixture_copy(tmp_path: Path) -> Callable[[str], Path]:
    """A fresh copy of a fixture set (v11, v12) to edit."""

    def copy(name: str = "v12") -> Path:
        target = tmp_path / name
        shutil.copytree(FIXTURES / name, target)
        return target

    return copy


def edit_rows(folder: Path, filename: str, edit: Callable[[list[dict]], list[dict]]) -> None:
    path = folder / filename
    rows = read_csv(path)
    with open(path, newline="", encoding="utf-8-sig") as handle:
        columns = next(csv.reader(handle))
    write_csv(path, edit(rows), columns)


def set_manifest(folder: Path, **modes: str) -> None:
    """Change manifest entries: set_manifest(folder, enrollments="delta", users="absent")."""
    rows = read_csv(folder / "manifest.csv")
    for row in rows:
        name = row["propertyName"].removeprefix("file.")
        if row["propertyName"].startswith("file.") and name in modes:
            row["value"] = modes[name]
    write_csv(folder / "manifest.csv", rows, ["propertyName", "value"])


def foreign_keys(tables: Sequence[str] | None = None) -> list[tuple]:
    """The foreign keys of `tables` (every table when None), by table, name and definition
    (PostgreSQL): what a bulk load that sets keys aside must put back as it was."""
    where, params = ("AND conrelid = ANY(%s::regclass[])", [list(tables)]) if tables else ("", [])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
            f" FROM pg_constraint WHERE contype = 'f' {where} ORDER BY 1, 2",  # noqa: S608
            params,
        )
        return cursor.fetchall()


def statistics_of_an_empty_district() -> None:
    """ANALYZE the students app's tables, as the test begins with them empty (PostgreSQL).

    The rows a table held when last analysed decide whether a bulk load sets its keys and indexes
    aside (students.bulk_keys), and ANALYZE's figures outlive the rolled-back transactions of
    earlier tests: without this, whether a test's load sets anything aside would depend on
    which tests ran before it in the same process."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename LIKE 'students\\_%%'"
        )
        tables = [name for (name,) in cursor.fetchall()]
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in tables))


def analysed_schools(count: int) -> None:
    """A district with `count` schools, analysed (PostgreSQL): the table size that the bulk
    load rules of students.bulk_keys read."""
    district = sm.District.objects.create(name="D", source_id="d")
    sm.School.objects.bulk_create(
        sm.School(district=district, name=f"S{n}", source_id=f"s{n}") for n in range(count)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE students_school")

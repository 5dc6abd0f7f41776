"""Export → import into an empty database gives the same records (1.2 and 1.1), and the export
is conformant: every file in the standard's column order, declared in the manifest."""

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from assessments.models import (
    Assessment,
    AssessmentItem,
    MasteryEstimate,
    MasteryEvidence,
    Score,
    Standard,
    StudentAssessment,
)
from interop.oneroster import schema
from students import models as sm
from tests.interop.conftest import FIXTURES, run_import

pytestmark = pytest.mark.django_db


def records(*, gradebook: bool = True) -> dict[str, set[Any]]:
    """What the district holds, by natural keys (no primary keys or timestamps)."""
    found: dict[str, set[Any]] = {
        "district": set(sm.District.objects.values_list("source_id", "name", "nces_id")),
        "schools": set(sm.School.objects.values_list("source_id", "name", "school_number")),
        "sessions": set(
            sm.AcademicSession.objects.values_list(
                "source_id",
                "title",
                "kind",
                "school_year",
                "start_date",
                "end_date",
                "parent__source_id",
            )
        ),
        "courses": {
            (
                c.source_id,
                c.title,
                c.course_code,
                c.subject,
                tuple(c.grade_levels),
                c.school.source_id if c.school else None,
            )
            for c in sm.Course.objects.select_related("school")
        },
        "sections": {
            (
                s.source_id,
                s.title,
                s.section_code,
                s.period,
                s.subject,
                s.room,
                tuple(s.grade_levels),
                s.school.source_id,
                s.course.source_id if s.course else None,
                s.session.source_id if s.session else None,
            )
            for s in sm.Section.objects.select_related("school", "course", "session")
        },
        "students": {
            (
                s.source_id,
                s.first_name,
                s.middle_name,
                s.last_name,
                s.preferred_first_name,
                s.student_number,
                s.birth_date,
                s.sex,
                tuple(s.races),
                s.hispanic_or_latino,
            )
            for s in sm.Student.objects.all()
        },
        "staff": set(
            sm.Staff.objects.values_list(
                "source_id", "first_name", "last_name", "staff_number", "kind"
            )
        ),
        "guardians": set(sm.Guardian.objects.values_list("source_id", "first_name", "last_name")),
        "memberships": set(
            sm.StudentSchoolMembership.objects.values_list(
                "student__source_id", "school__source_id", "grade_level", "begin_date", "end_date"
            )
        ),
        "assignments": set(
            sm.StaffSchoolAssignment.objects.values_list(
                "staff__source_id", "school__source_id", "position"
            )
        ),
        "relationships": set(
            sm.GuardianRelationship.objects.values_list(
                "guardian__source_id", "student__source_id", "relationship", "portal_access"
            )
        ),
        "contacts": {
            (
                c.student.source_id if c.student else None,
                c.guardian.source_id if c.guardian else None,
                c.staff.source_id if c.staff else None,
                c.kind,
                c.label,
                c.value,
            )
            for c in sm.ContactDetail.objects.select_related("student", "guardian", "staff")
        },
        "enrollments": set(
            sm.Enrollment.objects.values_list(
                "source_id",
                "student__source_id",
                "section__source_id",
                "begin_date",
                "end_date",
                "is_active",
            )
        ),
        "teaching": set(
            sm.SectionAssignment.objects.values_list(
                "source_id", "staff__source_id", "section__source_id", "is_primary"
            )
        ),
    }
    if gradebook:
        found.update(
            {
                "assessments": set(
                    Assessment.objects.values_list(
                        "source_id",
                        "title",
                        "category",
                        "assigned_on",
                        "due_on",
                        "min_points",
                        "max_points",
                        "section__source_id",
                    )
                ),
                "alignment": set(
                    Assessment.standards.through.objects.values_list(
                        "assessment__source_id", "standard__code"
                    )
                ),
                "standards": set(Standard.objects.values_list("code", "kind")),
                "scores": set(
                    Score.objects.values_list(
                        "student__source_id",
                        "student_assessment__assessment__source_id",
                        "item__code",
                        "points",
                        "status",
                        "scored_on",
                        "comment",
                        "rubric_level",
                    )
                ),
            }
        )
    return found


def wipe() -> None:
    """Empty every table the import writes, children first ("an empty database")."""
    sm.AcademicSession.objects.update(parent=None)
    for model in (
        MasteryEvidence,
        MasteryEstimate,
        Score,
        StudentAssessment,
        AssessmentItem,
        Assessment,
        Standard,
        sm.ContactDetail,
        sm.GuardianRelationship,
        sm.Enrollment,
        sm.SectionAssignment,
        sm.StudentSchoolMembership,
        sm.StaffSchoolAssignment,
        sm.Section,
        sm.Course,
        sm.Guardian,
        sm.Student,
        sm.Staff,
        sm.AcademicSession,
        sm.School,
    ):
        model.objects.all().delete()
    from interop.models import ImportRun

    ImportRun.objects.all().delete()
    from accounts.models import RoleMembership

    RoleMembership.objects.all().delete()
    sm.District.objects.all().delete()


def export(tmp_path: Path, version: str = "1.2", *args: str) -> Path:
    out = tmp_path / f"export-{version}.zip"
    call_command("export_oneroster", str(out), "--version", version, *args, stdout=io.StringIO())
    return out


def test_import_export_import_gives_the_same_records(tmp_path) -> None:
    assert run_import(FIXTURES / "v12").exit_code == 0
    before = records()
    out = export(tmp_path)
    wipe()
    assert sm.Student.objects.count() == 0
    outcome = run_import(out)
    assert outcome.exit_code == 0, outcome.report["errors"]
    assert records() == before


def test_the_1_1_export_round_trips_the_roster(tmp_path) -> None:
    assert run_import(FIXTURES / "v11").exit_code == 0
    before = records()
    out = export(tmp_path, "1.1")
    wipe()
    outcome = run_import(out)
    assert outcome.exit_code == 0, outcome.report["errors"]
    assert records() == before


def test_the_export_is_conformant(tmp_path) -> None:
    assert run_import(FIXTURES / "v12").exit_code == 0
    for version in ("1.1", "1.2"):
        out = export(tmp_path, version)
        with zipfile.ZipFile(out) as archive:
            manifest = dict(csv.reader(io.TextIOWrapper(archive.open("manifest.csv"))))
            assert manifest["oneroster.version"] == version
            for spec in schema.FILES[version]:
                mode = manifest[f"file.{spec.name}"]
                if mode == "absent":
                    assert spec.filename not in archive.namelist()
                    continue
                assert mode == "bulk"
                header = next(csv.reader(io.TextIOWrapper(archive.open(spec.filename))))
                assert tuple(header) == spec.columns, spec.name


def test_one_school_only(tmp_path) -> None:
    assert run_import(FIXTURES / "v12").exit_code == 0
    school = sm.School.objects.get(source_id="s2")
    out = export(tmp_path, "1.2", "--school", str(school.pk))
    with zipfile.ZipFile(out) as archive:
        users = list(csv.DictReader(io.TextIOWrapper(archive.open("users.csv"))))
        classes = list(csv.DictReader(io.TextIOWrapper(archive.open("classes.csv"))))
    assert {u["sourcedId"] for u in users} == {"st3", "t2"}
    assert {c["sourcedId"] for c in classes} == {"cl3"}


def test_the_export_logs_each_student_it_holds_as_a_read_by_district_it(tmp_path) -> None:
    from privacy.models import AccessLogEntry

    assert run_import(FIXTURES / "v12").exit_code == 0
    school = sm.School.objects.get(source_id="s2")
    export(tmp_path, "1.2", "--school", str(school.pk))
    rows = list(AccessLogEntry.objects.all())
    exported = set(sm.Student.objects.filter(source_id="st3").values_list("pk", flat=True))
    assert {row.student_id for row in rows} == exported
    assert {(row.role, row.what, row.path) for row in rows} == {
        ("system", "OneRoster export", "manage.py export_oneroster")
    }
    assert rows[0].purpose == "District IT at the server (manage.py export_oneroster)"

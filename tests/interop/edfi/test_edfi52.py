"""Ed-Fi 5.2 (namespace http://ed-fi.org/5.2.0): a hand-written sample, valid against the 5.2
schemas, imported into the same records as Ed-Fi 1.x."""

import datetime as dt
import io
from pathlib import Path
from typing import cast

import pytest
from django.core.management import call_command
from lxml import etree

from accounts.access import students_visible_to
from accounts.models import User
from interop.edfi.service import edfi_import
from students import models as sm

from .conftest import FILES, REPO

SAMPLE = FILES / "v52"
XSD = REPO.parent / "shared" / "data" / "edfi-5.2-xsd"


def test_the_sample_is_valid_against_the_52_schemas() -> None:
    if not (XSD / "Ed-Fi-Core.xsd").exists():
        pytest.skip(f"the Ed-Fi 5.2 schemas are not at {XSD} (the project never commits them)")
    for path in sorted(SAMPLE.glob("*.xml")):
        document = etree.parse(str(path))
        root = etree.QName(document.getroot()).localname
        schema = etree.XMLSchema(
            etree.parse(str(XSD / f"{root.replace('Interchange', 'Interchange-')}.xsd"))
        )
        assert schema.validate(document), (path.name, str(schema.error_log))


def test_52_sample_imports_into_trellis(db: None) -> None:
    report = edfi_import(path=SAMPLE)
    assert report.ok, report.errors.as_json()
    district = sm.District.objects.get(source_system="edfi", source_id="255901")
    assert district.name == "Grand Bend ISD" and district.state_code == "TX"
    school = sm.School.objects.get(source_id="255901001")
    assert school.level == sm.SchoolLevel.ELEMENTARY and school.grade_levels == ["03", "04"]

    student = sm.Student.objects.get(source_id="604822")
    assert (student.first_name, student.middle_name, student.sex) == ("Lucia", "M", "female")
    section = sm.Section.objects.get()
    assert section.title == "Grade 3 Math (A)"
    assert section.course is not None and section.course.title == "Grade 3 Mathematics"
    assert section.session is not None and section.session.school_year == 2025
    assert set(section.enrollments.values_list("student__source_id", flat=True)) == {
        "604822",
        "604823",
    }
    teacher = sm.Staff.objects.get(source_id="T-207")
    assert (teacher.kind, teacher.title) == (sm.StaffKind.TEACHER, "Grade 3 Teacher")
    assert section.assignments.get().staff == teacher

    mother = sm.GuardianRelationship.objects.get(guardian__source_id="C-9001")
    assert mother.relationship == sm.Relationship.MOTHER and mother.emergency_contact
    father = sm.GuardianRelationship.objects.get(guardian__source_id="C-9002")
    assert father.contact_restricted and not father.portal_access

    absence, tardy = sm.AttendanceEvent.objects.order_by("event_date")
    assert (absence.event_date, absence.category) == (
        dt.date(2024, 9, 3),
        sm.AttendanceCategory.EXCUSED_ABSENCE,
    )
    assert absence.reason == "Doctor appointment" and absence.school_year == 2025
    assert tardy.category == sm.AttendanceCategory.TARDY


def test_52_second_import_changes_nothing_and_teacher_sees_the_section(
    db: None, tmp_path: Path
) -> None:
    assert edfi_import(path=SAMPLE).ok
    again = edfi_import(path=SAMPLE)
    assert again.ok
    assert {
        n: (c.created, c.updated) for n, c in again.counts.items() if c.created or c.updated
    } == {}
    call_command("invite_staff", "T-207", stdout=io.StringIO())
    user = User.objects.get(staff_record__source_id="T-207")
    assert user.email == "rosa.alvarez@grandbend.example"
    assert set(students_visible_to(user).values_list("source_id", flat=True)) == {
        "604822",
        "604823",
    }


def test_52_unknown_section_reference_is_an_error(db: None, tmp_path: Path) -> None:
    target = tmp_path / "set"
    target.mkdir()
    for path in SAMPLE.glob("*.xml"):
        (target / path.name).write_text(path.read_text())
    enrollment = target / "StudentEnrollment.xml"
    enrollment.write_text(enrollment.read_text().replace("MATH-03-A", "MATH-03-Z", 1))
    report = edfi_import(path=target)
    assert not report.ok
    [error] = report.errors.as_json()
    assert error["file"] == "StudentEnrollment.xml"
    assert error["column"] == "StudentSectionAssociation/SectionReference"
    assert "unknown section" in cast(str, error["message"])
    assert not sm.Student.objects.exists()

"""Ed-Fi quirks of real exports: references by XML id/ref, and descriptors in any namespace.

The fixtures are written here: a small Ed-Fi 5.2 district whose references use `ref` within a
file, across files and nested (an attendance event's session names its school by ref), and whose
descriptors come from two namespaces (and an http one, and bare code values).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from interop.edfi import refs
from interop.edfi.descriptors import grade_level
from interop.edfi.service import edfi_import
from interop.report import ImportReport
from students import models as sm

from .conftest import FILES, REPO

XSD = REPO.parent / "shared" / "data" / "edfi-5.2-xsd"
NS = "http://ed-fi.org/5.2.0"


def _doc(root: str, body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{NS}">\n{body}\n</{root}>\n'


CATEGORY = "uri://ed-fi.org/EducationOrganizationCategoryDescriptor#"
LEA_CATEGORY = "uri://ed-fi.org/LocalEducationAgencyCategoryDescriptor#"
EDORG = _doc(
    "InterchangeEducationOrganization",
    f"""
  <LocalEducationAgency id="lea">
    <NameOfInstitution>Ref ISD</NameOfInstitution>
    <EducationOrganizationCategory>{CATEGORY}Local Education Agency</EducationOrganizationCategory>
    <LocalEducationAgencyId>777</LocalEducationAgencyId>
    <LocalEducationAgencyCategory>{LEA_CATEGORY}Independent</LocalEducationAgencyCategory>
  </LocalEducationAgency>
  <School id="sch">
    <NameOfInstitution>Ref Elementary</NameOfInstitution>
    <EducationOrganizationCategory>{CATEGORY}School</EducationOrganizationCategory>
    <SchoolId>777001</SchoolId>
    <GradeLevel>uri://ed-fi.org/GradeLevelDescriptor#Third grade</GradeLevel>
    <GradeLevel>uri://refisd.org/GradeLevelDescriptor#4</GradeLevel>
    <SchoolCategory>uri://refisd.org/SchoolCategoryDescriptor#elementary school</SchoolCategory>
    <LocalEducationAgencyReference ref="lea"/>
  </School>""",
)

CALENDAR = _doc(
    "InterchangeEducationOrgCalendar",
    """
  <Session id="fall">
    <SessionName>Fall 2024</SessionName>
    <SchoolYear>2025</SchoolYear>
    <BeginDate>2024-08-20</BeginDate>
    <EndDate>2024-12-20</EndDate>
    <TermDescriptor>uri://ed-fi.org/TermDescriptor#Fall Semester</TermDescriptor>
    <TotalInstructionalDays>80</TotalInstructionalDays>
    <SchoolReference ref="sch"/>
  </Session>""",
)


def _student(xml_id: str, unique_id: str, first: str, sex: str) -> str:
    return f"""
  <Student id="{xml_id}">
    <StudentUniqueId>{unique_id}</StudentUniqueId>
    <Name><FirstName>{first}</FirstName><LastSurname>Ref</LastSurname></Name>
    <BirthData>
      <BirthDate>2015-01-0{len(first) % 9 + 1}</BirthDate><BirthSex>{sex}</BirthSex>
    </BirthData>
  </Student>"""


STUDENTS = _doc(
    "InterchangeStudent",
    _student("s1", "9001", "Ana", "uri://ed-fi.org/SexDescriptor#Female")
    + _student("s2", "9002", "Ben", "http://refisd.org/SexDescriptor#M")
    + _student("s3", "9003", "Cy", "Female"),
)

# Contacts: the association names its contact by ref within the file and its student by ref to
# another file.
CONTACTS = _doc(
    "InterchangeContact",
    """
  <Contact id="c1">
    <ContactUniqueId>C-1</ContactUniqueId>
    <Name><FirstName>Dora</FirstName><LastSurname>Ref</LastSurname></Name>
  </Contact>
  <StudentContactAssociation>
    <StudentReference ref="s1"/>
    <ContactReference ref="c1"/>
    <Relation>uri://refisd.org/RelationDescriptor#MOTHER</Relation>
  </StudentContactAssociation>
  <StudentContactAssociation>
    <StudentReference><StudentIdentity><StudentUniqueId>9002</StudentUniqueId></StudentIdentity></StudentReference>
    <ContactReference ref="c1"/>
    <Relation>uri://ed-fi.org/RelationDescriptor#Aunt</Relation>
  </StudentContactAssociation>""",
)


def _enrollment(student: str, grade: str) -> str:
    return f"""
  <StudentSchoolAssociation>
    {student}
    <SchoolReference ref="sch"/>
    <EntryDate>2024-08-20</EntryDate>
    <EntryGradeLevel>{grade}</EntryGradeLevel>
  </StudentSchoolAssociation>"""


ENROLLMENT = _doc(
    "InterchangeStudentEnrollment",
    _enrollment('<StudentReference ref="s1"/>', "uri://ed-fi.org/GradeLevelDescriptor#Fourth grade")
    + _enrollment('<StudentReference ref="s2"/>', "uri://refisd.org/GradeLevelDescriptor#4")
    + _enrollment(
        "<StudentReference><StudentIdentity><StudentUniqueId>9003</StudentUniqueId>"
        "</StudentIdentity></StudentReference>",
        "3",
    ),
)

# A session named by ref whose identity names its school by ref: resolved in two steps.
ATTENDANCE = _doc(
    "InterchangeStudentAttendance",
    """
  <StudentSchoolAttendanceEvent>
    <StudentReference ref="s1"/>
    <SchoolReference ref="sch"/>
    <SessionReference ref="fall"/>
    <AttendanceEvent>
      <EventDate>2024-09-03</EventDate>
      <AttendanceEventCategory>uri://refisd.org/AttendanceEventCategoryDescriptor#TARDY</AttendanceEventCategory>
    </AttendanceEvent>
  </StudentSchoolAttendanceEvent>""",
)

FIXTURE = {
    "EducationOrganization.xml": EDORG,
    "EducationOrgCalendar.xml": CALENDAR,
    "Student.xml": STUDENTS,
    "Contact.xml": CONTACTS,
    "StudentEnrollment.xml": ENROLLMENT,
    "StudentAttendance.xml": ATTENDANCE,
}


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _memberships() -> set[tuple[str, str, str]]:
    return set(
        sm.StudentSchoolMembership.objects.values_list(
            "student__source_id", "school__source_id", "grade_level"
        )
    )


def _mappings(report: ImportReport) -> dict[tuple[str, str, str], int]:
    return {
        (cast(str, m["column"]), cast(str, m["from"]), cast(str, m["to"])): cast(int, m["count"])
        for m in report.mappings_json()
    }


def test_refs_within_a_file_across_files_and_nested_resolve(db: None, tmp_path: Path) -> None:
    report = edfi_import(path=_write(tmp_path / "set", FIXTURE))
    assert report.ok, report.errors.as_json()
    assert _memberships() == {
        ("9001", "777001", "04"),
        ("9002", "777001", "04"),
        ("9003", "777001", "03"),
    }
    school = sm.School.objects.get(source_id="777001")
    assert school.grade_levels == ["03", "04"] and school.level == sm.SchoolLevel.ELEMENTARY
    relations = set(
        sm.GuardianRelationship.objects.values_list(
            "student__source_id", "guardian__source_id", "relationship"
        )
    )
    assert relations == {
        ("9001", "C-1", sm.Relationship.MOTHER),
        ("9002", "C-1", sm.Relationship.OTHER_RELATIVE),
    }
    event = sm.AttendanceEvent.objects.get()
    assert (event.student.source_id, event.category) == ("9001", sm.AttendanceCategory.TARDY)
    assert event.school_year == 2025  # from the session named by ref
    session_school = sm.AcademicSession.objects.get().school
    assert session_school is not None and session_school.source_id == "777001"
    assert any("references by ref" in note for note in report.notes)


def test_descriptors_of_two_namespaces_map_and_the_mapping_is_reported(
    db: None, tmp_path: Path
) -> None:
    report = edfi_import(path=_write(tmp_path / "set", FIXTURE))
    assert report.ok, report.errors.as_json()
    sexes = dict(sm.Student.objects.values_list("source_id", "sex"))
    assert sexes == {"9001": "female", "9002": "male", "9003": "female"}
    mappings = _mappings(report)
    grade = "StudentSchoolAssociation/EntryGradeLevel"
    assert mappings[(grade, "uri://ed-fi.org/GradeLevelDescriptor#Fourth grade", "04")] == 1
    assert mappings[(grade, "uri://refisd.org/GradeLevelDescriptor#4", "04")] == 1
    assert mappings[(grade, "3", "03")] == 1
    assert mappings[("School/GradeLevel", "uri://refisd.org/GradeLevelDescriptor#4", "04")] == 1
    assert mappings[("Student/BirthData/BirthSex", "http://refisd.org/SexDescriptor#M", "male")]
    assert mappings[
        (
            "StudentContactAssociation/Relation",
            "uri://refisd.org/RelationDescriptor#MOTHER",
            sm.Relationship.MOTHER,
        )
    ]
    assert mappings[
        (
            "AttendanceEvent/AttendanceEventCategory",
            "uri://refisd.org/AttendanceEventCategoryDescriptor#TARDY",
            sm.AttendanceCategory.TARDY,
        )
    ]
    # Every mapping names the file it was read in.
    files = {m["file"] for m in report.mappings_json()}
    assert "StudentEnrollment.xml" in files and "Student.xml" in files


def test_broken_refs_and_unmappable_descriptors_are_all_listed_and_nothing_is_written(
    db: None, tmp_path: Path
) -> None:
    broken = dict(FIXTURE)
    broken["StudentEnrollment.xml"] = _doc(
        "InterchangeStudentEnrollment",
        _enrollment('<StudentReference ref="nobody"/>', "4")
        + _enrollment('<StudentReference ref="sch"/>', "4")
        + _enrollment('<StudentReference ref="s2"/>', "uri://refisd.org/GradeLevelDescriptor#4b"),
    )
    broken["Contact.xml"] = CONTACTS.replace(
        '<ContactReference ref="c1"/>', '<ContactReference ref="c9"/>', 1
    )
    report = edfi_import(path=_write(tmp_path / "set", broken))
    assert not report.ok
    errors = report.errors.as_json()
    assert len(errors) == 4, errors
    by_line = {(e["file"], e["line"]): cast(str, e["message"]) for e in errors}
    enrollment_lines = [
        n
        for n, line in enumerate(broken["StudentEnrollment.xml"].splitlines(), 1)
        if "<StudentReference" in line
    ]
    assert (
        "no element of this import has id 'nobody'"
        in by_line[("StudentEnrollment.xml", enrollment_lines[0])]
    )
    assert "names a School" in by_line[("StudentEnrollment.xml", enrollment_lines[1])]
    descriptor = next(e for e in errors if "GradeLevelDescriptor" in cast(str, e["message"]))
    assert descriptor["file"] == "StudentEnrollment.xml"
    assert descriptor["column"] == "StudentSchoolAssociation/EntryGradeLevel"
    assert "uri://refisd.org/GradeLevelDescriptor#4b" in cast(str, descriptor["message"])
    assert "Trellis accepts PK, KG or 01-12" in cast(str, descriptor["message"])
    contact = next(e for e in errors if e["file"] == "Contact.xml")
    assert contact["column"] == "StudentContactAssociation/ContactReference"
    assert "'c9'" in cast(str, contact["message"])
    # The run rolled back: nothing was written.
    assert not sm.Student.objects.exists()
    assert not sm.School.objects.exists()
    assert not sm.StudentSchoolMembership.objects.exists()


def test_an_id_given_twice_in_a_file_is_an_error(db: None, tmp_path: Path) -> None:
    files = dict(FIXTURE)
    files["Student.xml"] = STUDENTS.replace('id="s3"', 'id="s2"')
    report = edfi_import(path=_write(tmp_path / "set", files))
    assert not report.ok
    [error] = report.errors.as_json()
    assert error["file"] == "Student.xml" and "second element" in cast(str, error["message"])
    assert not sm.Student.objects.exists()


def test_a_load_without_ref_reads_no_ids(db: None) -> None:
    report = edfi_import(path=FILES / "v52")
    assert report.ok
    assert not any("references by ref" in note for note in report.notes)


def test_ref_in_ed_fi_1x_files(db: None, tmp_path: Path) -> None:
    """Ed-Fi 1.x: a section association names its student and section by ref, and the
    section names its school by ref (nested)."""
    target = tmp_path / "set"
    shutil.copytree(FILES / "base", target)
    student = target / "Interchange-Student.xml"
    student.write_text(student.read_text().replace("<Student>", '<Student id="ada">'))
    edorg = target / "Interchange-EdOrg.xml"
    edorg.write_text(
        edorg.read_text().replace(
            "<EducationOrganization>\n    <StateOrganizationId>Test School",
            '<EducationOrganization id="school">\n    <StateOrganizationId>Test School',
        )
    )
    schedule = target / "Interchange-Schedule.xml"
    text = schedule.read_text().replace("<Section>", '<Section id="math">')
    text = text.replace(
        "<SchoolReference><EducationalOrgIdentity><StateOrganizationId>Test School"
        "</StateOrganizationId></EducationalOrgIdentity></SchoolReference>",
        '<SchoolReference ref="school"/>',
    )
    schedule.write_text(text)
    enrollment = target / "Interchange-Enrollment.xml"
    text = enrollment.read_text()
    start = text.index("<StudentReference>")
    end = text.index("</SectionReference>") + len("</SectionReference>")
    enrollment.write_text(
        text[:start] + '<StudentReference ref="ada"/><SectionReference ref="math"/>' + text[end:]
    )
    report = edfi_import(path=target)
    assert report.ok, report.errors.as_json()
    enrollment_row = sm.Enrollment.objects.get()
    assert enrollment_row.student.source_id == "S-1"
    assert enrollment_row.section.school.source_id == "Test School"


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(by_ref=st.lists(st.booleans(), min_size=6, max_size=6))
def test_random_mixes_of_keys_and_refs_give_the_same_records(
    db: None, tmp_path_factory: pytest.TempPathFactory, by_ref: list[bool]
) -> None:
    students = [("s1", "9001"), ("s2", "9002"), ("s3", "9003")]

    def student(i: int) -> str:
        xml_id, unique = students[i % 3]
        if by_ref[i]:
            return f'<StudentReference ref="{xml_id}"/>'
        return (
            "<StudentReference><StudentIdentity><StudentUniqueId>"
            f"{unique}</StudentUniqueId></StudentIdentity></StudentReference>"
        )

    def school(i: int) -> str:
        if by_ref[(i + 3) % 6]:
            return '<SchoolReference ref="sch"/>'
        return (
            "<SchoolReference><SchoolIdentity><SchoolId>777001</SchoolId>"
            "</SchoolIdentity></SchoolReference>"
        )

    body = "".join(
        f"""
  <StudentSchoolAssociation>
    {student(i)}
    {school(i)}
    <EntryDate>2024-08-20</EntryDate>
    <EntryGradeLevel>uri://ed-fi.org/GradeLevelDescriptor#Fourth grade</EntryGradeLevel>
  </StudentSchoolAssociation>"""
        for i in range(3)
    )
    files = dict(FIXTURE)
    files["StudentEnrollment.xml"] = _doc("InterchangeStudentEnrollment", body)
    report = edfi_import(path=_write(tmp_path_factory.mktemp("mix"), files))
    assert report.ok, report.errors.as_json()
    assert _memberships() == {(sid, "777001", "04") for _x, sid in students}


@pytest.mark.parametrize(
    ("written", "trellis"),
    [
        ("Fourth grade", "04"),
        ("4", "04"),
        ("04", "04"),
        ("Grade 4", "04"),
        ("4th grade", "04"),
        ("kindergarten", "KG"),
        ("K", "KG"),
        ("Pre-K", "PK"),
        ("TWELFTH GRADE", "12"),
        ("Ungraded", "Ungr"),
        ("Grade Four-ish", None),
        ("14", None),
    ],
)
def test_grade_level_aliases(written: str, trellis: str | None) -> None:
    assert grade_level(written) == trellis


def _schema() -> etree.XMLSchema:
    if not (XSD / "Ed-Fi-Core.xsd").exists():
        pytest.skip(f"the Ed-Fi 5.2 schemas are not at {XSD} (the project never commits them)")
    return etree.XMLSchema(etree.parse(str(XSD / "Interchange-Contact.xsd")))


def test_id_and_ref_in_one_file_are_valid_against_the_52_schemas() -> None:
    """The fixture's use of id and ref is the schemas' own (an IDREF to an ID of the file)."""
    schema = _schema()
    document = etree.fromstring(
        CONTACTS.replace(
            '<StudentReference ref="s1"/>',
            (
                "<StudentReference><StudentIdentity><StudentUniqueId>9001</StudentUniqueId>"
                "</StudentIdentity></StudentReference>"
            ),
        ).encode()
    )
    assert schema.validate(document), str(schema.error_log)


def test_the_52_identity_table_matches_the_schemas() -> None:
    """Each referable 5.2 element's identity (XIdentityType) holds the keys refs.py copies."""
    if not (XSD / "Ed-Fi-Core.xsd").exists():
        pytest.skip(f"the Ed-Fi 5.2 schemas are not at {XSD} (the project never commits them)")
    xs = "{http://www.w3.org/2001/XMLSchema}"
    core = etree.parse(str(XSD / "Ed-Fi-Core.xsd")).getroot()
    types = {t.get("name"): t for t in core.iter(f"{xs}complexType")}
    for tag, keys in refs.IDENTITIES_V52.items():
        identity = types[f"{tag}IdentityType"]
        names = [e.get("name") for e in identity.find(f"{xs}sequence").findall(f"{xs}element")]
        assert sorted(names) == sorted(keys), tag
        entity = types[tag]
        children = {e.get("name") for e in entity.iter(f"{xs}element")}
        assert set(keys) <= children, tag

"""Program type and language descriptors are read without their namespace, mapped to Trellis's
values (a program, a language's name), and the mapping is listed in the run's report like every
other descriptor's: file, element path, value as written, Trellis value, count."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import cast

from interop.edfi.descriptors import program_type
from interop.edfi.service import edfi_import
from interop.report import ImportReport
from students import models as sm

from .conftest import FILES

V1 = "http://ed-fi.org/0100"
CONTACT = """<?xml version="1.0" encoding="UTF-8"?>
<InterchangeContact xmlns="http://ed-fi.org/5.2.0">
  <Contact>
    <ContactUniqueId>C-1</ContactUniqueId>
    <Name><FirstName>Elena</FirstName><LastSurname>Reyes</LastSurname></Name>
    <Language>
      <Language>http://district.example/LanguageDescriptor#spa</Language>
      <LanguageUse>uri://ed-fi.org/LanguageUseDescriptor#Home language</LanguageUse>
    </Language>
  </Contact>
</InterchangeContact>
"""


def _mappings(report: ImportReport) -> dict[tuple[str, str, str, str], int]:
    return {
        (
            cast(str, m["file"]),
            cast(str, m["column"]),
            cast(str, m["from"]),
            cast(str, m["to"]),
        ): cast(int, m["count"])
        for m in report.mappings_json()
    }


def _imported(path: Path) -> ImportReport:
    report = edfi_import(path=path)
    assert report.ok, report.errors.as_json()
    return report


def test_52_program_types_are_mapped_and_reported(db: None) -> None:
    report = _imported(FILES / "v52")
    mappings = _mappings(report)
    special = "uri://ed-fi.org/ProgramTypeDescriptor#Special Education"
    assert mappings[("EducationOrganization.xml", "Program/ProgramType", special, "iep")] == 1
    reference = (
        "StudentSpecialEducationProgramAssociation/ProgramReference/ProgramIdentity/ProgramType"
    )
    assert mappings[("StudentProgram.xml", reference, special, "iep")] == 1
    bilingual = "uri://ed-fi.org/ProgramTypeDescriptor#Bilingual"
    reference = (
        "StudentLanguageInstructionProgramAssociation/ProgramReference/ProgramIdentity/ProgramType"
    )
    assert mappings[("StudentProgram.xml", reference, bilingual, sm.Program.ENGLISH_LEARNER)]
    programs = set(
        sm.ProgramParticipation.objects.values_list("student__source_id", "program", "program_name")
    )
    assert ("604822", sm.Program.IEP, "Special Education") in programs
    assert ("604823", sm.Program.ENGLISH_LEARNER, "Dual Language Spanish") in programs


def test_52_contact_languages_are_mapped_and_reported(db: None, tmp_path: Path) -> None:
    folder = tmp_path / "set"
    folder.mkdir()
    shutil.copy(FILES / "v52" / "EducationOrganization.xml", folder)
    (folder / "Contact.xml").write_text(CONTACT, encoding="utf-8")
    report = _imported(folder)
    mappings = _mappings(report)
    key = (
        "Contact.xml",
        "Contact/Language/Language",
        "http://district.example/LanguageDescriptor#spa",
        "Spanish",
    )
    assert mappings[key] == 1
    guardian = sm.Guardian.objects.get(source_system="edfi", source_id="C-1")
    assert guardian.language == "Spanish"


def test_1x_program_types_and_languages_are_mapped_and_reported(db: None, tmp_path: Path) -> None:
    """A 1.x Program's type (an enumeration, or a URI of the district's namespace) and a
    student's Languages/Language (an ISO code) are mapped, stored and reported."""
    folder = tmp_path / "set"
    shutil.copytree(FILES / "base", folder)
    edorg = folder / "Interchange-EdOrg.xml"
    edorg.write_text(
        edorg.read_text().replace(
            "</InterchangeEducationOrganization>",
            """  <Program>
    <ProgramId>P-SPED</ProgramId>
    <ProgramType>Special Education</ProgramType>
  </Program>
  <Program>
    <ProgramId>P-GT</ProgramId>
    <ProgramType>uri://english-isd.example/ProgramTypeDescriptor#Gifted and Talented</ProgramType>
  </Program>
</InterchangeEducationOrganization>""",
        )
    )
    student = folder / "Interchange-Student.xml"
    student.write_text(
        student.read_text().replace(
            "<Sex>Female</Sex>",
            "<Sex>Female</Sex><Languages><Language>spa</Language></Languages>",
        )
    )
    participations = "".join(
        f"""
  <StudentProgramAssociation>
    <StudentReference><StudentIdentity><StudentUniqueStateId>S-1</StudentUniqueStateId></StudentIdentity></StudentReference>
    <ProgramReference><ProgramIdentity><ProgramId>{program}</ProgramId></ProgramIdentity></ProgramReference>
    <BeginDate>2024-09-01</BeginDate>
  </StudentProgramAssociation>"""
        for program in ("P-SPED", "P-GT")
    )
    (folder / "Interchange-StudentProgram.xml").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<InterchangeStudentProgram xmlns="{V1}">'
        f"{participations}\n</InterchangeStudentProgram>\n"
    )
    report = _imported(folder)
    mappings = _mappings(report)
    gifted = "uri://english-isd.example/ProgramTypeDescriptor#Gifted and Talented"
    assert mappings[("Interchange-EdOrg.xml", "Program/ProgramType", "Special Education", "iep")]
    assert mappings[("Interchange-EdOrg.xml", "Program/ProgramType", gifted, sm.Program.GIFTED)]
    assert mappings[("Interchange-Student.xml", "Student/Languages/Language", "spa", "Spanish")]
    # The namespace is not read as part of the type ("english-isd" names no English learners).
    assert set(sm.ProgramParticipation.objects.values_list("program", "program_name")) == {
        (sm.Program.IEP, "P-SPED Special Education"),
        (sm.Program.GIFTED, "P-GT Gifted and Talented"),
    }
    assert sm.Student.objects.get(source_id="S-1").home_language == "Spanish"


def test_program_types_map_to_trellis_programs() -> None:
    assert program_type("Special Education") == sm.Program.IEP
    assert program_type("Section 504 Placement") == sm.Program.SECTION_504
    assert program_type("English as a Second Language (ESL)") == sm.Program.ENGLISH_LEARNER
    assert program_type("Free and Reduced-Price Lunch") == sm.Program.FREE_REDUCED_LUNCH
    assert program_type("Regular Education") == sm.Program.OTHER

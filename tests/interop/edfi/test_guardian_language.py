"""Ed-Fi imports fill a guardian's language: a 5.2 contact's first Language (a descriptor URI read
as a language name), else the home language of their first linked child (lowest student id with
one). A later import naming a language replaces it; one naming none keeps it."""

import shutil
from pathlib import Path

import pytest
from lxml import etree

from interop.edfi.records import language_name
from interop.edfi.service import edfi_import
from interop.report import ImportReport
from students import models as sm

from .conftest import FILES, REPO

XSD = REPO.parent / "shared" / "data" / "edfi-5.2-xsd"
SPANISH = "uri://ed-fi.org/LanguageDescriptor#spa"
ENGLISH = "uri://ed-fi.org/LanguageDescriptor#eng"
VIETNAMESE = "uri://ed-fi.org/LanguageDescriptor#vie"
HOME = "uri://ed-fi.org/LanguageUseDescriptor#Home language"


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("uri://ed-fi.org/LanguageDescriptor#spa", "Spanish"),
        ("uri://ed-fi.org/LanguageDescriptor#vie", "Vietnamese"),
        ("uri://district.example/LanguageDescriptor#chi", "Chinese"),
        ("spa", "Spanish"),
        (" SPA ", "Spanish"),
        ("es", "Spanish"),
        ("zho", "Chinese"),
        ("hat", "Haitian Creole"),
        ("Spanish", "Spanish"),
        ("Mixteco", "Mixteco"),
        ("uri://ed-fi.org/LanguageDescriptor#xyz", "xyz"),
        ("uri://ed-fi.org/LanguageDescriptor#Klingon", "Klingon"),
        ("", ""),
    ],
)
def test_language_names_read_descriptor_uris_and_iso_codes(value: str, name: str) -> None:
    assert language_name(value) == name


# --- Ed-Fi 5.2: a contact's Language ----------------------------------------------------------


def _contact_file(*languages: str) -> str:
    """A Contact (C-1) naming `languages` in order, the mother of student 604822 (Student.xml),
    in the element order Interchange-Contact.xsd requires."""
    named = "".join(
        f"<Language><Language>{language}</Language><LanguageUse>{HOME}</LanguageUse></Language>"
        for language in languages
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<InterchangeContact xmlns="http://ed-fi.org/5.2.0">
  <Contact>
    <ContactUniqueId>C-1</ContactUniqueId>
    <Name><FirstName>Elena</FirstName><LastSurname>Reyes</LastSurname></Name>
    <ElectronicMail>
      <ElectronicMailAddress>elena@example.test</ElectronicMailAddress>
      <ElectronicMailType>uri://ed-fi.org/ElectronicMailTypeDescriptor#Home/Personal</ElectronicMailType>
    </ElectronicMail>
    {named}
  </Contact>
  <StudentContactAssociation>
    <StudentReference><StudentIdentity><StudentUniqueId>604822</StudentUniqueId></StudentIdentity></StudentReference>
    <ContactReference><ContactIdentity><ContactUniqueId>C-1</ContactUniqueId></ContactIdentity></ContactReference>
    <Relation>uri://ed-fi.org/RelationDescriptor#Mother</Relation>
  </StudentContactAssociation>
</InterchangeContact>
"""


def _v52_upload(folder: Path, *languages: str) -> Path:
    """The 5.2 sample's organizations and students, and one contact naming `languages`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("EducationOrganization.xml", "Student.xml"):
        shutil.copy(FILES / "v52" / name, folder / name)
    (folder / "Contact.xml").write_text(_contact_file(*languages), encoding="utf-8")
    return folder


def _imported(path: Path) -> ImportReport:
    report = edfi_import(path=path)
    assert report.ok, report.errors.as_json()
    return report


def _guardian(source_id: str) -> sm.Guardian:
    return sm.Guardian.objects.get(source_system="edfi", source_id=source_id)


def test_the_contact_files_are_valid_against_the_52_schemas(tmp_path: Path) -> None:
    if not (XSD / "Interchange-Contact.xsd").exists():
        pytest.skip(f"the Ed-Fi 5.2 schemas are not at {XSD} (the project never commits them)")
    schema = etree.XMLSchema(etree.parse(str(XSD / "Interchange-Contact.xsd")))
    for languages in [(), (SPANISH,), (SPANISH, ENGLISH)]:
        document = etree.fromstring(_contact_file(*languages).encode())
        assert schema.validate(document), (languages, str(schema.error_log))


def test_a_contacts_first_language_is_stored_as_its_name(db: None, tmp_path: Path) -> None:
    _imported(_v52_upload(tmp_path / "upload", SPANISH, ENGLISH))
    mother = _guardian("C-1")
    assert mother.language == "Spanish"
    # Ed-Fi defines no preferred contact method or time: Trellis's defaults stay.
    assert (mother.contact_method, mother.contact_time) == (
        sm.ContactMethod.EMAIL,
        sm.ContactTime.ANY,
    )


def test_a_contact_without_a_language_gets_the_childs_home_language(
    db: None, tmp_path: Path
) -> None:
    upload = _v52_upload(tmp_path / "upload")
    _imported(upload)
    assert _guardian("C-1").language == ""  # 5.2's Student names no language: nothing to give
    sm.Student.objects.filter(source_id="604822").update(home_language="Somali")
    report = _imported(upload)
    assert _guardian("C-1").language == "Somali"
    assert (
        "guardians: 1 with no language of their own given their first child's home language"
        in report.notes
    )


def test_a_reimport_without_a_language_keeps_it_and_one_with_another_replaces_it(
    db: None, tmp_path: Path
) -> None:
    _imported(_v52_upload(tmp_path / "first", SPANISH))
    assert _guardian("C-1").language == "Spanish"
    # The child's home language differs: the default must not replace a language held.
    sm.Student.objects.filter(source_id="604822").update(home_language="Somali")

    again = _imported(_v52_upload(tmp_path / "without", *()))
    assert _guardian("C-1").language == "Spanish"
    assert again.counts["guardians"].updated == 0

    _imported(_v52_upload(tmp_path / "another", VIETNAMESE, SPANISH))
    assert _guardian("C-1").language == "Vietnamese"


# --- Ed-Fi 1.x: parents name no language; students do --------------------------------------


def _student(key: str, language: str | None) -> str:
    languages = f"<Languages><Language>{language}</Language></Languages>" if language else ""
    return f"""<Student>
    <StudentUniqueStateId>{key}</StudentUniqueStateId>
    <Name><FirstName>Kid</FirstName><LastSurname>{key}</LastSurname></Name>
    <Sex>Female</Sex>
    <BirthData><BirthDate>2014-02-03</BirthDate></BirthData>
    {languages}
  </Student>"""


def _parent(key: str) -> str:
    return f"""<Parent>
    <ParentUniqueStateId>{key}</ParentUniqueStateId>
    <Name><FirstName>Pat</FirstName><LastSurname>{key}</LastSurname></Name>
  </Parent>"""


def _link(student: str, parent: str) -> str:
    return f"""<StudentParentAssociation>
    <StudentReference><StudentIdentity><StudentUniqueStateId>{student}</StudentUniqueStateId></StudentIdentity></StudentReference>
    <ParentReference><ParentIdentity><ParentUniqueStateId>{parent}</ParentUniqueStateId></ParentIdentity></ParentReference>
    <Relation>Mother</Relation>
  </StudentParentAssociation>"""


def _v1_upload(folder: Path, languages: dict[str, str | None]) -> Path:
    """Students S-0..S-3 (created in that order, so by rising id) with `languages`; P-1 the
    parent of S-2 then S-1 (the file names the higher id first), P-2 of S-3 only, P-3 of S-0
    (no language) and S-2."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(FILES / "base" / "Interchange-EdOrg.xml", folder / "Interchange-EdOrg.xml")
    body = "\n  ".join(
        [
            *(_student(key, language) for key, language in languages.items()),
            *(_parent(key) for key in ("P-1", "P-2", "P-3")),
            _link("S-2", "P-1"),
            _link("S-1", "P-1"),
            _link("S-3", "P-2"),
            _link("S-0", "P-3"),
            _link("S-2", "P-3"),
        ]
    )
    (folder / "Interchange-StudentParent.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<InterchangeStudentParent xmlns="http://ed-fi.org/0100">\n  {body}\n'
        "</InterchangeStudentParent>\n",
        encoding="utf-8",
    )
    return folder


def test_a_parent_gets_the_home_language_of_the_first_child_with_one(
    db: None, tmp_path: Path
) -> None:
    languages = {"S-0": None, "S-1": "vie", "S-2": "Spanish", "S-3": None}
    report = _imported(_v1_upload(tmp_path / "upload", languages))
    students = {s.source_id: s for s in sm.Student.objects.filter(source_system="edfi")}
    # The student's home language is read by the same helper: an ISO code becomes a name.
    assert students["S-1"].home_language == "Vietnamese"
    assert students["S-0"].pk < students["S-1"].pk < students["S-2"].pk
    assert _guardian("P-1").language == "Vietnamese"  # S-1, the lower id, not the first link
    assert _guardian("P-2").language == ""  # their only child names no language
    assert _guardian("P-3").language == "Spanish"  # S-0 names none: the next child's
    assert (
        "guardians: 2 with no language of their own given their first child's home language"
        in report.notes
    )


def test_a_defaulted_language_stays_when_the_child_changes_and_a_blank_one_is_filled(
    db: None, tmp_path: Path
) -> None:
    _imported(_v1_upload(tmp_path / "first", {"S-0": None, "S-1": "vie", "S-2": "es", "S-3": None}))
    assert _guardian("P-1").language == "Vietnamese"
    again = _imported(
        _v1_upload(tmp_path / "second", {"S-0": None, "S-1": "kor", "S-2": "es", "S-3": "so"})
    )
    assert _guardian("P-1").language == "Vietnamese"  # held: not replaced by a default
    assert _guardian("P-2").language == "Somali"  # was blank: now their child has one
    assert again.counts["guardians"].updated == 0  # the parents' own records are unchanged


def test_a_dry_run_gives_no_language(db: None, tmp_path: Path) -> None:
    upload = _v1_upload(tmp_path / "upload", {"S-0": None, "S-1": "vie", "S-2": None, "S-3": None})
    _imported(upload)
    sm.Guardian.objects.update(language="")
    report = edfi_import(path=upload, dry_run=True)
    assert report.ok and any(note.startswith("guardians: 1 with no") for note in report.notes)
    assert _guardian("P-1").language == ""

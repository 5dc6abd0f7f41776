"""Ed-Fi 1.x references by XML id/ref to the kinds whose identities nest other references:
student-section associations, discipline incidents, learning standards and objectives, and
gradebook entries (refs.IDENTITIES_V1, as SLI-Ed-Fi-Core.xsd defines each SLC-XIdentityType).

The fixture is written here: a 1.x district (tests/interop/edfi/files/base) with a grade book,
competencies, learning objectives and a discipline incident. Each case gives the records of one
kind an id and replaces every natural-key reference to them with a ref; the import must write
exactly the records the natural keys write.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from django.db import models, transaction
from lxml import etree

from interop.edfi import refs
from interop.edfi.loader import KINDS
from interop.edfi.service import edfi_import

from .conftest import DAYBREAK, FILES

NS = "http://ed-fi.org/0100"
XSD = DAYBREAK / "xsd" / "SLI-Ed-Fi-Core.xsd"


def _doc(root: str, body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{NS}">{body}\n</{root}>\n'


SCHOOL = (
    "<EducationalOrgIdentity><StateOrganizationId>Test School</StateOrganizationId>"
    "</EducationalOrgIdentity>"
)
STUDENT = (
    "<StudentReference><StudentIdentity><StudentUniqueStateId>S-1</StudentUniqueStateId>"
    "</StudentIdentity></StudentReference>"
)
SECTION = (
    f"<SectionReference><SectionIdentity><EducationalOrgReference>{SCHOOL}"
    "</EducationalOrgReference><UniqueSectionCode>Math 1</UniqueSectionCode></SectionIdentity>"
    "</SectionReference>"
)
# Each reference by natural key, as the 1.x identity types spell it.
SECTION_ASSOCIATION = (
    "<StudentSectionAssociationReference><StudentSectionAssociationIdentity>"
    f"{STUDENT}{SECTION}<BeginDate>2024-09-01</BeginDate>"
    "</StudentSectionAssociationIdentity></StudentSectionAssociationReference>"
)
INCIDENT = (
    "<DisciplineIncidentReference><DisciplineIncidentIdentity>"
    "<IncidentIdentifier>INC-1</IncidentIdentifier>"
    f"<EducationalOrgReference>{SCHOOL}</EducationalOrgReference>"
    "</DisciplineIncidentIdentity></DisciplineIncidentReference>"
)
STANDARD = (
    "<LearningStandardReference><LearningStandardIdentity>"
    "<IdentificationCode>CC.4.NF.1</IdentificationCode>"
    "</LearningStandardIdentity></LearningStandardReference>"
)
OBJECTIVE = (
    "<LearningObjectiveReference><LearningObjectiveIdentity>"
    "<Objective>Compare fractions</Objective><AcademicSubject>Mathematics</AcademicSubject>"
    "<ObjectiveGradeLevel>Fourth grade</ObjectiveGradeLevel>"
    "</LearningObjectiveIdentity></LearningObjectiveReference>"
)
GRADEBOOK_ENTRY = (
    "<GradebookEntryReference><GradebookEntryIdentity>"
    f"<GradebookEntryType>Quiz</GradebookEntryType><DateAssigned>2024-09-10</DateAssigned>{SECTION}"
    "</GradebookEntryIdentity></GradebookEntryReference>"
)

METADATA = _doc(
    "InterchangeAssessmentMetadata",
    f"""
  <LearningStandard ID_standard>
    <LearningStandardId><IdentificationCode>CC.4.NF.1</IdentificationCode></LearningStandardId>
    <Description>Explain equivalent fractions</Description>
    <GradeLevel>Fourth grade</GradeLevel>
    <SubjectArea>Mathematics</SubjectArea>
    <ContentStandard>Common Core State Standard</ContentStandard>
  </LearningStandard>
  <LearningObjective ID_objective>
    <LearningObjectiveId><IdentificationCode>LO-FR-1</IdentificationCode></LearningObjectiveId>
    <Objective>Compare fractions</Objective>
    <AcademicSubject>Mathematics</AcademicSubject>
    <ObjectiveGradeLevel>Fourth grade</ObjectiveGradeLevel>
    {STANDARD}
  </LearningObjective>
  <LearningObjective>
    <LearningObjectiveId><IdentificationCode>LO-FR</IdentificationCode></LearningObjectiveId>
    <Objective>Fractions</Objective>
    <AcademicSubject>Mathematics</AcademicSubject>
    <ObjectiveGradeLevel>Fourth grade</ObjectiveGradeLevel>
    {OBJECTIVE}
  </LearningObjective>""",
)

GRADES = _doc(
    "InterchangeStudentGrade",
    f"""
  <GradebookEntry ID_gradebook>
    <GradebookEntryType>Quiz</GradebookEntryType>
    <DateAssigned>2024-09-10</DateAssigned>
    <Description>Fractions quiz</Description>
    {SECTION}
  </GradebookEntry>
  <StudentGradebookEntry>
    {SECTION_ASSOCIATION}
    {GRADEBOOK_ENTRY}
    <DateFulfilled>2024-09-11</DateFulfilled>
    <LetterGradeEarned>B</LetterGradeEarned>
    <NumericGradeEarned>85</NumericGradeEarned>
  </StudentGradebookEntry>
  <StudentCompetency>
    {SECTION_ASSOCIATION}
    {OBJECTIVE}
    <CompetencyLevel><CodeValue>Proficient</CodeValue></CompetencyLevel>
  </StudentCompetency>""",
)

DISCIPLINE = _doc(
    "InterchangeStudentDiscipline",
    f"""
  <DisciplineIncident ID_incident>
    <IncidentIdentifier>INC-1</IncidentIdentifier>
    <IncidentDate>2024-10-01</IncidentDate>
    <IncidentLocation>Playground</IncidentLocation>
    <Behaviors><CodeValue>Fighting</CodeValue></Behaviors>
    <SchoolReference>{SCHOOL}</SchoolReference>
  </DisciplineIncident>
  <StudentDisciplineIncidentAssociation>
    {STUDENT}
    {INCIDENT}
    <StudentParticipationCode>Perpetrator</StudentParticipationCode>
  </StudentDisciplineIncidentAssociation>
  <DisciplineAction>
    <DisciplineActionIdentifier>ACT-1</DisciplineActionIdentifier>
    <Disciplines><CodeValue>Detention</CodeValue></Disciplines>
    <DisciplineDate>2024-10-02</DisciplineDate>
    {STUDENT}
    {INCIDENT}
  </DisciplineAction>""",
)

# Kind → (placeholder of the element's id, the id, its references by natural key).
KINDS_BY_REF = {
    "section association": ("ID_association", "ssa", [SECTION_ASSOCIATION]),
    "discipline incident": ("ID_incident", "incident", [INCIDENT]),
    "learning objective": ("ID_objective", "objective", [OBJECTIVE]),
    "learning standard": ("ID_standard", "standard", [STANDARD]),
    "gradebook entry": ("ID_gradebook", "entry", [GRADEBOOK_ENTRY]),
}


def _fixture(folder: Path, by_ref: str | None) -> Path:
    """The district in `folder`; `by_ref`: the kind whose references are given by ref."""
    shutil.copytree(FILES / "base", folder)
    enrollment = folder / "Interchange-Enrollment.xml"
    enrollment.write_text(
        enrollment.read_text().replace(
            "<StudentSectionAssociation>", "<StudentSectionAssociation ID_association>"
        )
    )
    (folder / "Interchange-AssessmentMetadata.xml").write_text(METADATA)
    (folder / "Interchange-StudentGrade.xml").write_text(GRADES)
    (folder / "Interchange-StudentDiscipline.xml").write_text(DISCIPLINE)
    for path in folder.glob("*.xml"):
        text = path.read_text()
        for kind, (placeholder, xml_id, references) in KINDS_BY_REF.items():
            if kind == by_ref:
                text = text.replace(placeholder, f'id="{xml_id}"')
                for reference in references:
                    name = reference[1 : reference.index(">")]
                    text = text.replace(reference, f'<{name} ref="{xml_id}"/>')
            else:
                text = text.replace(f" {placeholder}", "")
        path.write_text(text)
    return folder


def _value(value: Any) -> Any:
    return tuple(sorted(map(repr, value))) if isinstance(value, list | dict) else value


def _snapshot() -> dict[str, set[tuple[Any, ...]]]:
    """Every row the Ed-Fi kinds write, by its natural values: foreign keys as the source id of
    the row they name, without database ids, uuids and times."""
    found: dict[str, set[tuple[Any, ...]]] = {}
    for model, _prefix, _entity in KINDS.values():
        columns = []
        for field in model._meta.concrete_fields:
            if field.primary_key or isinstance(field, models.DateTimeField | models.UUIDField):
                continue
            if field.is_relation:
                related = field.related_model
                assert related is not None and not isinstance(related, str)
                if any(f.name == "source_id" for f in related._meta.concrete_fields):
                    columns.append(f"{field.name}__source_id")
                continue
            columns.append(field.name)
        found[model.__name__] = {
            tuple(_value(v) for v in row) for row in model._default_manager.values_list(*columns)
        }
    return found


def _imported(folder: Path) -> dict[str, set[tuple[Any, ...]]]:
    """The rows an import of `folder` writes; rolled back afterwards."""
    savepoint = transaction.savepoint()
    try:
        report = edfi_import(path=folder)
        assert report.ok, report.errors.as_json()
        return _snapshot()
    finally:
        transaction.savepoint_rollback(savepoint)


@pytest.mark.parametrize("kind", list(KINDS_BY_REF))
def test_a_1x_ref_to_each_nested_identity_imports_what_natural_keys_do(
    db: None, tmp_path: Path, kind: str
) -> None:
    by_keys = _imported(_fixture(tmp_path / "keys", None))
    assert by_keys["StudentCompetency"] and by_keys["StudentDisciplineIncident"]
    assert by_keys["DisciplineAction"] and by_keys["StudentAssessment"]
    folder = _fixture(tmp_path / "refs", kind)
    written = "".join(p.read_text() for p in folder.glob("*.xml"))
    xml_id = KINDS_BY_REF[kind][1]
    assert f'id="{xml_id}"' in written and f'ref="{xml_id}"' in written
    assert _imported(folder) == by_keys


def test_a_1x_ref_to_a_section_association_names_a_missing_one_with_its_line(
    db: None, tmp_path: Path
) -> None:
    folder = _fixture(tmp_path / "set", "section association")
    grades = folder / "Interchange-StudentGrade.xml"
    text = grades.read_text().replace('ref="ssa"', 'ref="ssa-9"', 1)
    grades.write_text(text)
    report = edfi_import(path=folder)
    assert not report.ok
    [error] = report.errors.as_json()
    line = next(n for n, row in enumerate(text.splitlines(), 1) if 'ref="ssa-9"' in row)
    assert (error["file"], error["line"]) == ("Interchange-StudentGrade.xml", line)
    assert "no element of this import has id 'ssa-9'" in str(error["message"])


def test_the_1x_identity_table_matches_the_sli_schemas() -> None:
    """Each kind added for nested identities copies the parts its SLC-XIdentityType lists,
    from elements its entity type has."""
    if not XSD.exists():
        pytest.skip(f"the inBloom 1.x schemas are not at {XSD} (the project never commits them)")
    xs = "{http://www.w3.org/2001/XMLSchema}"
    core = etree.parse(str(XSD)).getroot()
    types = {t.get("name"): t for t in core.iter(f"{xs}complexType")}
    for tag in (
        "StudentSectionAssociation",
        "DisciplineIncident",
        "LearningStandard",
        "LearningObjective",
        "GradebookEntry",
    ):
        identity, pairs = refs.IDENTITIES_V1[tag]
        listed = [e.get("name") for e in types[f"SLC-{identity}Type"].iter(f"{xs}element")]
        assert listed == [part for part, _child in pairs], tag
        entity = {e.get("name") for e in types[f"SLC-{tag}"].iter(f"{xs}element")}
        assert {child.split("/")[0] for _part, child in pairs} <= entity, tag

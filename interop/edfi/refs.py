"""References by XML id and ref: `<StudentReference ref="S1"/>` for the Student with id="S1".

The Ed-Fi interchange schemas give every entity an `id` attribute (ComplexObjectType) and every
reference a `ref` attribute (ReferenceType, an IDREF) that may stand instead of the identity it
would otherwise repeat (Ed-Fi-Core.xsd: "Use XML IDREF to reference a record that is included in
the interchange"). A load resolves them within a file and across its files.

Only when a file of the load holds a `ref` attribute does the load read the ids (`IdMap.collect`,
one extra read of the files that hold an `id`): each id of an element some reference can name is
kept with that element's identity, its natural key as the reference would write it (a few short
strings, never the element). Before an element is read, `IdMap.expand` writes the identity into
each of its references given by `ref`, so the readers (v1.py, v52.py) read natural keys as ever.
A `ref` to an id found nowhere, or to an element of another kind, is an error at its line.

Size (measured with tracemalloc): an entry is about 0.6 KiB for a Student or Contact (its id, its
tag, one unique id), 1.3 KiB for a StudentSectionAssociation whose references are spelled out
(0.8 KiB when they are refs themselves); equal nested parts (the section many associations name)
are kept once. Per 10,000 students: about 12 MiB when students and contacts carry ids; about
100 MiB more when each of some 70,000 section associations does too. Elements no reference can
name (attendance events, the largest volume) are never kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

from lxml import etree

from interop.edfi.xml import NS_V1, Node, iter_top_elements
from interop.sources import ImportSource, RecordTooLarge

# A frozen element: (local name, text, ref attribute, children).
Frozen = tuple[str, str, str | None, tuple["Frozen", ...]]

# Ed-Fi 5.2: an entity's identity (XIdentityType) holds the entity's own key elements, by the
# same names (checked against Ed-Fi-Core.xsd by tests/interop/edfi/test_id_ref.py).
IDENTITIES_V52: dict[str, tuple[str, ...]] = {
    "School": ("SchoolId",),
    "LocalEducationAgency": ("LocalEducationAgencyId",),
    "StateEducationAgency": ("StateEducationAgencyId",),
    "Student": ("StudentUniqueId",),
    "Staff": ("StaffUniqueId",),
    "Contact": ("ContactUniqueId",),
    "Course": ("CourseCode", "EducationOrganizationReference"),
    "Session": ("SessionName", "SchoolYear", "SchoolReference"),
    "CourseOffering": ("LocalCourseCode", "SchoolReference", "SessionReference"),
    "Section": ("SectionIdentifier", "CourseOfferingReference"),
    "Calendar": ("CalendarCode", "SchoolReference", "SchoolYear"),
    "GradingPeriod": ("SchoolReference", "GradingPeriod", "GradingPeriodName", "SchoolYear"),
    "Program": ("EducationOrganizationReference", "ProgramName", "ProgramType"),
    "Cohort": ("CohortIdentifier", "EducationOrganizationReference"),
    "DisciplineIncident": ("IncidentIdentifier", "SchoolReference"),
    "StudentDisciplineIncidentBehaviorAssociation": (
        "StudentReference",
        "DisciplineIncidentReference",
        "Behavior",
    ),
    "StudentSectionAssociation": ("StudentReference", "SectionReference", "BeginDate"),
    "StudentAcademicRecord": (
        "StudentReference",
        "EducationOrganizationReference",
        "SchoolYear",
        "Term",
    ),
    "Grade": ("GradeType", "StudentSectionAssociationReference", "GradingPeriodReference"),
    "GradebookEntry": ("GradebookEntryIdentifier", "Namespace"),
    "LearningStandard": ("LearningStandardId",),
    "Assessment": ("AssessmentIdentifier", "Namespace"),
    "ObjectiveAssessment": ("IdentificationCode", "AssessmentReference"),
    "AssessmentItem": ("IdentificationCode", "AssessmentReference"),
}
EDORGS_V52 = {"School", "LocalEducationAgency", "StateEducationAgency"}

# Ed-Fi 1.x (inBloom's SLI schemas): an identity names its parts differently from the entity,
# so each is (identity element, ((identity child, entity child path), ...)), as each
# SLC-XIdentityType of SLI-Ed-Fi-Core.xsd lists them (tests/interop/edfi/test_id_ref_v1.py).
_EDORG_V1 = ("EducationalOrgIdentity", (("StateOrganizationId", "StateOrganizationId"),))
_STAFF_V1 = ("StaffIdentity", (("StaffUniqueStateId", "StaffUniqueStateId"),))
IDENTITIES_V1: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "EducationOrganization": _EDORG_V1,
    "StateEducationAgency": _EDORG_V1,
    "LocalEducationAgency": _EDORG_V1,
    "School": _EDORG_V1,
    "Student": ("StudentIdentity", (("StudentUniqueStateId", "StudentUniqueStateId"),)),
    "Staff": _STAFF_V1,
    "Teacher": _STAFF_V1,
    "Parent": ("ParentIdentity", (("ParentUniqueStateId", "ParentUniqueStateId"),)),
    "Section": (
        "SectionIdentity",
        (
            ("EducationalOrgReference", "SchoolReference"),
            ("UniqueSectionCode", "UniqueSectionCode"),
        ),
    ),
    "Session": (
        "SessionIdentity",
        (
            ("EducationalOrgReference", "EducationOrganizationReference"),
            ("SessionName", "SessionName"),
        ),
    ),
    "Course": (
        "CourseIdentity",
        (
            ("EducationalOrgReference", "EducationOrganizationReference"),
            ("UniqueCourseId", "UniqueCourseId"),
            ("CourseCode", "CourseCode"),
        ),
    ),
    "GradingPeriod": (
        "GradingPeriodIdentity",
        (
            ("EducationalOrgReference", "EducationOrganizationReference"),
            ("GradingPeriod", "GradingPeriod"),
            ("BeginDate", "BeginDate"),
        ),
    ),
    "Program": ("ProgramIdentity", (("ProgramId", "ProgramId"),)),
    "Cohort": (
        "CohortIdentity",
        (
            ("EducationalOrgReference", "EducationOrgReference"),
            ("CohortIdentifier", "CohortIdentifier"),
        ),
    ),
    "Assessment": (
        "AssessmentIdentity",
        (
            ("AssessmentTitle", "AssessmentTitle"),
            ("GradeLevelAssessed", "GradeLevelAssessed"),
            ("Version", "Version"),
        ),
    ),
    "StudentSectionAssociation": (
        "StudentSectionAssociationIdentity",
        (
            ("StudentReference", "StudentReference"),
            ("SectionReference", "SectionReference"),
            ("BeginDate", "BeginDate"),
        ),
    ),
    "DisciplineIncident": (
        "DisciplineIncidentIdentity",
        (
            ("IncidentIdentifier", "IncidentIdentifier"),
            ("EducationalOrgReference", "SchoolReference"),
        ),
    ),
    "LearningStandard": (
        "LearningStandardIdentity",
        (("IdentificationCode", "LearningStandardId/IdentificationCode"),),
    ),
    # Named by its words, subject and grade (the loader's alias), not by its LearningObjectiveId.
    "LearningObjective": (
        "LearningObjectiveIdentity",
        (
            ("Objective", "Objective"),
            ("AcademicSubject", "AcademicSubject"),
            ("ObjectiveGradeLevel", "ObjectiveGradeLevel"),
        ),
    ),
    "GradebookEntry": (
        "GradebookEntryIdentity",
        (
            ("GradebookEntryType", "GradebookEntryType"),
            ("DateAssigned", "DateAssigned"),
            ("SectionReference", "SectionReference"),
        ),
    ),
}
EDORGS_V1 = {"EducationOrganization", "StateEducationAgency", "LocalEducationAgency", "School"}
# 1.x names a reference to an organization in many ways; each reads an EducationalOrgIdentity.
_EDORG_REFERENCES_V1 = (
    "SchoolReference",
    "OrgReference",
    "OrganizationReference",
    "AgencyReference",
)

# Whether the files use ref at all: a ref attribute (after whitespace, before '='). The search
# starts at the name (a literal is searched at GB/s) and checks the byte before it.
_REF_ATTRIBUTE = re.compile(rb"ref\s*=")
_ID_ATTRIBUTE = re.compile(rb"id\s*=")
_CHUNK = 1 << 20
# How deep references given by ref may nest (a Grade's section association's section's offering's
# session's school): deeper is a cycle.
MAX_DEPTH = 8


def _file_holds(stream: IO[bytes], pattern: re.Pattern[bytes]) -> bool:
    tail = b""
    while chunk := stream.read(_CHUNK):
        text = tail + chunk
        for match in pattern.finditer(text):
            if match.start() > 0 and text[match.start() - 1 : match.start()].isspace():
                return True
        tail = chunk[-16:]
    return False


def _freeze(element: etree._Element, interned: dict[Frozen, Frozen]) -> Frozen:
    """The element as tuples; equal parts (a section many associations name) are kept once."""
    frozen: Frozen = (
        etree.QName(element).localname,
        " ".join((element.text or "").split()),
        element.get("ref"),
        tuple(_freeze(child, interned) for child in element if isinstance(child.tag, str)),
    )
    return interned.setdefault(frozen, frozen)


@dataclass(frozen=True)
class Problem:
    line: int | None
    column: str
    message: str


class IdMap:
    """The load's ids: id → (file number, element tag, identity element, identity parts)."""

    def __init__(self) -> None:
        self.entries: dict[str, tuple[int, str, str, tuple[Frozen, ...]]] = {}
        self.files: list[str] = []
        # Ids given in more than one file: file number → entry (rare; a ref then takes its own
        # file's, and is an error from a third file).
        self.shared: dict[str, dict[int, tuple[int, str, str, tuple[Frozen, ...]]]] = {}
        self.interned: dict[Frozen, Frozen] = {}

    @classmethod
    def collect(
        cls,
        source: ImportSource,
        plans: Iterable[tuple[str, str]],
        problems: list[tuple[str, Problem]],
    ) -> IdMap | None:
        """The ids of the files (name, namespace) when one of them uses ref; None when none
        does (nothing more is read). Problems (an id given twice in a file) are appended."""
        plans = list(plans)
        using = False
        for name, _ns in plans:
            with source.open_binary(name) as handle:
                if _file_holds(handle, _REF_ATTRIBUTE):
                    using = True
                    break
        if not using:
            return None
        ids = cls()
        for name, namespace in plans:
            with source.open_binary(name) as handle:
                if not _file_holds(handle, _ID_ATTRIBUTE):
                    continue
            ids._read(source, name, namespace, problems)
        return ids

    def _read(
        self, source: ImportSource, name: str, namespace: str, problems: list[tuple[str, Problem]]
    ) -> None:
        number = len(self.files)
        self.files.append(name)
        v1 = namespace == NS_V1
        wanted = set(IDENTITIES_V1 if v1 else IDENTITIES_V52)
        with source.open_binary(name) as handle:
            try:
                for node in iter_top_elements(handle, wanted):
                    xml_id = node.element.get("id")
                    if not xml_id:
                        continue
                    entry = (number, *self._identity(node, v1, self.interned))
                    known = self.entries.get(xml_id)
                    if known is None:
                        self.entries[xml_id] = entry
                    elif known[0] == number or number in self.shared.get(xml_id, {}):
                        problems.append(
                            (
                                name,
                                Problem(
                                    node.line,
                                    node.tag,
                                    f"id {xml_id!r} is given to a second element in this file",
                                ),
                            )
                        )
                    else:
                        self.shared.setdefault(xml_id, {known[0]: known})[number] = entry
            except (etree.XMLSyntaxError, RecordTooLarge):
                return  # reported when the file is read

    @staticmethod
    def _identity(
        node: Node, v1: bool, interned: dict[Frozen, Frozen]
    ) -> tuple[str, str, tuple[Frozen, ...]]:
        parts: list[Frozen] = []
        if v1:
            identity, pairs = IDENTITIES_V1[node.tag]
        else:
            identity = f"{node.tag}Identity"
            pairs = tuple((name, name) for name in IDENTITIES_V52[node.tag])
        for part, child in pairs:
            found = node.element.find(node._path(child))
            if found is not None:
                frozen = _freeze(found, interned)
                parts.append((part, frozen[1], frozen[2], frozen[3]))
        return node.tag, identity, tuple(parts)

    def _entry(self, xml_id: str, file: str) -> tuple[int, str, str, tuple[Frozen, ...]] | str:
        shared = self.shared.get(xml_id)
        if shared is not None:
            number = self.files.index(file) if file in self.files else -1
            if number in shared:
                return shared[number]
            names = ", ".join(self.files[n] for n in sorted(shared))
            return f"id {xml_id!r} is given in several files ({names}): this ref cannot tell which"
        entry = self.entries.get(xml_id)
        if entry is None:
            return f"no element of this import has id {xml_id!r}"
        return entry

    def expand(self, node: Node, file: str) -> list[Problem]:
        """Write into `node` the identity of each reference it gives by ref; the problems
        (a ref to no id, to another kind of element, a cycle) with their lines."""
        problems: list[Problem] = []
        v1 = node.ns == NS_V1
        for _depth in range(MAX_DEPTH):
            pending = node.element.xpath("descendant-or-self::*[@ref]")
            if not pending:
                return problems
            for element in pending:
                problem = self._expand_one(node, element, file, v1)
                if problem is not None:
                    problems.append(problem)
                del element.attrib["ref"]
        problems.append(
            Problem(node.line, node.tag, f"references by ref nest deeper than {MAX_DEPTH}: a cycle")
        )
        return problems

    def _expand_one(
        self, node: Node, element: etree._Element, file: str, v1: bool
    ) -> Problem | None:
        xml_id = element.get("ref") or ""
        name = etree.QName(element).localname
        column = f"{node.tag}/{name}" if element is not node.element else node.tag
        line = element.sourceline or node.line
        entry = self._entry(xml_id, file)
        if isinstance(entry, str):
            return Problem(line, column, f"{name} ref={xml_id!r}: {entry}")
        _number, target, identity, parts = entry
        if not _fits(name, target, v1):
            return Problem(
                line,
                column,
                f"{name} ref={xml_id!r} names a {target}, which a {name} cannot refer to",
            )
        if any(isinstance(child.tag, str) for child in element):
            return None  # the identity is given as well: it is read as given
        if not v1 and target in EDORGS_V52 and name.endswith("EducationOrganizationReference"):
            identity = "EducationOrganizationIdentity"
            parts = tuple(("EducationOrganizationId", *part[1:]) for part in parts)
        holder = etree.SubElement(element, f"{{{node.ns}}}{identity}")
        for part in parts:
            _thaw(holder, part, node.ns)
        return None


def _fits(reference: str, target: str, v1: bool) -> bool:
    """Whether a reference element of this name may name an element of this tag."""
    if reference.endswith(f"{target}Reference"):
        return True
    if v1:
        if target in EDORGS_V1:
            return reference.endswith(_EDORG_REFERENCES_V1)
        return target in {"Staff", "Teacher"} and reference.endswith(
            ("StaffReference", "TeacherReference")
        )
    return target in EDORGS_V52 and reference.endswith("EducationOrganizationReference")


def _thaw(parent: etree._Element, frozen: Frozen, ns: str) -> None:
    name, text, ref, children = frozen
    element = etree.SubElement(parent, f"{{{ns}}}{name}")
    if text:
        element.text = text
    if ref is not None:
        element.set("ref", ref)
    for child in children:
        _thaw(element, child, ns)

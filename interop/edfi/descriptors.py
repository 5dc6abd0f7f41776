"""Ed-Fi descriptors as Trellis's values, whatever namespace the district writes them in.

A descriptor is a namespace and a code value: `uri://ed-fi.org/GradeLevelDescriptor#Fourth grade`,
`uri://mydistrict.org/GradeLevelDescriptor#4`, `http://sis.example/GradeLevelDescriptor#04`, or the
bare code value (Ed-Fi 1.x enumerations). Trellis reads the code value, case-insensitively, with
the aliases districts use ("4", "Grade 4", "4th grade" and "Fourth grade" are all grade 04).

Each kind here maps to a Trellis value. Grade levels are a closed set: a value that is none of
them is an error (DescriptorError, which the readers report with file and line). The others
have an "other" value in Trellis, which an unknown code value maps to (a language not listed
is kept as its code value). Node.descriptor (interop.edfi.xml) reads a descriptor and counts
what it was mapped to, for the run's report.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from interop.edfi.records import language_name
from students import models as sm

_URI = re.compile(r"^(?:uri|https?)://[^#\s]*#", re.IGNORECASE)


def code_value(text: str) -> str:
    """The code value of a descriptor, without its namespace (any `uri://`, `http://` or
    `https://` namespace followed by '#'); a bare code value as given."""
    value = text.strip()
    match = _URI.match(value)
    return value[match.end() :].strip() if match else value


class DescriptorError(ValueError):
    """A descriptor Trellis cannot map: the message names the value and what Trellis accepts."""


# --- grade levels ------------------------------------------------------------------------

_ORDINAL_WORDS = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
]
_GRADE_ALIASES: dict[str, str] = {
    "pk": "PK",
    "p": "PK",
    "prek": "PK",
    "pre-k": "PK",
    "pre-kindergarten": "PK",
    "prekindergarten": "PK",
    "preschool": "PK",
    "preschool/prekindergarten": "PK",
    "infant/toddler": "PK",
    "early education": "PK",
    "kg": "KG",
    "k": "KG",
    "kindergarten": "KG",
    "transitional kindergarten": "KG",
    "tk": "KG",
}
for _number, _word in enumerate(_ORDINAL_WORDS, start=1):
    _code = f"{_number:02d}"
    _suffix = {1: "st", 2: "nd", 3: "rd"}.get(_number, "th")
    for _alias in (
        f"{_word} grade",
        _word,
        str(_number),
        _code,
        f"grade {_number}",
        f"grade {_code}",
        f"{_number}{_suffix}",
        f"{_number}{_suffix} grade",
        f"g{_number}",
        f"g{_code}",
    ):
        _GRADE_ALIASES[_alias] = _code
# Ed-Fi grade levels outside Trellis's range: kept as given (cut to the four characters a grade
# level holds), as before descriptors were mapped.
_GRADES_KEPT = {"ungraded", "adult education", "postsecondary", "other", "grade 13", "13"}
GRADE_LEVELS_ACCEPTED = (
    "PK, KG or 01-12, written as a code ('04', '4', 'K'), as Ed-Fi names them ('Fourth grade', "
    "'Kindergarten') or as 'Grade 4' / '4th grade'; Ungraded, Adult Education, Postsecondary "
    "and Other are kept as given"
)


def grade_level(code: str) -> str | None:
    """A grade level's Trellis code ('Fourth grade', '4', 'grade 04' → '04'), None if none."""
    lowered = " ".join(code.lower().split())
    if not lowered:
        return ""
    mapped = _GRADE_ALIASES.get(lowered)
    if mapped is not None:
        return mapped
    if lowered in _GRADES_KEPT:
        return code.strip()[:4]
    return None


# --- kinds with an "other" value in Trellis --------------------------------------------------

ATTENDANCE = {
    "in attendance": sm.AttendanceCategory.PRESENT,
    "present": sm.AttendanceCategory.PRESENT,
    "excused absence": sm.AttendanceCategory.EXCUSED_ABSENCE,
    "unexcused absence": sm.AttendanceCategory.UNEXCUSED_ABSENCE,
    "tardy": sm.AttendanceCategory.TARDY,
    "early departure": sm.AttendanceCategory.EARLY_DEPARTURE,
}
RELATIONS = {
    "mother": sm.Relationship.MOTHER,
    "father": sm.Relationship.FATHER,
    "stepmother": sm.Relationship.MOTHER,
    "stepfather": sm.Relationship.FATHER,
    "guardian": sm.Relationship.GUARDIAN,
    "court appointed guardian": sm.Relationship.GUARDIAN,
    "legal guardian": sm.Relationship.GUARDIAN,
    "grandparent": sm.Relationship.OTHER_RELATIVE,
    "grandmother": sm.Relationship.OTHER_RELATIVE,
    "grandfather": sm.Relationship.OTHER_RELATIVE,
    "aunt": sm.Relationship.OTHER_RELATIVE,
    "uncle": sm.Relationship.OTHER_RELATIVE,
    "sibling": sm.Relationship.OTHER_RELATIVE,
    "brother": sm.Relationship.OTHER_RELATIVE,
    "sister": sm.Relationship.OTHER_RELATIVE,
    "other relative": sm.Relationship.OTHER_RELATIVE,
}
STAFF_KINDS = {
    "teacher": sm.StaffKind.TEACHER,
    "substitute teacher": sm.StaffKind.TEACHER,
    "principal": sm.StaffKind.ADMINISTRATOR,
    "assistant principal": sm.StaffKind.ADMINISTRATOR,
    "school administrator": sm.StaffKind.ADMINISTRATOR,
    "counselor": sm.StaffKind.COUNSELOR,
    "instructional aide": sm.StaffKind.AIDE,
    "superintendent": sm.StaffKind.DISTRICT,
    "lea administrator": sm.StaffKind.DISTRICT,
    "lea system administrator": sm.StaffKind.DISTRICT,
    "lea specialist": sm.StaffKind.DISTRICT,
}
SCHOOL_LEVELS = {
    "elementary school": sm.SchoolLevel.ELEMENTARY,
    "middle school": sm.SchoolLevel.MIDDLE,
    "junior high school": sm.SchoolLevel.MIDDLE,
    "high school": sm.SchoolLevel.HIGH,
    "senior high school": sm.SchoolLevel.HIGH,
}
SEXES = {
    "male": "male",
    "m": "male",
    "female": "female",
    "f": "female",
    "non-binary": "nonbinary",
    "nonbinary": "nonbinary",
    "not selected": "",
}


def _keyed(table: Mapping[str, str], default: str) -> Callable[[str], str]:
    def mapped(code: str) -> str:
        return str(table.get(" ".join(code.lower().split()), default))

    return mapped


def sex(code: str) -> str:
    """'Female' → 'female'; a value Trellis does not hold is kept as not given ('')."""
    return SEXES.get(code.strip().lower(), "")


def program_type(code: str) -> str:
    """The Trellis program a ProgramTypeDescriptor's code value names ('Special Education' →
    iep, 'Bilingual' → English learner…); any other program is Trellis's "other"."""
    lowered = code.lower()
    if "special education" in lowered or "iep" in lowered:
        return sm.Program.IEP
    if "504" in lowered:
        return sm.Program.SECTION_504
    if "english" in lowered or "bilingual" in lowered:
        return sm.Program.ENGLISH_LEARNER
    if "gifted" in lowered:
        return sm.Program.GIFTED
    if "lunch" in lowered or "free" in lowered:
        return sm.Program.FREE_REDUCED_LUNCH
    return sm.Program.OTHER


GRADE_LEVEL = "GradeLevel"
PROGRAM_TYPE = "ProgramType"
LANGUAGE = "Language"
# Kind → how its code value maps to Trellis's value. Only grade levels can be unmappable.
MAPPERS: dict[str, Callable[[str], str | None]] = {
    GRADE_LEVEL: grade_level,
    "Sex": sex,
    "AttendanceEventCategory": _keyed(ATTENDANCE, sm.AttendanceCategory.OTHER),
    "Relation": _keyed(RELATIONS, sm.Relationship.OTHER),
    "StaffClassification": _keyed(STAFF_KINDS, sm.StaffKind.OTHER),
    "SchoolCategory": _keyed(SCHOOL_LEVELS, sm.SchoolLevel.OTHER),
    PROGRAM_TYPE: program_type,
    # A language's name ('spa' → 'Spanish'); a code or name not listed is kept as written.
    LANGUAGE: language_name,
}
ACCEPTED = {GRADE_LEVEL: GRADE_LEVELS_ACCEPTED}


def trellis_value(kind: str, text: str) -> str:
    """The Trellis value of descriptor `text` of `kind`, or DescriptorError."""
    code = code_value(text)
    mapped = MAPPERS[kind](code)
    if mapped is None:
        raise DescriptorError(
            f"{kind}Descriptor {text!r} is not one Trellis holds; Trellis accepts {ACCEPTED[kind]}"
        )
    return mapped

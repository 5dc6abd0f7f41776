"""The subgroups a student belongs to on a day, as the rollups count them and the pages name them.

Keys: "all" (every student); "iep", "504", "el" (English learner) and "frl" (free or reduced
lunch) from the student's programme participations in force that day (dated spans, as
students.models.in_force reads them); "race:<category>" for each of Student.races;
"ethnicity:hispanic" when Student.hispanic_or_latino; "sex:<code>" when Student.sex is given.
Grade is not a subgroup: the rollups key it from the school membership in force that day.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from students.models import Program, ProgramParticipation, Sex, Student

ALL = "all"
HISPANIC = "ethnicity:hispanic"
RACE_PREFIX = "race:"
SEX_PREFIX = "sex:"
# The longest key the rollup tables hold (SchoolStandardMonth.subgroup).
KEY_MAX_LENGTH = 120

PROGRAM_SUBGROUPS: dict[str, str] = {
    Program.IEP.value: "iep",
    Program.SECTION_504.value: "504",
    Program.ENGLISH_LEARNER.value: "el",
    Program.FREE_REDUCED_LUNCH.value: "frl",
}
PROGRAM_LABELS = {
    "iep": "IEP",
    "504": "504 plan",
    "el": "English learner",
    "frl": "Free or reduced lunch",
}
# The order pages list subgroups in: programmes, then ethnicity, race and sex, each by name.
_ORDER = [ALL, "iep", "504", "el", "frl", HISPANIC]


@dataclass(frozen=True, slots=True)
class ProgramSpan:
    program: str
    begin_date: date | None
    end_date: date | None

    def in_force(self, on: date) -> bool:
        return (self.begin_date is None or self.begin_date <= on) and (
            self.end_date is None or self.end_date >= on
        )


@dataclass(frozen=True, slots=True)
class StudentTraits:
    """What a student's subgroups are read from: demographics and active programme spans."""

    sex: str
    races: tuple[str, ...]
    hispanic_or_latino: bool | None
    programs: tuple[ProgramSpan, ...] = ()

    @property
    def fixed_keys(self) -> frozenset[str]:
        """The keys that do not depend on the day: all, race, ethnicity and sex."""
        keys = {ALL}
        keys.update(f"{RACE_PREFIX}{race}"[:KEY_MAX_LENGTH] for race in self.races if race)
        if self.hispanic_or_latino:
            keys.add(HISPANIC)
        if self.sex:
            keys.add(f"{SEX_PREFIX}{self.sex}"[:KEY_MAX_LENGTH])
        return frozenset(keys)


def subgroups_of(traits: StudentTraits, on: date) -> frozenset[str]:
    """The student's subgroup keys on a day."""
    programs = {
        PROGRAM_SUBGROUPS[span.program]
        for span in traits.programs
        if span.program in PROGRAM_SUBGROUPS and span.in_force(on)
    }
    return traits.fixed_keys | programs if programs else traits.fixed_keys


def races_of(value: object) -> tuple[str, ...]:
    """Student.races as stored (a JSON list of category names), tolerating odd values."""
    if not isinstance(value, list):
        return ()
    return tuple(sorted({str(race) for race in value if race}))


def student_traits(student_ids: Sequence[int]) -> dict[int, StudentTraits]:
    """Each active student's traits, by id: two queries (students, programme spans)."""
    programs: dict[int, list[ProgramSpan]] = defaultdict(list)
    for student_id, program, begin, end in (
        ProgramParticipation.objects.filter(
            student_id__in=student_ids, is_active=True, program__in=list(PROGRAM_SUBGROUPS)
        )
        .order_by()
        .values_list("student_id", "program", "begin_date", "end_date")
    ):
        programs[student_id].append(ProgramSpan(program, begin, end))
    return {
        pk: StudentTraits(
            sex=sex or "",
            races=races_of(races),
            hispanic_or_latino=hispanic,
            programs=tuple(programs.get(pk, ())),
        )
        for pk, sex, races, hispanic in Student.objects.filter(pk__in=student_ids, is_active=True)
        .order_by()
        .values_list("pk", "sex", "races", "hispanic_or_latino")
    }


def student_subgroups(student_ids: Iterable[int], on: date) -> dict[int, frozenset[str]]:
    """Each active student's subgroup keys on a day, by id (two queries)."""
    traits = student_traits(sorted(set(student_ids)))
    return {pk: subgroups_of(student, on) for pk, student in traits.items()}


def subgroup_label(key: str) -> str:
    """The name a page shows for a key: "All students", "English learner", "Female"…"""
    if key == ALL:
        return "All students"
    if key in PROGRAM_LABELS:
        return PROGRAM_LABELS[key]
    if key == HISPANIC:
        return "Hispanic or Latino"
    if key.startswith(SEX_PREFIX):
        code = key[len(SEX_PREFIX) :]
        return str(dict(Sex.choices).get(code, code))
    if key.startswith(RACE_PREFIX):
        race = key[len(RACE_PREFIX) :]
        # The federal categories by name; any other code as words ("two_or_more" reads "Two or
        # more"), never the raw code.
        return RACE_LABELS.get(race) or race.replace("_", " ").strip().capitalize() or race
    return key


# The race codes records carry (OneRoster's columns as the importers store them), as pages name
# them.
RACE_LABELS = {
    "american_indian_or_alaska_native": "American Indian or Alaska Native",
    "asian": "Asian",
    "black_or_african_american": "Black or African American",
    "native_hawaiian_or_other_pacific_islander": "Native Hawaiian or Other Pacific Islander",
    "white": "White",
}


def subgroup_sort_key(key: str) -> tuple[int, str]:
    """Programmes first (in a fixed order), then ethnicity, race and sex by name."""
    if key in _ORDER:
        return (_ORDER.index(key), "")
    if key.startswith(RACE_PREFIX):
        return (len(_ORDER), subgroup_label(key))
    return (len(_ORDER) + 1, subgroup_label(key))

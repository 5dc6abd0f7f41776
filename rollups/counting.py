"""Counting rollups from the raw data, one school (or some of its grades and sections) at a time.
Reads only: rollups.services writes what these functions return.

Memory stays bounded by a school: its students are read in chunks of STUDENT_CHUNK, each chunk's
estimates, history points and overrides once, and only counters are kept across chunks.
"""

import calendar
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from itertools import groupby
from operator import itemgetter
from typing import NamedTuple

from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from assessments.methods import policy_for_district
from assessments.models import (
    Assessment,
    AssessmentItem,
    MasteryEstimate,
    MasteryEstimateHistory,
    MasteryOverride,
    Standard,
    Trend,
)
from rollups.models import ALL_SUBJECTS, WHOLE_SCHOOL
from rollups.subgroups import (
    ALL,
    PROGRAM_SUBGROUPS,
    ProgramSpan,
    StudentTraits,
    races_of,
    student_traits,
    subgroups_of,
)
from students.attendance import (
    AttendanceRate,
    attendance_rates,
    default_year_bounds,
    school_year_of,
)
from students.models import (
    AcademicSession,
    District,
    Enrollment,
    ProgramParticipation,
    Section,
    SessionKind,
    StudentSchoolMembership,
    in_force,
)

STUDENT_CHUNK = 2000
# The levels with a column of their own (MasteryPolicy.DEFAULT_LEVELS); a scale with other
# values counts them in measured and proficient only.
LEVEL_COLUMNS = (1, 2, 3, 4)

# (grade, subgroup, standard id, month) → [students measured, proficient, level 1, 2, 3, 4]
SchoolStandardKey = tuple[str, str, int, date]
# (grade, subgroup, subject, month) → [students measured, proficient in the subject,
#                                      estimates measured, proficient, level 1, 2, 3, 4]
SchoolSubjectKey = tuple[str, str, str, date]
# (section id, standard id, month) → [students measured, proficient, level 1, 2, 3, 4]
SectionStandardKey = tuple[int, int, date]


@dataclass(frozen=True, slots=True)
class Month:
    """A month of the rollups: `first` keys its rows; `day` is the day it counts (records in
    force and levels held then): the month's last day, or today in the current month."""

    first: date
    day: date
    is_current: bool


def month_first(day: date) -> date:
    return day.replace(day=1)


def month_last(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def end_of(day: date) -> datetime:
    """The day's last instant in the site's time zone: overrides in force "as of" a day, here and on
    the section page (dashboard.selectors.levels)."""
    return timezone.make_aware(datetime.combine(day, time.max))


def year_start(district_id: int, today: date) -> date:
    """The first day of the school year containing `today`: the district's school-year session
    that holds it, else July 1 (students.attendance.default_year_bounds)."""
    start = (
        AcademicSession.objects.filter(
            district_id=district_id,
            kind=SessionKind.SCHOOL_YEAR,
            is_active=True,
            school__isnull=True,
            start_date__lte=today,
            end_date__gte=today,
        )
        .order_by("start_date")
        .values_list("start_date", flat=True)
        .first()
    )
    return start or default_year_bounds(school_year_of(today))[0]


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def months_between(start: date, today: date) -> tuple[Month, ...]:
    """Every month from the one holding `start` to the current one (that one alone when
    `start` is later)."""
    months = []
    first = month_first(start)
    current = month_first(today)
    while first < current:
        months.append(Month(first, month_last(first), False))
        first = next_month(first)
    months.append(Month(current, today, True))
    return tuple(months)


@dataclass(frozen=True)
class Rules:
    """What a district's counts depend on besides the records: its months, mastery level,
    subject rule and the subject of each of its standards. Read once per rebuild or update."""

    district_id: int
    today: date
    months: tuple[Month, ...]
    mastery_level: int
    subject_percent: int
    subjects: dict[int, str] = field(repr=False)

    def months_from(self, since: date | None) -> tuple[Month, ...]:
        """The months a change dated `since` can alter: from its month on, and always the
        current one; every month without a date."""
        if since is None:
            return self.months
        first = month_first(since)
        return tuple(m for m in self.months if m.first >= first or m.is_current)


def rules_for(district_id: int, today: date) -> Rules:
    """Four queries: the policy, the district's subject rule, its year and its standards."""
    policy = policy_for_district(district_id, with_fit=False)
    percent = (
        District.objects.filter(pk=district_id)
        .values_list("subject_proficiency_percent", flat=True)
        .first()
    )
    return Rules(
        district_id=district_id,
        today=today,
        months=months_between(year_start(district_id, today), today),
        mastery_level=policy.mastery_level,
        subject_percent=percent if percent is not None else 70,
        subjects=dict(
            Standard.objects.filter(district_id=district_id).order_by().values_list("pk", "subject")
        ),
    )


@dataclass
class Counted:
    """A school's counts (or those of the grades and sections asked for), as row values."""

    school: dict[SchoolStandardKey, list[int]] = field(default_factory=dict)
    subject: dict[SchoolSubjectKey, list[int]] = field(default_factory=dict)
    section: dict[SectionStandardKey, list[int]] = field(default_factory=dict)
    students: int = 0


class _Span(NamedTuple):
    """A dated record of a student: a school membership (key: the grade) or an enrollment
    (key: the section id)."""

    key: str | int
    begin: date | None
    end: date | None


def _in_force(span: _Span, on: date) -> bool:
    return (span.begin is None or span.begin <= on) and (span.end is None or span.end >= on)


def overlapping(first_day: date, last_day: date, prefix: str = "") -> Q:
    """Rows in force on some day between the two (active or not: callers add is_active)."""
    return (
        Q(**{f"{prefix}begin_date__isnull": True}) | Q(**{f"{prefix}begin_date__lte": last_day})
    ) & (Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gte": first_day}))


def section_standards(section_ids: Iterable[int]) -> dict[int, frozenset[int]]:
    """The standards each section's active assessments align to, whole or by item (two
    queries): the standards its rollups count."""
    ids = list(section_ids)
    found: dict[int, set[int]] = defaultdict(set)
    if not ids:
        return {}
    for section_id, standard_id in (
        Assessment.standards.through.objects.filter(
            assessment__section_id__in=ids, assessment__is_active=True
        )
        .order_by()
        .values_list("assessment__section_id", "standard_id")
        .distinct()
    ):
        found[section_id].add(standard_id)
    for section_id, standard_id in (
        AssessmentItem.standards.through.objects.filter(
            assessmentitem__assessment__section_id__in=ids,
            assessmentitem__assessment__is_active=True,
            assessmentitem__is_active=True,
        )
        .order_by()
        .values_list("assessmentitem__assessment__section_id", "standard_id")
        .distinct()
    ):
        found[section_id].add(standard_id)
    return {section_id: frozenset(standards) for section_id, standards in found.items()}


def school_count(
    rules: Rules,
    school_id: int,
    *,
    months: Sequence[Month] | None = None,
    grades: set[str] | None = None,
    section_ids: set[int] | None = None,
) -> Counted:
    """Count a school's rollups for `months` (all of the rules' by default): of the grades
    given (every grade when None) and of the sections given (every active section of the
    school when None; none for an empty set)."""
    months = tuple(months if months is not None else rules.months)
    counted = Counted()
    if not months:
        return counted
    first_day, last_day = months[0].day, months[-1].day

    memberships = StudentSchoolMembership.objects.filter(
        overlapping(first_day, last_day),
        school_id=school_id,
        is_active=True,
        student__is_active=True,
    )
    if grades is not None:
        memberships = memberships.filter(grade_level__in=sorted(grades))
    spans_by_student: dict[int, list[_Span]] = defaultdict(list)
    if grades is None or grades:
        for student_id, grade, begin, end in memberships.order_by().values_list(
            "student_id", "grade_level", "begin_date", "end_date"
        ):
            spans_by_student[student_id].append(_Span(grade, begin, end))

    sections = Section.objects.filter(school_id=school_id, is_active=True)
    if section_ids is not None:
        sections = sections.filter(pk__in=sorted(section_ids))
    counted_sections = (
        list(sections.order_by("pk").values_list("pk", flat=True))
        if section_ids is None or section_ids
        else []
    )
    standards_of_section = section_standards(counted_sections)
    enrolled_in: dict[int, list[_Span]] = defaultdict(list)
    if standards_of_section:
        for student_id, section_id, begin, end in (
            Enrollment.objects.filter(
                overlapping(first_day, last_day),
                section_id__in=list(standards_of_section),
                is_active=True,
                student__is_active=True,
            )
            .order_by()
            .values_list("student_id", "section_id", "begin_date", "end_date")
        ):
            enrolled_in[student_id].append(_Span(section_id, begin, end))

    student_ids = sorted(set(spans_by_student) | set(enrolled_in))
    counter = _Counter(rules, months)
    for start in range(0, len(student_ids), STUDENT_CHUNK):
        chunk = student_ids[start : start + STUDENT_CHUNK]
        levels = levels_by_month(chunk, rules, months)
        traits = student_traits(chunk)
        for student_id in chunk:
            student = traits.get(student_id)
            if student is None:
                continue
            counter.add(
                student,
                levels.get(student_id),
                spans_by_student.get(student_id, ()),
                enrolled_in.get(student_id, ()),
                standards_of_section,
            )
    counter.finish(counted)
    counted.students = len(student_ids)
    return counted


def levels_by_month(
    student_ids: Sequence[int], rules: Rules, months: Sequence[Month]
) -> dict[int, list[dict[int, int]]]:
    """Each student's shown level on each standard in each month (index as `months`): history
    points for past months, estimates for the current one, overrides in force replacing either.
    Only levels of the scale are kept (No Evidence is no level). Three queries at most."""
    count = len(months)
    by_student: dict[int, list[dict[int, int]]] = defaultdict(lambda: [{} for _ in range(count)])
    past = [(index, month) for index, month in enumerate(months) if not month.is_current]
    current = [index for index, month in enumerate(months) if month.is_current]

    if past:
        last_past_day = past[-1][1].day
        history = (
            MasteryEstimateHistory.objects.filter(
                student_id__in=list(student_ids), as_of__lte=last_past_day
            )
            .order_by("student_id", "standard_id", "as_of", "recorded_at", "id")
            .values_list("student_id", "standard_id", "as_of", "level")
        )
        for (student_id, standard_id), points in groupby(history.iterator(5000), itemgetter(0, 1)):
            student_levels = by_student[student_id]
            # Walk the points and the month ends together: a month holds the newest point
            # dated on or before its last day.
            position, level = 0, 0
            for _, _, as_of, point_level in points:
                while position < len(past) and past[position][1].day < as_of:
                    if level > 0:
                        student_levels[past[position][0]][standard_id] = level
                    position += 1
                level = point_level
            if level > 0:
                for index, _ in past[position:]:
                    student_levels[index][standard_id] = level

    if current:
        index = current[0]
        for student_id, standard_id, level in (
            MasteryEstimate.objects.filter(student_id__in=list(student_ids), level__gt=0)
            .order_by()
            .values_list("student_id", "standard_id", "level")
        ):
            by_student[student_id][index][standard_id] = level

    # Overrides in force at a month's end, newest last (dashboard.selectors.levels.cells_read):
    # now, those not cleared; in a past month, those set by its end and not cleared by then.
    first_end = end_of(months[0].day)
    for student_id, standard_id, level, set_at, cleared_at in (
        MasteryOverride.objects.filter(student_id__in=list(student_ids))
        .filter(Q(cleared_at__isnull=True) | Q(cleared_at__gt=first_end))
        .order_by("set_at", "pk")
        .values_list("student_id", "standard_id", "level", "set_at", "cleared_at")
    ):
        for index, month in enumerate(months):
            if month.is_current:
                in_force = cleared_at is None
            else:
                month_end = end_of(month.day)
                in_force = set_at <= month_end and (cleared_at is None or cleared_at > month_end)
            if not in_force:
                continue
            month_levels = by_student[student_id][index]
            if level > 0:
                month_levels[standard_id] = level
            else:
                month_levels.pop(standard_id, None)
    return by_student


class _Counter:
    """Counters of one school's counting, fed a student at a time."""

    def __init__(self, rules: Rules, months: Sequence[Month]) -> None:
        self.rules = rules
        self.months = months
        self.mastery = rules.mastery_level
        self.percent = rules.subject_percent
        # (grade, subgroup, month index) → Counter of (standard, level)
        self.standard_levels: dict[tuple[str, str, int], Counter[tuple[int, int]]] = defaultdict(
            Counter
        )
        # (grade, subgroup, month index, subject) → the subject's values
        self.subjects: dict[tuple[str, str, int, str], list[int]] = {}
        # (section, month index) → Counter of (standard, level)
        self.section_levels: dict[tuple[int, int], Counter[tuple[int, int]]] = defaultdict(Counter)

    def add(
        self,
        student: StudentTraits,
        levels: list[dict[int, int]] | None,
        memberships: Sequence[_Span],
        enrollments: Sequence[_Span],
        standards_of_section: dict[int, frozenset[int]],
    ) -> None:
        if levels is None:
            return  # nothing measured in any month: no row counts the student
        # Without programmes a student's subgroups are the same every month.
        static_groups = None if student.programs else student.fixed_keys
        for index, month in enumerate(self.months):
            month_levels = levels[index]
            if not month_levels:
                continue
            grades = {str(span.key) for span in memberships if _in_force(span, month.day)}
            if grades:
                groups = static_groups or subgroups_of(student, month.day)
                items = list(month_levels.items())
                summary = self._subject_summary(month_levels)
                for grade in grades:
                    for group in groups:
                        self.standard_levels[(grade, group, index)].update(items)
                        for subject, values in summary.items():
                            key = (grade, group, index, subject)
                            held = self.subjects.get(key)
                            if held is None:
                                self.subjects[key] = list(values)
                            else:
                                for position, value in enumerate(values):
                                    held[position] += value
            for span in enrollments:
                if not _in_force(span, month.day):
                    continue
                section_id = int(span.key)
                section_levels = self.section_levels[(section_id, index)]
                for standard_id in standards_of_section.get(section_id, ()):
                    level = month_levels.get(standard_id)
                    if level:
                        section_levels[(standard_id, level)] += 1

    def _subject_summary(self, month_levels: dict[int, int]) -> dict[str, list[int]]:
        """One student's month by subject (and ALL_SUBJECTS): [1, proficient in it, estimates,
        proficient estimates, level 1, 2, 3, 4]."""
        tallies: dict[str, list[int]] = {}
        subjects = self.rules.subjects
        for standard_id, level in month_levels.items():
            for subject in (subjects.get(standard_id, ""), ALL_SUBJECTS):
                tally = tallies.get(subject)
                if tally is None:
                    tally = tallies[subject] = [1, 0, 0, 0, 0, 0, 0, 0]
                tally[2] += 1
                if level >= self.mastery:
                    tally[3] += 1
                if level in LEVEL_COLUMNS:
                    tally[3 + level] += 1
        for tally in tallies.values():
            # Proficient in the subject: at or above mastery on at least the district's share
            # of its standards assessed (exact arithmetic: 7 of 10 at 70% counts).
            tally[1] = 1 if tally[3] * 100 >= self.percent * tally[2] else 0
        return tallies

    def finish(self, counted: Counted) -> None:
        months = self.months
        for (grade, group, index), levels in self.standard_levels.items():
            month = months[index].first
            for (standard_id, level), students in levels.items():
                key = (grade, group, standard_id, month)
                values = counted.school.get(key)
                if values is None:
                    values = counted.school[key] = [0, 0, 0, 0, 0, 0]
                self._add_level(values, level, students)
        for (grade, group, index, subject), values in self.subjects.items():
            counted.subject[(grade, group, subject, months[index].first)] = values
        for (section_id, index), levels in self.section_levels.items():
            month = months[index].first
            for (standard_id, level), students in levels.items():
                section_key = (section_id, standard_id, month)
                values = counted.section.get(section_key)
                if values is None:
                    values = counted.section[section_key] = [0, 0, 0, 0, 0, 0]
                self._add_level(values, level, students)

    def _add_level(self, values: list[int], level: int, students: int) -> None:
        values[0] += students
        if level >= self.mastery:
            values[1] += students
        if level in LEVEL_COLUMNS:
            values[1 + level] += students


# --- Attendance and engagement (SchoolEngagementDay): a school's students enrolled on a day. ---

# (grade or WHOLE_SCHOOL, subgroup) → [students, chronically absent, falling in 2+ subjects]
EngagementKey = tuple[str, str]


@dataclass(frozen=True)
class EngagementFacts:
    """Each student a school's engagement counts on `day`, with what it counts of them: the
    rows (engagement_count) and the drill-down lists of names read the same facts."""

    day: date
    grade_of: dict[int, str]  # the school's students that day, each with one grade
    rates: dict[int, AttendanceRate]
    subgroups_of: dict[int, frozenset[str]]
    falling: set[int]

    def chronic(self, student_id: int) -> bool:
        rate = self.rates.get(student_id)
        return rate is not None and rate.is_chronic


def engagement_facts(school_id: int, day: date) -> EngagementFacts:
    """The school's students enrolled on `day`, in five queries whatever their number: the
    memberships in force with each student's traits and falling subjects, the programme spans,
    and attendance_rates' three (the school year of `day`, up to it)."""
    falling_subjects = (
        MasteryEstimate.objects.filter(
            student_id=OuterRef("student_id"), trend=Trend.FALLING, standard__is_active=True
        )
        .exclude(standard__subject="")
        .order_by()
        .values("student_id")
        .annotate(subjects=Count("standard__subject", distinct=True))
        .values("subjects")[:1]
    )
    grade_of: dict[int, str] = {}
    traits: dict[int, StudentTraits] = {}
    falling: set[int] = set()
    for student_id, grade_level, sex, races, hispanic, subjects in (
        StudentSchoolMembership.objects.filter(
            in_force(on=day), school_id=school_id, student__is_active=True
        )
        .annotate(falling_subjects=Coalesce(Subquery(falling_subjects), 0))
        .order_by("student_id", "grade_level")
        .values_list(
            "student_id",
            "grade_level",
            "student__sex",
            "student__races",
            "student__hispanic_or_latino",
            "falling_subjects",
        )
    ):
        # A student with two memberships in force counts once, in the lower grade code, so
        # that the grades partition the school.
        if student_id in grade_of:
            continue
        grade_of[student_id] = grade_level
        traits[student_id] = StudentTraits(
            sex=sex or "", races=races_of(races), hispanic_or_latino=hispanic
        )
        if subjects >= 2:
            falling.add(student_id)
    ids = sorted(grade_of)
    programs: dict[int, list[ProgramSpan]] = defaultdict(list)
    if ids:
        # rollups.subgroups.student_traits reads the same spans (and the students again).
        for student_id, program, begin, end in (
            ProgramParticipation.objects.filter(
                student_id__in=ids, is_active=True, program__in=list(PROGRAM_SUBGROUPS)
            )
            .order_by()
            .values_list("student_id", "program", "begin_date", "end_date")
        ):
            programs[student_id].append(ProgramSpan(program, begin, end))
    rates = attendance_rates(ids, school_year=school_year_of(day), as_of=day)
    return EngagementFacts(
        day=day,
        grade_of=grade_of,
        rates=rates,
        subgroups_of={
            pk: subgroups_of(
                StudentTraits(
                    sex=student.sex,
                    races=student.races,
                    hispanic_or_latino=student.hispanic_or_latino,
                    programs=tuple(programs.get(pk, ())),
                ),
                day,
            )
            for pk, student in traits.items()
        },
        falling=falling,
    )


def engagement_count(facts: EngagementFacts) -> dict[EngagementKey, list[int]]:
    """The rows of SchoolEngagementDay from a school's facts: each (grade, subgroup) and each
    (WHOLE_SCHOOL, subgroup) with a student in it, and (WHOLE_SCHOOL, "all") always."""
    counted: dict[EngagementKey, list[int]] = {(WHOLE_SCHOOL, ALL): [0, 0, 0]}
    for student_id, grade in facts.grade_of.items():
        chronic = 1 if facts.chronic(student_id) else 0
        falling = 1 if student_id in facts.falling else 0
        for group in facts.subgroups_of.get(student_id, frozenset({ALL})):
            for place in (grade, WHOLE_SCHOOL):
                values = counted.get((place, group))
                if values is None:
                    counted[(place, group)] = [1, chronic, falling]
                else:
                    values[0] += 1
                    values[1] += chronic
                    values[2] += falling
    return counted

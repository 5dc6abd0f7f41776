"""The totals every rollup page shares, decided level by level (issue 19, "Small-cell suppression").

A school's total appears on the district page, on the school's own report and in its trend; a
grade's total on the school report, on the grade's report and in the grade's trend. Each must read
the same everywhere, or a number hidden on one page could be read off another. So these totals are
decided once per level, from the level's own table, with the level above fixed
(rollups.suppression, "Families nested in families"):

1. the district's family: every active school's total, by school level, with the level totals and
   the district's; the schools add up to their level, the levels to the district;
2. a school's family: its grades, adding up to the school's total as the district decided it.

The report pages then decide their other tables with these fixed. Each month is decided on its own
(refs name the month), so a trend over every month and a report of one month agree. Two queries for
the district level and one for a school's grades, whatever the months and the sizes.
"""

from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from django.db.models import Sum

from rollups.models import ALL_SUBJECTS, SchoolSubjectMonth
from rollups.selectors import Counts, summed
from rollups.subgroups import ALL
from rollups.suppression import Cell as SuppressedCell
from rollups.suppression import Table as SuppressionTable
from rollups.suppression import suppress_tables
from students.models import GRADE_LEVELS, District, School, SchoolLevel

# A cell's numerators: students proficient in the subject (or on the standard), and the
# (student, standard) estimates measured and at or above mastery behind the proficiency share.
PROFICIENT_STUDENTS = "proficient_students"
PAIRS = "pairs"
PAIRS_PROFICIENT = "pairs_proficient"

_LEVEL_ORDER = [choice.value for choice in SchoolLevel]


def counts_cell(counts: Counts, ref: Hashable) -> SuppressedCell:
    """A rollup's counts as a cell for the suppression rules, known across pages by `ref`."""
    numerators = {PAIRS: counts.measured, PAIRS_PROFICIENT: counts.proficient}
    if counts.students_proficient is not None:
        numerators[PROFICIENT_STUDENTS] = counts.students_proficient
    return SuppressedCell(n=counts.students, numerators=numerators, ref=ref)


# The refs of the shared totals: a month, then what the number is of.
def district_ref(month: date) -> tuple[date, str]:
    return (month, "district")


def level_ref(month: date, level: str) -> tuple[date, str, str]:
    return (month, "level", level)


def school_ref(month: date, school_id: int) -> tuple[date, str, int]:
    return (month, "school", school_id)


def grade_ref(month: date, school_id: int, grade: str) -> tuple[date, str, int, str]:
    return (month, "grade", school_id, grade)


def grade_sort_key(code: object) -> tuple[int, str]:
    text = str(code)
    return (GRADE_LEVELS.index(text) if text in GRADE_LEVELS else len(GRADE_LEVELS), text)


def _sums(rows: Iterable[dict]) -> Counts:
    return Counts(
        students=sum(row["students"] for row in rows),
        students_proficient=sum(row["students_proficient"] for row in rows),
        measured=sum(row["measured"] for row in rows),
        proficient=sum(row["proficient"] for row in rows),
    )


@dataclass(frozen=True)
class SchoolOfDistrict:
    school_id: int
    name: str
    level: str


@dataclass(frozen=True)
class DistrictTotals:
    """Every active school's total for each month, by level, with the level and district totals,
    each decided; `counts` keeps the numbers behind them (the schools' by month)."""

    schools: list[SchoolOfDistrict]  # by level (elementary, middle, high, …), then by name
    counts: dict[date, dict[int, Counts]]
    decided: dict[Hashable, SuppressedCell]

    def cell(self, ref: Hashable) -> SuppressedCell:
        return self.decided[ref]


def district_totals(
    district: District, *, months: Sequence[date], subject: str | None
) -> DistrictTotals:
    """The district's family of totals for the months (first days), on the subject or every
    standard: two queries."""
    schools = [
        SchoolOfDistrict(school_id=pk, name=name, level=level)
        for pk, name, level in School.objects.filter(district=district, is_active=True)
        .order_by("name", "pk")
        .values_list("pk", "name", "level")
    ]
    schools.sort(
        key=lambda s: (
            _LEVEL_ORDER.index(s.level) if s.level in _LEVEL_ORDER else len(_LEVEL_ORDER),
            s.name,
        )
    )
    rows_of: dict[date, dict[int, list[dict]]] = defaultdict(lambda: defaultdict(list))
    if months:
        for row in (
            SchoolSubjectMonth.objects.filter(
                district=district,
                month__in=list(months),
                subgroup=ALL,
                subject=subject or ALL_SUBJECTS,
            )
            .values("month", "school_id")
            .annotate(
                students=Sum("students_measured"),
                students_proficient=Sum("students_proficient_in_subject"),
                measured=Sum("pairs_measured"),
                proficient=Sum("pairs_proficient"),
            )
            .order_by()
        ):
            rows_of[row["month"]][row["school_id"]].append(row)
    counts = {
        month: {school.school_id: _sums(rows_of[month][school.school_id]) for school in schools}
        for month in months
    }
    tables = []
    for month in months:
        tables.extend(_district_tables(month, schools, counts[month]))
    decided = _decided(suppress_tables(tables, min_n=district.min_group_size))
    return DistrictTotals(schools=schools, counts=counts, decided=decided)


def _district_tables(
    month: date, schools: list[SchoolOfDistrict], counts: dict[int, Counts]
) -> list[SuppressionTable]:
    by_level: dict[str, list[SchoolOfDistrict]] = {}
    for school in schools:
        by_level.setdefault(school.level, []).append(school)
    tables = []
    level_counts: dict[str, Counts] = {}
    for level, members in by_level.items():
        level_counts[level] = summed((counts[s.school_id] for s in members), disjoint=True)
        tables.append(
            SuppressionTable(
                rows=tuple(s.school_id for s in members),
                columns=("students",),
                cells={
                    (s.school_id, "students"): counts_cell(
                        counts[s.school_id], school_ref(month, s.school_id)
                    )
                    for s in members
                },
                column_totals={
                    "students": counts_cell(level_counts[level], level_ref(month, level))
                },
            )
        )
    if level_counts:
        tables.append(
            SuppressionTable(
                rows=tuple(level_counts),
                columns=("students",),
                cells={
                    (level, "students"): counts_cell(c, level_ref(month, level))
                    for level, c in level_counts.items()
                },
                column_totals={
                    "students": counts_cell(
                        summed(level_counts.values(), disjoint=True), district_ref(month)
                    )
                },
            )
        )
    return tables


def _decided(tables: Iterable[SuppressionTable]) -> dict[Hashable, SuppressedCell]:
    decided: dict[Hashable, SuppressedCell] = {}
    for table in tables:
        for cell in (
            *table.cells.values(),
            *(table.column_totals or {}).values(),
            *(table.row_totals or {}).values(),
            *([table.grand_total] if table.grand_total else []),
        ):
            if cell.ref is not None:
                decided[cell.ref] = cell
    return decided


@dataclass(frozen=True)
class SchoolTotals:
    """A school's total and its grades' for each month, each decided with the district's family
    fixed. `decided` holds those and the district's: what a family below (the report's tables)
    keeps as it is."""

    school_id: int
    grades: dict[date, dict[str, Counts]]  # by month, in grade order
    decided: dict[Hashable, SuppressedCell]

    def cell(self, ref: Hashable) -> SuppressedCell:
        return self.decided[ref]


def school_totals(school: School, *, months: Sequence[date], subject: str | None) -> SchoolTotals:
    """The district's family and the school's grades for the months: three queries."""
    district = school.district
    district_family = district_totals(district, months=months, subject=subject)
    grades: dict[date, dict[str, list[dict]]] = {month: defaultdict(list) for month in months}
    if months:
        for row in (
            SchoolSubjectMonth.objects.filter(
                school=school, month__in=list(months), subgroup=ALL, subject=subject or ALL_SUBJECTS
            )
            .values("month", "grade_level")
            .annotate(
                students=Sum("students_measured"),
                students_proficient=Sum("students_proficient_in_subject"),
                measured=Sum("pairs_measured"),
                proficient=Sum("pairs_proficient"),
            )
            .order_by()
        ):
            grades[row["month"]][row["grade_level"]].append(row)
    grade_counts = {
        month: {
            code: _sums(grades[month][code]) for code in sorted(grades[month], key=grade_sort_key)
        }
        for month in months
    }
    stamped = suppress_tables(
        [grade_table(school.pk, month, grade_counts[month]) for month in months],
        min_n=district.min_group_size,
        decided=district_family.decided.values(),
    )
    return SchoolTotals(
        school_id=school.pk,
        grades=grade_counts,
        decided={**district_family.decided, **_decided(stamped)},
    )


def grade_table(school_id: int, month: date, grades: dict[str, Counts]) -> SuppressionTable:
    """The school's grades of a month adding up to its total (the district page's number: the
    same rows summed)."""
    total = counts_cell(summed(grades.values(), disjoint=True), school_ref(month, school_id))
    if not grades:
        return SuppressionTable(
            rows=("total",), columns=("students",), cells={("total", "students"): total}
        )
    return SuppressionTable(
        rows=tuple(grades),
        columns=("students",),
        cells={
            (code, "students"): counts_cell(c, grade_ref(month, school_id, code))
            for code, c in grades.items()
        },
        column_totals={"students": total},
    )

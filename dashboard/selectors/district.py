"""Reads behind the district staff's page of schools side by side (issue 19): every school's
proficiency and growth from the rollups, grouped by level with the district's total, every cell
suppressed together."""

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial

from dashboard.selectors.periods import ReportPeriods
from dashboard.selectors.school import ReportRow, TrendRow, share_value, trend_rows
from dashboard.selectors.totals import (
    SchoolOfDistrict,
    district_ref,
    district_totals,
    level_ref,
    school_ref,
)
from rollups.selectors import rollup_subjects
from rollups.suppression import rule_sentence
from students.models import District, SchoolLevel

# ?sort= of the district page: a column, "-" before it for the largest first.
DISTRICT_SORTS = ("name", "students", "proficiency", "growth")


@dataclass(frozen=True)
class LevelGroup:
    """A school level's subtotal and its schools, in the chosen order."""

    level: str
    label: str
    total: ReportRow
    schools: list[ReportRow]


@dataclass(frozen=True)
class DistrictReport:
    district: District
    month: date
    start_month: date | None
    last_year_month: date | None
    periods: ReportPeriods
    subject: str | None
    sort: str
    min_n: int
    total: ReportRow
    levels: list[LevelGroup]
    months: list[date]
    subjects: list[str]
    trend: list[TrendRow]

    @property
    def rule(self) -> str:
        return rule_sentence(self.min_n)


def _sort_key(row: ReportRow, column: str) -> tuple[int, Decimal | int, str]:
    """The shown value only: a hidden cell sorts last, whatever its real number."""
    value: Decimal | int | None
    if column == "name":
        return (0, 0, row.label.lower())
    if column == "students":
        value = None if row.now.hidden else row.now.n
    elif column == "proficiency":
        value = share_value(row.now)
    else:
        before = None if row.start is None else share_value(row.start)
        after = share_value(row.now)
        value = None if before is None or after is None else after - before
    return (0, value, row.label.lower()) if value is not None else (1, 0, row.label.lower())


def district_report(
    district: District, *, periods: ReportPeriods, subject: str | None = None, sort: str = "name"
) -> DistrictReport:
    """Every school of the district for a month, at the term's start and a year before, by level
    with the district's total; the schools add up to their level, the levels to the district,
    each decided by the district's family of totals (the same cells as the schools' pages)."""
    every = periods.by_period()
    trend_months = sorted({m for m in periods.months if m <= periods.month} | set(every.values()))
    totals = district_totals(district, months=trend_months, subject=subject)
    level_labels = dict(SchoolLevel.choices)

    def row_of(key: str | int, label: str, ref_of: Callable[[date], Hashable]) -> ReportRow:
        start, last_year = every.get("start"), every.get("last_year")
        return ReportRow(
            key=key,
            label=label,
            code="",
            now=totals.cell(ref_of(periods.month)),
            start=None if start is None else totals.cell(ref_of(start)),
            last_year=None if last_year is None else totals.cell(ref_of(last_year)),
        )

    column = sort.removeprefix("-")
    levels = []
    by_level: dict[str, list[SchoolOfDistrict]] = {}
    for school in totals.schools:
        by_level.setdefault(school.level, []).append(school)
    for level, members in by_level.items():
        schools = [
            row_of(s.school_id, s.name, partial(school_ref, school_id=s.school_id)) for s in members
        ]
        schools.sort(key=lambda r: _sort_key(r, column))
        if sort.startswith("-"):
            shown_rows = [r for r in schools if _sort_key(r, column)[0] == 0]
            schools = shown_rows[::-1] + [r for r in schools if _sort_key(r, column)[0] == 1]
        levels.append(
            LevelGroup(
                level=level,
                label=level_labels.get(level, level or "Other"),
                total=row_of(
                    level,
                    level_labels.get(level, "Other"),
                    partial(level_ref, level=level),
                ),
                schools=schools,
            )
        )
    return DistrictReport(
        district=district,
        month=periods.month,
        start_month=periods.start_month,
        last_year_month=periods.last_year_month,
        periods=periods,
        subject=subject,
        sort=sort,
        min_n=district.min_group_size,
        total=row_of("district", district.name, district_ref),
        levels=levels,
        months=periods.months,
        subjects=rollup_subjects(district.pk, month=periods.month),
        trend=trend_rows(
            totals.decided, [m for m in trend_months if m <= periods.month], ("district",)
        ),
    )


def district_csv_rows(report: DistrictReport) -> list[list[str]]:
    """The schools table as the page shows it, hidden cells in words."""
    lines = [
        [
            "Level",
            "School",
            "Students measured",
            "Students proficient in the subject",
            "Proficiency",
            "Proficiency at the term's start",
            "Change",
            "Proficiency last year",
        ]
    ]
    for group in report.levels:
        for row in [*group.schools, group.total]:
            name = f"All {group.label.lower()} schools" if row is group.total else row.label
            lines.append(
                [
                    group.label,
                    name,
                    row.students,
                    row.proficient_students,
                    row.proficiency,
                    row.proficiency_start,
                    row.growth,
                    row.proficiency_last_year,
                ]
            )
    total = report.total
    lines.append(
        [
            "District",
            total.label,
            total.students,
            total.proficient_students,
            total.proficiency,
            total.proficiency_start,
            total.growth,
            total.proficiency_last_year,
        ]
    )
    return lines

"""Reads behind the district staff's page of schools side by side (issue 19): every school's
proficiency and growth from the rollups, grouped by level with the district's total, every cell
suppressed together."""

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dashboard.selectors.school import ReportRow, counts_cell, share_value
from rollups.counting import month_first, month_last, year_start
from rollups.selectors import (
    Counts,
    DistrictRollup,
    RollupRow,
    district_rollup,
    rollup_months,
    rollup_subjects,
    summed,
)
from rollups.suppression import Cell as SuppressedCell
from rollups.suppression import Table as SuppressionTable
from rollups.suppression import rule_sentence, suppress_tables
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
    subject: str | None
    sort: str
    min_n: int
    total: ReportRow
    levels: list[LevelGroup]
    months: list[date]
    subjects: list[str]

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
    district: District, *, month: date, subject: str | None = None, sort: str = "name"
) -> DistrictReport:
    """Every school of the district for a month and at the term's start, by level with the
    district's total; the schools add up to their level, the levels to the district."""
    months = rollup_months(district.pk)
    month = month_first(month)
    term_start = month_first(year_start(district.pk, month_last(month)))
    start_month = next((m for m in months if term_start <= m < month), None)
    periods: dict[str, date] = {"now": month, **({"start": start_month} if start_month else {})}
    rollups: dict[str, DistrictRollup] = {
        period: district_rollup(district, month=when, subject=subject)
        for period, when in periods.items()
    }
    level_labels = dict(SchoolLevel.choices)

    tables: list[SuppressionTable] = []
    pairs: list[tuple[Hashable, Hashable]] = []
    for period, rollup in rollups.items():
        district_ref = (period, "district")
        by_level: dict[str, list[RollupRow]] = {}
        for row in rollup.schools:
            by_level.setdefault(row.level, []).append(row)
        level_cells: dict[tuple[str, str], SuppressedCell] = {}
        for level, rows in by_level.items():
            level_ref = (period, "level", level)
            parts = {
                (row.key, "students"): counts_cell(row.group, (period, "school", row.key))
                for row in rows
            }
            level_total = _level_counts(rows)
            tables.append(
                SuppressionTable(
                    rows=tuple(row.key for row in rows),
                    columns=("students",),
                    cells=parts,
                    column_totals={"students": counts_cell(level_total, level_ref)},
                )
            )
            level_cells[(level, "students")] = counts_cell(level_total, level_ref)
            pairs.append((district_ref, level_ref))
            pairs.extend((level_ref, (period, "school", row.key)) for row in rows)
        if level_cells:
            tables.append(
                SuppressionTable(
                    rows=tuple(level for level, _ in level_cells),
                    columns=("students",),
                    cells=level_cells,
                    column_totals={"students": counts_cell(rollup.total.group, district_ref)},
                )
            )
    stamped = suppress_tables(tables, min_n=district.min_group_size, pairs=pairs)
    decided: dict[Hashable, SuppressedCell] = {}
    for table in stamped:
        for cell in (*table.cells.values(), *(table.column_totals or {}).values()):
            decided[cell.ref] = cell

    def row_of(key: Hashable, label: str, ref_tail: tuple) -> ReportRow:
        return ReportRow(
            key=key if isinstance(key, (str, int)) else str(key),
            label=label,
            code="",
            now=decided[("now", *ref_tail)],
            start=decided.get(("start", *ref_tail)),
        )

    column = sort.removeprefix("-")
    levels = []
    now_rollup = rollups["now"]
    seen: dict[str, list[RollupRow]] = {}
    for row in now_rollup.schools:
        seen.setdefault(row.level, []).append(row)
    for level, rows in seen.items():
        schools = [row_of(row.key, row.label, ("school", row.key)) for row in rows]
        schools.sort(key=lambda r: _sort_key(r, column))
        if sort.startswith("-"):
            shown_rows = [r for r in schools if _sort_key(r, column)[0] == 0]
            schools = shown_rows[::-1] + [r for r in schools if _sort_key(r, column)[0] == 1]
        levels.append(
            LevelGroup(
                level=level,
                label=level_labels.get(level, level or "Other"),
                total=row_of(level, level_labels.get(level, "Other"), ("level", level)),
                schools=schools,
            )
        )
    return DistrictReport(
        district=district,
        month=month,
        start_month=start_month,
        subject=subject,
        sort=sort,
        min_n=district.min_group_size,
        total=row_of("district", district.name, ("district",)),
        levels=levels,
        months=months,
        subjects=rollup_subjects(district.pk, month=month),
    )


def _level_counts(rows: list[RollupRow]) -> Counts:
    return summed((row.group for row in rows), disjoint=True)


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
        ]
    )
    return lines

"""The same data as each chart, as table rows (for the page's table toggle) and as CSV rows (for
the export): pure functions of selector output, so that table, chart and CSV cannot disagree."""

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from django.utils.dateformat import format as date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.translation import get_language

from assessments.methods import Level, Policy
from assessments.models import ScoreStatus
from dashboard.charts import OVERRIDE_MARK, LevelStyle
from dashboard.selectors import (
    AttentionFlag,
    Cell,
    ProfileStandard,
    ScoreLine,
    SectionMastery,
    StandardColumn,
    StandardInSection,
    StudentMastery,
    StudentStandardHistory,
    level_counts,
    levels_of,
    share_at_mastery,
)
from students.models import Student
from students.selectors import RosterEntry


@dataclass(frozen=True)
class TableCell:
    standard_id: int
    level: int
    symbol: str
    name: str
    overridden: bool


@dataclass(frozen=True)
class GridRow:
    student: Student
    cells: list[TableCell]


def level_text(policy: Policy, cell: Cell) -> str:
    """The level in words, as every table and CSV says it: "Mastery (overridden)"."""
    name = policy.level_named(cell.level).name
    return f"{name} (overridden)" if cell.overridden else name


def grid_rows(mastery: SectionMastery) -> list[GridRow]:
    levels = {level.value: level for level in levels_of(mastery.policy)}
    standard_ids = [column.standard.pk for column in mastery.columns]
    empty = mastery.empty_cell
    # One TableCell per distinct (standard, level, override): rows share them.
    made: dict[tuple[int, int, bool], TableCell] = {}
    rows = []
    for student in mastery.students:
        student_id = student.pk
        cells = []
        for standard_id in standard_ids:
            cell = mastery.cells.get((student_id, standard_id), empty)
            key = (standard_id, cell.level, cell.overridden)
            table_cell = made.get(key)
            if table_cell is None:
                level = levels.get(cell.level) or mastery.policy.level_named(cell.level)
                table_cell = made[key] = TableCell(
                    standard_id,
                    cell.level,
                    level.symbol + (OVERRIDE_MARK if cell.overridden else ""),
                    level.name,
                    cell.overridden,
                )
            cells.append(table_cell)
        rows.append(GridRow(student, cells))
    return rows


@dataclass(frozen=True)
class DistributionRow:
    column: StandardColumn
    counts: list[tuple[int, int]]  # (level value, students), lowest level first
    share: float | None
    url: str = ""  # the standard's page in this section

    @property
    def share_percent(self) -> str:
        return "–" if self.share is None else f"{round(self.share * 100)}%"


def distribution_rows(mastery: SectionMastery, standard_url: str = "") -> list[DistributionRow]:
    """Per standard, the students at each level; `standard_url` holds `{standard}` for its id."""
    levels = levels_of(mastery.policy)
    rows = []
    for column in mastery.columns:
        counts = level_counts(mastery, column.standard.pk)
        rows.append(
            DistributionRow(
                column,
                [(level.value, len(counts[level.value])) for level in levels],
                share_at_mastery(mastery, column.standard.pk),
                standard_url.replace("{standard}", str(column.standard.pk)),
            )
        )
    return rows


# A text cell a spreadsheet would read as a formula (OWASP's list): =, +, -, @, tab, return.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A cell as a spreadsheet should show it: text that would start a formula gets a leading
    apostrophe (shown as text, never run); numbers, dates and other values stay as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _is_number(value):
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    """A number written as text ("-2.5"): a spreadsheet reads it as that number, no formula."""
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV for people to open in a spreadsheet: every text cell made safe (spreadsheet_safe).
    OneRoster exports are machine interchange and never pass through here."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([spreadsheet_safe(cell) for cell in header])
    writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
    return buffer.getvalue()


def grid_csv(mastery: SectionMastery) -> str:
    """Students × standards as shown: the same order, filters and (as-of) levels."""
    header = ["Student", "Student number"] + [c.standard.code for c in mastery.columns]
    rows = [
        [
            row.student.sort_name,
            row.student.student_number,
            *(f"{c.name} (overridden)" if c.overridden else c.name for c in row.cells),
        ]
        for row in grid_rows(mastery)
    ]
    return csv_text(header, rows)


def distribution_csv(mastery: SectionMastery) -> str:
    levels = levels_of(mastery.policy)
    header = ["Standard", "Description", *(level.name for level in levels), "At or above mastery"]
    rows = [
        [
            row.column.standard.code,
            row.column.standard.description,
            *(n for _, n in row.counts),
            row.share_percent,
        ]
        for row in distribution_rows(mastery)
    ]
    return csv_text(header, rows)


def standard_students_csv(view: StandardInSection) -> str:
    header = ["Student", "Student number", "Level", "Chance of mastery", "Evidence", "Trend"]
    rows = []
    for enrollment in view.roster:
        cell = view.cell(enrollment.student_id)
        rows.append(
            [
                enrollment.student.sort_name,
                enrollment.student.student_number,
                level_text(view.policy, cell),
                "" if cell.probability is None else f"{round(cell.probability * 100)}%",
                cell.evidence_count,
                cell.trend,
            ]
        )
    return csv_text(header, rows)


def student_standard_csv(history: StudentStandardHistory) -> str:
    """The trend line's points, then the scores behind them: what the history page shows."""
    policy = history.policy
    rows: list[list[object]] = [
        [
            "estimate",
            h.as_of.isoformat(),
            policy.level_named(h.level).name,
            "" if h.probability is None else f"{round(h.probability * 100)}%",
            h.evidence_count,
            "",
        ]
        for h in history.history
    ]
    rows += [
        [
            "score",
            e.observed_on.isoformat(),
            "",
            f"{round(e.value * 100)}%",
            "",
            e.assessment_title + (f" · item {e.item_code}" if e.item_code else ""),
        ]
        for e in history.evidence
    ]
    return csv_text(["Row", "Date", "Level", "Value", "Evidence count", "Assessment"], rows)


def student_mastery_csv(mastery: StudentMastery) -> str:
    header = ["Standard", "Subject", "Level", "Chance of mastery", "Evidence", "Trend", "History"]
    rows = []
    for item in mastery.standards:
        points = mastery.history.get(item.standard.pk, [])
        rows.append(
            [
                item.standard.code,
                item.standard.subject,
                level_text(mastery.policy, item.cell),
                "" if item.cell.probability is None else f"{round(item.cell.probability * 100)}%",
                item.cell.evidence_count,
                item.cell.trend,
                "; ".join(
                    f"{d.isoformat()} {round(p * 100)}%" for d, p, _ in points if p is not None
                ),
            ]
        )
    return csv_text(header, rows)


def heatmap_body(rows: list[GridRow], student_url: str) -> SafeString:
    """The levels grid's rows as HTML (templates/dashboard/section_overview.html, a data grid
    that static/js/dashboard.js moves through with the arrow keys): each student's name, linked
    to their profile, as the row's header, then per standard a cell with the level's symbol on
    its colour (`lv-<value>`, templates/dashboard/_level_styles.html) and the level in words as
    its label. A screen reader reading the table says the row's and column's headers with it;
    the script names a cell in full as the keyboard reaches it ("Lovelace, Ada, 4.NF.A.1:
    Mastery"), which here would repeat each name 40 times and each code 150 (a third of the
    page, gzipped). The first level cell is the grid's one Tab stop; its links are reached with
    the arrow keys.

    Built here, not in the template: 150 × 40 cells through the template engine cost ~0.4 s a
    page, this join a few milliseconds (docs/benchmarks.md). Short class names and no inline
    style keep such a grid small. Every text is escaped; `student_url` holds `{student}` where
    the student's id goes."""
    # Per distinct (level, symbol, override): the cell's class, its words and its symbol.
    parts_by_kind: dict[tuple[int, str, str, bool], tuple[str, str, str]] = {}
    lines = []
    for row_index, row in enumerate(rows):
        student_id = int(row.student.pk)
        name = escape(row.student.sort_name)
        parts = [
            f'<tr data-student="{student_id}"><th scope="row"><a href="'
            f'{escape(student_url.replace("{student}", str(student_id)))}" tabindex="-1">'
            f"{name}</a></th>"
        ]
        for column_index, cell in enumerate(row.cells):
            key = (cell.level, cell.symbol, cell.name, cell.overridden)
            kind = parts_by_kind.get(key)
            if kind is None:
                words = f"{cell.name} (overridden)" if cell.overridden else cell.name
                css = f"lv-{int(cell.level)}" + (" ov" if cell.overridden else "")
                kind = parts_by_kind[key] = (css, escape(words), escape(cell.symbol))
            css, words, symbol = kind
            stop = ' tabindex="0"' if row_index == 0 and column_index == 0 else ""
            parts.append(f'<td class="{css}"{stop} aria-label="{words}">{symbol}</td>')
        parts.append("</tr>")
        lines.append("".join(parts))
    return mark_safe("\n".join(lines))  # noqa: S308 - every value above is escaped or an int


def heatmap_head(columns: list[StandardColumn], standard_url: str) -> SafeString:
    """The levels grid's header cells after "Student": each standard's code, linked to the
    standard's page in the section (reached in the grid with the arrow keys, not Tab), with its
    id for the script (a cell's page and live changes) and its description as a tooltip."""
    return mark_safe(  # noqa: S308 - every value is escaped or an int
        "".join(
            f'<th scope="col" data-standard="{int(column.standard.pk)}"><a href="'
            f'{escape(standard_url.replace("{standard}", str(column.standard.pk)))}" '
            f'tabindex="-1" title="{escape(column.standard.description)}">'
            f"{escape(column.short_code)}</a></th>"
            for column in columns
        )
    )


def distribution_table_body(rows: list[DistributionRow]) -> SafeString:
    """The distribution table's rows as HTML (one link per non-empty count)."""
    lines = []
    for row in rows:
        url = escape(row.url)
        cells = []
        for level_value, count in row.counts:
            if count:
                label = f"{count} student{'' if count == 1 else 's'}: which ones"
                cells.append(
                    f'<td class="num"><a href="{url}?level={int(level_value)}#students-heading" '
                    f'aria-label="{label}">{count}</a></td>'
                )
            else:
                cells.append('<td class="num">0</td>')
        lines.append(
            f'<tr><th scope="row"><a href="{url}">{escape(row.column.short_code)}</a></th>'
            f'{"".join(cells)}<td class="num">{escape(row.share_percent)}</td></tr>'
        )
    return mark_safe("\n".join(lines))  # noqa: S308 - every value is escaped or an int


def roster_table_body(roster: Sequence[RosterEntry], student_url: str) -> SafeString:
    """The roster table's rows: name, student number, since, programs (150 rows through the
    template engine, with a URL reversed per row, cost more than the rest of the page)."""
    if not roster:
        return mark_safe('<tr><td colspan="4">No students are currently enrolled.</td></tr>')
    lines = []
    for enrollment in roster:
        student = enrollment.student
        begin = enrollment.begin_date
        programs = enrollment.program_count or 0
        lines.append(
            f'<tr><th scope="row"><a href="'
            f'{escape(student_url.replace("{student}", str(student.pk)))}">'
            f"{escape(student.sort_name)}</a></th>"
            f"<td>{escape(student.student_number or '—')}</td>"
            f"<td>{escape(date_format(begin, 'M j, Y')) if begin else '—'}</td>"
            "<td>"
            + (
                f'<span class="badge">{programs} program{"" if programs == 1 else "s"}</span>'
                if programs
                else "—"
            )
            + "</td></tr>"
        )
    return mark_safe("\n".join(lines))  # noqa: S308 - every value is escaped or an int


def attention_list_html(
    flags: Sequence[AttentionFlag], student_url: str, *, shown: int | None = None
) -> SafeString:
    """The needs-attention list, the most pressing first: each student linked, then their
    reasons; past the first `shown`, the rest behind "Show all" (a URL reversed per flagged
    student through the template engine cost more than the rest of the page's markup). Every
    text is escaped; `student_url` holds `{student}` where the student's id goes."""

    def items(part: Sequence[AttentionFlag]) -> list[str]:
        return [
            f'<li><a href="{escape(student_url.replace("{student}", str(int(f.student.pk))))}">'
            f"<strong>{escape(f.student.sort_name)}</strong></a>\n"
            f"<ul>{''.join(f'<li>{escape(reason)}</li>' for reason in f.reasons)}</ul></li>"
            for f in part
        ]

    first = flags if shown is None else flags[:shown]
    rest = flags[len(first) :]
    lines = ['<ol class="attention-list">', *items(first), "</ol>"]
    if rest:
        lines += [
            '<details class="attention-more">',
            f"<summary>Show all {len(flags)} students (the other {len(rest)})</summary>",
            f'<ol class="attention-list" start="{len(first) + 1}">',
            *items(rest),
            "</ol></details>",
        ]
    return mark_safe("\n".join(lines))  # noqa: S308 - every value is escaped or an int


def student_links_html(students: Sequence[Student], student_url: str) -> SafeString:
    """A group's students as list items, each linked (`student_url` holds `{student}`)."""
    if not students:
        return mark_safe('<li class="meta">Nobody.</li>')
    return mark_safe(  # noqa: S308 - every value is escaped or an int
        "".join(
            f'<li><a href="{escape(student_url.replace("{student}", str(int(s.pk))))}">'
            f"{escape(s.sort_name)}</a></li>"
            for s in students
        )
    )


def standard_students_body(
    rows: Sequence[tuple[Student, Cell]],
    levels: Sequence[LevelStyle],
    selected_level: int | None,
    student_url: str,
) -> SafeString:
    """The standard view's table of each student: level (symbol and name), chance of mastery,
    evidence, trend; rows of one level highlighted when one is selected. Built here rather than
    in the template: 150 rows with a URL reversed in each were most of the page's time."""
    if not rows:
        return mark_safe('<tr><td colspan="5">No students are currently enrolled.</td></tr>')
    level_html = {
        level.value: f'<span class="swatch lv-{int(level.value)}" aria-hidden="true">'
        f"{escape(level.symbol)}</span> {escape(level.name)}"
        for level in levels
    }
    lines = []
    for student, cell in rows:
        row_class = ""
        if selected_level is not None:
            row_class = ' class="selected"' if cell.level == selected_level else ' class="dimmed"'
        override = (
            f' <span class="badge badge-override" title="{escape(cell.override_note)}">'
            "✎ overridden</span>"
            if cell.overridden
            else ""
        )
        chance = f"{round(cell.probability * 100)}%" if cell.probability is not None else "—"
        lines.append(
            f"<tr{row_class}>"
            f'<th scope="row"><a href="'
            f'{escape(student_url.replace("{student}", str(int(student.pk))))}">'
            f"{escape(student.sort_name)}</a></th>"
            f"<td>{level_html.get(cell.level, '')}{override}</td>"
            f'<td class="num">{chance}</td>'
            f'<td class="num">{int(cell.evidence_count)}</td>'
            f"<td>{escape(capfirst(cell.trend))}</td></tr>"
        )
    return mark_safe("\n".join(lines))  # noqa: S308 - every value is escaped or an int


def points_text(value: object) -> str:
    """Points as every table shows them (the template filter floatformat:"-2"): a whole number
    without decimals, anything else rounded half up to two places."""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if number == number.to_integral_value():
        return str(int(number))
    return str(number.quantize(Decimal("0.01"), ROUND_HALF_UP))


@lru_cache(maxsize=4096)
def _day_text(day: date, language: str | None) -> str:
    # A student's scores fall on few distinct days; `language` keys the translated month name.
    return date_format(day, "M j, Y")


def day_text(day: date | None) -> str:
    """A date as the tables show it ("Nov 3, 2026"); "—" when there is none."""
    return _day_text(day, get_language()) if day else "—"


def score_history_body(scores: Sequence[ScoreLine]) -> SafeString:
    """The profile's score history rows: date, assessment, kind, item, points, status (the
    template spent most of the profile's time on its 200 rows of filters)."""
    lines = []
    for s in scores:
        if s.points is None:
            points = "—"
        else:
            points = points_text(s.points)
            if s.max_points and not s.item_code:
                points += f" / {points_text(s.max_points)}"
        if s.status == ScoreStatus.SCORED:
            status = "Scored"
        elif s.status == ScoreStatus.MISSING:
            status = '<span class="badge badge-warning">Missing</span>'
        else:
            status = escape(capfirst(s.status))
        lines.append(
            f"<tr><td>{escape(day_text(s.scored_on))}</td><td>{escape(s.assessment_title)}</td>"
            f"<td>{escape(capfirst(s.kind))}</td><td>{escape(s.item_code or '—')}</td>"
            f'<td class="num">{escape(points)}</td><td>{status}</td></tr>'
        )
    return mark_safe("".join(lines))  # noqa: S308 - every value is escaped or fixed markup


def profile_standards_body(
    rows: Sequence[tuple[ProfileStandard, Level, str]],
    history: Mapping[int, Sequence[tuple[date, float | None, int]]] | None = None,
) -> SafeString:
    """The profile's table of mastery on every standard: code (linked when the viewer may open
    the standard in a section), subject, level, chance of mastery, scores, trend, and the history
    the trend charts draw (each dated chance), so that the table twin holds what they show."""
    history = history or {}
    lines = []
    for item, level, url in rows:
        points = [
            f"{day:%b} {day.day}: {round(p * 100)}%"
            for day, p, _ in history.get(item.standard.pk, [])
            if p is not None
        ]
        description = escape(item.standard.description)
        code = escape(item.short_code)
        label = (
            f'<a href="{escape(url)}" title="{description}">{code}</a>'
            if url
            else f'<span title="{description}">{code}</span>'
        )
        cell = item.cell
        override = (
            ' <span class="badge badge-override">✎ overridden</span>' if cell.overridden else ""
        )
        chance = f"{round(cell.probability * 100)}%" if cell.probability is not None else "—"
        lines.append(
            f'<tr><th scope="row">{label}</th>'
            f"<td>{escape(item.standard.subject or '—')}</td>"
            f'<td><span class="swatch lv-{int(level.value)}" aria-hidden="true">'
            f"{escape(level.symbol)}</span> {escape(level.name)}{override}</td>"
            f'<td class="num">{chance}</td><td class="num">{int(cell.evidence_count)}</td>'
            f"<td>{escape(capfirst(cell.trend))}</td>"
            f"<td>{escape(' · '.join(points)) if points else '—'}</td></tr>"
        )
    return mark_safe("\n".join(lines))  # noqa: S308 - every value is escaped or an int

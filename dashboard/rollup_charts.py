"""Plotly figures of the school and district reports (issue 19): proficiency as horizontal bars,
one per grade, subject or school, built by pure functions from the report's rows (suppressed
already, no queries here).

A bar is drawn only for a share the page shows: a hidden cell gets no bar and no number, not even
in its hover text or customdata, only the page's own words beside its name ("fewer than 10",
"not shown"); a cell with nobody measured says "no data". Each bar carries its percentage as a
label, so nothing is told by colour alone, and the page's table beside the chart holds the same
numbers. A total (the whole school, a level's schools, the district) is a grey bar of its own,
named as such, below the rows it totals: a line across a narrow chart would cross their labels.
A bar that opens a page carries that page's key as customdata: static/js/dashboard.js fills it
into the chart's URL template (data-bar-url), as the section overview's codes are.
"""

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from html import escape
from typing import Any

import orjson

from dashboard.charts import CHART_CONFIG, FONT
from dashboard.selectors.district import DistrictReport
from dashboard.selectors.school import SchoolReport, TrendRow, share_value
from rollups.suppression import NO_DATA, Reason, hidden_text, shown
from rollups.suppression import Cell as SuppressedCell

BAR_COLOR = "#1f5f8b"  # the site's blue
TOTAL_COLOR = "#5a6372"  # a total of the rows above it, named so too ("All middle schools")
WORDS_COLOR = "#4a5260"  # "fewer than 10" where a bar would be
DIVIDER_COLOR = "#aab2bd"
# A row's height grows with its label's lines (names wrap so that the bars keep room on a phone).
ROW_PX = 30
LINE_PX = 15
LABEL_CHARS = 20
MARGIN = {"l": 8, "r": 44, "t": 12, "b": 44}
TICKS = [0, 25, 50, 75, 100]


@dataclass(frozen=True)
class BarRow:
    """One row of a chart: a bar (or the words instead of one), or a heading without a cell.

    `total` marks a row that totals rows above it (the level's schools, the whole school, the
    district): a grey bar that opens nothing, set apart by a line above it when `divider`."""

    label: str
    cell: SuppressedCell | None
    key: str | int | None = None  # what a click on the bar opens (None: nothing)
    total: bool = False
    divider: bool = False


@dataclass(frozen=True)
class Chart:
    """A figure and the sentence that sums it up beside it."""

    figure: dict[str, Any]
    summary: str

    @cached_property
    def json(self) -> bytes:
        """The figure serialized once, for json_bytes_script and chart_height."""
        return orjson.dumps(self.figure)


def _share(cell: SuppressedCell) -> Decimal | None:
    return None if cell.hidden else share_value(cell)


def _words(cell: SuppressedCell) -> str:
    """What a row without a bar says instead: the table's words for its students ("fewer than
    10 students", so that it cannot be read as a share), or "not shown", or "no data"."""
    if cell.suppression is not None and cell.suppression.reason is Reason.SMALL:
        return f"{hidden_text(cell)} students"
    return hidden_text(cell) or NO_DATA


def _wrapped(label: str) -> list[str]:
    return textwrap.wrap(label, LABEL_CHARS, break_long_words=False) or [label]


def proficiency_figure(rows: Sequence[BarRow]) -> dict[str, Any]:
    """Proficiency as horizontal bars, top to bottom in the rows' order, each with its percentage;
    a row without a shown share has only its words; a heading row only its (bold) name."""
    positions = list(range(len(rows)))
    bars: dict[str, list[Any]] = {
        "x": [],
        "y": [],
        "text": [],
        "hovertext": [],
        "customdata": [],
        "color": [],
    }
    annotations: list[dict[str, Any]] = []
    shapes: list[dict[str, Any]] = []
    ticktext = []
    height = MARGIN["t"] + MARGIN["b"]
    for position, row in zip(positions, rows, strict=True):
        lines = [escape(line, quote=False) for line in _wrapped(row.label)]
        height += max(ROW_PX, LINE_PX * len(lines) + 10)
        if row.divider:
            shapes.append(_divider(position - 0.5))
        if row.cell is None:
            ticktext.append("<br>".join(f"<b>{line}</b>" for line in lines))
            continue
        ticktext.append("<br>".join(lines))
        value = _share(row.cell)
        if value is None:
            annotations.append(
                {
                    "x": 0,
                    "y": position,
                    "xref": "x",
                    "yref": "y",
                    "xanchor": "left",
                    "xshift": 4,
                    "text": f"<i>{_words(row.cell)}</i>",
                    "showarrow": False,
                    "font": {"color": WORDS_COLOR},
                }
            )
            continue
        bars["x"].append(float(value))
        bars["y"].append(position)
        bars["text"].append(f"{value}%")
        # Without the row's name (its label is beside the bar): the names stay in the rows'
        # order in the figure, the table's order.
        bars["hovertext"].append(f"{value}% proficient, {shown(row.cell)} students measured")
        bars["customdata"].append(None if row.total else row.key)
        bars["color"].append(TOTAL_COLOR if row.total else BAR_COLOR)
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "x": bars["x"],
                "y": bars["y"],
                "text": bars["text"],
                "textposition": "outside",
                "cliponaxis": False,
                "hovertext": bars["hovertext"],
                "hovertemplate": "%{hovertext}<extra></extra>",
                "customdata": bars["customdata"],
                "marker": {"color": bars["color"]},
                "width": 0.7,
            }
        ],
        "layout": {
            "height": height,
            "margin": MARGIN,
            "font": FONT,
            "showlegend": False,
            "hovermode": "closest",
            "hoverlabel": {"bgcolor": "#ffffff"},
            "dragmode": False,
            "xaxis": {
                "range": [0, 100],
                "tickmode": "array",
                "tickvals": TICKS,
                "ticktext": [f"{tick}%" for tick in TICKS],
                "title": {"text": "Proficiency", "font": {"size": 12}},
                "fixedrange": True,
                "gridcolor": "#d8dde5",
                "zeroline": True,
                "zerolinecolor": "#6b7480",
            },
            "yaxis": {
                "type": "linear",
                "tickmode": "array",
                "tickvals": positions,
                "ticktext": ticktext,
                "range": [len(rows) - 0.5, -0.5],
                "fixedrange": True,
                "automargin": True,
                "showgrid": False,
                "zeroline": False,
                "ticks": "",
            },
            "shapes": shapes,
            "annotations": annotations,
            "plot_bgcolor": "#ffffff",
            "paper_bgcolor": "#ffffff",
        },
        "config": CHART_CONFIG,
    }


def _divider(y: float) -> dict[str, Any]:
    """A line across the plot, between groups of rows."""
    return {
        "type": "line",
        "xref": "paper",
        "yref": "y",
        "x0": 0,
        "x1": 1,
        "y0": y,
        "y1": y,
        "line": {"color": DIVIDER_COLOR, "width": 1},
    }


def proficiency_summary(rows: Sequence[BarRow], noun: str, plural: str) -> str:
    """One sentence: the highest and lowest shares shown, and the rows without a bar, in the
    page's words (no number of a hidden row). Totals are left to the caller."""
    shares: list[tuple[BarRow, Decimal]] = []
    unbarred: list[tuple[BarRow, SuppressedCell]] = []
    for row in rows:
        if row.cell is None or row.total:
            continue
        value = _share(row.cell)
        if value is None:
            unbarred.append((row, row.cell))
        else:
            shares.append((row, value))
    if not shares:
        sentence = f"No {noun} has a bar"
    elif len(shares) == 1:
        row, value = shares[0]
        sentence = f"{row.label} is at {value}%"
    else:
        top = max(shares, key=lambda item: item[1])
        low = min(shares, key=lambda item: item[1])
        sentence = (
            f"Of the {len(shares)} {plural} with a bar, {top[0].label} is highest at {top[1]}% "
            f"and {low[0].label} lowest at {low[1]}%"
        )
    if unbarred and len(unbarred) <= 3:
        without = ", ".join(f"{row.label} ({_words(cell)})" for row, cell in unbarred)
        sentence += f"; no bar for {without}"
    elif unbarred:
        sentence += (
            f"; {len(unbarred)} {plural} have no bar (fewer than the minimum group, "
            "not shown or no data)"
        )
    return sentence + "."


def _with_total(summary: str, words: str, cell: SuppressedCell) -> str:
    """The summary, and the total's share after it when it is shown."""
    value = _share(cell)
    return summary if value is None else f"{summary[:-1]}; {words} is at {value}%."


def grade_chart(report: SchoolReport) -> Chart:
    """The school's proficiency by grade, the whole school's below them (unless the page is one
    grade's: its bar is that grade's); a grade's bar opens its report (its key is the code)."""
    rows = [BarRow(row.label, row.now, key=row.key) for row in report.tables["grades"]]
    summary = proficiency_summary(rows, "grade", "grades")
    if not report.grade:
        rows.append(BarRow("Whole school", report.total.now, total=True, divider=True))
        summary = _with_total(summary, "the whole school", report.total.now)
    return Chart(proficiency_figure(rows), summary)


def subject_chart(report: SchoolReport) -> Chart:
    """Proficiency by subject in the school (or the grade shown), every subject together below
    them (unless one subject is chosen); the bars open nothing (the filters choose a subject)."""
    rows = [BarRow(row.label, row.now) for row in report.tables["subjects"]]
    summary = proficiency_summary(rows, "subject", "subjects")
    if not report.subject and rows:
        rows.append(BarRow("Every subject", report.total.now, total=True, divider=True))
        summary = _with_total(summary, "every subject together", report.total.now)
    return Chart(proficiency_figure(rows), summary)


def district_chart(report: DistrictReport) -> Chart:
    """The district's schools by level: a heading per level, its schools (a bar opens the
    school's report; its key is the school's id), then the level's schools together; the whole
    district last."""
    rows: list[BarRow] = []
    for index, group in enumerate(report.levels):
        rows.append(BarRow(group.label, None, divider=index > 0))
        rows.extend(BarRow(school.label, school.now, key=school.key) for school in group.schools)
        rows.append(BarRow(f"All {group.label.lower()} schools", group.total.now, total=True))
    summary = proficiency_summary(rows, "school", "schools")
    rows.append(BarRow("Whole district", report.total.now, total=True, divider=True))
    return Chart(
        proficiency_figure(rows), _with_total(summary, "the district as a whole", report.total.now)
    )


def trend_figure(rows: Sequence[TrendRow]) -> dict[str, Any]:
    """A total's proficiency month by month: a line through the months shown, each point with its
    percentage; a month whose total is hidden has no point (the line breaks there) and its words
    under the axis, as the table says them."""
    labels = [f"{row.month:%b %Y}" for row in rows]
    values = [None if row.share is None else float(row.share) for row in rows]
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines+markers+text",
                "x": labels,
                "y": values,
                "text": [None if row.share is None else f"{row.share}%" for row in rows],
                "textposition": "top center",
                "cliponaxis": False,
                "connectgaps": False,
                "hovertemplate": "%{x}: %{y}% proficient<extra></extra>",
                "line": {"color": BAR_COLOR, "width": 2},
                "marker": {"color": BAR_COLOR, "size": 8, "symbol": "circle"},
            }
        ],
        "layout": {
            "height": 260,
            "margin": {"l": 48, "r": 24, "t": 24, "b": 56},
            "font": FONT,
            "showlegend": False,
            "hovermode": "closest",
            "dragmode": False,
            "xaxis": {"type": "category", "fixedrange": True, "tickangle": 0, "automargin": True},
            "yaxis": {
                "range": [0, 108],
                "tickmode": "array",
                "tickvals": TICKS,
                "ticktext": [f"{tick}%" for tick in TICKS],
                "title": {"text": "Proficiency", "font": {"size": 12}},
                "fixedrange": True,
                "gridcolor": "#d8dde5",
            },
            "annotations": [
                {
                    "x": label,
                    "y": 4,
                    "xref": "x",
                    "yref": "y",
                    "text": f"<i>{_words(row.cell)}</i>",
                    "showarrow": False,
                    "font": {"color": WORDS_COLOR, "size": 10},
                }
                for label, row, value in zip(labels, rows, values, strict=True)
                if value is None
            ],
            "plot_bgcolor": "#ffffff",
            "paper_bgcolor": "#ffffff",
        },
        "config": CHART_CONFIG,
    }


def trend_summary(rows: Sequence[TrendRow], whose: str) -> str:
    """One sentence: the first and last months shown and the change between them, and the
    months without a point."""
    shown_rows = [row for row in rows if row.share is not None]
    if not shown_rows:
        return f"No month of {whose} has a point."
    first, last = shown_rows[0], shown_rows[-1]
    if first is last:
        sentence = f"{whose.capitalize()} is at {last.share}% in {last.month:%B %Y}"
    else:
        change = (last.share or 0) - (first.share or 0)
        sentence = (
            f"{whose.capitalize()} went from {first.share}% in {first.month:%B %Y} to "
            f"{last.share}% in {last.month:%B %Y} ({change:+} points)"
        )
    missing = [row for row in rows if row.share is None]
    if missing:
        months = ", ".join(f"{row.month:%B %Y} ({_words(row.cell)})" for row in missing)
        sentence += f"; no point for {months}"
    return sentence + "."


def trend_chart(rows: Sequence[TrendRow], whose: str) -> Chart:
    return Chart(trend_figure(rows), trend_summary(rows, whose))

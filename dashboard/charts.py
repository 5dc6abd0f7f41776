"""Plotly figure dicts, built by pure functions from selector output (no queries, no requests).

The page embeds each figure once (orjson, `json_script`) and static/js/dashboard.js draws it with
our own copy of plotly.js. Levels are told apart by the district's colours and by a symbol in
every cell, so that the chart reads without colour too. Figures carry what the script needs to
turn a click into a page (the ids behind each row and column) but no per-cell strings beyond the
symbol, which keeps a 150 × 40 section well under 100 KB.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from assessments.methods import Level, Policy
from dashboard.selectors import (
    SectionMastery,
    StandardInSection,
    StudentMastery,
    StudentStandardHistory,
    level_counts,
    levels_of,
    share_at_mastery,
)

OVERRIDE_MARK = "✎"
ROW_PX = 24
COLUMN_PX = 30
BARS_PX = 150
GAP_PX = 56
MARGIN = {"l": 190, "r": 16, "t": 16, "b": 16}
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif", "size": 12}
MODEBAR = ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"]
# Every chart's Plotly config: charts stay on the site. No share, cloud or edit action (plotly.js
# offers "Share chart…" by default), no link out, no logo; dashboard.js enforces the same.
CHART_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "showSendToCloud": False,
    "showEditInChartStudio": False,
    "showLink": False,
    "plotlyServerURL": "",
    "modeBarButtonsToRemove": [
        *MODEBAR,
        "sendChartToCloud",
        "sendDataToCloud",
        "editInChartStudio",
    ],
}


def discrete_colorscale(levels: Sequence[Level]) -> tuple[list[list[Any]], float, float]:
    """A stepped colourscale with one band per integer level value, and (zmin, zmax) so that each
    value sits in the middle of its band. Values the scale lacks get a neutral grey."""
    values = [level.value for level in levels]
    low, high = min(values), max(values)
    by_value = {level.value: level.color for level in levels}
    steps = high - low + 1
    scale: list[list[Any]] = []
    for index, value in enumerate(range(low, high + 1)):
        color = by_value.get(value, "#bdbdbd")
        scale.append([index / steps, color])
        scale.append([(index + 1) / steps, color])
    return scale, low - 0.5, high + 0.5


def level_symbol(policy: Policy, level: int, *, overridden: bool = False) -> str:
    symbol = policy.level_named(level).symbol
    return f"{symbol}{OVERRIDE_MARK}" if overridden else symbol


def row_labels(names: Sequence[str]) -> list[str]:
    """Category labels must be unique, or Plotly merges two students of the same name."""
    seen: dict[str, int] = {}
    labels = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        labels.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return labels


def section_overview_figure(mastery: SectionMastery) -> dict[str, Any]:
    """Heatmap of students × standards, with the class distribution of levels stacked above each
    column and the share at or above mastery over each stack: one figure, one shared x axis."""
    policy = mastery.policy
    levels = levels_of(policy)
    columns = mastery.columns
    students = mastery.students
    codes = [column.short_code for column in columns]
    names = row_labels([student.sort_name for student in students])
    symbols = {level.value: level.symbol for level in levels}
    standard_ids = [column.standard.pk for column in columns]
    empty = mastery.empty_cell
    z: list[list[int]] = []
    text: list[list[str]] = []
    for student in students:
        student_id = student.pk
        row_cells = [mastery.cells.get((student_id, sid), empty) for sid in standard_ids]
        z.append([cell.level for cell in row_cells])
        text.append(
            [
                symbols.get(cell.level, "?") + (OVERRIDE_MARK if cell.overridden else "")
                for cell in row_cells
            ]
        )
    colorscale, zmin, zmax = discrete_colorscale(levels)
    heatmap_px = max(1, len(students)) * ROW_PX
    height = MARGIN["t"] + BARS_PX + GAP_PX + heatmap_px + MARGIN["b"]
    plot_px = height - MARGIN["t"] - MARGIN["b"]
    bars_bottom = 1 - BARS_PX / plot_px
    heatmap_top = heatmap_px / plot_px
    traces: list[dict[str, Any]] = [
        {
            "type": "heatmap",
            "name": "Levels",
            "x": codes,
            "y": names,
            "z": z,
            "text": text,
            "texttemplate": "%{text}",
            "textfont": {"size": 13},
            "colorscale": colorscale,
            "zmin": zmin,
            "zmax": zmax,
            "showscale": False,
            "xgap": 2,
            "ygap": 2,
            "hovertemplate": "<b>%{y}</b><br>%{x}: %{text}<extra></extra>",
            "xaxis": "x",
            "yaxis": "y",
        }
    ]
    for level in levels:
        counts = [len(level_counts(mastery, c.standard.pk)[level.value]) for c in columns]
        traces.append(
            {
                "type": "bar",
                "name": f"{level.symbol} {level.name}",
                "x": codes,
                "y": counts,
                "marker": {"color": level.color, "line": {"color": "#ffffff", "width": 1}},
                "meta": {"level": level.value},
                "hovertemplate": f"%{{x}}: %{{y}} {level.name}<extra></extra>",
                "xaxis": "x",
                "yaxis": "y2",
            }
        )
    annotations = []
    for code, column in zip(codes, columns, strict=True):
        share = share_at_mastery(mastery, column.standard.pk)
        annotations.append(
            {
                "x": code,
                "y": 1,
                "xref": "x",
                "yref": "paper",
                "yanchor": "bottom",
                "text": "–" if share is None else f"{round(share * 100)}%",
                "showarrow": False,
                "font": {"size": 11},
            }
        )
    return {
        "data": traces,
        "layout": {
            "height": height,
            "width": MARGIN["l"] + MARGIN["r"] + max(1, len(columns)) * COLUMN_PX,
            "margin": {**MARGIN, "t": MARGIN["t"] + 12},
            "font": FONT,
            "barmode": "stack",
            "showlegend": False,
            "hoverlabel": {"bgcolor": "#ffffff"},
            "xaxis": {
                "side": "top",
                "tickangle": -60,
                "type": "category",
                "fixedrange": True,
                "automargin": False,
                "anchor": "y",
            },
            "yaxis": {
                "domain": [0, heatmap_top],
                "autorange": "reversed",
                "type": "category",
                "tickmode": "array",
                "tickvals": names,
                "ticktext": names,
                "fixedrange": True,
                "automargin": False,
            },
            "yaxis2": {
                "domain": [bars_bottom, 1],
                "title": {"text": "Students", "font": {"size": 11}},
                "fixedrange": True,
                "rangemode": "tozero",
            },
            "annotations": annotations,
            "plot_bgcolor": "#ffffff",
            "paper_bgcolor": "#ffffff",
        },
        "config": CHART_CONFIG,
        "meta": {
            "student_ids": [s.pk for s in students],
            "standard_ids": [c.standard.pk for c in columns],
            "level_names": {str(level.value): level.name for level in levels},
            "level_symbols": {str(level.value): level.symbol for level in levels},
            "override_mark": OVERRIDE_MARK,
            "no_evidence": policy.no_evidence.value,
            "mastery_level": policy.mastery_level,
        },
    }


def distribution_figure(view: StandardInSection) -> dict[str, Any]:
    """How many students are at each level of one standard (bars in the scale's colours)."""
    levels = levels_of(view.policy)
    counts = {level.value: 0 for level in levels}
    for enrollment in view.roster:
        counts[view.cell(enrollment.student_id).level] = (
            counts.get(view.cell(enrollment.student_id).level, 0) + 1
        )
    return {
        "data": [
            {
                "type": "bar",
                # Names wrap at spaces, so that the labels lie flat under narrow bars.
                "x": [f"{level.symbol} {level.name}".replace(" ", "<br>", 1) for level in levels],
                "y": [counts[level.value] for level in levels],
                "text": [str(counts[level.value]) for level in levels],
                "textposition": "outside",
                "marker": {"color": [level.color for level in levels]},
                "hovertemplate": "%{x}: %{y} students<extra></extra>",
                "meta": {"levels": [level.value for level in levels]},
            }
        ],
        "layout": {
            "height": 300,
            "margin": {"l": 48, "r": 16, "t": 24, "b": 48},
            "font": FONT,
            "yaxis": {"title": {"text": "Students"}, "rangemode": "tozero", "fixedrange": True},
            "xaxis": {"fixedrange": True, "tickangle": 0},
            "showlegend": False,
        },
        "config": CHART_CONFIG,
    }


def _level_bands(policy: Policy) -> list[dict[str, Any]]:
    """Light horizontal bands behind a trend line: where each level starts and ends (percent)."""
    ordered = sorted(policy.levels, key=lambda level: level.min)
    shapes = []
    for index, level in enumerate(ordered):
        top = ordered[index + 1].min if index + 1 < len(ordered) else 1.0
        shapes.append(
            {
                "type": "rect",
                "xref": "paper",
                "yref": "y",
                "x0": 0,
                "x1": 1,
                "y0": level.min * 100,
                "y1": top * 100,
                "fillcolor": level.color,
                "opacity": 0.14,
                "line": {"width": 0},
                "layer": "below",
            }
        )
    return shapes


def _threshold_line(policy: Policy) -> dict[str, Any]:
    return {
        "type": "line",
        "xref": "paper",
        "yref": "y",
        "x0": 0,
        "x1": 1,
        "y0": policy.mastery_threshold * 100,
        "y1": policy.mastery_threshold * 100,
        "line": {"color": "#1d2430", "width": 1, "dash": "dash"},
    }


DAY_MS = 24 * 60 * 60 * 1000
# Told apart by shape as well as colour (and named at the line's end): never by colour alone.
TRACE_SYMBOLS = ["circle", "square", "diamond", "triangle-up", "x", "star", "pentagon", "cross"]


def date_axis(days: list[str]) -> dict[str, Any]:
    """A date x axis. Plotly spans a single date with millisecond ticks: give it a week around
    the day, a tick per day, written as a date."""
    axis: dict[str, Any] = {"type": "date"}
    if days and min(days) == max(days):
        day = date.fromisoformat(min(days))
        axis.update(
            range=[(day - timedelta(days=3)).isoformat(), (day + timedelta(days=3)).isoformat()],
            dtick=DAY_MS,
            tickformat="%b %-d",
        )
    return axis


def trend_figure(history: StudentStandardHistory) -> dict[str, Any]:
    """One student's estimate on one standard over time, over the scale's bands; the scores that
    fed it as points; a teacher's override as a marked line."""
    policy = history.policy
    points = [h for h in history.history if h.probability is not None]
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "Estimated mastery",
            "x": [h.as_of.isoformat() for h in points],
            "y": [round((h.probability or 0.0) * 100, 1) for h in points],
            "text": [
                f"{policy.level_named(h.level).symbol} {policy.level_named(h.level).name}"
                for h in points
            ],
            "line": {"color": "#1f5f8b", "width": 3},
            "marker": {"size": 7},
            "hovertemplate": "%{x}: %{y:.0f}% (%{text})<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "markers",
            "name": "Scores",
            "x": [e.observed_on.isoformat() for e in history.evidence],
            "y": [round(e.value * 100, 1) for e in history.evidence],
            "text": [e.assessment_title for e in history.evidence],
            "marker": {"size": 8, "symbol": "diamond-open", "color": "#5a6372"},
            "hovertemplate": "%{x} %{text}: %{y:.0f}%<extra></extra>",
        },
    ]
    shapes = [*_level_bands(policy), _threshold_line(policy)]
    annotations = []
    active = history.active_override
    if active is not None:
        level = policy.level_named(active.level)
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": active.set_at.date().isoformat(),
                "x1": active.set_at.date().isoformat(),
                "y0": 0,
                "y1": 1,
                "line": {"color": "#7a4100", "width": 2, "dash": "dot"},
            }
        )
        annotations.append(
            {
                "x": active.set_at.date().isoformat(),
                "y": 1,
                "xref": "x",
                "yref": "paper",
                "yanchor": "bottom",
                "text": f"{OVERRIDE_MARK} Overridden: {level.name}",
                "showarrow": False,
                "font": {"color": "#7a4100"},
            }
        )
    return {
        "data": traces,
        "layout": {
            "height": 340,
            "margin": {"l": 56, "r": 16, "t": 28, "b": 40},
            "font": FONT,
            "yaxis": {"title": {"text": "Chance of mastery (%)"}, "range": [0, 100]},
            "xaxis": date_axis(
                [h.as_of.isoformat() for h in points]
                + [e.observed_on.isoformat() for e in history.evidence]
            ),
            "shapes": shapes,
            "annotations": annotations,
            "legend": {"orientation": "h", "y": -0.18},
        },
        "config": CHART_CONFIG,
    }


def profile_trend_figures(mastery: StudentMastery) -> list[tuple[str, dict[str, Any]]]:
    """One chart per subject: a line per standard, the estimate over time, with the mastery
    threshold dashed. Standards without history are left out (the table lists them)."""
    policy = mastery.policy
    by_subject: dict[str, list[dict[str, Any]]] = {}
    for item in mastery.standards:
        points = [
            (d, p, lv) for d, p, lv in mastery.history.get(item.standard.pk, []) if p is not None
        ]
        if not points:
            continue
        traces = by_subject.setdefault(item.standard.subject or "Other", [])
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": item.short_code,
                "x": [d.isoformat() for d, _, _ in points],
                "y": [round(p * 100, 1) for _, p, _ in points],
                "text": [policy.level_named(lv).name for _, _, lv in points],
                "marker": {"size": 7, "symbol": TRACE_SYMBOLS[len(traces) % len(TRACE_SYMBOLS)]},
                "hovertemplate": item.short_code + " %{x}: %{y:.0f}% (%{text})<extra></extra>",
            }
        )
    figures = []
    for subject, traces in sorted(by_subject.items()):
        # Each line named at its last point, besides its legend entry and marker shape.
        labels = [
            {
                "x": trace["x"][-1],
                "y": trace["y"][-1],
                "text": trace["name"],
                "showarrow": False,
                "xanchor": "left",
                "xshift": 6,
                "font": {"size": 11},
            }
            for trace in traces
        ]
        figures.append(
            (
                subject,
                {
                    "data": traces,
                    "layout": {
                        "height": 320,
                        "margin": {"l": 56, "r": 96, "t": 16, "b": 40},
                        "font": FONT,
                        "yaxis": {"title": {"text": "Chance of mastery (%)"}, "range": [0, 100]},
                        "xaxis": date_axis([x for trace in traces for x in trace["x"]]),
                        "shapes": [_threshold_line(policy)],
                        "annotations": labels,
                        "legend": {"orientation": "h", "y": -0.2},
                    },
                    "config": CHART_CONFIG,
                },
            )
        )
    return figures


def date_label(day: date | None) -> str:
    return f"{day:%b} {day.day}, {day.year}" if day else "—"


@dataclass(frozen=True)
class LevelStyle:
    """A level as the page draws it: its colour, and the ink (black or white) readable on it."""

    value: int
    name: str
    symbol: str
    color: str
    ink: str


def ink_for(color: str) -> str:
    """Black or white, whichever contrasts more with a #rrggbb background (WCAG luminance)."""
    hex_digits = color.lstrip("#")
    if len(hex_digits) == 3:
        hex_digits = "".join(c * 2 for c in hex_digits)
    try:
        channels = [int(hex_digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    except ValueError:
        return "#000000"
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#000000" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "#ffffff"


def level_styles(policy: Policy) -> list[LevelStyle]:
    return [
        LevelStyle(level.value, level.name, level.symbol, level.color, ink_for(level.color))
        for level in levels_of(policy)
    ]

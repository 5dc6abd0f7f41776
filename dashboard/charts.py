"""Plotly figure dicts, built by pure functions from selector output (no queries, no requests).

The page embeds each figure once (orjson, `json_script`) and static/js/dashboard.js draws it with
our own copy of plotly.js. Levels are told apart by the district's colours and by their names
and symbols, so that a chart reads without colour too. Figures carry what the script needs to
turn a click into a page (the ids behind each column) but no per-student strings: the section's
levels themselves are an HTML grid (dashboard.tables.heatmap_body), and its figure only the
class's bars, which keeps a 150 × 40 section well under 100 KB.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from assessments.methods import Policy
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
# The class's bars: their own height, one column per standard (30 to 90 px each, as wide as the
# card allows: static/js/dashboard.js fits them), and room below for the codes at an angle.
BARS_PX = 150
COLUMN_PX = 30
BARS_MARGIN = {"l": 56, "r": 16, "t": 28, "b": 72}
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


def section_overview_figure(mastery: SectionMastery) -> dict[str, Any]:
    """The class's levels per standard: a stacked bar per standard (how many students are at each
    level) with the share at or above mastery over it. Each student's own level is in the page's
    grid (dashboard.tables.heatmap_body), in the same column order; the script recounts these
    bars from the grid when a level changes live, and lists a bar's students from it. Columns
    are positions (x 0, 1, ...) labelled with codes: two standards of the same short code stay
    two bars."""
    policy = mastery.policy
    levels = levels_of(policy)
    columns = mastery.columns
    positions = list(range(len(columns)))
    codes = [column.short_code for column in columns]
    traces: list[dict[str, Any]] = []
    for level in levels:
        counts = [len(level_counts(mastery, c.standard.pk)[level.value]) for c in columns]
        traces.append(
            {
                "type": "bar",
                "name": f"{level.symbol} {level.name}",
                "x": positions,
                "y": counts,
                "customdata": codes,
                "marker": {"color": level.color, "line": {"color": "#ffffff", "width": 1}},
                "meta": {"level": level.value},
                "hovertemplate": f"%{{customdata}}: %{{y}} {level.name}<extra></extra>",
            }
        )
    annotations = []
    for position, column in zip(positions, columns, strict=True):
        share = share_at_mastery(mastery, column.standard.pk)
        annotations.append(
            {
                "x": position,
                "y": 1,
                "xref": "x",
                "yref": "paper",
                "yanchor": "bottom",
                "text": "–" if share is None else f"{round(share * 100)}%",
                "showarrow": False,
                "font": {"size": 11},
            }
        )
    margin = BARS_MARGIN
    return {
        "data": traces,
        "layout": {
            "height": margin["t"] + BARS_PX + margin["b"],
            "width": margin["l"] + margin["r"] + max(1, len(columns)) * COLUMN_PX,
            "margin": margin,
            "font": FONT,
            "barmode": "stack",
            "showlegend": False,
            "hoverlabel": {"bgcolor": "#ffffff"},
            "xaxis": {
                "type": "linear",
                "tickmode": "array",
                "tickvals": positions,
                "ticktext": codes,
                "tickangle": -50,
                "range": [-0.5, max(1, len(columns)) - 0.5],
                "fixedrange": True,
                "automargin": False,
            },
            "yaxis": {
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
                # Names wrap at every space, so that the labels lie flat and apart under the
                # narrow bars of a phone's screen.
                "x": ["<br>".join([level.symbol, *level.name.split()]) for level in levels],
                "y": [counts[level.value] for level in levels],
                "text": [str(counts[level.value]) for level in levels],
                "textposition": "outside",
                "marker": {"color": [level.color for level in levels]},
                "hovertemplate": "%{x}: %{y} students<extra></extra>",
                "meta": {"levels": [level.value for level in levels]},
            }
        ],
        "layout": {
            "height": 316,
            "margin": {"l": 48, "r": 16, "t": 24, "b": 64},
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
                    # On a phone the end labels would squeeze the plot to a sliver: the legend
                    # below, with each line's marker shape, names the lines there.
                    "narrow": {"margin": {"l": 48, "r": 12, "t": 16, "b": 40}, "annotations": []},
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

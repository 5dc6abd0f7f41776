"""Chart builders are pure: selector output in, figure dict out. No database here."""

import datetime as dt
import gzip
from types import SimpleNamespace

import orjson
import pytest

from assessments.methods import Level, Policy, _levels
from assessments.models import MasteryEstimateHistory, MasteryOverride, MasteryPolicy, Standard
from dashboard import charts, tables
from dashboard.selectors import (
    Cell,
    EvidenceRow,
    FilterChoices,
    OverviewFilters,
    SectionMastery,
    StandardColumn,
    StudentStandardHistory,
    standard_short_code,
)
from students.models import Section, Student


def policy() -> Policy:
    nothing = MasteryPolicy.NO_EVIDENCE
    return Policy(
        district_id=1,
        method="standard_decaying_average",
        method_options={},
        levels=_levels(MasteryPolicy.DEFAULT_LEVELS),
        mastery_level=3,
        no_evidence=Level(nothing["value"], nothing["name"], 0.0, nothing["color"], "–"),
    )


def student(pk: int, first: str, last: str) -> Student:
    return Student(pk=pk, first_name=first, last_name=last, student_number=f"S{pk}")


def column(pk: int, code: str) -> StandardColumn:
    return StandardColumn(
        Standard(pk=pk, code=f"CCSS.MATH.CONTENT.{code}", subject="Mathematics"),
        dt.date(2026, 11, 1),
        frozenset({"quiz"}),
    )


def mastery(cells: dict[tuple[int, int], Cell], students=None, columns=None) -> SectionMastery:
    students = students or [student(1, "Ada", "Lovelace"), student(2, "Alan", "Turing")]
    columns = columns or [column(10, "4.NF.A.1"), column(11, "4.OA.A.3")]
    return SectionMastery(
        section=Section(pk=5, title="Grade 4 Math"),
        policy=policy(),
        filters=OverviewFilters(),
        roster=[],
        students=students,
        columns=columns,
        cells=cells,
        choices=FilterChoices([], [], []),
        reference_date=dt.date(2026, 11, 20),
    )


def test_overview_figure_is_the_class_bars_per_standard() -> None:
    cells = {
        (1, 10): Cell(level=4),
        (1, 11): Cell(level=1, overridden=True, estimated_level=2),
        (2, 10): Cell(level=3),
    }
    figure = charts.section_overview_figure(mastery(cells))
    bars = figure["data"]
    assert {bar["type"] for bar in bars} == {"bar"}
    # Columns are positions labelled with the codes (two standards of one code stay two bars).
    assert figure["layout"]["xaxis"]["ticktext"] == ["4.NF.A.1", "4.OA.A.3"]
    assert all(bar["x"] == [0, 1] for bar in bars)
    assert figure["meta"]["standard_ids"] == [10, 11]
    assert "student_ids" not in figure["meta"]  # each student's level is in the grid alone
    # One stacked bar per level, no evidence first, with the count of students per column.
    assert [bar["meta"]["level"] for bar in bars] == [0, 1, 2, 3, 4]
    assert {bar["meta"]["level"]: bar["y"] for bar in bars} == {
        0: [0, 1],
        1: [0, 1],
        2: [0, 0],
        3: [1, 0],
        4: [1, 0],
    }
    assert [bar["marker"]["color"] for bar in bars] == [
        "#e0e0e0",
        "#c51b7d",
        "#f1b6da",
        "#5aae61",
        "#127a45",
    ]
    # Share at or above mastery among those with evidence: 4.NF.A.1 both; 4.OA.A.3 none of one.
    assert [a["text"] for a in figure["layout"]["annotations"]] == ["100%", "0%"]


def many(students: int, standards: int) -> SectionMastery:
    roster = [student(i, f"First{i}", f"Last{i}") for i in range(1, students + 1)]
    columns = [column(1000 + j, f"4.NF.A.{j}") for j in range(standards)]
    cells = {
        (s.pk, c.standard.pk): Cell(level=(s.pk + j) % 5, overridden=(s.pk + j) % 17 == 0)
        for s in roster
        for j, c in enumerate(columns)
    }
    return mastery(cells, roster, columns)


def test_overview_figure_stays_small_for_150_students_by_40_standards() -> None:
    serialized = orjson.dumps(charts.section_overview_figure(many(150, 40)))
    assert len(serialized) < 20_000  # the bars only: it no longer grows with the roster


HEATMAP_URL = "/students/{student}/#assessments"


def test_the_levels_grid_gives_each_cell_its_symbol_colour_and_level_in_words() -> None:
    cells = {
        (1, 10): Cell(level=4),
        (1, 11): Cell(level=1, overridden=True, estimated_level=2),
        (2, 10): Cell(level=3),
    }
    section = mastery(cells)
    body = tables.heatmap_body(tables.grid_rows(section), HEATMAP_URL)
    head = tables.heatmap_head(section.columns, "/sections/5/standards/{standard}/")
    first, second = body.split("\n")
    assert first == (
        '<tr data-student="1"><th scope="row">'
        '<a href="/students/1/#assessments" tabindex="-1">Lovelace, Ada</a></th>'
        '<td class="lv-4" tabindex="0" aria-label="Exceeds Mastery">★</td>'
        '<td class="lv-1 ov" aria-label="Below Mastery (overridden)">!✎</td></tr>'
    )
    # No evidence is a level too: its symbol and its name. Only the first cell is a Tab stop.
    assert second.endswith('<td class="lv-0" aria-label="No Evidence">–</td></tr>')
    assert 'tabindex="0"' not in second
    assert head.startswith(
        '<th scope="col" data-standard="10"><a href="/sections/5/standards/10/" tabindex="-1"'
    )
    assert ">4.OA.A.3</a></th>" in head


def test_the_levels_grid_escapes_names_and_codes() -> None:
    roster = [student(1, "<b>Zoë</b>", 'O\'Brien & "Sons"')]
    columns = [column(10, "4.NF<A>.1")]
    section = mastery({(1, 10): Cell(level=3)}, roster, columns)
    body = tables.heatmap_body(tables.grid_rows(section), HEATMAP_URL)
    head = tables.heatmap_head(section.columns, "/sections/5/standards/{standard}/")
    assert "<b>" not in body and "<A>" not in head
    assert ">O&#x27;Brien &amp; &quot;Sons&quot;, &lt;b&gt;Zoë&lt;/b&gt;</a></th>" in body
    assert ">4.NF&lt;A&gt;.1</a></th>" in head


def test_the_levels_grid_stays_small_for_150_students_by_40_standards() -> None:
    """Each cell is a class, its level's words and its symbol: no inline style, no per-cell
    link; smaller than the levels table and heatmap figure it replaces (468 KB and 65 KB)."""
    section = many(150, 40)
    body = tables.heatmap_body(tables.grid_rows(section), HEATMAP_URL).encode()
    assert body.count(b"<td ") == 6000 and b"style=" not in body and body.count(b"<a ") == 150
    assert len(body) < 350_000
    assert len(gzip.compress(body)) < 8_000


def test_ink_is_readable_on_each_default_level_colour() -> None:
    assert charts.ink_for("#127a45") == "#ffffff"
    assert charts.ink_for("#c51b7d") == "#ffffff"
    assert charts.ink_for("#f1b6da") == "#000000"
    assert charts.ink_for("#e0e0e0") == "#000000"


def test_trend_figure_draws_history_scores_bands_and_the_override() -> None:
    p = policy()
    standard = Standard(pk=10, code="CCSS.MATH.CONTENT.4.NF.A.1")
    override = MasteryOverride(
        level=3,
        note="Showed it in class",
        set_at=dt.datetime(2026, 11, 3, 15, 0, tzinfo=dt.UTC),
    )
    history = StudentStandardHistory(
        section=Section(pk=5),
        student=student(1, "Ada", "Lovelace"),
        standard=standard,
        policy=p,
        cell=Cell(level=3, overridden=True, estimated_level=2),
        history=[
            MasteryEstimateHistory(as_of=dt.date(2026, 10, 1), probability=0.4, level=1),
            MasteryEstimateHistory(as_of=dt.date(2026, 10, 8), probability=0.55, level=2),
        ],
        evidence=[
            EvidenceRow(dt.date(2026, 10, 8), 0.7, "Quiz 2", "quiz", "", 7, 10, "scored"),
            EvidenceRow(dt.date(2026, 10, 1), 0.4, "Quiz 1", "quiz", "", 4, 10, "scored"),
        ],
        missing=[],
        overrides=[override],
    )
    figure = charts.trend_figure(history)
    line, scores = figure["data"]
    assert line["x"] == ["2026-10-01", "2026-10-08"]
    assert line["y"] == [40.0, 55.0]
    assert line["text"] == ["! Below Mastery", "~ Near Mastery"]
    assert scores["y"] == [70.0, 40.0]
    bands = [s for s in figure["layout"]["shapes"] if s["type"] == "rect"]
    assert [(b["y0"], b["y1"]) for b in bands] == [(0, 45), (45, 65), (65, 85), (85, 100)]
    assert figure["layout"]["annotations"][0]["text"] == "✎ Overridden: Mastery"


def test_grid_csv_says_levels_in_words_with_overrides(db: None) -> None:
    cells = {(1, 10): Cell(level=4), (1, 11): Cell(level=1, overridden=True)}
    text = tables.grid_csv(mastery(cells))
    assert text.splitlines() == [
        "Student,Student number,CCSS.MATH.CONTENT.4.NF.A.1,CCSS.MATH.CONTENT.4.OA.A.3",
        '"Lovelace, Ada",S1,Exceeds Mastery,Below Mastery (overridden)',
        '"Turing, Alan",S2,No Evidence,No Evidence',
    ]


@pytest.mark.parametrize(
    ("code", "short"),
    [
        ("CCSS.MATH.CONTENT.4.NF.A.1", "4.NF.A.1"),
        ("CCSS.ELA-LITERACY.RL.4.1", "RL.4.1"),
        ("LOCAL.SCI.1", "LOCAL.SCI.1"),
    ],
)
def test_short_codes(code: str, short: str) -> None:
    assert standard_short_code(code) == short


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x.test","y")', '\'=HYPERLINK("http://x.test","y")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\tlead", "'\tlead"),
        ("\rlead", "'\rlead"),
        ("Ada Lovelace", "Ada Lovelace"),
        ("-2.5", "-2.5"),
        (-2.5, "-2.5"),
        (7, "7"),
    ],
)
def test_people_csvs_never_carry_a_formula(cell: object, written: str) -> None:
    import csv
    import io

    from dashboard.tables import csv_text

    text = csv_text(["name"], [[cell]])
    [header, [value]] = list(csv.reader(io.StringIO(text)))
    assert header == ["name"] and value == written


def test_a_chart_of_one_date_shows_days_not_milliseconds() -> None:
    one_day = charts.date_axis(["2026-10-08", "2026-10-08"])
    assert one_day["range"] == ["2026-10-05", "2026-10-11"]
    assert one_day["dtick"] == 24 * 60 * 60 * 1000 and one_day["tickformat"] == "%b %-d"
    # Several dates: plotly's own date ticks, which are days at the finest.
    assert charts.date_axis(["2026-10-01", "2026-10-08"]) == {"type": "date"}


def test_profile_trend_lines_differ_by_shape_and_are_named_at_their_ends() -> None:
    from dashboard.selectors.student import StudentMastery

    p = policy()
    standards = [
        Standard(pk=10 + n, code=f"CCSS.MATH.CONTENT.4.NF.A.{n}", subject="Mathematics")
        for n in (1, 2, 3)
    ]
    items = [
        SimpleNamespace(standard=s, short_code=s.code.removeprefix("CCSS.MATH.CONTENT."))
        for s in standards
    ]
    mastery = StudentMastery(
        policy=p,
        standards=items,  # type: ignore[arg-type]  # the figure reads .standard and .short_code
        history={
            s.pk: [(dt.date(2026, 10, 1), 0.4, 1), (dt.date(2026, 11, 1), 0.7 + s.pk / 100, 3)]
            for s in standards
        },
        scores=[],
        test_results=[],
        section_titles={},
    )
    ((subject, figure),) = charts.profile_trend_figures(mastery)
    assert subject == "Mathematics"
    symbols = [trace["marker"]["symbol"] for trace in figure["data"]]
    assert len(set(symbols)) == 3
    labels = figure["layout"]["annotations"]
    assert [label["text"] for label in labels] == ["4.NF.A.1", "4.NF.A.2", "4.NF.A.3"]
    assert all(label["x"] == "2026-11-01" for label in labels)
    # On a phone the labels give way to the legend (names with the same marker shapes).
    assert figure["narrow"]["annotations"] == []
    assert figure["narrow"]["margin"]["r"] < figure["layout"]["margin"]["r"]
    assert figure["layout"]["legend"] and all(trace["name"] for trace in figure["data"])


def test_the_profile_table_twin_carries_the_history_the_charts_draw() -> None:
    p = policy()
    standard = Standard(pk=10, code="CCSS.MATH.CONTENT.4.NF.A.1", subject="Mathematics")
    item = SimpleNamespace(
        standard=standard,
        short_code="4.NF.A.1",
        cell=Cell(level=3, probability=0.71, evidence_count=4),
    )
    html = tables.profile_standards_body(
        [(item, p.level_named(3), "")],  # type: ignore[list-item]  # the table reads attributes
        {10: [(dt.date(2026, 10, 1), 0.4, 1), (dt.date(2026, 11, 3), 0.71, 3)]},
    )
    assert "<td>Oct 1: 40% · Nov 3: 71%</td>" in html
    assert html.count("<td") == 6  # subject, level, chance, scores, trend, history

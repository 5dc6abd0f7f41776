"""Chart builders are pure: selector output in, figure dict out. No database here."""

import datetime as dt
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


def test_discrete_colorscale_gives_each_level_its_own_band() -> None:
    levels = [
        Level(0, "No Evidence", 0, "#e0e0e0", "–"),
        Level(1, "Below", 0, "#c51b7d", "!"),
        Level(3, "Mastery", 0.65, "#5aae61", "✓"),
    ]
    scale, zmin, zmax = charts.discrete_colorscale(levels)
    assert (zmin, zmax) == (-0.5, 3.5)
    # Four integer values 0..3: four bands, each a pair of stops of one colour.
    assert scale == [
        [0.0, "#e0e0e0"],
        [0.25, "#e0e0e0"],
        [0.25, "#c51b7d"],
        [0.5, "#c51b7d"],
        [0.5, "#bdbdbd"],  # value 2 is not on this scale: neutral grey
        [0.75, "#bdbdbd"],
        [0.75, "#5aae61"],
        [1.0, "#5aae61"],
    ]


def test_overview_figure_has_a_row_per_student_a_symbol_per_cell_and_marks_overrides() -> None:
    cells = {
        (1, 10): Cell(level=4),
        (1, 11): Cell(level=1, overridden=True, estimated_level=2),
        (2, 10): Cell(level=3),
    }
    figure = charts.section_overview_figure(mastery(cells))
    heatmap, *bars = figure["data"]
    assert heatmap["type"] == "heatmap"
    assert heatmap["y"] == ["Lovelace, Ada", "Turing, Alan"]
    assert heatmap["x"] == ["4.NF.A.1", "4.OA.A.3"]
    assert heatmap["z"] == [[4, 1], [3, 0]]
    assert heatmap["text"] == [["★", "!✎"], ["✓", "–"]]
    assert figure["layout"]["yaxis"]["autorange"] == "reversed"
    assert figure["meta"]["student_ids"] == [1, 2]
    assert figure["meta"]["standard_ids"] == [10, 11]
    # One stacked bar per level, no evidence first, with the count of students per column.
    assert [bar["meta"]["level"] for bar in bars] == [0, 1, 2, 3, 4]
    assert {bar["meta"]["level"]: bar["y"] for bar in bars} == {
        0: [0, 1],
        1: [0, 1],
        2: [0, 0],
        3: [1, 0],
        4: [1, 0],
    }
    assert all(bar["yaxis"] == "y2" and bar["xaxis"] == "x" for bar in bars)
    assert [bar["marker"]["color"] for bar in bars] == [
        "#e0e0e0",
        "#c51b7d",
        "#f1b6da",
        "#5aae61",
        "#127a45",
    ]
    # Share at or above mastery among those with evidence: 4.NF.A.1 both; 4.OA.A.3 none of one.
    assert [a["text"] for a in figure["layout"]["annotations"]] == ["100%", "0%"]


def test_overview_figure_stays_small_for_150_students_by_40_standards() -> None:
    students = [student(i, f"First{i}", f"Last{i}") for i in range(1, 151)]
    columns = [column(1000 + j, f"4.NF.A.{j}") for j in range(40)]
    cells = {
        (s.pk, c.standard.pk): Cell(level=(s.pk + j) % 5)
        for s in students
        for j, c in enumerate(columns)
    }
    serialized = orjson.dumps(charts.section_overview_figure(mastery(cells, students, columns)))
    assert len(serialized) < 100_000


def test_row_labels_keep_two_students_of_the_same_name_apart() -> None:
    assert charts.row_labels(["Lee, Kim", "Lee, Kim", "Ng, Al"]) == [
        "Lee, Kim",
        "Lee, Kim (2)",
        "Ng, Al",
    ]


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

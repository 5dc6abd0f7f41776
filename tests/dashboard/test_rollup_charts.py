"""The school and district reports' charts (issue 19): a hidden cell gets no bar and no number
anywhere in the figure (hover text and customdata included), only the page's words; a cell with
nobody measured says "no data"; a bar opens the same page as its row's link in the table twin,
which the page holds beside the chart."""

import datetime as dt
import html
import re
from types import SimpleNamespace
from typing import Any, cast

import orjson
import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from assessments.models import MasteryEstimate, Standard
from dashboard.rollup_charts import (
    BAR_COLOR,
    TOTAL_COLOR,
    BarRow,
    district_chart,
    grade_chart,
    proficiency_figure,
    proficiency_summary,
)
from dashboard.selectors.district import DistrictReport, LevelGroup
from dashboard.selectors.school import PAIRS, PAIRS_PROFICIENT, ReportRow, SchoolReport
from rollups.services import rollups_rebuild
from rollups.suppression import Cell, Reason, Suppression, Table, suppress_tables
from students.models import School, StudentSchoolMembership
from tests import factories
from tests.conftest import World

NOW = dt.datetime(2026, 12, 10, 12, tzinfo=dt.UTC)


def measured(n: int, proficient: int) -> Cell:
    """n students, one estimate each, `proficient` of them at or above mastery."""
    return Cell(n=n, numerators={PAIRS: n, PAIRS_PROFICIENT: proficient})


def decided(cells: dict[str, Cell], *, with_total: bool) -> dict[str, Cell]:
    """The cells as the rollups' suppression stamps them (a column, with its total or not)."""
    keys = tuple(cells)
    total = Cell(
        n=sum(c.n for c in cells.values()),
        numerators={
            PAIRS: sum(c.numerators[PAIRS] for c in cells.values()),
            PAIRS_PROFICIENT: sum(c.numerators[PAIRS_PROFICIENT] for c in cells.values()),
        },
    )
    table = Table(
        rows=keys,
        columns=("students",),
        cells={(key, "students"): cell for key, cell in cells.items()},
        column_totals={"students": total} if with_total else None,
    )
    (stamped,) = suppress_tables([table], min_n=10)
    return {key: stamped.cells[key, "students"] for key in keys}


# Grade 3: 9 students, 7 proficient (78%); grade 4: 10, 4 (40%); grade 5: 11, 6 (55%).
GRADES = {"03": measured(9, 7), "04": measured(10, 4), "05": measured(11, 6)}
LABELS = {"03": "Grade 3", "04": "Grade 4", "05": "Grade 5"}


def grade_rows(cells: dict[str, Cell]) -> list[BarRow]:
    return [BarRow(LABELS[key], cell, key=key) for key, cell in cells.items()]


def drawn(figure: dict[str, Any]) -> dict[str, list]:
    (trace,) = figure["data"]
    return {name: trace[name] for name in ("x", "y", "text", "hovertext", "customdata")}


def words_at(figure: dict[str, Any]) -> dict[int, str]:
    """The words drawn where a bar would be, by row position."""
    return {a["y"]: a["text"] for a in figure["layout"]["annotations"] if a.get("yref") == "y"}


def test_a_group_of_9_has_no_bar_and_no_number_while_10_and_11_have_theirs() -> None:
    cells = decided(GRADES, with_total=False)
    assert cells["03"].hidden and not cells["04"].hidden and not cells["05"].hidden
    figure = proficiency_figure(grade_rows(cells))
    assert drawn(figure) == {
        "x": [40.0, 55.0],
        "y": [1, 2],
        "text": ["40%", "55%"],
        "hovertext": [
            "40% proficient, 10 students measured",
            "55% proficient, 11 students measured",
        ],
        "customdata": ["04", "05"],
    }
    assert words_at(figure) == {0: "<i>fewer than 10 students</i>"}
    # The label says so in the page's words; grade 3's share (78%, 7 of 9) is nowhere.
    assert figure["layout"]["yaxis"]["ticktext"] == ["Grade 3", "Grade 4", "Grade 5"]
    text = orjson.dumps(figure).decode()
    assert "78" not in text and "77.7" not in text and "03" not in text
    assert not re.search(r"\b[79] students", text)


def test_a_total_hides_the_10_too_and_it_reads_not_shown() -> None:
    cells = decided(GRADES, with_total=True)
    assert cells["04"].suppression == Suppression(Reason.COMPLEMENTARY, 10)
    figure = proficiency_figure(grade_rows(cells))
    assert drawn(figure)["customdata"] == ["05"]
    assert drawn(figure)["y"] == [2]
    assert words_at(figure) == {0: "<i>fewer than 10 students</i>", 1: "<i>not shown</i>"}
    text = orjson.dumps(figure).decode()
    assert "40%" not in text and "78" not in text
    assert not re.search(r"(?<!than )\b10 students", text) and '"04"' not in text


def test_a_group_with_nobody_measured_has_no_bar_and_says_no_data() -> None:
    figure = proficiency_figure([BarRow("Art", measured(0, 0)), BarRow("Music", measured(12, 3))])
    assert drawn(figure)["y"] == [1] and drawn(figure)["text"] == ["25%"]
    assert words_at(figure) == {0: "<i>no data</i>"}


def test_a_share_of_0_is_a_bar_labelled_0_percent() -> None:
    figure = proficiency_figure([BarRow("Music", measured(12, 0))])
    assert drawn(figure)["x"] == [0.0] and drawn(figure)["text"] == ["0%"]
    assert words_at(figure) == {}


def test_the_summary_names_highest_and_lowest_and_hidden_rows_in_words() -> None:
    cells = decided(GRADES, with_total=False)
    summary = proficiency_summary(grade_rows(cells), "grade", "grades")
    assert summary == (
        "Of the 2 grades with a bar, Grade 5 is highest at 55% and Grade 4 lowest at 40%; "
        "no bar for Grade 3 (fewer than 10 students)."
    )


def test_a_total_is_a_grey_bar_below_a_line_that_opens_nothing() -> None:
    rows = [
        *grade_rows(decided(GRADES, with_total=False)),
        BarRow("Whole school", measured(30, 15), key="school", total=True, divider=True),
    ]
    figure = proficiency_figure(rows)
    assert drawn(figure)["y"] == [1, 2, 3] and drawn(figure)["text"] == ["40%", "55%", "50%"]
    assert drawn(figure)["customdata"] == ["04", "05", None]
    assert figure["data"][0]["marker"]["color"] == [BAR_COLOR, BAR_COLOR, TOTAL_COLOR]
    (line,) = figure["layout"]["shapes"]
    assert line["y0"] == line["y1"] == 2.5 and line["xref"] == "paper"


def report_row(key: str | int, label: str, cell: Cell) -> ReportRow:
    return ReportRow(key=key, label=label, code="", now=cell, start=None)


def school_report(cells: dict[str, Cell], total: Cell, grade: str | None = None) -> SchoolReport:
    return cast(
        SchoolReport,
        SimpleNamespace(
            grade=grade,
            subject=None,
            total=report_row(grade or "school", "Whole school", total),
            tables={"grades": [report_row(k, LABELS[k], c) for k, c in cells.items()]},
        ),
    )


def test_a_grade_bar_opens_its_grade_and_the_whole_school_comes_last() -> None:
    chart = grade_chart(school_report(decided(GRADES, with_total=False), measured(30, 17)))
    assert drawn(chart.figure)["customdata"] == ["04", "05", None]
    assert drawn(chart.figure)["text"] == ["40%", "55%", "57%"]  # the school: 17 of 30
    assert chart.figure["layout"]["yaxis"]["ticktext"][-1] == "Whole school"
    assert chart.summary == (
        "Of the 2 grades with a bar, Grade 5 is highest at 55% and Grade 4 lowest at 40%; "
        "no bar for Grade 3 (fewer than 10 students); the whole school is at 57%."
    )
    assert orjson.loads(chart.json) == chart.figure
    # One grade's page: its grade's bar is its total already.
    one_grade = grade_chart(school_report(decided(GRADES, with_total=False), measured(10, 4), "04"))
    assert drawn(one_grade.figure)["customdata"] == ["04", "05"]


def test_the_district_chart_groups_schools_by_level_and_links_only_schools() -> None:
    elementary = {1: measured(12, 6), 2: measured(9, 9), 3: measured(11, 11)}
    stamped = decided({str(k): c for k, c in elementary.items()}, with_total=True)
    levels = [
        LevelGroup(
            level="elementary",
            label="Elementary",
            total=report_row("elementary", "Elementary", measured(32, 26)),
            schools=[
                report_row(1, "Maple Elementary", stamped["1"]),
                report_row(2, "Oak Elementary", stamped["2"]),
                report_row(3, "Birch Elementary", stamped["3"]),
            ],
        ),
        LevelGroup(
            level="middle",
            label="Middle",
            total=report_row("middle", "Middle", measured(20, 5)),
            schools=[report_row(4, "Cedar Middle", measured(20, 5))],
        ),
    ]
    report = cast(
        DistrictReport,
        SimpleNamespace(levels=levels, total=report_row("district", "Home", measured(52, 31))),
    )
    chart = district_chart(report)
    figure = chart.figure
    assert figure["layout"]["yaxis"]["ticktext"] == [
        "<b>Elementary</b>",
        "Maple Elementary",
        "Oak Elementary",
        "Birch Elementary",
        "All elementary<br>schools",
        "<b>Middle</b>",
        "Cedar Middle",
        "All middle schools",
        "Whole district",
    ]
    # Only shown schools have bars; the totals have bars that open nothing.
    assert drawn(figure)["y"] == [1, 4, 6, 7, 8]
    assert drawn(figure)["customdata"] == [1, None, 4, None, None]
    assert drawn(figure)["text"] == ["50%", "81%", "25%", "25%", "60%"]  # the district: 31 of 52
    assert words_at(figure) == {2: "<i>fewer than 10 students</i>", 3: "<i>not shown</i>"}
    # A line between the levels, and above the district.
    assert [line["y0"] for line in figure["layout"]["shapes"]] == [4.5, 7.5]
    assert chart.summary == (
        "Of the 2 schools with a bar, Maple Elementary is highest at 50% and Cedar Middle "
        "lowest at 25%; no bar for Oak Elementary (fewer than 10 students), Birch Elementary "
        "(not shown); the district as a whole is at 60%."
    )


# --- On the page: the chart and its table twin ---------------------------------------------------


@pytest.fixture
def _today():
    with time_machine.travel(NOW, tick=False):
        yield


def _measured(world: World, school: School, grade: str, count: int, standard: Standard) -> None:
    for _ in range(count):
        student = factories.StudentFactory.create(district=world.district)
        StudentSchoolMembership.objects.create(
            district=world.district, student=student, school=school, grade_level=grade
        )
        MasteryEstimate.objects.create(student=student, standard=standard, level=3)


def _figure(page: str, element_id: str) -> dict[str, Any]:
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', page)
    assert found, f"no {element_id} on the page"
    return orjson.loads(found.group(1))


def _chart_element(page: str, element_id: str) -> str:
    found = re.search(rf'<div id="{element_id}" class="chart"[^>]*>', page)
    assert found, f"no chart #{element_id}"
    return found.group(0)


def _bar_url(element: str, key: object) -> str:
    """The page a click on the bar of `key` opens (dashboard.js fills the chart's template)."""
    found = re.search(r'data-bar-url="([^"]*)"', element)
    assert found, "the chart's bars open nothing"
    return html.unescape(found.group(1)).replace("{key}", str(key))


@pytest.mark.django_db
@pytest.mark.usefixtures("_today")
def test_the_school_page_shows_the_grade_chart_beside_its_table(
    client: Client, world: World
) -> None:
    standard = Standard.objects.create(district=world.district, code="MATH.1", subject="Math")
    for grade, count in (("03", 9), ("04", 10), ("05", 11)):
        _measured(world, world.school, grade, count, standard)
    rollups_rebuild(world.district.pk, today=NOW.date())
    client.force_login(world.principal)
    page = client.get(reverse("students:school_detail", args=[world.school.pk])).content.decode()

    element = _chart_element(page, "grades-chart")
    assert 'role="figure"' in element and 'aria-labelledby="grades-chart-heading"' in element
    assert 'data-figure="grades-figure"' in element
    figure = _figure(page, "grades-figure")
    # Grade 3 (9) is hidden, and grade 4 (10) with it (the school's 30 would give it away).
    # The whole school's bar comes last and opens nothing.
    assert drawn(figure)["customdata"] == ["05", None]
    assert drawn(figure)["text"] == ["100%", "100%"]
    # A bar opens the very page that the grade's link in the table twin opens.
    assert _bar_url(element, "05") == "?month=2026-12&grade=05"
    assert 'href="?month=2026-12&amp;grade=05">Grade 5</a>' in page
    assert 'aria-label="By grade, table"' in page
    assert 'The table <a href="#table-grades-heading">By grade</a> below holds the same' in page
    assert _figure(page, "subjects-figure")["data"][0]["text"] == ["100%", "100%"]
    assert "plotly-basic" in page  # loaded by dashboard.js when a chart is drawn


@pytest.mark.django_db
@pytest.mark.usefixtures("_today")
def test_the_district_page_shows_the_school_chart_beside_its_table(
    client: Client, world: World
) -> None:
    standard = Standard.objects.create(district=world.district, code="MATH.1", subject="Math")
    birch = factories.SchoolFactory.create(
        district=world.district, name="Birch Elementary", level=world.school.level
    )
    for school, count in ((world.school, 12), (world.other_school, 9), (birch, 11)):
        _measured(world, school, "04", count, standard)
    rollups_rebuild(world.district.pk, today=NOW.date())
    client.force_login(world.district_staff)
    url = reverse("dashboard:district_schools", args=[world.district.pk])
    page = client.get(url).content.decode()

    element = _chart_element(page, "district-chart")
    assert 'aria-labelledby="district-chart-heading"' in element
    figure = _figure(page, "district-figure")
    keys = [key for key in drawn(figure)["customdata"] if key is not None]
    assert keys == [world.school.pk]  # 9 is hidden, and 11 with it
    school_url = _bar_url(element, world.school.pk)
    assert school_url == f"/schools/{world.school.pk}/?month=2026-12"
    assert f'href="{html.escape(school_url)}">{world.school.name}</a>' in page
    assert 'aria-label="Schools by level, table"' in page
    assert "<i>fewer than 10 students</i>" in orjson.dumps(figure).decode()

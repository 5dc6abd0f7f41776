"""The section page's levels grid in Chromium (issue 18): one Tab stop whose arrow keys move from
cell to cell, each cell named "student, standard: level" as the keyboard reaches it, Enter opening
that student's history on that standard; sized to its data, scrolling inside its box on a long
roster with the students' names and the standards' codes kept in view; no axe violation of any
impact at 1366 px and 360 px. Screenshots of a class of 25 and of 150 × 40 at both widths go to
test-artifacts/screenshots/heatmap-*.png."""

import datetime as dt
import random
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import FloatRect, Locator, Page, expect

from accounts.services import derived_access_sync
from assessments.engine import estimates_recompute
from assessments.models import Assessment, AssessmentKind, MasteryEstimate, Standard
from assessments.services import ScoreInput, scores_record
from students.models import Enrollment, StudentSchoolMembership
from tests import factories
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import LAPTOP, PHONE, SCREENSHOT_DIR, WIDTHS
from tests.conftest import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOMAINS = ["RP.A", "NS.A", "NS.B", "NS.C", "EE.A", "EE.B", "EE.C", "G.A", "SP.A", "SP.B"]
LEVEL_NAMES = {
    0: "No Evidence",
    1: "Below Mastery",
    2: "Near Mastery",
    3: "Mastery",
    4: "Exceeds Mastery",
}


@pytest.fixture
def world() -> World:
    return build_world()


def grown_class(world: World, students: int, standards: int) -> list[Standard]:
    """The world's section grown to `students` (its two among them) by `standards` (its own among
    them), each standard measured by a quiz every student took, with levels across the scale and
    a few students not yet scored (no evidence)."""
    rng = random.Random(18)  # noqa: S311 - test data, not a secret
    for _ in range(students - 2):
        student = factories.StudentFactory.create(district=world.district)
        Enrollment.objects.create(district=world.district, student=student, section=world.section)
        StudentSchoolMembership.objects.create(
            district=world.district, student=student, school=world.school, grade_level="06"
        )
    derived_access_sync()
    codes = [
        f"CCSS.MATH.CONTENT.6.{DOMAINS[j % len(DOMAINS)]}.{j // len(DOMAINS) + 1}"
        for j in range(standards - 1)
    ]
    measured = [world.standard] + [
        Standard.objects.create(
            district=world.district, code=code, subject="Mathematics", description=f"About {code}"
        )
        for code in codes
    ]
    roster = [e.student for e in Enrollment.objects.filter(section=world.section)]
    today = timezone.localdate()
    inputs = []
    for index, standard in enumerate(measured[1:], start=1):
        due_on = today - dt.timedelta(days=index % 30)
        quiz = Assessment.objects.create(
            district=world.district,
            section=world.section,
            title=f"Quiz {index}",
            kind=AssessmentKind.QUIZ,
            max_points=10,
            due_on=due_on,
        )
        quiz.standards.add(standard)
        inputs += [
            ScoreInput(
                student_id=student.pk,
                assessment_id=quiz.pk,
                points=Decimal(rng.choice([0, 2, 4, 5, 6, 7, 8, 9, 10])),
                scored_on=due_on,
            )
            for student in roster
            if rng.random() > 0.04
        ]
    estimates_recompute(scores_record(scores=inputs, enqueue=False).estimate_ids)
    return measured


def focused(page: Page) -> Locator:
    return page.locator("*:focus")


def in_grid(page: Page) -> bool:
    return page.evaluate("document.getElementById('heatmap').contains(document.activeElement)")


def spoken_name(page: Page, cell: Locator) -> str:
    """What a screen reader would say for a level cell, from the page's own data: the row's
    student, the column's code, the level the database holds."""
    student_id = int(cell.locator("xpath=..").get_attribute("data-student") or 0)
    column = cell.evaluate("cell => cell.cellIndex")
    header = page.locator("#heatmap thead th").nth(column)
    standard_id = int(header.get_attribute("data-standard") or 0)
    name = cell.locator("xpath=../th").inner_text()
    estimate = MasteryEstimate.objects.filter(student_id=student_id, standard_id=standard_id)
    level = estimate.values_list("level", flat=True).first() or 0
    return f"{name}, {header.inner_text()}: {LEVEL_NAMES[level]}"


def box_of(locator: Locator) -> FloatRect:
    box = locator.bounding_box()
    assert box is not None
    return box


def screenshots(page: Page, name: str) -> None:
    """The whole page, and its levels panel alone (legible at a phone's width), at each width."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    panel = page.locator("section[aria-labelledby=mastery-heading]")
    for label, viewport in WIDTHS:
        page.set_viewport_size(viewport)
        page.wait_for_timeout(400)  # the bars refit after a resize
        page.screenshot(path=str(SCREENSHOT_DIR / f"{name}-{label}.png"), full_page=True)
        panel.screenshot(path=str(SCREENSHOT_DIR / f"{name}-{label}-levels.png"))
    page.set_viewport_size(LAPTOP)


def test_the_grid_is_one_tab_stop_its_arrows_move_and_enter_opens_a_cell(
    page: Page, log_in, world: World, page_problems
) -> None:
    grown_class(world, students=25, standards=8)
    log_in(world.teacher)
    page.goto(f"/sections/{world.section.pk}/")
    expect(page.locator("#overview-chart")).to_have_class(re.compile("is-drawn"), timeout=30_000)
    grid = page.get_by_role("grid", name="Mastery level of each student on each standard")
    expect(grid.locator("tbody tr")).to_have_count(25)
    expect(grid.locator("thead th[data-standard]")).to_have_count(8)

    # Tab from the filters' last control: one stop reaches the grid's first level cell...
    page.get_by_role("button", name="Apply").focus()
    page.keyboard.press("Tab")
    first = grid.locator("tbody tr").first.locator("td").first
    expect(first).to_be_focused()
    expect(first).to_have_accessible_name(spoken_name(page, first))
    # ... drawn so that it shows (a ring of two colours, on any level's colour) ...
    ring = first.evaluate(
        "c => [getComputedStyle(c).outlineStyle, getComputedStyle(c).outlineWidth]"
    )
    assert ring[0] == "solid" and float(ring[1].removesuffix("px")) >= 3
    # ... and the next Tab leaves it: its 25 names and 8 codes are not Tab stops.
    page.keyboard.press("Tab")
    assert not in_grid(page)
    page.keyboard.press("Shift+Tab")
    expect(first).to_be_focused()

    # The arrow keys move; the grid stays one stop, at the cell last reached.
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    cell = grid.locator("tbody tr").nth(1).locator("td").nth(1)
    expect(cell).to_be_focused()
    code = grid.locator("thead th").nth(2).inner_text()
    name = spoken_name(page, cell)
    expect(cell).to_have_accessible_name(name)
    assert re.fullmatch(rf".+, .+, {re.escape(code)}: [A-Za-z ]+", name), name
    assert grid.locator('[tabindex="0"]').count() == 1
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")
    expect(cell).to_be_focused()
    # Home goes to the row's name (its link to the profile), End to the row's last standard.
    page.keyboard.press("Home")
    expect(focused(page)).to_have_attribute("href", re.compile(r"^/students/\d+/"))
    page.keyboard.press("End")
    expect(grid.locator("tbody tr").nth(1).locator("td").last).to_be_focused()
    # Up past the first student reaches the codes, each a link to its standard.
    page.keyboard.press("Control+Home")
    expect(focused(page)).to_have_text("Student")
    page.keyboard.press("ArrowRight")
    expect(focused(page)).to_have_attribute(
        "href", f"/sections/{world.section.pk}/standards/{world.standard.pk}/"
    )
    page.keyboard.press("ArrowDown")
    page.keyboard.press("PageDown")
    expect(grid.locator("tbody tr").nth(10).locator("td").first).to_be_focused()
    for _ in range(9):
        page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowRight")
    expect(cell).to_be_focused()

    # Enter opens that student's history on that standard.
    student_id = cell.locator("xpath=..").get_attribute("data-student")
    standard_id = grid.locator("thead th").nth(2).get_attribute("data-standard")
    page.keyboard.press("Enter")
    expect(page).to_have_url(
        re.compile(rf"/sections/{world.section.pk}/students/{student_id}/standards/{standard_id}/$")
    )
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"on {code}")

    # At a laptop's and a phone's width: nothing axe finds, nothing wider than the screen.
    page.goto(f"/sections/{world.section.pk}/")
    for _, viewport in WIDTHS:
        page.set_viewport_size(viewport)
        expect(page.locator("#overview-chart")).to_have_class(re.compile("is-drawn"))
        assert_no_axe_violations(page, "section overview, a class of 25")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshots(page, "heatmap-25")
    assert page_problems.found() == {}


def test_a_long_roster_keeps_names_and_codes_in_view_while_the_grid_scrolls(
    page: Page, log_in, world: World, page_problems
) -> None:
    grown_class(world, students=150, standards=40)
    log_in(world.teacher)
    page.goto(f"/sections/{world.section.pk}/")
    # plotly.js is 1.5 MB to parse: on two busy cores the bars can take a while.
    expect(page.locator("#overview-chart")).to_have_class(re.compile("is-drawn"), timeout=30_000)
    grid = page.locator("#heatmap")
    expect(grid.locator("tbody tr")).to_have_count(150)
    region = page.locator(".hm-scroll")
    # Cells of one readable size, whatever the roster: the grid is larger than its box and
    # scrolls inside it, both ways.
    cell_box = box_of(grid.locator("tbody td").first)
    assert 34 <= cell_box["width"] <= 40 and 34 <= cell_box["height"] <= 40
    sizes = region.evaluate(
        "r => [r.scrollWidth > r.clientWidth, r.scrollHeight > r.clientHeight, r.clientHeight]"
    )
    assert sizes[0] and sizes[1] and sizes[2] <= LAPTOP["height"]

    row = grid.locator("tbody tr").nth(3)
    before = box_of(row.locator("th"))
    column = grid.locator("thead th").nth(5)
    region.scroll_into_view_if_needed()
    region.evaluate("r => { r.scrollLeft = 900; r.scrollTop = 2000; }")
    page.wait_for_timeout(100)
    # Sideways: the names stay where they were, the cells slide under them.
    box = box_of(row.locator("th"))
    assert abs(box["x"] - before["x"]) < 1 and box["width"] == pytest.approx(before["width"])
    region_box = box_of(region)
    assert region_box["x"] <= box["x"] < region_box["x"] + 2
    # What shows just under the codes, at the left of the box, is a student's name (the 56th:
    # the box has scrolled 2,000 px down), not a level cell.
    shown = page.evaluate(
        """() => {
            const box = document.querySelector(".hm-scroll").getBoundingClientRect();
            const codes = document.querySelector("#heatmap thead th").getBoundingClientRect();
            const found = document.elementFromPoint(box.left + 20, codes.bottom + 20);
            const name = found && found.closest("tbody th");
            return name ? name.parentNode.rowIndex : null;
        }"""
    )
    assert shown is not None and 50 <= shown <= 60, shown
    # Down: the codes stay at the top of the box.
    head_box = box_of(column)
    assert region_box["y"] <= head_box["y"] < region_box["y"] + 2

    # The keyboard brings a cell into view beside the names and under the codes, not behind them.
    def assert_in_view(cell: Locator) -> None:
        expect(cell).to_be_focused()
        page.wait_for_timeout(50)
        region_box = box_of(region)
        names = box_of(cell.locator("xpath=../th"))
        codes = box_of(grid.locator("thead th").first)
        box = box_of(cell)
        assert box["x"] >= names["x"] + names["width"] - 1, (box, names)
        assert box["y"] >= codes["y"] + codes["height"] - 1, (box, codes)
        assert box["x"] + box["width"] <= region_box["x"] + region_box["width"] + 1
        assert box["y"] + box["height"] <= region_box["y"] + region_box["height"] + 1

    region.evaluate("r => { r.scrollLeft = 0; r.scrollTop = 0; }")
    page.get_by_role("button", name="Apply").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Control+End")
    last = grid.locator("tbody tr").last.locator("td").last
    assert_in_view(last)
    expect(last).to_have_accessible_name(spoken_name(page, last))
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    assert_in_view(grid.locator("tbody tr").last.locator("td").first)
    for _ in range(3):
        page.keyboard.press("PageUp")
    assert_in_view(grid.locator("tbody tr").nth(149 - 30).locator("td").first)
    for _ in range(12):
        page.keyboard.press("ArrowRight")
    for _ in range(3):
        page.keyboard.press("ArrowUp")
    assert_in_view(grid.locator("tbody tr").nth(149 - 33).locator("td").nth(12))

    # At both widths: no axe violation, nothing wider than the screen; the names still show.
    for _, viewport in WIDTHS:
        page.set_viewport_size(viewport)
        expect(page.locator("#overview-chart")).to_have_class(re.compile("is-drawn"))
        assert_no_axe_violations(page, "section overview, 150 students × 40 standards")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size(PHONE)
    phone_names = box_of(grid.locator("tbody tr").first.locator("th"))
    assert phone_names["width"] <= PHONE["width"] / 2
    screenshots(page, "heatmap-150x40")
    assert page_problems.found() == {}

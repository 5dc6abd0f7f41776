"""The standard picker in Chromium: a teacher searches the new-assessment form's standards by
words of a description, picks one with the keyboard alone and creates the assessment with it.
axe finds nothing, of any impact, with the picker filtered at laptop and phone widths."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, ViewportSize, expect

from assessments.models import Assessment, Standard, StandardKind
from tests.browser.axe import axe_violations, describe
from tests.browser.conftest import LAPTOP, SCREENSHOT_DIR
from tests.conftest import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE: ViewportSize = {"width": 360, "height": 780}
FRACTIONS = [
    ("4.NF.A.2", "Compare two fractions with different numerators and denominators."),
    ("4.NF.A.3", "Recognize equivalent fractions on a number line."),
]
OTHERS = [
    ("4.NF.B.3", "Understand a fraction a/b with a > 1 as a sum of fractions 1/b."),
    ("4.NF.B.4", "Multiply a fraction by a whole number."),
    ("4.OA.A.3", "Solve multistep word problems with whole numbers."),
    ("4.NBT.B.4", "Fluently add and subtract multi-digit whole numbers."),
    ("4.MD.A.1", "Know relative sizes of measurement units within one system of units."),
    ("4.G.A.1", "Draw points, lines, line segments, rays, angles, and perpendicular lines."),
]


@pytest.fixture
def world() -> World:
    """The shared role fixtures with a grade 4 mathematics catalogue, committed for the live
    server: two clusters of fractions, a few other standards, one of them taught last week."""
    world = build_world()
    district = world.district

    def cluster(code: str, description: str) -> Standard:
        return Standard.objects.create(
            district=district,
            code=f"CCSS.MATH.CONTENT.{code}",
            kind=StandardKind.CLUSTER,
            description=description,
            subject="Mathematics",
        )

    clusters = {
        "4.NF.A": cluster("4.NF.A", "Extend understanding of fraction equivalence and ordering."),
        "4.NF.B": cluster("4.NF.B", "Build fractions from unit fractions."),
    }
    Standard.objects.filter(pk=world.standard.pk).update(
        parent=clusters["4.NF.A"],
        description="Explain why a fraction a/b is equivalent to a fraction (n × a)/(n × b).",
        grade_levels=["04"],
    )
    for code, description in FRACTIONS + OTHERS:
        Standard.objects.create(
            district=district,
            code=f"CCSS.MATH.CONTENT.{code}",
            description=description,
            subject="Mathematics",
            grade_levels=["04"],
            parent=clusters.get(code.rsplit(".", 1)[0]),
        )
    taught = Assessment.objects.create(
        district=district,
        section=world.section,
        title="Word problems check",
        max_points=5,
        due_on=timezone.localdate() - dt.timedelta(days=6),
    )
    taught.standards.add(Standard.objects.get(code="CCSS.MATH.CONTENT.4.OA.A.3"))
    return world


def _visible_codes(page: Page) -> list[str]:
    return page.locator("[data-picker-option]:visible input").evaluate_all(
        "boxes => boxes.map(box => box.dataset.code)"
    )


def _check_at_both_widths(page: Page, name: str) -> None:
    """No axe violation of any impact at laptop and phone widths; a screenshot of each."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for label, viewport in (("laptop", LAPTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        violations = axe_violations(page)
        assert not violations, f"axe on {name} at {label} width:\n{describe(violations)}"
        page.screenshot(path=str(SCREENSHOT_DIR / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(LAPTOP)


def test_teacher_searches_picks_with_the_keyboard_and_creates(
    page: Page, log_in, world: World, page_problems
) -> None:
    log_in(world.teacher)
    page.goto(reverse("assessments:section_assessments", kwargs={"pk": world.section.pk}))
    picker = page.locator("[data-standard-picker]")
    expect(picker.get_by_role("group", name="Recently taught in this section")).to_contain_text(
        "4.OA.A.3"
    )
    expect(
        picker.get_by_role("group", name=re.compile(r"Mathematics · Grade 4 · 4\.NF\.A Extend"))
    ).to_be_visible()
    assert len(_visible_codes(page)) == 1 + len(FRACTIONS) + len(OTHERS)

    page.get_by_label("Title").fill("Equivalent fractions exit ticket")
    page.get_by_label("Due on").fill(timezone.localdate().isoformat())
    page.get_by_label("Max points").fill("4")
    # From the field before it, Tab lands in the search box.
    page.get_by_label("Max points").focus()
    page.keyboard.press("Tab")
    search = page.get_by_label("Search standards")
    expect(search).to_be_focused()
    page.keyboard.type("equivalent")
    expect(page.locator("[data-picker-option]:visible")).to_have_count(2)
    assert _visible_codes(page) == ["4.NF.A.1", "4.NF.A.3"]
    expect(picker.get_by_role("group", name=re.compile("Recently taught"))).to_be_hidden()
    expect(page.locator("[data-picker-shown]")).to_have_text("2 of 9 standards match “equivalent”.")

    # Down into the options, down once more, Space selects: the keyboard alone.
    page.keyboard.press("ArrowDown")
    first = page.get_by_role("checkbox", name=re.compile(r"^4\.NF\.A\.1 Explain why"))
    expect(first).to_be_focused()
    page.keyboard.press("ArrowDown")
    chosen = page.get_by_role("checkbox", name=re.compile(r"^4\.NF\.A\.3 Recognize"))
    expect(chosen).to_be_focused()
    page.keyboard.press("Space")
    expect(chosen).to_be_checked()
    expect(first).not_to_be_checked()
    expect(page.locator("[data-picker-count]")).to_have_text("1 selected")
    expect(page.get_by_role("button", name="Remove 4.NF.A.3")).to_be_visible()

    _check_at_both_widths(page, "standard-picker-filtered")

    # Escape goes back to the search box, and there clears the search: everything shows again.
    page.keyboard.press("Escape")
    expect(search).to_be_focused()
    page.keyboard.press("Escape")
    expect(search).to_have_value("")
    assert len(_visible_codes(page)) == 1 + len(FRACTIONS) + len(OTHERS)
    expect(chosen).to_be_checked()
    _check_at_both_widths(page, "standard-picker")

    page.get_by_role("button", name="Create and enter scores").click()
    page.wait_for_url(re.compile(r"/assessments/\d+/scores/$"))
    assessment = Assessment.objects.get(title="Equivalent fractions exit ticket")
    assert [s.code for s in assessment.standards.all()] == ["CCSS.MATH.CONTENT.4.NF.A.3"]
    assert page_problems.found() == {}


def test_a_chip_removes_its_standard_and_keeps_the_keyboard_in_place(
    page: Page, log_in, world: World, page_problems
) -> None:
    log_in(world.teacher)
    page.goto(reverse("assessments:section_assessments", kwargs={"pk": world.section.pk}))
    for code in ("4.NF.A.2", "4.G.A.1"):
        page.get_by_role("checkbox", name=re.compile(rf"^{re.escape(code)} ")).check()
    expect(page.locator("[data-picker-count]")).to_have_text("2 selected")
    remove = page.get_by_role("button", name="Remove 4.NF.A.2")
    remove.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("checkbox", name=re.compile(r"^4\.NF\.A\.2 "))).not_to_be_checked()
    expect(page.locator("[data-picker-count]")).to_have_text("1 selected")
    expect(page.get_by_role("button", name="Remove 4.G.A.1")).to_be_focused()
    assert page_problems.found() == {}

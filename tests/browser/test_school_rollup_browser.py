"""The principal's school report in Chromium: open the school page, click a grade (its bar in
the chart, or its link in the table from the keyboard), click a section, land on the section page;
district staff compare the schools, sort them and open one (from its bar too); the charts drawn,
axe clean and nothing wider than the screen at laptop and phone widths, page weight within the
budget, screenshots kept."""

import re

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from assessments.models import MasteryEstimate
from rollups.services import rollups_rebuild
from students.models import Enrollment, StudentSchoolMembership
from tests import factories
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import LAPTOP, PHONE, SCREENSHOT_DIR, WIDTHS
from tests.browser.test_teacher_pages_browser import (
    CLS_BUDGET,
    FIRST_VISIT_BUDGET,
    RECORD_LAYOUT_SHIFTS,
    REPEAT_VISIT_BUDGET,
    settle,
    weigh,
    wider_than_the_screen,
)
from tests.conftest import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world() -> World:
    """The role fixtures and a school of grades 3 (9 measured), 4 (12, in the world's Grade 4
    Math section) and 5 (11), its rollups built; committed for the live server's thread."""
    world = build_world()
    world.section.grade_levels = ["04"]
    world.section.save(update_fields=["grade_levels"])
    for grade, count in (("03", 9), ("04", 12), ("05", 11)):
        for n in range(count):
            student = factories.StudentFactory.create(district=world.district)
            StudentSchoolMembership.objects.create(
                district=world.district, student=student, school=world.school, grade_level=grade
            )
            if grade == "04":
                Enrollment.objects.create(
                    district=world.district, student=student, section=world.section
                )
            MasteryEstimate.objects.create(
                student=student, standard=world.standard, level=1 + n % 4
            )
    rollups_rebuild(world.district.pk)
    return world


def check_page(page: Page, name: str) -> None:
    """At each width: the charts drawn (an svg each) and fitted, axe clean, nothing wider than a
    phone, a screenshot."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for label, viewport in WIDTHS:
        page.set_viewport_size(viewport)
        page.wait_for_timeout(300)  # charts follow the width after a short debounce
        settle(page)
        for chart in page.locator(".chart[data-figure]").all():
            expect(chart.locator("svg.main-svg").first).to_be_visible()
        assert_no_axe_violations(page, name)
        if viewport is PHONE:
            widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert widths[0] <= widths[1], f"{name}: too wide: {wider_than_the_screen(page)}"
        page.screenshot(path=str(SCREENSHOT_DIR / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(LAPTOP)
    page.wait_for_timeout(300)


def click_bar(chart: Locator, index: int = 0) -> None:
    """Click a drawn bar where it is (Plotly's drag layer lies over the bars and takes the
    click, as it does a reader's)."""
    bar = chart.locator(".barlayer .point path").nth(index)
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    assert box, "the bar is not drawn"
    chart.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_a_principal_walks_school_grade_section(
    page: Page, world: World, log_in, page_problems
) -> None:
    log_in(world.principal)
    page.goto(f"/schools/{world.school.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(world.school.name)
    grades = page.get_by_role("region", name="By grade, table")
    expect(grades.get_by_role("row", name=re.compile("Grade 3"))).to_contain_text("fewer than 10")
    chart = page.get_by_role("figure", name="Proficiency by grade")
    check_page(page, "principal-school-report")
    # Grade 3 (9 measured) and one more grade have no bar (the school's 32 would give one away):
    # grade 4's bar and the whole school's, each with its percentage, the hidden grades' words
    # where their bars would be.
    expect(chart.locator(".barlayer .point path")).to_have_count(2)
    expect(chart.locator(".annotation-text")).to_have_text(["fewer than 10 students", "not shown"])
    expect(chart.locator(".bartext")).to_have_text([re.compile(r"^\d+%$")] * 2)

    # Printed: no navigation, filters or export links; the tables stay.
    page.emulate_media(media="print")
    expect(page.locator("header.site-header")).to_be_hidden()
    expect(page.locator("form.report-filters")).to_be_hidden()
    expect(grades).to_be_visible()
    printed = page.pdf(
        path=str(SCREENSHOT_DIR / "principal-school-report-print.pdf"), format="Letter"
    )
    assert len(re.findall(rb"/Type\s*/Page[^s]", printed)) == 1  # one printed page
    page.emulate_media(media="screen")

    # The keyboard's way to a grade is the table twin's link (a bar takes no focus).
    grades.get_by_role("link", name="Grade 4").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"grade=04"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Grade 4")
    page.go_back()
    # A click on the grade's bar opens the same report.
    chart = page.get_by_role("figure", name="Proficiency by grade")
    expect(chart).to_have_class(re.compile("is-drawn"))
    click_bar(chart)
    page.wait_for_url(re.compile(r"\?month=[^#]*&grade=04$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Grade 4")
    check_page(page, "principal-school-report-grade")

    sections = page.get_by_role("region", name="By section and teacher, table")
    sections.get_by_role("link", name=world.section.title).click()
    page.wait_for_url(re.compile(rf"/sections/{world.section.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(world.section.title)
    assert page_problems.found() == {}


def test_district_staff_compare_schools_and_open_one(
    page: Page, world: World, log_in, page_problems
) -> None:
    log_in(world.district_staff)
    page.get_by_role(
        "link", name=re.compile(f"Compare the schools of {world.district.name}")
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Schools of {world.district.name}")
    check_page(page, "district-schools-report")
    chart = page.get_by_role("figure", name="Proficiency by school")
    click_bar(chart)  # the first bar: the world's school, of 32 (the other two are hidden)
    page.wait_for_url(re.compile(rf"/schools/{world.school.pk}/\?month="))
    expect(page.get_by_role("heading", level=1)).to_have_text(world.school.name)
    page.go_back()
    page.get_by_role("link", name="Students measured").click()
    page.wait_for_url(re.compile(r"sort=students"))
    page.get_by_role("region", name="Schools by level, table").get_by_role(
        "link", name=world.school.name
    ).click()
    page.wait_for_url(re.compile(rf"/schools/{world.school.pk}/"))
    expect(page.get_by_role("heading", level=1)).to_have_text(world.school.name)
    assert page_problems.found() == {}


def test_the_reports_weigh_little_and_shift_nothing_while_their_charts_load(
    browser: Browser, page: Page, world: World, log_in, live_server
) -> None:
    """plotly.js comes after the page (dashboard.js fetches it for the first chart shown): a
    first visit stays within the teacher pages' budget, a repeat visit fetches no static file,
    and drawing the charts moves nothing below them."""
    log_in(world.district_staff)
    signed_in = page.context.storage_state()
    for url in (f"/schools/{world.school.pk}/", f"/districts/{world.district.pk}/schools/"):
        context = browser.new_context(
            viewport=LAPTOP, base_url=live_server.url, storage_state=signed_in
        )
        context.add_init_script(script=RECORD_LAYOUT_SHIFTS)
        try:
            visitor = context.new_page()
            first = weigh(visitor, url)
            expect(visitor.locator(".chart.is-drawn svg.main-svg").first).to_be_visible()
            repeat = weigh(visitor, url)
        finally:
            context.close()
        assert any("plotly" in fetched for fetched in first.static_files_fetched()), url
        assert first.total <= FIRST_VISIT_BUDGET, (url, first.by_url)
        assert repeat.total <= REPEAT_VISIT_BUDGET, (url, repeat.by_url)
        assert not repeat.static_files_fetched(), (url, repeat.by_url)
        assert first.layout_shift < CLS_BUDGET, (url, first.layout_shift)
        print(
            f"{url}: first visit {first.total:,} B, repeat visit {repeat.total:,} B, "
            f"layout shift {first.layout_shift:.4f}"
        )

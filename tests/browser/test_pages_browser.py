"""Each role signs in through the real form in Chromium, lands on home and clicks through its pages.

Every page is checked with axe-core (no violation of any impact), screenshotted at laptop
and phone widths, and must log no console errors or CSP violations and send a CSP header.
"""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import LAPTOP, WIDTHS
from tests.conftest import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Screenshot = Callable[[str], list[Path]]


@pytest.fixture
def world() -> World:
    """The shared role fixtures, committed so that the live server's thread sees them."""
    return build_world()


def check_page(page: Page, screenshot: Screenshot, name: str) -> None:
    """axe at a laptop's and a phone's width, then the screenshots at both."""
    for _label, viewport in WIDTHS:
        page.set_viewport_size(viewport)
        assert_no_axe_violations(page, name)
    page.set_viewport_size(LAPTOP)
    screenshot(name)


def assert_skip_link_moves_focus_to_main(page: Page) -> None:
    """Call right after a page load: the first Tab reaches the skip link, Enter moves into main."""
    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Skip to content")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")


def assert_no_browser_problems(page_problems) -> None:
    assert page_problems.found() == {}


def test_login_page(page: Page, screenshot: Screenshot, page_problems) -> None:
    response = page.goto("/accounts/login/")
    assert response is not None  # goto returns None only for same-document navigations
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Trellis")
    assert_skip_link_moves_focus_to_main(page)
    check_page(page, screenshot, "login")
    assert_no_browser_problems(page_problems)


def test_wrong_password_shows_an_error(
    page: Page, screenshot: Screenshot, world: World, page_problems
) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(world.teacher.email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text(re.compile("not correct|incorrect", re.I))
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_label("Email")).to_have_value(world.teacher.email)
    check_page(page, screenshot, "login-error")
    assert_no_browser_problems(page_problems)


def test_teacher_clicks_from_section_to_student(
    page: Page, log_in, screenshot: Screenshot, world: World, page_problems
) -> None:
    log_in(world.teacher)
    sections = page.get_by_role("region", name="My sections")
    expect(sections.get_by_role("heading", level=2)).to_have_text("My sections")
    section_link = sections.get_by_role("link", name="Grade 4 Math")
    expect(section_link).to_be_visible()
    expect(sections.get_by_role("link")).to_have_count(1)
    assert_skip_link_moves_focus_to_main(page)
    check_page(page, screenshot, "teacher-home")

    section_link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Grade 4 Math")
    roster_rows = page.locator("#roster tbody tr")
    expect(roster_rows).to_have_count(2)
    expect(page.locator("#roster")).to_contain_text(world.student.sort_name)
    expect(page.locator("#roster")).to_contain_text(world.classmate.sort_name)
    check_page(page, screenshot, "teacher-section-roster")

    page.locator("#roster").get_by_role("link", name=world.student.sort_name).click()
    # From the class, the student's profile opens on their mastery; the record is a tab away.
    expect(page).to_have_url(re.compile(rf"/students/{world.student.pk}/#assessments$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(world.student.display_name)
    expect(page.get_by_role("tab", name="Assessments")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("heading", name="Mastery by standard")).to_be_visible()
    page.get_by_role("tab", name="Record").click()
    expect(page.get_by_role("heading", name="Classes")).to_be_visible()
    expect(page.get_by_role("region", name="Classes")).to_contain_text("Grade 4 Math")
    check_page(page, screenshot, "teacher-student-record")
    assert_no_browser_problems(page_problems)


def test_principal_sees_the_school(
    page: Page, log_in, screenshot: Screenshot, world: World, page_problems
) -> None:
    log_in(world.principal)
    school = page.get_by_role("region", name="Maple Elementary")
    expect(school.get_by_role("heading", level=2)).to_have_text("Maple Elementary")
    for heading in ("Grade levels", "Teachers", "Sections"):
        expect(school.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(school.get_by_role("link", name="Grade 4 Math")).to_be_visible()
    expect(school.get_by_role("link", name="Grade 4 Reading")).to_be_visible()
    expect(page.get_by_text("Oak Elementary")).to_have_count(0)
    check_page(page, screenshot, "principal-home")

    school.get_by_role("link", name="Grade 4 Math").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Grade 4 Math")
    expect(page.locator("#roster tbody tr")).to_have_count(2)
    assert_no_axe_violations(page, "principal's section roster")
    assert_no_browser_problems(page_problems)


def test_district_staff_sees_the_schools_table(
    page: Page, log_in, screenshot: Screenshot, world: World, page_problems
) -> None:
    log_in(world.district_staff)
    schools = page.get_by_role("region", name="Schools")
    expect(schools.get_by_role("heading", level=2)).to_have_text("Schools")
    table = schools.get_by_role("table")
    expect(table.get_by_role("columnheader")).to_have_text(
        ["School", "Level", "Students", "Sections", "Teachers"]
    )
    for name in ("Maple Elementary", "Oak Elementary", "Far Away Elementary"):
        expect(table.get_by_role("link", name=name)).to_be_visible()
    check_page(page, screenshot, "district-home")

    table.get_by_role("link", name="Oak Elementary").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Oak Elementary")
    expect(page.get_by_role("link", name="Oak Math")).to_be_visible()
    check_page(page, screenshot, "district-school")
    assert_no_browser_problems(page_problems)


def test_parent_sees_my_children_and_opens_the_record(
    page: Page, log_in, screenshot: Screenshot, world: World, page_problems
) -> None:
    # A guardian lands in the family portal (tests/browser/test_portal_browser.py walks it).
    log_in(world.parent)
    expect(page.get_by_role("heading", level=1)).to_have_text("My children")
    child_link = page.get_by_role("link", name=world.student.display_name)
    expect(child_link).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("Maple Elementary")
    expect(page.get_by_text(world.classmate.display_name)).to_have_count(0)
    check_page(page, screenshot, "parent-home")

    child_link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(world.student.display_name)
    page.get_by_role("link", name="Teachers").click()
    expect(page.get_by_role("main")).to_contain_text("Grade 4 Math")
    check_page(page, screenshot, "parent-student-record")
    assert_no_browser_problems(page_problems)

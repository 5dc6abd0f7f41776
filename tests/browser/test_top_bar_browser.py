"""The top bar in Chromium, from the keyboard: each role signs in and finds its sections, schools,
district pages or children there; a teacher searches for a student by name, presses Enter and
opens the profile; the menus open, close on Escape and lead on. axe finds no violation of any
impact at 1366 px and at 360 px wide, and nothing is wider than the screen."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from students.models import SectionAssignment
from tests import factories
from tests.browser.axe import axe_violations, describe
from tests.browser.conftest import LAPTOP, SCREENSHOT_DIR
from tests.conftest import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NARROW: ViewportSize = {"width": 360, "height": 780}


@pytest.fixture
def world() -> World:
    return build_world()


def assert_clean_at_both_widths(page: Page, name: str) -> None:
    """No axe violation of any impact and no sideways scrolling, at 1366 px and 360 px."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for label, viewport in (("laptop", LAPTOP), ("phone", NARROW)):
        page.set_viewport_size(viewport)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{name} is {width} px wide at {viewport['width']} px"
        violations = axe_violations(page)
        assert not violations, f"axe on {name} at {viewport['width']} px:\n{describe(violations)}"
        page.screenshot(path=str(Path(SCREENSHOT_DIR, f"top-bar-{name}-{label}.png")))
    page.set_viewport_size(LAPTOP)


def tab_to(page: Page, selector: str, most: int = 40) -> None:
    """Press Tab until the element matching `selector` has the focus."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def _bar(page: Page):
    return page.locator("header.site-header")


def test_each_role_finds_its_own_places_in_the_bar(
    page: Page, log_in, world: World, page_problems
) -> None:
    expected = {
        "teacher": (["Grade 4 Math"], True),
        "principal": (["Maple Elementary"], True),
        "district_staff": (["District", "Imports"], True),
        # A guardian lands in the family portal, whose bar links their list of children.
        "guardian": (["My children"], False),
    }
    for role, (links, searches) in expected.items():
        user = world.users_by_role()[role]
        log_in(user)
        nav = page.get_by_role("navigation", name="Main")
        for name in links:
            expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
        expect(page.get_by_role("search")).to_have_count(1 if searches else 0)
        expect(nav.get_by_role("link", name="Imports")).to_have_count(
            1 if role == "district_staff" else 0
        )
        assert_clean_at_both_widths(page, f"{role}-home")
        # The account menu, from the keyboard, at phone width: it opens in the page's flow.
        page.set_viewport_size(NARROW)
        tab_to(page, "details.nav-account > summary")
        page.keyboard.press("Enter")
        sign_out = page.get_by_role("button", name="Sign out")
        expect(sign_out).to_be_visible()
        expect(page.get_by_role("link", name="Two-factor authentication")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
        violations = axe_violations(page)
        assert not violations, f"axe with {role}'s account menu open:\n{describe(violations)}"
        page.screenshot(path=str(Path(SCREENSHOT_DIR, f"top-bar-{role}-account-phone.png")))
        # Escape closes it and leaves the focus on its summary.
        page.keyboard.press("Escape")
        expect(sign_out).to_be_hidden()
        assert page.evaluate("document.activeElement.matches('details.nav-account > summary')")
        page.set_viewport_size(LAPTOP)
        # Signing out from the menu, by keyboard.
        page.keyboard.press("Enter")
        tab_to(page, "details.nav-account button[type=submit]", most=4)
        page.keyboard.press("Enter")
        # Signed out, home sends to the sign-in page.
        page.wait_for_url(re.compile(r"/accounts/login/"))
    assert not page_problems.found(), page_problems.found()


def test_a_teacher_finds_a_student_and_opens_the_profile_from_the_keyboard(
    page: Page, log_in, world: World, page_problems
) -> None:
    log_in(world.teacher)
    tab_to(page, "#top-search")
    page.keyboard.type("lovelace")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search/\?q=lovelace$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Students matching “lovelace”")
    result = page.get_by_role("link", name=re.compile(r"^Lovelace, Ada"))
    expect(result).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Lovelace, Ada"))).to_contain_text(
        "Maple Elementary"
    )
    # The box keeps the text, to refine it.
    expect(page.get_by_role("searchbox")).to_have_value("lovelace")
    assert_clean_at_both_widths(page, "search-results")
    tab_to(page, f'main a[href="/students/{world.student.pk}/"]')
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/students/{world.student.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Ada Lovelace")
    # Nobody outside the teacher's class is found.
    page.goto(f"/search/?q={world.other_section_student.last_name}")
    expect(
        page.get_by_role("link", name=re.compile(world.other_section_student.last_name))
    ).to_have_count(0)
    assert not page_problems.found(), page_problems.found()


def test_a_teachers_sections_menu_works_from_the_keyboard(
    page: Page, log_in, world: World, page_problems
) -> None:
    staff = world.teacher.staff_record
    assert staff is not None
    for title, period in (("Grade 4 Science", "2"), ("Grade 4 Writing", "3")):
        section = factories.SectionFactory.create(school=world.school, title=title, period=period)
        SectionAssignment.objects.create(district=world.district, staff=staff, section=section)
    log_in(world.teacher)
    tab_to(page, "nav details.nav-menu > summary")
    expect(page.get_by_role("link", name="Grade 4 Science · Period 2")).to_be_hidden()
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Grade 4 Science · Period 2")).to_be_visible()
    assert_clean_at_both_widths(page, "teacher-sections-open")
    # Opening the account menu closes this one: one menu at a time.
    page.locator("details.nav-account > summary").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Grade 4 Science · Period 2")).to_be_hidden()
    page.keyboard.press("Escape")
    # Into the sections menu again, on to a section.
    page.locator("nav details.nav-menu > summary").focus()
    page.keyboard.press("Enter")
    tab_to(page, "nav .nav-menu-panel a", most=2)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/sections/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    current = page.locator('nav a[aria-current="page"]')
    expect(current).to_have_count(1)
    assert_clean_at_both_widths(page, "teacher-section-page")
    assert not page_problems.found(), page_problems.found()

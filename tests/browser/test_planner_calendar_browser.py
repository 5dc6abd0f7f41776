"""The lesson plan calendars in Chromium: a teacher's calendar across two sections and one
section's calendar, each as a week and a month, with a few plans (one over several days). axe
finds no violation of any impact at 1366 px and 360 px, nothing is wider than the phone's screen
(the month's table scrolls in its own labelled region), the previous and next links work from the
keyboard, and screenshots land in test-artifacts/screenshots/planner-calendar-*.png. The section
page's "Today's plan" panel is held to the same."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from lessons import services
from students.models import SectionAssignment
from tests import factories
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import LAPTOP, PHONE, SCREENSHOT_DIR, PageProblems
from tests.conftest import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world() -> World:
    """The world's teacher with a second section, and plans this week in both."""
    world = build_world()
    science = factories.SectionFactory.create(school=world.school, title="Grade 4 Science")
    staff = world.teacher.staff_record
    assert staff is not None
    SectionAssignment.objects.create(district=world.district, staff=staff, section=science)
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    for offset, objective in (
        (0, "Equivalent fractions with fraction strips and a number line"),
        (2, "Compare fractions with unlike denominators"),
    ):
        services.plan_create(
            acting_user=world.teacher,
            section=world.section,
            first_day=monday + dt.timedelta(days=offset),
            objective=objective,
            standards=[world.standard],
        )
    taught = services.plan_create(
        acting_user=world.teacher,
        section=world.section,
        first_day=today,
        objective="Today: fractions on a number line, exit ticket at the end",
        standards=[world.standard],
    )
    services.plan_mark_taught(acting_user=world.teacher, plan=taught)
    services.plan_create(
        acting_user=world.teacher,
        section=science,
        first_day=monday + dt.timedelta(days=1),
        last_day=monday + dt.timedelta(days=3),
        objective="Build a simple circuit, over three days",
    )
    return world


def assert_clean_at_both_widths(page: Page, name: str) -> None:
    """axe at both widths, nothing wider than the screen, and a full-page screenshot of each."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for label, viewport in (("laptop", LAPTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{name} is {width} px wide at {viewport['width']} px"
        assert_no_axe_violations(page, name)
        page.screenshot(
            path=str(SCREENSHOT_DIR / f"planner-calendar-{name}-{label}.png"), full_page=True
        )
    page.set_viewport_size(LAPTOP)


def tab_to(page: Page, name: str, most: int = 80) -> None:
    """Press Tab until the link whose text starts with `name` has the focus."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("(n) => document.activeElement.textContent.trim().startsWith(n)", name):
            return
    raise AssertionError(f"Tab never reached {name!r}")


def test_the_calendars_week_and_month_from_the_keyboard(
    page: Page, log_in, world: World, page_problems: PageProblems
) -> None:
    log_in(world.teacher)
    # The top bar leads to the teacher's calendar.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Lesson plans").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("My lesson plans")
    expect(page.get_by_text("Today", exact=True).first).to_be_visible()
    expect(page.get_by_text("Build a simple circuit, over three days")).to_have_count(3)
    assert_clean_at_both_widths(page, "teacher-week")

    page.get_by_role("link", name="Month", exact=True).click()
    expect(page.get_by_role("table")).to_be_visible()
    expect(page.get_by_role("region", name=re.compile("month calendar"))).to_be_visible()
    assert_clean_at_both_widths(page, "teacher-month")

    # A section's calendar, from the keyboard: next week and back.
    page.goto(f"/sections/{world.section.pk}/plans/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Grade 4 Math")
    assert_clean_at_both_widths(page, "section-week")
    heading = page.get_by_role("heading", level=2, name=re.compile("^Week of")).inner_text()
    tab_to(page, "Next week")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"view=week&day=\d{4}-\d{2}-\d{2}"))
    next_heading = page.get_by_role("heading", level=2, name=re.compile("^Week of")).inner_text()
    assert next_heading != heading
    expect(page.get_by_text("Equivalent fractions with fraction strips")).to_have_count(0)
    tab_to(page, "← Previous week")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=2, name=heading)).to_be_visible()
    expect(page.get_by_text("Equivalent fractions with fraction strips")).to_have_count(1)

    page.get_by_role("link", name="Month", exact=True).click()
    assert_clean_at_both_widths(page, "section-month")
    tab_to(page, "Next month")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"view=month&day=\d{4}-\d{2}-01"))
    tab_to(page, "Today")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Today", exact=True).first).to_be_visible()

    # The section page: today's plan and the way to the calendar.
    page.goto(f"/sections/{world.section.pk}/")
    panel = page.get_by_role("region", name=re.compile("Today's plan"))
    expect(panel.get_by_role("link", name=re.compile("fractions on a number line"))).to_be_visible()
    expect(panel.get_by_role("link", name="Plan a lesson")).to_be_visible()
    assert_clean_at_both_widths(page, "section-page")
    assert not page_problems.found(), page_problems.found()

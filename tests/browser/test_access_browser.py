"""The principal's substitutes page in Chromium, from the keyboard: the school page links it, the
form gives a substitute a section for two weeks, the grant is listed and can be ended. axe finds
no violation of any impact at 1366 px and at 360 px wide."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import RoleMembership
from tests import factories
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import LAPTOP, SCREENSHOT_DIR, WIDTHS
from tests.conftest import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world() -> World:
    return build_world()


def assert_no_axe_violations_at_both_widths(page: Page, name: str) -> None:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for label, viewport in WIDTHS:
        page.set_viewport_size(viewport)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{name} is {width} px wide at {viewport['width']} px"
        assert_no_axe_violations(page, name)
        page.screenshot(path=str(Path(SCREENSHOT_DIR, f"{name}-{label}.png")), full_page=True)
    page.set_viewport_size(LAPTOP)


def test_a_principal_gives_a_substitute_two_weeks_from_the_keyboard(
    page: Page, log_in, world: World, page_problems
) -> None:
    factories.UserFactory.create(email="sub@example.test", full_name="Sam Substitute")
    log_in(world.principal)
    page.goto(f"/schools/{world.school.pk}/")
    link = page.get_by_role("link", name="Substitutes and temporary access")
    link.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Substitutes and temporary access")
    empty = page.get_by_role("cell", name="No substitutes have access now or later.")
    expect(empty).to_be_visible()
    assert_no_axe_violations_at_both_widths(page, "school-substitutes-empty")

    today = timezone.localdate()
    page.get_by_label("Section", exact=True).select_option(label=world.section.title)
    page.get_by_label("Substitute's Trellis login (email)").fill("sub@example.test")
    page.get_by_label("First day").fill(today.isoformat())
    page.get_by_label("Last day").fill((today + dt.timedelta(days=13)).isoformat())
    page.get_by_label("Reason").fill("Covering Grade 4 Math")
    page.get_by_label("Reason").press("Enter")
    expect(page.get_by_role("status")).to_contain_text("sub@example.test may open Grade 4 Math")
    row = page.get_by_role("row", name=re.compile("Sam Substitute"))
    expect(row).to_contain_text("Covering Grade 4 Math")
    expect(row).to_contain_text(world.principal.full_name)
    assert_no_axe_violations_at_both_widths(page, "school-substitutes-granted")

    # A wrong login is named, and nothing is granted.
    page.get_by_label("Section", exact=True).select_option(label=world.section.title)
    page.get_by_label("Substitute's Trellis login (email)").fill("nobody@example.test")
    page.get_by_label("First day").fill(today.isoformat())
    page.get_by_label("Last day").fill(today.isoformat())
    page.get_by_role("button", name="Give access").click()
    expect(page.get_by_role("alert")).to_contain_text("No active Trellis login for nobody@")
    assert_no_axe_violations_at_both_widths(page, "school-substitutes-error")

    page.get_by_role("button", name=re.compile("End now for sub@example.test")).click()
    expect(page.get_by_role("status")).to_contain_text("access has ended")
    assert not RoleMembership.objects.filter(user__email="sub@example.test").exists()
    # The one problem the browser saw is the refused form's 400 (as a response and in the
    # console); nothing else failed.
    found = page_problems.found()
    assert set(found) <= {"error_responses", "console_errors"}
    assert [r.split()[0] for r in found["error_responses"]] == ["400"]
    assert all("400 (Bad Request)" in line for line in found.get("console_errors", []))

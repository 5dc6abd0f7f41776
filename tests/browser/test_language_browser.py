"""The portal's language switcher in Chromium (issue 20): a parent reading in English presses
"Español"; the same page comes back in Spanish (its lang too), the choice is theirs on their next
sign-in, and "English" brings it back. At 1366 px and 360 px: axe finds nothing, the page is no
wider than the screen, the switcher's button is at least 44 px tall; screenshots are kept."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import LAPTOP, WIDTHS
from tests.conftest import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world() -> World:
    return build_world()


def check_switcher(page: Page, screenshot: Callable[[str], list[Path]], name: str) -> None:
    for _label, viewport in WIDTHS:
        page.set_viewport_size(viewport)
        assert_no_axe_violations(page, name)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{name} is {width} px wide at {viewport['width']} px"
        box = page.locator(".language-switcher button").first.bounding_box()
        assert box is not None and box["height"] >= 44, box
    page.set_viewport_size(LAPTOP)
    screenshot(name)


def test_a_parent_switches_the_portal_to_spanish_and_back(
    page: Page, log_in, screenshot, world: World, page_problems
) -> None:
    log_in(world.parent)
    page.goto(f"/family/children/{world.student.pk}/")
    tabs = page.get_by_role("navigation", name=f"About {world.student.display_name}")
    expect(tabs.get_by_role("link", name="Progress")).to_be_visible()
    check_switcher(page, screenshot, "portal-language-en")

    page.get_by_role("form", name="Language").get_by_role("button", name="Español").click()
    expect(page).to_have_url(re.compile(rf"/family/children/{world.student.pk}/$"))
    expect(page.locator("html")).to_have_attribute("lang", "es")
    tabs = page.get_by_role("navigation", name=f"Sobre {world.student.display_name}")
    expect(tabs.get_by_role("link", name="Progreso")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("main")).to_contain_text("Dominio por estándar")
    check_switcher(page, screenshot, "portal-language-es")
    world.parent.refresh_from_db()
    assert world.parent.language == "es"

    # Signed out and in again (the cookie gone, as on another device): still Spanish.
    page.context.clear_cookies()
    log_in(world.parent)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mis hijos")

    page.get_by_role("form", name="Idioma").get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("My children")
    assert page_problems.found() == {}, page_problems.found()

"""The profile's tabs are rendered as the script leaves them, so that nothing moves when it runs
(tests/browser/test_teacher_pages_browser.py measures that): the shown tab selected and its panel
visible, every other panel hidden, and each tab a link to the page with its panel (?tab=), which
works before the script has run."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from dashboard.views.teacher.student import PROFILE_TABS
from tests.conftest import World


class TabsParser(HTMLParser):
    """Each tab's attributes and each panel's, by slug."""

    def __init__(self) -> None:
        super().__init__()
        self.tabs: dict[str, dict[str, str | None]] = {}
        self.panels: dict[str, dict[str, str | None]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("role") == "tab":
            self.tabs[str(found["aria-controls"])] = found | {"tag": tag}
        elif found.get("role") == "tabpanel":
            self.panels[str(found["id"])] = found


def tabs_of(client, world: World, query: str = "") -> TabsParser:
    url = reverse("students:student_detail", kwargs={"pk": world.student.pk})
    response = client.get(url + query)
    assert response.status_code == 200
    parser = TabsParser()
    parser.feed(response.content.decode())
    return parser


@pytest.mark.parametrize("shown", list(PROFILE_TABS))
def test_the_shown_tab_is_selected_and_only_its_panel_visible(
    client, world: World, shown: str
) -> None:
    client.force_login(world.teacher)
    parsed = tabs_of(client, world, f"?tab={shown}")
    assert list(parsed.tabs) == list(parsed.panels) == list(PROFILE_TABS)
    for slug, tab in parsed.tabs.items():
        assert tab["aria-selected"] == ("true" if slug == shown else "false")
        # A link to the page with that panel, until the script opens panels in place.
        assert tab["tag"] == "a" and tab["href"] == f"?tab={slug}#{slug}"
        assert tab["data-label"] == PROFILE_TABS[slug].label
        assert ("hidden" in parsed.panels[slug]) is (slug != shown)
        # The record is always on the page, and the shown tab; the others are fetched.
        on_the_page = slug in {"record", shown}
        assert ("data-src" not in parsed.panels[slug]) is on_the_page


def test_without_a_tab_named_the_record_is_shown(client, world: World) -> None:
    client.force_login(world.teacher)
    parsed = tabs_of(client, world)
    assert [slug for slug, tab in parsed.tabs.items() if tab["aria-selected"] == "true"] == [
        "record"
    ]
    assert [slug for slug, panel in parsed.panels.items() if "hidden" not in panel] == ["record"]

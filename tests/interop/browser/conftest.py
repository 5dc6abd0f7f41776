"""The project's browser fixtures (tests/browser/conftest.py), for the import pages.

Playwright's sync API allows one instance per thread, and tests/browser keeps its Chromium open
for the whole session: when it is already running (the whole suite), these tests use it;
alone, they start their own the same way.
"""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from tests.browser import conftest as browser_conftest
from tests.browser.conftest import (  # noqa: F401
    log_in,
    page,
    page_problems,
    screenshot,
)


@pytest.fixture(scope="session")
def browser(request: pytest.FixtureRequest) -> Iterator[Browser]:
    # pytest keeps each conftest's fixture definitions by the node they belong to (private, so
    # read defensively): the one under tests/browser holds the running Chromium, if any.
    by_node = getattr(request._fixturemanager, "_arg2node2fixturedefs", {}).get("browser", {})
    for definition in (d for definitions in by_node.values() for d in definitions):
        running = definition.cached_result
        if definition.baseid.rstrip("/") == "tests/browser" and running is not None:
            yield running[0]
            return
    # The fixture's own generator function: pytest's FixtureFunctionDefinition gets `__wrapped__`
    # from functools.update_wrapper at runtime, but does not declare it.
    yield from browser_conftest.browser.__wrapped__()  # type: ignore[attr-defined]  # set by update_wrapper

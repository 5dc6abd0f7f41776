"""axe-core for the browser tests, from the copy bundled in axe-playwright-python (no CDN).
Pages are held to `assert_no_axe_violations`: none of any impact.

Playwright injects the script through the DevTools protocol, which the page's CSP does not govern,
so axe runs without loosening the policy that the tests also check.
"""

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

BLOCKING_IMPACTS = ("serious", "critical")
# WCAG 2.1 A and AA, plus axe's best practices (landmarks, one h1, headings in order).
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    },
}

_axe = Axe()


def axe_violations(page: Page) -> list[dict]:
    """Every axe violation on the page as it is now, whatever its impact."""
    return _axe.run(page, options=AXE_OPTIONS).response["violations"]


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node['failureSummary']}")
    return "\n".join(lines)


def assert_no_axe_violations(page: Page, where: str) -> None:
    """Fail on any axe violation, whatever its impact (minor and moderate included): the bar
    every page is held to, at each width it is checked at."""
    violations = axe_violations(page)
    width = page.viewport_size["width"] if page.viewport_size else "?"
    assert not violations, f"axe on {where} at {width} px ({page.url}):\n{describe(violations)}"


def assert_no_serious_axe_violations(page: Page, where: str) -> list[dict]:
    """Fail on serious or critical violations; return the minor and moderate ones."""
    violations = axe_violations(page)
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe on {where} ({page.url}):\n{describe(blocking)}"
    return [v for v in violations if v["impact"] not in BLOCKING_IMPACTS]

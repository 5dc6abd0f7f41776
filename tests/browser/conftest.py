"""Browser fixtures: one Debian Chromium per session (never a downloaded Playwright browser), a
fresh context and page per test pointed at a live server that serves static files as production
does (collected by whitenoise's compressed manifest storage, hashed names, far-future caching), a
login through the real form, and screenshots at laptop (1366 px) and phone (360 px) widths under
test-artifacts/screenshots/, which CI keeps."""

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.management import call_command
from django.test.utils import override_settings
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Response,
    ViewportSize,
    sync_playwright,
)
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from tests.conftest import PASSWORD

# Playwright's sync API runs an asyncio loop in this thread, and Django's async-unsafe guard
# would then refuse the ORM calls that tests make between page actions.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LAPTOP: ViewportSize = {"width": 1366, "height": 768}
PHONE: ViewportSize = {"width": 360, "height": 780}
# Every page is checked and screenshotted at both: a teacher's laptop and a phone.
WIDTHS: tuple[tuple[str, ViewportSize], ...] = (("laptop", LAPTOP), ("phone", PHONE))
BROWSER_TESTS_DIR = Path(__file__).resolve().parent
SCREENSHOT_DIR = BROWSER_TESTS_DIR.parents[1] / "test-artifacts" / "screenshots"
SKIP_REASON = (
    f"{CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium); "
    "the browser tests never download a Playwright browser"
)
# Reported from inside the page on every navigation; the binding survives page loads.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__trellisCspViolation(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} `
    + `(${event.sourceFile || document.location.href}:${event.lineNumber})`
  );
});
"""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip every browser test, with the reason, when this machine has no Chromium."""
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if item.path.is_relative_to(BROWSER_TESTS_DIR):
            item.add_marker(skip)


@dataclass
class PageProblems:
    """What went wrong in the browser while a test ran; each test asserts it stayed empty."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    error_responses: list[str] = field(default_factory=list)
    documents_without_csp: list[str] = field(default_factory=list)

    def found(self) -> dict[str, list[str]]:
        return {name: found for name, found in vars(self).items() if found}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(SKIP_REASON)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


def production_static_settings(root: Path) -> override_settings:
    """Static files as production serves them (base settings): whitenoise's
    CompressedManifestStaticFilesStorage, collected into `root` and served by the whitenoise
    middleware from there (no finders, no autorefresh): hashed names, gzipped, cached a year."""
    return override_settings(
        STATIC_ROOT=root,
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
        },
        WHITENOISE_USE_FINDERS=False,
        WHITENOISE_AUTOREFRESH=False,
    )


@pytest.fixture(scope="session")
def collected_static() -> Iterator[Path]:
    """collectstatic, once a session, into a temporary STATIC_ROOT."""
    root = Path(tempfile.mkdtemp(prefix="trellis-static-"))
    try:
        with production_static_settings(root):
            call_command("collectstatic", interactive=False, verbosity=0)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(autouse=True)
def production_static(collected_static: Path) -> Iterator[Path]:
    """While a browser test runs, pages name the collected files (hashed, as in production); the
    setting is restored after it, so that the rest of a whole-suite run keeps the test settings."""
    with production_static_settings(collected_static):
        yield collected_static


@pytest.fixture(scope="session")
def live_server(request: pytest.FixtureRequest, collected_static: Path) -> Iterator[LiveServer]:
    """pytest-django's live server (its class, so that its per-test helper still applies), but
    with static files left to the whitenoise middleware, which reads the production settings
    when the server starts, instead of Django's development StaticFilesHandler (uncompressed,
    unhashed, no caching headers): the page-weight budgets measure what production sends."""
    addr = (
        request.config.getvalue("liveserver")
        or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    server = LiveServer(addr, start=False)
    server.thread.static_handler = WhitenoiseServesStatic
    with production_static_settings(collected_static):
        server.start()
    yield server
    server.stop()


class WhitenoiseServesStatic(StaticFilesHandler):
    """The live server's static handler, handling nothing: the application's whitenoise
    middleware serves the static files."""

    def _should_handle(self, path: str) -> bool:
        return False


@pytest.fixture
def page_problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def page(browser: Browser, live_server, page_problems: PageProblems) -> Iterator[Page]:
    """A fresh page at laptop size, its relative URLs resolved against the live server."""
    context = browser.new_context(viewport=LAPTOP, base_url=live_server.url)
    context.set_default_timeout(10_000)
    context.expose_binding(
        "__trellisCspViolation", lambda _source, report: page_problems.csp_violations.append(report)
    )
    context.add_init_script(script=CSP_LISTENER)
    page = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            source = message.location.get("url") or page.url
            page_problems.console_errors.append(f"{message.text} ({source})")

    def on_response(response: Response) -> None:
        if response.status >= 400:
            page_problems.error_responses.append(f"{response.status} {response.url}")
        if (
            response.request.resource_type == "document"
            and "content-security-policy" not in response.headers
        ):
            page_problems.documents_without_csp.append(response.url)

    page.on("console", on_console)
    page.on("pageerror", lambda error: page_problems.page_errors.append(str(error)))
    page.on("response", on_response)
    yield page
    context.close()


@pytest.fixture
def log_in(page: Page) -> Callable[..., None]:
    """Sign a user in through the real form at /accounts/login/ and wait for the home page (a
    guardian's is the family portal's list of their children)."""

    def log_in_as(user: User, password: str = PASSWORD) -> None:
        page.goto("/accounts/login/")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"^https?://[^/]+/(family/)?$"))

    return log_in_as


@pytest.fixture
def screenshot(page: Page) -> Callable[[str], list[Path]]:
    """Save full-page screenshots of the current page at laptop and phone widths."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> list[Path]:
        paths = []
        for label, viewport in WIDTHS:
            page.set_viewport_size(viewport)
            path = SCREENSHOT_DIR / f"{name}-{label}.png"
            page.screenshot(path=str(path), full_page=True)
            paths.append(path)
        page.set_viewport_size(LAPTOP)
        return paths

    return take

"""Issue 21's two flows across the people who take part, in Chromium, every click a person's:

1. An inspection request from the guardian's click in the portal, through the privacy officer's
   "Prepare and deliver the package", to the package the guardian downloads in the portal.
2. A consent request the privacy officer starts in the office, the guardian's consent (the
   password again) and its revocation in the portal, and the office seeing the revocation, with
   the next disclosure under that consent refused.

Each page visited is axe clean at 1366 px and at 360 px, nothing is wider than the screen, and
the screenshots are kept (test-artifacts/screenshots/rights-flow-*)."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from rights.models import Consent, DisclosureRecord, InspectionRequest, InspectionStatus
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import LAPTOP, SCREENSHOT_DIR, WIDTHS
from tests.conftest import PASSWORD, World, build_world, privacy_officer_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(settings, tmp_path: Path) -> World:
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_world()


def check_page(page: Page, name: str) -> None:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for label, viewport in WIDTHS:
        page.set_viewport_size(viewport)
        assert_no_axe_violations(page, name)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{name} is {width} px wide at {viewport['width']} px"
        page.screenshot(
            path=str(SCREENSHOT_DIR / f"rights-flow-{name}-{label}.png"), full_page=True
        )
    page.set_viewport_size(LAPTOP)


def sign_in_as(page: Page, user: User) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("main")).to_be_visible()


def open_rights_tab(page: Page, world: World) -> None:
    page.goto("/family/")
    main = page.get_by_role("main")
    main.get_by_role("link", name=world.student.display_name, exact=True).click()
    page.get_by_role("navigation", name=f"About {world.student.display_name}").get_by_role(
        "link", name="Your rights"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(world.student.display_name)


def test_an_inspection_request_from_the_guardians_click_to_the_package_in_the_portal(
    page: Page, world: World, page_problems
) -> None:
    officer = privacy_officer_of(world)
    main = page.get_by_role("main")

    # The guardian asks, from the child's rights tab.
    sign_in_as(page, world.parent)
    open_rights_tab(page, world)
    main.get_by_role("link", name=f"Ask to see the records of {world.student.display_name}").click()
    main.get_by_label("What would you like to see? (optional)").fill("Her whole record, please.")
    main.get_by_role("button", name="Ask to see the records").click()
    expect(main).to_contain_text("Being prepared")
    check_page(page, "inspection-asked")
    request = InspectionRequest.objects.get()
    assert request.student == world.student and request.user == world.parent

    # The privacy officer sees it, due in 45 days, and prepares and delivers the package.
    sign_in_as(page, officer)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Privacy office").click()
    page.get_by_role("navigation", name="Privacy office").get_by_role(
        "link", name="Requests"
    ).click()
    expect(main).to_contain_text(world.student.display_name)
    due = request.due_on
    expect(main).to_contain_text(f"Due {due:%b} {due.day}, {due.year}")
    check_page(page, "inspection-office")
    page.get_by_role("button", name=re.compile("Prepare and deliver the package")).first.click()
    expect(page.get_by_role("status")).to_contain_text(
        "prepared and delivered in the family portal"
    )
    request.refresh_from_db()
    assert request.status == InspectionStatus.DELIVERED

    # The guardian finds it ready in the portal and downloads the readable PDF.
    sign_in_as(page, world.parent)
    open_rights_tab(page, world)
    expect(main).to_contain_text("Ready")
    check_page(page, "inspection-ready")
    with page.expect_download() as download_info:
        main.get_by_role("link", name="Download the records (PDF, to read)").click()
    download = download_info.value
    path = download.path()
    assert path is not None
    assert Path(path).read_bytes().startswith(b"%PDF")
    assert not page_problems.found(), page_problems.found()


def test_a_consent_request_from_the_district_to_the_guardians_consent_and_its_revocation(
    page: Page, world: World, page_problems
) -> None:
    officer = privacy_officer_of(world)
    main = page.get_by_role("main")

    # The privacy officer asks the family's consent, for this child's grades, from the office.
    sign_in_as(page, officer)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Privacy office").click()
    page.get_by_role("navigation", name="Privacy office").get_by_role(
        "link", name="Consents"
    ).click()
    main.get_by_role("link", name="Ask families' consent").click()
    main.get_by_label("New recipient's name").fill("Riverside Reading Lab")
    main.get_by_label("Purpose").fill("A summer reading study")
    main.get_by_label("Grades, report cards and transcripts").check()
    main.get_by_label("The records, in words families read").fill(
        "Your child's reading grades this year."
    )
    main.get_by_label("Student numbers (one a line, or separated by commas)").fill(
        world.student.student_number
    )
    check_page(page, "consent-asking")
    main.get_by_role("button", name="Ask for consent").click()
    expect(main).to_contain_text("Riverside Reading Lab")

    # The guardian reads it, gives consent with the password, then revokes it.
    sign_in_as(page, world.parent)
    open_rights_tab(page, world)
    expect(main).to_contain_text("Riverside Reading Lab")
    main.get_by_role("link", name=re.compile("Read and answer")).click()
    expect(main).to_contain_text("A summer reading study")
    main.get_by_label("Your password").fill(PASSWORD)
    main.get_by_role("button", name="Give consent", exact=True).click()
    expect(main).to_contain_text("You gave consent")
    check_page(page, "consent-given")
    consent = Consent.objects.get()
    assert consent.user == world.parent and consent.revoked_at is None
    main.get_by_role("link", name=re.compile("Revoke consent")).first.click()
    main.get_by_role("button", name="Revoke consent").click()
    expect(main).to_contain_text("Revoked")
    consent.refresh_from_db()
    assert consent.revoked_at is not None

    # The office sees the revocation, and a disclosure under that consent is refused.
    sign_in_as(page, officer)
    page.goto("/privacy/consents/")
    main.get_by_role("link", name="Riverside Reading Lab").click()
    expect(page.get_by_role("table")).to_contain_text("Revoked")
    check_page(page, "consent-revoked-office")
    main.get_by_role("link", name="Record a disclosure under this consent").click()
    # No consent is in force any more, so no student is filled in: the officer types the child.
    expect(main.get_by_label("Student numbers (one a line, or separated by commas)")).to_have_value(
        ""
    )
    main.get_by_label("Student numbers (one a line, or separated by commas)").fill(
        world.student.student_number
    )
    main.get_by_label("What was disclosed, in words").fill("Reading grades")
    main.get_by_label("Written consent").check()
    main.get_by_role("button", name="Record the disclosure").click()
    expect(page.get_by_role("alert")).to_contain_text("The disclosure is refused")
    expect(page.get_by_role("alert")).to_contain_text(
        f"Consent was revoked for: {world.student.display_name}"
    )
    check_page(page, "consent-disclosure-refused")
    assert not DisclosureRecord.objects.exists()
    # The refusal is a 400 by design (and Chromium says so in its console).
    refused = "/privacy/disclosures/new/"
    page_problems.error_responses = [f for f in page_problems.error_responses if refused not in f]
    page_problems.console_errors = [
        f for f in page_problems.console_errors if not (refused in f and "status of 400" in f)
    ]
    assert not page_problems.found(), page_problems.found()

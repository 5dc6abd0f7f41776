"""The district privacy officer in Chromium: from the top bar to the office, the overview (an
overdue request first), the requests page, "Prepare and deliver the package" for a family's
inspection request; then a consent request, "Record a disclosure under this consent", a
disclosure refused on the form (the wrong basis chosen) and the same disclosure recorded
on the family's consent; and a teacher reading the family's statement beside the contested value
on the student's profile. axe finds no violation of any impact at 1366 px and at 360 px, nothing
is wider than the screen, and the screenshots are kept."""

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from rights.models import DisclosureRecord, InspectionRequest, InspectionStatus
from rights.services import (
    amendment_decide,
    amendment_request_create,
    amendment_statement_add,
    consent_give,
    consent_request_create,
    inspection_request_create,
    recipient_save,
)
from tests.browser.axe import axe_violations, describe
from tests.browser.conftest import LAPTOP, SCREENSHOT_DIR, WIDTHS
from tests.conftest import PASSWORD, World, build_world, privacy_officer_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(settings, tmp_path: Path) -> World:
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_world()


def assert_clean_at_both_widths(page: Page, name: str) -> None:
    """No axe violation of any impact and no sideways scrolling, at 1366 px and 360 px; a
    full-page screenshot at each."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for label, viewport in WIDTHS:
        page.set_viewport_size(viewport)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{name} is {width} px wide at {viewport['width']} px"
        violations = axe_violations(page)
        assert not violations, f"axe on {name} at {viewport['width']} px:\n{describe(violations)}"
        page.screenshot(
            path=str(Path(SCREENSHOT_DIR, f"privacy-office-{name}-{label}.png")), full_page=True
        )
    page.set_viewport_size(LAPTOP)


def test_the_officer_delivers_a_package_and_records_a_disclosure_on_consent(
    page: Page, world: World, log_in, page_problems
) -> None:
    officer = privacy_officer_of(world)
    inspection = inspection_request_create(
        acting_user=world.parent, student=world.student, note="Everything, please."
    )
    # Another family's request, asked long ago: overdue, so it comes first.
    InspectionRequest.objects.create(
        district=world.district,
        student=world.classmate,
        user_label="late.parent@example.test",
        due_on=timezone.localdate() - dt.timedelta(days=4),
    )
    vendor = recipient_save(acting_user=officer, district=world.district, name="Northwind Tutoring")
    consent_request = consent_request_create(
        acting_user=officer,
        recipient=vendor,
        purpose="After-school tutoring",
        categories=["grades"],
        records_description="This year's grades",
        students=[world.student],
    )
    consent_give(
        acting_user=world.parent, request=consent_request, student=world.student, password=PASSWORD
    )
    log_in(officer)

    # The office, from the top bar.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Privacy office").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Privacy office")
    waiting = page.locator("#waiting-inspections + p + .scroll-region tbody tr")
    expect(waiting.first).to_contain_text("Overdue by 4")
    expect(waiting.nth(1)).to_contain_text("Ada Lovelace")
    assert_clean_at_both_widths(page, "overview")

    # The requests; the package, prepared and delivered in one click.
    page.get_by_role("navigation", name="Privacy office").get_by_role(
        "link", name="Requests"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Families' requests")
    assert_clean_at_both_widths(page, "requests")
    page.get_by_role(
        "button", name="Prepare and deliver the package of Ada Lovelace's records"
    ).click()
    expect(page.get_by_role("status")).to_contain_text(
        "The package of Ada Lovelace's records is prepared and delivered in the family portal."
    )
    expect(page.get_by_text("Records as a file (JSON) and as a readable PDF")).to_be_visible()
    inspection.refresh_from_db()
    assert inspection.status == InspectionStatus.DELIVERED and inspection.package_pdf
    assert_clean_at_both_widths(page, "inspection-delivered")

    # The consent request, its signature, and a disclosure under it.
    page.get_by_role("navigation", name="Privacy office").get_by_role(
        "link", name="Consents"
    ).click()
    page.get_by_role("link", name="Northwind Tutoring").click()
    expect(page.get_by_role("table")).to_contain_text(world.parent.email)
    expect(page.get_by_role("table")).to_contain_text("In force")
    assert_clean_at_both_widths(page, "consent")
    page.get_by_role("link", name="Record a disclosure under this consent").click()
    expect(page.get_by_label("Student numbers")).to_have_value(world.student.student_number)
    page.get_by_label("What was disclosed, in words").fill("Fall term grades in Math and Reading")

    # First, by mistake, as a subpoena: refused on the form, naming why; nothing recorded.
    page.get_by_label("A lawfully issued subpoena (99.31(a)(9))").check()
    page.get_by_role("button", name="Record the disclosure").click()
    expect(page.get_by_role("alert")).to_contain_text("The disclosure is refused")
    expect(page.get_by_role("alert")).to_contain_text(
        "A consent request was named, but not as the basis."
    )
    assert not DisclosureRecord.objects.exists()
    assert_clean_at_both_widths(page, "disclosure-refused")
    # The refusal is a 400 by design (and Chromium says so in its console); any other error
    # response still fails the test.
    refused_page = "/privacy/disclosures/new/"
    page_problems.error_responses = [
        found for found in page_problems.error_responses if refused_page not in found
    ]
    page_problems.console_errors = [
        found
        for found in page_problems.console_errors
        if not (refused_page in found and "status of 400" in found)
    ]

    # Then on the family's written consent, from the keyboard.
    page.get_by_label("Written consent").check()
    page.get_by_role("button", name="Record the disclosure").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text(
        "Recorded 1 disclosure to Northwind Tutoring."
    )
    record = DisclosureRecord.objects.get()
    assert record.student_id == world.student.pk and record.consent is not None
    assert record.purpose == "After-school tutoring"
    records = page.locator(".disclosures-table tbody tr")
    expect(records).to_have_count(1)
    expect(records.first).to_contain_text("Written consent")
    assert_clean_at_both_widths(page, "disclosures")

    assert not page_problems.found(), page_problems.found()


def test_a_teacher_sees_the_familys_statement_beside_the_value(
    page: Page, world: World, log_in, page_problems
) -> None:
    officer = privacy_officer_of(world)
    amendment = amendment_request_create(
        acting_user=world.parent,
        student=world.student,
        category="student",
        record_label="Birth date",
        contested_value="May 4, 2016",
        reason="The day is wrong.",
        record_model="students.Student",
        record_id=world.student.pk,
        field_name="birth_date",
    )
    amendment_decide(
        acting_user=officer, request=amendment, decision="refused", hearing_notice="A hearing."
    )
    amendment_statement_add(
        acting_user=world.parent, request=amendment, statement="The hospital's record says May 14."
    )
    log_in(world.teacher)
    page.goto(f"/students/{world.student.pk}/")
    expect(page.get_by_role("heading", name="The family disagrees with a value")).to_be_visible()
    beside = page.locator("dt:has-text('Birth date') + dd")
    expect(beside).to_contain_text("Contested by the family")
    expect(beside).to_contain_text("The hospital's record says May 14.")
    assert_clean_at_both_widths(page, "teacher-profile-statement")
    assert not page_problems.found(), page_problems.found()

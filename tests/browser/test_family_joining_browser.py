"""Joining and preferences in Chromium (issue 20): the principal's page of the school's families,
an invitation emailed from it and a printed letter (one A4/Letter page); a guardian's
preferences, changed on a phone-sized screen, switching the pages to Spanish; and an alert
email's unsubscribe page. At 1366 px and 360 px: axe finds no violation, nothing is wider than
the screen, the controls a thumb uses are at least 44 px tall, and the screenshots are kept."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from accounts.models import Invitation, User
from alerts.models import AlertPreference, Digest
from alerts.services import unsubscribe_token
from students.models import ContactDetail, ContactKind, GuardianRelationship, Relationship
from tests import factories
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import LAPTOP, WIDTHS
from tests.conftest import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Screenshot = Callable[[str], list[Path]]


@pytest.fixture
def world() -> World:
    """The shared world, with two more families at Maple Elementary: one with an email on
    file, one without."""
    world = build_world()
    for first, last, email, student in (
        ("Rosa", "Marquez", "rosa.marquez@example.test", world.student),
        ("Tomas", "Ortiz", None, world.classmate),
    ):
        guardian = factories.GuardianFactory.create(
            district=world.district, first_name=first, last_name=last, language="Spanish"
        )
        GuardianRelationship.objects.create(
            district=world.district,
            guardian=guardian,
            student=student,
            relationship=Relationship.GUARDIAN,
            portal_access=True,
        )
        if email:
            ContactDetail.objects.create(
                district=world.district,
                guardian=guardian,
                kind=ContactKind.EMAIL,
                value=email,
                is_primary=True,
            )
    return world


def check_page(page: Page, screenshot: Screenshot, name: str, targets: str) -> None:
    """At each width: axe clean, nothing wider than the screen, the controls a thumb uses 44 px
    tall; then the screenshots at both widths."""
    for _label, viewport in WIDTHS:
        page.set_viewport_size(viewport)
        assert_no_axe_violations(page, name)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{name} is {width} px wide at {viewport['width']} px"
        heights = page.eval_on_selector_all(
            targets, "nodes => nodes.map(node => node.getBoundingClientRect().height)"
        )
        assert heights and all(height >= 44 for height in heights), (name, heights)
    page.set_viewport_size(LAPTOP)
    screenshot(name)


def test_a_principal_invites_families_by_email_and_by_letter(
    page: Page, log_in, screenshot: Screenshot, world: World, page_problems
) -> None:
    log_in(world.principal)
    page.goto(f"/schools/{world.school.pk}/")
    page.get_by_role("link", name="Families and the portal").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Families and the portal")
    table = page.get_by_role("region", name="Guardians")
    expect(table).to_contain_text("Rosa Marquez")
    expect(table).to_contain_text("Not invited yet")
    expect(table).to_contain_text("No email on file")
    expect(table).to_contain_text("Joined")
    check_page(page, screenshot, "family-invitations", ".state-filter a, .invite-form summary")

    # Rosa: the email on file, in Spanish (her record's language), sent from the row's form.
    row = table.get_by_role("row").filter(has_text="Rosa Marquez")
    row.locator("summary").click()
    expect(row.get_by_label("Email address")).to_have_value("rosa.marquez@example.test")
    expect(row.get_by_label("Language of the invitation")).to_have_value("es")
    check_page(page, screenshot, "family-invitations-open", ".invite-actions button")
    row.get_by_role("button", name="Email the invitation").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Invitation emailed to rosa.marquez@example.test"
    )
    [message] = mail.outbox
    assert message.to == ["rosa.marquez@example.test"]
    assert message.extra_headers["Content-Language"] == "es"
    expect(
        page.get_by_role("region", name="Guardians").get_by_role("row").filter(has_text="Rosa")
    ).to_contain_text("Invited")

    # Tomas has no email: a letter with a code, in Spanish, that prints on one page.
    row = page.get_by_role("region", name="Guardians").get_by_role("row").filter(has_text="Tomas")
    row.locator("summary").click()
    row.get_by_role("button", name="Print a letter with a code").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Invitation letter")
    letter = page.locator("article.invitation-letter")
    expect(letter).to_have_attribute("lang", "es")
    code = letter.locator(".letter-code").inner_text()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    expect(letter).to_contain_text("/join/")
    check_page(page, screenshot, "family-invitation-letter", ".letter-tools button")
    page.emulate_media(media="print")
    expect(page.locator(".letter-tools")).to_be_hidden()
    page.screenshot(path=str(Path(screenshot("family-invitation-letter-print")[0])))
    pdf = page.pdf(format="Letter")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1, "the letter prints on one page"
    page.emulate_media(media="screen")
    invitation = Invitation.objects.get(guardian__last_name="Ortiz")
    assert invitation.is_letter and invitation.language == "es"
    assert not page_problems.found(), page_problems.found()


def test_a_guardian_changes_alerts_and_language_on_a_phone(
    page: Page, log_in, screenshot: Screenshot, world: World, page_problems
) -> None:
    log_in(world.parent)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Preferences").click()
    expect(page).to_have_url(re.compile(r"/family/preferences/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Preferences")
    check_page(page, screenshot, "portal-preferences", ".choice, .preferences-form button")

    page.set_viewport_size({"width": 360, "height": 780})
    page.get_by_label("Every evening").check()
    page.get_by_label("Email me the evening my child is marked absent without an excuse").uncheck()
    page.get_by_label("Tell me when a level falls below").select_option("3")
    page.get_by_label("Text message").check()
    page.get_by_label("Español").check()
    page.get_by_role("button", name="Save preferences").click()
    expect(page).to_have_url(re.compile(r"/family/preferences/$"))
    # The pages are in Spanish from here on.
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.set_viewport_size(LAPTOP)
    check_page(page, screenshot, "portal-preferences-es", ".choice, .preferences-form button")

    parent = User.objects.get(pk=world.parent.pk)
    assert parent.language == "es"
    preference = AlertPreference.objects.get(user=parent)
    assert preference.digest == Digest.DAILY and not preference.same_day_absences
    assert preference.level_threshold == 3
    assert not page_problems.found(), page_problems.found()


def test_the_unsubscribe_page(
    page: Page, screenshot: Screenshot, world: World, page_problems
) -> None:
    page.goto(f"/family/unsubscribe/{unsubscribe_token(world.parent, 'digest')}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Stop alert emails")
    check_page(page, screenshot, "portal-unsubscribe", "button[type=submit]")
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")
    assert AlertPreference.objects.get(user=world.parent).digest == Digest.NEVER
    assert not page_problems.found(), page_problems.found()

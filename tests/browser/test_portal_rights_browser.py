"""The families' rights in Chromium (issue 21), in English and in Spanish, as a parent: from the
banner on their children to the district's annual notice, which they acknowledge; then the
child's "Your rights" tab, where they opt the child out of directory information, give consent
to a request by re-entering their password (a wrong one first) and revoke it after its warning,
and ask to see the records; the privacy office prepares the package (the rights service, called
here), and the parent downloads it, PDF and JSON. At 1366 px and 360 px: axe finds no violation
of any impact, nothing is wider than the screen, every control a thumb uses is at least 44 px
tall, and the screenshots are kept."""

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from rights.models import Consent, DirectoryOptOut, InspectionRequest, NoticeAcknowledgement
from rights.services import inspection_request_fulfil
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import LAPTOP, WIDTHS
from tests.conftest import PASSWORD, World, build_world
from tests.portal import rights_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Screenshot = Callable[[str], list[Path]]

# What the parent reads and presses, in each language.
WORDS = {
    "en": {
        "banner": "Please read your school district's annual notice of your rights.",
        "read_notice": "Read the notice",
        "notice_heading": "Notice of your rights",
        "acknowledge": "I have read this notice",
        "acknowledged": "you acknowledged this notice on",
        "my_children": "My children",
        "your_rights": "Your rights",
        "opt_out": "Opt Ada Lovelace out of directory information",
        "opted_out": "Opted out",
        "answer": "Read and answer",
        "password": "Your password",
        "give": "Give consent",
        "wrong": "That is not your password.",
        "gave": "You gave consent",
        "revoke": "Revoke consent",
        "revoke_heading": "Revoke your consent for Northwind Learning?",
        "revoked": "Revoked",
        "ask": "Ask to see the records of Ada Lovelace",
        "note": "What would you like to see? (optional)",
        "send_ask": "Ask to see the records",
        "prepared": "Being prepared",
        "ready": "Ready",
        "pdf": "Download the records (PDF, to read)",
        "json": "Download the records (JSON, a data file)",
    },
    "es": {
        "banner": "Lea el aviso anual de sus derechos de su distrito escolar.",
        "read_notice": "Leer el aviso",
        "notice_heading": "Aviso de sus derechos",
        "acknowledge": "He leído este aviso",
        "acknowledged": "confirmó que leyó este aviso el",
        "my_children": "Mis hijos",
        "your_rights": "Sus derechos",
        "opt_out": "Excluir a Ada Lovelace de la información del directorio",
        "opted_out": "Excluido",
        "answer": "Leer y responder",
        "password": "Su contraseña",
        "give": "Dar consentimiento",
        "wrong": "Esa no es su contraseña.",
        "gave": "Usted dio su consentimiento",
        "revoke": "Retirar el consentimiento",
        "revoke_heading": "¿Retirar su consentimiento para Northwind Learning?",
        "revoked": "Retirado",
        "ask": "Pedir ver el expediente de Ada Lovelace",
        "note": "¿Qué le gustaría ver? (opcional)",
        "send_ask": "Pedir ver el expediente",
        "prepared": "En preparación",
        "ready": "Listo",
        "pdf": "Descargar el expediente (PDF, para leer)",
        "json": "Descargar el expediente (JSON, archivo de datos)",
    },
}
# Every control of the rights pages a thumb uses.
TARGETS = (
    ".portal-tabs a, .rights-actions a, .rights-actions button, .rights-downloads a, "
    ".rights-contents a, .rights-back, .rights-banner a"
)


@pytest.fixture
def world() -> World:
    return build_world()


def check_page(page: Page, screenshot: Screenshot, name: str) -> None:
    """At each width: axe clean, nothing wider than the screen, every control a thumb uses at
    least 44 px tall; then the screenshots at both widths."""
    for _label, viewport in WIDTHS:
        page.set_viewport_size(viewport)
        assert_no_axe_violations(page, name)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{name} is {width} px wide at {viewport['width']} px"
        heights = page.eval_on_selector_all(
            TARGETS, "items => items.map(item => item.getBoundingClientRect().height)"
        )
        assert all(height >= 44 for height in heights), (name, heights)
    page.set_viewport_size(LAPTOP)
    screenshot(name)


def sign_in(page: Page, user: User) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/family/$"))


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_parent_acknowledges_opts_out_consents_revokes_and_downloads_the_records(
    page: Page, screenshot: Screenshot, world: World, page_problems, language: str
) -> None:
    words = WORDS[language]
    world.parent.language = language
    world.parent.save(update_fields=["language"])
    officer = rights_data.privacy_officer(world)
    rights_data.notice(world, officer, opt_out_by=rights_data.OPT_OUT_BY)
    request = rights_data.consent_request(world, officer)
    main = page.get_by_role("main")
    shot = f"portal-rights-{language}"

    # The banner on their children, until they have read the notice.
    sign_in(page, world.parent)
    expect(main).to_contain_text(words["banner"])
    check_page(page, screenshot, f"{shot}-children-banner")
    main.get_by_role("link", name=words["read_notice"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["notice_heading"])
    expect(main).to_contain_text(rights_data.NOTICE_TITLE)
    check_page(page, screenshot, f"{shot}-notice")
    main.get_by_role("button", name=words["acknowledge"]).click()
    expect(main).to_contain_text(words["acknowledged"])
    expect(main.get_by_role("button", name=words["acknowledge"])).to_have_count(0)
    assert NoticeAcknowledgement.objects.filter(user=world.parent).count() == 1
    check_page(page, screenshot, f"{shot}-notice-read")

    # The child's rights tab, from their children (the banner gone).
    page.locator(".top-nav").get_by_role("link", name=words["my_children"]).click()
    expect(main).not_to_contain_text(words["banner"])
    main.get_by_role("link", name=words["your_rights"]).first.click()
    expect(page).to_have_url(re.compile(rf"/family/children/{world.student.pk}/rights/$"))
    check_page(page, screenshot, f"{shot}-tab")

    # Directory information: opted out, in words.
    main.get_by_role("button", name=words["opt_out"]).click()
    expect(page).to_have_url(re.compile(r"/rights/#directory$"))
    expect(main.locator("#directory .rights-status")).to_contain_text(words["opted_out"])
    assert DirectoryOptOut.objects.filter(student=world.student, withdrawn_at=None).exists()

    # Consent: a wrong password first (a form error, nothing recorded), then the right one.
    main.get_by_role("link", name=re.compile(re.escape(words["answer"]))).click()
    expect(main).to_contain_text(rights_data.PURPOSE)
    check_page(page, screenshot, f"{shot}-consent")
    main.get_by_label(words["password"]).fill("not-my-password")
    main.get_by_role("button", name=words["give"], exact=True).click()
    expect(main.get_by_role("alert")).to_contain_text(words["wrong"])
    expect(main.get_by_label(words["password"])).to_have_attribute("aria-invalid", "true")
    assert not Consent.objects.exists()
    # The refusal is a 400, as the page means it to be.
    refused = [entry for entry in page_problems.error_responses if entry.startswith("400 ")]
    assert len(refused) == 1 and f"/consent/{request.pk}/" in refused[0]
    page_problems.error_responses.remove(refused[0])
    check_page(page, screenshot, f"{shot}-consent-wrong-password")
    main.get_by_label(words["password"]).fill(PASSWORD)
    main.get_by_role("button", name=words["give"], exact=True).click()
    expect(page).to_have_url(re.compile(r"/rights/#consent$"))
    expect(main.locator("#consent")).to_contain_text(words["gave"])
    consent = Consent.objects.get()
    assert (consent.user_id, consent.request_id) == (world.parent.pk, request.pk)
    check_page(page, screenshot, f"{shot}-tab-consent-given")

    # Revoking: a warning first, then revoked.
    main.get_by_role("link", name=re.compile(re.escape(words["revoke"]))).first.click()
    expect(main.get_by_role("heading", level=2)).to_have_text(words["revoke_heading"])
    check_page(page, screenshot, f"{shot}-revoke")
    main.get_by_role("button", name=words["revoke"]).click()
    expect(page).to_have_url(re.compile(r"/rights/#consent$"))
    expect(main.locator("#consent")).to_contain_text(words["revoked"])
    consent.refresh_from_db()
    assert consent.revoked_at is not None

    # Asking to see the records, with a note.
    main.get_by_role("link", name=words["ask"]).click()
    check_page(page, screenshot, f"{shot}-inspection")
    main.get_by_label(words["note"]).fill("Everything, please.")
    main.get_by_role("button", name=words["send_ask"]).click()
    expect(page).to_have_url(re.compile(r"/rights/#inspection$"))
    expect(main.locator("#inspection")).to_contain_text(words["prepared"])
    inspection = InspectionRequest.objects.get()
    assert (inspection.user_id, inspection.note) == (world.parent.pk, "Everything, please.")

    # The privacy office prepares the package: the whole record, JSON and a readable PDF.
    inspection_request_fulfil(acting_user=officer, request=inspection)
    page.reload()
    expect(main.locator("#inspection")).to_contain_text(words["ready"])
    check_page(page, screenshot, f"{shot}-tab-package-ready")
    with page.expect_download() as pdf_download:
        main.get_by_role("link", name=words["pdf"]).click()
    pdf = pdf_download.value
    assert pdf.suggested_filename.startswith("ada-lovelace-records-")
    assert pdf.suggested_filename.endswith(".pdf")
    assert Path(pdf.path()).read_bytes().startswith(b"%PDF")
    with page.expect_download() as json_download:
        main.get_by_role("link", name=words["json"]).click()
    package = json.loads(Path(json_download.value.path()).read_text(encoding="utf-8"))
    assert package["student"]["id"] == world.student.pk
    assert package["inspection_request"] == inspection.pk
    assert "disclosures" in package["records"] or "access_log" in package["records"]

    # The browser's console reports the wrong password's 400 too: that one was meant.
    page_problems.console_errors = [
        error
        for error in page_problems.console_errors
        if not ("status of 400" in error and f"/consent/{request.pk}/" in error)
    ]
    assert not page_problems.found(), page_problems.found()

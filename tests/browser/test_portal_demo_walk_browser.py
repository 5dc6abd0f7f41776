"""Issue 20's walk on the demo district in Chromium, as the demo parent (parent@example.org), once
in English and once in Spanish: sign in on the sign-in page, switch between the two children, read
progress, grades, attendance and teachers, open "who has seen", and change the alerts. Every page
visited is loaded afresh at 1366 px and at 360 px, with axe clean, nothing wider than the screen,
and a full-page screenshot kept under test-artifacts/screenshots/demo-portal-*.

The district is `manage.py seed_demo` itself at 300 students (every seed step runs: the year's
scores, attendance, mastery). The live server makes the test transactional, so each seeds its
own (about 13 s)."""

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Locator, Page, expect

from accounts.models import User
from alerts.models import AlertPreference, Digest
from demo.district import DEMO_LOGINS, DEMO_PASSWORD
from students.models import GuardianRelationship, Student
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import LAPTOP, SCREENSHOT_DIR, WIDTHS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STUDENTS = 300

# What the walk reads and clicks, in each language of the portal (locale/es).
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "switch_to": "",  # the login's own language
        "main": "Main",
        "my_children": "My children",
        "progress": "Progress",
        "grades": "Grades",
        "attendance": "Attendance",
        "teachers": "Teachers",
        "seen": "Who has seen",
        "switcher": "Switch to another child",
        "about": "About {name}",
        "days_present": "Days present",
        "views": "Views of the record",
        "disclosures": "Disclosures to outside parties",
        "preferences": "Preferences",
        "every_evening": "Every evening",
        "save": "Save preferences",
        "saved": "Your preferences are saved.",
    },
    "es": {
        "switch_to": "Español",
        "main": "Principal",
        "my_children": "Mis hijos",
        "progress": "Progreso",
        "grades": "Calificaciones",
        "attendance": "Asistencia",
        "teachers": "Docentes",
        "seen": "Quién ha visto",
        "switcher": "Cambiar a otro hijo",
        "about": "Sobre {name}",
        "days_present": "Días presente",
        "views": "Consultas del expediente",
        "disclosures": "Divulgaciones a terceros",
        "preferences": "Preferencias",
        "every_evening": "Cada tarde",
        "save": "Guardar preferencias",
        "saved": "Sus preferencias se guardaron.",
    },
}


def check_page(page: Page, name: str) -> None:
    """At phone, then laptop width, each on the page loaded afresh as that device loads it: axe
    clean, nothing wider than the screen, and a full-page screenshot. Left at laptop width."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for label, viewport in reversed(WIDTHS):
        page.set_viewport_size(viewport)
        page.reload()
        assert_no_axe_violations(page, name)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{name} is {width} px wide at {viewport['width']} px"
        page.screenshot(path=str(SCREENSHOT_DIR / f"{name}-{label}.png"), full_page=True)


def tabs(page: Page, words: dict[str, str], child: Student) -> Locator:
    return page.get_by_role("navigation", name=words["about"].format(name=child.display_name))


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_demo_parent_walks_the_portal(page: Page, page_problems, language: str) -> None:
    call_command("seed_demo", students=STUDENTS, stdout=io.StringIO(), stderr=io.StringIO())
    parent = User.objects.get(email=DEMO_LOGINS["parent"])
    children = [
        relationship.student
        for relationship in GuardianRelationship.objects.filter(
            guardian=parent.guardian_record
        ).select_related("student")
    ]
    assert len(children) == 2
    teacher = User.objects.get(email=DEMO_LOGINS["teacher"])
    assert teacher.staff_record is not None
    # The child the demo teacher teaches: their teachers page shows the published phone.
    taught, other = sorted(
        children,
        key=lambda child: (
            not child.enrollments.filter(section__assignments__staff=teacher.staff_record).exists()
        ),
    )
    words = WORDS[language]
    suffix = "" if language == "en" else f"-{language}"

    # Sign in on the sign-in page, as a parent types it.
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(DEMO_LOGINS["parent"])
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/family/$"))
    if words["switch_to"]:
        page.get_by_role("button", name=words["switch_to"]).click()
        expect(page.locator("html")).to_have_attribute("lang", language)
    main = page.get_by_role("main")
    expect(page.get_by_role("heading", level=1)).to_have_text(words["my_children"])
    for child in children:
        expect(main.get_by_role("link", name=child.display_name, exact=True)).to_be_visible()
    check_page(page, f"demo-portal-children{suffix}")

    # The taught child's progress: a level in words with its symbol on each standard.
    main.get_by_role("link", name=taught.display_name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(taught.display_name)
    expect(tabs(page, words, taught).get_by_role("link", name=words["progress"])).to_have_attribute(
        "aria-current", "page"
    )
    expect(main).to_contain_text(re.compile("[★●◐○]"))
    check_page(page, f"demo-portal-progress{suffix}")

    # Grades, then the switcher: the other child's grades, on the same tab.
    tabs(page, words, taught).get_by_role("link", name=words["grades"]).click()
    expect(page).to_have_url(re.compile(rf"/family/children/{taught.pk}/grades/$"))
    page.get_by_role("navigation", name=words["switcher"]).get_by_role(
        "link", name=other.display_name
    ).click()
    expect(page).to_have_url(re.compile(rf"/family/children/{other.pk}/grades/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(other.display_name)
    check_page(page, f"demo-portal-grades{suffix}")

    # The other child's attendance, then back to the taught child on the same tab.
    tabs(page, words, other).get_by_role("link", name=words["attendance"]).click()
    expect(main).to_contain_text(words["days_present"])
    check_page(page, f"demo-portal-attendance{suffix}")
    page.get_by_role("navigation", name=words["switcher"]).get_by_role(
        "link", name=taught.display_name
    ).click()
    expect(page).to_have_url(re.compile(rf"/family/children/{taught.pk}/attendance/$"))

    # The taught child's teachers: the demo teacher with an email and the published phone.
    tabs(page, words, taught).get_by_role("link", name=words["teachers"]).click()
    expect(main).to_contain_text(teacher.staff_record.display_name)
    expect(main.locator('a[href^="mailto:"]').first).to_be_visible()
    expect(main.locator('a[href^="tel:"]')).to_have_count(1)
    check_page(page, f"demo-portal-teachers{suffix}")

    # Who has seen: the parent's own reads are there, and the disclosures section.
    tabs(page, words, taught).get_by_role("link", name=words["seen"]).click()
    expect(page.get_by_role("heading", level=2, name=words["views"])).to_be_visible()
    expect(page.get_by_role("heading", name=words["disclosures"])).to_be_visible()
    expect(page.locator(".seen-entry").first).to_be_visible()
    check_page(page, f"demo-portal-seen{suffix}")

    # The alerts: a daily digest, saved, on a phone.
    page.get_by_role("navigation", name=words["main"]).get_by_role(
        "link", name=words["preferences"]
    ).click()
    page.set_viewport_size({"width": 360, "height": 780})
    page.get_by_label(words["every_evening"]).check()
    page.get_by_role("button", name=words["save"]).click()
    expect(page.get_by_text(words["saved"])).to_be_visible()
    page.set_viewport_size(LAPTOP)
    check_page(page, f"demo-portal-preferences{suffix}")
    assert AlertPreference.objects.get(user=parent).digest == Digest.DAILY
    parent.refresh_from_db()
    assert parent.language == language

    assert not page_problems.found(), page_problems.found()

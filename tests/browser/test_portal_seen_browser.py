"""Who has seen my child's record, in Chromium, as a parent: from the child's pages to "Who has
seen", a filter by one person, then the older page. axe finds no violation of any impact at
1366 px and at 360 px, nothing is wider than the screen, and the screenshots are kept."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import User
from portal.selectors_seen import PAGE_SIZE
from privacy.models import AccessLogEntry
from privacy.services import access_log_record, student_log_key
from tests.browser.axe import axe_violations, describe
from tests.browser.conftest import LAPTOP, SCREENSHOT_DIR, WIDTHS
from tests.conftest import PASSWORD, World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world() -> World:
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
            path=str(Path(SCREENSHOT_DIR, f"portal-seen-{name}-{label}.png")), full_page=True
        )
    page.set_viewport_size(LAPTOP)


def sign_in(page: Page, user: User) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/family/$"))


def reads_by_staff(world: World) -> None:
    """The teacher's reads of the child, through the access log's own write, and older ones by
    someone else, so that the list runs to more than a page."""
    teacher = User.objects.get(pk=world.teacher.pk)
    for what in ("student record", "student mastery and scores"):
        access_log_record(
            actor=teacher,
            role="teacher",
            what=what,
            students=[world.student],
            purpose="Teaching the student's class",
        )
    key = student_log_key(world.student.uuid)
    now = timezone.now()
    AccessLogEntry.objects.bulk_create(
        [
            AccessLogEntry(
                at=now - dt.timedelta(days=1, minutes=n),
                actor_user_id=world.principal.pk,
                actor_label=world.principal.email,
                actor_name="Pat Principal",
                role="principal",
                what="section roster",
                purpose="Leading the student's school",
                student_id=world.student.pk,
                student_key=key,
            )
            for n in range(PAGE_SIZE + 10)
        ]
    )


def test_a_parent_opens_who_has_seen_filters_by_a_person_and_pages_older(
    page: Page, world: World, page_problems
) -> None:
    reads_by_staff(world)
    staff = world.teacher.staff_record
    assert staff is not None
    teacher = staff.display_name
    sign_in(page, world.parent)

    # From the child's pages, by the portal's navigation.
    page.get_by_role("link", name="Ada Lovelace").first.click()
    page.get_by_role("link", name="Who has seen").click()
    expect(page.get_by_role("heading", level=2, name="Views of the record")).to_be_visible()
    entries = page.locator(".seen-entry")
    expect(entries.first).to_contain_text("You")
    expect(page.locator(".seen-who", has_text=f"{teacher}, Teacher").first).to_be_visible()
    expect(page.get_by_role("heading", name="Disclosures to outside parties")).to_be_visible()
    assert_clean_at_both_widths(page, "all")

    # One person: the teacher.
    page.get_by_label("Who").select_option(label=f"{teacher} (Teacher)")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"who=u\d+"))
    expect(entries).to_have_count(2)
    for index in range(2):
        expect(entries.nth(index)).to_contain_text(f"{teacher}, Teacher")
    expect(entries.nth(0)).to_contain_text("Profile: progress and scores")
    expect(entries.nth(1)).to_contain_text("Profile: record")
    expect(page.get_by_label("Who")).to_have_value(f"u{world.teacher.pk}")
    assert_clean_at_both_widths(page, "teacher")

    # Everyone but you, then the older page, from the keyboard.
    page.get_by_label("Who").select_option(label="Everyone except you")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"who=others"))
    expect(entries).to_have_count(PAGE_SIZE)
    pages = page.get_by_role("navigation", name="Pages of the list")
    older = pages.get_by_role("link", name="Older")
    older.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"before=\d+-\d+"))
    assert "who=others" in page.url
    expect(entries).to_have_count(12)  # two by the teacher on page one: 62 in all
    expect(entries.last).to_contain_text("Pat Principal, Principal")
    expect(pages.get_by_role("link", name="Older")).to_have_count(0)
    expect(pages.get_by_role("link", name="Newer")).to_be_visible()
    assert_clean_at_both_widths(page, "older")

    assert not page_problems.found(), page_problems.found()

"""The plan pages in Chromium: a teacher opens "plan this day", picks a standard with the keyboard
alone in the standard picker, saves, adds a link, saves the plan as a template and opens the
printable view. axe finds nothing, of any impact, on the new-plan form, the templates page and
the print view at laptop and phone widths; screenshots of each (and of the print layout)."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import FilePayload, Page, expect

from assessments.models import Standard
from lessons import services
from lessons.models import LessonPlan, PlanTemplate
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import LAPTOP, SCREENSHOT_DIR, WIDTHS
from tests.conftest import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 300
STANDARDS = [
    ("4.NF.A.2", "Compare two fractions with different numerators and denominators."),
    ("4.NF.A.3", "Recognize equivalent fractions on a number line."),
    ("4.OA.A.3", "Solve multistep word problems with whole numbers."),
]


@pytest.fixture
def world() -> World:
    """The shared role fixtures with a few grade 4 standards, committed for the live server."""
    world = build_world()
    Standard.objects.filter(pk=world.standard.pk).update(
        description="Explain why a fraction a/b is equivalent to a fraction (n × a)/(n × b).",
        grade_levels=["04"],
    )
    for code, description in STANDARDS:
        Standard.objects.create(
            district=world.district,
            code=f"CCSS.MATH.CONTENT.{code}",
            description=description,
            subject="Mathematics",
            grade_levels=["04"],
        )
    return world


def _check(page: Page, name: str) -> None:
    """No axe violation at laptop and phone widths, no sideways scrolling on the phone; a
    screenshot of each."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for label, viewport in WIDTHS:
        page.set_viewport_size(viewport)
        assert_no_axe_violations(page, f"{name} at {label} width")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {label} width"
        page.screenshot(path=str(SCREENSHOT_DIR / f"planner-{name}-{label}.png"), full_page=True)
    page.set_viewport_size(LAPTOP)


def test_a_teacher_plans_a_lesson_adds_a_link_and_prints_it(
    page: Page, log_in, world: World, page_problems
) -> None:
    day = timezone.localdate() + dt.timedelta(days=1)
    log_in(world.teacher)
    page.goto(
        reverse("lessons:plan_new", kwargs={"pk": world.section.pk}) + f"?day={day.isoformat()}"
    )
    expect(page.get_by_role("heading", level=1)).to_contain_text("Plan a lesson")
    expect(page.get_by_label("First day")).to_have_value(day.isoformat())
    _check(page, "plan-new")

    page.get_by_label("Objective").fill("Place equivalent fractions on a number line")
    # From the objective, Tab lands in the picker's search; the keyboard alone chooses.
    page.get_by_label("Objective").focus()
    page.keyboard.press("Tab")
    search = page.get_by_label("Search standards")
    expect(search).to_be_focused()
    page.keyboard.type("number line")
    page.keyboard.press("ArrowDown")
    chosen = page.get_by_role("checkbox", name=re.compile(r"^4\.NF\.A\.3 Recognize"))
    expect(chosen).to_be_focused()
    page.keyboard.press("Space")
    expect(chosen).to_be_checked()
    expect(page.locator("[data-picker-count]")).to_have_text("1 selected")
    page.get_by_label("Notes").fill("Bring the number line strips.")
    page.get_by_role("button", name="Save and open the plan").click()

    page.wait_for_url(re.compile(r"/plans/\d+/$"))
    plan = LessonPlan.objects.get()
    assert plan.first_day == day
    assert [s.code for s in plan.standards.all()] == ["CCSS.MATH.CONTENT.4.NF.A.3"]
    expect(page.get_by_role("status")).to_contain_text("Plan saved")

    page.get_by_label("Web address").fill("https://example.org/number-line")
    page.get_by_label("Link title").fill("Number line applet")
    page.get_by_role("button", name="Add the link").click()
    page.wait_for_url(re.compile(r"/plans/\d+/#materials$"))
    link = page.get_by_role("link", name="Number line applet")
    expect(link).to_have_attribute("href", "https://example.org/number-line")
    # The plan page with its actions and materials.
    _check(page, "plan-page")
    # A program renamed .pdf is refused by its content, next to the file field (a 400).
    renamed: FilePayload = {"name": "worksheet.pdf", "mimeType": "application/pdf", "buffer": EXE}
    page.get_by_label("File", exact=True).set_input_files(files=[renamed])
    page.get_by_role("button", name="Add the file").click()
    page.wait_for_url(re.compile(r"/plans/\d+/materials/$"))
    expect(page.get_by_role("alert")).to_contain_text("This file holds EXE content")
    expect(page.get_by_label("File", exact=True)).to_have_attribute("aria-invalid", "true")
    _check(page, "plan-materials-refused")
    # The refusal's status is the one expected problem: the browser reports it twice.
    assert page_problems.error_responses == [f"400 {page.url}"]
    assert [e for e in page_problems.console_errors if "status of 400" not in e] == []
    page_problems.error_responses.clear()
    page_problems.console_errors.clear()
    page.get_by_role("link", name="Back to the plan").click()

    page.get_by_label("Save as template, named").fill("Number line day")
    page.get_by_role("button", name="Save as template").click()
    expect(page.get_by_role("status")).to_contain_text("Saved as your template “Number line day”")
    assert PlanTemplate.objects.get().owner == world.teacher

    # Groups as the planner builds them (its own test drives that page), for the print view.
    services.groups_build(acting_user=world.teacher, plan=plan, standard=plan.standards.get())
    for group in plan.groups.all():
        services.group_activities_set(
            acting_user=world.teacher, group=group, texts=[f"{group.name}: number line cards"]
        )
    page.get_by_role("link", name="Print").click()
    page.wait_for_url(re.compile(r"/plans/\d+/print/$"))
    printed = page.locator("article.plan-print")
    for text in (
        "4.NF.A.3",
        "Place equivalent fractions on a number line",
        "Number line applet",
        "https://example.org/number-line",
        "Bring the number line strips.",
        world.student.display_name,
        "number line cards",
    ):
        expect(printed).to_contain_text(text)
    _check(page, "plan-print")
    # As printed: the site's header and breadcrumbs gone, the plan alone on the sheet.
    page.emulate_media(media="print")
    expect(page.locator("header.site-header")).to_be_hidden()
    expect(page.locator("nav.breadcrumbs")).to_be_hidden()
    expect(printed).to_be_visible()
    page.screenshot(path=str(SCREENSHOT_DIR / "planner-plan-print-as-printed.png"), full_page=True)
    page.emulate_media(media="screen")

    page.goto(reverse("lessons:plan_templates"))
    expect(page.get_by_role("heading", name="Number line day")).to_be_visible()
    _check(page, "plan-templates")
    assert page_problems.found() == {}

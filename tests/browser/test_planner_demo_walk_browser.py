"""Issue 22's walk on the demo district in Chromium, as the demo teacher (teacher@example.org),
signed in on the sign-in page: from a section page to a new plan on the standard the class is
lowest on, groups built for it, a student moved with the keyboard, an activity written, the
print view (on screen and as print media); then an exit ticket's score entered in the score grid
in a second tab changes a grouped student's level, and the first tab's "would move" notice
appears without a reload and is accepted. Last, the demo's own plans: the section's week and
month calendars, a past plan with its exit ticket's results, and the plan for the next school
day. Every page visited is loaded afresh at 1366 px and at 360 px, with axe clean, nothing
wider than the screen, and a full-page screenshot kept under test-artifacts/screenshots/
demo-planner-*.

The district is `manage.py seed_demo` at 150 students, the smallest whose demo sections have a
dozen students (so groups of several each; 50 gives three or four); every seed step runs (the
year's scores, mastery, the lesson plans). About 7 s."""

import io
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import Locator, Page, Response, expect

from accounts.models import User
from assessments.engine import estimates_recompute
from assessments.models import ScoreSource, Standard, standard_short_code
from assessments.services import ScoreInput, scores_record
from demo.district import DEMO_LOGINS, DEMO_PASSWORD
from lessons import services
from lessons.models import LessonPlan, PlanGroupMember
from lessons.selectors import group_moves_proposed, sections_plannable_by, suggestions
from students.models import Section, Student
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import LAPTOP, SCREENSHOT_DIR, WIDTHS, PageProblems
from tests.browser.test_teacher_pages_browser import wider_than_the_screen

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STUDENTS = 150
PLAN_URL = re.compile(r"/plans/(\d+)/$")
OBJECTIVE = "Students explain their reasoning on the standard the class is lowest on."
ACTIVITY = "Fraction strips with the teacher, then two problems together."


@dataclass
class Demo:
    teacher: User
    section: Section
    low: Standard  # the lowest recently taught standard (the planner's first suggestion)


@pytest.fixture
def demo() -> Demo:
    call_command("seed_demo", students=STUDENTS, stdout=io.StringIO(), stderr=io.StringIO())
    teacher = User.objects.get(email=DEMO_LOGINS["teacher"])
    for section in sections_plannable_by(teacher):
        lowest = suggestions(section).lowest
        if lowest and lowest[0].count >= 2:
            return Demo(teacher=teacher, section=section, low=lowest[0].standard)
    raise AssertionError("no demo section has a low standard to plan for")


def h1(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def check_page(page: Page, name: str) -> None:
    """At phone, then laptop width, each on the page loaded afresh as that device loads it: axe
    clean, nothing wider than the screen, and a full-page screenshot. Left at laptop width."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for label, viewport in reversed(WIDTHS):
        page.set_viewport_size(viewport)
        page.reload()
        page.wait_for_load_state("load")
        assert_no_axe_violations(page, name)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], (
            f"{name} is {width} px wide at {viewport['width']} px: {wider_than_the_screen(page)}"
        )
        page.screenshot(path=str(SCREENSHOT_DIR / f"{name}-{label}.png"), full_page=True)


def watch(page: Page, problems: PageProblems) -> None:
    """A second tab's errors and failed responses count as the first's do."""

    def on_response(response: Response) -> None:
        if response.status >= 400:
            problems.error_responses.append(f"{response.status} {response.url}")

    page.on("pageerror", lambda error: problems.page_errors.append(str(error)))
    page.on("response", on_response)
    page.on(
        "console",
        lambda message: (
            problems.console_errors.append(message.text) if message.type == "error" else None
        ),
    )


def members(plan: LessonPlan) -> dict[int, str]:
    return dict(PlanGroupMember.objects.filter(plan=plan).values_list("student_id", "group__name"))


def a_score_that_moves(teacher: User, plan: LessonPlan, skip: int) -> tuple[Student, int, str]:
    """A grouped student (not `skip`) and the points on an exit ticket of the plan that change
    their level enough to propose a move, and the group they would join: tried in a transaction
    rolled back, as the score grid records them (due on the plan's last day, entered, then the
    estimates recomputed). Full marks for the lowest groups first, then none for the highest."""
    grouped = list(
        PlanGroupMember.objects.filter(plan=plan)
        .exclude(student_id=skip)
        .select_related("student", "group")
        .order_by("group__position", "student__last_name", "student__first_name")
    )
    tries = [(m, Decimal(4)) for m in grouped] + [(m, Decimal(0)) for m in reversed(grouped)]
    with transaction.atomic():
        ticket = services.exit_ticket_create(
            acting_user=teacher, plan=plan, title="Trial", max_points=Decimal(4)
        )
        for member, points in tries:
            with transaction.atomic():
                recorded = scores_record(
                    scores=[
                        ScoreInput(
                            student_id=member.student_id,
                            assessment_id=ticket.pk,
                            points=points,
                            scored_on=plan.last_day,
                        )
                    ],
                    source=ScoreSource.ENTERED,
                    acting_user=teacher,
                    enqueue=False,
                )
                estimates_recompute(recorded.estimate_ids)
                moves = group_moves_proposed(plan).moves
                transaction.set_rollback(True)
            if [m.student.pk for m in moves] == [member.student_id]:
                transaction.set_rollback(True)
                return member.student, int(points), moves[0].to_group.name
        transaction.set_rollback(True)
    raise AssertionError("no single exit-ticket score moves a grouped student")


def test_the_demo_teacher_plans_a_lesson_from_the_section_page(
    page: Page, demo: Demo, page_problems: PageProblems, eager_celery: object
) -> None:
    # The score entered in the grid is recomputed by the task it enqueues, run in process here
    # (a real broker without a worker would leave the estimate, and the notice, waiting).
    section, low, today = demo.section, demo.low, timezone.localdate()

    # Sign in on the sign-in page, as the teacher types it.
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(DEMO_LOGINS["teacher"])
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"^https?://[^/]+/$"))

    # 1. The section page; "Plan a lesson" by the keyboard: Tab to it, Enter.
    page.goto(f"/sections/{section.pk}/")
    expect(h1(page)).to_contain_text(section.title)
    check_page(page, "demo-planner-section")
    todays = page.get_by_role("region", name=re.compile("^Today's plan"))
    todays.get_by_role("link", name="Lesson plans").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Plan a lesson"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/sections/{section.pk}/plans/new/$"))
    expect(h1(page)).to_contain_text("Plan a lesson")
    check_page(page, "demo-planner-new")

    # 2. The low standard, among those taught lately (the picker's first group), found by the
    # picker's search; today; an objective; saved.
    page.get_by_label("First day").fill(today.isoformat())
    page.get_by_label("Objective").fill(OBJECTIVE)
    recent = page.locator("fieldset.picker-recent")
    low_box = recent.locator(f'input[type="checkbox"][value="{low.pk}"]')
    expect(low_box).to_have_count(1)
    short_code = low_box.get_attribute("data-code") or ""
    page.get_by_label("Search standards").fill(short_code)
    expect(low_box).to_be_visible()
    low_box.check()
    expect(page.locator("[data-picker-count]")).to_have_text("1 selected")
    page.get_by_role("button", name="Save and open the plan").click()
    page.wait_for_url(PLAN_URL)
    plan = LessonPlan.objects.get(pk=int(PLAN_URL.search(page.url)[1]))  # type: ignore[index]
    assert plan.section_id == section.pk and plan.first_day == today
    assert list(plan.standards.values_list("pk", flat=True)) == [low.pk]
    expect(page.locator(".messages")).to_contain_text("Plan saved")
    expect(page.get_by_role("region", name="The lesson")).to_contain_text(OBJECTIVE)
    # The planner's suggestions go on from there: the next lowest taught lately, not the one
    # the plan already targets.
    others = [
        standard_short_code(s.standard.code)
        for s in suggestions(section).lowest
        if s.standard.pk != low.pk
    ]
    expect(
        page.locator("#suggestions ul.suggestions").first.locator(".standard-code")
    ).to_have_text(others)
    check_page(page, "demo-planner-plan")

    # 3. Groups for the standard.
    page.get_by_label("Build groups for").select_option(str(low.pk))
    page.get_by_role("button", name="Build groups").click()
    expect(page.locator(".messages")).to_contain_text(
        f"Groups built for {standard_short_code(low.code)}"
    )
    page.wait_for_load_state("load")
    grouped = members(plan)
    group_names = set(grouped.values())
    assert len(group_names) >= 2 and group_names <= {"Reteach", "Practice", "Extend"}, grouped
    expect(page.locator("#moves-live")).to_have_text("")

    # Move a student to another group with the keyboard alone: their labelled select, arrow
    # down to the other group, Tab to Move, Enter.
    student = (
        PlanGroupMember.objects.filter(plan=plan)
        .select_related("student", "group")
        .order_by("group__position", "student__last_name")
        .first()
    )
    assert student is not None
    name = student.student.display_name
    select = page.get_by_label(f"Move {name} to")
    select.focus()
    page.keyboard.press("ArrowDown")
    target = select.evaluate("s => s.options[s.selectedIndex].text")
    assert target != student.group.name
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == f"Move {name}"
    page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_contain_text(f"{name} moved to {target}")
    page.wait_for_load_state("load")
    assert members(plan)[student.student_id] == target

    # An activity for the first group, saved.
    first = student.group.name
    article = page.locator("article.plan-group").filter(
        has=page.get_by_role("heading", name=re.compile(f"^{first}"))
    )
    article.get_by_label("Activities").fill(ACTIVITY)
    article.get_by_role("button", name=f"Save {first}").click()
    expect(page.locator(".messages")).to_contain_text(f"Group “{first}” saved.")
    check_page(page, "demo-planner-groups")

    # The print view: the groups, the moved student in their new group, the activity.
    page.get_by_role("navigation", name="Plan actions").get_by_role("link", name="Print").click()
    page.wait_for_url(re.compile(rf"/plans/{plan.pk}/print/$"))
    printed_group = page.locator("section.plan-print-group").filter(
        has=page.get_by_role("heading", name=re.compile(f"^{re.escape(target)}"))
    )
    expect(printed_group.locator(".plan-print-students")).to_contain_text(name)
    for group_name in group_names:
        expect(page.get_by_role("heading", name=re.compile(f"^{group_name}"))).to_be_visible()
    expect(page.locator(".plan-print-activities")).to_contain_text(ACTIVITY)
    expect(page.locator(".plan-print-facts")).to_contain_text(OBJECTIVE)
    check_page(page, "demo-planner-print")
    # Its button prints (the browser's dialog stood in for: headless Chromium has none).
    page.evaluate("window.print = () => { window.__printed = true; }")
    page.get_by_role("button", name="Print this plan").click()
    assert page.evaluate("window.__printed === true")
    page.emulate_media(media="print")
    expect(page.locator("header.site-header")).to_be_hidden()
    expect(page.locator(".print-hint")).to_be_hidden()
    page.screenshot(path=str(SCREENSHOT_DIR / "demo-planner-print-media.png"), full_page=True)
    printed = page.pdf(path=str(SCREENSHOT_DIR / "demo-planner-print.pdf"), format="Letter")
    assert len(re.findall(rb"/Type\s*/Page[^s]", printed)) == 1  # one sheet where it fits
    page.emulate_media(media="screen")

    # 4. Which one score moves someone, tried and rolled back while no page polls.
    mover, points, joins = a_score_that_moves(demo.teacher, plan, skip=student.student_id)
    page.get_by_role("link", name="Back to the plan").click()
    page.wait_for_url(re.compile(rf"/plans/{plan.pk}/$"))
    expect(page.locator("#moves-live")).to_have_text("")
    page.evaluate("window.__sameDocument = true")

    # A second tab: create the exit ticket on the plan, then its score grid.
    grid = page.context.new_page()
    watch(grid, page_problems)
    grid.goto(f"/plans/{plan.pk}/")
    grid.get_by_role("button", name="Create the exit ticket").click()
    expect(grid.locator(".messages")).to_contain_text("created: enter its scores in the grid")
    grid.get_by_role("link", name=re.compile("enter or correct its scores")).click()
    grid.wait_for_url(re.compile(rf"/sections/{section.pk}/.*"))
    expect(h1(grid)).to_contain_text("Exit ticket")
    check_page(grid, "demo-planner-scores")
    grid.get_by_label(mover.display_name, exact=True).fill(str(points))
    grid.get_by_role("button", name="Save scores").click()
    expect(grid.locator(".messages")).to_contain_text("Saved: 1 new")

    # The first tab, never reloaded: the notice says who would move and why.
    notice = page.locator("#moves-live")
    expect(notice).to_contain_text("1 student would move to another group", timeout=15_000)
    expect(notice).to_contain_text(mover.display_name)
    expect(notice).to_contain_text(f"{joins} fits better")
    assert page.evaluate("window.__sameDocument === true")
    page.get_by_role("button", name="Accept these moves").click()
    expect(page.locator(".messages")).to_contain_text("1 move made")
    assert members(plan)[mover.pk] == joins
    expect(page.get_by_role("table", name="Each group's results")).to_be_visible()
    check_page(page, "demo-planner-moved")
    grid.close()

    # 5. The demo's own plans: the section's week, then month, a past plan with its exit
    # ticket's results, and the plan for the next school day.
    page.get_by_role("navigation", name="Breadcrumb").get_by_role(
        "link", name="Lesson plans"
    ).click()
    page.wait_for_url(re.compile(rf"/sections/{section.pk}/plans/"))
    expect(page.get_by_role("link", name="Week", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    check_page(page, "demo-planner-week")
    page.get_by_role("navigation", name="Calendar").get_by_role(
        "link", name="Month", exact=True
    ).click()
    expect(page.get_by_role("link", name="Month", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    check_page(page, "demo-planner-month")

    past = (
        LessonPlan.objects.filter(section=section, first_day__lt=today, exit_ticket__isnull=False)
        .order_by("-first_day")
        .first()
    )
    assert past is not None, "the demo section has a past plan with an exit ticket"
    past_link = page.locator(f'table.calendar-month a[href="/plans/{past.pk}/"]')
    if not past_link.count():  # early in the month: it is in the one before
        page.get_by_role("link", name=re.compile("^←")).click()
    past_link.click()
    page.wait_for_url(re.compile(rf"/plans/{past.pk}/$"))
    results = page.get_by_role("table", name="Each group's results")
    expect(results).to_be_visible()
    expect(results.get_by_role("rowheader").first).to_be_visible()
    check_page(page, "demo-planner-past")

    tomorrow = LessonPlan.objects.filter(section=section, first_day__gt=today).get()
    page.goto(f"/sections/{section.pk}/plans/?view=week&day={tomorrow.first_day.isoformat()}")
    page.locator(f'ol.calendar-week a[href="/plans/{tomorrow.pk}/"]').click()
    page.wait_for_url(re.compile(rf"/plans/{tomorrow.pk}/$"))
    expect(h1(page)).to_contain_text(tomorrow.first_day.strftime("%B"))
    expect(page.locator("article.plan-group").first).to_be_visible()
    check_page(page, "demo-planner-tomorrow")
    page.set_viewport_size(LAPTOP)

    assert not page_problems.found(), page_problems.found()

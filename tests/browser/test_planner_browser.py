"""The plan's page in Chromium, as the section's teacher: build groups for a standard, move a
student with the keyboard alone, lock and unlock; then a score saved elsewhere changes a grouped
student's level and the "would move" notice appears without a reload, and the teacher accepts.
axe finds nothing, of any impact, at 1366 and 360 px with groups, suggestions and an exit
ticket's results on the page; screenshots under test-artifacts/screenshots/teacher-plan-*."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from assessments.engine import estimates_recompute
from assessments.models import Assessment, MasteryEstimate, Standard
from assessments.services import ScoreInput, scores_record
from lessons import services
from lessons.models import LessonPlan, PlanGroupMember
from tests.browser.conftest import PageProblems
from tests.browser.test_dashboard_browser import demo_section
from tests.browser.test_teacher_pages_browser import check_at_both_widths, settle
from tests.conftest import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def planned() -> tuple[World, list[Standard], LessonPlan]:
    """The demo class (14 students, 5 standards, weeks of scores) and a plan for tomorrow on
    the first two standards, with an exit ticket on the first."""
    world = build_world()
    standards = demo_section(world)
    plan = services.plan_create(
        acting_user=world.teacher,
        section=world.section,
        first_day=timezone.localdate() + dt.timedelta(days=1),
        objective="Compare fractions with unlike denominators.",
        standards=standards[:2],
    )
    return world, standards, plan


def _members(plan: LessonPlan) -> dict[int, str]:
    return dict(PlanGroupMember.objects.filter(plan=plan).values_list("student_id", "group__name"))


def _raise_a_level(world: World, standard: Standard, student_id: int) -> int:
    """Full marks on fresh quizzes on the standard, through the score service and recomputed
    now, until the student's level changes (a few rounds at most): their new level."""
    today = timezone.localdate()
    before = MasteryEstimate.objects.get(student_id=student_id, standard=standard).level
    for round_ in range(4):
        quiz = Assessment.objects.create(
            district=world.district,
            section=world.section,
            title=f"Check-in {round_ + 1}",
            max_points=4,
            due_on=today,
        )
        quiz.standards.add(standard)
        inputs = [
            ScoreInput(
                student_id=student_id,
                assessment_id=quiz.pk,
                points=Decimal(4),
                scored_on=today - dt.timedelta(days=days_ago),
            )
            for days_ago in range(3)
        ]
        estimates_recompute(scores_record(scores=inputs, enqueue=False).estimate_ids)
        now = MasteryEstimate.objects.get(student_id=student_id, standard=standard).level
        if now != before:
            return now
    raise AssertionError("full marks did not change the level")


def test_plan_groups_move_lock_and_live_moves(
    page: Page,
    log_in,
    planned: tuple[World, list[Standard], LessonPlan],
    page_problems: PageProblems,
) -> None:
    world, standards, plan = planned
    standard = standards[0]
    log_in(world.teacher)
    page.goto(f"/plans/{plan.pk}/")
    expect(page.get_by_role("heading", name="Groups")).to_be_visible()

    # Build groups for the first standard.
    page.get_by_label("Build groups for").select_option(str(standard.pk))
    page.get_by_role("button", name="Build groups").click()
    expect(page.get_by_text("Groups built for 4.NF.A.1")).to_be_visible()
    # Back at #groups-heading: once loaded, Tab starts from there (the fragment's target).
    page.wait_for_load_state("load")
    before = _members(plan)
    assert {"Reteach", "Practice", "Extend"} <= set(before.values())

    # Move a student with the keyboard alone: focus their select, choose, Tab to Move, Enter.
    student_id, group = next((s, g) for s, g in before.items() if g != "Extend")
    target = "Extend"
    select = page.locator(f"#move-{student_id}")
    select.focus()
    select.select_option(label=target)
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "Move"
    page.keyboard.press("Enter")
    page.wait_for_load_state("load")
    expect(page.locator(".messages")).to_contain_text(f"moved to {target}")
    assert _members(plan)[student_id] == target

    # Lock, then unlock: the state is said in words.
    page.get_by_role("button", name="Lock the groups for the lesson").click()
    expect(page.locator("#lock-state")).to_contain_text("Locked")
    expect(page.locator(f"#move-{student_id}")).to_have_count(0)
    page.get_by_role("button", name="Unlock the groups").click()
    expect(page.locator("#lock-state")).to_contain_text("Unlocked")

    # A score saved elsewhere raises a Reteach student's level: the notice comes by itself.
    reteach = [s for s, g in _members(plan).items() if g == "Reteach"]
    assert reteach, "the demo class has students to reteach"
    mover = reteach[0]
    _raise_a_level(world, standard, mover)
    notice = page.locator("#moves-live")
    expect(notice).to_contain_text("would move to another group", timeout=15_000)
    expect(notice).to_contain_text("fits better")
    page.get_by_role("button", name="Accept these moves").click()
    expect(page.locator(".messages")).to_contain_text("1 move made")
    assert _members(plan)[mover] != "Reteach"
    assert page_problems.found() == {}


def test_plan_page_at_both_widths(
    page: Page,
    log_in,
    planned: tuple[World, list[Standard], LessonPlan],
    page_problems: PageProblems,
) -> None:
    """Groups (one with a proposed move, activities written), suggestions and the exit ticket's
    results on the page: axe at both widths, nothing wider than a phone, screenshots."""
    world, standards, plan = planned
    services.groups_build(acting_user=world.teacher, plan=plan, standard=standards[0])
    group = plan.groups.order_by("position").first()
    assert group is not None
    services.group_activities_set(
        acting_user=world.teacher,
        group=group,
        texts=["Fraction strips in pairs", "Number line warm-up"],
    )
    ticket = services.exit_ticket_create(
        acting_user=world.teacher, plan=plan, title="Exit ticket", max_points=Decimal(4)
    )
    reteach = PlanGroupMember.objects.filter(plan=plan, group__kind="reteach").first()
    assert reteach is not None
    _raise_a_level(world, standards[0], reteach.student_id)
    members = list(
        PlanGroupMember.objects.filter(plan=plan)
        .exclude(student_id=reteach.student_id)
        .values_list("student_id", flat=True)
    )
    scores_record(
        scores=[
            ScoreInput(
                student_id=student_id,
                assessment_id=ticket.pk,
                points=Decimal(index % 5),
                scored_on=timezone.localdate(),
            )
            for index, student_id in enumerate(members[:10])
        ],
        enqueue=False,
    )
    log_in(world.teacher)
    page.goto(f"/plans/{plan.pk}/")
    settle(page)
    expect(page.locator("#moves-live")).to_contain_text("would move to another group")
    expect(page.get_by_role("heading", name="Suggestions")).to_be_visible()
    expect(page.get_by_role("table", name="Each group's results")).to_be_visible()
    check_at_both_widths(page, "plan")
    assert page_problems.found() == {}

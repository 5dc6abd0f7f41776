"""The family portal in Chromium, as a parent like the demo's: two children at two schools, a year
of levels, scores, absences, grades and teachers. The parent signs in, lands on their children,
reads one child's progress, switches to the other child on the same tab, reads grades and
attendance, and finds the teachers. At 1366 px and 360 px: axe finds no violation of any impact,
nothing is wider than the screen, every link a thumb uses is at least 44 px tall, and the
screenshots are kept."""

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from assessments.models import Assessment, MasteryEstimate, MasteryEstimateHistory, Standard
from assessments.services import ScoreInput, scores_record
from students.models import (
    AttendanceCategory,
    AttendanceEvent,
    ContactDetail,
    ContactKind,
    Grade,
    GuardianRelationship,
    Relationship,
    SessionKind,
)
from tests import factories
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import LAPTOP, PHONE, WIDTHS
from tests.conftest import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Screenshot = Callable[[str], list[Path]]
TODAY = timezone.localdate()


def days_ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


def _levels(world: World, student, standard: Standard, levels: list[tuple[int, int]]) -> None:
    for days, level in levels:
        MasteryEstimateHistory.objects.create(
            student=student,
            standard=standard,
            probability=0.2 * level,
            level=level,
            evidence_count=3,
            method="test",
            as_of=days_ago(days),
            recorded_at=timezone.now() - dt.timedelta(days=days),
        )
    MasteryEstimate.objects.create(
        student=student, standard=standard, level=levels[-1][1], probability=0.2 * levels[-1][1]
    )


@pytest.fixture
def world() -> World:
    """The shared world, with Ada's brother at Oak Elementary as the parent's second child, and
    a year of records for both."""
    world = build_world()
    brother = world.other_school_student
    brother.first_name, brother.last_name = "Leo", "Lovelace"
    brother.save()
    GuardianRelationship.objects.create(
        district=world.district,
        guardian=world.guardian,
        student=brother,
        relationship=Relationship.MOTHER,
        portal_access=True,
    )
    world.standard.description = "Explain why a fraction a/b is equivalent to (n×a)/(n×b)."
    world.standard.parent_description = "Explains why 1/2 and 2/4 are the same amount."
    world.standard.parent_description_es = "Explica por qué 1/2 y 2/4 son la misma cantidad."
    world.standard.save()
    second = Standard.objects.create(
        district=world.district,
        code="CCSS.MATH.CONTENT.4.NF.B.3",
        subject="Mathematics",
        parent_description="Adds and subtracts fractions with the same bottom number.",
    )
    world.assessment.standards.add(second)
    _levels(world, world.student, world.standard, [(80, 1), (50, 2), (20, 3), (6, 4)])
    _levels(world, world.student, second, [(70, 3), (30, 2)])
    oak_math = world.other_school_section
    oak_standard = Standard.objects.create(
        district=world.district,
        code="CCSS.MATH.CONTENT.4.OA.A.3",
        subject="Mathematics",
        parent_description="Solves word problems that take several steps.",
    )
    oak_quiz = Assessment.objects.create(
        district=world.district,
        section=oak_math,
        title="Word problems check",
        max_points=20,
        due_on=days_ago(4),
    )
    oak_quiz.standards.add(oak_standard)
    _levels(world, brother, oak_standard, [(90, 2), (60, 2)])
    scores_record(
        scores=[
            ScoreInput(
                student_id=world.student.pk,
                assessment_id=world.assessment.pk,
                scored_on=days_ago(6),
                points=Decimal("9"),
            ),
            ScoreInput(
                student_id=brother.pk,
                assessment_id=oak_quiz.pk,
                scored_on=days_ago(4),
                points=Decimal("14"),
            ),
        ],
        enqueue=False,
    )
    period = factories.AcademicSessionFactory.create(
        district=world.district, title="Quarter 1", kind=SessionKind.GRADING_PERIOD
    )
    for student, section, letter in (
        (world.student, world.section, "A-"),
        (brother, oak_math, "B"),
    ):
        Grade.objects.create(
            district=world.district,
            student=student,
            section=section,
            grading_period=period,
            letter_grade=letter,
        )
    weekdays = [d for d in (days_ago(n) for n in range(1, 90)) if d.weekday() < 5]
    for index, day in enumerate(weekdays[:14]):
        AttendanceEvent.objects.create(
            district=world.district,
            student=brother,
            event_date=day,
            category=AttendanceCategory.EXCUSED_ABSENCE
            if index % 3
            else AttendanceCategory.UNEXCUSED_ABSENCE,
        )
    AttendanceEvent.objects.create(
        district=world.district,
        student=world.student,
        event_date=weekdays[3],
        category=AttendanceCategory.TARDY,
    )
    staff = world.teacher.staff_record
    assert staff is not None
    staff.publish_phone_to_families = True
    staff.save()
    for kind, value in (
        (ContactKind.EMAIL, "m.rivera@maple.example.org"),
        (ContactKind.PHONE, "(303) 555-0142"),
    ):
        ContactDetail.objects.create(
            district=world.district, staff=staff, kind=kind, label="work", value=value
        )
    return world


def check_page(page: Page, screenshot: Screenshot, name: str) -> None:
    """At each width: axe clean, nothing wider than the screen, links a thumb uses 44 px tall;
    then the screenshots at both widths."""
    for _label, viewport in WIDTHS:
        page.set_viewport_size(viewport)
        assert_no_axe_violations(page, name)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{name} is {width} px wide at {viewport['width']} px"
        heights = page.eval_on_selector_all(
            ".child-switcher a, .portal-tabs a, .child-card-links a",
            "links => links.map(link => link.getBoundingClientRect().height)",
        )
        assert all(height >= 44 for height in heights), (name, heights)
    page.set_viewport_size(LAPTOP)
    screenshot(name)


def test_a_parent_reads_each_childs_pages_and_switches_between_them(
    page: Page, log_in, screenshot: Screenshot, world: World, page_problems
) -> None:
    brother = world.other_school_student
    log_in(world.parent)
    # Home is the list of children: name, school and grade, a link to each.
    expect(page).to_have_url(re.compile(r"/family/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My children")
    main = page.get_by_role("main")
    expect(main).to_contain_text("Maple Elementary")
    expect(main).to_contain_text("Oak Elementary")
    expect(main).to_contain_text("Grade 4")
    expect(page.get_by_text(world.classmate.display_name)).to_have_count(0)
    check_page(page, screenshot, "portal-children")

    # Ada's progress: each standard in plain words, its level in words with its symbol, its
    # trend, and the recent scores with their assessment and date.
    main.get_by_role("link", name=world.student.display_name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(world.student.display_name)
    expect(main).to_contain_text("Explains why 1/2 and 2/4 are the same amount.")
    expect(main).not_to_contain_text("equivalent to (n×a)")
    expect(main).to_contain_text("★ Exceeds Mastery")
    expect(main).to_contain_text(f"Improving since {days_ago(50):%B}")
    expect(main).to_contain_text(f"Slipping since {days_ago(30):%B}")
    scores = page.get_by_role("region", name="Recent scores, table")
    expect(scores).to_contain_text("Fractions quiz")
    expect(scores).to_contain_text("9 of 10")
    tabs = page.get_by_role("navigation", name=f"About {world.student.display_name}")
    expect(tabs.get_by_role("link", name="Progress")).to_have_attribute("aria-current", "page")
    check_page(page, screenshot, "portal-progress")

    # Grades, then the switcher: the brother's grades, on the same tab.
    tabs.get_by_role("link", name="Grades").click()
    expect(main).to_contain_text("A-")
    switcher = page.get_by_role("navigation", name="Switch to another child")
    expect(switcher.get_by_role("link", name=world.student.display_name)).to_have_attribute(
        "aria-current", "page"
    )
    switcher.get_by_role("link", name=brother.display_name).click()
    expect(page).to_have_url(re.compile(rf"/family/children/{brother.pk}/grades/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(brother.display_name)
    expect(main).to_contain_text("Oak Math")
    expect(main).to_contain_text("Quarter 1")
    check_page(page, screenshot, "portal-grades")

    # His attendance: days present, absent and tardy, and chronic absence in a sentence.
    page.get_by_role("navigation", name=f"About {brother.display_name}").get_by_role(
        "link", name="Attendance"
    ).click()
    expect(main).to_contain_text("Days present")
    expect(main).to_contain_text("Days absent")
    expect(main).to_contain_text("Days tardy")
    expect(main).to_contain_text("Chronic absence:")
    expect(main).to_contain_text("is called chronic absence")
    check_page(page, screenshot, "portal-attendance")

    # Back to Ada on the same tab, then her teachers: email, and the phone the school publishes.
    page.get_by_role("navigation", name="Switch to another child").get_by_role(
        "link", name=world.student.display_name
    ).click()
    expect(page).to_have_url(re.compile(rf"/family/children/{world.student.pk}/attendance/$"))
    expect(main).to_contain_text("Days tardy")
    page.get_by_role("navigation", name=f"About {world.student.display_name}").get_by_role(
        "link", name="Teachers"
    ).click()
    expect(main.get_by_role("link", name="m.rivera@maple.example.org")).to_be_visible()
    expect(main.get_by_role("link", name="(303) 555-0142")).to_be_visible()
    check_page(page, screenshot, "portal-teachers")

    # Phone first: the progress page on a phone, a first visit under 200 KB (no chart on it).
    page.set_viewport_size(PHONE)
    page.goto(f"/family/children/{world.student.pk}/")
    transferred = page.evaluate(
        """() => performance.getEntriesByType("navigation")
            .concat(performance.getEntriesByType("resource"))
            .reduce((sum, entry) => sum + (entry.transferSize || entry.encodedBodySize || 0), 0)"""
    )
    assert transferred < 200_000, transferred
    assert page.evaluate("document.querySelectorAll('script[src*=plotly]').length") == 0

    # In Spanish, chosen on the page: the standard in the family's words in Spanish.
    page.set_viewport_size(LAPTOP)
    page.get_by_role("button", name="Español").click()
    expect(main).to_contain_text("Explica por qué 1/2 y 2/4 son la misma cantidad.")
    expect(main).not_to_contain_text("Explains why 1/2")
    expect(main).to_contain_text("★")
    check_page(page, screenshot, "portal-progress-es")
    assert page_problems.found() == {}, page_problems.found()

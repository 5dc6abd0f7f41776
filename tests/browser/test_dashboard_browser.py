"""The teacher dashboard in Chromium: a demo-like teacher opens their section, the levels grid
shows a row per student and the class's bars draw (Plotly's SVG), a cell opens the student's
history, the CSV downloads, a newly saved score shows up live, and axe finds nothing serious or
critical. The grid's keyboard, sizes and scrolling: tests/browser/test_heatmap_browser.py.
Screenshots at laptop and phone widths go to test-artifacts/screenshots/dashboard-*.png."""

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.services import derived_access_sync
from assessments.engine import estimates_recompute
from assessments.models import Assessment, AssessmentKind, Standard, StandardKind
from assessments.services import ScoreInput, mastery_override_set, scores_record
from students.models import Enrollment, StudentSchoolMembership
from tests import factories
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import LAPTOP, SCREENSHOT_DIR, WIDTHS
from tests.conftest import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Screenshot = Callable[[str], list[Path]]
STUDENTS = 14
FIRST_NAMES = [
    "Maya",
    "Liam",
    "Zoe",
    "Omar",
    "Ivy",
    "Noah",
    "Ana",
    "Eli",
    "Mia",
    "Kai",
    "Lena",
    "Ravi",
]
LAST_NAMES = [
    "Garcia",
    "Nguyen",
    "Smith",
    "Patel",
    "Okafor",
    "Kim",
    "Rossi",
    "Haddad",
    "Cohen",
    "Lopez",
]


def demo_section(world: World) -> list[Standard]:
    """The world's Grade 4 Math, grown to a real class: 14 students, 5 standards, 8 weeks of
    quizzes and a unit test, with learning that differs by student."""
    today = timezone.localdate()
    for index in range(STUDENTS - 2):
        student = factories.StudentFactory.create(
            district=world.district,
            first_name=FIRST_NAMES[index % len(FIRST_NAMES)],
            last_name=LAST_NAMES[index % len(LAST_NAMES)] + ("" if index < 10 else "-Lee"),
        )
        Enrollment.objects.create(district=world.district, student=student, section=world.section)
        StudentSchoolMembership.objects.create(
            district=world.district, student=student, school=world.school, grade_level="04"
        )
    derived_access_sync()
    cluster = Standard.objects.create(
        district=world.district,
        code="CCSS.MATH.CONTENT.4.NF.A",
        kind=StandardKind.CLUSTER,
        description="Extend understanding of fraction equivalence and ordering.",
        subject="Mathematics",
    )
    Standard.objects.filter(pk=world.standard.pk).update(
        parent=cluster, description="Explain why fractions are equivalent."
    )
    standards = [world.standard]
    for code, text in [
        ("4.NF.A.2", "Compare two fractions with different numerators and denominators."),
        ("4.NF.B.3", "Understand a fraction a/b with a > 1 as a sum of fractions 1/b."),
        ("4.OA.A.3", "Solve multistep word problems with whole numbers."),
        ("4.NBT.B.4", "Fluently add and subtract multi-digit whole numbers."),
    ]:
        standards.append(
            Standard.objects.create(
                district=world.district,
                code=f"CCSS.MATH.CONTENT.{code}",
                description=text,
                subject="Mathematics",
                parent=cluster if code.startswith("4.NF.A") else None,
            )
        )
    roster = [e.student for e in Enrollment.objects.filter(section=world.section).order_by("pk")]
    inputs = []
    for week in range(8):
        day = today - dt.timedelta(days=7 * (8 - week))
        standard = standards[week % len(standards)]
        quiz = Assessment.objects.create(
            district=world.district,
            section=world.section,
            title=f"Quiz {week + 1}: {standard.code.removeprefix('CCSS.MATH.CONTENT.')}",
            kind=AssessmentKind.QUIZ if week != 7 else AssessmentKind.TEST,
            max_points=10,
            due_on=day,
        )
        quiz.standards.add(standard)
        for rank, student in enumerate(roster):
            points = min(10, max(0, (rank * 7 + week * 3) % 11))
            inputs.append(
                ScoreInput(
                    student_id=student.pk,
                    assessment_id=quiz.pk,
                    points=Decimal(points) if rank % 9 != 4 else None,
                    status="scored" if rank % 9 != 4 else "missing",
                    scored_on=day,
                )
            )
    estimates_recompute(scores_record(scores=inputs, enqueue=False).estimate_ids)
    mastery_override_set(
        student_id=roster[1].pk,
        standard_id=standards[0].pk,
        level=3,
        note="Showed it with fraction strips in class.",
        acting_user=world.teacher,
        clear_on_new_score=True,
    )
    return standards


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.fixture
def screenshot(page: Page) -> Screenshot:
    """Like the shared fixture, but waits after each resize: Plotly redraws a resized chart
    after a short debounce, and a screenshot taken at once would show the old width."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> list[Path]:
        paths = []
        for label, viewport in WIDTHS:
            page.set_viewport_size(viewport)
            page.wait_for_timeout(700)
            path = SCREENSHOT_DIR / f"{name}-{label}.png"
            page.screenshot(path=str(path), full_page=True)
            paths.append(path)
        page.set_viewport_size(LAPTOP)
        page.wait_for_timeout(300)
        return paths

    return take


def test_teacher_reads_the_section_dashboard(
    page: Page, log_in, screenshot: Screenshot, world: World, page_problems
) -> None:
    standards = demo_section(world)
    log_in(world.teacher)
    page.get_by_role("region", name="My sections").get_by_role("link", name="Grade 4 Math").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Grade 4 Math")

    # The levels grid: a labelled row per student, a column per standard, a symbol in every
    # cell (not colour alone), and the override marked.
    grid = page.get_by_role("grid", name="Mastery level of each student on each standard")
    expect(grid.locator("tbody tr")).to_have_count(STUDENTS)
    expect(grid.locator("thead th[data-standard]")).to_have_count(len(standards))
    expect(grid.locator("tbody td")).to_have_count(STUDENTS * len(standards))
    assert all(symbol.strip() for symbol in grid.locator("tbody td").all_inner_texts())
    expect(grid.locator('td[aria-label$="(overridden)"]')).to_have_count(1)
    # The class's bars, one per standard, drawn by our plotly.js.
    chart = page.locator("#overview-chart")
    expect(chart).to_have_class(re.compile("is-drawn"))
    expect(chart.locator("svg.main-svg").first).to_be_visible()
    expect(chart.locator("g.xtick")).to_have_count(len(standards))
    assert_no_axe_violations(page, "section dashboard")
    screenshot("dashboard-section")

    # The CSV download holds what is shown.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="levels (CSV)").click()
    rows = list(csv.reader(io.StringIO(Path(download_info.value.path()).read_text())))
    assert len(rows) == STUDENTS + 1
    assert rows[0][2:] == [s.code for s in sorted(standards, key=lambda s: s.code)]

    # A new score saved meanwhile shows up without a reload, and is outlined until seen.
    first_student = (
        Enrollment.objects.filter(section=world.section)
        .order_by("student__last_name", "student__first_name", "student_id")[0]
        .student
    )
    late_quiz = Assessment.objects.create(
        district=world.district,
        section=world.section,
        title="Retake: 4.NBT.B.4",
        max_points=10,
        due_on=timezone.localdate(),
    )
    late_quiz.standards.add(standards[-1])
    for points in ("0", "0"):
        estimates_recompute(
            scores_record(
                scores=[
                    ScoreInput(
                        student_id=first_student.pk,
                        assessment_id=late_quiz.pk,
                        points=Decimal(points),
                        scored_on=timezone.localdate(),
                    )
                ],
                enqueue=False,
            ).estimate_ids
        )
    expect(page.locator("#live-message")).to_contain_text("changed", timeout=15_000)
    expect(page.get_by_role("button", name="Mark changes as seen")).to_be_visible()
    screenshot("dashboard-section-live-change")
    changed = page.locator("#heatmap td.ch")
    expect(changed).to_have_count(1)
    expect(changed).to_have_accessible_name(re.compile(r"^.+, 4\.NBT\.B\.4: .+ \(changed\)$"))
    page.get_by_role("button", name="Mark changes as seen").click()
    expect(page.locator("#heatmap td.ch")).to_have_count(0)

    # A cell opens that student's history on that standard.
    page.locator("#heatmap tbody td").first.click()
    expect(page).to_have_url(
        re.compile(rf"/sections/\d+/students/{first_student.pk}/standards/\d+/$")
    )
    expect(page.get_by_role("heading", level=1)).to_contain_text("on 4.")
    expect(page.locator("#trend-chart svg.main-svg").first).to_be_visible()
    assert_no_axe_violations(page, "student history on a standard")
    screenshot("dashboard-student-standard")

    page.get_by_role("navigation", name="Breadcrumb").get_by_role(
        "link", name="Grade 4 Math"
    ).click()
    page.locator("#distribution-table-toggle summary").click()
    page.locator("#distribution-table tbody tr").first.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/standards/\d+/"))
    expect(page.get_by_role("heading", name="Groups for the next lesson")).to_be_visible()
    assert_no_axe_violations(page, "standard view")
    screenshot("dashboard-standard")

    # The profile opens on the record; every other tab is read only when it is opened.
    tab_requests: list[str] = []
    page.on(
        "request",
        lambda r: tab_requests.append(r.url.split("/tabs/")[-1]) if "/tabs/" in r.url else None,
    )
    page.goto(f"/students/{first_student.pk}/")
    expect(page.get_by_role("region", name="Classes")).to_contain_text("Grade 4 Math")
    expect(page.get_by_role("tabpanel", name="Record")).to_be_visible()
    assert tab_requests == []
    page.goto(f"/students/{first_student.pk}/#assessments")
    expect(page.get_by_role("tab", name="Assessments")).to_have_attribute("aria-selected", "true")
    expect(page.locator("[data-figure='trend-figure-0'] svg.main-svg").first).to_be_visible()
    assert_no_axe_violations(page, "student profile, assessments tab")
    screenshot("dashboard-profile-assessments")
    page.get_by_role("tab", name="Grades").click()
    expect(page.get_by_role("tabpanel", name="Grades")).to_contain_text("No grades recorded.")
    page.get_by_role("tab", name="Record").click()
    expect(page.get_by_role("region", name="Classes")).to_contain_text("Grade 4 Math")
    page.get_by_role("tab", name="Grades").click()  # fetched once: opening it again reads nothing
    expect(page.get_by_role("tabpanel", name="Grades")).to_contain_text("No grades recorded.")
    assert tab_requests == ["assessments/", "grades/"]
    assert page_problems.found() == {}


def test_principal_sees_an_override_read_only(
    page: Page, log_in, screenshot: Screenshot, world: World, page_problems
) -> None:
    standards = demo_section(world)
    log_in(world.principal)
    page.goto(f"/sections/{world.section.pk}/?students=need&standards=mastery")
    expect(page.locator("#overview-chart")).to_have_class(re.compile("is-drawn"))
    # A bar segment lists exactly the students it counts.
    bars = page.locator("#overview-chart .barlayer .point path")
    bars.first.click(force=True)
    expect(page.locator("#bar-students")).to_be_visible()
    expect(page.locator("#bar-students li a").first).to_be_visible()
    screenshot("dashboard-section-principal-bar")
    overridden = Enrollment.objects.filter(section=world.section).order_by("pk")[1].student
    page.goto(f"/sections/{world.section.pk}/students/{overridden.pk}/standards/{standards[0].pk}/")
    expect(page.get_by_text("Overridden by a teacher")).to_be_visible()
    expect(page.get_by_text("you see it read-only")).to_be_visible()
    expect(page.get_by_role("button", name="Override the level")).to_have_count(0)
    assert_no_axe_violations(page, "principal's read-only override")
    assert page_problems.found() == {}


def test_a_profile_tab_that_fails_to_load_says_so_and_loads_when_opened_again(
    page: Page, log_in, world: World
) -> None:
    log_in(world.teacher)
    page.route("**/tabs/grades/", lambda route: route.fulfill(status=500, body="boom"))
    page.goto(f"/students/{world.student.pk}/")
    page.get_by_role("tab", name="Grades").click()
    grades = page.get_by_role("tabpanel", name="Grades")
    expect(grades.get_by_role("alert")).to_contain_text("the server answered 500")
    # The page's own address for the tab is still offered.
    expect(grades.get_by_role("link", name="Show grades")).to_have_attribute(
        "href", "?tab=grades#grades"
    )
    # No answer at all (the network): the reader is told to check the connection.
    page.unroute("**/tabs/grades/")
    page.route("**/tabs/grades/", lambda route: route.abort())
    page.get_by_role("tab", name="Record").click()
    page.get_by_role("tab", name="Grades").click()
    expect(grades.get_by_role("alert")).to_contain_text("check the connection")
    page.unroute("**/tabs/grades/")
    page.get_by_role("tab", name="Record").click()
    page.get_by_role("tab", name="Grades").click()
    expect(grades).to_contain_text("No grades recorded.")
    expect(grades.get_by_role("alert")).to_have_count(0)
    # Without the script, the link shows the page with that tab.
    page.goto(f"/students/{world.student.pk}/?tab=grades#grades")
    expect(page.get_by_role("tab", name="Grades")).to_have_attribute("aria-selected", "true")
    expect(grades).to_contain_text("No grades recorded.")


# The modebar buttons a chart may offer: zooming, panning, hover modes and the PNG download.
# Nothing that shares, sends to a cloud or edits elsewhere.
ALLOWED_MODEBAR_TITLES = {
    "Download plot as a PNG",
    "Download plot as a png",
    "Zoom",
    "Pan",
    "Zoom in",
    "Zoom out",
    "Reset axes",
    "Reset view",
    "Show closest data on hover",
    "Compare data on hover",
}


def modebar_titles(page: Page) -> list[str]:
    return page.eval_on_selector_all(
        ".modebar-btn", "buttons => buttons.map(b => b.getAttribute('data-title'))"
    )


def test_every_chart_offers_only_on_site_actions(
    page: Page, log_in, world: World, page_problems
) -> None:
    standards = demo_section(world)
    student = Enrollment.objects.filter(section=world.section).order_by("pk")[0].student
    log_in(world.teacher)
    chart_pages = {
        "section overview": f"/sections/{world.section.pk}/",
        "standard view": f"/sections/{world.section.pk}/standards/{standards[0].pk}/",
        "student on a standard": (
            f"/sections/{world.section.pk}/students/{student.pk}/standards/{standards[0].pk}/"
        ),
        "profile, assessments tab": f"/students/{student.pk}/?tab=assessments#assessments",
    }
    for name, url in chart_pages.items():
        page.goto(url)
        expect(page.locator(".js-plotly-plot svg.main-svg").first).to_be_visible()
        titles = modebar_titles(page)
        assert titles, f"{name}: no modebar read"
        offered = set(titles) - ALLOWED_MODEBAR_TITLES
        assert not offered, f"{name} offers {sorted(offered)}"
        assert not [t for t in titles if "share" in t.lower() or "cloud" in t.lower()]
    assert page_problems.found() == {}


def test_a_refused_save_puts_the_keyboard_on_the_first_error(
    page: Page, log_in, world: World, page_problems
) -> None:
    log_in(world.teacher)
    page.goto(f"/sections/{world.section.pk}/assessments/{world.assessment.pk}/scores/")
    inputs = page.locator(".score-input")
    expect(inputs.first).to_be_visible()
    count = inputs.count()
    assert count >= 2
    # The second student's cell gets a word, not a number: the save is refused.
    inputs.nth(1).fill("eleven")
    page.get_by_role("button", name="Save scores").click()
    expect(page.locator("#grid-errors")).to_be_visible()
    invalid = page.locator('.score-input[aria-invalid="true"]')
    expect(invalid).to_have_count(1)
    expect(invalid).to_be_focused()
    described = invalid.get_attribute("aria-describedby")
    assert described and page.locator(f"#{described}").is_visible()
    # The refused save answers 400 (and the browser logs it); nothing else went wrong.
    problems = page_problems.found()
    assert [r.split()[0] for r in problems.pop("error_responses")] == ["400"]
    assert len(problems.pop("console_errors")) == 1
    assert problems == {}

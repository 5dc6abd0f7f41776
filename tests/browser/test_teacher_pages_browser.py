"""Every teacher page in Chromium, at a laptop's 1366 px and a phone's 360 px: no axe violation of
any impact (with every table toggle closed and then opened), nothing wider than the phone's
screen (wide tables scroll inside a region the keyboard can reach), no console error, and a
full-page screenshot at each width (test-artifacts/screenshots/teacher-*-laptop.png and -phone.png,
kept by CI). The student profile is checked on each of its tabs, opened by clicking it.

Also pinned here: the profile's tabs work before the chart script has loaded, switching them
shifts nothing (cumulative layout shift under 0.1), and each page's transfer on a first and on a
repeat visit stays within a stated budget."""

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, Response, Route, expect

from assessments.models import (
    Assessment,
    AssessmentKind,
    AssessmentPurpose,
    PerformanceLevel,
    Standard,
    StudentAssessment,
)
from dashboard.views.teacher.student import PROFILE_TABS
from students import models as sm
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import LAPTOP, PHONE, SCREENSHOT_DIR, WIDTHS, PageProblems
from tests.browser.test_dashboard_browser import demo_section
from tests.conftest import World, build_world
from tests.factories import AcademicSessionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Contact details as long as real ones get: an email with no place to break, a long address.
LONG_EMAIL = "ada.lovelace-byron.household.contact@families.maple-elementary-district.example.org"
LONG_ADDRESS = "Apartment 14B, 1234 North Longfellow Boulevard Extension\nSpringfield Heights, CO"


@dataclass(frozen=True)
class TeacherClass:
    """The world's Grade 4 Math grown to a real class, and a student with a full record."""

    world: World
    standards: list[Standard]
    student: sm.Student

    @property
    def section_id(self) -> int:
        return self.world.section.pk


def student_with_a_full_record(world: World) -> sm.Student:
    """The world's Ada, with what every profile tab shows: contacts (long ones), a guardian's
    contacts, six weeks of attendance, grades, a report card, a transcript, a state test, a
    cohort and a program."""
    student, district, school = world.student, world.district, world.school
    for kind, label, value in (
        (sm.ContactKind.EMAIL, "home", LONG_EMAIL),
        (sm.ContactKind.ADDRESS, "home", LONG_ADDRESS),
        (sm.ContactKind.PHONE, "mobile", "+1 (720) 555-0199 ext. 4411"),
    ):
        sm.ContactDetail.objects.create(
            district=district, student=student, kind=kind, label=label, value=value
        )
    sm.ContactDetail.objects.create(
        district=district,
        guardian=world.guardian,
        kind=sm.ContactKind.EMAIL,
        label="work",
        value="mother.of.ada.lovelace@a-very-long-employer-name.example.com",
    )
    today = timezone.localdate()
    start = today - dt.timedelta(days=42)
    marks = {3: "unexcused_absence", 8: "excused_absence", 11: "tardy", 20: "tardy"}
    sm.AttendanceEvent.objects.bulk_create(
        sm.AttendanceEvent(
            district=district,
            student=student,
            school=school,
            event_date=start + dt.timedelta(days=offset),
            category=category,
        )
        for offset, category in marks.items()
    )
    period = AcademicSessionFactory.create(
        district=district,
        school=school,
        title="First Quarter",
        kind=sm.SessionKind.GRADING_PERIOD,
    )
    sm.Grade.objects.create(
        district=district,
        student=student,
        section=world.section,
        grading_period=period,
        grade_type="Grading period",
        letter_grade="B+",
        numeric_grade=Decimal("88.5"),
    )
    sm.ReportCard.objects.create(
        district=district,
        student=student,
        grading_period=period,
        gpa_grading_period=Decimal("3.30"),
        gpa_cumulative=Decimal("3.25"),
        days_absent=Decimal("2"),
        days_tardy=2,
    )
    record = sm.AcademicRecord.objects.create(
        district=district, student=student, school_year=today.year, cumulative_gpa=Decimal("3.2")
    )
    sm.CourseTranscript.objects.create(
        district=district,
        student=student,
        academic_record=record,
        course=sm.Course.objects.create(district=district, title="Mathematics, Grade 3"),
        attempt_result="Pass",
        final_letter_grade="A-",
        final_numeric_grade=Decimal("91"),
        credits_earned=Decimal("1"),
    )
    state_test = Assessment.objects.create(
        district=district,
        title="Colorado Measures of Academic Success, Mathematics Grade 3",
        kind=AssessmentKind.TEST,
        purpose=AssessmentPurpose.STATE,
        family="CMAS",
        max_points=850,
    )
    level = PerformanceLevel.objects.create(
        assessment=state_test, code="M", name="Met Expectations", rank=4
    )
    StudentAssessment.objects.create(
        district=district,
        student=student,
        assessment=state_test,
        administered_on=today - dt.timedelta(days=200),
        performance_level=level,
    )
    cohort = sm.Cohort.objects.create(
        district=district,
        identifier="MATH-INT",
        description="Math intervention, Tuesday and Thursday mornings",
        cohort_type="Academic intervention",
    )
    sm.CohortMembership.objects.create(
        district=district, student=student, cohort=cohort, begin_date=start
    )
    sm.ProgramParticipation.objects.create(
        district=district,
        student=student,
        program=sm.Program.ENGLISH_LEARNER,
        program_name="English language development",
    )
    return student


@pytest.fixture
def teacher_class() -> TeacherClass:
    world = build_world()
    standards = demo_section(world)
    return TeacherClass(world, standards, student_with_a_full_record(world))


def settle(page: Page) -> None:
    """Wait until the page is quiet: loaded, every shown chart drawn, fonts laid out."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('[data-figure]'))
              .filter(el => el.offsetParent !== null)
              .every(el => el.classList.contains('is-drawn'))"""
    )
    page.evaluate("document.fonts.ready")


def open_every_table(page: Page) -> int:
    """Open every closed disclosure (the tables beside the charts); the number opened."""
    closed = page.locator("main details:not([open]) > summary")
    opened = 0
    while closed.count():
        closed.first.click()
        opened += 1
    if opened:
        settle(page)
    return opened


def wider_than_the_screen(page: Page) -> list[str]:
    """Elements whose right edge passes the viewport's, outside any region that scrolls them."""
    return page.evaluate(
        """() => {
          const limit = document.documentElement.clientWidth;
          const scrolls = el => {
            for (let p = el.parentElement; p; p = p.parentElement) {
              const style = getComputedStyle(p);
              if (['auto', 'scroll', 'hidden'].includes(style.overflowX)) return true;
            }
            return false;
          };
          return Array.from(document.body.querySelectorAll('*'))
            .filter(el => el.getBoundingClientRect().right > limit + 0.5 && !scrolls(el))
            .filter(el => el.offsetParent !== null || el.tagName === 'svg')
            .slice(0, 8)
            .map(el => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}`
                     + `${el.className && el.className.baseVal === undefined
                          ? '.' + String(el.className).trim().split(/\\s+/).join('.') : ''}`
                     + ` (right edge ${Math.round(el.getBoundingClientRect().right)} px)`);
        }"""
    )


def check_at_both_widths(page: Page, name: str) -> None:
    """axe at 1366 and 360 px, nothing wider than the phone, a screenshot at each width."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for label, viewport in WIDTHS:
        page.set_viewport_size(viewport)
        # Charts follow the width after a short debounce (dashboard.js).
        page.wait_for_timeout(400)
        settle(page)
        assert_no_axe_violations(page, name)
        if viewport is PHONE:
            widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert widths[0] <= widths[1], (
                f"{name} is {widths[0]} px wide on a {widths[1]} px screen; too wide: "
                f"{wider_than_the_screen(page)}"
            )
        page.screenshot(path=str(SCREENSHOT_DIR / f"teacher-{name}-{label}.png"), full_page=True)
    page.set_viewport_size(LAPTOP)


def every_scroll_region_is_reachable(page: Page, name: str) -> None:
    """At 360 px, each region that scrolls sideways is a named tab stop (axe checks it too)."""
    page.set_viewport_size(PHONE)
    regions = page.evaluate(
        """() => Array.from(document.querySelectorAll('*'))
              .filter(el => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1
                            && ['auto', 'scroll'].includes(getComputedStyle(el).overflowX))
              .map(el => ({
                tag: el.tagName,
                tabindex: el.getAttribute('tabindex'),
                role: el.getAttribute('role'),
                label: el.getAttribute('aria-label') || el.getAttribute('aria-labelledby'),
                focusableInside: !!el.querySelector(
                  'a[href], button, input, select, textarea, [tabindex]'),
              }))"""
    )
    for region in regions:
        assert region["tabindex"] == "0" or region["focusableInside"], (name, region)
        if region["tabindex"] == "0":
            assert region["role"] == "region" and region["label"], (name, region)
    page.set_viewport_size(LAPTOP)


Urls = Callable[[TeacherClass], str]
TEACHER_PAGES: dict[str, Urls] = {
    "home": lambda c: "/",
    "section-overview": lambda c: f"/sections/{c.section_id}/",
    "standard": lambda c: f"/sections/{c.section_id}/standards/{c.standards[0].pk}/",
    "student-standard": lambda c: (
        f"/sections/{c.section_id}/students/{c.student.pk}/standards/{c.standards[0].pk}/"
    ),
    "section-assessments": lambda c: f"/sections/{c.section_id}/assessments/",
    "score-grid": lambda c: f"/sections/{c.section_id}/assessments/{c.world.assessment.pk}/scores/",
}


@pytest.mark.parametrize("name", TEACHER_PAGES)
def test_teacher_page_at_both_widths(
    name: str, page: Page, log_in, teacher_class: TeacherClass, page_problems: PageProblems
) -> None:
    log_in(teacher_class.world.teacher)
    page.goto(TEACHER_PAGES[name](teacher_class))
    settle(page)
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    check_at_both_widths(page, name)
    if open_every_table(page):
        check_at_both_widths(page, f"{name}-tables-open")
    every_scroll_region_is_reachable(page, name)
    assert page_problems.found() == {}


def test_new_assessment_form_refused_at_both_widths(
    page: Page, log_in, teacher_class: TeacherClass, page_problems: PageProblems
) -> None:
    """The new-assessment form, sent empty: its errors are named, and the page still passes."""
    log_in(teacher_class.world.teacher)
    page.goto(f"/sections/{teacher_class.section_id}/assessments/")
    page.get_by_role("button", name="Create and enter scores").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    settle(page)
    check_at_both_widths(page, "new-assessment-refused")
    found = page_problems.found()
    # A refused form may answer 400; the browser then logs that response, and nothing else.
    statuses = [r.split()[0] for r in found.pop("error_responses", [])]
    assert set(statuses) <= {"400"}
    assert all("400" in line for line in found.pop("console_errors", []))
    assert found == {}


@pytest.mark.parametrize("tab", PROFILE_TABS)
def test_student_profile_tab_at_both_widths(
    tab: str, page: Page, log_in, teacher_class: TeacherClass, page_problems: PageProblems
) -> None:
    log_in(teacher_class.world.teacher)
    page.goto(f"/students/{teacher_class.student.pk}/")
    settle(page)
    label = PROFILE_TABS[tab].label
    page.get_by_role("tab", name=label, exact=True).click()
    expect(page.get_by_role("tab", name=label, exact=True)).to_have_attribute(
        "aria-selected", "true"
    )
    panel = page.get_by_role("tabpanel", name=label, exact=True)
    expect(panel).to_be_visible()
    expect(panel.get_by_role("heading", level=2).first).to_be_visible()
    settle(page)
    check_at_both_widths(page, f"profile-{tab}")
    if open_every_table(page):
        check_at_both_widths(page, f"profile-{tab}-tables-open")
    every_scroll_region_is_reachable(page, f"profile-{tab}")
    assert page_problems.found() == {}


def test_a_wide_table_scrolls_from_the_keyboard_on_a_phone(
    page: Page, log_in, teacher_class: TeacherClass, page_problems: PageProblems
) -> None:
    """The Assessments tab at 360 px: the next Tab after the CSV link is the tests table's
    region, and the arrow keys scroll it (axe's scrollable-region-focusable, by hand)."""
    log_in(teacher_class.world.teacher)
    page.set_viewport_size(PHONE)
    page.goto(f"/students/{teacher_class.student.pk}/#assessments")
    settle(page)
    page.get_by_role("link", name="Download mastery and its history (CSV)").focus()
    page.keyboard.press("Tab")
    region = page.get_by_role("region", name="Interim and state tests, table")
    expect(region).to_be_focused()
    assert region.evaluate("el => el.scrollWidth > el.clientWidth"), "nothing to scroll at 360 px"
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    expect(region).not_to_have_js_property("scrollLeft", 0)
    assert page_problems.found() == {}


def test_trend_lines_keep_their_room_on_a_phone(
    page: Page, log_in, teacher_class: TeacherClass, page_problems: PageProblems
) -> None:
    """At 360 px a trend chart gives up its end labels (the legend names the lines, by marker
    shape too), so the plot spans most of the chart's width instead of a sliver."""
    log_in(teacher_class.world.teacher)
    page.set_viewport_size(PHONE)
    page.goto(f"/students/{teacher_class.student.pk}/#assessments")
    settle(page)
    chart = page.locator("#assessments [data-figure].is-drawn").first
    expect(chart).to_be_visible()
    plot = chart.locator(".nsewdrag").first
    chart_box, plot_box = chart.bounding_box(), plot.bounding_box()
    assert chart_box and plot_box
    assert plot_box["width"] >= 0.7 * chart_box["width"], (plot_box, chart_box)
    assert chart.locator(".annotation").count() == 0
    assert chart.locator(".legend .traces").count() >= 1
    page.set_viewport_size(LAPTOP)
    page.reload()
    settle(page)
    laptop_chart = page.locator("#assessments [data-figure].is-drawn").first
    expect(laptop_chart).to_be_visible()
    assert laptop_chart.locator(".annotation").count() >= 1  # end labels where there is room
    assert page_problems.found() == {}


# Layout shifts not caused by the reader (a click or a key moves things on purpose for 500 ms),
# summed from the page's start (buffered) for as long as the page is open.
RECORD_LAYOUT_SHIFTS = """
window.__layoutShift = 0;
window.__layoutShifts = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.hadRecentInput) continue;
    window.__layoutShift += entry.value;
    window.__layoutShifts.push({
      value: entry.value,
      at: Math.round(entry.startTime),
      moved: entry.sources.map(
        (s) => s.node ? (s.node.id || s.node.className || s.node.nodeName) : "?"),
    });
  }
}).observe({ type: "layout-shift", buffered: true });
"""
PLOTLY = "**/vendor/plotly/**"
# Cumulative layout shift: under 0.1 is what Core Web Vitals calls good.
CLS_BUDGET = 0.1


def layout_shift(page: Page) -> tuple[float, list[dict]]:
    return page.evaluate("[window.__layoutShift, window.__layoutShifts]")


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_profile_tabs_work_before_the_chart_script_and_shift_nothing(
    viewport, page: Page, log_in, teacher_class: TeacherClass, page_problems: PageProblems
) -> None:
    log_in(teacher_class.world.teacher)
    page.set_viewport_size(viewport)
    held: list[Route] = []
    page.route(PLOTLY, lambda route: held.append(route))  # held back until the tabs were used
    page.add_init_script(script=RECORD_LAYOUT_SHIFTS)
    page.goto(f"/students/{teacher_class.student.pk}/")
    assert page.evaluate("PerformanceObserver.supportedEntryTypes.includes('layout-shift')")
    tabs = page.get_by_role("tablist", name="Student profile")
    expect(tabs).to_be_visible()
    expect(page.get_by_role("tab", name="Record")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel", name="Record")).to_be_visible()
    for label, heading in (
        ("Assessments", "Mastery by standard"),
        ("Grades", "Grades"),
        ("Attendance & discipline", "Attendance"),
        ("Assessments", "Mastery by standard"),
    ):
        page.get_by_role("tab", name=label).click()
        expect(page.get_by_role("tab", name=label)).to_have_attribute("aria-selected", "true")
        panel = page.get_by_role("tabpanel", name=label)
        expect(panel).to_be_visible()
        expect(panel.get_by_role("heading", level=2).first).to_contain_text(heading)
        expect(page.get_by_role("tabpanel")).to_have_count(1)  # the others are hidden
    # The keyboard moves between tabs too (arrow keys), still without the chart script.
    page.get_by_role("tab", name="Assessments").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Grades")).to_be_focused()
    expect(page.get_by_role("tab", name="Grades")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("tab", name="Assessments")).to_have_attribute("aria-selected", "true")
    assert page.evaluate("typeof window.Plotly") == "undefined"
    assert held, "the chart script was not asked for, though the Assessments tab has a chart"

    # Now the chart script arrives, well after the last click: drawing moves nothing.
    page.wait_for_timeout(600)
    for route in held:
        route.continue_()
    chart = page.locator("#assessments [data-figure]").first
    expect(chart).to_have_class(re.compile("is-drawn"))
    expect(chart.locator("svg.main-svg").first).to_be_visible()
    page.wait_for_timeout(300)
    shift, shifts = layout_shift(page)
    assert shift < CLS_BUDGET, f"cumulative layout shift {shift:.3f}: {shifts}"
    print(f"CLS, profile tabs at {viewport['width']} px: {shift:.4f}")
    assert page_problems.found() == {}


# Page weight: bytes on the wire (compressed bodies and headers, DevTools' encodedDataLength) for
# a page and everything it loads until it is quiet, charts drawn.
# A page with charts, on a first visit (empty cache): at most 500 KB, plotly.js included.
FIRST_VISIT_BUDGET = 500 * 1000
# The same page visited again: only the HTML and the data it fetches; every static file (hashed
# name, cached for a year) comes from the browser's cache.
REPEAT_VISIT_BUDGET = 60 * 1000
WEIGHED_PAGES: dict[str, Urls] = {
    **TEACHER_PAGES,
    "profile": lambda c: f"/students/{c.student.pk}/",
    "profile-assessments": lambda c: f"/students/{c.student.pk}/#assessments",
}


# A static file's name carries a hash of its content (whitenoise's manifest storage), so that it
# can be cached for a year and changes name when it changes.
HASHED_STATIC = re.compile(r"/static/.+\.[0-9a-f]{12}\.(css|js)$")
A_YEAR = 365 * 24 * 60 * 60


@dataclass
class Transfer:
    """What one navigation moved over the network, request by request, and its layout shift."""

    by_url: dict[str, int]
    static_headers: dict[str, dict[str, str]]
    layout_shift: float

    @property
    def total(self) -> int:
        return sum(self.by_url.values())

    def static_files_fetched(self) -> list[str]:
        """Static files that came over the network (one from the cache moved 0 bytes)."""
        return [url for url, size in self.by_url.items() if "/static/" in url and size]


def weigh(page: Page, url: str) -> Transfer:
    """Navigate to `url` and count the bytes each request transferred until the page is quiet."""
    cdp = page.context.new_cdp_session(page)
    url_of_request: dict[str, str] = {}
    by_url: dict[str, int] = {}
    static_headers: dict[str, dict[str, str]] = {}

    def on_request(event: dict) -> None:
        url_of_request[event["requestId"]] = event["request"]["url"]

    def on_finished(event: dict) -> None:
        request_url = url_of_request.get(event["requestId"], event["requestId"])
        by_url[request_url] = by_url.get(request_url, 0) + int(event["encodedDataLength"])

    def on_response(response: Response) -> None:
        if "/static/" in response.url:
            static_headers[response.url] = response.headers

    cdp.on("Network.requestWillBeSent", on_request)
    cdp.on("Network.loadingFinished", on_finished)
    page.on("response", on_response)
    cdp.send("Network.enable")
    # From elsewhere, so that a second visit to an address with a #tab is a real navigation.
    page.goto("about:blank")
    page.goto(url)
    settle(page)
    cdp.detach()
    page.remove_listener("response", on_response)
    return Transfer(by_url, static_headers, layout_shift(page)[0])


def assert_served_as_production_serves(name: str, transfer: Transfer) -> None:
    """Every static file has a hashed name, is cached for a year (immutable) and, being text,
    comes gzipped."""
    assert transfer.static_headers, f"{name} loaded no static file"
    for url, headers in transfer.static_headers.items():
        assert HASHED_STATIC.search(url), f"{name}: {url} has no hashed name"
        cache_control = headers.get("cache-control", "")
        max_age = re.search(r"max-age=(\d+)", cache_control)
        assert max_age and int(max_age.group(1)) >= A_YEAR, (name, url, cache_control)
        assert "immutable" in cache_control, (name, url, cache_control)
        assert headers.get("content-encoding") == "gzip", (name, url, headers)


def test_page_weight_on_a_first_and_a_repeat_visit(
    browser: Browser, page: Page, log_in, teacher_class: TeacherClass, live_server
) -> None:
    log_in(teacher_class.world.teacher)
    signed_in = page.context.storage_state()
    report = []
    for name, url_of in WEIGHED_PAGES.items():
        url = url_of(teacher_class)
        # A fresh context: signed in, its cache empty.
        context = browser.new_context(
            viewport=LAPTOP, base_url=live_server.url, storage_state=signed_in
        )
        context.add_init_script(script=RECORD_LAYOUT_SHIFTS)
        try:
            visitor = context.new_page()
            first = weigh(visitor, url)
            repeat = weigh(visitor, url)
        finally:
            context.close()
        report.append(
            f"{name}: first visit {first.total:,} B, repeat visit {repeat.total:,} B, "
            f"layout shift {first.layout_shift:.4f}"
        )
        assert_served_as_production_serves(name, first)
        assert first.total <= FIRST_VISIT_BUDGET, (name, first.by_url)
        assert repeat.total <= REPEAT_VISIT_BUDGET, (name, repeat.by_url)
        # Static files come from the cache on the repeat visit: none is fetched again.
        assert not repeat.static_files_fetched(), (name, repeat.by_url)
        assert first.layout_shift < CLS_BUDGET, (name, first.layout_shift)
    print("\n".join(report))

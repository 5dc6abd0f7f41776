"""Issue 19's walk on the demo district in Chromium, as its principal and its district user:
school → grade → section → student by clicking, a suppressed cell opened to the exact students it
counts, the report printed, axe clean at laptop and phone widths on every page visited,
screenshots kept under test-artifacts/screenshots/demo-*.

The district is `manage.py seed_demo` itself at 300 students, the size other demo tests use:
sections are full-sized from 260 (demo.district), and every seed step runs (the year's scores,
attendance, rollups). The live server makes every test transactional, so the database is flushed
after each test and each seeds its own (about 13 s)."""

import io
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from accounts.models import Role, RoleMembership, User
from demo.district import DEMO_LOGINS, DEMO_PASSWORD, demo_district_get
from rollups.subgroups import student_subgroups, subgroup_label
from students.models import District, School, StudentSchoolMembership, in_force
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import SCREENSHOT_DIR, WIDTHS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STUDENTS = 300
STUDENT_URL = re.compile(r"/students/(\d+)/")


@dataclass
class Demo:
    district: District
    school: School  # the principal's
    principal: User
    district_user: User

    @property
    def suppressed(self) -> str:
        return f"fewer than {self.district.min_group_size}"


@pytest.fixture
def demo() -> Demo:
    call_command("seed_demo", students=STUDENTS, stdout=io.StringIO(), stderr=io.StringIO())
    district = demo_district_get()
    assert district is not None
    principal = User.objects.get(email=DEMO_LOGINS["principal"])
    membership = RoleMembership.objects.select_related("school").get(
        user=principal, role=Role.PRINCIPAL
    )
    assert membership.school is not None
    return Demo(
        district=district,
        school=membership.school,
        principal=principal,
        district_user=User.objects.get(email=DEMO_LOGINS["district"]),
    )


def h1(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def check_page(page: Page, name: str) -> None:
    """axe and a full-page screenshot at phone, then laptop width, each on the page loaded
    afresh at that width as a phone or a laptop loads it. (The conftest's `screenshot` resizes
    without loading again, and the charts follow a resize only after a debounce, so its shots
    catch them at the other width's size.) The page is left loaded at laptop width."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for label, viewport in reversed(WIDTHS):
        page.set_viewport_size(viewport)
        page.reload()
        assert_no_axe_violations(page, name)
        page.screenshot(path=str(SCREENSHOT_DIR / f"{name}-{label}.png"), full_page=True)


def open_a_suppressed_cell(page: Page, demo: Demo, school: School, who: str) -> None:
    """On the school report, open the first count reading "fewer than N" in the table of chronic
    absence by subgroup: it lists, by name, exactly the school's current students of that
    subgroup, fewer than N of them, all of whom the user may see. Then back to the report."""
    subgroups = page.get_by_role("region", name="Table: chronic absence by subgroup")
    small = page.get_by_role("link", name=demo.suppressed, exact=True)
    row = subgroups.get_by_role("row").filter(has=small).first
    label = row.get_by_role("rowheader").inner_text().strip()
    counted = row.get_by_role("cell").first  # Students counted
    expect(counted).to_have_text(demo.suppressed)
    link = counted.get_by_role("link")
    key = parse_qs(urlsplit(link.get_attribute("href") or "").query)["subgroup"][0]
    assert subgroup_label(key) == label
    link.click()
    page.wait_for_url(re.compile(rf"/schools/{school.pk}/counted/\?"))
    expect(h1(page)).to_have_text("Students counted")
    expect(page.locator("main .meta")).to_contain_text(label)
    expect(page.get_by_text("not yours to see")).to_have_count(0)

    listed = []
    for href in page.locator("main ul.plain-list a").evaluate_all(
        "links => links.map(link => link.getAttribute('href'))"
    ):
        found = STUDENT_URL.search(href or "")
        assert found, href
        listed.append(int(found[1]))
    # Counted as the report counts chronic absence: members today, of the subgroup today.
    members = StudentSchoolMembership.objects.filter(
        in_force(), school=school, student__is_active=True
    ).values_list("student_id", flat=True)
    in_subgroup = student_subgroups(members, timezone.localdate())
    expected = sorted(pk for pk, keys in in_subgroup.items() if key in keys)
    assert sorted(listed) == expected
    assert 0 < len(listed) < demo.district.min_group_size
    check_page(page, f"demo-{who}-counted")

    page.get_by_role("link", name="Back to the school report").click()
    page.wait_for_url(re.compile(rf"/schools/{school.pk}/"))
    expect(h1(page)).to_have_text(school.name)


def print_the_report(page: Page, who: str) -> int:
    """Print the school report as it stands (print media, a Letter PDF kept beside the
    screenshots): no site chrome or filters, the tables, not the ones folded away on screen
    (their headings alone would print). Returns the number of printed pages."""
    folded = page.locator("section.report-table:has(details.table-toggle:not([open])) h2")
    assert folded.count() >= 1  # the demo school's standards: more rows than shown unfolded
    page.emulate_media(media="print")
    expect(page.locator("header.site-header")).to_be_hidden()
    expect(page.locator("form.report-filters")).to_be_hidden()
    for name in ("By grade, table", "By subject, table", "By subgroup, table"):
        expect(page.get_by_role("region", name=name)).to_be_visible()
    for heading in folded.all():
        expect(heading).to_be_hidden()
    # The long tables stay on the screen and in CSV; the print says so.
    for name in ("By section and teacher, table", "By standard, table"):
        expect(page.get_by_role("region", name=name)).to_be_hidden()
    expect(page.locator("p.print-only")).to_be_visible()
    printed = page.pdf(path=str(SCREENSHOT_DIR / f"demo-{who}-school-print.pdf"), format="Letter")
    page.emulate_media(media="screen")
    return len(re.findall(rb"/Type\s*/Page[^s]", printed))


def walk_down_from_the_school(page: Page, school: School, who: str) -> None:
    """School report → its first grade → that grade's first section → the section's first
    student, each page checked."""
    grades = page.get_by_role("region", name="By grade, table")
    grade = grades.get_by_role("link", name=re.compile(r"^(Grade \d+|Kindergarten)$")).first
    grade_name = grade.inner_text()
    grade.click()
    page.wait_for_url(re.compile(r"[?&]grade=\w+"))
    expect(h1(page)).to_have_text(f"{school.name}: {grade_name}")
    check_page(page, f"demo-{who}-grade")

    sections = page.get_by_role("region", name="By section and teacher, table")
    section = sections.get_by_role("link").first
    section_title = section.inner_text()
    section.click()
    page.wait_for_url(re.compile(r"/sections/\d+/$"))
    expect(h1(page)).to_have_text(section_title)
    # The section's school line (the page's first; today's plans follow it).
    expect(page.locator("main .meta").first).to_contain_text(school.name)
    check_page(page, f"demo-{who}-section")

    student = page.get_by_role("region", name="Roster").get_by_role("link").first
    last_name, first_name = student.inner_text().split(", ", 1)
    student.click()
    page.wait_for_url(STUDENT_URL)
    expect(h1(page)).to_contain_text(first_name)
    expect(h1(page)).to_contain_text(last_name)
    check_page(page, f"demo-{who}-student")


def test_the_demo_principal_walks_school_grade_section_student(
    page: Page, demo: Demo, log_in, page_problems
) -> None:
    log_in(demo.principal, DEMO_PASSWORD)
    page.get_by_role("main").get_by_role("link", name=demo.school.name, exact=True).click()
    page.wait_for_url(re.compile(rf"/schools/{demo.school.pk}/$"))
    expect(h1(page)).to_have_text(demo.school.name)
    check_page(page, "demo-principal-school")

    open_a_suppressed_cell(page, demo, demo.school, "principal")
    assert print_the_report(page, "principal") == 1
    walk_down_from_the_school(page, demo.school, "principal")
    assert page_problems.found() == {}


def test_the_demo_district_user_walks_district_school_grade_section_student(
    page: Page, demo: Demo, log_in, page_problems
) -> None:
    log_in(demo.district_user, DEMO_PASSWORD)
    page.get_by_role(
        "link", name=re.compile(f"Compare the schools of {re.escape(demo.district.name)}")
    ).click()
    expect(h1(page)).to_have_text(f"Schools of {demo.district.name}")
    check_page(page, "demo-district-schools")

    page.get_by_role("region", name="Schools by level, table").get_by_role(
        "link", name=demo.school.name, exact=True
    ).click()
    page.wait_for_url(re.compile(rf"/schools/{demo.school.pk}/"))
    expect(h1(page)).to_have_text(demo.school.name)
    check_page(page, "demo-district-school")

    open_a_suppressed_cell(page, demo, demo.school, "district")
    assert print_the_report(page, "district") == 1
    walk_down_from_the_school(page, demo.school, "district")
    assert page_problems.found() == {}

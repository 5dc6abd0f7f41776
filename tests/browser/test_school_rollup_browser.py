"""The principal's school report in Chromium: open the school page, click a grade, click a
section, land on the section page; district staff compare the schools, sort them and open one;
axe clean at laptop and phone widths, screenshots kept."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from assessments.models import MasteryEstimate
from rollups.services import rollups_rebuild
from students.models import Enrollment, StudentSchoolMembership
from tests import factories
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import LAPTOP, SCREENSHOT_DIR, WIDTHS
from tests.conftest import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Screenshot = Callable[[str], list[Path]]


@pytest.fixture
def world() -> World:
    """The role fixtures and a school of grades 3 (9 measured), 4 (12, in the world's Grade 4
    Math section) and 5 (11), its rollups built; committed for the live server's thread."""
    world = build_world()
    world.section.grade_levels = ["04"]
    world.section.save(update_fields=["grade_levels"])
    for grade, count in (("03", 9), ("04", 12), ("05", 11)):
        for n in range(count):
            student = factories.StudentFactory.create(district=world.district)
            StudentSchoolMembership.objects.create(
                district=world.district, student=student, school=world.school, grade_level=grade
            )
            if grade == "04":
                Enrollment.objects.create(
                    district=world.district, student=student, section=world.section
                )
            MasteryEstimate.objects.create(
                student=student, standard=world.standard, level=1 + n % 4
            )
    rollups_rebuild(world.district.pk)
    return world


def check_page(page: Page, screenshot: Screenshot, name: str) -> None:
    for _label, viewport in WIDTHS:
        page.set_viewport_size(viewport)
        assert_no_axe_violations(page, name)
    page.set_viewport_size(LAPTOP)
    screenshot(name)


def test_a_principal_walks_school_grade_section(
    page: Page, world: World, log_in, screenshot: Screenshot, page_problems
) -> None:
    log_in(world.principal)
    page.goto(f"/schools/{world.school.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(world.school.name)
    grades = page.get_by_role("region", name="By grade, table")
    expect(grades.get_by_role("row", name=re.compile("Grade 3"))).to_contain_text("fewer than 10")
    check_page(page, screenshot, "principal-school-report")

    # Printed: no navigation, filters or export links; the tables stay.
    page.emulate_media(media="print")
    expect(page.locator("header.site-header")).to_be_hidden()
    expect(page.locator("form.report-filters")).to_be_hidden()
    expect(grades).to_be_visible()
    printed = page.pdf(
        path=str(SCREENSHOT_DIR / "principal-school-report-print.pdf"), format="Letter"
    )
    assert len(re.findall(rb"/Type\s*/Page[^s]", printed)) == 1  # one printed page
    page.emulate_media(media="screen")

    grades.get_by_role("link", name="Grade 4").click()
    page.wait_for_url(re.compile(r"grade=04"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Grade 4")
    check_page(page, screenshot, "principal-school-report-grade")

    sections = page.get_by_role("region", name="By section and teacher, table")
    sections.get_by_role("link", name=world.section.title).click()
    page.wait_for_url(re.compile(rf"/sections/{world.section.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(world.section.title)
    assert page_problems.found() == {}


def test_district_staff_compare_schools_and_open_one(
    page: Page, world: World, log_in, screenshot: Screenshot, page_problems
) -> None:
    log_in(world.district_staff)
    page.get_by_role(
        "link", name=re.compile(f"Compare the schools of {world.district.name}")
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Schools of {world.district.name}")
    check_page(page, screenshot, "district-schools-report")
    page.get_by_role("link", name="Students measured").click()
    page.wait_for_url(re.compile(r"sort=students"))
    page.get_by_role("region", name="Schools by level, table").get_by_role(
        "link", name=world.school.name
    ).click()
    page.wait_for_url(re.compile(rf"/schools/{world.school.pk}/"))
    expect(page.get_by_role("heading", level=1)).to_have_text(world.school.name)
    assert page_problems.found() == {}

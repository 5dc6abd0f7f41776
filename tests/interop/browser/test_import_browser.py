"""District staff upload an export in Chromium, watch the run's progress bar and read the report;
a broken export shows its errors. Checked with axe, screenshotted, no console or CSP problems."""

import contextlib
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from interop.models import ImportRun
from tests.browser.axe import assert_no_axe_violations, assert_no_serious_axe_violations
from tests.celery_worker import broker_configured, celery_worker
from tests.conftest import build_world
from tests.interop.conftest import FIXTURES
from tests.interop.test_upload_page import zipped

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def worker() -> contextlib.AbstractContextManager[object]:
    """A real worker when a broker is configured; otherwise tasks run eagerly in the request."""
    return (
        celery_worker(queues="imports,mastery")
        if broker_configured()
        else (contextlib.nullcontext())
    )


def _zip(folder: Path, tmp_path: Path) -> Path:
    path = tmp_path / f"{folder.name}.zip"
    path.write_bytes(zipped(folder).read())
    return path


def test_district_staff_upload_and_read_the_report(
    page: Page, log_in, screenshot, page_problems, tmp_path
) -> None:
    world = build_world()
    log_in(world.district_staff)
    page.get_by_role("link", name="Imports").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import rosters and gradebooks")
    assert_no_serious_axe_violations(page, "import-upload")
    screenshot("import-upload")
    with worker():
        page.get_by_label("District").select_option(str(world.district.pk))
        page.get_by_label("Export file (.zip)").set_input_files(_zip(FIXTURES / "v12", tmp_path))
        page.get_by_role("button", name="Upload and import").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Import of v12.zip")
        # The page polls the run and reloads itself with the report once it has finished.
        expect(page.get_by_text("Imported. What changed:")).to_be_visible(timeout=60_000)
    expect(page.locator("#import-progress")).to_have_attribute("value", "100")
    row = page.get_by_role("row", name="students")
    expect(row.get_by_role("cell").first).to_have_text("3")
    assert ImportRun.objects.get().status == "succeeded"
    assert_no_serious_axe_violations(page, "import-run")
    screenshot("import-run-report")
    assert page_problems.found() == {}


def test_a_broken_export_shows_its_errors(
    page: Page, log_in, screenshot, page_problems, tmp_path
) -> None:
    world = build_world()
    folder = tmp_path / "broken"
    shutil.copytree(FIXTURES / "v12", folder)
    classes = (folder / "classes.csv").read_text().replace("scheduled", "lecture", 1)
    (folder / "classes.csv").write_text(classes)
    log_in(world.district_staff)
    page.goto("/imports/")
    with worker():
        page.get_by_label("District").select_option(str(world.district.pk))
        page.get_by_label("Export file (.zip)").set_input_files(_zip(folder, tmp_path))
        page.get_by_role("button", name="Upload and import").click()
        expect(page.get_by_role("alert")).to_contain_text("nothing was written", timeout=60_000)
    expect(page.get_by_role("cell", name="classType")).to_be_visible()
    assert_no_serious_axe_violations(page, "import-run-errors")
    screenshot("import-run-errors")
    assert page_problems.found() == {}


def test_a_file_that_is_not_a_zip_is_refused_on_the_form(
    page: Page, log_in, page_problems, tmp_path
) -> None:
    world = build_world()
    not_zip = tmp_path / "roster.csv"
    not_zip.write_text("sourcedId,name\n")
    log_in(world.district_staff)
    page.goto("/imports/")
    page.get_by_label("Export file (.zip)").set_input_files(not_zip)
    page.get_by_role("button", name="Upload and import").click()
    expect(page.get_by_role("alert")).to_contain_text("roster.csv is not a zip file.")
    assert page_problems.found() == {}


def test_a_quirky_export_shows_what_was_read_as_what(
    page: Page, log_in, screenshot, page_problems, tmp_path
) -> None:
    world = build_world()
    folder = tmp_path / "quirky"
    shutil.copytree(FIXTURES / "v12", folder)
    classes = (folder / "classes.csv").read_text().replace("scheduled", "Scheduled", 1)
    (folder / "classes.csv").write_text(classes)
    users = (folder / "users.csv").read_text().replace("2026-08-01T00:00:00Z", "08/01/2026", 1)
    (folder / "users.csv").write_text(users)
    log_in(world.district_staff)
    page.goto("/imports/")
    with worker():
        page.get_by_label("District").select_option(str(world.district.pk))
        page.get_by_label("Export file (.zip)").set_input_files(_zip(folder, tmp_path))
        page.get_by_role("button", name="Upload and import").click()
        expect(page.get_by_text("Imported. What changed:")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("heading", name="Values read as the standard's")).to_be_visible()
    expect(page.get_by_role("cell", name="Scheduled", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Warnings")).to_be_visible()
    for width, height, name in ((1366, 768, "laptop"), (360, 780, "phone")):
        page.set_viewport_size({"width": width, "height": height})
        assert_no_axe_violations(page, f"import-run-mappings-{name}")
    screenshot("import-run-mappings")
    assert page_problems.found() == {}

"""Every kind of bad input: a clear error naming file, line and element, and nothing written."""

import shutil
from pathlib import Path
from typing import cast

import pytest

from interop.edfi.service import edfi_import
from students.inventory import inventory_counts
from students.models import Enrollment, Section, Student

from .conftest import FILES


def _counts() -> dict[str, int]:
    return {k: v for k, v in inventory_counts().items() if k != "access_log_entries"}


@pytest.fixture
def loaded(db: None) -> dict[str, int]:
    """The small valid set imported, so each bad set must leave existing data as it was."""
    report = edfi_import(path=FILES / "base")
    assert report.ok, report.errors.as_json()
    assert Enrollment.objects.filter(student__source_id="S-1").count() == 1
    return _counts()


def test_small_valid_set_imports(loaded: dict[str, int]) -> None:
    student = Student.objects.get(source_system="edfi", source_id="S-1")
    assert (student.first_name, student.last_name, student.sex) == ("Ada", "Lovelace", "female")
    assert loaded["students"] == 1 and loaded["sections"] == 1 and loaded["enrollments"] == 1


@pytest.mark.parametrize(
    ("folder", "file", "line", "element", "words"),
    [
        ("malformed", "Interchange-Enrollment.xml", 6, "", "not well-formed XML"),
        (
            "unknown_ref",
            "Interchange-Enrollment.xml",
            3,
            "StudentSectionAssociation/StudentReference",
            "unknown student 'S-404'",
        ),
        ("missing_required", "Interchange-Student.xml", 7, "Student/Name", "has no Name"),
        ("wrong_namespace", "Interchange-Student.xml", 1, "InterchangeStudentParent", "namespace"),
    ],
)
def test_bad_input_is_reported_and_changes_nothing(
    loaded: dict[str, int], folder: str, file: str, line: int, element: str, words: str
) -> None:
    report = edfi_import(path=FILES / folder)
    assert not report.ok
    errors = report.errors.as_json()
    assert any(
        e["file"] == file
        and e["line"] == line
        and e["column"] == element
        and words in cast(str, e["message"])
        for e in errors
    ), errors
    assert _counts() == loaded


def test_errors_are_all_reported_not_just_the_first(db: None, tmp_path: Path) -> None:
    shutil.copytree(FILES / "base", tmp_path / "set")
    enrollment = (tmp_path / "set" / "Interchange-Enrollment.xml").read_text()
    many = enrollment.replace(
        "</InterchangeStudentEnrollment>",
        "".join(
            enrollment.split('<InterchangeStudentEnrollment xmlns="http://ed-fi.org/0100">')[1]
            .split("</InterchangeStudentEnrollment>")[0]
            .replace("S-1<", f"S-9{n}<")
            for n in range(3)
        )
        + "</InterchangeStudentEnrollment>",
    )
    (tmp_path / "set" / "Interchange-Enrollment.xml").write_text(many)
    report = edfi_import(path=tmp_path / "set")
    unknown = [e for e in report.errors.as_json() if "unknown student" in cast(str, e["message"])]
    assert len(unknown) == 3
    assert Student.objects.count() == 0


def test_dry_run_writes_nothing(db: None) -> None:
    report = edfi_import(path=FILES / "base", dry_run=True)
    assert report.ok and report.dry_run
    assert report.counts["students"].created == 1
    assert Student.objects.count() == 0


def test_zip_of_the_files_imports(db: None, tmp_path: Path) -> None:
    archive = shutil.make_archive(str(tmp_path / "set"), "zip", FILES / "base")
    report = edfi_import(path=archive)
    assert report.ok, report.errors.as_json()
    assert Student.objects.filter(source_id="S-1").exists()


def test_a_folder_without_interchange_files_is_an_error(db: None, tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("nothing here")
    report = edfi_import(path=tmp_path)
    assert not report.ok
    assert "no Ed-Fi interchange files" in cast(str, report.errors.as_json()[0]["message"])


def test_upload_page_offers_and_runs_edfi(
    client, world, eager_celery, django_capture_on_commit_callbacks, tmp_path: Path
) -> None:
    """District staff upload a zip of interchange files; the Celery task imports it into the
    district they chose."""
    import zipfile

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from interop.models import ImportRun, ImportStatus

    client.force_login(world.district_staff)
    page = client.get(reverse("interop:import_upload"))
    assert b'value="edfi"' in page.content
    archive = tmp_path / "edfi.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted((FILES / "base").iterdir()):
            zipped.write(path, path.name)
    upload = SimpleUploadedFile("edfi.zip", archive.read_bytes(), content_type="application/zip")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("interop:import_upload"),
            {"district": world.district.pk, "format": "edfi", "upload": upload},
        )
    assert response.status_code == 302
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.SUCCEEDED, run.errors
    student = Student.objects.get(source_system="edfi", source_id="S-1")
    assert student.district == world.district
    assert run.report["entities"]["students"]["created"] == 1


def test_reference_data_named_by_its_full_key_is_created_with_a_warning(
    db: None, tmp_path: Path
) -> None:
    """A section's session found nowhere: the reference carries the session's whole natural key
    (school and name), so the session is created from it and the report warns."""
    shutil.copytree(FILES / "base", tmp_path / "set")
    schedule = tmp_path / "set" / "Interchange-Schedule.xml"
    session = (
        "<SessionReference><SessionIdentity><EducationalOrgReference><EducationalOrgIdentity>"
        "<StateOrganizationId>Test School</StateOrganizationId></EducationalOrgIdentity>"
        "</EducationalOrgReference><SessionName>Fall 2024</SessionName></SessionIdentity>"
        "</SessionReference>"
    )
    schedule.write_text(schedule.read_text().replace("</Section>", session + "</Section>"))
    report = edfi_import(path=tmp_path / "set")
    assert report.ok, report.errors.as_json()
    section = Section.objects.get(source_id="Test School|Math 1")
    assert section.session is not None and section.session.title == "Fall 2024"
    assert section.session.school is not None
    assert section.session.school.name == "Test School"
    assert any("session 'Test School|Fall 2024' is referenced" in note for note in report.notes)

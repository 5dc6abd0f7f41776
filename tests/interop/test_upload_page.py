"""The upload page: district staff upload a zip, a Celery task imports it (eagerly here; with a
real worker in test_import_worker.py) and the run page shows the report."""

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http.response import HttpResponseBase
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoCaptureOnCommitCallbacks

from interop.models import ImportRun, ImportStatus
from students.models import Student
from tests.conftest import World
from tests.interop.conftest import FIXTURES

pytestmark = pytest.mark.django_db


def zipped(folder: Path, name: str = "export.zip") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, path.name)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/zip")


@pytest.fixture
def upload(
    client: Client, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> Callable[..., HttpResponseBase]:
    """POST an upload as district staff; the task enqueued on commit runs (eagerly) after."""

    def post(world: World, file: SimpleUploadedFile, **extra: str) -> HttpResponseBase:
        client.force_login(world.district_staff)
        data = {"district": world.district.pk, "format": "oneroster", "upload": file, **extra}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("interop:import_upload"), data)

    return post


def test_the_page_offers_every_registered_format(client, upload, world: World) -> None:
    client.force_login(world.district_staff)
    response = client.get(reverse("interop:import_upload"))
    assert response.status_code == 200
    assert b'value="oneroster"' in response.content
    assert b'href="/imports/"' in response.content  # the nav link for district staff


def test_the_nav_link_is_only_for_district_staff(client, upload, world: World) -> None:
    client.force_login(world.teacher)
    assert b'href="/imports/"' not in client.get(reverse("home")).content


def test_an_upload_imports_and_the_run_page_shows_the_report(
    client, upload, world: World, eager_celery
) -> None:
    response = upload(world, zipped(FIXTURES / "v12"))
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("interop:import_run", kwargs={"pk": run.pk})
    assert (run.status, run.created_by, run.district) == (
        ImportStatus.SUCCEEDED,
        world.district_staff,
        world.district,
    )
    assert run.report["entities"]["students"]["created"] == 3
    assert run.upload_path == ""  # the uploaded export is not kept
    assert Student.objects.filter(district=world.district, source_id="st1").exists()
    page = client.get(response["Location"])
    assert b"Imported. What changed:" in page.content
    assert b'<th scope="row">students</th>' in page.content
    status = client.get(reverse("interop:import_run_status", kwargs={"pk": run.pk})).json()
    assert status == {
        "status": "succeeded",
        "finished": True,
        "percent": 100,
        "label": run.progress_label,
    }


def test_a_dry_run_upload_writes_nothing(client, upload, world: World, eager_celery) -> None:
    upload(world, zipped(FIXTURES / "v12"), dry_run="on")
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.SUCCEEDED and run.dry_run
    assert not Student.objects.filter(source_id="st1").exists()


def test_an_export_with_errors_fails_and_lists_them(
    client, upload, world: World, eager_celery, tmp_path
) -> None:
    import shutil

    folder = tmp_path / "bad"
    shutil.copytree(FIXTURES / "v12", folder)
    text = (folder / "classes.csv").read_text().replace("scheduled", "lecture", 1)
    (folder / "classes.csv").write_text(text)
    response = upload(world, zipped(folder))
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.FAILED and run.error_total == 1
    page = client.get(response["Location"])
    assert b"nothing was written" in page.content
    assert b"classes.csv" in page.content and b"classType" in page.content
    assert not Student.objects.filter(source_id="st1").exists()


def test_an_export_for_another_district_is_refused(
    client, upload, world: World, eager_celery
) -> None:
    world.district.source_system, world.district.source_id = "oneroster", "other-district"
    world.district.save()
    upload(world, zipped(FIXTURES / "v12"))
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.FAILED
    assert "another district than Home District" in run.errors[0]["message"]


def test_a_file_that_is_not_a_zip_gets_a_clear_error(client, upload, world: World) -> None:
    response = upload(world, SimpleUploadedFile("roster.csv", b"sourcedId,name\n"))
    assert response.status_code == 200
    assert b"roster.csv is not a zip file." in response.content
    assert not ImportRun.objects.exists()


def test_a_file_over_the_limit_gets_a_clear_error(client, upload, world: World, settings) -> None:
    settings.TRELLIS_MAX_IMPORT_UPLOAD_BYTES = 100
    response = upload(world, zipped(FIXTURES / "v12"))
    assert b"the largest import accepted is 100 bytes" in response.content
    assert not ImportRun.objects.exists()


def test_a_zip_bomb_is_refused(client, upload, world: World, eager_celery) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("users.csv", b"0" * 5_000_000)
    upload(world, SimpleUploadedFile("bomb.zip", buffer.getvalue()))
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.FAILED
    assert "possible zip bomb" in run.errors[0]["message"]


def test_other_district_staff_cannot_see_a_run(client, upload, world: World) -> None:
    from accounts.models import Role
    from accounts.services import role_grant
    from tests import factories

    run = ImportRun.objects.create(district=world.district, format="oneroster")
    stranger = factories.UserFactory.create()
    role_grant(user=stranger, role=Role.DISTRICT_STAFF, district=world.other_district)
    client.force_login(stranger)
    assert client.get(reverse("interop:import_run", kwargs={"pk": run.pk})).status_code == 404
    assert (
        client.get(reverse("interop:import_run_status", kwargs={"pk": run.pk})).status_code == 404
    )


def test_an_upload_while_the_broker_is_away_succeeds_and_the_sweep_runs_it(
    client, upload, world: World, eager_celery, monkeypatch
) -> None:
    """The upload is committed and answered; its message is lost; the sweep sends it again."""
    import datetime as dt

    from django.utils import timezone
    from kombu.exceptions import OperationalError

    from interop import tasks

    def broker_away(*args: object, **kwargs: object) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with monkeypatch.context() as away:
        away.setattr(tasks.import_run_task, "apply_async", broker_away)
        response = upload(world, zipped(FIXTURES / "v12"))
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("interop:import_run", kwargs={"pk": run.pk})
    assert run.status == ImportStatus.QUEUED
    # Within the grace the sweep leaves it (its message may still be on its way)...
    assert tasks.import_sweep() == 0
    # ...after it, the run is sent again and imports.
    ImportRun.objects.filter(pk=run.pk).update(
        created_at=timezone.now() - tasks.IMPORT_SWEEP_GRACE - dt.timedelta(seconds=1)
    )
    assert tasks.import_sweep() == 1
    run.refresh_from_db()
    assert run.status == ImportStatus.SUCCEEDED
    assert Student.objects.filter(district=world.district, source_id="st1").exists()


def test_a_second_message_for_a_run_already_taken_does_nothing(world: World) -> None:
    """The sweep may send a run whose first message was only slow: one worker takes it."""
    import datetime as dt

    from django.conf import settings
    from django.utils import timezone

    from interop.services import import_run_execute

    started = timezone.now() - dt.timedelta(minutes=5)
    run = ImportRun.objects.create(
        district=world.district,
        format="oneroster",
        status=ImportStatus.RUNNING,
        started_at=started,
        upload_path="missing.zip",
    )
    assert import_run_execute(run_id=run.pk).status == ImportStatus.RUNNING
    run.refresh_from_db()
    assert (run.status, run.started_at, run.report) == (ImportStatus.RUNNING, started, run.report)
    # Found running past the broker's visibility timeout, its worker died: it runs again.
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    ImportRun.objects.filter(pk=run.pk).update(
        started_at=timezone.now() - dt.timedelta(seconds=timeout + 60)
    )
    assert import_run_execute(run_id=run.pk).status == ImportStatus.FAILED

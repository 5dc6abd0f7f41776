"""An upload imported by a real Celery worker on the `imports` queue, with its ImportRun's
progress visible while the import's own transaction is still open (PostgreSQL + a broker)."""

import threading
import zipfile

import pytest
from django.db import connection
from django.urls import reverse

from interop.models import ImportRun, ImportStatus
from interop.oneroster.generator import oneroster_generate
from students.models import AttendanceEvent, Enrollment, Student
from tests.celery_worker import WORKER_LOG, broker_configured, celery_worker, wait_until
from tests.conftest import build_world

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not broker_configured(), reason="CELERY_BROKER_URL unset: tasks run eagerly"
    ),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="progress is written on a second connection, which SQLite's write lock blocks",
    ),
]


def _upload_and_wait(client, district_id: int, path, format: str) -> ImportRun:
    """Upload `path` through the import page (a worker must be running) and wait until the
    worker has finished its run."""
    with open(path, "rb") as handle:
        response = client.post(
            reverse("interop:import_upload"),
            {"district": district_id, "format": format, "upload": handle},
        )
    assert response.status_code == 302
    run = ImportRun.objects.get()

    def finished() -> bool:
        run.refresh_from_db()
        return run.is_finished

    assert wait_until(finished, timeout=180), "".join(WORKER_LOG)
    return run


def test_a_worker_imports_an_upload_and_reports_progress_on_the_way(client, tmp_path) -> None:
    world = build_world()
    export = tmp_path / "district.zip"
    oneroster_generate(out=export, students=1500, results=True)
    client.force_login(world.district_staff)
    seen_running: list[int] = []

    def watch() -> None:
        # What the page's poll sees: progress between 0 and 100 while the import runs.
        def running() -> bool:
            run = ImportRun.objects.filter(status=ImportStatus.RUNNING).first()
            if run is not None and 0 < run.progress_percent < 100:
                seen_running.append(run.progress_percent)
                return True
            return False

        try:
            wait_until(running, timeout=120, interval=0.05)
        finally:
            # This thread's own connection, else the test database cannot be dropped after.
            connection.close()

    with celery_worker(queues="imports,mastery"):
        watcher = threading.Thread(target=watch)
        watcher.start()
        run = _upload_and_wait(client, world.district.pk, export, "oneroster")
        watcher.join()
    assert run.status == ImportStatus.SUCCEEDED, run.errors
    assert seen_running and 0 < seen_running[0] < 100
    assert run.report["entities"]["students"]["created"] == 1500
    assert (
        Student.objects.filter(district=world.district, source_system="oneroster").count() == 1500
    )
    assert Enrollment.objects.filter(source_system="oneroster").count() > 6000
    status = client.get(reverse("interop:import_run_status", kwargs={"pk": run.pk})).json()
    assert status["finished"] and status["percent"] == 100


def test_a_worker_imports_an_edfi_upload_reading_it_in_a_second_process(client, tmp_path) -> None:
    """Daybreak's 7.6 MB of XML is read by a child the worker's process forks (interop.edfi.relay):
    the fork works inside a Celery pool process and the load is whole."""
    from tests.interop.edfi.conftest import DAYBREAK

    if not (DAYBREAK / "MainControlFile.ctl").exists():
        pytest.skip(f"the inBloom Daybreak sample is not at {DAYBREAK} (never committed)")
    world = build_world()
    export = tmp_path / "daybreak.zip"
    with zipfile.ZipFile(export, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(DAYBREAK.iterdir()):
            if path.suffix in {".xml", ".ctl"}:
                zipped.write(path, path.name)
    client.force_login(world.district_staff)
    with celery_worker(queues="imports,mastery"):
        run = _upload_and_wait(client, world.district.pk, export, "edfi")
    assert run.status == ImportStatus.SUCCEEDED, run.errors
    assert run.report["entities"]["attendance_events"]["created"] == 5550
    assert AttendanceEvent.objects.filter(source_system="edfi").count() == 5550

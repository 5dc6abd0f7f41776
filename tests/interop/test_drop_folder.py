"""Districts' drop folders (interop.dropfolder): each new complete file imported once, files still
being written left alone, paths kept inside the folder, failures emailed to district IT, the
command's JSON; and the tables an import wrote analysed after it commits (PostgreSQL)."""

import email
import email.policy
import hashlib
import io
import os
import socket
import threading
import zipfile
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import orjson
import pytest
from aiosmtpd.controller import Controller
from django.conf import settings as django_settings
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from pytest_django import DjangoCaptureOnCommitCallbacks

from interop import dropfolder
from interop.dropfolder import (
    LOOSE_ENTRY,
    FolderOutcome,
    PathRefused,
    drop_folders_poll,
    open_confined,
)
from interop.models import DroppedFile, DroppedFileStatus, ImportOrigin, ImportRun, ImportStatus
from interop.services import import_execute, table_write_counts, tables_analyze, tables_written
from interop.tasks import drop_folders_poll_task
from students.models import District, Enrollment, Student
from tests.conftest import World, build_world
from tests.interop.conftest import FIXTURES, edit_rows

pytestmark = pytest.mark.django_db

SITE = "https://trellis.example.test"
IT_EMAIL = "it@home-district.test"
EDFI_FILES = Path(__file__).parent / "edfi" / "files"


def zip_folder(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, path.name)
    return target


def drop_folder_for(district: District, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    district.import_drop_folder = str(folder)
    district.import_failure_email = IT_EMAIL
    district.save(update_fields=["import_drop_folder", "import_failure_email"])
    return folder


@pytest.fixture
def drop(tmp_path: Path, world: World, settings) -> Path:
    """The home district's drop folder; files settle at once (the second poll takes them)."""
    settings.TRELLIS_DROP_FOLDER_SETTLE_SECONDS = 0
    settings.TRELLIS_BASE_URL = SITE
    return drop_folder_for(world.district, tmp_path / "drop")


def poll(world: World) -> FolderOutcome:
    """One poll of the home district's folder, its runs imported here (as the command does)."""
    [outcome] = drop_folders_poll(district_id=world.district.pk, run_now=True)
    return outcome


def actions(outcome: FolderOutcome) -> dict[str, str]:
    return {entry.name: entry.action for entry in outcome.entries}


@pytest.fixture
def broken_zip(fixture_copy: Callable[[str], Path], tmp_path: Path) -> Path:
    """A OneRoster export whose enrollments name a user and a class that exist nowhere."""
    folder = fixture_copy("v12")
    edit_rows(
        folder,
        "enrollments.csv",
        lambda rows: [
            *rows,
            {**rows[0], "sourcedId": "e-ghost", "userSourcedId": "nobody"},
            {**rows[0], "sourcedId": "e-ghost2", "classSourcedId": "no-class"},
        ],
    )
    return zip_folder(folder, tmp_path / "broken-source.zip")


# --- Imported once, when complete.


def test_a_new_complete_zip_is_imported_once(drop: Path, world: World) -> None:
    export = zip_folder(FIXTURES / "v12", drop / "roster.zip")
    first = poll(world)
    assert actions(first) == {"roster.zip": "waiting"}  # seen once: not yet known complete
    assert not ImportRun.objects.exists()

    second = poll(world)
    [entry] = second.entries
    assert (entry.action, entry.format, entry.status) == ("queued", "oneroster", "succeeded")
    run = ImportRun.objects.get()
    assert run.pk == entry.run_id
    assert (run.origin, run.source_name, run.district, run.status) == (
        ImportOrigin.DROP_FOLDER,
        "roster.zip",
        world.district,
        ImportStatus.SUCCEEDED,
    )
    assert run.report["entities"]["students"]["created"] > 0
    assert Student.objects.filter(district=world.district, source_system="oneroster").exists()
    row = DroppedFile.objects.get()
    assert (row.run, row.status, row.size) == (
        run,
        DroppedFileStatus.IMPORTED,
        export.stat().st_size,
    )
    assert row.sha256 == hashlib.sha256(export.read_bytes()).hexdigest()
    assert run.upload_path == ""  # the copy the import read is gone; the district's file stays
    assert export.exists()

    for _ in range(2):
        assert actions(poll(world)) == {"roster.zip": "done"}
    assert ImportRun.objects.count() == 1
    assert not mail.outbox


def test_two_polls_at_once_make_one_run(
    drop: Path, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    zip_folder(FIXTURES / "v12", drop / "roster.zip")
    poll(world)
    copy_entry = dropfolder._copy_entry
    during: list[FolderOutcome] = []

    def copy_while_another_polls(root: Path, entry: dropfolder.Entry) -> tuple[str, str]:
        # The second poll runs while the first holds its claim and is copying the file.
        during.append(poll(world))
        return copy_entry(root, entry)

    monkeypatch.setattr(dropfolder, "_copy_entry", copy_while_another_polls)
    outcome = poll(world)
    assert actions(during[0]) == {"roster.zip": "busy"}
    assert actions(outcome) == {"roster.zip": "queued"}
    assert ImportRun.objects.count() == 1


def test_the_database_holds_one_row_per_version(world: World) -> None:
    fields = {"district": world.district, "name": "a.zip", "size": 10, "mtime_ns": 5}
    DroppedFile.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        DroppedFile.objects.create(**fields)
    DroppedFile.objects.create(**fields, sha256="ab" * 32)  # the hashed version: another row
    with pytest.raises(IntegrityError), transaction.atomic():
        DroppedFile.objects.create(**fields, sha256="ab" * 32)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises every write: two threads cannot poll at the same time",
)
def test_two_threads_polling_together_make_one_run(tmp_path: Path, settings) -> None:
    settings.TRELLIS_DROP_FOLDER_SETTLE_SECONDS = 0
    world = build_world()
    drop = drop_folder_for(world.district, tmp_path / "drop")
    zip_folder(FIXTURES / "v12", drop / "roster.zip")
    poll(world)
    start = threading.Barrier(2)
    outcomes: list[FolderOutcome] = []

    def poller() -> None:
        try:
            start.wait()
            outcomes.append(poll(world))
        finally:
            connection.close()

    threads = [threading.Thread(target=poller) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(entry.action for outcome in outcomes for entry in outcome.entries) in (
        ["busy", "queued"],
        ["done", "queued"],
    )
    assert ImportRun.objects.count() == 1


def test_a_growing_file_is_left_until_it_stops_changing(drop: Path, world: World, settings) -> None:
    whole = zip_folder(FIXTURES / "v12", drop.parent / "whole.zip").read_bytes()
    target = drop / "roster.zip"
    target.write_bytes(whole[: len(whole) // 2])
    assert actions(poll(world)) == {"roster.zip": "waiting"}
    target.write_bytes(whole)  # the rest arrives: a new size, a new time
    os.utime(target, ns=(target.stat().st_atime_ns, target.stat().st_mtime_ns + 1_000_000))
    outcome = poll(world)
    assert actions(outcome) == {"roster.zip": "waiting"}
    assert not ImportRun.objects.exists()
    # Only the latest sighting is kept while it grows.
    assert DroppedFile.objects.get().size == len(whole)

    # Unchanged since the last poll but modified a moment ago: still left while it may grow.
    settings.TRELLIS_DROP_FOLDER_SETTLE_SECONDS = 3600
    outcome = poll(world)
    assert actions(outcome) == {"roster.zip": "waiting"}
    assert "modified less than 3600 s ago" in outcome.entries[0].detail
    settings.TRELLIS_DROP_FOLDER_SETTLE_SECONDS = 0
    assert actions(poll(world)) == {"roster.zip": "queued"}
    assert ImportRun.objects.get().status == ImportStatus.SUCCEEDED


def test_files_being_written_and_dotfiles_are_ignored(drop: Path, world: World) -> None:
    zip_folder(FIXTURES / "v12", drop / "roster.zip.part")
    zip_folder(FIXTURES / "v12", drop / ".roster.zip")
    (drop / "export.tmp").write_bytes(b"half")
    (drop / "roster.zip.filepart").write_bytes(b"half")
    # A folder with a file still being written waits for it as a whole.
    batch = drop / "edfi-batch"
    batch.mkdir()
    (batch / "Interchange-Student.xml").write_bytes(
        (EDFI_FILES / "base" / "Interchange-Student.xml").read_bytes()
    )
    (batch / "Interchange-EdOrg.xml.part").write_bytes(b"<half")
    (drop / "README.txt").write_text("for the SIS")
    for _ in range(2):
        outcome = poll(world)
        assert actions(outcome) == {"edfi-batch": "waiting", "README.txt": "ignored"}
    assert not ImportRun.objects.exists()
    assert not DroppedFile.objects.exists()


def test_a_folder_of_edfi_files_is_imported_as_one_load(drop: Path, world: World) -> None:
    batch = drop / "nightly"
    batch.mkdir()
    for path in (EDFI_FILES / "base").iterdir():
        (batch / path.name).write_bytes(path.read_bytes())
    poll(world)
    outcome = poll(world)
    [entry] = outcome.entries
    assert (entry.name, entry.action, entry.format) == ("nightly", "queued", "edfi")
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.SUCCEEDED, run.errors
    assert run.source_name == "nightly"


def test_loose_files_at_the_top_are_one_load(drop: Path, world: World) -> None:
    for path in (EDFI_FILES / "base").iterdir():
        (drop / path.name).write_bytes(path.read_bytes())
    poll(world)
    outcome = poll(world)
    assert actions(outcome) == {LOOSE_ENTRY: "queued"}
    run = ImportRun.objects.get()
    assert run.format == "edfi" and run.status == ImportStatus.SUCCEEDED, run.errors
    assert run.source_name == "the loose files of the drop folder"


def test_the_same_content_again_is_not_imported_twice(drop: Path, world: World) -> None:
    export = zip_folder(FIXTURES / "v12", drop / "roster.zip")
    poll(world)
    poll(world)
    stamp = export.stat()
    os.utime(export, ns=(stamp.st_atime_ns, stamp.st_mtime_ns - 5_000_000_000))  # dropped again
    poll(world)
    assert actions(poll(world)) == {"roster.zip": "duplicate"}
    assert ImportRun.objects.count() == 1
    # Changed content under the same name is a new file.
    zip_folder(FIXTURES / "v11", export)
    poll(world)
    assert actions(poll(world)) == {"roster.zip": "queued"}
    assert ImportRun.objects.count() == 2


# --- Paths stay inside the folder.


def test_symbolic_links_are_refused(drop: Path, world: World, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = zip_folder(FIXTURES / "v12", outside / "other-district.zip")
    (drop / "linked.zip").symlink_to(secret)
    (drop / "linked-folder").symlink_to(outside, target_is_directory=True)
    inner = drop / "batch"
    inner.mkdir()
    (inner / "Interchange-Student.xml").symlink_to(secret)
    for _ in range(2):
        outcome = poll(world)
        assert actions(outcome) == {
            "linked.zip": "refused",
            "linked-folder": "refused",
            "batch": "refused",
        }
    assert not ImportRun.objects.exists()

    for path in ("../outside/other-district.zip", "/etc/passwd", "batch/../linked.zip", ""):
        with pytest.raises(PathRefused), open_confined(drop, path):
            pass
    # A link swapped in after the listing is not followed either.
    for path in ("linked.zip", "batch/Interchange-Student.xml", "linked-folder/other-district.zip"):
        with pytest.raises(PathRefused), open_confined(drop, path):
            pass


def test_a_file_swapped_for_a_link_while_it_waits_is_refused(
    drop: Path, world: World, tmp_path: Path
) -> None:
    export = zip_folder(FIXTURES / "v12", drop / "roster.zip")
    entries, _ = dropfolder.drop_folder_list(drop)
    export.unlink()
    export.symlink_to(zip_folder(FIXTURES / "v12", tmp_path / "elsewhere.zip"))
    with pytest.raises(PathRefused):
        dropfolder._copy_entry(drop, entries[0])
    assert not list((Path(django_settings.MEDIA_ROOT) / "imports").glob("drop-*"))


def test_a_drop_folder_setting_must_be_absolute(world: World) -> None:
    from django.core.exceptions import ValidationError

    world.district.import_drop_folder = "relative/folder"
    with pytest.raises(ValidationError, match="absolute path"):
        world.district.full_clean()


# --- Failures: the run keeps the report, district IT gets it by email.


def test_a_broken_file_fails_its_run_and_district_it_is_emailed(
    drop: Path, world: World, broken_zip: Path
) -> None:
    (drop / "roster.zip").write_bytes(broken_zip.read_bytes())
    poll(world)
    outcome = poll(world)
    assert [entry.status for entry in outcome.entries] == ["failed"]
    run = ImportRun.objects.get()
    assert (run.status, run.origin, run.source_name) == (
        ImportStatus.FAILED,
        ImportOrigin.DROP_FOLDER,
        "roster.zip",
    )
    assert run.error_total >= 2 and run.failure_notified_at is not None
    assert not Enrollment.objects.filter(source_system="oneroster").exists()  # nothing written
    [message] = mail.outbox
    assert message.to == [IT_EMAIL]
    assert "roster.zip" in message.subject and world.district.name in message.subject
    assert "Nothing was written" in message.body
    assert "enrollments.csv, line " in message.body
    assert f"{SITE}{reverse('interop:import_run', kwargs={'pk': run.pk})}" in message.body
    # Polled again: the same file is not imported again, nor emailed again.
    poll(world)
    assert ImportRun.objects.count() == 1 and len(mail.outbox) == 1


def test_without_an_address_the_district_staff_are_emailed(drop: Path, world: World) -> None:
    world.district.import_failure_email = ""
    world.district.save(update_fields=["import_failure_email"])
    (drop / "roster.zip").write_bytes(b"this is not a zip at all")
    poll(world)
    poll(world)
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.FAILED
    assert "not a zip file" in run.errors[0]["message"]
    [message] = mail.outbox
    assert message.to == [world.district_staff.email]
    assert "not a zip file" in message.body


def test_a_mail_that_could_not_go_is_sent_by_the_next_poll(
    drop: Path, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    (drop / "roster.zip").write_bytes(b"not a zip")

    def refuse(*args: object, **kwargs: object) -> None:
        raise ConnectionRefusedError("the mail server is away")

    poll(world)
    monkeypatch.setattr("interop.notices.send_mail", refuse)
    poll(world)
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.FAILED and run.failure_notified_at is None
    monkeypatch.undo()
    poll(world)
    run.refresh_from_db()
    assert run.failure_notified_at is not None and len(mail.outbox) == 1


def test_a_file_larger_than_the_upload_limit_is_refused_with_a_report(
    drop: Path, world: World, settings
) -> None:
    settings.TRELLIS_MAX_IMPORT_UPLOAD_BYTES = 100
    zip_folder(FIXTURES / "v12", drop / "roster.zip")
    poll(world)
    poll(world)
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.FAILED
    assert "the largest import accepted is 100 bytes" in run.errors[0]["message"]
    assert len(mail.outbox) == 1
    assert actions(poll(world)) == {"roster.zip": "done"}


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802  # aiosmtpd's name
        raw = envelope.original_content or envelope.content  # type: ignore[attr-defined]
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), message))  # type: ignore[attr-defined]
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(settings) -> Iterator[Inbox]:
    """A real SMTP server on a free local port, and Django sending to it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10
    try:
        yield inbox
    finally:
        controller.stop()


def test_the_failure_report_arrives_through_a_real_mail_server(
    smtp: Inbox,
    drop: Path,
    world: World,
    broken_zip: Path,
    client,
    eager_celery,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    """As beat runs it: the task polls, the run is queued on commit and imported by the task."""
    (drop / "nightly.zip").write_bytes(broken_zip.read_bytes())
    assert drop_folders_poll_task() == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert drop_folders_poll_task() == 1
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.FAILED
    [(recipients, message)] = smtp.received
    assert recipients == [IT_EMAIL]
    assert message["Subject"].startswith("Trellis: the scheduled import of nightly.zip failed")
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    body = part.get_content()
    assert "nightly.zip" in body and "enrollments.csv, line " in body
    link = f"{SITE}{reverse('interop:import_run', kwargs={'pk': run.pk})}"
    assert link in body
    # The link opens the run for the district's staff.
    client.force_login(world.district_staff)
    response = client.get(link.removeprefix(SITE))
    assert response.status_code == 200
    assert b"from the district's drop folder" in response.content


def test_beat_polls_the_drop_folders() -> None:
    tasks = [entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()]
    assert "interop.tasks.drop_folders_poll_task" in tasks


# --- The command.


def run_command(*args: str) -> tuple[int, dict, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("poll_drop_folders", *args, stdout=stdout, stderr=stderr)
    except CommandError as exc:
        code = exc.returncode
    last = stdout.getvalue().strip().splitlines()[-1]
    return code, orjson.loads(last), stderr.getvalue()


def test_the_command_polls_now_and_ends_with_json(
    drop: Path, world: World, broken_zip: Path
) -> None:
    zip_folder(FIXTURES / "v12", drop / "roster.zip")
    district = str(world.district.pk)
    code, report, stderr = run_command("--district", district, "--json")
    assert (code, report["ok"], report["runs"]) == (0, True, [])
    [folder] = report["folders"]
    assert folder["district_id"] == world.district.pk and folder["folder"] == str(drop)
    assert [(e["name"], e["action"]) for e in folder["entries"]] == [("roster.zip", "waiting")]
    assert "roster.zip: waiting" in stderr

    code, report, stderr = run_command("--district", district, "--json")
    run = ImportRun.objects.get()
    assert (code, report["ok"], report["runs"]) == (0, True, [run.pk])
    [entry] = report["folders"][0]["entries"]
    assert (entry["action"], entry["status"], entry["format"]) == (
        "queued",
        "succeeded",
        "oneroster",
    )
    assert f"importing as oneroster (run {run.pk})" in stderr

    (drop / "second.zip").write_bytes(broken_zip.read_bytes())
    run_command("--json")
    code, report, stderr = run_command("--json")
    assert code == 1 and not report["ok"]
    assert len(report["runs"]) == 1
    assert ImportRun.objects.get(pk=report["runs"][0]).status == ImportStatus.FAILED
    assert "failed" in stderr


def test_the_command_refuses_an_unknown_district(db: None) -> None:
    with pytest.raises(CommandError, match="No district with id 999999"):
        call_command("poll_drop_folders", "--district", "999999")


def test_a_missing_folder_is_reported(world: World, tmp_path: Path) -> None:
    world.district.import_drop_folder = str(tmp_path / "gone")
    world.district.save(update_fields=["import_drop_folder"])
    code, report, stderr = run_command("--json")
    assert code == 1
    assert "is not a folder on this server" in report["folders"][0]["error"]


# --- Statistics after a bulk import.


def test_nothing_to_analyse_off_postgresql() -> None:
    if connection.vendor == "postgresql":
        pytest.skip("the PostgreSQL test below covers it")
    assert table_write_counts() == {}
    assert tables_written(since={}) == []
    tables_analyze(tables=['"students_student"'])  # a no-op, not an error


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="ANALYZE and pg_stat_user_tables are PostgreSQL's (SQLite keeps no such statistics)",
)
@pytest.mark.parametrize(
    ("format", "source"), [("oneroster", FIXTURES / "v12"), ("edfi", EDFI_FILES / "base")]
)
def test_an_import_analyses_the_tables_it_wrote(format: str, source: Path) -> None:
    world = build_world()

    def analysed() -> dict[str, tuple[object, float]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT s.relname, s.last_analyze, c.reltuples FROM pg_stat_user_tables s "
                "JOIN pg_class c ON c.oid = s.relid "
                "WHERE s.relname IN ('students_student', 'students_enrollment', "
                "'students_section', 'accounts_user')"
            )
            return {name: (last, reltuples) for name, last, reltuples in cursor.fetchall()}

    before = analysed()
    report = import_execute(format=format, path=source, district_id=world.district.pk)
    assert report.ok, report.errors.as_json()
    after = analysed()
    for table in ("students_student", "students_enrollment", "students_section"):
        assert after[table][0] is not None and after[table][0] != before[table][0], table
        assert after[table][1] > 0, table  # the planner now knows the table has rows
    # A table the import did not write is left to autovacuum.
    assert after["accounts_user"][0] == before["accounts_user"][0]

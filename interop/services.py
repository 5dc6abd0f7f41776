"""Writes of the import machinery: run an import of any registered format, all or nothing, and
keep its ImportRun (status, progress, report) up to date.

    report = import_execute(format="oneroster", path=path, dry_run=False)   # the command
    run = import_upload_start(uploaded_file=f, format="oneroster", ...)     # the upload page
    import_run_execute(run_id=run.pk)                                       # the Celery task

A drop folder's files come in through interop.dropfolder, which creates runs here too. After an
import commits, the tables it wrote are analysed (PostgreSQL), so that the next query is planned
on statistics that know about the new rows; a failed run from the drop folder is emailed to the
district (interop.notices).
"""

from __future__ import annotations

import gc
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from config.celery_app import publish_on_commit
from interop.models import ImportOrigin, ImportRun, ImportStatus
from interop.notices import import_failure_notify
from interop.progress import Progress, RunProgress
from interop.registry import ImportContext, importer_for
from interop.report import ErrorCollector, ImportReport
from interop.sources import ImportSource, SourceError
from interop.uploads import max_upload_bytes, too_large_message

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

UPLOAD_DIR = "imports"


def import_execute(
    *,
    format: str,
    path: str | Path,
    dry_run: bool = False,
    district_id: int | None = None,
    acting_user_id: int | None = None,
    progress: Progress | None = None,
    error_limit: int | None = None,
) -> ImportReport:
    """Import `path` (a zip or a folder) with the importer registered for `format`.

    One transaction: if the importer collected any error, or in a dry run, everything it wrote
    is rolled back (the report still says what would have changed). Work the importer queued in
    `context.after_commit` runs only when the import commits. `error_limit` defaults to
    TRELLIS_IMPORT_ERROR_LIMIT (interop.report.error_limit).
    """
    importer = importer_for(format)
    report = ImportReport(format=format, dry_run=dry_run, errors=ErrorCollector(error_limit))
    try:
        source = ImportSource(path)
    except SourceError as exc:
        report.errors.add(file=Path(path).name, line=None, column="", message=str(exc))
        return report
    context = ImportContext(
        source=source,
        report=report,
        progress=progress or Progress(),
        dry_run=dry_run,
        district_id=district_id,
        acting_user_id=acting_user_id,
    )
    with source, _cycle_collector_paused(), transaction.atomic():
        counts_before = table_write_counts()
        importer.run(context)
        if report.errors:
            # Counts of a rolled-back import would describe changes that never happened.
            report.counts.clear()
            transaction.set_rollback(True)
        elif dry_run:
            transaction.set_rollback(True)
        else:
            for action in context.after_commit:
                action()
            # Read before the commit (the counts are the transaction's own), analysed after it.
            written = tables_written(since=counts_before)
            transaction.on_commit(lambda: tables_analyze(tables=written), robust=True)
    logger.info(
        "import format=%s source=%s ok=%s dry_run=%s errors=%s",
        format,
        source.name,
        report.ok,
        dry_run,
        report.errors.total,
    )
    return report


def table_write_counts() -> dict[str, int]:
    """Rows inserted, updated or deleted per permanent table (quoted names), as this connection
    has counted them and not yet reported: the current transaction's writes, plus (PostgreSQL
    15 and later) those of its earlier transactions that it has not flushed to the statistics
    yet. tables_written compares two readings. {} on other databases."""
    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT quote_ident(s.schemaname) || '.' || quote_ident(s.relname), "
            "s.n_tup_ins + s.n_tup_upd + s.n_tup_del "
            "FROM pg_stat_xact_user_tables s JOIN pg_class c ON c.oid = s.relid "
            "WHERE c.relpersistence = 'p'"
        )
        return {name: int(count) for name, count in cursor.fetchall()}


def tables_written(*, since: dict[str, int]) -> list[str]:
    """The permanent tables written since the `since` reading of table_write_counts, in the same
    transaction (whichever importer or service wrote them)."""
    return sorted(
        name for name, count in table_write_counts().items() if count > since.get(name, 0)
    )


def tables_analyze(*, tables: list[str]) -> None:
    """ANALYZE these tables (names from tables_written). After a bulk import the planner would
    otherwise plan the next queries on statistics of the tables as they were (empty, on a new
    district) until autovacuum gets to them, which may be late or never (it may be off). A no-op
    on SQLite, which plans without such statistics."""
    if not tables or connection.vendor != "postgresql":
        return
    started = timezone.now()
    with connection.cursor() as cursor:
        # The names are the catalog's own, quoted by quote_ident: nothing from the input.
        cursor.execute(f"ANALYZE {', '.join(tables)}")
    logger.info(
        "analysed %d tables after an import in %.1f s",
        len(tables),
        (timezone.now() - started).total_seconds(),
    )


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for an import: its maps and staged keys hold millions of
    objects, and each full collection walked them all (15 collections, 3 s of a district's
    import). Reference counting still frees what the import drops; the collector's state comes
    back at the end."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@transaction.atomic
def import_run_create(
    *,
    format: str,
    source_name: str,
    upload_path: str = "",
    district_id: int | None = None,
    dry_run: bool = False,
    acting_user: object = None,
    origin: str = ImportOrigin.UPLOAD,
) -> ImportRun:
    importer_for(format)  # an unknown format fails here, not in the worker
    run = ImportRun(
        format=format,
        origin=origin,
        source_name=source_name[:255],
        upload_path=upload_path,
        district_id=district_id,
        dry_run=dry_run,
        created_by=cast("User", acting_user)
        if getattr(acting_user, "is_authenticated", False)
        else None,
    )
    run.full_clean()
    run.save()
    return run


class UploadRejected(Exception):
    """The upload cannot be imported (too large, not a zip); the message says why."""


def import_runs_unsent(*, older_than: timedelta) -> list[int]:
    """Queued runs nobody started, created before `older_than` ago: their message was lost (the
    broker was away when they were saved). interop.tasks.import_sweep sends them again."""
    cutoff = timezone.now() - older_than
    return list(
        ImportRun.objects.filter(
            status=ImportStatus.QUEUED, started_at__isnull=True, created_at__lte=cutoff
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def import_upload_start(
    *,
    uploaded_file: UploadedFile,
    format: str,
    acting_user: object,
    district_id: int | None = None,
    dry_run: bool = False,
) -> ImportRun:
    """Keep an uploaded file for the worker, create its run and enqueue the import on commit."""
    limit = max_upload_bytes()
    if uploaded_file.size and uploaded_file.size > limit:
        raise UploadRejected(too_large_message(limit, uploaded_file.size))
    head = uploaded_file.read(4)
    uploaded_file.seek(0)
    if importer_for(format).accepts == ".zip" and head[:2] != b"PK":
        raise UploadRejected(f"{uploaded_file.name} is not a zip file.")
    relative = f"{UPLOAD_DIR}/{uuid.uuid4().hex}{Path(uploaded_file.name or '').suffix[:10]}"
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as handle:
        for chunk in uploaded_file.chunks():
            handle.write(chunk)
    from interop.tasks import import_run_task

    with transaction.atomic():
        run = import_run_create(
            format=format,
            source_name=uploaded_file.name or "upload",
            upload_path=relative,
            district_id=district_id,
            dry_run=dry_run,
            acting_user=acting_user,
        )
        # A broker outage fails nothing: the run is committed, queued, and import_sweep sends it.
        publish_on_commit(import_run_task, run.pk)
    return run


def import_run_execute(*, run_id: int) -> ImportRun:
    """Run a queued import (the Celery task). Safe to run twice: a finished run is left alone; a
    run another worker started within the broker's visibility timeout is left to it (the sweep
    may have sent a second message); a run found RUNNING for longer (its worker died and the
    broker gave the message back) is re-run from the start, which the importer's idempotence
    makes harmless."""
    now = timezone.now()
    abandoned = now - timedelta(
        seconds=settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    )
    # One worker takes a run: the status moves in one statement, never twice at once.
    claimed = (
        ImportRun.objects.filter(pk=run_id)
        .filter(
            Q(status=ImportStatus.QUEUED) | Q(status=ImportStatus.RUNNING, started_at__lt=abandoned)
        )
        .update(status=ImportStatus.RUNNING, started_at=now)
    )
    run = ImportRun.objects.get(pk=run_id)
    if not claimed:
        return run
    progress = RunProgress(run.pk)
    try:
        report = import_execute(
            format=run.format,
            path=Path(settings.MEDIA_ROOT) / run.upload_path,
            dry_run=run.dry_run,
            district_id=run.district_id,
            acting_user_id=run.created_by_id,
            progress=progress,
        )
    except Exception:
        logger.exception("import run %s failed", run.pk)
        report = ImportReport(format=run.format, dry_run=run.dry_run)
        report.errors.add(
            file=run.source_name,
            line=None,
            column="",
            message="The import stopped on an internal error; nothing was written.",
        )
    finally:
        progress.close()
    run.refresh_from_db()
    run.report = report.as_json()
    run.errors = report.errors.as_json()
    run.error_total = report.errors.total
    run.status = ImportStatus.SUCCEEDED if report.ok else ImportStatus.FAILED
    run.finished_at = timezone.now()
    run.progress_done = run.progress_total
    run.save(
        update_fields=[
            "report",
            "errors",
            "error_total",
            "status",
            "finished_at",
            "progress_done",
        ]
    )
    _upload_discard(run)
    if run.origin == ImportOrigin.DROP_FOLDER and run.status == ImportStatus.FAILED:
        import_failure_notify(run_id=run.pk)
    return run


def _upload_discard(run: ImportRun) -> None:
    # The uploaded export holds personal data: keep it no longer than the import needs it.
    if run.upload_path:
        (Path(settings.MEDIA_ROOT) / run.upload_path).unlink(missing_ok=True)
        run.upload_path = ""
        run.save(update_fields=["upload_path"])

"""Writes of the import machinery: run an import of any registered format, all or nothing, and
keep its ImportRun (status, progress, report) up to date.

    report = import_execute(format="oneroster", path=path, dry_run=False)   # the command
    run = import_upload_start(uploaded_file=f, format="oneroster", ...)     # the upload page
    import_run_execute(run_id=run.pk)                                       # the Celery task
"""

from __future__ import annotations

import gc
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from interop.models import ImportRun, ImportStatus
from interop.progress import Progress, RunProgress
from interop.registry import ImportContext, importer_for
from interop.report import DEFAULT_ERROR_LIMIT, ErrorCollector, ImportReport
from interop.sources import ImportSource, SourceError

if TYPE_CHECKING:
    from celery.contrib.django.task import DjangoTask

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
    error_limit: int = DEFAULT_ERROR_LIMIT,
) -> ImportReport:
    """Import `path` (a zip or a folder) with the importer registered for `format`.

    One transaction: if the importer collected any error, or in a dry run, everything it wrote
    is rolled back (the report still says what would have changed). Work the importer queued in
    `context.after_commit` runs only when the import commits.
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
    logger.info(
        "import format=%s source=%s ok=%s dry_run=%s errors=%s",
        format,
        source.name,
        report.ok,
        dry_run,
        report.errors.total,
    )
    return report


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
) -> ImportRun:
    importer_for(format)  # an unknown format fails here, not in the worker
    run = ImportRun(
        format=format,
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


def import_upload_start(
    *,
    uploaded_file: UploadedFile,
    format: str,
    acting_user: object,
    district_id: int | None = None,
    dry_run: bool = False,
) -> ImportRun:
    """Keep an uploaded file for the worker, create its run and enqueue the import on commit."""
    limit = settings.TRELLIS_MAX_IMPORT_UPLOAD_BYTES
    if uploaded_file.size and uploaded_file.size > limit:
        raise UploadRejected(
            f"The file is {uploaded_file.size:,} bytes; the largest import accepted is "
            f"{limit:,} bytes."
        )
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
        # The Django fixup makes every task a DjangoTask (celery-types types shared_task as Task).
        cast("DjangoTask[[int], str]", import_run_task).delay_on_commit(run.pk)
    return run


def import_run_execute(*, run_id: int) -> ImportRun:
    """Run a queued import (the Celery task). Safe to run twice: a finished run is left alone,
    and a run found RUNNING again (its worker died) is re-run from the start, which the
    importer's idempotence makes harmless."""
    run = ImportRun.objects.get(pk=run_id)
    if run.is_finished:
        return run
    run.status = ImportStatus.RUNNING
    run.started_at = timezone.now()
    run.save(update_fields=["status", "started_at"])
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
    return run


def _upload_discard(run: ImportRun) -> None:
    # The uploaded export holds personal data: keep it no longer than the import needs it.
    if run.upload_path:
        (Path(settings.MEDIA_ROOT) / run.upload_path).unlink(missing_ok=True)
        run.upload_path = ""
        run.save(update_fields=["upload_path"])

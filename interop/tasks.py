"""Imports run on the `imports` queue (CELERY_TASK_ROUTES sends interop.tasks.* there)."""

import logging
from datetime import timedelta

from celery import shared_task

from interop.services import import_run_execute, import_runs_unsent

logger = logging.getLogger(__name__)
# How long a queued run may wait for its message before the sweep sends another.
IMPORT_SWEEP_GRACE = timedelta(minutes=2)


@shared_task(acks_late=True)
def import_run_task(run_id: int) -> str:
    return import_run_execute(run_id=run_id).status


@shared_task(acks_late=True)
def import_sweep() -> int:
    """Send again every import left queued and unstarted (celery beat, every minute): an upload
    saved while the broker was away runs once it is back. A second message for a run already
    taken does nothing (import_run_execute claims a run once)."""
    unsent = import_runs_unsent(older_than=IMPORT_SWEEP_GRACE)
    for run_id in unsent:
        import_run_task.delay(run_id)
    if unsent:
        logger.info("import sweep sent %d queued runs again", len(unsent))
    return len(unsent)


@shared_task(acks_late=True)
def drop_folders_poll_task() -> int:
    """Poll every district's drop folder (celery beat, every two minutes): new complete files
    get an import run each, queued here; how many. Two polls at once import nothing twice
    (interop.dropfolder)."""
    from interop.dropfolder import drop_folders_poll

    outcomes = drop_folders_poll()
    return sum(entry.action == "queued" for outcome in outcomes for entry in outcome.entries)

"""Imports run on the `imports` queue (CELERY_TASK_ROUTES sends interop.tasks.* there)."""

from celery import shared_task

from interop.services import import_run_execute


@shared_task(acks_late=True)
def import_run_task(run_id: int) -> str:
    return import_run_execute(run_id=run_id).status

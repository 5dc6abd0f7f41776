"""Celery tasks of the rollups. They take ids, and running one twice changes nothing: each
recounts from the raw data."""

import logging

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger(__name__)

# A deferred flush runs again this soon (the students' estimates are still being recomputed).
FLUSH_AGAIN_SECONDS = 1.0
# A recount waiting for a wholesale recompute looks again this soon.
RECOUNT_AGAIN_SECONDS = 2.0
RETRY_BACKOFF_MAX = 600


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=RETRY_BACKOFF_MAX,
    retry_jitter=True,
    max_retries=8,
)
def rollups_flush() -> int:
    """Recount the groups of every student queued by the estimates' notices, coalesced (see
    rollups.services.rollups_flush); again shortly when some had to wait. Also the periodic
    sweep: a lost message leaves the queue in the database, and the next sweep takes it."""
    from config.celery_app import app
    from rollups.services import rollups_flush as flush

    # In-process (tests, the demo) nothing else could finish the recomputes waited for.
    report = flush(wait=not app.conf.task_always_eager)
    if report.deferred:
        try:
            rollups_flush.apply_async(countdown=FLUSH_AGAIN_SECONDS, retry=False)
        except Exception:  # the broker's errors are many; the sweep sends it later
            logger.warning("broker unavailable: rollups flush left for its sweep", exc_info=True)
    return report.students


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=RETRY_BACKOFF_MAX,
    max_retries=5,
)
def rollups_update(student_ids: list[int], since: str | None = None) -> int:
    """Recount the groups these students belong to, from the month of `since` (an ISO date;
    every month of the year when None). Returns how many rows changed."""
    from datetime import date

    from rollups.services import rollups_update_students

    months_from = date.fromisoformat(since) if since else None
    return rollups_update_students(student_ids, months_from=months_from).rows_changed


@shared_task(acks_late=True, reject_on_worker_lost=True)
def rollups_recount(district_id: int, reason: str = "import", waiting_since: str = "") -> int:
    """Recount a whole district (after an import changed its records). Returns the rows that
    changed. While the district recomputes its estimates wholesale (a gradebook import), the
    recount waits for it, STORM_WAIT at most since `waiting_since` (an ISO time): counted now,
    every level would be counted again, and it would hold a worker the recompute needs."""
    from datetime import datetime

    from config.celery_app import app
    from rollups.services import STORM_WAIT, district_recomputing_wholesale, rollups_rebuild
    from students.models import District

    if not District.objects.filter(pk=district_id).exists():
        return 0  # deleted since the import: nothing to count
    since = datetime.fromisoformat(waiting_since) if waiting_since else timezone.now()
    if (
        not app.conf.task_always_eager  # in-process nothing else would finish the recompute
        and timezone.now() - since < STORM_WAIT
        and district_recomputing_wholesale(district_id)
    ):
        rollups_recount.apply_async(
            (district_id, reason, since.isoformat()), countdown=RECOUNT_AGAIN_SECONDS
        )
        return 0
    return rollups_rebuild(district_id, reason=reason).drift


@shared_task(acks_late=True, reject_on_worker_lost=True)
def rollups_rebuild_all() -> int:
    """Nightly (celery beat): bring every district's rollups up to today, then rebuild them from
    the raw data and report the drift, which should be 0. Returns the total drift."""
    from rollups.models import RollupRebuild
    from rollups.services import rollups_catch_up, rollups_rebuild
    from students.models import District

    today = timezone.localdate()
    total = 0
    for district_id in District.objects.filter(is_active=True).values_list("pk", flat=True):
        last = (
            RollupRebuild.objects.filter(district_id=district_id)
            .order_by("-finished_at", "-pk")
            .values_list("as_of", flat=True)
            .first()
        )
        if last is not None:
            rollups_catch_up(district_id, since=last, today=today)
        report = rollups_rebuild(district_id, today=today, reason=RollupRebuild.Reason.NIGHTLY)
        detail = ", ".join(
            f"{table} +{drift.added} -{drift.removed} ~{drift.changed}"
            for table, drift in report.drift_by_table.items()
        )
        if report.drift and last is not None:
            logger.warning(
                "rollups of district %s drifted: %s rows (%s) in %.1fs",
                district_id,
                report.drift,
                detail,
                report.seconds,
            )
        else:
            logger.info(
                "rollups of district %s rebuilt: %s rows, drift %s in %.1fs",
                district_id,
                report.rows,
                report.drift,
                report.seconds,
            )
        total += report.drift
    return total

"""Celery tasks of the mastery engine. They take ids, and running one twice changes nothing."""

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger(__name__)

# Retries back off well inside the broker's visibility timeout (CELERY_BROKER_TRANSPORT_OPTIONS).
RETRY_BACKOFF_MAX = 600
SWEEP_GRACE = timedelta(seconds=60)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=RETRY_BACKOFF_MAX,
    retry_jitter=True,
    max_retries=8,
)
def mastery_recompute(self, estimate_ids: list[int]) -> int:
    """Bring these estimates up to date with their evidence."""
    from assessments.engine import estimates_recompute

    return estimates_recompute(estimate_ids)


@shared_task(acks_late=True)
def mastery_sweep() -> int:
    """Re-enqueue every estimate left pending: a lost message or a killed worker loses nothing."""
    from assessments.models import MasteryEstimate
    from assessments.services.recompute import recompute_batches

    cutoff = timezone.now() - SWEEP_GRACE
    pending_ids = list(
        MasteryEstimate.objects.filter(pending_since__lte=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for batch in recompute_batches(pending_ids):
        mastery_recompute.delay(batch)
    if pending_ids:
        logger.info("mastery sweep re-enqueued %d pending estimates", len(pending_ids))
    return len(pending_ids)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def mastery_model_fit_all() -> int:
    """Refit the learned model for every district (daily, from celery beat)."""
    from assessments.services import mastery_model_fit
    from students.models import District

    fitted = 0
    for district_id in District.objects.filter(is_active=True).values_list("pk", flat=True):
        fitted += mastery_model_fit(district_id=district_id).fit_id is not None
    return fitted

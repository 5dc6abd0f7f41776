"""The evening's alerts, sent by Celery beat (config/settings/base.py CELERY_BEAT_SCHEDULE). Each
run reads the database afresh and records what it sends, so a run twice (or a run after a missed
one) sends nothing twice."""

from celery import shared_task

from alerts.services import absence_alerts_send, digests_send


@shared_task(name="alerts.tasks.absence_alerts_evening")
def absence_alerts_evening() -> int:
    """Each guardian's email of the day's new unexcused absences (one a day at most)."""
    return absence_alerts_send()


@shared_task(name="alerts.tasks.digests_evening")
def digests_evening() -> int:
    """The digests due today: daily ones, and weekly ones on their weekday."""
    return digests_send()

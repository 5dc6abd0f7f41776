"""The rights app's scheduled work, by Celery beat (config/settings/base.py CELERY_BEAT_SCHEDULE).
Each run reads the database afresh: a run twice, or after a missed day, flags nobody twice."""

from celery import shared_task

from rights.services import eligible_students_flag


@shared_task(name="rights.tasks.eligible_students_flag_daily")
def eligible_students_flag_daily() -> int:
    """Flag the students who have turned 18 as holding their own rights (34 CFR 99.5)."""
    return eligible_students_flag()

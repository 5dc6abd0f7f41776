"""The Celery app, and the one way product code publishes a task."""

import logging
import os
from functools import partial

from celery import Celery, Task
from django.db import transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("trellis")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


logger = logging.getLogger(__name__)


def publish(task: Task, *args: object) -> bool:
    """Publish one message now, or log why not: a broker outage never fails the caller, whose
    work is committed already; the task's periodic sweep picks the work up from the database
    within one interval once the broker is back. No retry on the request path; the connection
    gives up after CELERY_BROKER_CONNECTION_TIMEOUT."""
    try:
        task.apply_async(args=args, retry=False)
    except Exception:  # the broker's errors are many (kombu, redis, sockets): all mean the same
        logger.warning(
            "broker unavailable: %s%r left for its sweep", task.name, args, exc_info=True
        )
        return False
    return True


def publish_on_commit(task: Task, *args: object) -> None:
    """publish() once the current transaction commits (nothing if it rolls back)."""
    transaction.on_commit(partial(publish, task, *args), robust=True)

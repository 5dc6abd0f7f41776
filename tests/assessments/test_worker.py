"""The mastery engine through a real Celery worker (runs when CELERY_BROKER_URL is set)."""

import datetime as dt
from decimal import Decimal
from typing import cast

import pytest

from assessments.models import MasteryEstimate
from assessments.services import ScoreInput, scores_record
from tests.celery_worker import broker_configured, celery_worker, wait_until
from tests.conftest import build_world

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not broker_configured(), reason="CELERY_BROKER_URL unset: tasks run eagerly"
    ),
]


def test_a_committed_score_reaches_its_estimate_through_a_real_worker() -> None:
    world = build_world()
    with celery_worker():
        scores_record(
            scores=[
                ScoreInput(
                    student_id=world.student.pk,
                    assessment_id=world.assessment.pk,
                    points=Decimal("7"),
                    scored_on=dt.date(2026, 10, 1),
                )
            ]
        )

        def caught_up() -> bool:
            estimate = MasteryEstimate.objects.filter(student=world.student).first()
            if estimate is None:
                return False
            return estimate.pending_since is None and estimate.evidence_count == 1

        assert wait_until(caught_up, timeout=30)
    assert MasteryEstimate.objects.get(student=world.student).probability == pytest.approx(0.7)


def test_the_sweep_catches_up_after_a_worker_is_killed_mid_batch(monkeypatch) -> None:
    import datetime as dt_

    from django.utils import timezone

    from assessments.models import Standard
    from assessments.services import recompute

    # Several tasks, so that there is a "mid": on PostgreSQL a bulk write's estimates would
    # otherwise go in one set-based chunk (recompute_batches), done in one transaction.
    monkeypatch.setattr(recompute, "RECOMPUTE_BULK_BATCH", recompute.RECOMPUTE_BATCH)
    from assessments.tasks import mastery_sweep
    from config.celery_app import app
    from tests.celery_worker import stop_worker

    world = build_world()
    standards = Standard.objects.bulk_create(
        Standard(district=world.district, code=f"TEST.{n:04d}", subject="Mathematics")
        for n in range(1500)
    )
    world.assessment.standards.add(*standards)
    app.control.purge()
    scores_record(
        scores=[
            ScoreInput(
                student_id=student.pk,
                assessment_id=world.assessment.pk,
                points=Decimal("6"),
                scored_on=dt.date(2026, 10, 1),
            )
            for student in (world.student, world.classmate)
        ]
    )
    total = MasteryEstimate.objects.count()
    assert total == 3002  # 1501 standards x 2 students
    with celery_worker() as worker:
        assert wait_until(
            lambda: MasteryEstimate.objects.filter(pending_since__isnull=True).exists(), timeout=30
        )
        stop_worker(worker, kill=True)  # SIGKILL, mid-batch
    # Whatever the killed worker held is lost to us (acks_late returns it only after the broker's
    # visibility timeout); drop what is still queued too, as if Redis had restarted.
    app.control.purge()
    pending = MasteryEstimate.objects.filter(pending_since__isnull=False)
    assert pending.exists(), "the worker finished before it was killed; grow the batch"
    # Older than the sweep's grace period, as if a minute had passed.
    pending.update(pending_since=timezone.now() - dt_.timedelta(minutes=5))
    with celery_worker():
        assert mastery_sweep() > 0
        assert wait_until(
            lambda: not MasteryEstimate.objects.filter(pending_since__isnull=False).exists(),
            timeout=60,
        )
    assert set(MasteryEstimate.objects.values_list("evidence_count", flat=True)) == {1}
    assert {
        round(cast(float, p), 6)
        for p in MasteryEstimate.objects.values_list("probability", flat=True)
    } == {0.6}

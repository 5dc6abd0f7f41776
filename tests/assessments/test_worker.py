"""The mastery engine through a real Celery worker (runs when CELERY_BROKER_URL is set)."""

import datetime as dt
from decimal import Decimal

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

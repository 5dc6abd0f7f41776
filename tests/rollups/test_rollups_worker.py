"""A new score reaches the school's rollup through a real Celery worker (runs when
CELERY_BROKER_URL is set): the mastery task recomputes the estimate, its notice queues the
student, and the rollups' flush recounts the student's grade and sections."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from assessments.services import ScoreInput, scores_record
from rollups.models import RollupPending, SchoolStandardMonth, SectionStandardMonth
from tests.celery_worker import broker_configured, celery_worker, wait_until
from tests.conftest import build_world

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not broker_configured(), reason="CELERY_BROKER_URL unset: tasks run eagerly"
    ),
]


def test_a_new_score_reaches_the_school_rollup_through_a_real_worker() -> None:
    world = build_world()
    month = timezone.localdate().replace(day=1)
    with celery_worker():
        scores_record(
            scores=[
                ScoreInput(
                    student_id=world.student.pk,
                    assessment_id=world.assessment.pk,
                    points=Decimal("9"),
                    scored_on=dt.date(2026, 10, 1),
                )
            ]
        )

        def counted() -> bool:
            return SchoolStandardMonth.objects.filter(
                school=world.school,
                subgroup="all",
                standard=world.standard,
                month=month,
                students_measured=1,
            ).exists()

        assert wait_until(counted, timeout=30)
    row = SchoolStandardMonth.objects.get(
        school=world.school, subgroup="all", standard=world.standard, month=month
    )
    assert (row.grade_level, row.level_4, row.students_proficient) == ("04", 1, 1)
    assert SectionStandardMonth.objects.filter(
        section=world.section, standard=world.standard, month=month, students_measured=1
    ).exists()
    assert not RollupPending.objects.exists()

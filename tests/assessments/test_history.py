"""The production path (scores recorded → the mastery task recomputes) appends a history row
whenever an estimate's level changes, or its probability moves materially, and only then: the
"over time" charts and "levels as of a date" read these rows."""

import datetime as dt
from decimal import Decimal

import pytest

from assessments.engine import HISTORY_MIN_CHANGE
from assessments.models import MasteryEstimate, MasteryEstimateHistory
from assessments.services import ScoreInput, scores_record
from tests.conftest import World

pytestmark = pytest.mark.django_db


def _record(world: World, points: str, day: int, on_commit) -> MasteryEstimate:
    """One score through the production path: scores_record enqueues the recompute on commit."""
    with on_commit(execute=True) as callbacks:
        scores_record(
            scores=[
                ScoreInput(
                    student_id=world.student.pk,
                    assessment_id=world.assessment.pk,
                    points=Decimal(points),
                    scored_on=dt.date(2026, 10, day),
                )
            ]
        )
    assert callbacks, "recording a score must enqueue the mastery recompute"
    return MasteryEstimate.objects.get(student=world.student, standard=world.standard)


def _history() -> list[tuple[dt.date, int, float | None]]:
    return [
        (row.as_of, row.level, row.probability)
        for row in MasteryEstimateHistory.objects.order_by("as_of", "id")
    ]


def test_history_follows_level_and_material_changes(
    world: World, django_capture_on_commit_callbacks, eager_celery
) -> None:
    # Decaying average, weight 0.65; Mastery (level 3) from 0.65, Exceeds from 0.85.
    first = _record(world, "6.4", 1, django_capture_on_commit_callbacks)
    assert (first.level, first.probability) == (2, pytest.approx(0.64))
    assert _history() == [(dt.date(2026, 10, 1), 2, pytest.approx(0.64))]

    # 0.35 × 0.64 + 0.65 × 0.67 = 0.6595: a move smaller than the material change, but the
    # level crosses into Mastery, so a row is appended.
    crossed = _record(world, "6.7", 2, django_capture_on_commit_callbacks)
    assert abs((crossed.probability or 0) - 0.64) < HISTORY_MIN_CHANGE
    assert crossed.level == 3
    assert len(_history()) == 2
    assert _history()[-1] == (dt.date(2026, 10, 2), 3, pytest.approx(0.6595))

    # 0.35 × 0.6595 + 0.65 × 0.8 = 0.7508: the same level, a material move: a row.
    moved = _record(world, "8", 5, django_capture_on_commit_callbacks)
    assert moved.level == 3
    assert _history()[-1] == (dt.date(2026, 10, 5), 3, pytest.approx(0.750825))

    # 0.35 × 0.7508 + 0.65 × 0.76 = 0.7568: same level, an immaterial move: no row, though the
    # estimate itself is updated.
    nudged = _record(world, "7.6", 6, django_capture_on_commit_callbacks)
    assert nudged.probability == pytest.approx(0.75678875)
    assert len(_history()) == 3
    # Each row is dated by the newest evidence it reflects, so the history has distinct dates.
    assert len({as_of for as_of, _, _ in _history()}) == 3

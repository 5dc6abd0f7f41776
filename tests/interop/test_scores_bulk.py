"""assessments.services.scores_record_bulk (the import's path for many scores) writes what
scores_record writes: the same scores, evidence and pending estimates, unchanged rows left
alone, corrections marked for a full recompute. Set-based on PostgreSQL; batches elsewhere."""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from assessments.models import (
    Assessment,
    AssessmentItem,
    ItemKind,
    MasteryEstimate,
    MasteryEvidence,
    Score,
    ScoreStatus,
)
from assessments.services import ScoreInput, scores_record, scores_record_bulk
from assessments.services import bulk_sql as services
from students import bulk_keys
from tests.conftest import World
from tests.interop.conftest import foreign_keys

pytestmark = pytest.mark.django_db


def twin(world: World) -> Assessment:
    """A second assessment configured like the world's, with an objective item."""
    copy = Assessment.objects.create(
        district=world.district,
        section=world.section,
        title="Twin",
        max_points=10,
        min_points=2,
        due_on=dt.date(2026, 10, 1),
    )
    copy.standards.add(world.standard)
    return copy


def inputs(world: World, assessment: Assessment, item: AssessmentItem | None) -> list[ScoreInput]:
    day = dt.date(2026, 10, 1)
    rows = [
        ScoreInput(
            student_id=world.student.pk,
            assessment_id=assessment.pk,
            scored_on=day,
            points=Decimal("8"),
            comment="ok",
        ),
        ScoreInput(
            student_id=world.classmate.pk,
            assessment_id=assessment.pk,
            scored_on=day,
            points=None,
            status=ScoreStatus.MISSING,
        ),
        ScoreInput(
            student_id=world.classmate.pk,
            assessment_id=assessment.pk,
            scored_on=day + dt.timedelta(days=7),
            points=Decimal("12"),
        ),
    ]
    if item is not None:
        rows.append(
            ScoreInput(
                student_id=world.student.pk,
                assessment_id=assessment.pk,
                item_id=item.pk,
                scored_on=day,
                points=Decimal("3"),
            )
        )
    return rows


def written(assessment: Assessment) -> dict:
    scores = Score.objects.filter(student_assessment__assessment=assessment)
    return {
        "scores": sorted(
            scores.values_list(
                "student_id", "item__code", "points", "normalized", "status", "comment", "scored_on"
            ),
            key=str,
        ),
        "evidence": sorted(
            MasteryEvidence.objects.filter(score__in=scores).values_list(
                "student_id", "standard_id", "observed_on", "value"
            )
        ),
    }


def test_bulk_writes_what_scores_record_writes(world: World) -> None:
    plain = world.assessment
    plain.min_points = 2
    plain.save()
    bulk = twin(world)
    items = {}
    for assessment in (plain, bulk):
        item = AssessmentItem.objects.create(
            district=world.district,
            assessment=assessment,
            kind=ItemKind.OBJECTIVE,
            code="OBJ",
            max_points=4,
        )
        item.standards.add(world.standard)
        items[assessment.pk] = item
    recorded = scores_record(scores=inputs(world, plain, items[plain.pk]), enqueue=False)
    result = scores_record_bulk(scores=inputs(world, bulk, items[bulk.pk]))
    assert (
        (result.created, result.updated, result.unchanged)
        == (recorded.created, recorded.updated, recorded.unchanged)
        == (4, 0, 0)
    )
    assert written(bulk) == written(plain)
    # Pending estimates for every (student, standard) touched, ids returned to enqueue once.
    pending = set(
        MasteryEstimate.objects.filter(pending_since__isnull=False).values_list("pk", flat=True)
    )
    assert set(result.estimate_ids) <= pending and result.estimate_ids


def test_bulk_leaves_unchanged_scores_alone_and_marks_corrections(world: World) -> None:
    assessment = twin(world)
    first = inputs(world, assessment, None)
    scores_record_bulk(scores=first)
    stamps = dict(Score.objects.values_list("pk", "updated_at"))
    again = scores_record_bulk(scores=first)
    assert (again.created, again.updated, again.unchanged, again.estimate_ids) == (0, 0, 3, [])
    assert dict(Score.objects.values_list("pk", "updated_at")) == stamps
    MasteryEstimate.objects.update(needs_full_recompute=False)
    corrected = [first[0]._replace(points=Decimal("4"))]
    result = scores_record_bulk(scores=corrected)
    assert (result.created, result.updated) == (0, 1)
    score = Score.objects.get(student=world.student, student_assessment__assessment=assessment)
    assert score.normalized == pytest.approx(0.25)  # (4 - 2) / (10 - 2)
    estimate = MasteryEstimate.objects.get(student=world.student, standard=world.standard)
    assert estimate.needs_full_recompute and estimate.pending_since is not None
    assert list(MasteryEvidence.objects.filter(score=score).values_list("value", flat=True)) == [
        pytest.approx(0.25)
    ]


# Large batches on PostgreSQL check foreign keys once, set-based (the keys are dropped while the
# scores are written and added back): the same rows, the same constraints, and a bad reference
# still aborts everything.

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="foreign keys are dropped on PostgreSQL only"
)


@pytest.fixture
def large_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk_keys, "BULK_FOREIGN_KEY_ROWS", 1)


@postgresql_only
@pytest.mark.usefixtures("large_batches")
def test_large_batch_checks_keys_once_and_restores_them(world: World) -> None:
    keys = foreign_keys(services.BULK_TABLES)
    assert len(keys) >= 5  # student assessment → student, assessment; score → ...; estimate → ...
    assessment = twin(world)
    result = scores_record_bulk(scores=inputs(world, assessment, None))
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    assert foreign_keys(services.BULK_TABLES) == keys
    assert Score.objects.filter(student_assessment__assessment=assessment).count() == 3
    # The session's settings are the server's again.
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('lock_timeout'), current_setting('work_mem')")
        assert cursor.fetchone() == ("0", "4MB")


@postgresql_only
@pytest.mark.usefixtures("large_batches")
def test_large_batch_with_a_missing_student_writes_nothing(world: World) -> None:
    keys = foreign_keys(services.BULK_TABLES)
    assessment = twin(world)
    bad = inputs(world, assessment, None)
    bad.append(
        ScoreInput(
            student_id=world.student.pk + 10_000,
            assessment_id=assessment.pk,
            scored_on=dt.date(2026, 10, 2),
            points=Decimal("5"),
        )
    )
    with pytest.raises(IntegrityError, match="student"), transaction.atomic():
        scores_record_bulk(scores=bad)
    assert not Score.objects.filter(student_assessment__assessment=assessment).exists()
    assert foreign_keys(services.BULK_TABLES) == keys


@contextmanager
def another_session_reading_scores() -> Iterator[None]:
    """Another connection that has read the scores table, holding its lock for the block."""
    import psycopg

    settings = connection.settings_dict
    reader = psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        password=settings["PASSWORD"] or None,
    )
    try:
        reader.execute("SELECT count(*) FROM assessments_score")  # holds its lock until rollback
        yield
    finally:
        reader.rollback()
        reader.close()


@postgresql_only
@pytest.mark.usefixtures("large_batches")
def test_large_batch_keeps_row_checks_while_others_read_scores(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A reader holding the scores table: the import does not wait on it past BULK_LOCK_WAIT,
    and writes the same rows with the keys checked row by row."""
    monkeypatch.setattr(bulk_keys, "BULK_LOCK_WAIT", "200ms")
    with another_session_reading_scores():
        keys = foreign_keys(services.BULK_TABLES)
        assessment = twin(world)
        with caplog.at_level("INFO", logger="students.bulk_keys"):
            result = scores_record_bulk(scores=inputs(world, assessment, None))
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    assert "row-by-row key checks" in caplog.text and "lock timeout" in caplog.text
    assert foreign_keys(services.BULK_TABLES) == keys


@postgresql_only
def test_kept_row_checks_leave_the_session_as_it_was_while_scores_are_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the keys cannot be dropped, the writes run under the session's own lock timeout and
    deferred checks, not the short wait used to try the drop."""
    monkeypatch.setattr(bulk_keys, "BULK_LOCK_WAIT", "200ms")
    with another_session_reading_scores():
        with transaction.atomic(), connection.cursor() as cursor:
            with bulk_keys.foreign_keys_checked_once(services.BULK_TABLES) as dropped:
                cursor.execute("SELECT current_setting('lock_timeout')")
                assert (dropped, cursor.fetchone()[0]) == (False, "0")
                # A key still checked at COMMIT, not at once: a dangling reference passes here.
                cursor.execute(
                    "INSERT INTO assessments_masteryestimate (student_id, standard_id,"
                    " probability, level, evidence_count, trend, method, state,"
                    " needs_full_recompute) VALUES (-1, -1, NULL, 0, 0, 'flat', '', '{}', false)"
                )
                transaction.set_rollback(True)

"""Writes of scores and mastery. Scores go through scores_record only: it keeps the evidence the
engine reads and marks the affected (student, standard) estimates pending, in one transaction,
and enqueues one recompute per batch of pairs after commit."""

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from django.db import DatabaseError, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Count, Max
from django.utils import timezone

from assessments.models import (
    Assessment,
    AssessmentItem,
    MasteryEstimate,
    MasteryEvidence,
    MasteryOverride,
    Score,
    ScoreSource,
    ScoreStatus,
    StudentAssessment,
)
from assessments.signals import (
    mastery_changed_for_students_on_commit,
    mastery_changed_on_commit,
)

logger = logging.getLogger(__name__)

# Statuses whose score counts as evidence of mastery; exempt and missing do not.
EVIDENCE_STATUSES = {ScoreStatus.SCORED, ScoreStatus.LATE}
RECOMPUTE_BATCH = 500


class ScoreInput(NamedTuple):
    """One score to record. A named tuple rather than a frozen dataclass: imports make a million
    of them, and a tuple is made in a third of the time."""

    student_id: int
    assessment_id: int
    scored_on: date
    item_id: int | None = None
    points: Decimal | None = None
    normalized: float | None = None
    rubric_level: str = ""
    status: str = ScoreStatus.SCORED
    comment: str = ""
    source_system: str = ""
    source_id: str = ""


@dataclass
class ScoresRecorded:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    pairs_marked: int = 0
    estimate_ids: list[int] = field(default_factory=list)


def _normalize(
    points: Decimal | None, max_points: Decimal | None, min_points: Decimal
) -> float | None:
    if points is None or not max_points or max_points <= min_points:
        return None
    fraction = float((points - min_points) / (max_points - min_points))
    return min(1.0, max(0.0, fraction))


def _item_key(assessment_id: int, item_id: int | None) -> str:
    return f"i{item_id}" if item_id else f"a{assessment_id}"


@transaction.atomic
def scores_record(
    *,
    scores: Iterable[ScoreInput],
    source: str = ScoreSource.ENTERED,
    acting_user: object = None,
    enqueue: bool = True,
) -> ScoresRecorded:
    """Create or correct scores, keep their mastery evidence, and mark the pairs they touch.

    Each score is matched to an existing one by (student, assessment, item, date of the
    administration); an existing score with the same values is left alone. Points are normalized
    against the item's (or assessment's) range unless `normalized` is given.
    """
    inputs = list(scores)
    result = ScoresRecorded()
    if not inputs:
        return result
    assessments = Assessment.objects.in_bulk({s.assessment_id for s in inputs})
    items = AssessmentItem.objects.in_bulk({s.item_id for s in inputs if s.item_id})
    for score in inputs:
        if score.assessment_id not in assessments:
            raise ValueError(f"No assessment with id {score.assessment_id}.")
        if score.item_id and items.get(score.item_id) is None:
            raise ValueError(f"No assessment item with id {score.item_id}.")
        if score.item_id and items[score.item_id].assessment_id != score.assessment_id:
            raise ValueError(
                f"Item {score.item_id} is not part of assessment {score.assessment_id}."
            )

    # One StudentAssessment per (student, assessment, administration date).
    result_keys = {(s.student_id, s.assessment_id, s.scored_on) for s in inputs}
    existing_results = {
        (r.student_id, r.assessment_id, r.administered_on): r
        for r in StudentAssessment.objects.filter(
            student_id__in={k[0] for k in result_keys},
            assessment_id__in={k[1] for k in result_keys},
        )
    }
    new_results = [
        StudentAssessment(
            district_id=assessments[assessment_id].district_id,
            student_id=student_id,
            assessment_id=assessment_id,
            administered_on=scored_on,
        )
        for (student_id, assessment_id, scored_on) in result_keys
        if (student_id, assessment_id, scored_on) not in existing_results
    ]
    StudentAssessment.objects.bulk_create(new_results, batch_size=2000)
    if new_results:
        existing_results = {
            (r.student_id, r.assessment_id, r.administered_on): r
            for r in StudentAssessment.objects.filter(
                student_id__in={k[0] for k in result_keys},
                assessment_id__in={k[1] for k in result_keys},
            )
        }

    existing_scores = {
        (s.student_assessment_id, s.item_id): s
        for s in Score.objects.filter(
            student_assessment_id__in=[r.pk for r in existing_results.values()]
        )
    }
    to_create: list[Score] = []
    to_update: list[Score] = []
    corrected_score_ids: set[int] = set()
    for entry in inputs:
        assessment = assessments[entry.assessment_id]
        item = items.get(entry.item_id) if entry.item_id else None
        normalized = entry.normalized
        if normalized is None:
            normalized = _normalize(
                entry.points,
                item.max_points if item and item.max_points else assessment.max_points,
                Decimal(0) if item else assessment.min_points,
            )
        if normalized is not None and not 0.0 <= normalized <= 1.0:
            raise ValueError(f"A normalized score must lie in 0..1, not {normalized}.")
        student_assessment = existing_results[
            (entry.student_id, entry.assessment_id, entry.scored_on)
        ]
        values = {
            "points": entry.points,
            "rubric_level": entry.rubric_level,
            "normalized": normalized,
            "status": entry.status,
            "comment": entry.comment,
        }
        current = existing_scores.get((student_assessment.pk, entry.item_id))
        if current is None:
            score = Score(
                district_id=assessment.district_id,
                student_assessment=student_assessment,
                item_id=entry.item_id,
                student_id=entry.student_id,
                scored_on=entry.scored_on,
                source=source,
                source_system=entry.source_system,
                source_id=entry.source_id,
                entered_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
                **values,
            )
            to_create.append(score)
            existing_scores[(student_assessment.pk, entry.item_id)] = score
            continue
        if all(getattr(current, key) == value for key, value in values.items()):
            result.unchanged += 1
            continue
        for key, value in values.items():
            setattr(current, key, value)
        current.updated_at = timezone.now()
        to_update.append(current)
        corrected_score_ids.add(current.pk)
    Score.objects.bulk_create(to_create, batch_size=2000)
    if to_update:
        Score.objects.bulk_update(
            to_update,
            ["points", "rubric_level", "normalized", "status", "comment", "updated_at"],
            batch_size=2000,
        )
    result.created, result.updated = len(to_create), len(to_update)
    changed = to_create + to_update
    if changed:
        standards_of = _standards_by_score(changed)
        pairs, late_pairs = _evidence_rebuild(changed, standards_of)
        # A correction changes history that an incremental state already absorbed.
        late_pairs |= {(s.student_id, std) for s in to_update for std in standards_of[s.pk]}
        result.estimate_ids = estimates_mark_pending(pairs=pairs, full_recompute_pairs=late_pairs)
        result.pairs_marked = len(pairs)
        # Pages that cache what scores show (missing work, pending counts) retire it now, not
        # only when the recompute lands.
        mastery_changed_for_students_on_commit(
            {s.student_id for s in changed}, {a.section_id for a in assessments.values()}
        )
        if enqueue:
            mastery_recompute_enqueue(result.estimate_ids)
    return result


def _standards_by_score(scores: Sequence[Score]) -> dict[int, list[int]]:
    """Each score's standards: its item's alignment, else its assessment's. Two queries."""
    item_ids = {s.item_id for s in scores if s.item_id}
    assessment_ids = {s.student_assessment.assessment_id for s in scores}
    item_standards: dict[int, list[int]] = defaultdict(list)
    for item_id, standard_id in AssessmentItem.standards.through.objects.filter(
        assessmentitem_id__in=item_ids
    ).values_list("assessmentitem_id", "standard_id"):
        item_standards[item_id].append(standard_id)
    assessment_standards: dict[int, list[int]] = defaultdict(list)
    for assessment_id, standard_id in Assessment.standards.through.objects.filter(
        assessment_id__in=assessment_ids
    ).values_list("assessment_id", "standard_id"):
        assessment_standards[assessment_id].append(standard_id)
    return {
        s.pk: item_standards[s.item_id]
        if s.item_id
        else assessment_standards[s.student_assessment.assessment_id]
        for s in scores
    }


def _evidence_rebuild(
    scores: Sequence[Score], standards_of: dict[int, list[int]]
) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """Replace the evidence rows of these scores. Returns (pairs touched, pairs needing a full
    recompute because the new evidence is dated before what their estimate already reflects)."""
    MasteryEvidence.objects.filter(score_id__in=[s.pk for s in scores]).delete()
    evidence: list[MasteryEvidence] = []
    pairs: set[tuple[int, int]] = set()
    for score in scores:
        assessment_id = score.student_assessment.assessment_id
        standard_ids = standards_of[score.pk]
        pairs.update((score.student_id, standard_id) for standard_id in standard_ids)
        if score.normalized is None or score.status not in EVIDENCE_STATUSES:
            continue
        evidence.extend(
            MasteryEvidence(
                score_id=score.pk,
                student_id=score.student_id,
                standard_id=standard_id,
                item_key=_item_key(assessment_id, score.item_id),
                observed_on=score.scored_on,
                value=score.normalized,
            )
            for standard_id in standard_ids
        )
    MasteryEvidence.objects.bulk_create(evidence, batch_size=5000)
    late_pairs: set[tuple[int, int]] = set()
    if pairs:
        earliest: dict[tuple[int, int], date] = {}
        for row in evidence:
            key = (row.student_id, row.standard_id)
            if key not in earliest or row.observed_on < earliest[key]:
                earliest[key] = row.observed_on
        for student_id, standard_id, latest in _estimates_latest(pairs):
            key = (student_id, standard_id)
            if latest and key in earliest and earliest[key] < latest:
                late_pairs.add(key)
    return pairs, late_pairs


def _estimates_latest(pairs: set[tuple[int, int]]) -> Iterable[tuple[int, int, date | None]]:
    student_ids = {p[0] for p in pairs}
    standard_ids = {p[1] for p in pairs}
    for row in MasteryEstimate.objects.filter(
        student_id__in=student_ids, standard_id__in=standard_ids
    ).values_list("student_id", "standard_id", "latest_observed_on"):
        if (row[0], row[1]) in pairs:
            yield row


def estimates_mark_pending(
    *,
    pairs: set[tuple[int, int]],
    full_recompute_pairs: set[tuple[int, int]] = frozenset(),  # type: ignore[assignment]
) -> list[int]:
    """Create missing estimates and mark every pair pending; returns the estimate ids."""
    if not pairs:
        return []
    now = timezone.now()
    MasteryEstimate.objects.bulk_create(
        [MasteryEstimate(student_id=s, standard_id=t, pending_since=now) for s, t in pairs],
        batch_size=5000,
        ignore_conflicts=True,
    )
    student_ids = {p[0] for p in pairs}
    standard_ids = {p[1] for p in pairs}
    rows = [
        (pk, (s, t))
        for pk, s, t in MasteryEstimate.objects.filter(
            student_id__in=student_ids, standard_id__in=standard_ids
        ).values_list("pk", "student_id", "standard_id")
        if (s, t) in pairs
    ]
    ids = [pk for pk, _ in rows]
    full_ids = [pk for pk, pair in rows if pair in full_recompute_pairs]
    for start in range(0, len(ids), 5000):
        MasteryEstimate.objects.filter(pk__in=ids[start : start + 5000]).update(pending_since=now)
    for start in range(0, len(full_ids), 5000):
        MasteryEstimate.objects.filter(pk__in=full_ids[start : start + 5000]).update(
            needs_full_recompute=True
        )
    return ids


def mastery_recompute_enqueue(estimate_ids: Sequence[int]) -> None:
    """After commit, one task per batch of pairs (a rolled-back transaction enqueues nothing)."""
    from assessments.tasks import mastery_recompute

    batches = [
        list(estimate_ids[i : i + RECOMPUTE_BATCH])
        for i in range(0, len(estimate_ids), RECOMPUTE_BATCH)
    ]
    for batch in batches:
        transaction.on_commit(lambda batch=batch: mastery_recompute.delay(batch))


@transaction.atomic
def mastery_override_set(
    *,
    student_id: int,
    standard_id: int,
    level: int,
    note: str,
    acting_user: object,
    clear_on_new_score: bool,
) -> MasteryOverride:
    if not note.strip():
        raise ValueError("An override needs a note saying why.")
    now = timezone.now()
    MasteryOverride.objects.filter(
        student_id=student_id, standard_id=standard_id, cleared_at__isnull=True
    ).update(cleared_at=now, cleared_reason="replaced")
    watermark = (
        MasteryEvidence.objects.filter(student_id=student_id, standard_id=standard_id).aggregate(
            newest=Max("id")
        )["newest"]
        or 0
    )
    override = MasteryOverride(
        evidence_watermark=watermark,
        student_id=student_id,
        standard_id=standard_id,
        level=level,
        note=note.strip(),
        set_by=acting_user,
        clear_on_new_score=clear_on_new_score,
    )
    override.full_clean()
    override.save()
    mastery_changed_for_students_on_commit({student_id})
    return override


@transaction.atomic
def mastery_override_clear(*, student_id: int, standard_id: int, acting_user: object) -> int:
    """Clear the pair's active override (the estimate shows again); returns how many were
    cleared (0 when there was none, so a second click changes nothing)."""
    # The model has no "cleared by" column: the reason names the user, so the audit keeps who.
    reason = f"cleared by teacher (user {getattr(acting_user, 'pk', '?')})"
    cleared = MasteryOverride.objects.filter(
        student_id=student_id, standard_id=standard_id, cleared_at__isnull=True
    ).update(cleared_at=timezone.now(), cleared_reason=reason[:100])
    if cleared:
        mastery_changed_for_students_on_commit({student_id})
    return cleared


@transaction.atomic
def assessment_create(
    *,
    section: object,
    title: str,
    kind: str,
    purpose: str,
    due_on: date,
    max_points: Decimal,
    standards: Iterable[object],
    acting_user: object = None,
) -> Assessment:
    """A teacher's own assessment in their section, aligned to standards."""
    assessment = Assessment(
        district_id=section.district_id,  # type: ignore[attr-defined]
        section=section,
        title=title.strip(),
        kind=kind,
        purpose=purpose,
        due_on=due_on,
        assigned_on=due_on,
        max_points=max_points,
        subject=getattr(section, "subject", ""),
        created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
    )
    assessment.full_clean()
    assessment.save()
    assessment.standards.set(list(standards))
    return assessment


@dataclass(frozen=True)
class ModelFitResult:
    fit_id: int | None
    responses: int
    students: int
    holdout_auc: float | None
    holdout_rmse: float | None


# Enough responses for stable weights (the Statics fit uses 156k); past this, a district's fit uses
# a fixed sample of whole students, so a daily refit of a large district stays a matter of seconds.
FIT_MAX_RESPONSES = 300_000


def mastery_model_fit(
    *,
    district_id: int,
    min_responses: int = 200,
    max_responses: int = FIT_MAX_RESPONSES,
    enqueue: bool = True,
) -> ModelFitResult:
    """Fit the learned model on a district's own evidence and store its parameters, then mark the
    district's estimates for recompute under the new parameters (``enqueue=False``: the caller
    recomputes them itself, as seed_demo does).

    A fifth of the students (chosen by id) is held out and predicted from their own earlier
    evidence only, so the stored metrics say how well the fit generalizes to new students.
    """
    from assessments.estimators import Response, fit_logistic_tracer
    from assessments.evaluation import predict_learned, rmse, roc_auc
    from assessments.models import MasteryModelFit

    evidence = MasteryEvidence.objects.filter(standard__district_id=district_id)
    per_student = dict(
        evidence.values("student_id").annotate(n=Count("id")).values_list("student_id", "n")
    )
    # Whole students in a fixed pseudo-random order (multiplicative hash of the id) up to the cap.
    sample: list[int] = []
    taken = 0
    for student_id in sorted(per_student, key=lambda pk: (pk * 2654435761) % 2**32):
        if taken >= max_responses:
            break
        sample.append(student_id)
        taken += per_student[student_id]
    if len(sample) < len(per_student):
        evidence = evidence.filter(student_id__in=sample)
    rows = evidence.order_by("student_id", "observed_on", "id").values_list(
        "student_id", "item_key", "standard_id", "value"
    )
    responses = [
        Response(student=str(student_id), item=item_key, skill=str(standard_id), score=value)
        for student_id, item_key, standard_id, value in rows.iterator(chunk_size=10000)
    ]
    students = {r.student for r in responses}
    if len(responses) < min_responses or len(students) < 10:
        return ModelFitResult(None, len(responses), len(students), None, None)
    holdout = {s for s in students if int(s) % 5 == 0}
    train = [r for r in responses if r.student not in holdout]
    test = [r for r in responses if r.student in holdout]
    auc = error = None
    if train and test:
        predictions = predict_learned(fit_logistic_tracer(train), test)
        labels = [r.score for r in test]
        auc, error = roc_auc([round(x) for x in labels], predictions), rmse(labels, predictions)
    tracer = fit_logistic_tracer(responses)
    with transaction.atomic():
        MasteryModelFit.objects.filter(district_id=district_id, is_active=True).update(
            is_active=False
        )
        fit = MasteryModelFit.objects.create(
            district_id=district_id,
            method="best_lr_recency",
            parameters=tracer.to_json(),
            metrics={
                "holdout_auc": auc,
                "holdout_rmse": error,
                "holdout_students": len(holdout),
                "students_sampled": len(sample),
                "students_with_evidence": len(per_student),
            },
            responses_used=len(responses),
            fitted_at=timezone.now(),
        )
        # Estimates built under the old parameters are rebuilt from their scores under the new.
        if enqueue:
            _district_estimates_enqueue(district_id)
    return ModelFitResult(fit.pk, len(responses), len(students), auc, error)


def _district_estimates_enqueue(district_id: int) -> None:
    estimate_ids = list(
        MasteryEstimate.objects.filter(standard__district_id=district_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    MasteryEstimate.objects.filter(standard__district_id=district_id).update(
        pending_since=timezone.now()
    )
    mastery_recompute_enqueue(estimate_ids)


# From this many staged scores on, the bulk path checks the written tables' foreign keys once,
# set-based, instead of row by row at COMMIT (see _foreign_keys_checked_once).
BULK_FOREIGN_KEY_ROWS = 100_000
# How long a bulk import waits for readers of the score tables before it keeps the row checks.
BULK_LOCK_WAIT = "5s"
BULK_WORK_MEM = "256MB"
BULK_TABLES = (
    "assessments_studentassessment",
    "assessments_score",
    "assessments_masteryestimate",
)


@contextmanager
def _foreign_keys_checked_once(cursor: CursorWrapper, tables: Sequence[str]) -> Iterator[bool]:
    """Drop the tables' foreign keys for the block and add them back at its end, so that
    PostgreSQL checks each one with a single join over the table instead of one lookup per row
    written at COMMIT (a million scores queued five million of those: a third of the import).

    The constraints come back exactly as they were (name and definition from pg_constraint);
    a row that breaks one fails the ADD, and with it the caller's transaction. Dropping takes
    each table's ACCESS EXCLUSIVE lock until the transaction ends, so readers of scores wait for
    the import: only for large batches, and only if the locks come within BULK_LOCK_WAIT (else,
    or without the right to alter the tables, the row-by-row checks stay). Yields whether the
    keys were dropped.
    """
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY conrelid, conname",
        [list(tables)],
    )
    keys = cursor.fetchall()
    quote = cursor.db.ops.quote_name
    dropped = False
    try:
        with transaction.atomic(), _local_setting(cursor, "lock_timeout", BULK_LOCK_WAIT):
            # Checks still queued on these tables (rows written earlier in the transaction) would
            # forbid the ALTER: run them now instead of at COMMIT.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table, name, _ in keys:
                cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        dropped = True
    except DatabaseError as error:
        logger.info("Bulk scores keep their row-by-row key checks: %s", error)
    # Django creates every key DEFERRABLE INITIALLY DEFERRED: back to that for the block.
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    yield dropped
    if dropped:
        for table, name, definition in keys:
            # Names and definitions are PostgreSQL's own, read above; nothing comes from input.
            cursor.execute(
                f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}"  # noqa: S608
            )


@contextmanager
def _local_setting(cursor: CursorWrapper, name: str, value: str) -> Iterator[None]:
    """A server setting changed for the block, within the transaction. An error in the block
    leaves it to the rollback (of the transaction or savepoint), which restores it anyway."""
    cursor.execute("SELECT current_setting(%s)", [name])
    (before,) = cursor.fetchone()
    cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
    yield
    cursor.execute("SELECT set_config(%s, %s, true)", [name, before])


SCORE_STAGE_COLUMNS = (
    "student_id bigint, assessment_id bigint, item_id bigint, scored_on date, "
    "points numeric(9,3), normalized double precision, rubric_level varchar(60), "
    "status varchar(20), comment text, source_system varchar(40), source_id varchar(255)"
)


@transaction.atomic
def scores_record_bulk(
    *, scores: Iterable[ScoreInput], source: str = ScoreSource.IMPORTED
) -> ScoresRecorded:
    """scores_record for imports of many scores: the same matching, normalizing, unchanged
    check, evidence and pending marks, set-based on PostgreSQL (COPY into a staging table, then
    a few INSERT ... ON CONFLICT statements), so a million scores never become model objects.

    Enqueues nothing: the caller passes `estimate_ids` to mastery_recompute_enqueue once, so each
    affected (student, standard) is recomputed once after the import commits. Other databases
    go through scores_record in batches. Inputs must not repeat (student, assessment, item,
    date); references are the caller's to check (a foreign key error aborts the transaction).
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        result = ScoresRecorded()
        batch: list[ScoreInput] = []
        for score in [*scores, None]:
            if score is not None:
                batch.append(score)
            if batch and (score is None or len(batch) >= 5000):
                recorded = scores_record(scores=batch, source=source, enqueue=False)
                result.created += recorded.created
                result.updated += recorded.updated
                result.unchanged += recorded.unchanged
                result.estimate_ids.extend(recorded.estimate_ids)
                batch = []
        result.estimate_ids = sorted(set(result.estimate_ids))
        result.pairs_marked = len(result.estimate_ids)
        return result
    return _scores_bulk_postgresql(scores, source)


def _scores_bulk_postgresql(scores: Iterable[ScoreInput], source: str) -> ScoresRecorded:
    from django.db import connection

    now = timezone.now()
    result = ScoresRecorded()
    with connection.cursor() as cursor:
        for table in (
            "score_stage",
            "score_rows",
            "score_changed",
            "score_pairs",
            "score_pair_marks",
        ):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TEMP TABLE score_stage ({SCORE_STAGE_COLUMNS}) ON COMMIT DROP")
        staged = 0
        with cursor.cursor.copy(
            "COPY score_stage (student_id, assessment_id, item_id, scored_on, points, normalized,"
            " rubric_level, status, comment, source_system, source_id) FROM STDIN"
        ) as copy:
            for s in scores:
                copy.write_row(
                    (
                        s.student_id,
                        s.assessment_id,
                        s.item_id,
                        s.scored_on,
                        s.points,
                        s.normalized,
                        s.rubric_level,
                        s.status,
                        s.comment,
                        s.source_system,
                        s.source_id,
                    )
                )
                staged += 1
        if not staged:
            return result
        # Sorts and hashes over the staged rows in memory rather than in temporary files (the
        # server's default is sized for many small queries).
        with (
            _local_setting(cursor, "work_mem", BULK_WORK_MEM),
            # A few long statements: compiling them costs more than it saves.
            _local_setting(cursor, "jit", "off"),
        ):
            if staged < BULK_FOREIGN_KEY_ROWS:
                _scores_bulk_write(cursor, staged, source, now, result)
            else:
                with _foreign_keys_checked_once(cursor, BULK_TABLES) as locked:
                    _scores_bulk_write(cursor, staged, source, now, result, tables_locked=locked)
    return result


def _scores_bulk_write(
    cursor: CursorWrapper,
    staged: int,
    source: str,
    now: datetime,
    result: ScoresRecorded,
    *,
    tables_locked: bool = False,
) -> None:
    """The set-based writes from the staged scores (score_stage) into `result`. With
    `tables_locked` (this transaction holds the score tables' exclusive locks), nobody else can
    write an estimate meanwhile and the missing ones are inserted without ON CONFLICT."""
    from assessments.models import Trend

    # Each staged score with its district and its points normalized against the item's (else
    # the assessment's) range, as _normalize: one pass into a new table (cheaper than updating
    # the staged rows in place), in the order of the indexes the writes below fill.
    cursor.execute(
        """
        CREATE TEMP TABLE score_rows ON COMMIT DROP AS
        SELECT s.student_id, s.assessment_id, s.item_id, s.scored_on, s.points,
            CASE
                WHEN s.normalized IS NOT NULL OR s.points IS NULL THEN s.normalized
                WHEN r.high IS NULL OR r.high = 0 OR r.high <= r.low THEN NULL
                ELSE LEAST(1.0, GREATEST(0.0, ((s.points - r.low) / (r.high - r.low))::float8))
            END AS normalized,
            s.rubric_level, s.status, s.comment, s.source_system, s.source_id, a.district_id,
            NULL::bigint AS student_assessment_id
        FROM score_stage s
        JOIN assessments_assessment a ON a.id = s.assessment_id
        LEFT JOIN assessments_assessmentitem i ON i.id = s.item_id
        CROSS JOIN LATERAL (
            SELECT CASE WHEN s.item_id IS NULL THEN a.min_points ELSE 0 END AS low,
                   COALESCE(NULLIF(i.max_points, 0), a.max_points) AS high
        ) r
        ORDER BY s.student_id, s.assessment_id, s.scored_on, s.item_id
        """
    )
    cursor.execute("DROP TABLE score_stage")
    cursor.execute("ANALYZE score_rows")
    cursor.execute("SELECT EXISTS (SELECT 1 FROM score_rows WHERE item_id IS NOT NULL)")
    (has_item_scores,) = cursor.fetchone()
    # One StudentAssessment per (student, assessment, administration date). Plain inserts of the
    # missing ones (an anti-join, as scores_record's bulk_create): ON CONFLICT's speculative
    # insertion costs every row, and a result written meanwhile by someone else fails the import
    # on the unique constraint instead of being merged, with nothing half-written. Without item
    # scores each staged row is a result of its own (inputs do not repeat), already in key order
    # as score_rows was written: then neither DISTINCT nor a sort is needed.
    distinct, in_key_order = (
        ("DISTINCT", "ORDER BY r.student_id, r.assessment_id, r.scored_on")
        if has_item_scores
        else ("", "")
    )
    cursor.execute(
        f"""
        INSERT INTO assessments_studentassessment (source_system, source_id, is_active,
            created_at, updated_at, district_id, student_id, assessment_id, administered_on,
            status)
        SELECT {distinct} '', '', true, %s::timestamptz, %s::timestamptz, r.district_id,
            r.student_id, r.assessment_id, r.scored_on, %s
        FROM score_rows r
        WHERE NOT EXISTS (
            SELECT 1 FROM assessments_studentassessment sa
            WHERE sa.student_id = r.student_id AND sa.assessment_id = r.assessment_id
              AND sa.administered_on = r.scored_on)
        {in_key_order}
        """,  # noqa: S608 (the clauses are constants)
        [now, now, ScoreStatus.SCORED],
    )
    cursor.execute(
        """
        UPDATE score_rows r SET student_assessment_id = sa.id
        FROM assessments_studentassessment sa
        WHERE sa.student_id = r.student_id AND sa.assessment_id = r.assessment_id
          AND sa.administered_on = r.scored_on
        """
    )
    cursor.execute("ANALYZE score_rows")  # the update left a dead row behind each live one
    # The changed scores' ids with their result and item: joined back to score_rows below, so
    # that the pairs are built without reading the score and result tables again.
    cursor.execute(
        "CREATE TEMP TABLE score_changed (id bigint, student_assessment_id bigint,"
        " item_id bigint, inserted boolean) ON COMMIT DROP"
    )
    compared = ("points", "rubric_level", "normalized", "status", "comment")
    # Scores that exist and differ are updated, then the missing ones inserted, whole-assessment
    # scores (no item) and item scores apart so that each join is a plain equality.
    for same_item, where in (
        ("sc.item_id IS NULL", "r.item_id IS NULL"),
        ("sc.item_id = r.item_id", "r.item_id IS NOT NULL"),
    ):
        cursor.execute(
            f"""
            WITH updated AS (
                UPDATE assessments_score sc SET
                    {", ".join(f"{c} = r.{c}" for c in compared)}, updated_at = %s
                FROM score_rows r
                WHERE {where} AND sc.student_assessment_id = r.student_assessment_id
                  AND {same_item}
                  AND ({", ".join(f"sc.{c}" for c in compared)})
                      IS DISTINCT FROM ({", ".join(f"r.{c}" for c in compared)})
                RETURNING sc.id, sc.student_assessment_id, sc.item_id
            )
            INSERT INTO score_changed SELECT id, student_assessment_id, item_id, false
            FROM updated
            """,  # noqa: S608 (column names are constants)
            [now],
        )
        cursor.execute(
            f"""
            WITH inserted AS (
                INSERT INTO assessments_score (district_id, student_assessment_id, item_id,
                    student_id, points, rubric_level, normalized, scored_on, status, source,
                    comment, source_system, source_id, entered_by_id, created_at, updated_at)
                SELECT r.district_id, r.student_assessment_id, r.item_id, r.student_id,
                    r.points, r.rubric_level, r.normalized, r.scored_on, r.status, %s,
                    r.comment, r.source_system, r.source_id, NULL, %s, %s
                FROM score_rows r
                WHERE {where} AND NOT EXISTS (
                    SELECT 1 FROM assessments_score sc
                    WHERE sc.student_assessment_id = r.student_assessment_id AND {same_item})
                ORDER BY r.student_assessment_id, r.item_id
                RETURNING id, student_assessment_id, item_id
            )
            INSERT INTO score_changed SELECT id, student_assessment_id, item_id, true
            FROM inserted
            """,  # noqa: S608 (column names are constants)
            [source, now, now],
        )
    cursor.execute(
        "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted)"
        " FROM score_changed"
    )
    result.created, result.updated = cursor.fetchone()
    cursor.execute("ANALYZE score_changed")
    result.unchanged = staged - result.created - result.updated
    if not result.created and not result.updated:
        return
    # Each changed score's standards: its item's alignment, else its assessment's. A result
    # holds one score per item and one without, so (result, item) finds each changed score's
    # staged row; whole-assessment and item scores apart, so that each join is a plain equality
    # the planner can estimate (it then hashes the alignments instead of probing them per row).
    cursor.execute(
        """
        CREATE TEMP TABLE score_pairs ON COMMIT DROP AS
        SELECT c.id AS score_id, r.student_id, st.standard_id, r.item_id, r.assessment_id,
               r.scored_on, r.normalized, r.status, c.inserted
        FROM score_changed c
        JOIN score_rows r
            ON r.student_assessment_id = c.student_assessment_id AND r.item_id IS NULL
        JOIN assessments_assessment_standards st ON st.assessment_id = r.assessment_id
        WHERE c.item_id IS NULL
        UNION ALL
        SELECT c.id, r.student_id, st.standard_id, r.item_id, r.assessment_id,
               r.scored_on, r.normalized, r.status, c.inserted
        FROM score_changed c
        JOIN score_rows r
            ON r.student_assessment_id = c.student_assessment_id AND r.item_id = c.item_id
        JOIN assessments_assessmentitem_standards st ON st.assessmentitem_id = r.item_id
        WHERE c.item_id IS NOT NULL
        """
    )
    cursor.execute("ANALYZE score_pairs")
    # Only a changed score can have evidence already (a new one has none yet).
    cursor.execute(
        "DELETE FROM assessments_masteryevidence WHERE score_id IN "
        "(SELECT id FROM score_changed WHERE NOT inserted)"
    )
    cursor.execute(
        """
        INSERT INTO assessments_masteryevidence (score_id, student_id, standard_id,
            item_key, observed_on, value)
        SELECT score_id, student_id, standard_id,
               CASE WHEN item_id IS NOT NULL THEN 'i' || item_id ELSE 'a' || assessment_id END,
               scored_on, normalized
        FROM score_pairs WHERE normalized IS NOT NULL AND status = ANY(%s)
        ORDER BY student_id, standard_id, scored_on
        """,
        [[str(status) for status in EVIDENCE_STATUSES]],
    )
    # Pending marks, as estimates_mark_pending; a correction, or evidence dated before what
    # the estimate already reflects, needs a full recompute. Existing estimates are updated
    # first and only then are the missing ones inserted (already pending), so that a first
    # import writes each estimate row once, not twice.
    cursor.execute(
        """
        CREATE TEMP TABLE score_pair_marks ON COMMIT DROP AS
        SELECT student_id, standard_id, bool_or(NOT inserted) AS corrected,
               min(scored_on) FILTER (
                   WHERE normalized IS NOT NULL AND status = ANY(%s)) AS earliest
        FROM score_pairs GROUP BY student_id, standard_id
        ORDER BY student_id, standard_id
        """,
        [[str(status) for status in EVIDENCE_STATUSES]],
    )
    cursor.execute("ANALYZE score_pair_marks")
    cursor.execute(
        """
        UPDATE assessments_masteryestimate e
        SET pending_since = %s,
            needs_full_recompute = e.needs_full_recompute OR p.corrected
                OR (e.latest_observed_on IS NOT NULL AND p.earliest < e.latest_observed_on)
        FROM score_pair_marks p
        WHERE e.student_id = p.student_id AND e.standard_id = p.standard_id
        RETURNING e.id
        """,
        [now],
    )
    estimate_ids = [row[0] for row in cursor.fetchall()]
    # Someone else may insert an estimate meanwhile unless the tables are locked: then the
    # speculative insertion of ON CONFLICT is needed, otherwise a plain anti-join is cheaper.
    missing_only = (
        """WHERE NOT EXISTS (
            SELECT 1 FROM assessments_masteryestimate e
            WHERE e.student_id = p.student_id AND e.standard_id = p.standard_id)
        ORDER BY p.student_id, p.standard_id"""
        if tables_locked
        else "ORDER BY p.student_id, p.standard_id ON CONFLICT (student_id, standard_id) DO NOTHING"
    )
    cursor.execute(
        f"""
        INSERT INTO assessments_masteryestimate (student_id, standard_id, probability,
            level, evidence_count, trend, method, computed_at, latest_observed_on,
            latest_evidence_id, state, pending_since, needs_full_recompute)
        SELECT p.student_id, p.standard_id, NULL::float8, 0, 0, %s, '',
            NULL::timestamptz, NULL::date, NULL::bigint, '{{}}'::jsonb, %s::timestamptz, false
        FROM score_pair_marks p
        {missing_only}
        RETURNING id
        """,  # noqa: S608 (the clause is one of two constants)
        [Trend.FLAT, now],
    )
    estimate_ids.extend(row[0] for row in cursor.fetchall())
    if estimate_ids:
        cursor.execute("SELECT DISTINCT district_id FROM score_rows")
        mastery_changed_on_commit(row[0] for row in cursor.fetchall())
    result.estimate_ids = sorted(estimate_ids)
    result.pairs_marked = len(result.estimate_ids)
    for table in ("score_rows", "score_changed", "score_pairs", "score_pair_marks"):
        cursor.execute(f"DROP TABLE {table}")

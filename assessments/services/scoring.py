"""Recording scores: scores_record is the only way a score is written one at a time or as a
teacher's grid. It keeps the evidence the engine reads and marks the affected (student,
standard) estimates pending in one transaction."""

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple, cast

from django.db import transaction
from django.utils import timezone

from assessments.models import (
    Assessment,
    AssessmentItem,
    MasteryEvidence,
    Score,
    ScoreSource,
    ScoreStatus,
    StudentAssessment,
)
from assessments.services.recompute import (
    estimates_latest,
    estimates_mark_pending,
    mastery_recompute_enqueue,
)
from assessments.signals import (
    mastery_changed_for_students_on_commit,
)

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)


# Statuses whose score counts as evidence of mastery; exempt and missing do not.
EVIDENCE_STATUSES = {ScoreStatus.SCORED, ScoreStatus.LATE}


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
    # The vendor columns of the row the score came from (VendorColumns); None leaves a stored
    # score's as they are (a teacher's correction of an imported score keeps them).
    source_extra: dict | None = None


@dataclass
class ScoresRecorded:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    pairs_marked: int = 0
    estimate_ids: list[int] = field(default_factory=list)


def score_normalize(
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
            normalized = score_normalize(
                entry.points,
                item.max_points if item and item.max_points else assessment.max_points,
                Decimal(0) if item else assessment.min_points,
            )
        if normalized is not None and not 0.0 <= normalized <= 1.0:
            raise ValueError(f"A normalized score must lie in 0..1, not {normalized}.")
        student_assessment = existing_results[
            (entry.student_id, entry.assessment_id, entry.scored_on)
        ]
        values: dict[str, object] = {
            "points": entry.points,
            "rubric_level": entry.rubric_level,
            "normalized": normalized,
            "status": entry.status,
            "comment": entry.comment,
        }
        if entry.source_extra is not None:
            values["source_extra"] = entry.source_extra
        current = existing_scores.get((student_assessment.pk, entry.item_id))
        if current is None:
            new_score = Score(
                district_id=assessment.district_id,
                student_assessment=student_assessment,
                item_id=entry.item_id,
                student_id=entry.student_id,
                scored_on=entry.scored_on,
                source=source,
                source_system=entry.source_system,
                source_id=entry.source_id,
                entered_by=(
                    cast("User", acting_user)
                    if getattr(acting_user, "is_authenticated", False)
                    else None
                ),
                **values,
            )
            to_create.append(new_score)
            existing_scores[(student_assessment.pk, entry.item_id)] = new_score
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
            [
                "points",
                "rubric_level",
                "normalized",
                "status",
                "comment",
                "source_extra",
                "updated_at",
            ],
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
        for student_id, standard_id, latest in estimates_latest(pairs):
            key = (student_id, standard_id)
            if latest and key in earliest and earliest[key] < latest:
                late_pairs.add(key)
    return pairs, late_pairs

"""Writes of scores and mastery, by purpose: `scoring` (scores_record: a score or a teacher's
grid), `bulk_sql` (scores_record_bulk: imports, set-based on PostgreSQL), `recompute` (estimates
marked pending and their recompute enqueued), `overrides`, `authoring` (assessment_create),
`model_fit` and `release` (a section's levels released to families). Scores are written only
through scores_record and scores_record_bulk; both mark the affected (student, standard)
estimates pending in the same transaction. The names below are the app's whole write surface."""

from assessments.services.authoring import assessment_create
from assessments.services.bulk_sql import scores_record_bulk
from assessments.services.model_fit import ModelFitResult, mastery_model_fit
from assessments.services.overrides import mastery_override_clear, mastery_override_set
from assessments.services.recompute import (
    RECOMPUTE_BATCH,
    estimates_mark_pending,
    mastery_recompute_enqueue,
)
from assessments.services.release import section_mastery_release
from assessments.services.scoring import (
    EVIDENCE_STATUSES,
    ScoreInput,
    ScoresRecorded,
    scores_record,
)

__all__ = [
    "EVIDENCE_STATUSES",
    "RECOMPUTE_BATCH",
    "ModelFitResult",
    "ScoreInput",
    "ScoresRecorded",
    "assessment_create",
    "estimates_mark_pending",
    "mastery_model_fit",
    "mastery_override_clear",
    "mastery_override_set",
    "mastery_recompute_enqueue",
    "scores_record",
    "scores_record_bulk",
    "section_mastery_release",
]

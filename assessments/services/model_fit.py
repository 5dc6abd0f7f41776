"""Fitting the learned mastery model on a district's own scores, then rebuilding the district's
estimates under the new fit."""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from assessments.models import (
    MasteryEstimate,
    MasteryEvidence,
)
from assessments.services.recompute import mastery_recompute_enqueue


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

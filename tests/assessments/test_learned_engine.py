"""The learned model inside the engine: the default method once a district has a fit, updated
incrementally per score, identical to a replay of the scores, rebuilt after a late score or a
refit."""

import datetime as dt
import json
from decimal import Decimal

import pytest

from assessments.engine import estimates_recompute
from assessments.estimators import LogisticTracer
from assessments.methods import DEFAULT_METHOD, FALLBACK_METHOD
from assessments.models import (
    Assessment,
    LearnerState,
    MasteryEstimate,
    MasteryEvidence,
    MasteryModelFit,
    Standard,
)
from assessments.services import ScoreInput, mastery_model_fit, scores_record
from tests import factories
from tests.assessments.test_model_fit import _simulated_district

pytestmark = pytest.mark.django_db


def _recompute_all() -> None:
    estimates_recompute(list(MasteryEstimate.objects.values_list("pk", flat=True)))


def _replayed_probability(
    tracer: LogisticTracer, student_id: int, standard_id: int, newest_value: float | None = None
) -> float:
    """The reference: the model applied to the student's whole evidence, oldest first
    (with the newest response's value replaced, for a counterfactual)."""
    responses = [
        (item_key, str(skill), value)
        for item_key, skill, value in MasteryEvidence.objects.filter(student_id=student_id)
        .order_by("observed_on", "id")
        .values_list("item_key", "standard_id", "value")
    ]
    if newest_value is not None:
        item_key, skill, _ = responses[-1]
        responses[-1] = (item_key, skill, newest_value)
    overall, by_skill = tracer.replay(responses)
    return tracer.mastery_probability(
        skill_counters=by_skill[str(standard_id)],
        overall_counters=overall,
        skill=str(standard_id),
    )


def _new_score(district_id: int, student_id: int, standard: Standard, day: dt.date, points: int):
    assessment = Assessment.objects.create(
        district_id=district_id, title=f"Exit ticket {day}", max_points=1, due_on=day
    )
    assessment.standards.add(standard)
    return scores_record(
        scores=[
            ScoreInput(
                student_id=student_id,
                assessment_id=assessment.pk,
                points=Decimal(points),
                scored_on=day,
            )
        ],
        enqueue=False,
    )


def test_the_default_is_the_learned_model_and_falls_back_until_a_fit_exists() -> None:
    assert DEFAULT_METHOD == "best_lr_recency"
    district_id = _simulated_district()
    _recompute_all()
    # No fit yet: the best Canvas method, so a new district still sees estimates.
    assert set(MasteryEstimate.objects.values_list("method", flat=True)) == {FALLBACK_METHOD}

    mastery_model_fit(district_id=district_id, enqueue=False)
    _recompute_all()
    assert set(MasteryEstimate.objects.values_list("method", flat=True)) == {DEFAULT_METHOD}
    assert not LearnerState.objects.filter(fit=None).exists()


def test_learned_estimates_equal_a_replay_of_the_scores() -> None:
    district_id = _simulated_district()
    mastery_model_fit(district_id=district_id, enqueue=False)
    _recompute_all()
    tracer = LogisticTracer.from_json(MasteryModelFit.objects.get(is_active=True).parameters)
    for estimate in MasteryEstimate.objects.order_by("pk")[:12]:
        expected = _replayed_probability(tracer, estimate.student_id, estimate.standard_id)
        assert estimate.probability == pytest.approx(expected, abs=1e-9)
        assert estimate.evidence_count == 4  # 12 weekly quizzes over 3 standards


def test_a_new_score_updates_incrementally_and_matches_the_replay() -> None:
    district_id = _simulated_district()
    mastery_model_fit(district_id=district_id, enqueue=False)
    _recompute_all()
    tracer = LogisticTracer.from_json(MasteryModelFit.objects.get(is_active=True).parameters)
    estimate = MasteryEstimate.objects.order_by("pk").first()
    assert estimate is not None
    standard = estimate.standard
    before = estimate.probability
    state_before = LearnerState.objects.get(student_id=estimate.student_id)

    result = _new_score(district_id, estimate.student_id, standard, dt.date(2026, 12, 1), 1)
    estimates_recompute(result.estimate_ids)

    estimate.refresh_from_db()
    state = LearnerState.objects.get(student_id=estimate.student_id)
    # Folded in, not rebuilt: one more attempt on the learner state of the same fit.
    assert state.counters["attempts"] == state_before.counters["attempts"] + 1
    assert estimate.evidence_count == 5
    assert estimate.probability != before
    expected = _replayed_probability(tracer, estimate.student_id, standard.pk)
    assert estimate.probability == pytest.approx(expected, abs=1e-9)
    # The new response is the one that counts: the estimate differs from what a wrong answer
    # would have given. (Its direction is the fit's: on 1,200 simulated responses the weights
    # are too noisy to promise that a correct answer always raises it.)
    had_it_been_wrong = _replayed_probability(tracer, estimate.student_id, standard.pk, 0.0)
    assert estimate.probability != pytest.approx(had_it_been_wrong, abs=1e-6)


def test_a_late_score_rebuilds_the_student_and_the_pair_in_date_order() -> None:
    district_id = _simulated_district()
    mastery_model_fit(district_id=district_id, enqueue=False)
    _recompute_all()
    tracer = LogisticTracer.from_json(MasteryModelFit.objects.get(is_active=True).parameters)
    estimate = MasteryEstimate.objects.order_by("pk").first()
    assert estimate is not None

    # Dated before everything the estimate already reflects.
    result = _new_score(
        district_id, estimate.student_id, estimate.standard, dt.date(2026, 8, 15), 0
    )
    estimates_recompute(result.estimate_ids)

    estimate.refresh_from_db()
    expected = _replayed_probability(tracer, estimate.student_id, estimate.standard_id)
    assert estimate.probability == pytest.approx(expected, abs=1e-9)
    assert LearnerState.objects.get(student_id=estimate.student_id).latest_observed_on == (
        MasteryEvidence.objects.filter(student_id=estimate.student_id)
        .order_by("-observed_on")
        .values_list("observed_on", flat=True)
        .first()
    )


def test_a_refit_rebuilds_every_estimate_under_the_new_parameters(
    eager_celery, django_capture_on_commit_callbacks
) -> None:
    district_id = _simulated_district()
    mastery_model_fit(district_id=district_id, enqueue=False)
    _recompute_all()
    first_fit = MasteryModelFit.objects.get(is_active=True)

    # More evidence, then a refit: the fit enqueues the district's estimates (eager here).
    student = factories.StudentFactory.create(district_id=district_id)
    standard = Standard.objects.filter(district_id=district_id).first()
    assert standard is not None
    _new_score(district_id, student.pk, standard, dt.date(2026, 12, 2), 1)
    with django_capture_on_commit_callbacks(execute=True):
        mastery_model_fit(district_id=district_id)

    second_fit = MasteryModelFit.objects.get(is_active=True)
    assert second_fit.pk != first_fit.pk
    assert not MasteryEstimate.objects.filter(pending_since__isnull=False).exists()
    assert set(LearnerState.objects.values_list("fit_id", flat=True)) == {second_fit.pk}
    tracer = LogisticTracer.from_json(second_fit.parameters)
    for estimate in MasteryEstimate.objects.order_by("pk")[:5]:
        assert estimate.state["fit"] == second_fit.pk
        expected = _replayed_probability(tracer, estimate.student_id, estimate.standard_id)
        assert estimate.probability == pytest.approx(expected, abs=1e-9)


def test_a_large_district_is_fitted_on_a_fixed_sample_of_whole_students() -> None:
    district_id = _simulated_district()
    first = mastery_model_fit(
        district_id=district_id, max_responses=120, min_responses=50, enqueue=False
    )
    again = mastery_model_fit(
        district_id=district_id, max_responses=120, min_responses=50, enqueue=False
    )
    # Whole students (12 responses each) until the cap: 10 students, the same ones each time.
    assert first.responses == again.responses == 120
    assert first.students == 10
    fit = MasteryModelFit.objects.get(is_active=True)
    assert fit.metrics["students_sampled"] == 10
    assert fit.metrics["students_with_evidence"] == 100


@pytest.mark.django_db(transaction=True)
def test_recompute_in_two_processes_gives_what_one_process_gives(capsys) -> None:
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("--processes needs PostgreSQL (SQLite allows one writer)")
    district_id = _simulated_district(students=60)
    mastery_model_fit(district_id=district_id, enqueue=False)
    call_command("recompute_mastery", "--all", "--json")
    one = dict(MasteryEstimate.objects.values_list("pk", "probability"))
    MasteryEstimate.objects.update(probability=None, level=0, state={})

    call_command("recompute_mastery", "--all", "--processes", "2", "--json")

    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["estimates"] == len(one) == 180 and report["processes"] == 2
    two = dict(MasteryEstimate.objects.values_list("pk", "probability"))
    assert two == pytest.approx(one, abs=1e-12)
    assert not MasteryEstimate.objects.filter(pending_since__isnull=False).exists()


def test_more_than_one_process_is_refused_on_sqlite() -> None:
    from django.core.management import CommandError, call_command
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the refusal is SQLite's")
    with pytest.raises(CommandError, match="needs PostgreSQL"):
        call_command("recompute_mastery", "--all", "--processes", "2")

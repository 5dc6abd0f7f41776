"""The mastery estimators: Canvas methods against hand-worked arithmetic, incremental == batch, and
the learned model's features, fallbacks, persistence and recompute-from-scratch."""

import json
import math
import random
from typing import cast

import pytest

from assessments.estimators import (
    CANVAS_METHODS,
    FEATURE_SETS,
    Average,
    DecayingAverage,
    FeatureSet,
    Highest,
    Latest,
    LogisticTracer,
    NMastery,
    Response,
    StandardDecayingAverage,
    average,
    canvas_estimate_incrementally,
    canvas_method,
    decaying_average,
    highest,
    latest,
    n_mastery,
    standard_decaying_average,
)

# Canvas's own spec example (rollup specs): points 1, 2, 3, 4, 5 of 5, oldest first.
CANVAS_EXAMPLE = [0.2, 0.4, 0.6, 0.8, 1.0]


# ---- Canvas methods, batch ----------------------------------------------------------------------


def test_decaying_average_weights_latest_against_mean_of_older():
    # 0.65 * 1.0 + 0.35 * (0.2 + 0.4 + 0.6 + 0.8) / 4 = 0.65 + 0.35 * 0.5 = 0.825
    # (Canvas: 4.125 of 5 points, shown as 4.13)
    assert decaying_average(CANVAS_EXAMPLE) == pytest.approx(0.825)
    # 0.8 * 0.3 + 0.2 * (0.9 + 0.6) / 2 = 0.24 + 0.15 = 0.39
    assert decaying_average([0.9, 0.6, 0.3], weight=0.8) == pytest.approx(0.39)


def test_decaying_average_of_one_score_is_that_score_and_of_none_is_none():
    assert decaying_average([0.4]) == 0.4
    assert decaying_average([]) is None


def test_standard_decaying_average_folds_each_score_in():
    # d1 = 0.2
    # d2 = 0.35 * 0.2      + 0.65 * 0.4 = 0.07       + 0.26 = 0.33
    # d3 = 0.35 * 0.33     + 0.65 * 0.6 = 0.1155     + 0.39 = 0.5055
    # d4 = 0.35 * 0.5055   + 0.65 * 0.8 = 0.176925   + 0.52 = 0.696925
    # d5 = 0.35 * 0.696925 + 0.65 * 1.0 = 0.24392375 + 0.65 = 0.89392375
    # (Canvas: 4.4696 of 5 points, shown as 4.47)
    assert standard_decaying_average(CANVAS_EXAMPLE) == pytest.approx(0.89392375)
    assert standard_decaying_average([0.7]) == 0.7
    assert standard_decaying_average([]) is None


def test_n_mastery_averages_every_score_at_or_above_mastery_once_there_are_n():
    # Scores >= 0.6: 0.6, 0.8, 1.0 -> three masteries; (0.6 + 0.8 + 1.0) / 3 = 0.8 (Canvas: 4 of 5)
    assert n_mastery(CANVAS_EXAMPLE, n=3, mastery_threshold=0.6) == pytest.approx(0.8)
    # Not the top n only: n=2 still averages all three masteries.
    assert n_mastery(CANVAS_EXAMPLE, n=2, mastery_threshold=0.6) == pytest.approx(0.8)
    # Four needed, three met: Canvas shows no result.
    assert n_mastery(CANVAS_EXAMPLE, n=4, mastery_threshold=0.6) is None
    # Canvas defaults: n=5 at 3/5.
    assert n_mastery([1.0, 1.0, 1.0, 1.0, 0.0, 0.6]) == pytest.approx(4.6 / 5)
    assert n_mastery([1.0, 1.0, 1.0, 1.0, 0.0]) is None


def test_latest_highest_average():
    scores = [0.3, 0.9, 0.5]
    assert latest(scores) == 0.5
    assert highest(scores) == 0.9
    assert average(scores) == pytest.approx((0.3 + 0.9 + 0.5) / 3)
    assert latest([]) is None and highest([]) is None and average([]) is None


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_scores_outside_zero_to_one_are_rejected(bad):
    with pytest.raises(ValueError, match="0..1"):
        average([0.5, bad])


@pytest.mark.parametrize("weight", [0.0, 1.0, 65])
def test_weights_must_be_fractions(weight):
    with pytest.raises(ValueError, match="weight"):
        DecayingAverage(weight=weight)
    with pytest.raises(ValueError, match="weight"):
        standard_decaying_average([0.5], weight=weight)


# ---- Canvas methods, incremental ----------------------------------------------------------------


def test_registry_names_every_canvas_method():
    assert set(CANVAS_METHODS) == {
        "decaying_average",
        "standard_decaying_average",
        "n_mastery",
        "latest",
        "highest",
        "average",
    }
    assert cast(NMastery, canvas_method("n_mastery", n=2)).n == 2
    with pytest.raises(ValueError, match="unknown Canvas method"):
        canvas_method("median")


ALL_CONFIGURED = [
    DecayingAverage(),
    DecayingAverage(weight=0.3),
    StandardDecayingAverage(),
    StandardDecayingAverage(weight=0.9),
    NMastery(),
    NMastery(n=2, mastery_threshold=0.75),
    Latest(),
    Highest(),
    Average(),
]


@pytest.mark.parametrize("method", ALL_CONFIGURED, ids=lambda method: repr(method))
def test_incremental_equals_batch_on_every_prefix(method):
    generator = random.Random(7)
    for _ in range(200):
        scores = [
            generator.choice([0.0, 1.0, round(generator.random(), 3)])
            for _ in range(generator.randint(0, 12))
        ]
        state = method.initial_state()
        for end in range(len(scores) + 1):
            batch = method.from_scores(scores[:end])
            incremental = method.estimate(state)
            if batch is None:
                assert incremental is None
            else:
                assert incremental == pytest.approx(batch, rel=1e-12, abs=1e-15)
            if end < len(scores):
                # Through JSON each time, as the state is stored between scores.
                state = json.loads(json.dumps(method.update(state, scores[end])))


def test_update_returns_a_new_state_and_leaves_the_old_one():
    method = DecayingAverage()
    before = method.update(method.initial_state(), 0.4)
    snapshot = dict(before)
    after = method.update(before, 1.0)
    assert before == snapshot
    # 0.65 * 1.0 + 0.35 * 0.4 = 0.79
    assert method.estimate(after) == pytest.approx(0.79)


def test_canvas_estimate_incrementally_matches_the_batch_function():
    assert canvas_estimate_incrementally(
        StandardDecayingAverage(), CANVAS_EXAMPLE
    ) == pytest.approx(standard_decaying_average(CANVAS_EXAMPLE))
    assert canvas_estimate_incrementally(NMastery(n=4), CANVAS_EXAMPLE) is None


# ---- the learned model ---------------------------------------------------------------------------

# A hand-made tracer: one recency rate of 0.5 so the arithmetic stays readable.
HAND_FEATURES = FeatureSet(residual_rates=(0.5,))
HAND_WEIGHTS = {
    "bias": 0.1,
    "item=q1": 0.7,
    "skill=A": -0.2,
    "skill_attempts": 0.3,
    "skill_successes": 0.5,
    "total_attempts": -0.1,
    "total_successes": 0.2,
    "skill_residual_ema0": 1.5,
    "total_residual_ema0": 0.8,
    "skill_attempts@A": 0.05,
    "skill_residual_ema0@A": 0.4,
}


def hand_tracer() -> LogisticTracer:
    return LogisticTracer(
        feature_set=HAND_FEATURES,
        weights=dict(HAND_WEIGHTS),
        item_prior={"q1": 0.8, "q2": 0.4},
        skill_prior={"A": 0.6},
        global_prior=0.5,
        typical_item_weight={"A": 0.25},
        global_typical_item_weight=0.1,
    )


# Responses (item, skill, score), oldest first; q3 and skill B are unknown to the tracer.
HAND_HISTORY = [("q1", "A", 1.0), ("q3", "B", 0.0), ("q2", "A", 0.0)]


def test_update_counters_matches_hand_computation():
    overall, by_skill = hand_tracer().replay(HAND_HISTORY)
    # Skill A: (q1, 1): residual 1 - 0.8 = 0.2, ema = 0.5 * 0 + 0.5 * 0.2 = 0.1
    #          (q2, 0): residual 0 - 0.4 = -0.4, ema = 0.5 * 0.1 + 0.5 * -0.4 = -0.15
    assert by_skill["A"]["attempts"] == 2.0
    assert by_skill["A"]["successes"] == 1.0
    assert by_skill["A"]["residual_ema"] == pytest.approx([-0.15])
    # Skill B: (q3, 0): unknown item and skill -> expected 0.5 (global); ema = 0.5 * -0.5 = -0.25
    assert by_skill["B"]["residual_ema"] == pytest.approx([-0.25])
    # Overall: 0.1, then 0.5 * 0.1 + 0.5 * -0.5 = -0.2, then 0.5 * -0.2 + 0.5 * -0.4 = -0.3
    assert overall["attempts"] == 3.0
    assert overall["successes"] == 1.0
    assert overall["residual_ema"] == pytest.approx([-0.3])


def test_logit_is_weights_dot_hand_computed_features():
    tracer = hand_tracer()
    overall, by_skill = tracer.replay(HAND_HISTORY)
    logit = tracer.logit(
        skill_counters=by_skill["A"], overall_counters=overall, item="q1", skill="A"
    )
    expected = (
        0.1  # bias
        + 0.7  # item=q1
        - 0.2  # skill=A
        + 0.3 * math.log(1 + 2)  # skill attempts: 2 before this one
        + 0.5 * math.log(1 + 1)  # skill successes: 1
        - 0.1 * math.log(1 + 3)  # total attempts: 3
        + 0.2 * math.log(1 + 1)  # total successes: 1
        + 1.5 * -0.15  # skill residual ema
        + 0.8 * -0.3  # total residual ema
        + 0.05 * math.log(1 + 2)  # skill attempts, skill A's own slope
        + 0.4 * -0.15  # skill residual ema, skill A's own slope
    )
    assert logit == pytest.approx(expected, rel=1e-12)
    probability = tracer.predict(
        skill_counters=by_skill["A"], overall_counters=overall, item="q1", skill="A"
    )
    assert probability == pytest.approx(1 / (1 + math.exp(-expected)), rel=1e-12)


def test_unknown_item_falls_back_to_skill_and_unknown_skill_to_shared_weights():
    tracer = hand_tracer()
    overall, by_skill = tracer.replay(HAND_HISTORY)
    known = tracer.logit(
        skill_counters=by_skill["A"], overall_counters=overall, item="q1", skill="A"
    )
    new_item = tracer.logit(
        skill_counters=by_skill["A"], overall_counters=overall, item="never-seen", skill="A"
    )
    assert new_item == pytest.approx(known - 0.7)  # only the item's own weight is gone
    empty = tracer.new_counters()
    new_skill = tracer.logit(skill_counters=empty, overall_counters=overall, item="x", skill="C")
    # bias + total attempts and successes + total residual ema; nothing skill- or item-specific
    assert new_skill == pytest.approx(0.1 - 0.1 * math.log(4) + 0.2 * math.log(2) + 0.8 * -0.3)
    # An unknown item of an unknown skill is expected to score the global rate.
    assert tracer.expected_score(item="x", skill="C") == 0.5
    assert tracer.expected_score(item="x", skill="A") == 0.6
    assert tracer.expected_score(item="q2", skill="A") == 0.4


def test_mastery_probability_uses_a_typical_item_of_the_skill():
    tracer = hand_tracer()
    overall, by_skill = tracer.replay(HAND_HISTORY)
    on_q1 = tracer.logit(
        skill_counters=by_skill["A"], overall_counters=overall, item="q1", skill="A"
    )
    mastery = tracer.mastery_probability(
        skill_counters=by_skill["A"], overall_counters=overall, skill="A"
    )
    # Same logit with q1's weight (0.7) swapped for the typical item weight of A (0.25).
    assert mastery == pytest.approx(1 / (1 + math.exp(-(on_q1 - 0.7 + 0.25))))
    unseen = tracer.mastery_probability(
        skill_counters=tracer.new_counters(), overall_counters=overall, skill="C"
    )
    assert unseen == pytest.approx(
        1 / (1 + math.exp(-(0.1 - 0.1 * math.log(4) + 0.2 * math.log(2) - 0.24 + 0.1)))
    )


def test_fractional_scores_count_as_partial_success():
    tracer = hand_tracer()
    counters = tracer.update_counters(tracer.new_counters(), item="q1", skill="A", score=0.5)
    # residual 0.5 - 0.8 = -0.3, ema = 0.5 * -0.3
    assert counters == {"attempts": 1.0, "successes": 0.5, "residual_ema": [pytest.approx(-0.15)]}
    with pytest.raises(ValueError, match="0..1"):
        tracer.update_counters(counters, item="q1", skill="A", score=2.0)


def simulated_responses(*, students: int, seed: int, prefix: str = "s") -> list[Response]:
    """Students of known ability answering items of known difficulty, improving with practice."""
    generator = random.Random(seed)
    difficulty = {f"{skill}{index}": generator.gauss(0, 1) for skill in "ABC" for index in range(8)}
    responses = []
    for student_number in range(students):
        student = f"{prefix}{student_number}"
        ability = generator.gauss(0, 1)
        practice = dict.fromkeys("ABC", 0)
        for _ in range(45):
            skill = generator.choice("ABC")
            item = f"{skill}{generator.randrange(8)}"
            logit = ability + 0.4 * math.log1p(practice[skill]) - difficulty[item]
            correct = 1.0 if generator.random() < 1 / (1 + math.exp(-logit)) else 0.0
            practice[skill] += 1
            responses.append(Response(student, item, skill, correct))
    return responses


@pytest.fixture(scope="module")
def fitted_tracer() -> LogisticTracer:
    from assessments.estimators import fit_logistic_tracer

    return fit_logistic_tracer(
        simulated_responses(students=60, seed=1), feature_set="best_lr_recency"
    )


def test_fit_recovers_item_difficulty_order(fitted_tracer):
    generator = random.Random(1)
    difficulty = {f"{skill}{index}": generator.gauss(0, 1) for skill in "ABC" for index in range(8)}
    items = sorted(difficulty)
    by_truth = sorted(items, key=difficulty.__getitem__)
    by_fit = sorted(items, key=lambda item: -fitted_tracer.weights[f"item={item}"])
    # Spearman rank correlation between true easiness and fitted item weight.
    rank_fit = {item: rank for rank, item in enumerate(by_fit)}
    n = len(items)
    squared = sum((rank - rank_fit[item]) ** 2 for rank, item in enumerate(by_truth))
    assert 1 - 6 * squared / (n * (n * n - 1)) > 0.8
    assert fitted_tracer.fit_info["responses"] == 60 * 45


def test_recompute_from_scratch_equals_incremental_through_storage(fitted_tracer):
    history = [
        (response.item, response.skill, response.score)
        for response in simulated_responses(students=1, seed=99, prefix="new")
    ]
    history.append(("unseen-item", "A", 0.5))
    # Production: the state lives in JSON columns and gets one update per arriving score.
    stored_overall = json.dumps(fitted_tracer.new_counters())
    stored_by_skill: dict[str, str] = {}
    for item, skill, score in history:
        stored = stored_by_skill.get(skill)
        skill_counters = json.loads(stored) if stored else fitted_tracer.new_counters()
        update = {"item": item, "skill": skill, "score": score}
        stored_by_skill[skill] = json.dumps(fitted_tracer.update_counters(skill_counters, **update))
        stored_overall = json.dumps(
            fitted_tracer.update_counters(json.loads(stored_overall), **update)
        )
    overall, by_skill = fitted_tracer.replay(history)
    assert json.loads(stored_overall) == overall
    assert {skill: json.loads(state) for skill, state in stored_by_skill.items()} == by_skill
    for skill, counters in by_skill.items():
        assert fitted_tracer.mastery_probability(
            skill_counters=json.loads(stored_by_skill[skill]),
            overall_counters=json.loads(stored_overall),
            skill=skill,
        ) == fitted_tracer.mastery_probability(
            skill_counters=counters, overall_counters=overall, skill=skill
        )


def test_parameters_round_trip_through_json(fitted_tracer):
    raw = json.loads(json.dumps(fitted_tracer.to_json()))
    restored = LogisticTracer.from_json(raw)
    assert restored.to_json() == fitted_tracer.to_json()
    overall, by_skill = fitted_tracer.replay([("A1", "A", 1.0), ("B2", "B", 0.0)])
    for item, skill in [("A3", "A"), ("C0", "C"), ("new", "new-skill")]:
        counters = by_skill.get(skill) or fitted_tracer.new_counters()
        arguments = {
            "skill_counters": counters,
            "overall_counters": overall,
            "item": item,
            "skill": skill,
        }
        assert restored.predict(**arguments) == fitted_tracer.predict(**arguments)
    with pytest.raises(ValueError, match="parameter set"):
        LogisticTracer.from_json({**raw, "format": "something-else"})


def test_fit_accepts_fractional_scores():
    from assessments.estimators import fit_logistic_tracer

    generator = random.Random(3)
    responses = [
        Response(f"s{student}", f"{skill}{generator.randrange(3)}", skill, score)
        for student in range(30)
        for skill, score in [("easy", 0.9), ("hard", 0.2)] * 5
    ]
    # Two rows per response with weights 0.9 / 0.1: still a well-defined logistic fit.
    tracer = fit_logistic_tracer(responses, feature_set="pfa")
    empty = tracer.new_counters()
    easy = tracer.mastery_probability(skill_counters=empty, overall_counters=empty, skill="easy")
    hard = tracer.mastery_probability(skill_counters=empty, overall_counters=empty, skill="hard")
    assert easy > 0.7 > 0.35 > hard


def test_named_feature_sets():
    assert set(FEATURE_SETS) == {"irt", "pfa", "best_lr", "best_lr_recency"}
    assert FEATURE_SETS["best_lr_recency"].residual_rates
    assert FeatureSet.from_json(FEATURE_SETS["best_lr"].to_json()) == FEATURE_SETS["best_lr"]

"""Mastery estimators: pure Python, no Django.

Two families live here.

1. The Canvas Learning Mastery Gradebook calculation methods, exactly as Canvas computes them
   (app/models/rollup_score.rb in instructure/canvas-lms), on scores normalized to 0..1. Each has a
   batch form (a function over the pair's scores, oldest first) and an incremental form (a small
   JSON-able state dict, updated in constant time per score) that give the same result.

2. A learned model: logistic regression over knowledge-tracing features (Gervet et al. 2020,
   "When is deep learning the best approach to knowledge tracing?": item and skill one-hots and
   log-scaled counts of prior attempts and successes, per skill and in total), extended with
   exponentially weighted averages of how much better or worse than expected the student did
   recently. Its per-student state is a fixed handful of counters per skill and one set overall,
   so an update is O(1) and a prediction is O(number of features).

Scores everywhere are fractions 0..1; 0/1 correctness is the special case.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, TypedDict

# --------------------------------------------------------------------------------------------------
# Canvas calculation methods
# --------------------------------------------------------------------------------------------------

CANVAS_DEFAULT_WEIGHT = 0.65  # Canvas's default calculation_int (65) for both decaying averages
CANVAS_DEFAULT_N = 5  # Canvas's default calculation_int for "n Number of Times"
CANVAS_DEFAULT_MASTERY = 0.6  # Canvas's default mastery points: 3 of 5


def _check_score(score: float) -> float:
    value = float(score)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"scores are fractions 0..1, got {score!r}")
    return value


def _check_weight(weight: float) -> float:
    if not 0.0 < weight < 1.0:
        raise ValueError(f"weight is a fraction strictly between 0 and 1, got {weight!r}")
    return float(weight)


def decaying_average(
    scores: Sequence[float], *, weight: float = CANVAS_DEFAULT_WEIGHT
) -> float | None:
    """Canvas's legacy "Decaying Average" (shown as "Weighted Average" since 2024).

    ``weight * latest + (1 - weight) * mean(all older scores)``; a single score is returned as is;
    no scores give None. Canvas takes the weight as a percent (calculation_int 1..99, default 65).
    """
    _check_weight(weight)
    if not scores:
        return None
    *older, latest = (_check_score(score) for score in scores)
    if not older:
        return latest
    return weight * latest + (1.0 - weight) * (sum(older) / len(older))


def standard_decaying_average(
    scores: Sequence[float], *, weight: float = CANVAS_DEFAULT_WEIGHT
) -> float | None:
    """Canvas's "Decaying Average" (standard_decaying_average, the true exponential one).

    ``d1 = x1`` and ``dk = (1 - weight) * d(k-1) + weight * xk``: the newest score counts
    ``weight``, everything before it ``1 - weight`` cumulatively. Canvas allows weights 50..99 %,
    default 65.
    """
    _check_weight(weight)
    estimate: float | None = None
    for score in scores:
        value = _check_score(score)
        estimate = value if estimate is None else (1.0 - weight) * estimate + weight * value
    return estimate


def n_mastery(
    scores: Sequence[float],
    *,
    n: int = CANVAS_DEFAULT_N,
    mastery_threshold: float = CANVAS_DEFAULT_MASTERY,
) -> float | None:
    """Canvas's "n Number of Times".

    The student must meet or exceed the mastery threshold at least ``n`` times. Once they have, the
    result is the average of *every* score that met the threshold (scores below it are left out).
    Until then Canvas shows no result: None. (Canvas: calculation_int is n, 1..10, default 5; the
    threshold is the outcome's mastery points over points possible, default 3/5.)
    """
    if n < 1:
        raise ValueError(f"n is at least 1, got {n!r}")
    mastered = [value for value in map(_check_score, scores) if value >= mastery_threshold]
    if len(mastered) < n:
        return None
    return sum(mastered) / len(mastered)


def latest(scores: Sequence[float]) -> float | None:
    """Canvas's "Most Recent Score": the newest score."""
    return _check_score(scores[-1]) if scores else None


def highest(scores: Sequence[float]) -> float | None:
    """Canvas's "Highest Score"."""
    return max(map(_check_score, scores)) if scores else None


def average(scores: Sequence[float]) -> float | None:
    """Canvas's "Average": the mean of all scores."""
    return sum(map(_check_score, scores)) / len(scores) if scores else None


# Incremental forms. A state is a JSON-able dict; update returns a new dict and leaves its input
# alone, so a caller can keep the old state. Key names avoid "count" and "recent", which the
# engine keeps in the same JSON for itself.


@dataclass(frozen=True)
class DecayingAverage:
    """Incremental :func:`decaying_average`: state holds n, the sum of older scores, the latest."""

    weight: float = CANVAS_DEFAULT_WEIGHT
    name: ClassVar[str] = "decaying_average"

    def __post_init__(self) -> None:
        _check_weight(self.weight)

    def initial_state(self) -> dict[str, Any]:
        return {"n": 0, "older_sum": 0.0, "latest": None}

    def update(self, state: Mapping[str, Any], score: float) -> dict[str, Any]:
        value = _check_score(score)
        previous = state["latest"]
        older_sum = state["older_sum"] + previous if previous is not None else state["older_sum"]
        return {"n": state["n"] + 1, "older_sum": older_sum, "latest": value}

    def estimate(self, state: Mapping[str, Any]) -> float | None:
        if state["n"] == 0:
            return None
        if state["n"] == 1:
            return state["latest"]
        older_mean = state["older_sum"] / (state["n"] - 1)
        return self.weight * state["latest"] + (1.0 - self.weight) * older_mean

    def from_scores(self, scores: Sequence[float]) -> float | None:
        return decaying_average(scores, weight=self.weight)


@dataclass(frozen=True)
class StandardDecayingAverage:
    """Incremental :func:`standard_decaying_average`: the state is the running average itself."""

    weight: float = CANVAS_DEFAULT_WEIGHT
    name: ClassVar[str] = "standard_decaying_average"

    def __post_init__(self) -> None:
        _check_weight(self.weight)

    def initial_state(self) -> dict[str, Any]:
        return {"n": 0, "decayed": None}

    def update(self, state: Mapping[str, Any], score: float) -> dict[str, Any]:
        value = _check_score(score)
        previous = state["decayed"]
        decayed = (
            value if previous is None else (1.0 - self.weight) * previous + self.weight * value
        )
        return {"n": state["n"] + 1, "decayed": decayed}

    def estimate(self, state: Mapping[str, Any]) -> float | None:
        return state["decayed"]

    def from_scores(self, scores: Sequence[float]) -> float | None:
        return standard_decaying_average(scores, weight=self.weight)


@dataclass(frozen=True)
class NMastery:
    """Incremental :func:`n_mastery`: only the count and sum of scores at or above mastery matter,
    because Canvas averages all of them (not just the top n)."""

    n: int = CANVAS_DEFAULT_N
    mastery_threshold: float = CANVAS_DEFAULT_MASTERY
    name: ClassVar[str] = "n_mastery"

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"n is at least 1, got {self.n!r}")

    def initial_state(self) -> dict[str, Any]:
        return {"n": 0, "mastered_n": 0, "mastered_sum": 0.0}

    def update(self, state: Mapping[str, Any], score: float) -> dict[str, Any]:
        value = _check_score(score)
        if value >= self.mastery_threshold:
            return {
                "n": state["n"] + 1,
                "mastered_n": state["mastered_n"] + 1,
                "mastered_sum": state["mastered_sum"] + value,
            }
        return {**state, "n": state["n"] + 1}

    def estimate(self, state: Mapping[str, Any]) -> float | None:
        if state["mastered_n"] < self.n:
            return None
        return state["mastered_sum"] / state["mastered_n"]

    def from_scores(self, scores: Sequence[float]) -> float | None:
        return n_mastery(scores, n=self.n, mastery_threshold=self.mastery_threshold)


@dataclass(frozen=True)
class Latest:
    name: ClassVar[str] = "latest"

    def initial_state(self) -> dict[str, Any]:
        return {"n": 0, "latest": None}

    def update(self, state: Mapping[str, Any], score: float) -> dict[str, Any]:
        return {"n": state["n"] + 1, "latest": _check_score(score)}

    def estimate(self, state: Mapping[str, Any]) -> float | None:
        return state["latest"]

    def from_scores(self, scores: Sequence[float]) -> float | None:
        return latest(scores)


@dataclass(frozen=True)
class Highest:
    name: ClassVar[str] = "highest"

    def initial_state(self) -> dict[str, Any]:
        return {"n": 0, "highest": None}

    def update(self, state: Mapping[str, Any], score: float) -> dict[str, Any]:
        value = _check_score(score)
        best = state["highest"]
        return {"n": state["n"] + 1, "highest": value if best is None else max(best, value)}

    def estimate(self, state: Mapping[str, Any]) -> float | None:
        return state["highest"]

    def from_scores(self, scores: Sequence[float]) -> float | None:
        return highest(scores)


@dataclass(frozen=True)
class Average:
    name: ClassVar[str] = "average"

    def initial_state(self) -> dict[str, Any]:
        return {"n": 0, "sum": 0.0}

    def update(self, state: Mapping[str, Any], score: float) -> dict[str, Any]:
        return {"n": state["n"] + 1, "sum": state["sum"] + _check_score(score)}

    def estimate(self, state: Mapping[str, Any]) -> float | None:
        return state["sum"] / state["n"] if state["n"] else None

    def from_scores(self, scores: Sequence[float]) -> float | None:
        return average(scores)


CanvasMethod = DecayingAverage | StandardDecayingAverage | NMastery | Latest | Highest | Average

# Name (as Canvas stores calculation_method) -> class; construct with keyword options, e.g.
# CANVAS_METHODS["n_mastery"](n=3, mastery_threshold=0.75).
CANVAS_METHODS: dict[str, type[CanvasMethod]] = {
    method.name: method
    for method in (DecayingAverage, StandardDecayingAverage, NMastery, Latest, Highest, Average)
}


def canvas_method(name: str, **options: Any) -> CanvasMethod:
    """The Canvas method called ``name`` with its options (``weight``, ``n``, ...)."""
    try:
        method_class = CANVAS_METHODS[name]
    except KeyError:
        raise ValueError(
            f"unknown Canvas method {name!r}; known: {sorted(CANVAS_METHODS)}"
        ) from None
    return method_class(**options)


def canvas_estimate_incrementally(method: CanvasMethod, scores: Iterable[float]) -> float | None:
    """Fold scores through the incremental form (what production does as scores arrive)."""
    state = method.initial_state()
    for score in scores:
        state = method.update(state, score)
    return method.estimate(state)


# --------------------------------------------------------------------------------------------------
# The learned model: logistic knowledge tracing
# --------------------------------------------------------------------------------------------------

LOGISTIC_FORMAT = "trellis.logistic_tracer/1"
# Pseudo-responses that pull a rarely seen item's success rate toward its skill's, and a rare
# skill's toward the global rate.
PRIOR_PSEUDO_COUNT = 5.0
# How fast the recent-performance averages forget: about 10, 3 and 1.4 responses of memory.
DEFAULT_RESIDUAL_RATES = (0.1, 0.3, 0.7)


@dataclass(frozen=True)
class FeatureSet:
    """Which features a logistic tracer uses. The named sets below are what evaluation compares."""

    items: bool = True  # one-hot item: item difficulty (IRT's b)
    skills: bool = True  # one-hot skill: skill difficulty
    skill_counts: bool = True  # log(1 + prior attempts / successes) on this skill (PFA's counts)
    total_counts: bool = True  # the same over all skills
    # Exponentially weighted averages of (score - expected score of the item), per skill and in
    # total, one per rate: an Elo-like "better or worse than expected lately".
    residual_rates: tuple[float, ...] = ()
    per_skill_slopes: bool = True  # each skill gets its own weights for the skill-state features

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "residual_rates": list(self.residual_rates)}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> FeatureSet:
        return cls(**{**raw, "residual_rates": tuple(raw.get("residual_rates", ()))})


FEATURE_SETS: dict[str, FeatureSet] = {
    # Rasch/1PL IRT with unseen students: item difficulty only.
    "irt": FeatureSet(skills=False, skill_counts=False, total_counts=False),
    # Performance Factors Analysis (Pavlik et al. 2009) in Gervet et al.'s log-count form.
    "pfa": FeatureSet(items=False, total_counts=False),
    # Gervet et al.'s best-LR without its time windows (the data has no timestamps) and without
    # per-item repeat counts (they need unbounded state and measured no gain on statics).
    "best_lr": FeatureSet(),
    # best-LR plus recent performance relative to item difficulty: the product default.
    "best_lr_recency": FeatureSet(residual_rates=DEFAULT_RESIDUAL_RATES),
}
DEFAULT_LEARNED_METHOD = "best_lr_recency"


def new_counters(feature_set: FeatureSet) -> dict[str, Any]:
    """An empty learner state: the same shape serves one skill and a student's overall history."""
    return {
        "attempts": 0.0,
        "successes": 0.0,
        "residual_ema": [0.0] * len(feature_set.residual_rates),
    }


def _sigmoid(logit: float) -> float:
    if logit >= 0:
        return 1.0 / (1.0 + math.exp(-logit))
    exp_logit = math.exp(logit)
    return exp_logit / (1.0 + exp_logit)


@dataclass
class LogisticTracer:
    """A fitted logistic knowledge-tracing model.

    State per (student, skill) and per student overall is :func:`new_counters` (a small dict).
    ``update_counters`` folds one score in, ``predict`` gives P(correct) on an item, and
    ``mastery_probability`` P(correct) on a typical item of the skill.
    """

    feature_set: FeatureSet
    weights: dict[str, float]
    item_prior: dict[str, float]  # smoothed training success rate of each item
    skill_prior: dict[str, float]  # ... of each skill
    global_prior: float
    # Frequency-weighted mean item weight per skill: "a typical item" for mastery_probability.
    typical_item_weight: dict[str, float] = field(default_factory=dict)
    global_typical_item_weight: float = 0.0
    fit_info: dict[str, Any] = field(default_factory=dict)

    # ---- state ------------------------------------------------------------------------------

    def new_counters(self) -> dict[str, Any]:
        return new_counters(self.feature_set)

    def expected_score(self, *, item: str, skill: str) -> float:
        """The training success rate of the item, else of its skill, else overall."""
        prior = self.item_prior.get(item)
        if prior is None:
            prior = self.skill_prior.get(skill, self.global_prior)
        return prior

    def update_counters(
        self, counters: Mapping[str, Any], *, item: str, skill: str, score: float
    ) -> dict[str, Any]:
        """Fold one score (0..1) into a skill's or the overall counters; O(1). Returns a new dict.

        A fraction counts as that much success: successes += score, attempts += 1.
        """
        value = _check_score(score)
        residual = value - self.expected_score(item=item, skill=skill)
        rates = self.feature_set.residual_rates
        return {
            "attempts": counters["attempts"] + 1.0,
            "successes": counters["successes"] + value,
            "residual_ema": [
                (1.0 - rate) * old + rate * residual
                for rate, old in zip(rates, counters["residual_ema"], strict=True)
            ],
        }

    # ---- features and prediction ---------------------------------------------------------------

    def features(
        self,
        *,
        skill_counters: Mapping[str, Any],
        overall_counters: Mapping[str, Any],
        item: str | None,
        skill: str,
    ) -> list[tuple[str, float]]:
        """(feature name, value) pairs; ``item=None`` leaves out the item feature."""
        return feature_vector(
            self.feature_set,
            skill_counters=skill_counters,
            overall_counters=overall_counters,
            item=item,
            skill=skill,
        )

    def logit(
        self,
        *,
        skill_counters: Mapping[str, Any],
        overall_counters: Mapping[str, Any],
        item: str,
        skill: str,
    ) -> float:
        weights = self.weights
        # Unknown items and skills have no weight: the item falls back to its skill, the skill to
        # the shared weights and the bias.
        return sum(
            weights.get(name, 0.0) * value
            for name, value in self.features(
                skill_counters=skill_counters,
                overall_counters=overall_counters,
                item=item,
                skill=skill,
            )
        )

    def predict(
        self,
        *,
        skill_counters: Mapping[str, Any],
        overall_counters: Mapping[str, Any],
        item: str,
        skill: str,
    ) -> float:
        """P(correct) on the student's next response to ``item`` (tagged ``skill``)."""
        return _sigmoid(
            self.logit(
                skill_counters=skill_counters,
                overall_counters=overall_counters,
                item=item,
                skill=skill,
            )
        )

    def mastery_probability(
        self, *, skill_counters: Mapping[str, Any], overall_counters: Mapping[str, Any], skill: str
    ) -> float:
        """P(correct) on a typical item of ``skill``: the item-free number shown to teachers."""
        weights = self.weights
        logit = sum(
            weights.get(name, 0.0) * value
            for name, value in self.features(
                skill_counters=skill_counters,
                overall_counters=overall_counters,
                item=None,
                skill=skill,
            )
        )
        if self.feature_set.items:
            logit += self.typical_item_weight.get(skill, self.global_typical_item_weight)
        return _sigmoid(logit)

    # ---- recompute from scratch -----------------------------------------------------------------

    def replay(
        self, responses: Iterable[tuple[str, str, float]]
    ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        """A student's (item, skill, score) responses, oldest first -> (overall, per-skill) state.

        The same updates as production applies one by one, so the result is identical.
        """
        overall = self.new_counters()
        by_skill: dict[str, dict[str, Any]] = {}
        for item, skill, score in responses:
            skill_counters = by_skill.get(skill) or self.new_counters()
            by_skill[skill] = self.update_counters(
                skill_counters, item=item, skill=skill, score=score
            )
            overall = self.update_counters(overall, item=item, skill=skill, score=score)
        return overall, by_skill

    # ---- persistence --------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "format": LOGISTIC_FORMAT,
            "feature_set": self.feature_set.to_json(),
            "weights": dict(self.weights),
            "item_prior": dict(self.item_prior),
            "skill_prior": dict(self.skill_prior),
            "global_prior": self.global_prior,
            "typical_item_weight": dict(self.typical_item_weight),
            "global_typical_item_weight": self.global_typical_item_weight,
            "fit_info": dict(self.fit_info),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> LogisticTracer:
        if raw.get("format") != LOGISTIC_FORMAT:
            raise ValueError(f"not a {LOGISTIC_FORMAT} parameter set: {raw.get('format')!r}")
        return cls(
            feature_set=FeatureSet.from_json(raw["feature_set"]),
            weights={str(k): float(v) for k, v in raw["weights"].items()},
            item_prior={str(k): float(v) for k, v in raw["item_prior"].items()},
            skill_prior={str(k): float(v) for k, v in raw["skill_prior"].items()},
            global_prior=float(raw["global_prior"]),
            typical_item_weight={str(k): float(v) for k, v in raw["typical_item_weight"].items()},
            global_typical_item_weight=float(raw["global_typical_item_weight"]),
            fit_info=dict(raw.get("fit_info", {})),
        )


def feature_vector(
    feature_set: FeatureSet,
    *,
    skill_counters: Mapping[str, Any],
    overall_counters: Mapping[str, Any],
    item: str | None,
    skill: str,
) -> list[tuple[str, float]]:
    """The model's features for one response, from the state *before* it. O(number of features).

    Names: ``bias``, ``item=<id>``, ``skill=<id>``, shared state features (``skill_attempts``,
    ``total_residual_ema0``, ...) and, with per-skill slopes, the skill-state features again as
    ``<name>@<skill>``.
    """
    features: list[tuple[str, float]] = [("bias", 1.0)]
    if feature_set.items and item is not None:
        features.append((f"item={item}", 1.0))
    if feature_set.skills:
        features.append((f"skill={skill}", 1.0))
    state_features: list[tuple[str, float]] = []
    if feature_set.skill_counts:
        state_features.append(("skill_attempts", math.log1p(skill_counters["attempts"])))
        state_features.append(("skill_successes", math.log1p(skill_counters["successes"])))
    if feature_set.total_counts:
        state_features.append(("total_attempts", math.log1p(overall_counters["attempts"])))
        state_features.append(("total_successes", math.log1p(overall_counters["successes"])))
    for index, value in enumerate(skill_counters["residual_ema"]):
        state_features.append((f"skill_residual_ema{index}", value))
    for index, value in enumerate(overall_counters["residual_ema"]):
        state_features.append((f"total_residual_ema{index}", value))
    features.extend(state_features)
    if feature_set.per_skill_slopes:
        # Total counts keep one shared weight (as in best-LR); everything else also gets a
        # per-skill weight, which L2 shrinks toward the shared one for rarely seen skills.
        features.extend(
            (f"{name}@{skill}", value)
            for name, value in state_features
            if not name.startswith("total_") or "residual" in name
        )
    return features


# ---- fitting ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Response:
    student: str
    item: str
    skill: str
    score: float  # 0..1


class CounterUpdate(TypedDict):
    """The keyword arguments of :meth:`LogisticTracer.update_counters` for one response."""

    item: str
    skill: str
    score: float


def _smoothed_priors(
    responses: Sequence[Response],
) -> tuple[dict[str, float], dict[str, float], float]:
    """Success rates of items shrunk toward their skill's, of skills toward the global one."""
    if not responses:
        raise ValueError("no responses to fit on")
    global_rate = sum(response.score for response in responses) / len(responses)
    skill_sums: dict[str, list[float]] = {}
    item_sums: dict[str, list[float]] = {}
    item_skill: dict[str, str] = {}
    for response in responses:
        skill_sums.setdefault(response.skill, [0.0, 0.0])
        skill_sums[response.skill][0] += response.score
        skill_sums[response.skill][1] += 1.0
        item_sums.setdefault(response.item, [0.0, 0.0])
        item_sums[response.item][0] += response.score
        item_sums[response.item][1] += 1.0
        item_skill.setdefault(response.item, response.skill)
    skill_prior = {
        skill: (total + PRIOR_PSEUDO_COUNT * global_rate) / (n + PRIOR_PSEUDO_COUNT)
        for skill, (total, n) in skill_sums.items()
    }
    item_prior = {
        item: (total + PRIOR_PSEUDO_COUNT * skill_prior[item_skill[item]])
        / (n + PRIOR_PSEUDO_COUNT)
        for item, (total, n) in item_sums.items()
    }
    return item_prior, skill_prior, global_rate


def fit_logistic_tracer(
    responses: Sequence[Response],
    *,
    feature_set: FeatureSet | str = DEFAULT_LEARNED_METHOD,
    regularization_c: float = 1.0,
    prior_folds: int = 5,
) -> LogisticTracer:
    """Fit on response logs, each student's rows in time order (students may interleave).

    L2-regularized logistic regression (scikit-learn's liblinear, C=1 by default, not tuned per
    dataset). Item success rates used by the residual features are cross-fitted: a student's
    features use rates computed without that student's fold, so the training features are as
    noisy as they will be on new students. Fractional scores become two weighted rows (label 1
    with weight score, label 0 with weight 1 - score): the same loss as a soft label.
    """
    # Imported here: applying a fitted model needs neither numpy nor scikit-learn.
    import numpy as np
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    if isinstance(feature_set, str):
        feature_set = FEATURE_SETS[feature_set]
    item_prior, skill_prior, global_rate = _smoothed_priors(responses)

    # Cross-fitted tracers that only serve expected_score() while building training features.
    students = sorted({response.student for response in responses})
    fold_of = {student: index % prior_folds for index, student in enumerate(students)}
    fold_tracers = []
    for fold in range(prior_folds):
        held_in = [response for response in responses if fold_of[response.student] != fold]
        fold_item_prior, fold_skill_prior, fold_global = (
            _smoothed_priors(held_in) if held_in else (item_prior, skill_prior, global_rate)
        )
        fold_tracers.append(
            LogisticTracer(feature_set, {}, fold_item_prior, fold_skill_prior, fold_global)
        )

    column_of: dict[str, int] = {}
    rows, columns, values = array("q"), array("q"), array("d")
    labels = array("d")
    overall_by_student: dict[str, dict[str, Any]] = {}
    counters_by_pair: dict[tuple[str, str], dict[str, Any]] = {}
    for row_index, response in enumerate(responses):
        tracer = fold_tracers[fold_of[response.student]]
        overall = overall_by_student.get(response.student) or tracer.new_counters()
        pair = (response.student, response.skill)
        skill_counters = counters_by_pair.get(pair) or tracer.new_counters()
        for name, value in feature_vector(
            feature_set,
            skill_counters=skill_counters,
            overall_counters=overall,
            item=response.item,
            skill=response.skill,
        ):
            if value == 0.0:
                continue
            column = column_of.setdefault(name, len(column_of))
            rows.append(row_index)
            columns.append(column)
            values.append(value)
        labels.append(response.score)
        update: CounterUpdate = {
            "item": response.item,
            "skill": response.skill,
            "score": response.score,
        }
        counters_by_pair[pair] = tracer.update_counters(skill_counters, **update)
        overall_by_student[response.student] = tracer.update_counters(overall, **update)

    matrix = sparse.csr_matrix(
        (
            np.frombuffer(values),
            (np.frombuffer(rows, dtype=np.int64), np.frombuffer(columns, dtype=np.int64)),
        ),
        shape=(len(responses), len(column_of)),
    )
    targets = np.frombuffer(labels)
    fractional = (targets > 0.0) & (targets < 1.0)
    if fractional.any():
        matrix = sparse.vstack([matrix, matrix]).tocsr()
        sample_weight = np.concatenate([targets, 1.0 - targets])
        binary_labels = np.concatenate([np.ones_like(targets), np.zeros_like(targets)])
        keep = sample_weight > 0.0
        matrix, sample_weight, binary_labels = (
            matrix[keep],
            sample_weight[keep],
            binary_labels[keep],
        )
    else:
        sample_weight = None
        binary_labels = targets
    if len(set(binary_labels.tolist())) < 2:
        raise ValueError("training responses are all correct or all wrong: nothing to learn")

    # The "bias" feature is the intercept (liblinear would regularize its own intercept anyway).
    model = LogisticRegression(
        C=regularization_c, solver="liblinear", fit_intercept=False, max_iter=1000
    )
    model.fit(matrix, binary_labels, sample_weight=sample_weight)
    coefficients = model.coef_[0]
    weights = {name: float(coefficients[column]) for name, column in column_of.items()}

    # A typical item of a skill: the frequency-weighted mean of its items' weights.
    typical_sum: dict[str, float] = {}
    typical_n: dict[str, int] = {}
    for response in responses:
        item_weight = weights.get(f"item={response.item}", 0.0)
        typical_sum[response.skill] = typical_sum.get(response.skill, 0.0) + item_weight
        typical_n[response.skill] = typical_n.get(response.skill, 0) + 1
    typical_item_weight = {skill: typical_sum[skill] / typical_n[skill] for skill in typical_sum}
    global_typical = sum(typical_sum.values()) / len(responses)

    return LogisticTracer(
        feature_set=feature_set,
        weights=weights,
        item_prior=item_prior,
        skill_prior=skill_prior,
        global_prior=global_rate,
        typical_item_weight=typical_item_weight if feature_set.items else {},
        global_typical_item_weight=global_typical if feature_set.items else 0.0,
        fit_info={
            "responses": len(responses),
            "students": len(students),
            "items": len(item_prior),
            "skills": len(skill_prior),
            "features": len(column_of),
            "regularization_c": regularization_c,
            "solver_iterations": int(np.max(model.n_iter_)),
        },
    )

"""The Django side of the mastery methods: a district's policy (scale and method) and adapters
that give every estimator in assessments.estimators one incremental interface for the engine."""

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from assessments import estimators
from assessments.models import MasteryModelFit, MasteryPolicy, Standard


@dataclass(frozen=True)
class Level:
    value: int
    name: str
    min: float
    color: str
    symbol: str


@dataclass(frozen=True)
class AttentionThresholds:
    """The district's needs-attention thresholds (MasteryPolicy.attention_*)."""

    recent_days: int = 21
    missing_days: int = 42
    shown: int = 5


# The groups by need (Policy.need_of), worst first.
NEED_RETEACH = "reteach"
NEED_PRACTICE = "practice"
NEED_EXTEND = "extend"
NEED_NONE = "none"


@dataclass(frozen=True)
class Policy:
    """A district's mastery scale and default method, read once per recompute batch."""

    district_id: int
    method: str
    method_options: dict[str, Any]
    levels: tuple[Level, ...]
    mastery_level: int
    no_evidence: Level
    fitted_parameters: dict[str, Any] | None = field(default=None, compare=False)
    fit_id: int | None = None
    fitted_at: Any = None
    attention: AttentionThresholds = field(default_factory=AttentionThresholds)

    @property
    def tracer(self) -> estimators.LogisticTracer | None:
        """The district's fitted learned model, parsed once per fit and process."""
        if self.fit_id is None or self.fitted_parameters is None:
            return None
        return _tracer_for_fit((self.fit_id, self.fitted_at), self.fitted_parameters)

    def level_for(self, probability: float | None) -> int:
        if probability is None:
            return self.no_evidence.value
        for level in self.levels:  # highest first
            if probability >= level.min:
                return level.value
        return self.levels[-1].value

    def level_named(self, value: int) -> Level:
        for level in (*self.levels, self.no_evidence):
            if level.value == value:
                return level
        return self.no_evidence

    @property
    def mastery_threshold(self) -> float:
        return self.level_named(self.mastery_level).min

    @property
    def practice_level(self) -> int | None:
        """The level just below mastery (None when mastery is the lowest level)."""
        below = sorted(level.value for level in self.levels if level.value < self.mastery_level)
        return below[-1] if below else None

    def need_of(self, level: int) -> str:
        """The group by need a level falls in: NEED_RETEACH (two or more levels below mastery),
        NEED_PRACTICE (one below), NEED_EXTEND (at or above), or NEED_NONE (no evidence). The
        one rule behind the standard page's groups and the lesson planner's."""
        if level == self.no_evidence.value:
            return NEED_NONE
        if level >= self.mastery_level:
            return NEED_EXTEND
        if level == self.practice_level:
            return NEED_PRACTICE
        return NEED_RETEACH


def _levels(raw: list[dict]) -> tuple[Level, ...]:
    levels = [
        Level(
            value=int(item["value"]),
            name=str(item["name"]),
            min=float(item.get("min", 0.0)),
            color=str(item.get("color", "#999999")),
            symbol=str(item.get("symbol", item["value"])),
        )
        for item in raw
    ]
    return tuple(sorted(levels, key=lambda level: level.min, reverse=True))


def policy_for_district(district_id: int, *, with_fit: bool = True) -> Policy:
    """The district's scale and method, with its active learned-model fit. Pages that only show
    levels pass with_fit=False: a fit's parameters can run to megabytes, read on every request
    for nothing (such a policy must not go to the engine, which would estimate without it)."""
    stored = MasteryPolicy.objects.filter(district_id=district_id).first()
    fit = (
        MasteryModelFit.objects.filter(district_id=district_id, is_active=True)
        .order_by("-fitted_at")
        .values("pk", "method", "parameters", "fitted_at")
        .first()
        if with_fit
        else None
    )
    nothing = MasteryPolicy.NO_EVIDENCE
    return Policy(
        district_id=district_id,
        method=(stored.method if stored and stored.method else DEFAULT_METHOD),
        method_options=dict(stored.method_options) if stored else {},
        levels=_levels(stored.levels if stored and stored.levels else MasteryPolicy.DEFAULT_LEVELS),
        mastery_level=stored.mastery_level if stored else 3,
        no_evidence=Level(
            nothing["value"], nothing["name"], 0.0, nothing["color"], nothing["symbol"]
        ),
        fitted_parameters=fit["parameters"] if fit else None,
        fit_id=fit["pk"] if fit else None,
        fitted_at=fit["fitted_at"] if fit else None,
        attention=AttentionThresholds(
            recent_days=stored.attention_recent_days,
            missing_days=stored.attention_missing_days,
            shown=stored.attention_shown,
        )
        if stored
        else AttentionThresholds(),
    )


_TRACERS: dict[tuple[int, Any], estimators.LogisticTracer] = {}


def _tracer_for_fit(key: tuple[int, Any], parameters: dict[str, Any]) -> estimators.LogisticTracer:
    # A stored fit never changes. Its id and time together are the cache key, because an id can
    # come back after a rollback or a restore.
    tracer = _TRACERS.get(key)
    if tracer is None:
        if len(_TRACERS) > 16:
            _TRACERS.clear()
        tracer = _TRACERS[key] = estimators.LogisticTracer.from_json(parameters)
    return tracer


@dataclass(frozen=True)
class MethodContext:
    standard_id: int
    policy: Policy
    # The student's learner state across standards (learned model only), already brought up to
    # date with every evidence row of the student.
    overall: dict[str, Any] | None = None


class MasteryMethod(Protocol):
    @property
    def name(self) -> str: ...

    def initial_state(self, context: MethodContext) -> dict[str, Any]: ...

    def update(
        self, state: dict[str, Any], *, value: float, item_key: str, context: MethodContext
    ) -> dict[str, Any]: ...

    def probability(self, state: dict[str, Any], context: MethodContext) -> float | None: ...

    def state_current(self, state: dict[str, Any], context: MethodContext) -> bool:
        """False when the stored state was built under other parameters (a refit)."""
        ...


@lru_cache(maxsize=64)
def _canvas_method(name: str, options: tuple[tuple[str, Any], ...]) -> Any:
    # Method objects are immutable: build each (name, options) once, not once per score.
    return estimators.canvas_method(name, **dict(options))


@dataclass(frozen=True)
class CanvasAdapter:
    """A Canvas calculation method behind the engine's interface; the district's options
    (weight, n, mastery threshold) come from its policy."""

    name: str

    def _method(self, context: MethodContext) -> Any:
        options = context.policy.method_options.get(self.name, {})
        if self.name == "n_mastery":
            options = {"mastery_threshold": context.policy.mastery_threshold, **options}
        return _canvas_method(self.name, tuple(sorted(options.items())))

    def initial_state(self, context: MethodContext) -> dict[str, Any]:
        return {"canvas": self._method(context).initial_state()}

    def update(
        self, state: dict[str, Any], *, value: float, item_key: str, context: MethodContext
    ) -> dict[str, Any]:
        return {**state, "canvas": self._method(context).update(state["canvas"], value)}

    def probability(self, state: dict[str, Any], context: MethodContext) -> float | None:
        return self._method(context).estimate(state["canvas"])

    def state_current(self, state: dict[str, Any], context: MethodContext) -> bool:
        return "canvas" in state


@dataclass(frozen=True)
class LearnedAdapter:
    """The learned model (logistic knowledge tracing, fitted per district by fit_mastery_model).

    The pair's state is its skill counters; the student's counters across all standards arrive in
    the context. A new score updates both in constant time. The state records which fit built
    it, because the counters' "better or worse than expected" part depends on the fitted item
    difficulties: after a refit the pair is rebuilt from its evidence.
    """

    name: str = estimators.DEFAULT_LEARNED_METHOD

    @staticmethod
    def _tracer(context: MethodContext) -> estimators.LogisticTracer:
        tracer = context.policy.tracer
        if tracer is None:  # method_for never picks this method without a fit
            raise LookupError(f"district {context.policy.district_id} has no fitted model")
        return tracer

    def initial_state(self, context: MethodContext) -> dict[str, Any]:
        return {"fit": context.policy.fit_id, "skill": self._tracer(context).new_counters()}

    def update(
        self, state: dict[str, Any], *, value: float, item_key: str, context: MethodContext
    ) -> dict[str, Any]:
        skill = self._tracer(context).update_counters(
            state["skill"], item=item_key, skill=str(context.standard_id), score=value
        )
        return {**state, "skill": skill}

    def probability(self, state: dict[str, Any], context: MethodContext) -> float | None:
        tracer = self._tracer(context)
        return tracer.mastery_probability(
            skill_counters=state["skill"],
            overall_counters=context.overall or tracer.new_counters(),
            skill=str(context.standard_id),
        )

    def state_current(self, state: dict[str, Any], context: MethodContext) -> bool:
        return state.get("fit") == context.policy.fit_id and "skill" in state


# New districts use the learned model, which predicts best on real data
# (docs/mastery-evaluation.md). Until a district has enough evidence for a first fit, its estimates
# use the best Canvas method, and switch (rebuilt from the scores) once the fit exists.
DEFAULT_METHOD = estimators.DEFAULT_LEARNED_METHOD
FALLBACK_METHOD = "standard_decaying_average"
LEARNED = LearnedAdapter()
METHODS: dict[str, MasteryMethod] = {
    **{name: CanvasAdapter(name) for name in estimators.CANVAS_METHODS},
    LEARNED.name: LEARNED,
}
METHOD_NAMES = tuple(METHODS)


def method_for(policy: Policy, standard: Standard) -> MasteryMethod:
    name = standard.mastery_method or policy.method
    method = METHODS.get(name) or METHODS[DEFAULT_METHOD]
    if method is LEARNED and policy.tracer is None:
        return METHODS[FALLBACK_METHOD]
    return method

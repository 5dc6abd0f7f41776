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
class Policy:
    """A district's mastery scale and default method, read once per recompute batch."""

    district_id: int
    method: str
    method_options: dict[str, Any]
    levels: tuple[Level, ...]
    mastery_level: int
    no_evidence: Level
    fitted_parameters: dict[str, Any] | None = field(default=None, compare=False)

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


def policy_for_district(district_id: int) -> Policy:
    stored = MasteryPolicy.objects.filter(district_id=district_id).first()
    fit = (
        MasteryModelFit.objects.filter(district_id=district_id, is_active=True)
        .order_by("-fitted_at")
        .values("method", "parameters")
        .first()
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
    )


@dataclass(frozen=True)
class MethodContext:
    standard_id: int
    policy: Policy


class MasteryMethod(Protocol):
    name: str

    def initial_state(self, context: MethodContext) -> dict[str, Any]: ...

    def update(
        self, state: dict[str, Any], *, value: float, item_key: str, context: MethodContext
    ) -> dict[str, Any]: ...

    def probability(self, state: dict[str, Any], context: MethodContext) -> float | None: ...


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


# The learned model (best_lr_recency) needs per-student state across standards; until it is wired
# in, new districts default to the best-measured Canvas method on real data
# (docs/mastery-evaluation.md).
DEFAULT_METHOD = "standard_decaying_average"
METHODS: dict[str, MasteryMethod] = {
    name: CanvasAdapter(name) for name in estimators.CANVAS_METHODS
}


def method_for(policy: Policy, standard: Standard) -> MasteryMethod:
    name = standard.mastery_method or policy.method
    return METHODS.get(name) or METHODS[DEFAULT_METHOD]

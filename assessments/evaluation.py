"""Evaluate mastery estimators on response logs: fit on a training file, predict a test file.

Input: tab-separated, header ``user_id item_id timestamp correct skill_id`` (more columns are
ignored), each user's rows in response order. ``correct`` is a score 0..1. A ``skill_id`` that
names several skills ("3_7", "3,7") is kept whole, as one combined skill: every method then sees
the same skills, and the learned model still shares count and recency weights across skills.

Protocol: parameters come from the training file only; each test row is predicted from the same
student's earlier test rows only (test students are new). Canvas methods predict a row from the
(student, skill) pair's earlier scores; a pair's first response, or a method that has no result
yet (n Number of Times before n masteries), gets the skill's training mean (the global mean for a
skill unseen in training). AUC counts a score >= 0.5 as correct; RMSE uses the score itself.
"""

from __future__ import annotations

import csv
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from assessments.estimators import (
    CANVAS_METHODS,
    FEATURE_SETS,
    CanvasMethod,
    CounterUpdate,
    LogisticTracer,
    Response,
    fit_logistic_tracer,
)

REQUIRED_COLUMNS = ("user_id", "item_id", "correct", "skill_id")
NO_SKILL = "(none)"
# Learned methods first, then Canvas's, in the order the table lists them before sorting.
ALL_METHODS: tuple[str, ...] = (*FEATURE_SETS, *CANVAS_METHODS)

Progress = Callable[[str], None]


class TextOutput(Protocol):
    """Where :func:`run` writes: a text stream, or a management command's ``OutputWrapper``."""

    def write(self, text: str, /) -> object: ...

    def flush(self) -> object: ...


def read_responses(path: str | Path) -> list[Response]:
    """Read a response log; raises ValueError naming the line for a malformed row."""
    responses: list[Response] = []
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter="\t")
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{path}: empty file")
        header = [name.strip() for name in header]
        missing = [name for name in REQUIRED_COLUMNS if name not in header]
        if missing:
            raise ValueError(f"{path}: header lacks {', '.join(missing)}")
        user_at, item_at = header.index("user_id"), header.index("item_id")
        score_at, skill_at = header.index("correct"), header.index("skill_id")
        for line_number, row in enumerate(reader, start=2):
            if not row:
                continue
            try:
                score = float(row[score_at])
            except (ValueError, IndexError):
                raise ValueError(f"{path}:{line_number}: bad or missing 'correct'") from None
            if not 0.0 <= score <= 1.0:
                raise ValueError(f"{path}:{line_number}: 'correct' must be 0..1, got {score}")
            skill = row[skill_at].strip() if len(row) > skill_at else ""
            responses.append(
                Response(
                    student=row[user_at],
                    item=row[item_at],
                    skill=skill if skill and skill.lower() != "nan" else NO_SKILL,
                    score=score,
                )
            )
    return responses


# ---- metrics -----------------------------------------------------------------------------------


def roc_auc(labels: Sequence[float], predictions: Sequence[float]) -> float | None:
    """Area under the ROC curve (Mann-Whitney U with tied predictions counted half); None when
    only one class is present. A label >= 0.5 is a positive."""
    import numpy as np
    from scipy.stats import rankdata

    positive = np.asarray(labels, dtype=float) >= 0.5
    n_positive = int(positive.sum())
    n_negative = len(positive) - n_positive
    if n_positive == 0 or n_negative == 0:
        return None
    ranks = rankdata(np.asarray(predictions, dtype=float))
    rank_sum = float(ranks[positive].sum())
    return (rank_sum - n_positive * (n_positive + 1) / 2) / (n_positive * n_negative)


def rmse(labels: Sequence[float], predictions: Sequence[float]) -> float:
    return math.sqrt(
        sum(
            (label - prediction) ** 2 for label, prediction in zip(labels, predictions, strict=True)
        )
        / len(labels)
    )


# ---- predictions per method --------------------------------------------------------------------


@dataclass(frozen=True)
class SkillMeans:
    """Training mean score per skill, the fallback for a pair's first response."""

    by_skill: dict[str, float]
    overall: float

    @classmethod
    def of(cls, responses: Sequence[Response]) -> SkillMeans:
        sums: dict[str, list[float]] = {}
        for response in responses:
            total = sums.setdefault(response.skill, [0.0, 0.0])
            total[0] += response.score
            total[1] += 1.0
        overall = sum(response.score for response in responses) / len(responses)
        return cls({skill: total / n for skill, (total, n) in sums.items()}, overall)

    def get(self, skill: str) -> float:
        return self.by_skill.get(skill, self.overall)


def predict_canvas(
    method: CanvasMethod, test: Sequence[Response], skill_means: SkillMeans
) -> list[float]:
    states: dict[tuple[str, str], dict[str, Any]] = {}
    predictions: list[float] = []
    for response in test:
        pair = (response.student, response.skill)
        state = states.get(pair)
        estimate = method.estimate(state) if state is not None else None
        predictions.append(estimate if estimate is not None else skill_means.get(response.skill))
        states[pair] = method.update(
            state if state is not None else method.initial_state(), response.score
        )
    return predictions


def predict_learned(tracer: LogisticTracer, test: Sequence[Response]) -> list[float]:
    overall_by_student: dict[str, dict[str, Any]] = {}
    counters_by_pair: dict[tuple[str, str], dict[str, Any]] = {}
    predictions: list[float] = []
    for response in test:
        overall = overall_by_student.get(response.student) or tracer.new_counters()
        pair = (response.student, response.skill)
        skill_counters = counters_by_pair.get(pair) or tracer.new_counters()
        predictions.append(
            tracer.predict(
                skill_counters=skill_counters,
                overall_counters=overall,
                item=response.item,
                skill=response.skill,
            )
        )
        update: CounterUpdate = {
            "item": response.item,
            "skill": response.skill,
            "score": response.score,
        }
        counters_by_pair[pair] = tracer.update_counters(skill_counters, **update)
        overall_by_student[response.student] = tracer.update_counters(overall, **update)
    return predictions


# ---- the harness --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MethodResult:
    name: str
    kind: str  # "learned" or "canvas"
    auc: float | None
    rmse: float
    fit_seconds: float
    predict_seconds: float


@dataclass(frozen=True)
class EvaluationReport:
    results: tuple[MethodResult, ...]  # best AUC first
    train_responses: int
    test_responses: int
    fitted: dict[str, LogisticTracer]

    @property
    def default(self) -> str:
        """The method with the best test AUC: the product default for a new district."""
        return self.results[0].name

    def to_json(self) -> dict[str, Any]:
        return {
            "methods": {
                result.name: {
                    "auc": result.auc,
                    "rmse": result.rmse,
                    "fit_seconds": round(result.fit_seconds, 3),
                    "predict_seconds": round(result.predict_seconds, 3),
                }
                for result in self.results
            },
            "default": self.default,
        }


def evaluate(
    train: Sequence[Response],
    test: Sequence[Response],
    *,
    methods: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> EvaluationReport:
    """Fit every method on ``train`` and score its predictions of ``test``."""
    if not train or not test:
        raise ValueError("both the training and the test log need responses")
    names = list(methods) if methods else list(ALL_METHODS)
    unknown = [name for name in names if name not in ALL_METHODS]
    if unknown:
        raise ValueError(f"unknown methods {unknown}; known: {list(ALL_METHODS)}")
    say = progress or (lambda message: None)
    labels = [response.score for response in test]
    skill_means = SkillMeans.of(train)
    results: list[MethodResult] = []
    fitted: dict[str, LogisticTracer] = {}
    for name in names:
        started = time.perf_counter()
        if name in FEATURE_SETS:
            say(f"{name}: fitting on {len(train):,} responses")
            tracer = fit_logistic_tracer(train, feature_set=FEATURE_SETS[name])
            fitted[name] = tracer
            fit_seconds = time.perf_counter() - started
            say(f"{name}: fitted {tracer.fit_info['features']:,} weights in {fit_seconds:.1f}s")
            started = time.perf_counter()
            predictions = predict_learned(tracer, test)
            kind = "learned"
        else:
            fit_seconds = 0.0  # only the skill means, shared by all Canvas methods
            predictions = predict_canvas(CANVAS_METHODS[name](), test, skill_means)
            kind = "canvas"
        predict_seconds = time.perf_counter() - started
        result = MethodResult(
            name=name,
            kind=kind,
            auc=roc_auc(labels, predictions),
            rmse=rmse(labels, predictions),
            fit_seconds=fit_seconds,
            predict_seconds=predict_seconds,
        )
        say(f"{name}: AUC {_format_metric(result.auc)}, RMSE {result.rmse:.4f}")
        results.append(result)
    # Best AUC first; a method without AUC (single-class test set) sorts last; ties keep order.
    results.sort(key=lambda result: -result.auc if result.auc is not None else math.inf)
    return EvaluationReport(tuple(results), len(train), len(test), fitted)


def _format_metric(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def format_table(report: EvaluationReport) -> str:
    lines = [
        f"Trained on {report.train_responses:,} responses, tested on {report.test_responses:,}.",
        "",
        f"{'method':<28}{'kind':<9}{'AUC':>8}{'RMSE':>8}{'fit s':>8}{'predict s':>11}",
    ]
    for result in report.results:
        marker = "  <- default" if result.name == report.default else ""
        lines.append(
            f"{result.name:<28}{result.kind:<9}{_format_metric(result.auc):>8}"
            f"{result.rmse:>8.4f}{result.fit_seconds:>8.1f}{result.predict_seconds:>11.2f}{marker}"
        )
    return "\n".join(lines)


def run(
    *,
    train_path: str | Path,
    test_path: str | Path,
    as_json: bool = False,
    methods: Sequence[str] | None = None,
    stdout: TextOutput,
    stderr: TextOutput,
) -> EvaluationReport:
    """What ``manage.py evaluate_mastery`` does: progress to stderr, the table (or, with
    ``as_json``, exactly one JSON line) to stdout."""

    def progress(message: str) -> None:
        stderr.write(message + "\n")
        stderr.flush()

    progress(f"reading {train_path} and {test_path}")
    train = read_responses(train_path)
    test = read_responses(test_path)
    report = evaluate(train, test, methods=methods, progress=progress)
    if as_json:
        stdout.write(json.dumps(report.to_json()) + "\n")
    else:
        stdout.write(format_table(report) + "\n")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m assessments.evaluation --train T --test T [--json]``, without Django."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--json", action="store_true", dest="as_json")
    parser.add_argument("--methods", help="comma-separated subset of: " + ", ".join(ALL_METHODS))
    arguments = parser.parse_args(argv)
    run(
        train_path=arguments.train,
        test_path=arguments.test,
        as_json=arguments.as_json,
        methods=arguments.methods.split(",") if arguments.methods else None,
        stdout=sys.stdout,
        stderr=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The set-based recompute (assessments.recompute_sql, PostgreSQL) stores exactly what the Python
engine stores, for every Canvas method: values (to float tolerance), levels, trends, counts,
states, history rows, cleared overrides and pending marks. Each case starts from the same
database state and runs both paths, each in a savepoint that is rolled back afterwards.

Cases are random evidence (hypothesis), then a second round of new scores dated after (the
engine's incremental path), dated before (a late score: full recompute), corrected or removed
scores, and overrides that a newer score clears."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessments import engine
from assessments.estimators import CANVAS_METHODS
from assessments.models import (
    MasteryEstimate,
    MasteryEstimateHistory,
    MasteryEvidence,
    MasteryOverride,
    MasteryPolicy,
    Standard,
)
from assessments.recompute_sql import estimates_recompute_sql
from assessments.services import mastery_model_fit
from students.models import District, Student
from tests import factories
from tests.assessments.test_model_fit import _simulated_district

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the set-based recompute is PostgreSQL's"
    ),
]

PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
STUDENTS = 3
DAY0 = dt.date(2026, 9, 1)
# Scores a gradebook gives (fractions of points), ties of round(., 4) (odd multiples of 1/32 and
# shortest decimals that are ties, such as 0.00015), level boundaries, and any fraction.
SPECIAL = [0.0, 1.0, 0.5, 0.65, 0.45, 0.85, 0.6, 0.03125, 0.15625, 0.00015, 0.12345, 2 / 3]
VALUES = st.one_of(
    st.sampled_from(SPECIAL),
    st.integers(0, 20).map(lambda k: k / 20),
    st.floats(0.0, 1.0, allow_nan=False, allow_subnormal=False),
)
# (student index, day offset, value)
EVIDENCE = st.lists(st.tuples(st.integers(0, STUDENTS - 1), st.integers(0, 30), VALUES))
OPTIONS = {
    "decaying_average": st.fixed_dictionaries({"weight": st.sampled_from([0.65, 0.5, 0.8])}),
    "standard_decaying_average": st.fixed_dictionaries(
        {"weight": st.sampled_from([0.65, 0.5, 0.99])}
    ),
    "n_mastery": st.fixed_dictionaries({"n": st.integers(1, 4)}),
    "latest": st.just({}),
    "highest": st.just({}),
    "average": st.just({}),
}


@pytest.fixture
def district() -> tuple[District, list[Student], list[Standard]]:
    district = factories.DistrictFactory.create()
    students = [factories.StudentFactory.create(district=district) for _ in range(STUDENTS)]
    standards = [
        Standard.objects.create(district=district, code=f"S.{index}", mastery_method=name)
        for index, name in enumerate(CANVAS_METHODS)
    ]
    return district, students, standards


class _Scores:
    """Evidence rows written straight to the engine's input (no score rows: nothing reads them)."""

    def __init__(self) -> None:
        self.next_score = 1

    def add(self, student: Student, standard: Standard, day: int, value: float) -> None:
        MasteryEvidence.objects.create(
            score_id=self.next_score,
            student=student,
            standard=standard,
            item_key=f"a{self.next_score}",
            observed_on=DAY0 + dt.timedelta(days=day),
            value=value,
        )
        self.next_score += 1


def _mark_pending(pairs: set[tuple[int, int]], full: set[tuple[int, int]]) -> list[int]:
    """As the score services do: every touched pair pending, corrected or late ones full."""
    marked = timezone.now() - dt.timedelta(seconds=1)
    for student_id, standard_id in pairs:
        estimate, _ = MasteryEstimate.objects.get_or_create(
            student_id=student_id, standard_id=standard_id
        )
        estimate.pending_since = marked
        estimate.needs_full_recompute = (
            estimate.needs_full_recompute or (student_id, standard_id) in full
        )
        estimate.save()
    return sorted(MasteryEstimate.objects.values_list("pk", flat=True))


def _stored() -> dict[str, Any]:
    estimates = {
        row["id"]: row
        for row in MasteryEstimate.objects.values(
            "id",
            "student_id",
            "standard_id",
            "probability",
            "level",
            "evidence_count",
            "trend",
            "method",
            "state",
            "needs_full_recompute",
            "latest_evidence_id",
            "latest_observed_on",
        )
    }
    pending = set(
        MasteryEstimate.objects.filter(pending_since__isnull=False).values_list("pk", flat=True)
    )
    history = Counter(
        (s, t, None if p is None else round(p, 9), level, n, method, as_of)
        for s, t, p, level, n, method, as_of in MasteryEstimateHistory.objects.values_list(
            "student_id", "standard_id", "probability", "level", "evidence_count", "method", "as_of"
        )
    )
    overrides = set(
        MasteryOverride.objects.values_list("pk", "cleared_reason").filter(cleared_at__isnull=False)
    )
    return {"estimates": estimates, "pending": pending, "history": history, "overrides": overrides}


def _close(a: Any, b: Any) -> bool:
    """Equal, floats to a relative 1e-12 (JSON may give 0 for 0.0)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)
    return bool(a == b)


def _both(estimate_ids: list[int]) -> tuple[tuple[int, dict], tuple[int, dict]]:
    """Each path from the same state, in a savepoint rolled back afterwards."""
    results = []
    for recompute in (engine.estimates_recompute_python, estimates_recompute_sql):
        with transaction.atomic():
            changed = recompute(estimate_ids)
            results.append((changed, _stored()))
            transaction.set_rollback(True)
    return results[0], results[1]


def _assert_same(estimate_ids: list[int]) -> None:
    (python_changed, python), (sql_changed, sql) = _both(estimate_ids)
    assert sql_changed == python_changed
    assert python["estimates"].keys() == sql["estimates"].keys()
    for pk, expected in python["estimates"].items():
        assert _close(sql["estimates"][pk], expected), (pk, sql["estimates"][pk], expected)
    assert sql["pending"] == python["pending"]
    assert sql["history"] == python["history"]
    assert sql["overrides"] == python["overrides"]


def _configure(district: District, options: dict[str, dict]) -> None:
    MasteryPolicy.objects.update_or_create(
        district=district, defaults={"method": "average", "method_options": options}
    )


@PROPERTY_SETTINGS
@given(
    options=st.fixed_dictionaries(OPTIONS),
    first=st.lists(EVIDENCE, min_size=len(CANVAS_METHODS), max_size=len(CANVAS_METHODS)),
    second=st.lists(EVIDENCE, min_size=len(CANVAS_METHODS), max_size=len(CANVAS_METHODS)),
    corrections=st.lists(st.tuples(st.integers(0, 200), VALUES), max_size=3),
    removals=st.lists(st.integers(0, 200), max_size=2),
    overrides=st.lists(
        st.tuples(st.integers(0, STUDENTS - 1), st.integers(0, 5), st.booleans()), max_size=3
    ),
)
def test_sql_and_python_store_the_same(
    district, options, first, second, corrections, removals, overrides
) -> None:
    district_row, students, standards = district
    with transaction.atomic():
        _configure(district_row, options)
        scores = _Scores()
        pairs: set[tuple[int, int]] = set()
        # Round 1: fresh estimates, evidence in any date order (ids are not date order).
        for standard, rows in zip(standards, first, strict=True):
            for student_index, day, value in rows:
                scores.add(students[student_index], standard, day, value)
                pairs.add((students[student_index].pk, standard.pk))
        # Pairs with no evidence at all are recomputed too (to "no evidence").
        pairs.add((students[0].pk, standards[0].pk))
        ids = _mark_pending(pairs, set())
        _assert_same(ids)

        # The stored state both paths start round 2 from: the engine's.
        engine.estimates_recompute_python(ids)
        for student_index, standard_index, clear in overrides:
            estimate = (
                MasteryEstimate.objects.get(
                    student=students[student_index], standard=standards[standard_index]
                )
                if MasteryEstimate.objects.filter(
                    student=students[student_index], standard=standards[standard_index]
                ).exists()
                else None
            )
            if estimate is None:
                continue
            MasteryOverride.objects.filter(
                student=students[student_index], standard=standards[standard_index]
            ).delete()
            MasteryOverride.objects.create(
                student=students[student_index],
                standard=standards[standard_index],
                level=4,
                note="seen in class",
                clear_on_new_score=clear,
                evidence_watermark=estimate.latest_evidence_id or 0,
            )
        latest_on = {
            (e.student_id, e.standard_id): e.latest_observed_on
            for e in MasteryEstimate.objects.all()
        }
        touched: set[tuple[int, int]] = set()
        full: set[tuple[int, int]] = set()
        # Round 2: new scores, late ones (dated before what the estimate reflects) marked full.
        for standard, rows in zip(standards, second, strict=True):
            for student_index, day, value in rows:
                pair = (students[student_index].pk, standard.pk)
                scores.add(students[student_index], standard, day + 10, value)
                touched.add(pair)
                seen_on = latest_on.get(pair)
                if seen_on is not None and DAY0 + dt.timedelta(days=day + 10) < seen_on:
                    full.add(pair)
        evidence = list(MasteryEvidence.objects.order_by("pk"))
        for index, value in corrections:
            if evidence:
                row = evidence[index % len(evidence)]
                MasteryEvidence.objects.filter(pk=row.pk).update(value=value)
                touched.add((row.student_id, row.standard_id))
                full.add((row.student_id, row.standard_id))
        for index in removals:
            if evidence:
                row = evidence[index % len(evidence)]
                MasteryEvidence.objects.filter(pk=row.pk).delete()
                touched.add((row.student_id, row.standard_id))
                full.add((row.student_id, row.standard_id))
        _assert_same(_mark_pending(touched, full) if touched else ids)
        transaction.set_rollback(True)


def test_a_batch_mixing_the_learned_model_recomputes_it_in_python() -> None:
    """Estimates of the learned model go through the engine inside the set-based batch, with
    the same results; the Canvas ones of the same batch in SQL."""
    district_id = _simulated_district(students=30)
    mastery_model_fit(district_id=district_id, enqueue=False)
    first = Standard.objects.filter(district_id=district_id).order_by("pk").first()
    assert first is not None
    Standard.objects.filter(pk=first.pk).update(mastery_method="n_mastery")
    MasteryEstimate.objects.update(pending_since=timezone.now() - dt.timedelta(seconds=1))
    ids = sorted(MasteryEstimate.objects.values_list("pk", flat=True))
    (_, python), _ = _both(ids)
    assert {row["method"] for row in python["estimates"].values()} == {
        "n_mastery",
        "best_lr_recency",
    }
    _assert_same(ids)


def test_a_rerun_changes_nothing(district) -> None:
    _, students, standards = district
    scores = _Scores()
    pairs = set()
    for standard in standards:
        for day in range(6):
            scores.add(students[0], standard, day, (day % 3) / 2)
            pairs.add((students[0].pk, standard.pk))
    ids = _mark_pending(pairs, set())
    assert estimates_recompute_sql(ids) == len(ids)
    history = MasteryEstimateHistory.objects.count()
    assert history > 0
    assert not MasteryEstimate.objects.filter(pending_since__isnull=False).exists()
    assert estimates_recompute_sql(ids) == 0
    assert MasteryEstimateHistory.objects.count() == history

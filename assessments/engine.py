"""The mastery engine: turns a pair's evidence into an estimate, incrementally when it can.

For each estimate it either applies only the evidence it has not seen yet to the stored state
(constant time per new score), or, when evidence arrived out of order or was corrected, recomputes
the pair from all its evidence. Both give the same result (tests check it).
"""

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple, cast

from django.db import connection, transaction
from django.db.models import Count, Field, Max, Model
from django.utils import timezone

from assessments.methods import (
    LEARNED,
    MasteryMethod,
    MethodContext,
    Policy,
    method_for,
    policy_for_district,
)
from assessments.models import (
    LearnerState,
    MasteryEstimate,
    MasteryEstimateHistory,
    MasteryEvidence,
    MasteryOverride,
    Standard,
    Trend,
)
from assessments.signals import (
    estimates_changed_on_commit,
    mastery_changed_for_students_on_commit,
)

logger = logging.getLogger(__name__)

# A history row is written when the level changes or the probability moves at least this much.
HISTORY_MIN_CHANGE = 0.03
TREND_WINDOW = 5
TREND_MIN_SLOPE = 0.04


class EvidenceRow(NamedTuple):
    id: int
    observed_on: date
    value: float
    item_key: str


def trend_of(recent_values: Sequence[float]) -> str:
    """Least-squares slope of the last few scores, per score: rising, falling or flat."""
    values = list(recent_values)[-TREND_WINDOW:]
    if len(values) < 3:
        return Trend.FLAT
    n = len(values)
    mean_x = (n - 1) / 2
    mean_y = sum(values) / n
    numerator = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values))
    denominator = sum((x - mean_x) ** 2 for x in range(n))
    slope = numerator / denominator
    if slope >= TREND_MIN_SLOPE:
        return Trend.RISING
    if slope <= -TREND_MIN_SLOPE:
        return Trend.FALLING
    return Trend.FLAT


# From this many estimates a batch on PostgreSQL is recomputed set-based
# (assessments.recompute_sql); a few estimates (a teacher's scores) stay incremental in Python.
SQL_RECOMPUTE_MIN = 200


def estimates_recompute(estimate_ids: Sequence[int]) -> int:
    """Bring the given estimates up to date. Idempotent: a rerun with no new evidence changes
    nothing. Returns how many estimates changed."""
    if connection.vendor == "postgresql" and len(estimate_ids) >= SQL_RECOMPUTE_MIN:
        from assessments.recompute_sql import estimates_recompute_sql

        return estimates_recompute_sql(estimate_ids)
    return estimates_recompute_python(estimate_ids)


def estimates_recompute_python(estimate_ids: Sequence[int]) -> int:
    """estimates_recompute estimate by estimate, in Python (SQLite, small batches, and the
    reference the set-based path is tested against)."""
    if not estimate_ids:
        return 0
    started_at = timezone.now()
    with transaction.atomic():
        estimates = list(
            MasteryEstimate.objects.select_for_update()
            .filter(pk__in=list(estimate_ids))
            .order_by("pk")
        )
        if not estimates:
            return 0
        changed = _recompute_locked(estimates)
        # Clear the pending mark unless a newer score marked the pair after we started.
        MasteryEstimate.objects.filter(
            pk__in=[e.pk for e in estimates], pending_since__lte=started_at
        ).update(pending_since=None)
    return changed


def _recompute_locked(estimates: list[MasteryEstimate]) -> int:
    student_ids = {e.student_id for e in estimates}
    standard_ids = {e.standard_id for e in estimates}
    standards = Standard.objects.in_bulk(standard_ids)
    district_ids = {s.district_id for s in standards.values()}
    policies = {district_id: policy_for_district(district_id) for district_id in district_ids}

    # One aggregate tells which pairs the stored state cannot be trusted for.
    counts = {
        (row["student_id"], row["standard_id"]): (row["n"], row["newest"])
        for row in MasteryEvidence.objects.filter(
            student_id__in=student_ids, standard_id__in=standard_ids
        )
        .values("student_id", "standard_id")
        .annotate(n=Count("id"), newest=Max("id"))
    }
    methods = {
        estimate.pk: method_for(
            policies[standards[estimate.standard_id].district_id], standards[estimate.standard_id]
        )
        for estimate in estimates
    }
    learner_counters, student_evidence = _learner_states_refresh(
        {
            estimate.student_id: policies[standards[estimate.standard_id].district_id]
            for estimate in estimates
            if methods[estimate.pk] is LEARNED
        }
    )
    contexts = {
        estimate.pk: MethodContext(
            standard_id=estimate.standard_id,
            policy=policies[standards[estimate.standard_id].district_id],
            overall=learner_counters.get(estimate.student_id),
        )
        for estimate in estimates
    }
    full: list[tuple[MasteryEstimate, MasteryMethod]] = []
    incremental: list[tuple[MasteryEstimate, MasteryMethod]] = []
    for estimate in estimates:
        method = methods[estimate.pk]
        n, _ = counts.get((estimate.student_id, estimate.standard_id), (0, None))
        state_ok = (
            not estimate.needs_full_recompute
            and estimate.method == method.name
            and estimate.state.get("count", 0) <= n
            and method.state_current(estimate.state, contexts[estimate.pk])
        )
        (incremental if state_ok else full).append((estimate, method))

    evidence = _load_evidence(full, incremental, student_evidence)
    full_ids = {estimate.pk for estimate, _ in full}
    overrides_to_clear: list[tuple[int, int, int]] = []
    history: list[MasteryEstimateHistory] = []
    changed_estimates: list[MasteryEstimate] = []
    now = timezone.now()
    for estimate, method in full + incremental:
        pair = (estimate.student_id, estimate.standard_id)
        rows = evidence.get(pair, [])
        context = contexts[estimate.pk]
        policy = context.policy
        is_full = estimate.pk in full_ids
        if is_full:
            state = method.initial_state(context)
            seen_count = 0
        else:
            state = dict(estimate.state)
            seen_count = state.get("count", 0)
            rows = [r for r in rows if r.id > (estimate.latest_evidence_id or 0)]
        if not is_full and seen_count + len(rows) != counts.get(pair, (0, None))[0]:
            # Evidence was committed out of id order or removed: start over for this pair.
            state = method.initial_state(context)
            rows = evidence.get(pair) or _pair_evidence(pair)
        for row in rows:
            state = method.update(state, value=row.value, item_key=row.item_key, context=context)
            recent = state.setdefault("recent", [])
            recent.append(round(row.value, 4))
            del recent[:-TREND_WINDOW]
            state["count"] = state.get("count", 0) + 1
        if not rows and not is_full:
            continue
        probability = method.probability(state, context) if state.get("count") else None
        level = policy.level_for(probability)
        moved = (
            level != estimate.level
            or (probability is None) != (estimate.probability is None)
            or (
                probability is not None
                and abs(probability - (estimate.probability or 0)) >= HISTORY_MIN_CHANGE
            )
        )
        estimate.probability = probability
        estimate.level = level
        estimate.evidence_count = state.get("count", 0)
        estimate.trend = trend_of(state.get("recent", []))
        estimate.method = method.name
        estimate.computed_at = now
        estimate.state = state
        estimate.needs_full_recompute = False
        if rows:
            newest_id = max(r.id for r in rows)
            newest_on = max(r.observed_on for r in rows)
            if not is_full:
                newest_id = max(newest_id, estimate.latest_evidence_id or 0)
                newest_on = max(newest_on, estimate.latest_observed_on or newest_on)
            estimate.latest_evidence_id = newest_id
            estimate.latest_observed_on = newest_on
            overrides_to_clear.append((estimate.student_id, estimate.standard_id, newest_id))
        else:
            estimate.latest_evidence_id = None
            estimate.latest_observed_on = None
        changed_estimates.append(estimate)
        if moved:
            history.append(
                MasteryEstimateHistory(
                    student_id=estimate.student_id,
                    standard_id=estimate.standard_id,
                    probability=probability,
                    level=level,
                    evidence_count=estimate.evidence_count,
                    method=method.name,
                    as_of=estimate.latest_observed_on or now.date(),
                    recorded_at=now,
                )
            )
    _rows_save(MasteryEstimate, changed_estimates, ESTIMATE_FIELDS)
    MasteryEstimateHistory.objects.bulk_create(history, batch_size=2000)
    overridden_students = _overrides_clear(overrides_to_clear)
    if changed_estimates:
        mastery_changed_for_students_on_commit({e.student_id for e in changed_estimates})
    # Shown levels moved where a history point was written (every change of level writes one)
    # or an override gave way to a newer score; the earliest day changed is the oldest point's.
    today = timezone.localdate()
    estimates_changed_on_commit(
        {row.student_id for row in history} | overridden_students,
        since=min([today, *(row.as_of for row in history)]),
    )
    return len(changed_estimates)


ESTIMATE_FIELDS = (
    "probability",
    "level",
    "evidence_count",
    "trend",
    "method",
    "computed_at",
    "state",
    "needs_full_recompute",
    "latest_evidence_id",
    "latest_observed_on",
)


def _rows_save(model: type[Model], objects: Sequence[Model], field_names: Sequence[str]) -> None:
    """Write some fields of many rows: one parameterized UPDATE per row, sent as one batch.
    bulk_update's CASE expressions cost more to build in Python than the whole computation
    (profiled: about 8 of 11 seconds of a full recompute)."""
    if not objects:
        return
    meta = model._meta
    # Only concrete fields are passed, never relations' reverse sides or generic keys.
    fields = cast("list[Field[Any, Any]]", [meta.get_field(name) for name in field_names])
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    # Identifiers come from the model's own metadata, quoted; every value is a parameter.
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608
    rows = [
        [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in fields]
        + [obj.pk]
        for obj in objects
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _learner_states_refresh(
    policy_by_student: dict[int, Policy],
) -> tuple[dict[int, dict], dict[int, list[tuple]]]:
    """Bring the learned model's state of these students up to date with all their evidence.
    Returns each student's counters, and all evidence rows of the students it rebuilt (so that the
    caller need not read them again).

    New evidence folds in one row at a time, in date order. A student's state is rebuilt from all
    their evidence when a refit changed the parameters, or when evidence arrived dated before what
    the state already reflects, or was removed (the counts disagree): exactly what a replay of the
    scores alone gives.
    """
    if not policy_by_student:
        return {}, {}
    student_ids = sorted(policy_by_student)
    LearnerState.objects.bulk_create(
        [LearnerState(student_id=student_id) for student_id in student_ids],
        ignore_conflicts=True,
    )
    states = {
        state.student_id: state
        for state in LearnerState.objects.select_for_update()
        .filter(student_id__in=student_ids)
        .order_by("student_id")
    }
    totals = dict(
        MasteryEvidence.objects.filter(student_id__in=student_ids)
        .values("student_id")
        .annotate(n=Count("id"))
        .values_list("student_id", "n")
    )
    rebuild = {
        student_id
        for student_id, state in states.items()
        if not state.counters or state.fit_id != policy_by_student[student_id].fit_id
    }
    candidates = [student_id for student_id in student_ids if student_id not in rebuild]
    new_rows: dict[int, list[tuple]] = defaultdict(list)
    if candidates:
        watermark = min(states[student_id].latest_evidence_id or 0 for student_id in candidates)
        for row in (
            MasteryEvidence.objects.filter(student_id__in=candidates, id__gt=watermark)
            .order_by("observed_on", "id")
            .values_list("student_id", "standard_id", "id", "observed_on", "value", "item_key")
        ):
            if row[2] > (states[row[0]].latest_evidence_id or 0):
                new_rows[row[0]].append(row)
    for student_id in candidates:
        state, rows = states[student_id], new_rows.get(student_id, [])
        late = bool(rows) and state.latest_observed_on and rows[0][3] < state.latest_observed_on
        seen = state.counters.get("attempts", 0)
        if late or round(seen) + len(rows) != totals.get(student_id, 0):
            rebuild.add(student_id)
    if rebuild:
        for student_id in rebuild:
            new_rows[student_id] = []
        for row in (
            MasteryEvidence.objects.filter(student_id__in=rebuild)
            .order_by("observed_on", "id")
            .values_list("student_id", "standard_id", "id", "observed_on", "value", "item_key")
        ):
            new_rows[row[0]].append(row)
    changed = []
    for student_id in student_ids:
        state, policy = states[student_id], policy_by_student[student_id]
        tracer = policy.tracer
        # Only students whose estimate uses the learned method are here, and method_for picks
        # that method only when the policy has a fitted tracer.
        assert tracer is not None  # noqa: S101
        rows = new_rows.get(student_id, [])
        if student_id in rebuild:
            state.counters = tracer.new_counters()
            state.fit_id = policy.fit_id
            state.latest_evidence_id = state.latest_observed_on = None
        elif not rows:
            continue
        counters = state.counters
        for _, standard_id, pk, observed_on, value, item_key in rows:
            counters = tracer.update_counters(
                counters, item=item_key, skill=str(standard_id), score=value
            )
            state.latest_evidence_id = max(pk, state.latest_evidence_id or 0)
            state.latest_observed_on = max(observed_on, state.latest_observed_on or observed_on)
        state.counters = counters
        changed.append(state)
    _rows_save(
        LearnerState, changed, ["counters", "fit", "latest_evidence_id", "latest_observed_on"]
    )
    counters = {student_id: state.counters for student_id, state in states.items()}
    return counters, {student_id: new_rows[student_id] for student_id in rebuild}


def _load_evidence(
    full: list, incremental: list, student_evidence: dict[int, list[tuple]]
) -> dict[tuple[int, int], list[EvidenceRow]]:
    """All evidence of the full pairs and the unseen evidence of the incremental ones, in date
    order: from ``student_evidence`` (every row of some students, already read) and one query for
    the rest. A batch's rows fit in memory; a server-side cursor costs more than it saves here."""
    pairs = [(e.student_id, e.standard_id) for e, _ in full + incremental]
    if not pairs:
        return {}
    wanted = set(pairs)
    evidence: dict[tuple[int, int], list[EvidenceRow]] = defaultdict(list)
    known: list = list(student_evidence.values())
    to_read = [(e, m) for e, m in full + incremental if e.student_id not in student_evidence]
    if to_read:
        incremental_left = [(e, m) for e, m in incremental if e.student_id not in student_evidence]
        full_left = [(e, m) for e, m in full if e.student_id not in student_evidence]
        min_seen = (
            min([e.latest_evidence_id or 0 for e, _ in incremental_left] or [0])
            if not full_left
            else 0
        )
        known.append(
            MasteryEvidence.objects.filter(
                student_id__in={e.student_id for e, _ in to_read},
                standard_id__in={e.standard_id for e, _ in to_read},
                id__gt=min_seen,
            )
            .order_by("observed_on", "id")
            .values_list("student_id", "standard_id", "id", "observed_on", "value", "item_key")
        )
    for rows in known:
        for student_id, standard_id, pk, observed_on, value, item_key in rows:
            if (student_id, standard_id) in wanted:
                evidence[(student_id, standard_id)].append(
                    EvidenceRow(pk, observed_on, value, item_key)
                )
    return evidence


def _pair_evidence(pair: tuple[int, int]) -> list[EvidenceRow]:
    return [
        EvidenceRow(pk, observed_on, value, item_key)
        for pk, observed_on, value, item_key in MasteryEvidence.objects.filter(
            student_id=pair[0], standard_id=pair[1]
        )
        .order_by("observed_on", "id")
        .values_list("id", "observed_on", "value", "item_key")
    ]


def _overrides_clear(pairs: list[tuple[int, int, int]]) -> set[int]:
    """Clear overrides whose teacher asked that a newer score replace them: evidence newer than
    what the pair held when the override was set. Returns the students whose were cleared."""
    if not pairs:
        return set()
    newest_by_pair = {(s, t): newest for s, t, newest in pairs}
    candidates = MasteryOverride.objects.filter(
        cleared_at__isnull=True,
        clear_on_new_score=True,
        student_id__in={p[0] for p in newest_by_pair},
        standard_id__in={p[1] for p in newest_by_pair},
    ).values_list("pk", "student_id", "standard_id", "evidence_watermark")
    to_clear = {
        pk: student_id
        for pk, student_id, standard_id, watermark in candidates
        if newest_by_pair.get((student_id, standard_id), 0) > (watermark or 0)
    }
    if to_clear:
        MasteryOverride.objects.filter(pk__in=list(to_clear)).update(
            cleared_at=timezone.now(), cleared_reason="newer score"
        )
    return set(to_clear.values())

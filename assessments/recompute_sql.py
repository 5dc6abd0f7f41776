"""The mastery engine's set-based recompute on PostgreSQL (bulk imports: issue 23, "Gradebook").

For a batch of estimates, the Canvas methods are computed in SQL: one ordered read of the pairs'
evidence, window functions over it in the engine's order (observed_on, id), and a handful of
statements that write what engine._recompute_locked writes: the estimate (probability, level,
trend, counts, newest evidence, the method's incremental state, so that a later single score
folds in incrementally in Python), its history row (HISTORY_MIN_CHANGE), the overrides a newer
score clears, and the same on-commit notices. The learned model stays in Python, in big batches.

Float arithmetic is the engine's, step by step: running sums and the decaying average fold in
order (window aggregates over a frame from the partition's start accumulate row by row, as the
Python loop does), the trend's least squares adds in the same order, and the last scores are
rounded to 4 places as Python's round() does (half to even on the exact value). Estimates whose
stored state is current and that have no new evidence are left alone, as the engine leaves them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from assessments.engine import (
    HISTORY_MIN_CHANGE,
    TREND_MIN_SLOPE,
    TREND_WINDOW,
    _recompute_locked,
)
from assessments.methods import CanvasAdapter, MethodContext, method_for, policy_for_district
from assessments.models import MasteryEstimate, Standard
from assessments.signals import (
    estimates_changed_on_commit,
    mastery_changed_for_students_on_commit,
)

# Learned-model estimates of a batch go through the Python engine this many at a time.
LEARNED_BATCH = 2000

# Session-local helpers (pg_temp: no migration, nothing left in the schema). PL/pgSQL: about
# 1 µs a row as a window aggregate's step, half of what a SQL-language function costs.
_HELPERS = (
    # StandardDecayingAverage.update: d1 = x1, dk = (1 - w) d(k-1) + w xk, in this float order.
    """
    CREATE OR REPLACE FUNCTION pg_temp.trellis_decay_step(
        state float8, value float8, weight float8) RETURNS float8
    LANGUAGE plpgsql IMMUTABLE AS $$
    BEGIN
        IF state IS NULL THEN RETURN value; END IF;
        RETURN (1 - weight) * state + weight * value;
    END $$
    """,
    """
    CREATE OR REPLACE AGGREGATE pg_temp.trellis_decay(float8, float8) (
        SFUNC = pg_temp.trellis_decay_step, STYPE = float8)
    """,
    # Python's round(v, 4): correctly rounded from v's exact binary value, ties to even. The
    # shortest decimal that reads back as v (float8 text output) rounds the same way unless it
    # is itself a tie; then v * 625 is split exactly (Dekker) to tell on which side of the tie
    # v lies, or that it is the tie (an odd multiple of 1/32), which goes to the even neighbour.
    """
    CREATE OR REPLACE FUNCTION pg_temp.trellis_round4(v float8) RETURNS float8
    LANGUAGE plpgsql IMMUTABLE STRICT AS $$
    DECLARE
        d numeric := v::text::numeric;
        k numeric := d * 20000;
        j numeric;
        t float8;
        a float8;
        b float8;
        s float8;
    BEGIN
        IF k <> trunc(k) OR mod(k, 2) <> 1 THEN RETURN round(d, 4)::float8; END IF;
        t := 134217729 * v;
        a := t - (t - v);
        b := v - a;
        s := (a * 625 - k::float8 / 32) + b * 625;
        j := (k - 1) / 2;
        IF s < 0 OR (s = 0 AND mod(j, 2) = 0) THEN RETURN (j / 10000)::float8; END IF;
        RETURN ((j + 1) / 10000)::float8;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION pg_temp.trellis_round4_all(vs float8[]) RETURNS float8[]
    LANGUAGE plpgsql IMMUTABLE AS $$
    DECLARE
        out float8[] := '{}';
        i int;
    BEGIN
        FOR i IN 1 .. coalesce(cardinality(vs), 0) LOOP
            out := out || pg_temp.trellis_round4(vs[i]);
        END LOOP;
        RETURN out;
    END $$
    """,
    # engine.trend_of over the (already last TREND_WINDOW) rounded scores, same float order.
    """
    CREATE OR REPLACE FUNCTION pg_temp.trellis_trend(vs float8[], min_slope float8)
    RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
    DECLARE
        n int := coalesce(cardinality(vs), 0);
        mean_x float8;
        mean_y float8;
        num float8;
        den float8;
        slope float8;
        i int;
    BEGIN
        IF n < 3 THEN RETURN 'flat'; END IF;
        mean_x := (n - 1)::float8 / 2;
        mean_y := vs[1];
        FOR i IN 2 .. n LOOP mean_y := mean_y + vs[i]; END LOOP;
        mean_y := mean_y / n;
        num := (0 - mean_x) * (vs[1] - mean_y);
        den := (0 - mean_x) ^ 2;
        FOR i IN 2 .. n LOOP
            num := num + ((i - 1) - mean_x) * (vs[i] - mean_y);
            den := den + ((i - 1) - mean_x) ^ 2;
        END LOOP;
        slope := num / den;
        IF slope >= min_slope THEN RETURN 'rising'; END IF;
        IF slope <= -min_slope THEN RETURN 'falling'; END IF;
        RETURN 'flat';
    END $$
    """,
)

_TEMP_TABLES = ("rc_std", "rc_level", "rc_est", "rc_agg", "rc_out")

# Every Canvas method's state and estimate, from the per-pair aggregates (a) and the standard's
# options (x); the same keys and arithmetic as assessments.estimators' incremental forms.
_CANVAS_STATE = """
    CASE x.method
        WHEN 'decaying_average' THEN jsonb_build_object(
            'n', a.n, 'older_sum', COALESCE(a.older_sum, 0), 'latest', a.latest)
        WHEN 'standard_decaying_average' THEN jsonb_build_object('n', a.n, 'decayed', a.decayed)
        WHEN 'n_mastery' THEN jsonb_build_object(
            'n', a.n, 'mastered_n', a.mastered_n, 'mastered_sum', COALESCE(a.mastered_sum, 0))
        WHEN 'latest' THEN jsonb_build_object('n', a.n, 'latest', a.latest)
        WHEN 'highest' THEN jsonb_build_object('n', a.n, 'highest', a.highest)
        WHEN 'average' THEN jsonb_build_object('n', a.n, 'sum', COALESCE(a.total, 0))
    END
"""
_CANVAS_ESTIMATE = """
    CASE WHEN a.n = 0 THEN NULL::float8 ELSE CASE x.method
        WHEN 'decaying_average' THEN CASE WHEN a.n = 1 THEN a.latest
            ELSE x.weight * a.latest + (1 - x.weight) * (a.older_sum / (a.n - 1)::float8) END
        WHEN 'standard_decaying_average' THEN a.decayed
        WHEN 'n_mastery' THEN CASE WHEN a.mastered_n < x.n_needed THEN NULL::float8
            ELSE a.mastered_sum / a.mastered_n::float8 END
        WHEN 'latest' THEN a.latest
        WHEN 'highest' THEN a.highest
        WHEN 'average' THEN a.total / a.n::float8
    END END
"""


def estimates_recompute_sql(estimate_ids: Sequence[int]) -> int:
    """engine.estimates_recompute, set-based (PostgreSQL only): the same stored results.
    Idempotent; returns how many estimates changed."""
    if not estimate_ids:
        return 0
    started_at = timezone.now()
    ids = sorted(set(estimate_ids))
    with transaction.atomic():
        with connection.cursor() as cursor:
            # The engine's lock order (by id), so that it and this never deadlock.
            cursor.execute(
                "SELECT id, standard_id FROM assessments_masteryestimate WHERE id = ANY(%s) "
                "ORDER BY id FOR UPDATE",
                [ids],
            )
            locked = cursor.fetchall()
        if not locked:
            return 0
        standards = Standard.objects.in_bulk({standard_id for _, standard_id in locked})
        policies = {
            district_id: policy_for_district(district_id)
            for district_id in {standard.district_id for standard in standards.values()}
        }
        methods = {
            standard_id: method_for(policies[standard.district_id], standard)
            for standard_id, standard in standards.items()
        }
        learned = [pk for pk, sid in locked if not isinstance(methods[sid], CanvasAdapter)]
        canvas = [pk for pk, sid in locked if isinstance(methods[sid], CanvasAdapter)]
        changed = 0
        for start in range(0, len(learned), LEARNED_BATCH):
            chunk = learned[start : start + LEARNED_BATCH]
            changed += _recompute_locked(
                list(MasteryEstimate.objects.filter(pk__in=chunk).order_by("pk"))
            )
        if canvas:
            changed += _canvas_recompute(started_at, canvas, standards, policies, methods)
        if learned:
            # Clear the pending mark unless a newer score marked the pair after we started (the
            # Canvas estimates have theirs cleared by _canvas_recompute).
            MasteryEstimate.objects.filter(pk__in=learned, pending_since__lte=started_at).update(
                pending_since=None
            )
    return changed


def _standard_rows(
    standards: dict[int, Standard], policies: dict[int, Any], methods: dict[int, Any]
) -> tuple[list[list[Any]], list[list[Any]]]:
    """Columns of rc_std (each Canvas standard's method and options, lowest and no-evidence
    levels) and of rc_level (its policy's levels, highest minimum first, as Policy.level_for
    tries them)."""
    std: list[list[Any]] = [[] for _ in range(7)]
    level: list[list[Any]] = [[] for _ in range(4)]
    for standard_id, method in methods.items():
        if not isinstance(method, CanvasAdapter):
            continue
        policy = policies[standards[standard_id].district_id]
        impl = method._method(MethodContext(standard_id=standard_id, policy=policy))
        for column, value in zip(
            std,
            (
                standard_id,
                method.name,
                getattr(impl, "weight", None),
                getattr(impl, "n", None),
                getattr(impl, "mastery_threshold", None),
                policy.levels[-1].value,
                policy.no_evidence.value,
            ),
            strict=True,
        ):
            column.append(value)
        for order, item in enumerate(policy.levels):
            for column, value in zip(
                level, (standard_id, order, float(item.min), item.value), strict=True
            ):
                column.append(value)
    return std, level


def _canvas_recompute(
    started_at: datetime,
    estimate_ids: list[int],
    standards: dict[int, Standard],
    policies: dict[int, Any],
    methods: dict[int, Any],
) -> int:
    now = timezone.now()
    std, level = _standard_rows(standards, policies, methods)
    with connection.cursor() as cursor:
        # float8 text is the shortest exact decimal (trellis_round4 relies on it).
        cursor.execute("SET LOCAL extra_float_digits = 1")
        # Compiling these statements costs more than running them (measured: 0.9 s of 1.2 s).
        cursor.execute("SET LOCAL jit = off")
        for statement in _HELPERS:
            cursor.execute(statement)
        for table in _TEMP_TABLES:
            # Table names are code constants.
            cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{table}")
        cursor.execute(
            """
            CREATE TEMP TABLE rc_std ON COMMIT DROP AS
            SELECT * FROM unnest(%s::bigint[], %s::text[], %s::float8[], %s::int[],
                %s::float8[], %s::int[], %s::int[])
                AS s(standard_id, method, weight, n_needed, threshold, lowest, no_evidence)
            """,
            std,
        )
        cursor.execute(
            """
            CREATE TEMP TABLE rc_level ON COMMIT DROP AS
            SELECT * FROM unnest(%s::bigint[], %s::int[], %s::float8[], %s::int[])
                AS l(standard_id, ord, min, value)
            """,
            level,
        )
        cursor.execute("CREATE INDEX ON rc_level (standard_id, ord)")
        cursor.execute("ANALYZE rc_level")
        cursor.execute(
            """
            CREATE TEMP TABLE rc_est ON COMMIT DROP AS
            SELECT e.id, e.student_id, e.standard_id, e.probability AS old_probability,
                   e.level AS old_level, e.latest_evidence_id,
                   NOT e.needs_full_recompute AND e.method = s.method AND e.state ? 'canvas'
                       AS state_ok,
                   COALESCE((e.state ->> 'count')::numeric, 0) AS seen,
                   s.method, s.weight, s.n_needed, s.threshold, s.lowest, s.no_evidence
            FROM assessments_masteryestimate e JOIN rc_std s ON s.standard_id = e.standard_id
            WHERE e.id = ANY(%s)
            """,
            [estimate_ids],
        )
        cursor.execute("ANALYZE rc_est")
        # One ordered read of the pairs' evidence; at each pair's last row (in the engine's
        # order) the running aggregates hold what the engine's loop ends with. Each pair's rows
        # by the evidence index (OFFSET 0 keeps the lookup per pair: a hash join would read the
        # whole table for every batch whose ids do not follow students).
        cursor.execute(
            f"""
            CREATE TEMP TABLE rc_agg ON COMMIT DROP AS
            SELECT estimate_id, n, new_n, newest_id, newest_on, latest, older_sum, total,
                   highest, decayed, mastered_n, mastered_sum,
                   pg_temp.trellis_round4_all(recent_raw) AS recent
            FROM (
                SELECT x.id AS estimate_id,
                       row_number() OVER w AS n,
                       lead(v.id) OVER w IS NULL AS is_last,
                       count(*) FILTER (WHERE v.id > COALESCE(x.latest_evidence_id, 0))
                           OVER w_run AS new_n,
                       max(v.id) OVER w_run AS newest_id,
                       max(v.observed_on) OVER w_run AS newest_on,
                       v.value AS latest,
                       sum(v.value) OVER w_older AS older_sum,
                       sum(v.value) OVER w_run AS total,
                       max(v.value) OVER w_run AS highest,
                       pg_temp.trellis_decay(v.value, x.weight)
                           FILTER (WHERE x.method = 'standard_decaying_average')
                           OVER w_run AS decayed,
                       count(*) FILTER (WHERE v.value >= x.threshold) OVER w_run AS mastered_n,
                       sum(v.value) FILTER (WHERE v.value >= x.threshold)
                           OVER w_run AS mastered_sum,
                       array_agg(v.value) OVER w_recent AS recent_raw
                FROM rc_est x
                CROSS JOIN LATERAL (
                    SELECT e.id, e.observed_on, e.value FROM assessments_masteryevidence e
                    WHERE e.student_id = x.student_id AND e.standard_id = x.standard_id
                    OFFSET 0
                ) v
                WINDOW w AS (PARTITION BY x.id ORDER BY v.observed_on, v.id),
                       w_run AS (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
                       w_older AS (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                       w_recent AS (w ROWS BETWEEN {int(TREND_WINDOW) - 1} PRECEDING
                                    AND CURRENT ROW)
            ) ordered
            WHERE is_last
            """  # noqa: S608 (constants only)
        )
        cursor.execute("ANALYZE rc_agg")
        # What changes: every estimate but those whose stored state is current and that have
        # no new evidence (the engine's incremental path skips them).
        cursor.execute(
            f"""
            CREATE TEMP TABLE rc_out ON COMMIT DROP AS
            SELECT id, student_id, standard_id, method, old_probability, old_level, n,
                   newest_id, newest_on, probability, state,
                   CASE WHEN probability IS NULL THEN no_evidence ELSE COALESCE(
                       (SELECT l.value FROM rc_level l
                        WHERE l.standard_id = o.standard_id AND o.probability >= l.min
                        ORDER BY l.ord LIMIT 1),
                       lowest) END AS level,
                   CASE WHEN n < 3 THEN 'flat' ELSE pg_temp.trellis_trend(recent, %s) END AS trend
            FROM (
                SELECT x.id, x.student_id, x.standard_id, x.method, x.old_probability,
                       x.old_level, x.no_evidence, x.lowest, a.n, a.newest_id, a.newest_on,
                       a.recent, {_CANVAS_ESTIMATE} AS probability,
                       CASE WHEN a.n = 0 THEN jsonb_build_object('canvas', {_CANVAS_STATE})
                            ELSE jsonb_build_object('canvas', {_CANVAS_STATE},
                                'recent', to_jsonb(a.recent), 'count', a.n) END AS state
                FROM rc_est x
                LEFT JOIN rc_agg g ON g.estimate_id = x.id
                CROSS JOIN LATERAL (
                    SELECT COALESCE(g.n, 0) AS n, COALESCE(g.new_n, 0) AS new_n,
                           g.newest_id, g.newest_on, g.latest, g.older_sum, g.total, g.highest,
                           g.decayed, COALESCE(g.mastered_n, 0) AS mastered_n,
                           g.mastered_sum, g.recent
                ) a
                WHERE NOT (x.state_ok AND x.seen = a.n AND a.new_n = 0)
            ) o
            """,  # noqa: S608 (constants only; values are parameters)
            [float(TREND_MIN_SLOPE)],
        )
        cursor.execute(
            """
            UPDATE assessments_masteryestimate e
            SET probability = o.probability, level = o.level, evidence_count = o.n,
                trend = o.trend, method = o.method, computed_at = %s, state = o.state,
                needs_full_recompute = false, latest_evidence_id = o.newest_id,
                latest_observed_on = o.newest_on,
                pending_since = CASE WHEN e.pending_since <= %s THEN NULL
                                     ELSE e.pending_since END
            FROM rc_out o WHERE e.id = o.id
            """,
            [now, started_at],
        )
        changed = cursor.rowcount
        # The estimates left alone are caught up too.
        cursor.execute(
            """
            UPDATE assessments_masteryestimate e SET pending_since = NULL
            FROM rc_est x
            WHERE e.id = x.id AND e.pending_since <= %s
              AND NOT EXISTS (SELECT 1 FROM rc_out o WHERE o.id = x.id)
            """,
            [started_at],
        )
        if not changed:
            return 0
        cursor.execute("SELECT array_agg(DISTINCT student_id) FROM rc_out")
        changed_students = set((cursor.fetchone() or [None])[0] or ())
        # engine: a row when the level changes, or the probability appears, disappears or moves
        # at least HISTORY_MIN_CHANGE; dated by the newest evidence (else today, in UTC).
        cursor.execute(
            """
            WITH written AS (
                INSERT INTO assessments_masteryestimatehistory (student_id, standard_id,
                    probability, level, evidence_count, method, as_of, recorded_at)
                SELECT student_id, standard_id, probability, level, n, method,
                       COALESCE(newest_on, %s), %s
                FROM rc_out
                WHERE level <> old_level
                   OR (probability IS NULL) <> (old_probability IS NULL)
                   OR (probability IS NOT NULL
                       AND abs(probability - COALESCE(old_probability, 0)) >= %s)
                ORDER BY id
                RETURNING student_id, as_of
            )
            SELECT array_agg(DISTINCT student_id), min(as_of) FROM written
            """,
            [now.date(), now, HISTORY_MIN_CHANGE],
        )
        history_students, history_since = cursor.fetchone() or (None, None)
        # engine._overrides_clear: evidence newer than the pair held when the override was set.
        cursor.execute(
            """
            WITH cleared AS (
                UPDATE assessments_masteryoverride m
                SET cleared_at = %s, cleared_reason = 'newer score'
                FROM rc_out o
                WHERE m.cleared_at IS NULL AND m.clear_on_new_score
                  AND m.student_id = o.student_id AND m.standard_id = o.standard_id
                  AND o.newest_id IS NOT NULL
                  AND o.newest_id > COALESCE(m.evidence_watermark, 0)
                RETURNING m.student_id
            )
            SELECT array_agg(DISTINCT student_id) FROM cleared
            """,
            [timezone.now()],
        )
        overridden = set((cursor.fetchone() or [None])[0] or ())
    mastery_changed_for_students_on_commit(changed_students)
    today = timezone.localdate()
    since: date = min(today, history_since) if history_since else today
    estimates_changed_on_commit(set(history_students or ()) | overridden, since=since)
    return changed

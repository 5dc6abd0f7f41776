"""Many scores at once (imports): set-based SQL on PostgreSQL (a staging table, one INSERT ... ON
CONFLICT, foreign keys checked once for very large loads), scores_record in batches elsewhere."""

import json
import logging
from collections.abc import Iterable
from datetime import datetime
from itertools import islice

from django.db import transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from assessments.models import (
    ScoreSource,
    ScoreStatus,
)
from assessments.services.scoring import (
    EVIDENCE_STATUSES,
    ScoreInput,
    ScoresRecorded,
    scores_record,
)
from assessments.signals import (
    mastery_changed_on_commit,
)
from students import bulk_keys
from students.bulk_keys import foreign_keys_checked_once, local_setting

logger = logging.getLogger(__name__)

BULK_WORK_MEM = "256MB"

# Scores staged per COPY statement (what the import holds of them at a time).
STAGE_BATCH = 10_000


BULK_TABLES = (
    "assessments_studentassessment",
    "assessments_score",
    "assessments_masteryestimate",
)


SCORE_STAGE_COLUMNS = (
    "student_id bigint, assessment_id bigint, item_id bigint, scored_on date, "
    "points numeric(9,3), normalized double precision, rubric_level varchar(60), "
    "status varchar(20), comment text, source_system varchar(40), source_id varchar(255), "
    "source_extra jsonb"
)


@transaction.atomic
def scores_record_bulk(
    *, scores: Iterable[ScoreInput], source: str = ScoreSource.IMPORTED
) -> ScoresRecorded:
    """scores_record for imports of many scores: the same matching, normalizing, unchanged
    check, evidence and pending marks, set-based on PostgreSQL (COPY into a staging table, then
    a few INSERT ... ON CONFLICT statements), so a million scores never become model objects.

    Enqueues nothing: the caller passes `estimate_ids` to mastery_recompute_enqueue once, so each
    affected (student, standard) is recomputed once after the import commits. Other databases
    go through scores_record in batches. Inputs must not repeat (student, assessment, item,
    date); references are the caller's to check (a foreign key error aborts the transaction).
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        result = ScoresRecorded()
        batch: list[ScoreInput] = []
        for score in [*scores, None]:
            if score is not None:
                batch.append(score)
            if batch and (score is None or len(batch) >= 5000):
                recorded = scores_record(scores=batch, source=source, enqueue=False)
                result.created += recorded.created
                result.updated += recorded.updated
                result.unchanged += recorded.unchanged
                result.estimate_ids.extend(recorded.estimate_ids)
                batch = []
        result.estimate_ids = sorted(set(result.estimate_ids))
        result.pairs_marked = len(result.estimate_ids)
        return result
    return _scores_bulk_postgresql(scores, source)


def _json_text(value: dict | None) -> str | None:
    """A score's vendor columns as COPY takes them: nearly every score has none."""
    if value is None:
        return None
    return json.dumps(value) if value else "{}"


def _scores_bulk_postgresql(scores: Iterable[ScoreInput], source: str) -> ScoresRecorded:
    from django.db import connection

    now = timezone.now()
    result = ScoresRecorded()
    with connection.cursor() as cursor:
        for table in (
            "score_stage",
            "score_rows",
            "score_changed",
            "score_pairs",
            "score_pair_marks",
        ):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TEMP TABLE score_stage ({SCORE_STAGE_COLUMNS}) ON COMMIT DROP")
        staged = 0
        scores = iter(scores)
        # A batch at a time: the inputs may come from a generator that reads the database (the
        # OneRoster importer fetches each batch's students), which it cannot do during a COPY.
        while batch := list(islice(scores, STAGE_BATCH)):
            with cursor.cursor.copy(
                "COPY score_stage (student_id, assessment_id, item_id, scored_on, points,"
                " normalized, rubric_level, status, comment, source_system, source_id,"
                " source_extra) FROM STDIN"
            ) as copy:
                for s in batch:
                    copy.write_row(
                        (
                            s.student_id,
                            s.assessment_id,
                            s.item_id,
                            s.scored_on,
                            s.points,
                            s.normalized,
                            s.rubric_level,
                            s.status,
                            s.comment,
                            s.source_system,
                            s.source_id,
                            _json_text(s.source_extra),
                        )
                    )
            staged += len(batch)
        if not staged:
            return result
        # Sorts and hashes over the staged rows in memory rather than in temporary files (the
        # server's default is sized for many small queries).
        with (
            local_setting(cursor, "work_mem", BULK_WORK_MEM),
            # A few long statements: compiling them costs more than it saves.
            local_setting(cursor, "jit", "off"),
        ):
            if staged < bulk_keys.BULK_FOREIGN_KEY_ROWS:
                _scores_bulk_write(cursor, staged, source, now, result)
            else:
                with foreign_keys_checked_once(BULK_TABLES) as locked:
                    _scores_bulk_write(cursor, staged, source, now, result, tables_locked=locked)
    return result


def _scores_bulk_write(
    cursor: CursorWrapper,
    staged: int,
    source: str,
    now: datetime,
    result: ScoresRecorded,
    *,
    tables_locked: bool = False,
) -> None:
    """The set-based writes from the staged scores (score_stage) into `result`. With
    `tables_locked` (this transaction holds the score tables' exclusive locks), nobody else can
    write an estimate meanwhile and the missing ones are inserted without ON CONFLICT."""
    from assessments.models import Trend

    # Each staged score with its district and its points normalized against the item's (else
    # the assessment's) range, as score_normalize: one pass into a new table (cheaper than updating
    # the staged rows in place), in the order of the indexes the writes below fill.
    cursor.execute(
        """
        CREATE TEMP TABLE score_rows ON COMMIT DROP AS
        SELECT s.student_id, s.assessment_id, s.item_id, s.scored_on, s.points,
            CASE
                WHEN s.normalized IS NOT NULL OR s.points IS NULL THEN s.normalized
                WHEN r.high IS NULL OR r.high = 0 OR r.high <= r.low THEN NULL
                ELSE LEAST(1.0, GREATEST(0.0, ((s.points - r.low) / (r.high - r.low))::float8))
            END AS normalized,
            s.rubric_level, s.status, s.comment, s.source_system, s.source_id, s.source_extra,
            a.district_id, NULL::bigint AS student_assessment_id
        FROM score_stage s
        JOIN assessments_assessment a ON a.id = s.assessment_id
        LEFT JOIN assessments_assessmentitem i ON i.id = s.item_id
        CROSS JOIN LATERAL (
            SELECT CASE WHEN s.item_id IS NULL THEN a.min_points ELSE 0 END AS low,
                   COALESCE(NULLIF(i.max_points, 0), a.max_points) AS high
        ) r
        ORDER BY s.student_id, s.assessment_id, s.scored_on, s.item_id
        """
    )
    cursor.execute("DROP TABLE score_stage")
    cursor.execute("ANALYZE score_rows")
    cursor.execute("SELECT EXISTS (SELECT 1 FROM score_rows WHERE item_id IS NOT NULL)")
    (has_item_scores,) = cursor.fetchone()
    # One StudentAssessment per (student, assessment, administration date). Plain inserts of the
    # missing ones (an anti-join, as scores_record's bulk_create): ON CONFLICT's speculative
    # insertion costs every row, and a result written meanwhile by someone else fails the import
    # on the unique constraint instead of being merged, with nothing half-written. Without item
    # scores each staged row is a result of its own (inputs do not repeat), already in key order
    # as score_rows was written: then neither DISTINCT nor a sort is needed.
    distinct, in_key_order = (
        ("DISTINCT", "ORDER BY r.student_id, r.assessment_id, r.scored_on")
        if has_item_scores
        else ("", "")
    )
    cursor.execute(
        f"""
        INSERT INTO assessments_studentassessment (source_system, source_id, is_active,
            created_at, updated_at, district_id, student_id, assessment_id, administered_on,
            status)
        SELECT {distinct} '', '', true, %s::timestamptz, %s::timestamptz, r.district_id,
            r.student_id, r.assessment_id, r.scored_on, %s
        FROM score_rows r
        WHERE NOT EXISTS (
            SELECT 1 FROM assessments_studentassessment sa
            WHERE sa.student_id = r.student_id AND sa.assessment_id = r.assessment_id
              AND sa.administered_on = r.scored_on)
        {in_key_order}
        """,  # noqa: S608 (the clauses are constants)
        [now, now, ScoreStatus.SCORED],
    )
    cursor.execute(
        """
        UPDATE score_rows r SET student_assessment_id = sa.id
        FROM assessments_studentassessment sa
        WHERE sa.student_id = r.student_id AND sa.assessment_id = r.assessment_id
          AND sa.administered_on = r.scored_on
        """
    )
    cursor.execute("ANALYZE score_rows")  # the update left a dead row behind each live one
    # The changed scores' ids with their result and item: joined back to score_rows below, so
    # that the pairs are built without reading the score and result tables again.
    cursor.execute(
        "CREATE TEMP TABLE score_changed (id bigint, student_assessment_id bigint,"
        " item_id bigint, inserted boolean) ON COMMIT DROP"
    )
    compared = ("points", "rubric_level", "normalized", "status", "comment")
    # Scores that exist and differ are updated, then the missing ones inserted, whole-assessment
    # scores (no item) and item scores apart so that each join is a plain equality.
    for same_item, where in (
        ("sc.item_id IS NULL", "r.item_id IS NULL"),
        ("sc.item_id = r.item_id", "r.item_id IS NOT NULL"),
    ):
        cursor.execute(
            f"""
            WITH updated AS (
                UPDATE assessments_score sc SET
                    {", ".join(f"{c} = r.{c}" for c in compared)},
                    source_extra = COALESCE(r.source_extra, sc.source_extra), updated_at = %s
                FROM score_rows r
                WHERE {where} AND sc.student_assessment_id = r.student_assessment_id
                  AND {same_item}
                  AND ({", ".join(f"sc.{c}" for c in compared)}, sc.source_extra)
                      IS DISTINCT FROM ({", ".join(f"r.{c}" for c in compared)},
                      COALESCE(r.source_extra, sc.source_extra))
                RETURNING sc.id, sc.student_assessment_id, sc.item_id
            )
            INSERT INTO score_changed SELECT id, student_assessment_id, item_id, false
            FROM updated
            """,  # noqa: S608 (column names are constants)
            [now],
        )
        cursor.execute(
            f"""
            WITH inserted AS (
                INSERT INTO assessments_score (district_id, student_assessment_id, item_id,
                    student_id, points, rubric_level, normalized, scored_on, status, source,
                    comment, source_system, source_id, source_extra, entered_by_id, created_at,
                    updated_at)
                SELECT r.district_id, r.student_assessment_id, r.item_id, r.student_id,
                    r.points, r.rubric_level, r.normalized, r.scored_on, r.status, %s,
                    r.comment, r.source_system, r.source_id, COALESCE(r.source_extra, '{{}}'),
                    NULL, %s, %s
                FROM score_rows r
                WHERE {where} AND NOT EXISTS (
                    SELECT 1 FROM assessments_score sc
                    WHERE sc.student_assessment_id = r.student_assessment_id AND {same_item})
                ORDER BY r.student_assessment_id, r.item_id
                RETURNING id, student_assessment_id, item_id
            )
            INSERT INTO score_changed SELECT id, student_assessment_id, item_id, true
            FROM inserted
            """,  # noqa: S608 (column names are constants)
            [source, now, now],
        )
    cursor.execute(
        "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted)"
        " FROM score_changed"
    )
    result.created, result.updated = cursor.fetchone()
    cursor.execute("ANALYZE score_changed")
    result.unchanged = staged - result.created - result.updated
    if not result.created and not result.updated:
        return
    # Each changed score's standards: its item's alignment, else its assessment's. A result
    # holds one score per item and one without, so (result, item) finds each changed score's
    # staged row; whole-assessment and item scores apart, so that each join is a plain equality
    # the planner can estimate (it then hashes the alignments instead of probing them per row).
    cursor.execute(
        """
        CREATE TEMP TABLE score_pairs ON COMMIT DROP AS
        SELECT c.id AS score_id, r.student_id, st.standard_id, r.item_id, r.assessment_id,
               r.scored_on, r.normalized, r.status, c.inserted
        FROM score_changed c
        JOIN score_rows r
            ON r.student_assessment_id = c.student_assessment_id AND r.item_id IS NULL
        JOIN assessments_assessment_standards st ON st.assessment_id = r.assessment_id
        WHERE c.item_id IS NULL
        UNION ALL
        SELECT c.id, r.student_id, st.standard_id, r.item_id, r.assessment_id,
               r.scored_on, r.normalized, r.status, c.inserted
        FROM score_changed c
        JOIN score_rows r
            ON r.student_assessment_id = c.student_assessment_id AND r.item_id = c.item_id
        JOIN assessments_assessmentitem_standards st ON st.assessmentitem_id = r.item_id
        WHERE c.item_id IS NOT NULL
        """
    )
    cursor.execute("ANALYZE score_pairs")
    # Only a changed score can have evidence already (a new one has none yet).
    cursor.execute(
        "DELETE FROM assessments_masteryevidence WHERE score_id IN "
        "(SELECT id FROM score_changed WHERE NOT inserted)"
    )
    cursor.execute(
        """
        INSERT INTO assessments_masteryevidence (score_id, student_id, standard_id,
            item_key, observed_on, value)
        SELECT score_id, student_id, standard_id,
               CASE WHEN item_id IS NOT NULL THEN 'i' || item_id ELSE 'a' || assessment_id END,
               scored_on, normalized
        FROM score_pairs WHERE normalized IS NOT NULL AND status = ANY(%s)
        ORDER BY student_id, standard_id, scored_on
        """,
        [[str(status) for status in EVIDENCE_STATUSES]],
    )
    # Pending marks, as estimates_mark_pending; a correction, or evidence dated before what
    # the estimate already reflects, needs a full recompute. Existing estimates are updated
    # first and only then are the missing ones inserted (already pending), so that a first
    # import writes each estimate row once, not twice.
    cursor.execute(
        """
        CREATE TEMP TABLE score_pair_marks ON COMMIT DROP AS
        SELECT student_id, standard_id, bool_or(NOT inserted) AS corrected,
               min(scored_on) FILTER (
                   WHERE normalized IS NOT NULL AND status = ANY(%s)) AS earliest
        FROM score_pairs GROUP BY student_id, standard_id
        ORDER BY student_id, standard_id
        """,
        [[str(status) for status in EVIDENCE_STATUSES]],
    )
    cursor.execute("ANALYZE score_pair_marks")
    cursor.execute(
        """
        UPDATE assessments_masteryestimate e
        SET pending_since = %s,
            needs_full_recompute = e.needs_full_recompute OR p.corrected
                OR (e.latest_observed_on IS NOT NULL AND p.earliest < e.latest_observed_on)
        FROM score_pair_marks p
        WHERE e.student_id = p.student_id AND e.standard_id = p.standard_id
        RETURNING e.id
        """,
        [now],
    )
    estimate_ids = [row[0] for row in cursor.fetchall()]
    # Someone else may insert an estimate meanwhile unless the tables are locked: then the
    # speculative insertion of ON CONFLICT is needed, otherwise a plain anti-join is cheaper.
    missing_only = (
        """WHERE NOT EXISTS (
            SELECT 1 FROM assessments_masteryestimate e
            WHERE e.student_id = p.student_id AND e.standard_id = p.standard_id)
        ORDER BY p.student_id, p.standard_id"""
        if tables_locked
        else "ORDER BY p.student_id, p.standard_id ON CONFLICT (student_id, standard_id) DO NOTHING"
    )
    cursor.execute(
        f"""
        INSERT INTO assessments_masteryestimate (student_id, standard_id, probability,
            level, evidence_count, trend, method, computed_at, latest_observed_on,
            latest_evidence_id, state, pending_since, needs_full_recompute)
        SELECT p.student_id, p.standard_id, NULL::float8, 0, 0, %s, '',
            NULL::timestamptz, NULL::date, NULL::bigint, '{{}}'::jsonb, %s::timestamptz, false
        FROM score_pair_marks p
        {missing_only}
        RETURNING id
        """,  # noqa: S608 (the clause is one of two constants)
        [Trend.FLAT, now],
    )
    estimate_ids.extend(row[0] for row in cursor.fetchall())
    if estimate_ids:
        cursor.execute("SELECT DISTINCT district_id FROM score_rows")
        mastery_changed_on_commit(row[0] for row in cursor.fetchall())
    result.estimate_ids = sorted(estimate_ids)
    result.pairs_marked = len(result.estimate_ids)
    for table in ("score_rows", "score_changed", "score_pairs", "score_pair_marks"):
        cursor.execute(f"DROP TABLE {table}")

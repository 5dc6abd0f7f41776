"""gradebook_mastery: from a OneRoster gradebook import's commit to current mastery estimates.

`make_oneroster --students N` (not timed), its roster imported (not timed), then the whole export
with its gradebook imported by a child `manage.py import_oneroster` while a real Celery worker
(prefork, 2 processes, Redis broker) runs. The import marks every affected estimate pending and,
after its commit, enqueues chunks of them (assessments.services.recompute_batches) that the
worker's processes share; on PostgreSQL each chunk is recomputed set-based
(assessments.recompute_sql). Timed: from the commit (the first moment the pending estimates are
visible, polled every POLL_S) to no estimate pending. Baseline in the same run: a raw ordered read
of the same evidence rows (what PostgreSQL alone costs to hand them over in the engine's order).
"""

from __future__ import annotations

import sys
import threading
import time

from bench.bench_oneroster import roster_only
from bench.common import (
    BenchError,
    Context,
    Section,
    Server,
    celery_worker_args,
    celery_worker_wait,
    child_env,
    fmt_s,
    load_average,
    log,
    manage,
    median,
    ratio_of_runs,
    redis_db_clear,
    runs_label,
    table,
)

NAME = "gradebook_mastery"
TITLE = "gradebook_mastery: a OneRoster gradebook import's estimates made current (PostgreSQL)"
ORDER = 45
DEFAULT_REPEAT = 1
DEFAULT_STUDENTS = 86_000
TIMEOUT_S = 3 * 60 * 60
POLL_S = 0.2
GOAL_S = 60
BROKER_URL = "redis://127.0.0.1:6379/14"
# The caches on Redis, as production has them (TRELLIS_CACHE_URL): without it the worker retires
# the dashboard's cache versions in files, each write listing the cache folder (a third of a
# chunk's time).
CACHE_URL = "redis://127.0.0.1:6379/13"
WORKER_QUEUES = "mastery,default"
WORKER_PROCESSES = 2
# Polled: cheap (the first entry of the partial index estimate_pending), so that the poller
# costs PostgreSQL next to nothing; the count is read once, at the commit.
PENDING_SQL = (
    "SELECT EXISTS (SELECT 1 FROM assessments_masteryestimate WHERE pending_since IS NOT NULL)"
)
COUNT_SQL = "SELECT count(*) FROM assessments_masteryestimate WHERE pending_since IS NOT NULL"


def _broker_check(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        if client.dbsize():
            raise BenchError(f"the Redis database of {url} holds keys: it must be empty")
    except redis.RedisError as error:
        raise BenchError(f"Redis is not reachable at {url} ({error})") from error
    finally:
        client.close()


class _PendingWatch:
    """Polls for pending estimates from its own connection: the first seen is the import's
    commit (nothing is pending before it), none left after it the end."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.committed_at: float | None = None
        self.done_at: float | None = None
        self.peak = 0
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        import psycopg

        try:
            with psycopg.connect(self.url, autocommit=True) as conn:
                while not self._stop.is_set():
                    row = conn.execute(PENDING_SQL).fetchone()
                    pending = bool(row and row[0])
                    now = time.perf_counter()
                    if pending and self.committed_at is None:
                        self.committed_at = now
                        counted = conn.execute(COUNT_SQL).fetchone()
                        self.peak = int(counted[0]) if counted else 0
                    if self.committed_at is not None and not pending:
                        self.done_at = now
                        return
                    time.sleep(POLL_S)
        except BaseException as error:  # reported by wait()
            self.error = error

    def wait(self, timeout_s: float) -> None:
        self._thread.join(timeout_s)
        self._stop.set()
        if self.error is not None:
            raise BenchError(f"polling the pending estimates failed: {self.error}")
        if self.done_at is None:
            raise BenchError(f"estimates still pending after {timeout_s:.0f} s")


def raw_ordered_read_seconds(database_url: str) -> tuple[float, int]:
    """The evidence rows in the engine's order (pair, date, id), every column it reads, fetched
    by a client: what PostgreSQL alone costs to hand the recompute its input."""
    import psycopg

    with psycopg.connect(database_url) as conn, conn.cursor(name="raw_read") as cursor:
        cursor.itersize = 50_000
        started = time.perf_counter()
        cursor.execute(
            "SELECT student_id, standard_id, id, observed_on, value, item_key "
            "FROM assessments_masteryevidence ORDER BY student_id, standard_id, observed_on, id"
        )
        rows = sum(1 for _ in cursor)
        return time.perf_counter() - started, rows


def _counts(database_url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        queries = {
            "estimates": "SELECT count(*) FROM assessments_masteryestimate",
            "computed": "SELECT count(*) FROM assessments_masteryestimate "
            "WHERE computed_at IS NOT NULL",
            "evidence": "SELECT count(*) FROM assessments_masteryevidence",
            "history": "SELECT count(*) FROM assessments_masteryestimatehistory",
        }
        counts = {}
        for key, sql in queries.items():
            row = conn.execute(sql).fetchone()
            counts[key] = int(row[0]) if row else 0
        return counts


def run(context: Context) -> Section:
    _broker_check(BROKER_URL)
    _broker_check(CACHE_URL)
    students = context.option("students", DEFAULT_STUDENTS)
    databases = context.databases
    figures: dict[str, list[float]] = {"current": [], "import": [], "after_exit": [], "raw": []}
    counts: dict[str, int] = {}
    loads: list[str] = []
    tasks = 0
    for attempt in range(1, context.repeat + 1):
        db = databases.migrated("gradebook_mastery")
        url = databases.url(db)
        export = context.workdir / f"gradebook-export-{attempt}"
        log(f"run {attempt}: make_oneroster --students {students} (not timed)")
        manage(
            ["make_oneroster", str(export), "--students", str(students)],
            database_url=url,
            log_path=context.workdir / f"gradebook-make-{attempt}.log",
            timeout_s=TIMEOUT_S,
        ).check("make_oneroster")
        roster = roster_only(export, context.workdir / f"gradebook-roster-{attempt}")
        manage(
            ["import_oneroster", str(roster)],
            database_url=url,
            log_path=context.workdir / f"gradebook-roster-{attempt}.log",
            timeout_s=TIMEOUT_S,
            CELERY_BROKER_URL="memory://",
        ).check("import_oneroster (roster)")
        databases.checkpoint()
        worker_log = context.workdir / f"gradebook-worker-{attempt}.log"
        try:
            with Server(
                celery_worker_args(WORKER_QUEUES, WORKER_PROCESSES),
                env=child_env(url, CELERY_BROKER_URL=BROKER_URL, TRELLIS_CACHE_URL=CACHE_URL),
                log_path=worker_log,
            ) as worker:
                celery_worker_wait(worker)
                watch = _PendingWatch(url)
                watch.start()
                log(f"run {attempt}: import_oneroster of the whole export, worker on {BROKER_URL}")
                result = manage(
                    ["import_oneroster", str(export)],
                    database_url=url,
                    log_path=context.workdir / f"gradebook-import-{attempt}.log",
                    timeout_s=TIMEOUT_S,
                    CELERY_BROKER_URL=BROKER_URL,
                    TRELLIS_CACHE_URL=CACHE_URL,
                ).check("import_oneroster (whole export)")
                exited_at = time.perf_counter()
                watch.wait(TIMEOUT_S)
                loads.append(load_average())
        finally:
            redis_db_clear(BROKER_URL)
            redis_db_clear(CACHE_URL)
        if watch.committed_at is None or watch.done_at is None:
            raise BenchError("the pending estimates were never seen")
        figures["current"].append(watch.done_at - watch.committed_at)
        figures["import"].append(result.wall_s)
        figures["after_exit"].append(max(0.0, watch.done_at - exited_at))
        tasks = sum(
            "mastery_recompute[" in line and line.endswith("received")
            for line in worker_log.read_text(errors="replace").splitlines()
        )
        counts = _counts(url)
        if counts["computed"] != counts["estimates"]:
            raise BenchError(f"not every estimate was computed: {counts}")
        raw_s, raw_rows = raw_ordered_read_seconds(url)
        figures["raw"].append(raw_s)
        counts["peak_pending"] = watch.peak
        log(
            f"run {attempt}: current {figures['current'][-1]:.1f} s after the commit "
            f"({watch.peak:,} pending), import {result.wall_s:.1f} s, raw read {raw_s:.2f} s "
            f"({raw_rows:,} rows), load {loads[-1]}"
        )
        databases.release(db)

    current = median(figures["current"])
    raw = median(figures["raw"])
    pending = counts.get("peak_pending", 0)
    body = "\n\n".join(
        [
            f"`make_oneroster --students {students}` (not timed), its roster imported (not "
            "timed), then the whole export with its gradebook imported by a child `manage.py "
            f"import_oneroster` while a real Celery worker runs (prefork, {WORKER_PROCESSES} "
            f"processes, queues {WORKER_QUEUES}, Redis; the caches on Redis too, as production has "
            "them with TRELLIS_CACHE_URL). The import marks {pending:,} estimates "
            "pending and after its commit enqueues them in chunks "
            "(`assessments.services.recompute_batches`) that the worker's processes share; each "
            "chunk is recomputed set-based (`assessments.recompute_sql`: the Canvas methods in "
            "SQL, the learned model in Python batches; this district has no fit, so its "
            "estimates use the fallback Canvas method). Timed from the import's commit (the "
            f"first moment its pending estimates are visible, polled every {POLL_S} s) to no "
            f"estimate pending. {counts.get('evidence', 0):,} evidence rows, "
            f"{counts.get('estimates', 0):,} estimates (all computed), "
            f"{counts.get('history', 0):,} history rows, {tasks} recompute tasks in the worker's "
            f"log. Baseline in the same run: a raw ordered read of the same evidence rows "
            "(pair, date, id; every column the engine reads), fetched by a psycopg client. "
            f"Load average (1/5/15 min) when the estimates were current: {'; '.join(loads)}.",
            table(
                ["figure", runs_label(len(figures["current"])), "baseline (same run)", "ratio"],
                [
                    (
                        f"import commit → no estimate pending (goal < {GOAL_S} s)",
                        fmt_s(current),
                        f"raw ordered read of the evidence: {raw:.2f} s",
                        ratio_of_runs(figures["current"], figures["raw"]),
                    ),
                    (
                        "estimates per second, commit → current",
                        f"{pending / current:,.0f}" if current else "n/a",
                        "",
                        "",
                    ),
                    (
                        "the import child's whole run (roster unchanged, gradebook written)",
                        fmt_s(median(figures["import"])),
                        "",
                        "",
                    ),
                    (
                        "import child's exit → no estimate pending",
                        fmt_s(median(figures["after_exit"])),
                        "",
                        "",
                    ),
                ],
            ),
        ]
    )
    summary = f"{pending:,} estimates current {fmt_s(current)} after the import's commit"
    return Section(body=body, summary=summary)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run through bench/run.py: --only gradebook_mastery")

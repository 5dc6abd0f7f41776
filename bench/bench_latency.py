"""latency: from a score's commit to its mastery estimate, through a real Celery worker.

The child (bench/latency_child.py) records scores at a steady rate, one transaction each, while a
real worker (2 processes, Redis) recomputes; it reports each score's latency (commit to the
estimate reflecting it, seen by a poller every 10 ms). Baseline in the same run: the same scores
with the recompute run inline right after commit, no queue.
"""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Callable

from bench.common import (
    REPO_ROOT,
    BenchError,
    Context,
    Section,
    child_env,
    fmt_ms,
    log,
    median,
    percentile,
    ratio_of_runs,
    run_child,
    runs_label,
    table,
)

NAME = "latency"
TITLE = "latency: score commit to saved estimate through a real worker (PostgreSQL, Redis)"
ORDER = 35
DEFAULT_REPEAT = 3
DEFAULT_RATE = 50  # scores per second
DEFAULT_SECONDS = 30
DEFAULT_STUDENTS = 300
BROKER_URL = "redis://127.0.0.1:6379/11"


def _redis_check() -> None:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=2).close()
    except OSError as error:
        raise BenchError(f"Redis is not reachable on 127.0.0.1:6379 ({error}).") from error


def run(context: Context) -> Section:
    _redis_check()
    rate = context.option("rate", DEFAULT_RATE)
    seconds = context.option("seconds", DEFAULT_SECONDS)
    students = context.option("students", DEFAULT_STUDENTS)
    reports = []
    for attempt in range(1, context.repeat + 1):
        database = context.databases.migrated("latency")
        result = run_child(
            [sys.executable, str(REPO_ROOT / "bench" / "latency_child.py")],
            env=child_env(
                context.databases.url(database),
                CELERY_BROKER_URL=BROKER_URL,
                BENCH_RATE=str(rate),
                BENCH_SECONDS=str(seconds),
                BENCH_STUDENTS=str(students),
            ),
            log_path=context.workdir / f"latency-{attempt}.log",
            timeout_s=seconds * 4 + 600,
        )
        context.databases.release(database)
        result.check("latency child")
        report = json.loads(result.log_path.read_text().strip().splitlines()[-1])
        if len(report["queued"]) != report["scores"]:
            raise BenchError(
                f"only {len(report['queued'])} of {report['scores']} scores reached their "
                "estimates within 60 s of the last commit"
            )
        reports.append(report)
        log(
            f"run {attempt}: queued median {fmt_ms(median(report['queued']))}, "
            f"p95 {fmt_ms(percentile(report['queued'], 95))}"
        )

    def per_run(key: str, statistic: Callable[[list[float]], float]) -> list[float]:
        return [statistic(r[key]) for r in reports]

    def p95(values: list[float]) -> float:
        return percentile(values, 95)

    rows = []
    for label, statistic in (("median", median), ("p95", p95), ("max", max)):
        queued, inline = per_run("queued", statistic), per_run("inline", statistic)
        rows.append(
            [
                f"{label} latency",
                fmt_ms(median(queued)),
                f"inline recompute: {fmt_ms(median(inline))}",
                ratio_of_runs(queued, inline),
            ]
        )
    body = "\n\n".join(
        [
            f"{rate} scores per second for {seconds} s ({rate * seconds:,} scores per run), each "
            f"its own transaction through `scores_record`, on {students} students × 5 standards "
            "with a fitted learned model (`best_lr_recency`, the default) and existing estimates, "
            "so each new score is an incremental update. A real `celery worker` (prefork, 2 "
            "processes, queues mastery and default) on Redis. Latency: from the COMMIT of the "
            "score (an on_commit callback that runs before the enqueue) to a poller, on its own "
            "connection every 10 ms, seeing the estimate's evidence count include the score. The "
            "writer, the poller, the worker and PostgreSQL share the machine's 2 cores. Goal: "
            "p95 under 1 s.",
            table(["figure", runs_label(context.repeat), "baseline (same run)", "ratio"], rows),
        ]
    )
    summary = f"median {rows[0][1]}, p95 {rows[1][1]}"
    return Section(body=body, summary=summary)

"""mastery: a batch recompute of every estimate from its evidence, on PostgreSQL.

The child (bench/mastery_child.py) writes scores and evidence in bulk (not timed), then times
`estimates_recompute` over every estimate in batches of 500, as `recompute_mastery --all` does,
and, as the baseline in the same process, a raw ordered read of the same evidence rows.
"""

from __future__ import annotations

import json
import sys

from bench.common import (
    REPO_ROOT,
    Context,
    Section,
    child_env,
    fmt_s,
    log,
    median,
    ratio_of_runs,
    run_child,
    runs_label,
    table,
)

NAME = "mastery"
TITLE = "mastery: batch recompute of every estimate (PostgreSQL)"
ORDER = 30
DEFAULT_REPEAT = 3
DEFAULT_STUDENTS = 2000
DEFAULT_STANDARDS = 5
DEFAULT_SCORES_PER_PAIR = 10


def run(context: Context) -> Section:
    students = context.option("students", DEFAULT_STUDENTS)
    standards = context.option("standards", DEFAULT_STANDARDS)
    per_pair = context.option("scores_per_pair", DEFAULT_SCORES_PER_PAIR)
    reports = []
    for attempt in range(1, context.repeat + 1):
        database = context.databases.migrated("mastery")
        result = run_child(
            [sys.executable, str(REPO_ROOT / "bench" / "mastery_child.py")],
            env=child_env(
                context.databases.url(database),
                BENCH_STUDENTS=str(students),
                BENCH_STANDARDS=str(standards),
                BENCH_SCORES_PER_PAIR=str(per_pair),
            ),
            log_path=context.workdir / f"mastery-{attempt}.log",
        )
        context.databases.release(database)
        result.check("mastery child")
        lines = result.log_path.read_text().strip().splitlines()
        reports.append(json.loads(lines[-1]))
        log(f"run {attempt}: {reports[-1]}")
    estimates = reports[0]["estimates"]
    evidence = reports[0]["evidence"]
    recompute = median(r["recompute_s"] for r in reports)
    raw = median(r["raw_read_s"] for r in reports)
    per_second = estimates / recompute
    evidence_per_second = evidence / recompute
    rows = [
        [
            "batch recompute of every estimate",
            fmt_s(recompute),
            f"raw ordered read of the evidence: {fmt_s(raw)}",
            ratio_of_runs([r["recompute_s"] for r in reports], [r["raw_read_s"] for r in reports]),
        ],
        ["estimates per second", f"{per_second:,.0f}", "", ""],
        ["scores (evidence rows) per second", f"{evidence_per_second:,.0f}", "", ""],
        [
            "1M scores at this rate (extrapolated; goal < 60 s)",
            fmt_s(1_000_000 / evidence_per_second),
            "",
            "",
        ],
    ]
    body = "\n\n".join(
        [
            f"{students:,} students × {standards} standards × {per_pair} scores per pair: "
            f"{estimates:,} estimates from {evidence:,} evidence rows, recomputed in full "
            "(`needs_full_recompute`, as after a refit or `recompute_mastery --all`) with "
            "`standard_decaying_average`, in batches of 500 (one transaction each: lock, read, "
            "compute, bulk update, history). Setup not timed.",
            table(["figure", runs_label(context.repeat), "baseline (same run)", "ratio"], rows),
            "Not yet measured: commit-to-estimate latency through a real worker at 50 scores/s; "
            "the learned model's incremental update.",
        ]
    )
    return Section(
        body=body,
        summary=f"{per_second:,.0f} estimates/s, {evidence_per_second:,.0f} scores/s",
    )

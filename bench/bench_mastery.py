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
DEFAULT_REPEAT = 2
DEFAULT_STUDENTS = 2000
DEFAULT_STANDARDS = 5
DEFAULT_SCORES_PER_PAIR = 10


METHODS = ("standard_decaying_average", "best_lr_recency")
PROCESSES = (1, 2)


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
                BENCH_METHODS=",".join(METHODS),
                BENCH_PROCESSES=",".join(str(n) for n in PROCESSES),
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
    raw_runs = [r["raw_read_s"] for r in reports]
    rows = []
    summary = []
    for method in METHODS:
        for processes in PROCESSES:
            key = f"{method}/{processes}"
            runs = [r["recompute_s"][key] for r in reports]
            seconds = median(runs)
            per_score = evidence / seconds
            label = f"`{method}`, {processes} process{'es' if processes > 1 else ''}"
            rows.append(
                [
                    label,
                    fmt_s(seconds),
                    f"{estimates / seconds:,.0f}",
                    f"{per_score:,.0f}",
                    fmt_s(1_000_000 / per_score),
                    ratio_of_runs(runs, raw_runs),
                ]
            )
            summary.append(f"{key}: {per_score:,.0f} scores/s")
    fit_s = median(r["fit_s"] for r in reports)
    body = "\n\n".join(
        [
            f"{students:,} students × {standards} standards × {per_pair} scores per pair: "
            f"{estimates:,} estimates from {evidence:,} evidence rows (students of different "
            "ability who improve with practice). Each configuration is `recompute_mastery --all "
            "[--processes N]`: every estimate and learner state rebuilt from the scores alone, "
            "in batches of 500 (one transaction each: lock, read, compute, batched UPDATE, "
            "history). `--processes 2` splits the students between two processes, one per core. "
            "Baseline: a raw ordered read of the same evidence rows in the same run "
            f"(median {fmt_s(median(raw_runs))}). Setup not timed; the learned model's fit "
            f"(`fit_mastery_model` on these {reports[0]['fit_responses']:,} scores) took "
            f"{fmt_s(fit_s)}, held-out AUC {reports[0]['fit_holdout_auc']:.3f}.",
            table(
                [
                    "configuration",
                    runs_label(context.repeat),
                    "estimates/s",
                    "scores/s",
                    "1M scores at this rate (goal < 60 s)",
                    "ratio to raw read",
                ],
                rows,
            ),
        ]
    )
    return Section(body=body, summary="; ".join(summary))

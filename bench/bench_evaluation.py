"""evaluation: `evaluate_mastery` on OLI Engineering Statics 2011, each method's quality and time.

Runs `manage.py evaluate_mastery --train train.tsv --test test.tsv --json` on the real data in
../shared/data/statics2011 (not in this repository) and reports each method's AUC, RMSE, fit time
and predict time. Baseline: the time to read both files into responses, measured in the same run.
No database is needed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from bench.common import (
    REPO_ROOT,
    BenchError,
    Context,
    Section,
    fmt_s,
    log,
    median,
    runs_label,
    table,
)

NAME = "evaluation"
TITLE = "evaluation: `evaluate_mastery` on OLI Statics 2011 (quality and time per method)"
ORDER = 32
DEFAULT_REPEAT = 3
DATA = (REPO_ROOT / ".." / "shared" / "data" / "statics2011").resolve()
READ_FILES = (
    "import sys, time; from assessments.evaluation import read_responses; "
    "t = time.perf_counter(); read_responses(sys.argv[1]); read_responses(sys.argv[2]); "
    "print(time.perf_counter() - t)"
)


def run(context: Context) -> Section:
    train, test = DATA / "train.tsv", DATA / "test.tsv"
    if not train.exists() or not test.exists():
        raise BenchError(f"the Statics data is not at {DATA} (../shared/data/statics2011)")
    reports, reads = [], []
    for attempt in range(1, context.repeat + 1):
        started = time.perf_counter()
        output = subprocess.run(
            [
                sys.executable,
                str(REPO_ROOT / "manage.py"),
                "evaluate_mastery",
                "--train",
                str(train),
                "--test",
                str(test),
                "--json",
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - started
        reports.append(json.loads(output.stdout.strip().splitlines()[-1]))
        read = subprocess.run(
            [sys.executable, "-c", READ_FILES, str(train), str(test)],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        reads.append(float(read.stdout.strip()))
        log(f"run {attempt}: {wall:.1f} s in all, default {reports[-1]['default']}")
    read_s = median(reads)
    names = list(reports[0]["methods"])
    rows = []
    for name in sorted(names, key=lambda n: -(reports[0]["methods"][n]["auc"] or 0)):
        first = reports[0]["methods"][name]
        fit = median(r["methods"][name]["fit_seconds"] for r in reports)
        predict = median(r["methods"][name]["predict_seconds"] for r in reports)
        rows.append(
            [
                f"**{name}** (default)" if name == reports[0]["default"] else name,
                f"{first['auc']:.4f}",
                f"{first['rmse']:.4f}",
                fmt_s(fit) if fit else "–",
                fmt_s(predict),
                f"{(fit + predict) / read_s:.2f}×",
            ]
        )
    body = "\n\n".join(
        [
            "The Gervet et al. split of OLI Engineering Statics 2011: 155,697 training and 33,600 "
            "test responses (`../shared/data/statics2011`). Learned methods fit on the training "
            "log; every test response is predicted from the same student's earlier responses "
            "only. AUC and RMSE are the same in every run (the fit is deterministic); times are "
            "medians. Baseline: reading and parsing both files in the same run "
            f"(median {fmt_s(read_s)}); the last column is (fit + predict) / that. Details and "
            "the published baselines: docs/mastery-evaluation.md.",
            table(
                [
                    "method",
                    "AUC",
                    "RMSE",
                    f"fit ({runs_label(context.repeat)})",
                    "predict",
                    "fit + predict vs reading the data",
                ],
                rows,
            ),
        ]
    )
    best = reports[0]["methods"][reports[0]["default"]]
    return Section(body=body, summary=f"{reports[0]['default']}: AUC {best['auc']:.4f}")

"""The evaluation harness: reading logs, metrics, the protocol, the --json contract, and the real
OLI Statics split when ../shared is beside the repository."""

import io
import json
import math
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import cast

import pytest

from assessments.estimators import DecayingAverage, Response
from assessments.evaluation import (
    ALL_METHODS,
    SkillMeans,
    evaluate,
    predict_canvas,
    read_responses,
    rmse,
    roc_auc,
    run,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
STATICS = (REPO_ROOT / "../shared/data/statics2011").resolve()
HEADER = "user_id\titem_id\ttimestamp\tcorrect\tskill_id\n"


def write_log(path: Path, responses: list[Response]) -> Path:
    lines = [f"{r.student}\t{r.item}\t0\t{r.score:g}\t{r.skill}\n" for r in responses]
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path


def simulate(*, students: int, seed: int, prefix: str) -> list[Response]:
    """Students of known ability on items of known difficulty (fixed by a separate seed so train and
    test share items), improving with practice on each skill."""
    items = random.Random(0)
    difficulty = {
        f"{skill}-{index}": items.gauss(0, 1.2) for skill in "ABCD" for index in range(10)
    }
    generator = random.Random(seed)
    responses = []
    for number in range(students):
        ability = generator.gauss(0, 1)
        practice = dict.fromkeys("ABCD", 0)
        for skill in "ABCD":  # skills in blocks, as a course would teach them
            for _ in range(15):
                item = f"{skill}-{generator.randrange(10)}"
                logit = ability + 0.5 * math.log1p(practice[skill]) - difficulty[item]
                correct = 1.0 if generator.random() < 1 / (1 + math.exp(-logit)) else 0.0
                practice[skill] += 1
                responses.append(Response(f"{prefix}{number}", item, skill, correct))
    return responses


@pytest.fixture(scope="module")
def synthetic_logs(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("logs")
    train = write_log(folder / "train.tsv", simulate(students=120, seed=1, prefix="train"))
    test = write_log(folder / "test.tsv", simulate(students=50, seed=2, prefix="test"))
    return train, test


# ---- reading -------------------------------------------------------------------------------------


def test_read_responses_keeps_order_combined_skills_and_fractions(tmp_path):
    path = tmp_path / "log.tsv"
    path.write_text(
        HEADER + "u1\ti1\t0\t1\t3_7\nu1\ti2\t0\t0.25\t3\nu2\ti1\t0\t0\t\n", encoding="utf-8"
    )
    responses = read_responses(path)
    assert responses == [
        Response("u1", "i1", "3_7", 1.0),  # a multi-skill id stays one combined skill
        Response("u1", "i2", "3", 0.25),
        Response("u2", "i1", "(none)", 0.0),
    ]


def test_read_responses_names_what_is_wrong(tmp_path):
    no_skill = tmp_path / "a.tsv"
    no_skill.write_text("user_id\titem_id\tcorrect\nu\ti\t1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="skill_id"):
        read_responses(no_skill)
    bad_score = tmp_path / "b.tsv"
    bad_score.write_text(HEADER + "u\ti\t0\t1\ts\nu\ti\t0\t7\ts\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"b.tsv:3: 'correct' must be 0..1"):
        read_responses(bad_score)


# ---- metrics -------------------------------------------------------------------------------------


def test_roc_auc_matches_scikit_learn_with_ties():
    from sklearn.metrics import roc_auc_score

    generator = random.Random(5)
    labels = [generator.choice([0.0, 1.0]) for _ in range(500)]
    predictions = [round(generator.random(), 1) for _ in labels]  # many ties
    assert roc_auc(labels, predictions) == pytest.approx(roc_auc_score(labels, predictions))
    # Positives: 0.9 and 0.4; negatives: 0.1 and 0.4. Pairs: (0.9>0.1) 1, (0.9>0.4) 1,
    # (0.4>0.1) 1, (0.4=0.4) 1/2 -> 3.5 / 4
    assert roc_auc([1, 1, 0, 0], [0.9, 0.4, 0.1, 0.4]) == pytest.approx(0.875)
    assert roc_auc([1, 1], [0.2, 0.3]) is None


def test_rmse():
    # errors 0.5 and 0.1: sqrt((0.25 + 0.01) / 2)
    assert rmse([1.0, 0.0], [0.5, 0.1]) == pytest.approx(math.sqrt(0.13))


# ---- protocol ------------------------------------------------------------------------------------


def test_canvas_first_attempt_gets_the_skill_training_mean():
    train = [
        Response("t", "i", "A", 1.0),
        Response("t", "i", "A", 0.0),
        Response("t", "j", "B", 1.0),
    ]
    means = SkillMeans.of(train)  # A: 0.5, B: 1.0, overall 2/3
    test = [
        Response("x", "i", "A", 1.0),  # first A for x: 0.5
        Response("x", "i", "A", 0.0),  # after [1.0]: 1.0
        Response("x", "k", "Z", 1.0),  # skill unseen in training: 2/3
        Response("y", "i", "A", 1.0),  # another student's first A: 0.5
        Response("x", "i", "A", 1.0),  # after [1.0, 0.0]: 0.65 * 0 + 0.35 * 1 = 0.35
    ]
    predictions = predict_canvas(DecayingAverage(), test, means)
    assert predictions == pytest.approx([0.5, 1.0, 2 / 3, 0.5, 0.35])


def test_learned_model_beats_canvas_average_on_simulated_students(synthetic_logs):
    train_path, test_path = synthetic_logs
    report = evaluate(
        read_responses(train_path),
        read_responses(test_path),
        methods=["best_lr_recency", "irt", "average", "decaying_average"],
    )
    # Both classes occur in these test logs, so every method has an AUC (None only without).
    auc = {result.name: cast(float, result.auc) for result in report.results}
    # Item difficulty alone beats per-skill averages here, and the full model beats both.
    assert auc["best_lr_recency"] > auc["average"] + 0.05
    assert auc["best_lr_recency"] > auc["irt"]
    assert report.default == "best_lr_recency"
    assert [result.auc for result in report.results] == sorted(auc.values(), reverse=True)


def test_json_output_is_one_last_line_with_every_method(synthetic_logs):
    train_path, test_path = synthetic_logs
    stdout, stderr = io.StringIO(), io.StringIO()
    run(train_path=train_path, test_path=test_path, as_json=True, stdout=stdout, stderr=stderr)
    lines = stdout.getvalue().splitlines()
    assert len(lines) == 1
    payload = json.loads(lines[-1])
    assert set(payload) == {"methods", "default"}
    assert set(payload["methods"]) == set(ALL_METHODS)
    for scores in payload["methods"].values():
        assert 0.0 <= scores["auc"] <= 1.0
        assert 0.0 <= scores["rmse"] <= 1.0
        assert scores["fit_seconds"] >= 0.0 and scores["predict_seconds"] >= 0.0
    best = max(payload["methods"], key=lambda name: payload["methods"][name]["auc"])
    assert payload["default"] == best
    assert "fitting" in stderr.getvalue()  # progress goes to stderr


def test_table_output_lists_methods_and_timings(synthetic_logs):
    train_path, test_path = synthetic_logs
    stdout = io.StringIO()
    methods = ["pfa", "latest"]
    run(
        train_path=train_path,
        test_path=test_path,
        methods=methods,
        stdout=stdout,
        stderr=io.StringIO(),
    )
    table = stdout.getvalue()
    assert "AUC" in table and "RMSE" in table and "fit s" in table and "predict s" in table
    assert all(name in table for name in methods)
    assert "<- default" in table


def test_command_line_prints_json_last_on_stdout(synthetic_logs):
    train_path, test_path = synthetic_logs
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "assessments.evaluation",
            "--train",
            str(train_path),
            "--test",
            str(test_path),
            "--json",
            "--methods",
            "best_lr,highest",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    last_line = completed.stdout.strip().splitlines()[-1]
    assert set(json.loads(last_line)["methods"]) == {"best_lr", "highest"}


def test_management_command_wraps_the_harness(synthetic_logs):
    if not (REPO_ROOT / "manage.py").exists() or not (REPO_ROOT / "assessments/apps.py").exists():
        pytest.skip("the Django project skeleton is not there yet")
    train_path, test_path = synthetic_logs
    completed = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "evaluate_mastery",
            "--train",
            str(train_path),
            "--test",
            str(test_path),
            "--json",
            "--methods",
            "irt,average",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    payload = json.loads(completed.stdout.strip().splitlines()[-1])
    assert set(payload["methods"]) == {"irt", "average"}
    assert payload["default"] in payload["methods"]


def test_unknown_method_is_refused(synthetic_logs):
    train_path, test_path = synthetic_logs
    with pytest.raises(ValueError, match="unknown methods"):
        evaluate(read_responses(train_path), read_responses(test_path), methods=["dkt"])


# ---- real data -----------------------------------------------------------------------------------


def test_default_method_on_oli_statics_2011():
    if not (STATICS / "train.tsv").exists():
        pytest.skip("OLI Statics 2011 not available (../shared/data/statics2011 absent)")
    started = time.perf_counter()
    report = evaluate(
        read_responses(STATICS / "train.tsv"),
        read_responses(STATICS / "test.tsv"),
        methods=["best_lr_recency", "decaying_average"],
    )
    # Both classes occur in these test logs, so every method has an AUC (None only without).
    auc = {result.name: cast(float, result.auc) for result in report.results}
    assert report.default == "best_lr_recency"
    assert auc["best_lr_recency"] >= 0.81  # published: best-LR 0.82, DKT 0.83 on this split
    # Canvas's decaying average reproduces its published number on this split.
    assert auc["decaying_average"] == pytest.approx(0.662, abs=0.005)
    assert time.perf_counter() - started < 120

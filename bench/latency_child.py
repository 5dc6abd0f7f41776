"""Child process of bench_latency: a score's commit to its estimate, through a real Celery worker.

Builds a small district with a fitted learned model and estimates (not timed), starts a Celery
worker (2 processes, the mastery queue, Redis), then records one score every 1/RATE seconds, each
in its own transaction, as teachers and a trickle of imports do. A poller on its own connection
watches for each estimate to reflect its score (its evidence count reaches the expected value),
every 10 ms. Latency = seen - commit (the commit time is taken by an on_commit callback registered
before the score service's own, so it runs first, right after COMMIT). Baseline in the same run:
the same recompute run inline right after commit, without the queue. Prints one JSON line.
"""

import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import cast

import django


def main() -> None:
    django.setup()
    from django.db import connections, transaction

    from assessments.engine import estimates_recompute
    from assessments.models import Assessment, MasteryEstimate, Standard
    from assessments.services import ScoreInput, mastery_model_fit, scores_record
    from bench.common import celery_worker_args
    from students.models import District, Student

    rate = float(os.environ["BENCH_RATE"])
    seconds = float(os.environ["BENCH_SECONDS"])
    students_n = int(os.environ["BENCH_STUDENTS"])
    rng = random.Random(11)

    district = District.objects.create(name="Latency", source_system="bench", source_id="lat")
    standards = [
        Standard.objects.create(district=district, code=f"L.{n}", subject="Mathematics")
        for n in range(5)
    ]
    students = Student.objects.bulk_create(
        Student(district=district, first_name="S", last_name=str(n)) for n in range(students_n)
    )
    total = int(rate * seconds)
    # History to fit on, then one new assessment per standard per day for the timed scores.
    history: list[ScoreInput] = []
    for day in range(20):
        assessment = Assessment.objects.create(
            district=district,
            title=f"H{day}",
            max_points=1,
            due_on=dt.date(2026, 9, 1) + dt.timedelta(days=day),
        )
        assessment.standards.add(standards[day % 5])
        history.extend(
            ScoreInput(
                student_id=s.pk,
                assessment_id=assessment.pk,
                points=Decimal(int(rng.random() < 0.6)),
                scored_on=cast(dt.date, assessment.due_on),  # created with one above
            )
            for s in students
        )
    scores_record(scores=history, enqueue=False)
    mastery_model_fit(district_id=district.pk, enqueue=False)
    estimates_recompute(list(MasteryEstimate.objects.values_list("pk", flat=True)))
    timed = []
    needed_assessments = total // students_n + 2
    for day in range(needed_assessments * 2):
        assessment = Assessment.objects.create(
            district=district,
            title=f"T{day}",
            max_points=1,
            due_on=dt.date(2026, 10, 1) + dt.timedelta(days=day % needed_assessments),
        )
        assessment.standards.add(standards[day % 5])
        timed.append(assessment)

    def plan_for(part: int) -> list:
        # Each run scores its own assessments: every score is new evidence, dated after the last.
        own = timed[part * needed_assessments : (part + 1) * needed_assessments]
        return [(students[i % students_n], own[i // students_n]) for i in range(total)]

    def run(inline: bool, plan: list) -> list[float]:
        counts = dict(MasteryEstimate.objects.values_list("pk", "evidence_count"))
        # Per estimate, in commit order: (the evidence count that reflects the score, commit time).
        waiting: dict[int, list[tuple[int, float]]] = {}
        latencies: list[float] = []
        lock = threading.Lock()
        writing_done = threading.Event()

        def poll() -> None:
            give_up = None
            while True:
                with lock:
                    pks = [pk for pk, queue in waiting.items() if queue]
                if not pks and writing_done.is_set():
                    break
                if pks:
                    rows = list(
                        MasteryEstimate.objects.filter(pk__in=pks).values_list(
                            "pk", "evidence_count"
                        )
                    )
                    seen_at = time.time()
                    with lock:
                        for pk, count in rows:
                            queue = waiting[pk]
                            while queue and queue[0][0] <= count:
                                latencies.append(seen_at - queue.pop(0)[1])
                if writing_done.is_set():
                    give_up = give_up or time.time() + 60
                    if time.time() > give_up:
                        break
                time.sleep(0.01)
            connections.close_all()

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        start = time.time()
        for n, (student, assessment) in enumerate(plan):
            wait = start + n / rate - time.time()
            if wait > 0:
                time.sleep(wait)
            marks: list[float] = []
            with transaction.atomic():
                # mypy cannot infer a lambda whose parameter has a default.
                transaction.on_commit(
                    cast("Callable[[], object]", lambda marks=marks: marks.append(time.time()))
                )
                result = scores_record(
                    scores=[
                        ScoreInput(
                            student_id=student.pk,
                            assessment_id=assessment.pk,
                            points=Decimal(int(rng.random() < 0.7)),
                            scored_on=assessment.due_on,
                        )
                    ],
                    enqueue=not inline,
                )
            (pk,) = result.estimate_ids
            with lock:
                counts[pk] = counts.get(pk, 0) + 1
                waiting.setdefault(pk, []).append((counts[pk], marks[0]))
            if inline:
                estimates_recompute([pk])
        writing_done.set()
        poller.join()
        return latencies

    inline = run(inline=True, plan=plan_for(0))
    worker = subprocess.Popen(
        celery_worker_args("mastery,default", 2, loglevel="WARNING"),
        stdout=sys.stderr,
        stderr=sys.stderr,
        start_new_session=True,
    )
    try:
        from config.celery_app import app

        for _ in range(60):  # the worker's start, not timed
            if app.control.ping(timeout=1.0):
                break
        queued = run(inline=False, plan=plan_for(1))
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    print(json.dumps({"scores": total, "rate": rate, "queued": queued, "inline": inline}))


if __name__ == "__main__":
    main()

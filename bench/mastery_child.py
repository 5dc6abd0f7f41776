"""Child process of bench_mastery: builds scores in bulk (not timed), fits the learned model (timed
on its own), then times a full recompute of every estimate (`recompute_mastery --all`) for each
method and process count, and a raw read of the same evidence as the baseline. Prints one JSON
line."""

import datetime as dt
import io
import json
import os
import random
import sys
import time
from typing import cast

import django


def main() -> None:
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from assessments.models import (
        Assessment,
        MasteryEstimate,
        MasteryEvidence,
        MasteryPolicy,
        Score,
        Standard,
        StudentAssessment,
    )
    from assessments.services import mastery_model_fit
    from students.models import District, Student

    students_n = int(os.environ["BENCH_STUDENTS"])
    standards_n = int(os.environ["BENCH_STANDARDS"])
    per_pair = int(os.environ["BENCH_SCORES_PER_PAIR"])
    methods = os.environ["BENCH_METHODS"].split(",")
    process_counts = [int(n) for n in os.environ["BENCH_PROCESSES"].split(",")]
    rng = random.Random(2026)
    district = District.objects.create(name="Bench district", source_system="bench", source_id="d")
    standards = Standard.objects.bulk_create(
        Standard(district=district, code=f"B.{n}", subject="Mathematics")
        for n in range(standards_n)
    )
    assessments = Assessment.objects.bulk_create(
        Assessment(
            district=district,
            title=f"Q{n}",
            max_points=1,
            due_on=dt.date(2026, 9, 1) + dt.timedelta(days=n),
        )
        for n in range(per_pair * standards_n)
    )
    students = Student.objects.bulk_create(
        Student(district=district, first_name="S", last_name=str(n)) for n in range(students_n)
    )
    setup_started = time.perf_counter()
    # Students differ in ability and improve with practice, so the fit has something to learn.
    ability = {student.pk: rng.gauss(0, 1) for student in students}
    for start in range(0, len(students), 200):
        group = students[start : start + 200]
        results = StudentAssessment.objects.bulk_create(
            StudentAssessment(
                district=district,
                student=student,
                assessment=a,
                administered_on=cast(dt.date, a.due_on),  # every assessment above has one
            )
            for student in group
            for a in assessments
        )
        scores = Score.objects.bulk_create(
            Score(
                district=district,
                student_assessment=r,
                student_id=r.student_id,
                normalized=float(
                    rng.random()
                    < 1 / (1 + 2.718 ** -(ability[r.student_id] + 0.05 * (i % len(assessments))))
                ),
                scored_on=r.administered_on,
            )
            for i, r in enumerate(results)
        )
        MasteryEvidence.objects.bulk_create(
            MasteryEvidence(
                score=score,
                student_id=score.student_id,
                standard=standards[i % standards_n],
                item_key=f"a{score.student_assessment.assessment_id}",
                observed_on=score.scored_on,
                value=cast(float, score.normalized),  # every score above has one
            )
            for i, score in enumerate(scores)
        )
    MasteryEstimate.objects.bulk_create(
        MasteryEstimate(student=s, standard=t, needs_full_recompute=True)
        for s in students
        for t in standards
    )
    setup_s = time.perf_counter() - setup_started
    started = time.perf_counter()
    fit = mastery_model_fit(district_id=district.pk, enqueue=False)
    fit_s = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")
    estimates_n = MasteryEstimate.objects.count()
    evidence_n = MasteryEvidence.objects.count()

    started = time.perf_counter()
    rows = 0
    for _ in (
        MasteryEvidence.objects.order_by("student_id", "standard_id", "observed_on", "id")
        .values_list("student_id", "standard_id", "id", "observed_on", "value", "item_key")
        .iterator(chunk_size=5000)
    ):
        rows += 1
    raw_read_s = time.perf_counter() - started

    timings = {}
    for method in methods:
        MasteryPolicy.objects.update_or_create(district=district, defaults={"method": method})
        for processes in process_counts:
            print(f"recompute: {method}, {processes} process(es)", file=sys.stderr, flush=True)
            out = io.StringIO()
            started = time.perf_counter()
            call_command(
                "recompute_mastery", "--all", "--processes", str(processes), "--json", stdout=out
            )
            elapsed = time.perf_counter() - started
            used = sorted(set(MasteryEstimate.objects.values_list("method", flat=True)))
            if used != [method]:
                raise SystemExit(f"expected every estimate computed with {method}, got {used}")
            timings[f"{method}/{processes}"] = elapsed
    print(
        json.dumps(
            {
                "estimates": estimates_n,
                "evidence": evidence_n,
                "setup_s": setup_s,
                "fit_s": fit_s,
                "fit_responses": fit.responses,
                "fit_holdout_auc": fit.holdout_auc,
                "raw_read_s": raw_read_s,
                "rows_read": rows,
                "recompute_s": timings,
            }
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()

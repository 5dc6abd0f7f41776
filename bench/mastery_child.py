"""Child process of bench_mastery: builds scores in bulk (not timed), then times a full batch
recompute of every estimate, and a raw read of the same evidence as the baseline. Prints one JSON
line."""

import datetime as dt
import json
import os
import random
import sys
import time

import django


def main() -> None:
    django.setup()
    from django.db import connection

    from assessments.engine import estimates_recompute
    from assessments.models import (
        Assessment,
        MasteryEstimate,
        MasteryEvidence,
        Score,
        Standard,
        StudentAssessment,
    )
    from students.models import District, Student

    students_n = int(os.environ["BENCH_STUDENTS"])
    standards_n = int(os.environ["BENCH_STANDARDS"])
    per_pair = int(os.environ["BENCH_SCORES_PER_PAIR"])
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
    for student in students:
        results = StudentAssessment.objects.bulk_create(
            StudentAssessment(
                district=district, student=student, assessment=a, administered_on=a.due_on
            )
            for a in assessments
        )
        scores = Score.objects.bulk_create(
            Score(
                district=district,
                student_assessment=r,
                student=student,
                normalized=rng.random(),
                scored_on=r.administered_on,
            )
            for r in results
        )
        MasteryEvidence.objects.bulk_create(
            MasteryEvidence(
                score=score,
                student=student,
                standard=standards[i % standards_n],
                item_key=f"a{score.student_assessment.assessment_id}",
                observed_on=score.scored_on,
                value=score.normalized,
            )
            for i, score in enumerate(scores)
        )
    MasteryEstimate.objects.bulk_create(
        MasteryEstimate(student=s, standard=t, needs_full_recompute=True)
        for s in students
        for t in standards
    )
    setup_s = time.perf_counter() - setup_started
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
    ids = list(MasteryEstimate.objects.order_by("pk").values_list("pk", flat=True))
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

    started = time.perf_counter()
    for start in range(0, len(ids), 500):
        estimates_recompute(ids[start : start + 500])
    recompute_s = time.perf_counter() - started
    print(
        json.dumps(
            {
                "estimates": len(ids),
                "evidence": evidence_n,
                "setup_s": setup_s,
                "recompute_s": recompute_s,
                "raw_read_s": raw_read_s,
                "rows_read": rows,
            }
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()

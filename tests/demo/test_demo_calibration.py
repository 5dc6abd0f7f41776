"""The demo's estimates read like its scores: the learned model, refitted as the year goes, does not
extrapolate September's fit into December's longer histories (one fit did: most estimates read
Exceeds Mastery, some over students whose every recent score was below 40%)."""

from collections import defaultdict
from datetime import date
from statistics import mean

import pytest

from assessments.models import MasteryEstimate, MasteryEvidence, MasteryModelFit
from demo import district as demo

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 4)
STUDENTS = 300
SEED = 5


def test_todays_estimates_are_calibrated_to_recent_scores() -> None:
    built = demo.build_demo_district(students=STUDENTS, seed=SEED, today=TODAY)
    district = built.district
    recent: dict[tuple[int, int], list[float]] = defaultdict(list)
    for student, standard, value in (
        MasteryEvidence.objects.filter(student__district=district)
        .order_by("observed_on", "id")
        .values_list("student_id", "standard_id", "value")
    ):
        recent[(student, standard)].append(value)
    pairs: list[tuple[float, list[float]]] = [
        (probability or 0.0, recent[(student, standard)][-3:])
        for student, standard, probability in MasteryEstimate.objects.filter(
            student__district=district, probability__isnull=False
        ).values_list("student_id", "standard_id", "probability")
        if recent[(student, standard)]
    ]
    assert len(pairs) > 1000

    # One fit per month lived after the first, and last night's.
    assert MasteryModelFit.objects.filter(district=district).count() >= 3

    # On average, an estimate is within 0.08 of the mean of its pair's last three scores.
    mean_probability = mean(p for p, _ in pairs)
    mean_recent = mean(mean(scores) for _, scores in pairs)
    assert abs(mean_probability - mean_recent) < 0.08, (mean_probability, mean_recent)

    # Among pairs read as likely (0.85 or more), recent scores are high too.
    likely = [mean(scores) for p, scores in pairs if p >= 0.85]
    assert likely and mean(likely) > 0.75, mean(likely)

    # No pair whose last three scores were all below 40% reads at 0.85 or more.
    contradicted = [
        (p, scores) for p, scores in pairs if p >= 0.85 and len(scores) == 3 and max(scores) < 0.4
    ]
    assert not contradicted, contradicted[:5]

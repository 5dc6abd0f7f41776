import datetime as dt
import json
import random
from decimal import Decimal
from typing import cast

import pytest
from django.core.management import call_command

from assessments.models import Assessment, MasteryModelFit, Standard
from assessments.services import ScoreInput, scores_record
from tests import factories

pytestmark = pytest.mark.django_db


def _simulated_district(students: int = 100) -> int:
    rng = random.Random(7)
    district = factories.DistrictFactory.create()
    standards = [
        Standard.objects.create(district=district, code=f"SIM.{n}", subject="Mathematics")
        for n in range(3)
    ]
    assessments = []
    for week in range(12):
        assessment = Assessment.objects.create(
            district=district,
            title=f"Quiz {week}",
            max_points=1,
            due_on=dt.date(2026, 9, 1) + dt.timedelta(weeks=week),
        )
        assessment.standards.add(standards[week % 3])
        assessments.append(assessment)
    inputs = []
    for _ in range(students):
        student = factories.StudentFactory.create(district=district)
        ability = rng.gauss(0, 1.2)
        for week, assessment in enumerate(assessments):
            p = 1 / (1 + pow(2.718, -(ability + 0.25 * week - 1)))
            inputs.append(
                ScoreInput(
                    student_id=student.pk,
                    assessment_id=assessment.pk,
                    points=Decimal(int(rng.random() < p)),
                    scored_on=cast(dt.date, assessment.due_on),  # every quiz has a due date
                )
            )
    scores_record(scores=inputs, enqueue=False)
    return district.pk


def test_fit_uses_the_districts_own_scores_and_generalizes(capsys) -> None:
    district_id = _simulated_district()
    call_command("fit_mastery_model", "--district", str(district_id), "--json")
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["districts"][
        str(district_id)
    ]
    assert report["responses"] == 100 * 12
    # Students differ in ability: a model of their history must predict their next scores.
    assert report["holdout_auc"] > 0.65
    fit = MasteryModelFit.objects.get(district_id=district_id, is_active=True)
    assert fit.parameters and fit.responses_used == 1200
    # A refit replaces the active fit.
    call_command("fit_mastery_model", "--district", str(district_id))
    assert MasteryModelFit.objects.filter(district_id=district_id, is_active=True).count() == 1


def test_too_little_evidence_fits_nothing(capsys) -> None:
    district_id = _simulated_district(students=3)
    call_command("fit_mastery_model", "--district", str(district_id), "--json")
    assert not MasteryModelFit.objects.exists()

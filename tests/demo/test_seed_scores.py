"""The demo district's standards, assessments, scores and mastery estimates (seed_assessments)."""

from datetime import date

import pytest
from django.db.models import Count

from assessments.models import (
    Assessment,
    MasteryEstimate,
    PerformanceLevel,
    Score,
    Standard,
    StandardKind,
    StudentAssessment,
)
from demo import district as demo
from students.models import Section

TODAY = date(2030, 3, 2)
STUDENTS = 260


@pytest.mark.django_db(transaction=False)
def test_the_demo_district_has_standards_assessments_scores_and_estimates() -> None:
    built = demo.build_demo_district(students=STUDENTS, seed=7, today=TODAY)
    district = built.district

    standards = Standard.objects.filter(district=district, kind=StandardKind.STANDARD)
    assert standards.count() >= 100
    assert not standards.filter(parent__isnull=True).exists()
    for standard in standards.select_related("parent__parent"):
        cluster = standard.parent
        assert cluster is not None and cluster.kind == StandardKind.CLUSTER
        assert cluster.parent is not None and cluster.parent.kind == StandardKind.DOMAIN
        assert standard.source_system == "demo"
        assert (
            standard.framework
            == {
                "Mathematics": "CCSS",
                "English Language Arts": "CCSS",
                "Science": "NGSS",
                "Social Studies": "C3",
            }[standard.subject]
        )
        assert standard.description and standard.parent_description
        # In the portal's other language too (demo.parent_descriptions).
        assert standard.parent_description_es

    # Every subject the demo teaches has standards and assessments aligned to them.
    sections = Section.objects.filter(district=district)
    assert set(sections.values_list("subject", flat=True)) == {
        "Mathematics",
        "English Language Arts",
        "Science",
        "Social Studies",
    }
    for section in sections:
        assessments = Assessment.objects.filter(section=section).prefetch_related("standards")
        assert assessments.count() >= 10, section
        for assessment in assessments:
            aligned = list(assessment.standards.all())
            assert 1 <= len(aligned) <= 3
            assert {s.subject for s in aligned} == {section.subject}
            assert all(section.grade_levels[0] in s.grade_levels for s in aligned)
            assert assessment.due_on is not None and assessment.due_on <= TODAY

    interims = Assessment.objects.filter(district=district, section__isnull=True)
    assert interims.count() == 26  # 13 grades x 2 subjects
    assert PerformanceLevel.objects.filter(assessment__in=interims).count() == 4 * 26
    assert StudentAssessment.objects.filter(
        assessment__in=interims, performance_level__isnull=False
    ).exists()

    scores = Score.objects.filter(district=district)
    assert scores.count() > 5000
    assert not scores.filter(normalized__lt=0).exists()
    assert not scores.filter(normalized__gt=1).exists()
    missing = scores.filter(status="missing").count() / scores.count()
    assert 0.01 < missing < 0.06
    assert not scores.filter(status="scored", normalized__isnull=True).exists()

    estimates = MasteryEstimate.objects.filter(student__district=district)
    assert estimates.count() > 1000
    assert not estimates.filter(pending_since__isnull=False).exists()
    levels = dict(estimates.values_list("level").annotate(n=Count("id")).values_list("level", "n"))
    assert len([level for level, n in levels.items() if level and n >= 20]) >= 3, levels
    # The same seed gives the same scores and estimates: tests/demo/test_demo_year.py.

"""The student profile's mastery: every standard of the student's current sections, estimated and
measured, with score lines and tests."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import IntegerField, Prefetch, Value

from assessments.methods import Policy, policy_for_district
from assessments.models import (
    Assessment,
    AssessmentItem,
    AssessmentPurpose,
    MasteryEstimate,
    MasteryEstimateHistory,
    Score,
    Standard,
    StudentAssessment,
)
from dashboard.selectors.levels import Cell, cells_read, standard_short_code
from students.models import Student


@dataclass(frozen=True)
class ProfileStandard:
    standard: Standard
    cell: Cell
    section_ids: tuple[int, ...]

    @property
    def short_code(self) -> str:
        return standard_short_code(self.standard.code)


@dataclass(frozen=True)
class ScoreLine:
    scored_on: date
    assessment_title: str
    kind: str
    purpose: str
    item_code: str
    points: object
    max_points: object
    normalized: float | None
    status: str


@dataclass(frozen=True)
class TestResult:
    administered_on: date
    assessment_title: str
    family: str
    purpose: str
    performance_level: str
    performance_rank: int | None
    points: object
    max_points: object


@dataclass
class StudentMastery:
    policy: Policy
    standards: list[ProfileStandard]
    history: dict[int, list[tuple[date, float | None, int]]]  # standard id → (as of, p, level)
    scores: list[ScoreLine]
    test_results: list[TestResult]
    section_titles: dict[int, str]


def student_mastery(
    student: Student,
    section_ids: list[int],
    section_titles: dict[int, str],
    *,
    with_test_results: bool = True,
) -> StudentMastery:
    """A student's mastery on every standard of their current sections (and any other standard
    with evidence), its history, their scores and their interim or state results: nine queries
    (seven without the results, which the family portal does not show)."""
    policy = policy_for_district(student.district_id, with_fit=False)
    # The standards measured in the student's sections and those the student has an estimate on,
    # in one query: (standard, section) pairs, the section None for an estimate.
    measured_in: dict[int, set[int]] = defaultdict(set)
    estimated = MasteryEstimate.objects.filter(student=student).values_list(
        "standard_id", Value(None, output_field=IntegerField())
    )
    if section_ids:
        estimated = estimated.union(
            Assessment.standards.through.objects.filter(
                assessment__section_id__in=section_ids, assessment__is_active=True
            ).values_list("standard_id", "assessment__section_id"),
            AssessmentItem.standards.through.objects.filter(
                assessmentitem__assessment__section_id__in=section_ids,
                assessmentitem__is_active=True,
            ).values_list("standard_id", "assessmentitem__assessment__section_id"),
        )
    standard_ids: set[int] = set()
    for standard_id, section_id in estimated:
        standard_ids.add(standard_id)
        if section_id is not None:
            measured_in[standard_id].add(section_id)
    # Only what the profile and the family portal show of a standard (its grade levels and
    # framework are not).
    standard_list = list(
        Standard.objects.filter(pk__in=standard_ids, is_active=True)
        .only("code", "description", "parent_description", "parent_description_es", "subject")
        .order_by("subject", "code")
    )
    cells = cells_read(
        student_ids=[student.pk], standard_ids=[s.pk for s in standard_list], policy=policy
    )
    history: dict[int, list[tuple[date, float | None, int]]] = defaultdict(list)
    for standard_id, as_of, probability, level in (
        MasteryEstimateHistory.objects.filter(student=student)
        .order_by("standard_id", "as_of", "recorded_at", "id")
        .values_list("standard_id", "as_of", "probability", "level")
    ):
        history[standard_id].append((as_of, probability, level))
    scores = [
        ScoreLine(
            scored_on, title, kind, purpose, item_code or "", points, max_points, normalized, status
        )
        # The student on both tables (a score's student is its sitting's): with only the scores
        # narrowed, the planner reads every sitting of a small district to hash-join them.
        for (
            scored_on,
            title,
            kind,
            purpose,
            item_code,
            points,
            max_points,
            normalized,
            status,
        ) in Score.objects.filter(student=student, student_assessment__student=student)
        .order_by("-scored_on", "student_assessment__assessment__title", "item__position")
        .values_list(
            "scored_on",
            "student_assessment__assessment__title",
            "student_assessment__assessment__kind",
            "student_assessment__assessment__purpose",
            "item__code",
            "points",
            "student_assessment__assessment__max_points",
            "normalized",
            "status",
        )
    ]
    results = (
        [
            TestResult(
                administered_on=r.administered_on,
                assessment_title=r.assessment.title,
                family=r.assessment.family,
                purpose=r.assessment.get_purpose_display(),
                performance_level=r.performance_level.name if r.performance_level else "",
                performance_rank=r.performance_level.rank if r.performance_level else None,
                # Prefetched by _whole_scores, to this attribute.
                points=next((s.points for s in getattr(r, "whole_scores")), None),  # noqa: B009
                max_points=r.assessment.max_points,
            )
            for r in StudentAssessment.objects.filter(
                student=student,
                assessment__purpose__in=[AssessmentPurpose.INTERIM, AssessmentPurpose.STATE],
            )
            .select_related("assessment", "performance_level")
            .prefetch_related(_whole_scores())
            .order_by("-administered_on")
        ]
        if with_test_results
        else []
    )
    return StudentMastery(
        policy=policy,
        standards=[
            ProfileStandard(
                s,
                cells.get((student.pk, s.pk)) or Cell(level=policy.no_evidence.value),
                tuple(sorted(measured_in.get(s.pk, ()))),
            )
            for s in standard_list
        ],
        history=dict(history),
        scores=scores,
        test_results=results,
        section_titles=section_titles,
    )


def _whole_scores() -> Prefetch:

    return Prefetch(
        "scores", queryset=Score.objects.filter(item__isnull=True), to_attr="whole_scores"
    )

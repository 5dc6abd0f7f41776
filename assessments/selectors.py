"""Permission-scoped reads of assessments and scores."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.access import AnyUser, SectionAccess, section_for_user
from assessments.models import Assessment, AssessmentItem, AssessmentKind, Score, Standard
from students.models import Section, Student
from students.selectors import RosterEntry, section_roster


@dataclass(frozen=True)
class ScoreGrid:
    section: Section
    assessment: Assessment
    items: list[AssessmentItem]
    roster: list[RosterEntry]
    # (student_id, item_id or None) → Score
    scores: dict[tuple[int, int | None], Score]


def section_for_scoring(user: AnyUser, section_id: int) -> SectionAccess:
    """A section whose scores the user may enter: only a current teacher of it. Others who may
    see the section get 403 (a forbidden action); everyone else 404."""
    access = section_for_user(user, section_id)
    if not access.teaches:
        raise PermissionDenied("Only the section's teachers enter its scores.")
    return access


def assessment_in_section(section: Section, assessment_id: int) -> Assessment:
    assessment = Assessment.objects.filter(
        pk=assessment_id, section=section, is_active=True
    ).first()
    if assessment is None:
        raise Http404("No such assessment.")
    return assessment


def section_assessments(section: Section) -> list[Assessment]:
    return list(
        Assessment.objects.filter(section=section, is_active=True)
        .prefetch_related("standards")
        .order_by("-due_on", "-pk")
    )


def score_grid(section: Section, assessment: Assessment) -> ScoreGrid:
    roster = section_roster(section)
    items = list(assessment.items.filter(is_active=True).order_by("position", "code"))
    scores = {
        (score.student_id, score.item_id): score
        for score in Score.objects.filter(
            student_assessment__assessment=assessment,
            student_id__in=[e.student_id for e in roster],
        ).order_by("student_assessment__administered_on")
    }
    return ScoreGrid(
        section=section, assessment=assessment, items=items, roster=roster, scores=scores
    )


def standards_for_section(section: Section) -> list[Standard]:
    """Standards a teacher may align an assessment to: the district's, of the section's subject."""
    standards = Standard.objects.filter(district_id=section.district_id, is_active=True)
    if section.subject:
        standards = standards.filter(subject__iexact=section.subject) | standards.filter(subject="")
    return list(standards.order_by("code"))


def student_gradebook(student: Student) -> list[Score]:
    """The student's gradebook results (whole-entry scores of gradebook entries), newest first,
    each with its entry and section: the profile's grades tab shows them beside the grades."""
    return list(
        Score.objects.filter(
            student=student,
            # As in the profile's score history: the student on both tables lets the planner
            # read only this student's sittings.
            student_assessment__student=student,
            item__isnull=True,
            student_assessment__assessment__kind=AssessmentKind.GRADEBOOK,
        )
        .select_related("student_assessment__assessment__section")
        .order_by("-scored_on")
    )

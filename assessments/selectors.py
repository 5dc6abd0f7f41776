"""Permission-scoped reads of assessments and scores, and the standard picker's groups."""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from accounts.access import AnyUser, SectionAccess, section_for_user
from assessments.methods import Policy, policy_for_district
from assessments.models import (
    Assessment,
    AssessmentItem,
    AssessmentKind,
    MasteryEstimate,
    MasteryOverride,
    Score,
    Standard,
    StandardKind,
    standard_short_code,
)
from students.models import GRADE_LEVELS, Section, Student, grade_label
from students.selectors import RosterEntry, section_roster

# Kinds that organise standards rather than being taught on their own: the picker shows them as
# its groups' headings, and an assessment is aligned to what sits below them.
GROUPING_KINDS = (StandardKind.FRAMEWORK, StandardKind.DOMAIN, StandardKind.CLUSTER)


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
    """Standards a teacher may align an assessment to: the district's, of the section's subject,
    below the domains and clusters that group them (with their parents and grandparents, which
    the picker's groups name)."""
    standards = Standard.objects.filter(district_id=section.district_id, is_active=True).exclude(
        kind__in=GROUPING_KINDS
    )
    if section.subject:
        standards = standards.filter(subject__iexact=section.subject) | standards.filter(subject="")
    return list(standards.select_related("parent__parent").order_by("code"))


def recently_taught_standard_ids(
    section: Section, *, today: date | None = None, policy: Policy | None = None
) -> list[int]:
    """The standards the section's active assessments (whole, or by item) measured recently, the
    most recent first: "recently taught" as the needs-attention list counts it, a due date no
    further back than the district's MasteryPolicy.attention_recent_days. Three queries (two
    with the district's `policy` already read)."""
    policy = policy or policy_for_district(section.district_id, with_fit=False)
    recent_days = policy.attention.recent_days
    since = (today or timezone.localdate()) - timedelta(days=recent_days)
    by_assessment = Assessment.standards.through.objects.filter(
        assessment__section=section, assessment__is_active=True, assessment__due_on__gte=since
    ).values_list("standard_id", "assessment__due_on", "assessment_id")
    by_item = AssessmentItem.standards.through.objects.filter(
        assessmentitem__assessment__section=section,
        assessmentitem__assessment__is_active=True,
        assessmentitem__assessment__due_on__gte=since,
        assessmentitem__is_active=True,
    ).values_list(
        "standard_id", "assessmentitem__assessment__due_on", "assessmentitem__assessment_id"
    )
    latest: dict[int, tuple[date, int]] = {}
    for standard_id, due_on, assessment_id in [*by_assessment, *by_item]:
        if due_on is None:  # filtered out above; this tells the type checker
            continue
        measured = (due_on, assessment_id)
        if standard_id not in latest or measured > latest[standard_id]:
            latest[standard_id] = measured
    # Newest due date first; among one day's, the assessment created last, then by id: stable.
    return sorted(latest, key=lambda standard_id: (latest[standard_id], -standard_id), reverse=True)


@dataclass(frozen=True)
class PickerOption:
    """One standard a picker offers: its code as a teacher reads it, and what it says."""

    standard_id: int
    code: str
    short_code: str
    description: str
    # Where it sits (subject · grade · cluster code), shown beside it in the recently taught group.
    context: str
    # Its cluster's code and description, which a search also matches.
    cluster: str = ""

    @property
    def search_text(self) -> str:
        return " ".join((self.code, self.description, self.context, self.cluster)).lower()


@dataclass(frozen=True)
class PickerGroup:
    """A fieldset of the picker: the recently taught standards, or one subject, grade and
    cluster's."""

    key: str
    subject: str
    grade: str
    cluster_code: str
    cluster_description: str
    options: tuple[PickerOption, ...]
    recent: bool = False

    @property
    def legend(self) -> str:
        if self.recent:
            return RECENT_LEGEND
        return " · ".join((self.subject, self.grade, self.cluster))

    @property
    def cluster(self) -> str:
        if not self.cluster_code:
            return "Not in a cluster"
        return " ".join(p for p in (self.cluster_code, self.cluster_description) if p)


RECENT_LEGEND = "Recently taught in this section"
# Subject, grades (by their place in GRADE_LEVELS), the cluster's code in natural order, its id.
_GroupOrder = tuple[str, tuple[int, ...], tuple[tuple[int, str], ...], int]
_GRADE_ORDER = {code: position for position, code in enumerate(GRADE_LEVELS)}


def standard_picker_groups(
    standards: Iterable[Standard], recent_ids: Sequence[int] = ()
) -> list[PickerGroup]:
    """The picker's groups: first the recently taught standards (in the order of recent_ids, the
    most recent first), then every other standard under its subject, grade and cluster, each
    standard once. Groups and options follow codes in natural order (4.NF.A.2 before 4.NF.A.10),
    so the same standards always give the same list. Reads the standards' parents and
    grandparents, with one query for those not already loaded."""
    standards = list(standards)
    _ancestors_load(standards)
    placed: dict[int, tuple[_GroupOrder, PickerGroup, PickerOption]] = {}
    grouped: dict[_GroupOrder, list[PickerOption]] = {}
    headings: dict[_GroupOrder, PickerGroup] = {}
    for standard in standards:
        cluster = _cluster_of(standard)
        grades = sorted(
            {str(g) for g in standard.grade_levels or []},
            key=lambda g: (_GRADE_ORDER.get(g, len(_GRADE_ORDER)), g),
        )
        subject = standard.subject or "No subject"
        grade = _grades_label(grades)
        heading = PickerGroup(
            key=f"{subject}|{'-'.join(grades)}|{cluster.pk if cluster else ''}",
            subject=subject,
            grade=grade,
            cluster_code=standard_short_code(cluster.code) if cluster else "",
            cluster_description=cluster.description if cluster else "",
            options=(),
        )
        sort_key: _GroupOrder = (
            subject.lower(),
            tuple(_GRADE_ORDER.get(g, len(_GRADE_ORDER)) for g in grades)
            or (len(_GRADE_ORDER) + 1,),
            _natural(cluster.code) if cluster else ((2, ""),),
            cluster.pk if cluster else 0,
        )
        option = PickerOption(
            standard_id=standard.pk,
            code=standard.code,
            short_code=standard_short_code(standard.code),
            description=standard.description,
            context=" · ".join(p for p in (subject, grade, heading.cluster_code) if p),
            cluster=heading.cluster if cluster else "",
        )
        placed[standard.pk] = (sort_key, heading, option)
    recent = [placed[pk][2] for pk in dict.fromkeys(recent_ids) if pk in placed]
    recent_pks = {option.standard_id for option in recent}
    for sort_key, heading, option in placed.values():
        if option.standard_id in recent_pks:
            continue
        grouped.setdefault(sort_key, []).append(option)
        headings[sort_key] = heading
    groups = []
    if recent:
        groups.append(
            PickerGroup(
                key="recent",
                subject="",
                grade="",
                cluster_code="",
                cluster_description="",
                options=tuple(recent),
                recent=True,
            )
        )
    for sort_key in sorted(grouped):
        options = sorted(grouped[sort_key], key=lambda o: (_natural(o.code), o.standard_id))
        heading = headings[sort_key]
        groups.append(
            PickerGroup(
                key=heading.key,
                subject=heading.subject,
                grade=heading.grade,
                cluster_code=heading.cluster_code,
                cluster_description=heading.cluster_description,
                options=tuple(options),
            )
        )
    return groups


def _ancestors_load(standards: list[Standard]) -> None:
    """Fetch, in one query, the parents (with theirs) that the standards were read without."""
    missing = {
        s.parent_id
        for s in standards
        if s.parent_id is not None and not Standard.parent.is_cached(s)
    }
    if not missing:
        return
    parents = Standard.objects.select_related("parent").in_bulk(missing)
    for standard in standards:
        if standard.parent_id in parents and not Standard.parent.is_cached(standard):
            standard.parent = parents[standard.parent_id]


def _cluster_of(standard: Standard) -> Standard | None:
    """The cluster above a standard (its parent, or a sub-standard's grandparent); failing one,
    its parent, whatever kind that is."""
    parent = standard.parent
    if parent is None:
        return None
    if parent.kind == StandardKind.CLUSTER or parent.parent is None:
        return parent
    if parent.parent.kind == StandardKind.CLUSTER:
        return parent.parent
    return parent


def _grades_label(grades: list[str]) -> str:
    if not grades:
        return "Any grade"
    if len(grades) == 1:
        return grade_label(grades[0])
    positions = [_GRADE_ORDER.get(g) for g in grades]
    consecutive = None not in positions and positions == list(
        range(positions[0] or 0, (positions[0] or 0) + len(positions))
    )
    if consecutive and all(g.isdigit() for g in grades):
        return f"Grades {int(grades[0])}–{int(grades[-1])}"
    if consecutive:
        return f"{grade_label(grades[0])}–{grade_label(grades[-1])}"
    return ", ".join(grade_label(g) for g in grades)


def _natural(code: str) -> tuple[tuple[int, str], ...]:
    """A code's sort key with its numbers compared as numbers: 4.NF.A.2 before 4.NF.A.10."""
    return tuple(
        (0, f"{int(part):010d}") if part.isdigit() else (1, part.lower())
        for part in re.split(r"(\d+)", code)
        if part
    )


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


# --- The level shown now (lessons' groups by need).


def current_levels(
    student_ids: Iterable[int], standard_ids: Iterable[int], policy: Policy
) -> dict[tuple[int, int], int]:
    """The level shown now of each (student, standard) pair with evidence or an override: the
    estimate, replaced by an override in force (the rule dashboard.selectors.levels.cells_read
    applies to its cells, with their detail). Two queries. Pairs absent: no evidence."""
    students, standards = list(set(student_ids)), list(set(standard_ids))
    if not students or not standards:
        return {}
    levels: dict[tuple[int, int], int] = {
        (student_id, standard_id): level
        for student_id, standard_id, level, probability in MasteryEstimate.objects.filter(
            student_id__in=students, standard_id__in=standards
        ).values_list("student_id", "standard_id", "level", "probability")
        if probability is not None or level != policy.no_evidence.value
    }
    for student_id, standard_id, level in (
        MasteryOverride.objects.filter(
            student_id__in=students, standard_id__in=standards, cleared_at__isnull=True
        )
        .order_by("set_at")
        .values_list("student_id", "standard_id", "level")
    ):
        levels[(student_id, standard_id)] = level
    return levels


def level_of(
    levels: dict[tuple[int, int], int], student_id: int, standard_id: int, policy: Policy
) -> int:
    return levels.get((student_id, standard_id), policy.no_evidence.value)

"""Reads of lesson plans, for the calendar, planner and printable pages.

Access (the rule itself lives in accounts.access, over a section and days):

- `plan_for_user(user, pk) -> PlanAccess`: fetch a plan and check together; 404 unless the user
  teaches or co-teaches its section (`may_edit`), covers it as a substitute on the plan's days,
  or is the principal of its school (both read-only). `PlanAccess` is an accounts.access.Access:
  hand it to privacy.services.log_shown as the grant.
- `may_edit_plan(user, plan) -> bool`.
- `sections_plannable_by(user)` (re-exported from accounts.access): the sections a user plans.

Calendars:

- `plans_of_section(access: SectionPlansAccess, first, last) -> list[LessonPlan]`: the plans of
  one section running on any day first..last (a substitute: only those on days they cover);
  `accounts.access.section_plans_for_user(user, section_pk)` gives the access (404 otherwise).
- `plans_of_teacher(user, first, last) -> list[LessonPlan]`: across every section the user
  plans. Both: two queries, sections and standards loaded, no students.

One plan:

- `plan_detail(access: PlanAccess) -> PlanDetail`: groups with their students (each with the
  level at placement and now), activities, materials, standards, exit ticket; `students` lists
  every student it names (log them when shown). Constant queries in students and groups.
- `group_moves_proposed(plan) -> MoveProposals`: who would move between the groups built for a
  standard, and why, from the levels now against those at placement. A locked plan still
  reports them (`locked`), and services.group_moves_accept refuses to apply them.
- `exit_ticket_results(plan) -> list[GroupResult]`: each group's results on the exit ticket.

Templates (a teacher's own, never anyone else's):

- `templates_of_user(*, user) -> list[PlanTemplate]`: the user's templates, by name, standards
  loaded.
- `template_for_user(*, user, pk) -> PlanTemplate`: one of them; 404 for anyone else's.

Planning help:

- `recently_taught(section, *, today=None) -> list[int]`: standard ids measured by the section's
  assessments or targeted by its plans marked taught, within the district's recent window
  (MasteryPolicy.attention_recent_days), newest first.
- `standards_taught(section, *, since, until) -> dict[int, date]`: the standards of its plans
  marked taught (by their last day) in since..until, with the latest day: the section page's
  needs-attention list counts them as taught.
- `suggestions(section, *, plan=None, today=None) -> PlanSuggestions`: the recently taught
  standards with the lowest class mastery; and, for each of the plan's groups below mastery,
  the standard's parent, its siblings and its recorded prerequisites; each with the students it
  would help and why, in words.

Levels are read as the section pages read them: the estimate, replaced by a teacher's override
where one is in force (`assessments.selectors.current_levels`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.access import (
    Access,
    AnyUser,
    SectionPlansAccess,
    section_plan_access,
    sections_plannable_by,
)
from assessments.methods import (
    NEED_EXTEND,
    NEED_NONE,
    NEED_PRACTICE,
    NEED_RETEACH,
    Policy,
    policy_for_district,
)
from assessments.models import (
    Assessment,
    AssessmentItem,
    Score,
    ScoreStatus,
    Standard,
    StandardKind,
    standard_short_code,
)
from assessments.selectors import current_levels, level_of, recently_taught_standard_ids
from lessons.models import (
    GroupActivity,
    GroupKind,
    LessonPlan,
    PlanGroup,
    PlanGroupMember,
    PlanMaterial,
    PlanTemplate,
    StandardPrerequisite,
)
from students.models import Section, Student
from students.selectors import section_roster

__all__ = [
    "PlanAccess",
    "exit_ticket_results",
    "group_moves_proposed",
    "may_edit_plan",
    "plan_detail",
    "plan_for_editor",
    "plan_for_user",
    "plans_of_section",
    "plans_of_teacher",
    "plans_with_exit_ticket",
    "lowest_taught",
    "for_groups_below",
    "recently_taught",
    "sections_plannable_by",
    "standards_taught",
    "suggestions",
    "template_for_user",
    "templates_of_user",
]

# The group kind each need is built into (no evidence: a custom group, "Not yet measured").
KIND_OF_NEED = {
    NEED_RETEACH: GroupKind.RETEACH,
    NEED_PRACTICE: GroupKind.PRACTICE,
    NEED_EXTEND: GroupKind.EXTEND,
    NEED_NONE: GroupKind.CUSTOM,
}
NOT_MEASURED_NAME = "Not yet measured"
# How many of the lowest recently taught standards the planner suggests.
LOWEST_SHOWN = 5


# --- Access


@dataclass(frozen=True)
class PlanAccess(Access):
    """A plan the user may read, the basis that lets them, and whether they may edit it."""

    plan: LessonPlan
    may_edit: bool

    @property
    def section(self) -> Section:
        return self.plan.section


def plan_for_user(user: AnyUser, pk: int) -> PlanAccess:
    """Fetch a plan and check access together (one query once the user's grants are read); 404
    for anyone who may not read it."""
    plan = (
        LessonPlan.objects.filter(pk=pk, section__is_active=True)
        .select_related("section__school", "exit_ticket")
        .first()
    )
    found = (
        section_plan_access(user, plan.section, first_day=plan.first_day, last_day=plan.last_day)
        if plan is not None
        else None
    )
    if plan is None or found is None:
        raise Http404("No such lesson plan.")
    return PlanAccess(basis=found.basis, plan=plan, may_edit=found.may_edit)


def plan_for_editor(user: AnyUser, pk: int) -> PlanAccess:
    """A plan its section's teachers change: the same 404 as plan_for_user for anyone else,
    readers (a substitute, the principal) included."""
    access = plan_for_user(user, pk)
    if not access.may_edit:
        raise Http404("No such lesson plan.")
    return access


def may_edit_plan(user: AnyUser, plan: LessonPlan) -> bool:
    """Whether the user may change the plan: a current teacher or co-teacher of its section."""
    found = section_plan_access(
        user, plan.section, first_day=plan.first_day, last_day=plan.last_day
    )
    return found is not None and found.may_edit


# --- Templates


def templates_of_user(*, user: AnyUser) -> list[PlanTemplate]:
    """The user's own templates, by name, with their standards (two queries)."""
    if not user.is_authenticated:
        return []
    return list(
        PlanTemplate.objects.filter(owner_id=user.pk)
        .prefetch_related(Prefetch("standards", queryset=Standard.objects.order_by("code")))
        .order_by("name", "pk")
    )


def template_for_user(*, user: AnyUser, pk: int) -> PlanTemplate:
    """One of the user's own templates; 404 for anyone else's (a template is personal)."""
    template = (
        PlanTemplate.objects.filter(pk=pk, owner_id=user.pk).first()
        if user.is_authenticated
        else None
    )
    if template is None:
        raise Http404("No such template.")
    return template


# --- Calendars


def _plans_running(first: date, last: date) -> Q:
    return Q(first_day__lte=last, last_day__gte=first)


def _calendar(plans: QuerySet[LessonPlan]) -> list[LessonPlan]:
    """What a calendar lists of each plan: its days, objective, whether taught, its section's
    title and period, its standards' codes (a teacher's month holds a hundred plans and more:
    nothing else is read)."""
    return list(
        plans.select_related("section")
        .only(
            "pk",
            "first_day",
            "last_day",
            "objective",
            "taught_at",
            "section__id",
            "section__title",
            "section__period",
        )
        .prefetch_related(
            Prefetch("standards", queryset=Standard.objects.only("pk", "code").order_by("code"))
        )
        .order_by("first_day", "section__title", "pk")
    )


def plans_of_section(access: SectionPlansAccess, first: date, last: date) -> list[LessonPlan]:
    """The section's plans running on any day first..last that the access lets the user read."""
    plans = LessonPlan.objects.filter(_plans_running(first, last), section=access.section)
    if access.windows:
        covered = Q(pk__in=[])
        for begin, end in access.windows:
            window = Q()
            if begin is not None:
                window &= Q(last_day__gte=begin)
            if end is not None:
                window &= Q(first_day__lte=end)
            covered |= window
        plans = plans.filter(covered)
    return _calendar(plans)


def plans_of_teacher(user: AnyUser, first: date, last: date) -> list[LessonPlan]:
    """Every plan running on any day first..last of the sections the user plans (their own)."""
    return _calendar(
        LessonPlan.objects.filter(
            _plans_running(first, last), section__in=sections_plannable_by(user)
        )
    )


# --- Levels


# --- One plan


@dataclass(frozen=True)
class MemberDetail:
    student: Student
    level_at_placement: int | None
    level_now: int | None  # None: the group has no standard


@dataclass(frozen=True)
class GroupDetail:
    group: PlanGroup
    members: list[MemberDetail]
    activities: list[GroupActivity]


@dataclass(frozen=True)
class PlanDetail:
    plan: LessonPlan
    policy: Policy
    standards: list[Standard]
    groups: list[GroupDetail]
    materials: list[PlanMaterial]
    may_edit: bool
    # The level shown now of each (student, group standard) pair it read (current_levels).
    levels: dict[tuple[int, int], int] = field(default_factory=dict)

    @property
    def plan_groups(self) -> list[PlanGroup]:
        """The plan's groups as read, members (with students) and activities prefetched: what
        the other reads of the same page take instead of reading them again."""
        return [group.group for group in self.groups]

    @property
    def students(self) -> list[Student]:
        """Every student the plan names (in its groups): those a page showing it logs."""
        return [member.student for group in self.groups for member in group.members]


def _groups_of(plan: LessonPlan) -> list[PlanGroup]:
    return list(
        PlanGroup.objects.filter(plan=plan)
        .select_related("standard")
        .prefetch_related(
            Prefetch(
                "members",
                queryset=PlanGroupMember.objects.select_related("student").order_by(
                    "student__last_name", "student__first_name", "student_id"
                ),
            ),
            Prefetch("activities", queryset=GroupActivity.objects.order_by("position", "pk")),
        )
        .order_by("position", "pk")
    )


def plan_detail(access: PlanAccess) -> PlanDetail:
    """The plan with its groups (students and levels), activities, materials and standards.
    Seven queries whatever the number of students and groups."""
    plan = access.plan
    policy = policy_for_district(plan.section.district_id, with_fit=False)
    groups = _groups_of(plan)
    standard_ids = {g.standard_id for g in groups if g.standard_id is not None}
    student_ids = {m.student_id for g in groups for m in g.members.all()}
    levels = current_levels(student_ids, standard_ids, policy)
    details = [
        GroupDetail(
            group=group,
            members=[
                MemberDetail(
                    student=member.student,
                    level_at_placement=member.level_at_placement,
                    level_now=level_of(levels, member.student_id, group.standard_id, policy)
                    if group.standard_id is not None
                    else None,
                )
                for member in group.members.all()
            ],
            activities=list(group.activities.all()),
        )
        for group in groups
    ]
    return PlanDetail(
        plan=plan,
        policy=policy,
        standards=list(plan.standards.order_by("code")),
        groups=details,
        materials=list(plan.materials.order_by("added_at", "pk")),
        may_edit=access.may_edit,
        levels=levels,
    )


# --- Who would move


@dataclass(frozen=True)
class ProposedMove:
    student: Student
    from_group: PlanGroup
    to_group: PlanGroup
    level_at_placement: int | None
    level_now: int
    why: str


@dataclass(frozen=True)
class MoveProposals:
    moves: list[ProposedMove]
    locked: bool  # a locked plan reports, and applies nothing


def _group_need(group: PlanGroup, member: PlanGroupMember, policy: Policy) -> str | None:
    """The need a group stands for: its kind, or no evidence for the "not yet measured" group;
    None for a teacher's own group (nothing proposes moves out of it)."""
    for need, kind in KIND_OF_NEED.items():
        if group.kind == kind and kind != GroupKind.CUSTOM:
            return need
    if member.level_at_placement == policy.no_evidence.value:
        return NEED_NONE
    return None


def group_moves_proposed(plan: LessonPlan, *, detail: PlanDetail | None = None) -> MoveProposals:
    """Students whose level on their group's standard changed since they were placed and now
    falls in another group's need, with the group they would join and why. Six queries; none
    from the plan's `detail` read for the same page. A plan marked taught proposes nothing: its
    groups are the record of the lesson as it was given (and its exit ticket's results by
    group), not tomorrow's grouping."""
    if plan.taught_at is not None:
        return MoveProposals(moves=[], locked=plan.groups_locked)
    if detail is not None:
        policy, groups = detail.policy, detail.plan_groups
    else:
        policy = policy_for_district(plan.section.district_id, with_fit=False)
        groups = _groups_of(plan)
    by_need: dict[tuple[int, str], PlanGroup] = {}
    for group in groups:
        if group.standard_id is None:
            continue
        if group.kind != GroupKind.CUSTOM:
            by_need.setdefault((group.standard_id, group.kind), group)
    levels = (
        detail.levels
        if detail is not None
        else current_levels(
            (m.student_id for g in groups for m in g.members.all()),
            (g.standard_id for g in groups if g.standard_id is not None),
            policy,
        )
    )
    moves = []
    for group in groups:
        if group.standard_id is None or group.standard is None:
            continue
        for member in group.members.all():
            need_then = _group_need(group, member, policy)
            now = level_of(levels, member.student_id, group.standard_id, policy)
            if need_then is None or now == member.level_at_placement:
                continue
            need_now = policy.need_of(now)
            target = by_need.get((group.standard_id, KIND_OF_NEED[need_now]))
            if need_now == need_then or target is None or target.pk == group.pk:
                continue
            then_name = (
                policy.level_named(member.level_at_placement).name
                if member.level_at_placement is not None
                else "unknown"
            )
            why = (
                f"{member.student.display_name} is now at {policy.level_named(now).name} on "
                f"{standard_short_code(group.standard.code)} (was {then_name} when placed in "
                f"{group.name}): {target.name} fits better."
            )
            moves.append(
                ProposedMove(member.student, group, target, member.level_at_placement, now, why)
            )
    return MoveProposals(moves=moves, locked=plan.groups_locked)


# --- After the lesson


@dataclass(frozen=True)
class StudentResult:
    student: Student
    score: float | None  # 0..1, None: no score yet (or missing, exempt)
    status: str  # ScoreStatus, "" when none


@dataclass(frozen=True)
class GroupResult:
    group: PlanGroup
    students: list[StudentResult]

    @property
    def scored(self) -> int:
        return sum(1 for r in self.students if r.score is not None)

    @property
    def average(self) -> float | None:
        scores = [r.score for r in self.students if r.score is not None]
        return sum(scores) / len(scores) if scores else None


def exit_ticket_results(plan: LessonPlan, *, detail: PlanDetail | None = None) -> list[GroupResult]:
    """Each group's results on the plan's exit ticket: a student's whole-assessment score, or the
    mean of their item scores; empty without an exit ticket. Four queries; one with the plan's
    `detail` read for the same page."""
    if plan.exit_ticket_id is None:
        return []
    groups = detail.plan_groups if detail is not None else _groups_of(plan)
    student_ids = {m.student_id for g in groups for m in g.members.all()}
    whole: dict[int, tuple[float | None, str]] = {}
    items: dict[int, list[float]] = defaultdict(list)
    statuses: dict[int, str] = {}
    for student_id, item_id, normalized, status in Score.objects.filter(
        student_assessment__assessment_id=plan.exit_ticket_id, student_id__in=student_ids
    ).values_list("student_id", "item_id", "normalized", "status"):
        if item_id is None:
            whole[student_id] = (normalized, status)
        else:
            statuses.setdefault(student_id, status)
            if normalized is not None and status == ScoreStatus.SCORED:
                items[student_id].append(normalized)

    def result(student: Student) -> StudentResult:
        if student.pk in whole:
            normalized, status = whole[student.pk]
            return StudentResult(student, normalized, status)
        if items.get(student.pk):
            scores = items[student.pk]
            return StudentResult(student, sum(scores) / len(scores), ScoreStatus.SCORED)
        return StudentResult(student, None, statuses.get(student.pk, ""))

    return [
        GroupResult(group, [result(m.student) for m in group.members.all()]) for group in groups
    ]


def plans_with_exit_ticket(assessment: Assessment) -> list[LessonPlan]:
    """The plans whose exit ticket the assessment is (the score grid links back to them). One
    query."""
    return list(
        LessonPlan.objects.filter(exit_ticket=assessment)
        .only("pk", "first_day", "last_day", "section_id")
        .order_by("first_day", "pk")
    )


# --- Planning help


def standards_taught(section: Section, *, since: date, until: date) -> dict[int, date]:
    """The standards targeted by the section's plans marked taught whose last day falls in
    since..until, each with the latest such day. One query."""
    taught: dict[int, date] = {}
    for standard_id, last_day in LessonPlan.standards.through.objects.filter(
        lessonplan__section=section,
        lessonplan__taught_at__isnull=False,
        lessonplan__last_day__gte=since,
        lessonplan__last_day__lte=until,
    ).values_list("standard_id", "lessonplan__last_day"):
        taught[standard_id] = max(taught.get(standard_id, last_day), last_day)
    return taught


def recently_taught(
    section: Section, *, today: date | None = None, policy: Policy | None = None
) -> list[int]:
    """Standards the section recently measured (its assessments, as the needs-attention list
    counts them) or taught (its plans marked taught, by their last day), within the district's
    recent window; newest first. Five queries."""
    today = today or timezone.localdate()
    policy = policy or policy_for_district(section.district_id, with_fit=False)
    since = today - timedelta(days=policy.attention.recent_days)
    measured = recently_taught_standard_ids(section, today=today, policy=policy)
    taught = standards_taught(section, since=since, until=today)
    if not taught:
        return measured
    due = dict(
        Assessment.objects.filter(section=section, is_active=True, due_on__gte=since)
        .values_list("pk", "due_on")
        .order_by()
    )
    # When each measured standard was last measured: the order of `measured`, by its dates.
    last_measured: dict[int, date] = {}
    for standard_id, assessment_id in [
        *Assessment.standards.through.objects.filter(assessment_id__in=due).values_list(
            "standard_id", "assessment_id"
        ),
        *AssessmentItem.standards.through.objects.filter(
            assessmentitem__assessment_id__in=due, assessmentitem__is_active=True
        ).values_list("standard_id", "assessmentitem__assessment_id"),
    ]:
        day = due[assessment_id]
        if day is not None and day > last_measured.get(standard_id, date.min):
            last_measured[standard_id] = day
    rank = {standard_id: index for index, standard_id in enumerate(measured)}
    everything = set(measured) | set(taught)

    def newest(standard_id: int) -> tuple[date, int]:
        day = max(last_measured.get(standard_id, date.min), taught.get(standard_id, date.min))
        return day, -rank.get(standard_id, len(rank) + standard_id)

    return sorted(everything, key=newest, reverse=True)


@dataclass(frozen=True)
class Suggestion:
    standard: Standard
    relation: str  # "lowest", "parent", "sibling" or "prerequisite"
    students: list[Student]  # whom it would help
    why: str

    @property
    def count(self) -> int:
        return len(self.students)


@dataclass(frozen=True)
class PlanSuggestions:
    lowest: list[Suggestion]
    # For each of the plan's groups below mastery (by group id): related standards.
    for_groups: dict[int, list[Suggestion]] = field(default_factory=dict)


def _names(students: list[Student], limit: int = 3) -> str:
    names = [s.display_name for s in students[:limit]]
    more = len(students) - len(names)
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def _below(
    levels: dict[tuple[int, int], int],
    policy: Policy,
    students: Iterable[Student],
    standard_id: int,
) -> list[Student]:
    """Those of the students whose level on the standard is a reteach or practice need."""
    return [
        s
        for s in students
        if policy.need_of(level_of(levels, s.pk, standard_id, policy))
        in (NEED_RETEACH, NEED_PRACTICE)
    ]


def lowest_taught(
    section: Section, *, today: date | None = None, policy: Policy | None = None
) -> list[Suggestion]:
    """The recently taught standards with the lowest share of the class at mastery, lowest
    first (at most LOWEST_SHOWN), each with whom it would help. About the section alone (not a
    plan): a page may keep it until the section's levels or taught plans change. Eleven
    queries, whatever the class's size."""
    policy = policy or policy_for_district(section.district_id, with_fit=False)
    mastery_name = policy.level_named(policy.mastery_level).name
    roster = [entry.student for entry in section_roster(section)]
    taught_ids = recently_taught(section, today=today, policy=policy)
    taught = {s.pk: s for s in Standard.objects.filter(pk__in=taught_ids, is_active=True)}
    levels = current_levels({s.pk for s in roster}, set(taught), policy)
    ranked = []
    for standard_id in taught_ids:
        standard = taught.get(standard_id)
        if standard is None:
            continue
        measured = [
            s
            for s in roster
            if level_of(levels, s.pk, standard_id, policy) != policy.no_evidence.value
        ]
        if not measured:
            continue
        at_mastery = sum(
            1
            for s in measured
            if level_of(levels, s.pk, standard_id, policy) >= policy.mastery_level
        )
        students = _below(levels, policy, measured, standard_id)
        share = at_mastery / len(measured)
        why = (
            f"{len(students)} of {len(measured)} measured students are below {mastery_name} on "
            f"{standard_short_code(standard.code)}, taught recently"
            + (f": {_names(students)}." if students else ".")
        )
        ranked.append((share, standard.code, Suggestion(standard, "lowest", students, why)))
    ranked.sort(key=lambda row: (row[0], row[1]))
    return [row[2] for row in ranked[:LOWEST_SHOWN]]


def _related_standards(
    group_standards: dict[int, Standard],
) -> dict[int, list[tuple[Standard, str]]]:
    """Each standard's parent, siblings and recorded prerequisites. Two queries."""
    if not group_standards:
        return {}
    parent_ids = {s.parent_id for s in group_standards.values() if s.parent_id}
    family = list(
        Standard.objects.filter(is_active=True)
        .filter(Q(pk__in=parent_ids) | Q(parent_id__in=parent_ids))
        .exclude(kind__in=(StandardKind.FRAMEWORK,))
    )
    prerequisites = list(
        StandardPrerequisite.objects.filter(
            standard_id__in=group_standards, prerequisite__is_active=True
        ).select_related("prerequisite")
    )
    related: dict[int, list[tuple[Standard, str]]] = {}
    for standard_id, standard in group_standards.items():
        found: list[tuple[Standard, str]] = []
        for other in family:
            if other.pk == standard.parent_id:
                found.append((other, "parent"))
            elif other.parent_id == standard.parent_id and other.pk != standard_id:
                found.append((other, "sibling"))
        found += [
            (p.prerequisite, "prerequisite") for p in prerequisites if p.standard_id == standard_id
        ]
        related[standard_id] = found
    return related


def for_groups_below(groups: list[PlanGroup], policy: Policy) -> dict[int, list[Suggestion]]:
    """For each of a plan's reteach or practice groups (members prefetched): the parent
    standard, its siblings and its recorded prerequisites, each with whom of the group it would
    help and why. Four queries at most."""
    groups = [
        g
        for g in groups
        if g.standard is not None and g.kind in (GroupKind.RETEACH, GroupKind.PRACTICE)
    ]
    related = _related_standards({g.standard.pk: g.standard for g in groups if g.standard})
    if not related:
        return {}
    mastery_name = policy.level_named(policy.mastery_level).name
    levels = current_levels(
        {m.student_id for g in groups for m in g.members.all()},
        {s.pk for found in related.values() for s, _ in found},
        policy,
    )
    for_groups: dict[int, list[Suggestion]] = {}
    for group in groups:
        if group.standard is None or group.standard_id is None:  # filtered above: for types
            continue
        members = [m.student for m in group.members.all()]
        if not members:
            continue
        short = standard_short_code(group.standard.code)
        found_suggestions = []
        for standard, relation in related.get(group.standard_id, []):
            measured = [
                s
                for s in members
                if level_of(levels, s.pk, standard.pk, policy) != policy.no_evidence.value
            ]
            if measured:
                students = _below(levels, policy, measured, standard.pk)
                if not students:
                    continue
                reason = f"below {mastery_name} on it too"
            else:
                # Not measured (a parent is often a cluster): it helps the whole group.
                students, reason = members, f"below {mastery_name} on {short}"
            words = {
                "parent": f"the standard {short} belongs to",
                "sibling": f"next to {short} under the same parent",
                "prerequisite": f"recorded as coming before {short}",
            }[relation]
            why = (
                f"{standard_short_code(standard.code)} is {words}; it would help "
                f"{len(students)} of the {group.name} group ({reason}): {_names(students)}."
            )
            found_suggestions.append(Suggestion(standard, relation, students, why))
        for_groups[group.pk] = found_suggestions
    return for_groups


def suggestions(
    section: Section,
    *,
    plan: LessonPlan | None = None,
    today: date | None = None,
    detail: PlanDetail | None = None,
) -> PlanSuggestions:
    """What to plan for: the recently taught standards with the lowest share of the class at
    mastery (lowest first, `lowest_taught`), and for each of the plan's reteach or practice
    groups the parent standard, its siblings and its recorded prerequisites
    (`for_groups_below`). Constant queries in students; fewer with the plan's `detail` read for
    the same page (its policy and groups)."""
    if detail is not None:
        plan = detail.plan
    policy = (
        detail.policy
        if detail is not None
        else policy_for_district(section.district_id, with_fit=False)
    )
    groups = (
        (detail.plan_groups if detail is not None else _groups_of(plan)) if plan is not None else []
    )
    return PlanSuggestions(
        lowest=lowest_taught(section, today=today, policy=policy),
        for_groups=for_groups_below(groups, policy),
    )

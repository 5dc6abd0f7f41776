"""The demo teacher's lesson plans (a seed step, the last: it writes as the teacher's own login,
which the logins step makes, through lessons.services, as the planner's pages do).

For every section the demo teacher plans (lessons.selectors.sections_plannable_by):

- Past plans: one on each of the PAST_SCHOOL_DAYS school days (demo.records'
  instructional days) before today, in date order. Each targets one or two standards the
  section assessed around that day (its quizzes and tests, as the assessments step dated them),
  has an objective, groups built for its first standard by lessons.services.groups_build from
  the estimates at that point (reteach, practice, extend; "Not yet measured" for anyone without
  evidence), an activity for each group and a link. Most are marked taught.
- Exit tickets: about one taught plan in four (at least one per section) gets a short quiz on
  the plan's standards, made with assessments.services.assessment_create and attached with
  exit_ticket_attach. Its scores, for the students on the roster that day, are recorded with
  scores_record and the estimates they touch recomputed, as the assessments step's replay
  does; so they count in mastery, and the plans after them are grouped from estimates that
  include them. A student's chance follows their estimate on the plan's standards, lifted a
  little by the lesson (most for the reteach group).
- Tomorrow: exactly one plan on the next school day after today, not taught, grouped from the
  current estimates.

The plans are built a day at a time through the services (a few dozen queries each): the demo
teacher has a handful of sections at any size of district, so the step costs the same for
`--students 86000` as for the default. Other teachers (who have no login) get no plans.
Everything random comes from the step's own stream, so the same seed and today give the same
plans, groups and scores. The demo's reset deletes the plans with their sections.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from accounts.models import User
from assessments.models import (
    Assessment,
    AssessmentKind,
    AssessmentPurpose,
    MasteryEstimate,
    ScoreSource,
    Standard,
    standard_short_code,
)
from assessments.services import ScoreInput, assessment_create, scores_record
from demo.mastery import _recompute, _score
from demo.records import instructional_days
from lessons.models import GroupKind, LessonPlan, PlanGroup
from lessons.selectors import sections_plannable_by
from lessons.services import (
    exit_ticket_attach,
    group_activities_set,
    groups_build,
    material_add_link,
    plan_create,
    plan_mark_taught,
)
from students.models import Section
from students.selectors import section_roster

if TYPE_CHECKING:
    from demo.district import DemoBuild

PAST_SCHOOL_DAYS = 15  # three weeks of school days
TAUGHT_RATE = 0.85  # the rest were not marked taught (yet)
EXIT_TICKET_RATE = 0.25  # of the taught plans
SECOND_STANDARD_RATE = 0.35
EXIT_TICKET_POINTS = 4
# How much a lesson lifts a student's chance on its exit ticket, by the group they were in.
LESSON_LIFT = {
    GroupKind.RETEACH: 0.15,
    GroupKind.PRACTICE: 0.08,
    GroupKind.EXTEND: 0.03,
    GroupKind.CUSTOM: 0.05,
}
# Each group's activity; {code} is the standard's short code.
ACTIVITIES = {
    GroupKind.RETEACH: [
        "Small group with the teacher: model {code} again with a worked example, then two "
        "problems together.",
        "Reteach {code} with manipulatives and a visual; check each student's first try.",
        "Guided notes on {code}, then one problem each at the board.",
    ],
    GroupKind.PRACTICE: [
        "Partner practice on {code}: six problems, compare answers, explain one difference.",
        "Station work on {code} with an answer key to self-check.",
        "Practice set on {code}; flag the one you found hardest.",
    ],
    GroupKind.EXTEND: [
        "Challenge task on {code}: write and solve your own problem, then trade with a partner.",
        "Extension: apply {code} to a real-world problem and present the reasoning.",
        "Open-ended problem on {code}; find two different ways to solve it.",
    ],
    GroupKind.CUSTOM: [
        "Quick check-in on {code} with the teacher to see where they start.",
    ],
}


@dataclass
class _Section:
    section: Section
    # The section's assessed standards by due date: (due_on, standard ids), date order.
    assessed: list[tuple[date, list[int]]]
    plans: int = 0
    exit_tickets: int = 0


@dataclass
class _Counts:
    plans: int = 0
    taught: int = 0
    exit_tickets: int = 0
    scores: int = 0
    estimate_updates: int = 0


def _school_days(build: DemoBuild) -> tuple[list[date], date | None]:
    """The PAST_SCHOOL_DAYS school days before today, and the next school day after today."""
    days = instructional_days(build)
    past = [day for day in days if day < build.today][-PAST_SCHOOL_DAYS:]
    tomorrow = next((day for day in days if day > build.today), None)
    return past, tomorrow


def _assessed(section: Section) -> list[tuple[date, list[int]]]:
    """The section's assessments' standards by due date (before any exit ticket exists)."""
    by_assessment: dict[int, list[int]] = defaultdict(list)
    due: dict[int, date] = {}
    for assessment_id, due_on, standard_id in (
        Assessment.standards.through.objects.filter(
            assessment__section=section,
            assessment__is_active=True,
            assessment__due_on__isnull=False,
        )
        .order_by("assessment__due_on", "assessment_id", "standard__code")
        .values_list("assessment_id", "assessment__due_on", "standard_id")
    ):
        if due_on is None:  # filtered out above; this tells the type checker
            continue
        by_assessment[assessment_id].append(standard_id)
        due[assessment_id] = due_on
    return [(due[pk], standards) for pk, standards in by_assessment.items()]


def _standards_for(rng: random.Random, planned: _Section, day: date) -> list[int]:
    """One or two standards the section assessed around `day`: the next assessment's within a
    week (what the lesson leads to), else the latest before it; sometimes a second from the
    fortnight around it."""
    upcoming = [s for due, s in planned.assessed if day <= due <= day + timedelta(days=7)]
    before = [s for due, s in planned.assessed if due < day]
    nearest = upcoming[0] if upcoming else before[-1] if before else planned.assessed[0][1]
    chosen = [nearest[0]]
    if rng.random() < SECOND_STANDARD_RATE:
        around = sorted(
            {
                standard
                for due, standards in planned.assessed
                if abs((due - day).days) <= 14
                for standard in standards
            }
            - set(chosen)
        )
        if around:
            chosen.append(rng.choice(around))
    return chosen


def _objective(standard: Standard) -> str:
    text = standard.description.strip().rstrip(".")
    if not text:
        return f"Students work toward {standard_short_code(standard.code)}."
    return f"Students will {text[0].lower()}{text[1:]}."


def _link(standard: Standard) -> tuple[str, str]:
    """A page about the standard: the Common Core's own for CCSS codes."""
    code = standard_short_code(standard.code)
    if standard.code.startswith("CCSS.MATH.CONTENT."):
        return (
            f"https://www.thecorestandards.org/Math/Content/{code.replace('.', '/')}/",
            f"Common Core: {code}",
        )
    if standard.code.startswith("CCSS.ELA-LITERACY."):
        return (
            f"https://www.thecorestandards.org/ELA-Literacy/{code.replace('.', '/')}/",
            f"Common Core: {code}",
        )
    return f"https://www.example.org/lessons/{code.lower()}/", f"Lesson resources: {code}"


def _plan_write(
    rng: random.Random,
    teacher: User,
    planned: _Section,
    day: date,
    standards: dict[int, Standard],
) -> tuple[LessonPlan, list[PlanGroup]]:
    """A plan of the section on `day` with its objective, groups, activities and a link."""
    chosen = [standards[pk] for pk in _standards_for(rng, planned, day)]
    plan = plan_create(
        acting_user=teacher,
        section=planned.section,
        first_day=day,
        objective=_objective(chosen[0]),
        standards=chosen,
    )
    groups = groups_build(acting_user=teacher, plan=plan, standard=chosen[0])
    code = standard_short_code(chosen[0].code)
    for group in groups:
        texts = ACTIVITIES[GroupKind(group.kind)]
        group_activities_set(
            acting_user=teacher, group=group, texts=[rng.choice(texts).format(code=code)]
        )
    url, title = _link(chosen[0])
    material_add_link(acting_user=teacher, plan=plan, url=url, title=title)
    planned.plans += 1
    return plan, groups


def _exit_ticket_write(
    build: DemoBuild,
    rng: random.Random,
    teacher: User,
    plan: LessonPlan,
    groups: list[PlanGroup],
    counts: _Counts,
) -> None:
    """A short quiz on the plan's standards, attached as its exit ticket, and its scores for the
    students on the roster that day, recorded and counted in mastery as every score is."""
    standards = list(plan.standards.order_by("code"))
    short = ", ".join(standard_short_code(s.code) for s in standards)
    ticket = assessment_create(
        section=plan.section,
        title=f"Exit Ticket: {short}",
        kind=AssessmentKind.QUIZ,
        purpose=AssessmentPurpose.FORMATIVE,
        due_on=plan.first_day,
        max_points=Decimal(EXIT_TICKET_POINTS),
        standards=standards,
        acting_user=teacher,
    )
    # Sourced as every demo record is (the seed's natural key for it).
    sourced = build.sourced("asm", build.next_id("assessment"))
    ticket.source_system, ticket.source_id = sourced["source_system"], sourced["source_id"]
    ticket.save(update_fields=["source_system", "source_id"])
    exit_ticket_attach(acting_user=teacher, plan=plan, assessment=ticket)
    kind_of = {
        member.student_id: GroupKind(group.kind)
        for group in groups
        for member in group.members.all()
    }
    roster = sorted(
        (
            entry
            for entry in section_roster(plan.section)
            if entry.student.pk in kind_of
            and (entry.begin_date is None or entry.begin_date <= plan.first_day)
        ),
        key=lambda entry: entry.student.pk,
    )
    probability = {
        (student, standard): value
        for student, standard, value in MasteryEstimate.objects.filter(
            student_id__in=[entry.student.pk for entry in roster],
            standard_id__in=[s.pk for s in standards],
        ).values_list("student_id", "standard_id", "probability")
    }
    inputs = []
    for entry in roster:
        student = entry.student.pk
        known = [probability.get((student, s.pk)) for s in standards]
        chance = sum(p if p is not None else 0.5 for p in known) / len(known)
        chance = min(0.97, chance + LESSON_LIFT[kind_of[student]])
        status, points = _score(rng, chance, EXIT_TICKET_POINTS)
        inputs.append(
            ScoreInput(
                student_id=student,
                assessment_id=ticket.pk,
                scored_on=plan.first_day,
                points=points,
                status=status,
            )
        )
    recorded = scores_record(
        scores=inputs, source=ScoreSource.ENTERED, acting_user=teacher, enqueue=False
    )
    counts.exit_tickets += 1
    counts.scores += len(inputs)
    # What the mastery task does after commit, now: the next plans are grouped from these.
    counts.estimate_updates += _recompute(sorted(recorded.estimate_ids))


def seed_lessons(build: DemoBuild) -> None:
    """The seed step: the demo teacher's past plans (with exit tickets) and tomorrow's."""
    assert build.district is not None  # noqa: S101 - the district step runs first
    teacher_id = build.login_user_ids.get("teacher")
    if teacher_id is None:
        build.progress("lesson plans: none (no demo teacher login)")
        return
    teacher = User.objects.get(pk=teacher_id)
    rng = build.rng("lessons")
    sections = [
        _Section(section, assessed)
        for section in sections_plannable_by(teacher).order_by("pk")
        if (assessed := _assessed(section))
    ]
    if not sections:
        build.progress("lesson plans: none (the demo teacher plans no assessed section today)")
        return
    standards = Standard.objects.in_bulk(
        {pk for planned in sections for _, assessed in planned.assessed for pk in assessed}
    )
    past, tomorrow = _school_days(build)
    counts = _Counts()
    for day in past:
        for planned in sections:
            plan, groups = _plan_write(rng, teacher, planned, day, standards)
            counts.plans += 1
            if rng.random() >= TAUGHT_RATE and day != past[-1]:
                continue  # not marked taught (the last day's always is: the ticket below)
            plan_mark_taught(acting_user=teacher, plan=plan)
            counts.taught += 1
            # At least one exit ticket per section: on its last past day if none before.
            if rng.random() < EXIT_TICKET_RATE or (day == past[-1] and not planned.exit_tickets):
                _exit_ticket_write(build, rng, teacher, plan, groups, counts)
                planned.exit_tickets += 1
        build.progress(
            f"lesson plans of {day}: {counts.plans} plans, {counts.exit_tickets} exit tickets"
        )
    if tomorrow is not None:
        for planned in sections:
            _plan_write(rng, teacher, planned, tomorrow, standards)
            counts.plans += 1
    build.progress(
        f"lesson plans: {counts.plans} plans for {len(sections)} sections of the demo teacher "
        f"({counts.taught} taught; "
        f"{f'one each for {tomorrow}' if tomorrow else 'no school day after today'}), "
        f"{counts.exit_tickets} exit tickets with {counts.scores} scores, "
        f"{counts.estimate_updates} estimate updates"
    )

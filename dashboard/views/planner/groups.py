"""A plan's groups (build, move, rename, add, lock), live proposed moves, the exit ticket and
suggestions: the panels of the plan's page (hub.py) and the endpoints their forms post to.

Every form works without JavaScript: it posts here and comes back to the plan with a message.
Only the section's teachers post (anyone else: 404, as the plan is to them, or as reading it
does not let them change it). A refusal (locked groups, a forged id, a value out of range) is
the plan's page again with the problem beside its form, answered 400."""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
)
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from assessments.methods import Policy
from assessments.models import Assessment, Standard, standard_short_code
from assessments.selectors import section_assessments
from dashboard import cache as dashboard_cache
from dashboard import charts
from lessons import services
from lessons.models import LessonPlan, PlanGroup
from lessons.selectors import (
    GroupDetail,
    MoveProposals,
    PlanAccess,
    PlanDetail,
    PlanSuggestions,
    ProposedMove,
    Suggestion,
    exit_ticket_results,
    for_groups_below,
    group_moves_proposed,
    lowest_taught,
    plan_for_editor,
    plan_for_user,
)
from privacy.services import log_shown
from students.models import Section, Student

# How often the plan's page asks who would move (the section page's live updates' pace).
POLL_INTERVAL_MS = 4000
# An exit ticket is short: its points at most (the score grid takes any).
EXIT_TICKET_MAX_POINTS = Decimal(100)
NAME_MAX = 120
ACTIVITIES_MAX = 20_000


@dataclass
class PlannerPanels:
    """What the plan page's group, move, exit-ticket and suggestion panels add to its context,
    and every student they name (the page logs them with the plan's)."""

    context: dict[str, object] = field(default_factory=dict)
    students: list[Student] = field(default_factory=list)


@dataclass(frozen=True)
class MemberRow:
    student: Student
    at: charts.LevelStyle | None  # the level when placed (None: unknown)
    now: charts.LevelStyle | None  # None: the group has no standard


@dataclass(frozen=True)
class GroupPanel:
    detail: GroupDetail
    members: list[MemberRow]
    activities_text: str  # one activity a line, as the textarea edits them
    rows_html: SafeString = SafeString("")  # the members' table rows (_member_rows_html)


def _level_html(style: charts.LevelStyle | None) -> SafeString:
    if style is None:
        return SafeString("Unknown")
    return format_html(
        '<span class="swatch lv-{}" aria-hidden="true">{}</span> {}',
        style.value,
        style.symbol,
        style.name,
    )


def _member_rows_html(
    group: PlanGroup,
    members: list[MemberRow],
    *,
    move_form: tuple[str, str, list[tuple[int, str]]] | None,
    problem: dict[str, object] | None,
) -> SafeString:
    """A group's members as its table's rows: name, level when placed and now (symbol and name,
    never colour alone), and for an editor a labelled menu to move them. Written here, not by
    the template per student (a class's rows were most of the page's rendering).
    `move_form`: (its address, the CSRF token, the other groups) when the teacher may move."""
    rows = []
    for row in members:
        name = row.student.display_name
        cells = [format_html('<th scope="row">{}</th>', name)]
        if group.standard_id is not None:
            changed = (
                SafeString(" <strong>(changed)</strong>")
                if row.at is not None and row.now is not None and row.now.value != row.at.value
                else ""
            )
            cells.append(format_html('<td data-label="When placed">{}</td>', _level_html(row.at)))
            cells.append(
                format_html('<td data-label="Now">{}{}</td>', _level_html(row.now), changed)
            )
        if move_form is not None:
            action, token, choices = move_form
            options = format_html_join(
                "",
                '<option value="{}">{}</option>',
                ((pk, choice) for pk, choice in choices if pk != group.pk),
            )
            error = (
                format_html(
                    '<p class="field-error" id="move-{}-problem">{}</p>',
                    row.student.pk,
                    problem["text"],
                )
                if problem is not None
                and problem["where"] == "move"
                and problem["id"] == row.student.pk
                else ""
            )
            cells.append(
                format_html(
                    '<td data-label="Move to"><form method="post" action="{}" class="move-form">'
                    '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
                    '<input type="hidden" name="student" value="{}">'
                    '<label for="move-{}" class="visually-hidden">Move {} to</label>'
                    '<select id="move-{}" name="to_group">{}</select> '
                    '<button type="submit" class="small-button" aria-label="Move {}">Move</button>'
                    "</form>{}</td>",
                    action,
                    token,
                    row.student.pk,
                    row.student.pk,
                    name,
                    row.student.pk,
                    options,
                    name,
                    error,
                )
            )
        rows.append(
            format_html('<tr id="member-{}">{}</tr>', row.student.pk, SafeString("".join(cells)))
        )
    return SafeString("\n".join(rows))


def _move_key(move: ProposedMove) -> str:
    """A proposal as the page lists it: who, from, to, at which level now (a later change of
    level is a new proposal, shown again after "Keep the groups")."""
    return f"{move.student.pk}:{move.from_group.pk}:{move.to_group.pk}:{move.level_now}"


def _kept_key(plan: LessonPlan) -> str:
    return f"plan-{plan.pk}-moves-kept"


def _moves_shown(
    request: HttpRequest, plan: LessonPlan, detail: PlanDetail | None = None
) -> MoveProposals:
    """The moves proposed now, but those the teacher chose to keep the groups against."""
    proposals = group_moves_proposed(plan, detail=detail)
    kept = set(request.session.get(_kept_key(plan), []))
    if not kept:
        return proposals
    return MoveProposals(
        [move for move in proposals.moves if _move_key(move) not in kept], proposals.locked
    )


def lowest_taught_kept(section: Section, policy: Policy | None = None) -> list[Suggestion]:
    """The section's lowest recently taught standards (lessons.selectors.lowest_taught), kept as
    the section page keeps its grid: until the section's levels, scores or taught plans change
    (dashboard.cache.section_versions), or the day does (what "recently" covers)."""
    version = dashboard_cache.section_versions(section)
    return dashboard_cache.cached(
        ("lowest taught", section.pk, timezone.localdate().isoformat(), version),
        lambda: lowest_taught(section, policy=policy),
    )


def planner_panels(
    request: HttpRequest,
    access: PlanAccess,
    detail: PlanDetail,
    *,
    problem: tuple[str, str] | None = None,
) -> PlannerPanels:
    """The panels' context. `problem` (where, what): a refused form's message, shown beside it."""
    plan = access.plan
    styles = {style.value: style for style in charts.level_styles(detail.policy)}
    group_choices = [(g.group.pk, g.group.name) for g in detail.groups]
    shown_problem = _problem(problem)
    move_form = (
        (
            reverse("lessons:plan_group_move", kwargs={"pk": plan.pk}),
            get_token(request),
            group_choices,
        )
        if access.may_edit and not plan.groups_locked and len(group_choices) > 1
        else None
    )
    groups = []
    for group in detail.groups:
        members = [
            MemberRow(
                member.student,
                styles.get(member.level_at_placement)
                if member.level_at_placement is not None
                else None,
                styles.get(member.level_now) if member.level_now is not None else None,
            )
            for member in group.members
        ]
        groups.append(
            GroupPanel(
                detail=group,
                members=members,
                activities_text="\n".join(a.text for a in group.activities),
                rows_html=_member_rows_html(
                    group.group, members, move_form=move_form, problem=shown_problem
                ),
            )
        )
    proposals = (
        _moves_shown(request, plan, detail)
        if detail.groups
        else MoveProposals([], plan.groups_locked)
    )
    results = exit_ticket_results(plan, detail=detail)
    suggested = PlanSuggestions(
        lowest=lowest_taught_kept(access.section, detail.policy),
        for_groups=for_groups_below(detail.plan_groups, detail.policy),
    )
    group_names = {group.group.pk: group.group.name for group in detail.groups}
    for_groups = [
        (group_names.get(group_id, ""), found)
        for group_id, found in suggested.for_groups.items()
        if found
    ]
    plan_standard_ids = {standard.pk for standard in detail.standards}
    candidates = (
        [a for a in section_assessments(access.section) if _fits(a, plan_standard_ids)]
        if access.may_edit and plan.exit_ticket_id is None
        else []
    )
    named = [
        *(move.student for move in proposals.moves),
        *(s for found in suggested.lowest for s in found.students),
        *(s for _, found in for_groups for suggestion in found for s in suggestion.students),
        *(r.student for result in results for r in result.students),
    ]
    return PlannerPanels(
        context={
            "levels": list(styles.values()),
            "groups": groups,
            "group_choices": group_choices,
            "proposals": proposals,
            "proposal_keys": [_move_key(move) for move in proposals.moves],
            "moves_url": reverse("lessons:plan_moves", kwargs={"pk": plan.pk}),
            # A taught plan's groups are history: nothing to watch for.
            "poll_ms": POLL_INTERVAL_MS if detail.groups and not plan.is_taught else 0,
            "results": results,
            "suggested_lowest": [
                s for s in suggested.lowest if s.standard.pk not in plan_standard_ids
            ],
            "suggested_for_groups": [
                (name, [s for s in found if s.standard.pk not in plan_standard_ids])
                for name, found in for_groups
            ],
            "plan_standard_ids": plan_standard_ids,
            "exit_candidates": candidates,
            "exit_max_points": EXIT_TICKET_MAX_POINTS,
            "problem": shown_problem,
        },
        students=named,
    )


def _problem(problem: tuple[str, str] | None) -> dict[str, object] | None:
    """("move:12", text) → where "move", id 12: the form beside which the page shows it."""
    if problem is None:
        return None
    where, _, ident = problem[0].partition(":")
    return {"where": where, "id": int(ident) if ident.isdigit() else None, "text": problem[1]}


def _fits(assessment: Assessment, plan_standard_ids: set[int]) -> bool:
    """Whether an assessment may be the plan's exit ticket as far as its whole-assessment
    standards tell (one aligned by item only is offered too; attaching checks the items)."""
    aligned = {s.pk for s in assessment.standards.all()}
    return not aligned or (bool(aligned & plan_standard_ids) and aligned <= plan_standard_ids)


# --- Endpoints


def _back(plan: LessonPlan, anchor: str = "groups-heading") -> HttpResponse:
    return redirect(reverse("lessons:plan_detail", kwargs={"pk": plan.pk}) + f"#{anchor}")


def _refused(request: HttpRequest, access: PlanAccess, where: str, text: str) -> HttpResponse:
    """The plan's page again, the problem beside the form that met it, answered 400."""
    from dashboard.views.planner.hub import plan_page  # hub imports this module

    return plan_page(request, access, problem=(where, text), status=400)


def _said(error: ValidationError) -> str:
    return " ".join(error.messages)


def _posted_id(request: HttpRequest, name: str) -> int | None:
    raw = request.POST.get(name, "").strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        return None
    return int(raw)


def _group_of(plan: LessonPlan, group_id: int | None) -> PlanGroup | None:
    if group_id is None:
        return None
    return PlanGroup.objects.filter(plan=plan, pk=group_id).select_related("plan").first()


def _acting(request: HttpRequest) -> User:
    # Signed in (login_required), and plan_for_user found them a teacher of the section.
    return cast(User, request.user)


@login_required
@require_POST
def plan_groups_build(request: HttpRequest, pk: int) -> HttpResponse:
    access = plan_for_editor(request.user, pk)
    plan = access.plan
    standard_id = _posted_id(request, "standard")
    standard = plan.standards.filter(pk=standard_id).first() if standard_id is not None else None
    if standard is None:
        return _refused(request, access, "build", "Choose one of the plan's standards to group by.")
    try:
        services.groups_build(acting_user=_acting(request), plan=plan, standard=standard)
    except ValidationError as error:
        return _refused(request, access, "build", _said(error))
    messages.success(
        request, f"Groups built for {standard_short_code(standard.code)} from the levels now."
    )
    return _back(plan)


@login_required
@require_POST
def plan_group_move(request: HttpRequest, pk: int) -> HttpResponse:
    access = plan_for_editor(request.user, pk)
    plan = access.plan
    student_id = _posted_id(request, "student")
    student = Student.objects.filter(pk=student_id).first() if student_id is not None else None
    where = f"move:{student.pk}" if student is not None else "groups"
    to_group = _group_of(plan, _posted_id(request, "to_group"))
    if student is None:
        return _refused(request, access, where, "That student is not in this section.")
    if to_group is None:
        return _refused(request, access, where, "Choose one of this plan's groups to move to.")
    try:
        services.group_move_student(
            acting_user=_acting(request), plan=plan, student=student, to_group=to_group
        )
    except ValidationError as error:
        return _refused(request, access, where, _said(error))
    messages.success(request, f"{student.display_name} moved to {to_group.name}.")
    return _back(plan, f"member-{student.pk}")


@login_required
@require_POST
def plan_group_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a group (name); or, from a suggestion, add a standard to the plan (add_standard)."""
    access = plan_for_editor(request.user, pk)
    plan = access.plan
    if "add_standard" in request.POST:
        standard_id = _posted_id(request, "add_standard")
        standard = (
            Standard.objects.filter(
                pk=standard_id, district_id=access.section.district_id, is_active=True
            ).first()
            if standard_id is not None
            else None
        )
        if standard is None:
            return _refused(request, access, "suggestions", "No such standard to add.")
        try:
            services.plan_update(
                acting_user=_acting(request),
                plan=plan,
                standards=[*plan.standards.all(), standard],
            )
        except ValidationError as error:
            return _refused(request, access, "suggestions", _said(error))
        messages.success(request, f"{standard.code} added to the plan's standards.")
        return _back(plan, "suggestions-heading")
    name = request.POST.get("name", "").strip()
    if not name or len(name) > NAME_MAX:
        return _refused(
            request, access, "add", f"Name the new group (at most {NAME_MAX} characters)."
        )
    try:
        group = services.group_add(acting_user=_acting(request), plan=plan, name=name)
    except ValidationError as error:
        return _refused(request, access, "add", _said(error))
    messages.success(request, f"Group “{group.name}” added.")
    return _back(plan, f"group-{group.pk}")


@login_required
@require_POST
def plan_group_edit(request: HttpRequest, pk: int, group_id: int) -> HttpResponse:
    """Rename a group (name) and/or set its activities (activities: one a line)."""
    access = plan_for_editor(request.user, pk)
    plan = access.plan
    group = _group_of(plan, group_id)
    if group is None:
        raise Http404("No such group in this plan.")
    where = f"group:{group.pk}"
    name = request.POST.get("name")
    activities = request.POST.get("activities")
    if name is None and activities is None:
        return _refused(request, access, where, "Nothing to change: give a name or activities.")
    if name is not None and (not name.strip() or len(name.strip()) > NAME_MAX):
        return _refused(
            request, access, where, f"A group's name is 1 to {NAME_MAX} characters long."
        )
    if activities is not None and len(activities) > ACTIVITIES_MAX:
        return _refused(
            request, access, where, f"Activities are at most {ACTIVITIES_MAX} characters."
        )
    try:
        if name is not None and name.strip() != group.name:
            services.group_rename(acting_user=_acting(request), group=group, name=name)
        if activities is not None:
            services.group_activities_set(
                acting_user=_acting(request), group=group, texts=activities.splitlines()
            )
    except ValidationError as error:
        return _refused(request, access, where, _said(error))
    messages.success(request, f"Group “{group.name}” saved.")
    return _back(plan, f"group-{group.pk}")


@login_required
@require_POST
def plan_groups_lock(request: HttpRequest, pk: int) -> HttpResponse:
    access = plan_for_editor(request.user, pk)
    plan = access.plan
    action = request.POST.get("action", "")
    if action == "lock":
        services.groups_lock(acting_user=_acting(request), plan=plan)
        messages.success(
            request, "Groups locked for the lesson: they change only if you move someone."
        )
    elif action == "unlock":
        services.groups_unlock(acting_user=_acting(request), plan=plan)
        messages.success(request, "Groups unlocked.")
    else:
        return _refused(request, access, "lock", "Choose to lock or to unlock the groups.")
    return _back(plan)


@login_required
@require_GET
def plan_moves(request: HttpRequest, pk: int) -> JsonResponse:
    """Who would move between the plan's groups now, and why: polled by the plan's page."""
    access = plan_for_user(request.user, pk)
    proposals = _moves_shown(request, access.plan)
    if proposals.moves:
        log_shown(
            request,
            access,
            what="lesson plan live groups",
            students=[move.student for move in proposals.moves],
        )
    return JsonResponse(
        {
            "locked": proposals.locked,
            "may_edit": access.may_edit,
            "moves": [
                {
                    "key": _move_key(move),
                    "student": move.student.pk,
                    "name": move.student.display_name,
                    "from_group": move.from_group.pk,
                    "from_name": move.from_group.name,
                    "to_group": move.to_group.pk,
                    "to_name": move.to_group.name,
                    "level_at_placement": move.level_at_placement,
                    "level_now": move.level_now,
                    "why": move.why,
                }
                for move in proposals.moves
            ],
        }
    )


@login_required
@require_POST
def plan_moves_accept(request: HttpRequest, pk: int) -> HttpResponse:
    """Apply the listed moves (those still proposed), or keep the groups as they are."""
    access = plan_for_editor(request.user, pk)
    plan = access.plan
    if request.POST.get("action") == "keep":
        # Dismissed for this teacher: the listed proposals stay hidden; new ones show again.
        proposed = {_move_key(move) for move in group_moves_proposed(plan).moves}
        kept = set(request.session.get(_kept_key(plan), [])) | set(request.POST.getlist("move"))
        request.session[_kept_key(plan)] = sorted(kept & proposed)
        messages.success(request, "Groups kept as they are.")
        return _back(plan)
    wanted = set(request.POST.getlist("move"))
    if not wanted:
        return _refused(request, access, "moves", "No moves to accept were sent.")
    chosen = [move for move in group_moves_proposed(plan).moves if _move_key(move) in wanted]
    try:
        applied = services.group_moves_accept(acting_user=_acting(request), plan=plan, moves=chosen)
    except ValidationError as error:
        return _refused(request, access, "moves", _said(error))
    stale = len(wanted) - len(applied)
    messages.success(
        request,
        f"{len(applied)} move{'s' if len(applied) != 1 else ''} made."
        + (f" {stale} no longer proposed, left as is." if stale > 0 else ""),
    )
    return _back(plan)


@login_required
@require_POST
def plan_exit_ticket(request: HttpRequest, pk: int) -> HttpResponse:
    """Attach one of the section's assessments, create a short one on the plan's standards, or
    detach the exit ticket (action: attach, create, detach)."""
    access = plan_for_editor(request.user, pk)
    plan = access.plan
    action = request.POST.get("action", "")
    user = _acting(request)
    try:
        if action == "detach":
            services.exit_ticket_detach(acting_user=user, plan=plan)
            messages.success(request, "Exit ticket detached (the assessment and its scores stay).")
        elif action == "attach":
            assessment_id = _posted_id(request, "assessment")
            assessment = (
                Assessment.objects.filter(pk=assessment_id, section=access.section).first()
                if assessment_id is not None
                else None
            )
            if assessment is None:
                return _refused(
                    request, access, "exit", "Choose one of this section's assessments."
                )
            services.exit_ticket_attach(acting_user=user, plan=plan, assessment=assessment)
            messages.success(request, f"“{assessment.title}” is the exit ticket.")
        elif action == "create":
            title = request.POST.get("title", "").strip()
            if not title or len(title) > 200:
                return _refused(
                    request, access, "exit", "Give the exit ticket a title of 1 to 200 characters."
                )
            try:
                max_points = Decimal(request.POST.get("max_points", "").strip())
            except InvalidOperation:
                max_points = Decimal(0)
            if not max_points.is_finite() or not 0 < max_points <= EXIT_TICKET_MAX_POINTS:
                return _refused(
                    request,
                    access,
                    "exit",
                    f"Max points is a number above 0 and at most {EXIT_TICKET_MAX_POINTS}.",
                )
            assessment = services.exit_ticket_create(
                acting_user=user,
                plan=plan,
                title=title,
                max_points=max_points.quantize(Decimal("0.01")),
            )
            messages.success(
                request, f"Exit ticket “{assessment.title}” created: enter its scores in the grid."
            )
        else:
            return _refused(request, access, "exit", "Choose to attach, create or detach.")
    except ValidationError as error:
        return _refused(request, access, "exit", _said(error))
    return _back(plan, "exit-heading")

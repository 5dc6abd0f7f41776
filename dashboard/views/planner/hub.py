"""The plan's page, the planner's hub: what the plan is (dates, standards, objective, notes), its
actions and materials (plans.py's partials), its groups with live proposed moves, the exit
ticket's results and suggestions (groups.py's panels). Everyone who may read the plan sees it
(its section's teachers edit; a substitute covering its days and the school's principal read);
anyone else gets a 404."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboard.views.planner.groups import planner_panels
from lessons.selectors import PlanAccess, plan_for_user
from lessons.selectors import plan_detail as plan_detail_of
from privacy.services import log_shown


def plan_page(
    request: HttpRequest,
    access: PlanAccess,
    *,
    problem: tuple[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The plan's page; `problem` (where, what) names a refused form's problem beside it (the
    panels' endpoints answer 400 with it)."""
    detail = plan_detail_of(access)
    panels = planner_panels(request, access, detail, problem=problem)
    named = {s.pk: s for s in [*detail.students, *panels.students]}
    # A plan names students only in its groups (and the suggestions, whom they would help).
    log_shown(request, access, what="lesson plan", students=named.values())
    return render(
        request,
        "dashboard/planner/plan_detail.html",
        {
            "plan": access.plan,
            "section": access.section,
            "detail": detail,
            "may_edit": access.may_edit,
            **panels.context,
        },
        status=status,
    )


@login_required
@require_GET
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return plan_page(request, plan_for_user(request.user, pk))

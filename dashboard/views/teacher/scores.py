from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.access import section_for_user
from assessments import selectors
from assessments.forms import (
    ENTRY_STATUSES,
    AssessmentForm,
    score_grid_rows,
    score_inputs_from_grid,
)
from assessments.models import ScoreSource
from assessments.services import assessment_create, scores_record
from lessons import selectors as lesson_selectors
from privacy.services import log_shown


@login_required
@require_http_methods(["GET", "POST"])
def section_assessments(request: HttpRequest, pk: int) -> HttpResponse:
    access = section_for_user(request.user, pk)
    can_create = access.teaches
    form = (
        AssessmentForm(
            request.POST or None,
            standards=selectors.standards_for_section(access.section),
            # Measured by its assessments or taught in its lesson plans marked taught.
            recent_standard_ids=lesson_selectors.recently_taught(access.section),
        )
        if can_create
        else None
    )
    if request.method == "POST":
        if not can_create or form is None:
            raise PermissionDenied("Only the section's teachers create its assessments.")
        if form.is_valid():
            assessment = assessment_create(
                section=access.section, acting_user=request.user, **form.cleaned_data
            )
            messages.success(request, f"“{assessment.title}” created. Enter its scores below.")
            return redirect(
                "assessments:score_grid", pk=access.section.pk, assessment_id=assessment.pk
            )
    return render(
        request,
        "assessments/section_assessments.html",
        {
            "section": access.section,
            "assessments": selectors.section_assessments(access.section),
            "form": form,
            "can_create": can_create,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def score_grid(request: HttpRequest, pk: int, assessment_id: int) -> HttpResponse:
    access = selectors.section_for_scoring(request.user, pk)
    assessment = selectors.assessment_in_section(access.section, assessment_id)
    grid = selectors.score_grid(access.section, assessment)
    errors: dict[str, str] = {}
    posted: dict[str, str] = {}
    if request.method == "POST":
        posted = {
            name: request.POST.get(name, "")
            for name in request.POST
            if name.startswith(("score-", "status-"))
        }
        inputs, errors = score_inputs_from_grid(grid, posted)
        if not errors:
            result = scores_record(
                scores=inputs, source=ScoreSource.ENTERED, acting_user=request.user
            )
            messages.success(
                request,
                f"Saved: {result.created} new, {result.updated} corrected, "
                f"{result.unchanged} unchanged. Mastery is being updated.",
            )
            return redirect(
                "assessments:score_grid", pk=access.section.pk, assessment_id=assessment.pk
            )
    log_shown(request, access, what="score entry grid", students=[e.student for e in grid.roster])
    rows, stray_errors = score_grid_rows(grid, posted, errors)
    return render(
        request,
        "assessments/score_grid.html",
        {
            "section": access.section,
            "assessment": assessment,
            "columns": grid.items or [None],
            "rows": rows,
            "statuses": ENTRY_STATUSES,
            "error_count": len(errors),
            "stray_errors": stray_errors,
            # An exit ticket: back to its lesson plan, where its results show by group.
            "exit_for_plans": lesson_selectors.plans_with_exit_ticket(assessment),
        },
        status=400 if errors else 200,
    )

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.models import Role
from assessments import selectors
from assessments.forms import ENTRY_STATUSES, AssessmentForm, parse_score_grid
from assessments.models import ScoreSource, ScoreStatus
from assessments.services import ScoreInput, assessment_create, scores_record
from privacy.services import access_log_record
from students.selectors import section_for_user


@login_required
@require_http_methods(["GET", "POST"])
def section_assessments(request: HttpRequest, pk: int) -> HttpResponse:
    access = section_for_user(request.user, pk)
    can_create = access.role == Role.TEACHER
    standards = selectors.standards_for_section(access.section) if can_create else []
    form = AssessmentForm(request.POST or None, standards=standards) if can_create else None
    if request.method == "POST":
        if not can_create or form is None:
            from django.core.exceptions import PermissionDenied

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
        posted = {k: v for k, v in request.POST.items() if k.startswith(("score-", "status-"))}
        entries, errors = parse_score_grid(grid, posted)
        if not errors:
            scored_on = assessment.due_on or timezone.localdate()
            statuses = {
                int(name.split("-")[1]): value
                for name, value in posted.items()
                if name.startswith("status-")
            }
            inputs = [
                ScoreInput(
                    student_id=entry["student_id"],
                    assessment_id=assessment.pk,
                    item_id=entry["item_id"],
                    points=entry["points"],
                    scored_on=scored_on,
                    status=statuses.get(entry["student_id"], ScoreStatus.SCORED)
                    if statuses.get(entry["student_id"]) in (ScoreStatus.SCORED, ScoreStatus.LATE)
                    else ScoreStatus.SCORED,
                )
                for entry in entries
            ]
            with_points = {entry["student_id"] for entry in entries}
            inputs += [
                ScoreInput(
                    student_id=student_id,
                    assessment_id=assessment.pk,
                    scored_on=scored_on,
                    status=status,
                )
                for student_id, status in statuses.items()
                if status in (ScoreStatus.MISSING, ScoreStatus.EXEMPT)
                and student_id not in with_points
            ]
            with transaction.atomic():
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
    access_log_record(
        actor=request.user,
        role=access.role,
        what="score entry grid",
        students=[e.student for e in grid.roster],
        path=request.path,
    )
    columns = grid.items or [None]
    rows = []
    for enrollment in grid.roster:
        student_id = enrollment.student_id
        cells = []
        for item in columns:
            name = f"score-{student_id}-{item.pk if item else 0}"
            existing = grid.scores.get((student_id, item.pk if item else None))
            value = posted.get(
                name,
                "" if existing is None or existing.points is None else existing.points.normalize(),
            )
            cells.append({"name": name, "value": value, "error": errors.get(name), "item": item})
        whole = grid.scores.get((student_id, None))
        status_name = f"status-{student_id}"
        rows.append(
            {
                "student": enrollment.student,
                "cells": cells,
                "status_name": status_name,
                "status": posted.get(status_name, whole.status if whole else ScoreStatus.SCORED),
                "status_error": errors.get(status_name),
            }
        )
    stray_errors = [
        msg
        for name, msg in errors.items()
        if not any(name == c["name"] for r in rows for c in r["cells"])
        and not any(name == r["status_name"] for r in rows)
    ]
    return render(
        request,
        "assessments/score_grid.html",
        {
            "section": access.section,
            "assessment": assessment,
            "columns": columns,
            "rows": rows,
            "statuses": ENTRY_STATUSES,
            "error_count": len(errors),
            "stray_errors": stray_errors,
        },
        status=400 if errors else 200,
    )

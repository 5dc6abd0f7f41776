"""The teacher's pages of one standard within a section: the class on it, and one student's history
on it (with the override form)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import (
    SectionAccess,
    section_for_user,
    section_plan_access,
)
from assessments.services import mastery_override_clear, mastery_override_set
from dashboard import charts, selectors, tables
from dashboard.forms import (
    OverrideForm,
)
from dashboard.views.teacher.common import STUDENT_PLACEHOLDER, csv_response, serialized
from privacy.services import log_shown


def _standard_view(
    request: HttpRequest, pk: int, standard_id: int, what: str
) -> tuple[SectionAccess, selectors.StandardInSection]:
    """A standard within a section, access-checked, its read logged for the section's students."""
    access = section_for_user(request.user, pk)
    view = selectors.standard_in_section(access.section, standard_id)
    log_shown(
        request,
        access,
        what=what,
        students=[e.student for e in view.roster],
    )
    return access, view


@login_required
@require_GET
def standard_detail(request: HttpRequest, pk: int, standard_id: int) -> HttpResponse:
    access, view = _standard_view(request, pk, standard_id, "standard in section")
    levels = charts.level_styles(view.policy)
    rows = [(e.student, view.cell(e.student_id)) for e in view.roster]
    selected_level = request.GET.get("level", "")
    selected = int(selected_level) if selected_level.isdigit() else None
    student_url = reverse(
        "dashboard:student_standard",
        kwargs={"pk": pk, "student_id": STUDENT_PLACEHOLDER, "standard_id": view.standard.pk},
    ).replace(str(STUDENT_PLACEHOLDER), "{student}")
    return render(
        request,
        "dashboard/standard_detail.html",
        {
            "section": access.section,
            "view": view,
            "standard": view.standard,
            "short_code": selectors.standard_short_code(view.standard.code),
            "levels": levels,
            "rows": rows,
            "rows_html": tables.standard_students_body(rows, levels, selected, student_url),
            "groups": [
                (group, tables.student_links_html(group.students, student_url))
                for group in selectors.level_groups(view)
            ],
            "counts": [
                (level, sum(1 for _, c in rows if c.level == level.value)) for level in levels
            ],
            "selected_level": selected,
            "figure_json": serialized(charts.distribution_figure(view)),
            # The section's teachers plan a lesson on the standard from its groups.
            "may_plan": _may_plan(request, access),
        },
    )


def _may_plan(request: HttpRequest, access: SectionAccess) -> bool:
    found = section_plan_access(request.user, access.section, first_day=timezone.localdate())
    return found is not None and found.may_edit


@login_required
@require_GET
def standard_csv(request: HttpRequest, pk: int, standard_id: int) -> HttpResponse:
    access, view = _standard_view(request, pk, standard_id, "standard in section export")
    return csv_response(
        tables.standard_students_csv(view),
        f"section-{access.section.pk}-{selectors.standard_short_code(view.standard.code)}.csv",
    )


@login_required
@require_http_methods(["GET", "POST"])
def student_standard(
    request: HttpRequest, pk: int, student_id: int, standard_id: int
) -> HttpResponse:
    """One student's history on one standard, and the override form for the section's teacher."""
    access = section_for_user(request.user, pk)
    student = selectors.enrolled_student(access.section, student_id)
    history = selectors.student_standard_history(access.section, student, standard_id)
    can_override = access.teaches
    form = OverrideForm(
        request.POST if request.method == "POST" and "note" in request.POST else None,
        policy=history.policy,
        initial={"level": history.cell.level if history.cell.level else None},
    )
    if request.method == "POST":
        if not can_override:
            raise PermissionDenied("Only the section's teachers override a level.")
        if request.POST.get("action") == "clear":
            cleared = mastery_override_clear(
                student_id=student.pk, standard_id=history.standard.pk, acting_user=request.user
            )
            if cleared:
                messages.success(request, "Override cleared: the estimate shows again.")
            return redirect(request.path)
        if form.is_valid():
            level = history.policy.level_named(form.cleaned_data["level"])
            mastery_override_set(
                student_id=student.pk,
                standard_id=history.standard.pk,
                level=level.value,
                note=form.cleaned_data["note"],
                acting_user=request.user,
                clear_on_new_score=form.cleaned_data["clear_on_new_score"],
            )
            messages.success(
                request, f"{student.display_name} is now shown at “{level.name}” on this standard."
            )
            return redirect(request.path)
    log_shown(
        request,
        access,
        what="student history on a standard",
        students=[student],
    )
    return render(
        request,
        "dashboard/student_standard.html",
        {
            "section": access.section,
            "student": student,
            "history": history,
            "standard": history.standard,
            "short_code": selectors.standard_short_code(history.standard.code),
            "level": history.policy.level_named(history.cell.level),
            "estimated_level": history.policy.level_named(history.cell.estimated_level)
            if history.cell.overridden and history.cell.estimated_level is not None
            else None,
            "can_override": can_override,
            "form": form,
            "figure_json": serialized(charts.trend_figure(history)),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_GET
def student_standard_csv(
    request: HttpRequest, pk: int, student_id: int, standard_id: int
) -> HttpResponse:
    access = section_for_user(request.user, pk)
    student = selectors.enrolled_student(access.section, student_id)
    history = selectors.student_standard_history(access.section, student, standard_id)
    log_shown(
        request,
        access,
        what="student history on a standard export",
        students=[student],
    )
    return csv_response(
        tables.student_standard_csv(history),
        f"student-{student.pk}-{selectors.standard_short_code(history.standard.code)}.csv",
    )

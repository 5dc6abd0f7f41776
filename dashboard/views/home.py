"""Each role's first page: a person with several roles sees each part."""

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from accounts.access import REACH, Basis, Viewer, viewer_for
from accounts.models import Role
from dashboard import selectors
from dashboard.views.planner.calendar import plan_entry
from lessons import selectors as lesson_selectors
from privacy.services import log_shown


def _lesson_plans(request: HttpRequest, viewer: Viewer) -> dict[str, object]:
    """A teacher who plans sections: today's and tomorrow's plans, and the way to the calendar."""
    if Basis.SECTION_TEACHER not in viewer.bases:
        return {"plans_teacher": False}
    today = timezone.localdate()
    tomorrow = today + timedelta(days=1)
    plans = lesson_selectors.plans_of_teacher(request.user, today, tomorrow)
    return {
        "plans_teacher": True,
        "plans_today": [plan_entry(p, today) for p in plans if p.first_day <= today],
        "plans_tomorrow": [plan_entry(p, tomorrow) for p in plans if p.last_day >= tomorrow],
        "tomorrow": tomorrow,
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role's first page; a person with several roles sees each part. Someone who is only
    a guardian lands in the family portal (staff who are also guardians keep this page, which
    links it)."""
    viewer = viewer_for(request.user)
    if Role.GUARDIAN in viewer.roles and not viewer.is_staff_role:
        return redirect("portal:children")
    children = selectors.guardian_children(request.user)
    if children:
        log_shown(
            request,
            REACH[Basis.GUARDIAN],
            what="home: my children",
            students=[child.student for child in children],
        )
    context = {
        "teacher_sections": selectors.teacher_sections(request.user)
        if Role.TEACHER in viewer.roles
        else [],
        "principal_schools": selectors.principal_schools(request.user)
        if Role.PRINCIPAL in viewer.roles
        else [],
        "district_schools": selectors.district_schools(request.user)
        if Role.DISTRICT_STAFF in viewer.roles
        else [],
        "children": children,
        **_lesson_plans(request, viewer),
    }
    return render(request, "accounts/home.html", context)

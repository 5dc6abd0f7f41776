"""Each role's first page: a person with several roles sees each part."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.access import REACH, Basis, viewer_for
from accounts.models import Role
from dashboard import selectors
from privacy.services import log_shown


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
    }
    return render(request, "accounts/home.html", context)

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import school_for_user
from accounts.selectors import school_overview
from dashboard import views as dashboard_views


@login_required
def section_detail(request: HttpRequest, pk: int) -> HttpResponse:
    # The section's page is the teacher dashboard's overview (heatmap, needs attention, roster).
    return dashboard_views.section_overview(request, pk)


@login_required
def student_detail(request: HttpRequest, pk: int) -> HttpResponse:
    # The student's page is the dashboard's profile (record, mastery, scores; tabs).
    return dashboard_views.student_profile(request, pk)


@login_required
def school_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access = school_for_user(request.user, pk)
    return render(
        request,
        "students/school_detail.html",
        {"overview": school_overview(access.school), "role": access.role},
    )

"""The rest of a child's record for their family: grades, attendance (and discipline where the
district shows it), and their teachers with how to reach them."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.access import StudentAccess
from portal.selectors import child_attendance, child_grades, child_teachers
from portal.views.common import child_page


def _attendance_read(access: StudentAccess) -> str:
    """The access log's words: discipline is part of the read only where families see it."""
    if access.can_see_discipline:
        return "family portal: attendance and discipline"
    return "family portal: attendance"


@login_required
@require_GET
def grades(request: HttpRequest, pk: int) -> HttpResponse:
    access, context = child_page(request, pk, what="family portal: grades")
    return render(request, "portal/grades.html", {**context, "grades": child_grades(access)})


@login_required
@require_GET
def attendance(request: HttpRequest, pk: int) -> HttpResponse:
    access, context = child_page(request, pk, what=_attendance_read)
    return render(
        request, "portal/attendance.html", {**context, "attendance": child_attendance(access)}
    )


@login_required
@require_GET
def teachers(request: HttpRequest, pk: int) -> HttpResponse:
    access, context = child_page(request, pk, what="family portal: teachers")
    return render(request, "portal/teachers.html", {**context, "classes": child_teachers(access)})

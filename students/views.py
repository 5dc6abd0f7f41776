from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.selectors import school_overview
from privacy.services import access_log_record
from students import selectors


@login_required
def section_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access = selectors.section_for_user(request.user, pk)
    roster = selectors.section_roster(access.section)
    access_log_record(
        actor=request.user,
        role=access.role,
        what="section roster",
        students=[enrollment.student for enrollment in roster],
        path=request.path,
    )
    return render(
        request,
        "students/section_detail.html",
        {
            "section": access.section,
            "roster": roster,
            "teachers": selectors.section_teachers(access.section),
        },
    )


@login_required
def student_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access = selectors.student_for_user(request.user, pk)
    record = selectors.student_record(request.user, access)
    access_log_record(
        actor=request.user,
        role=access.role,
        what="student record",
        students=[access.student],
        path=request.path,
    )
    return render(
        request, "students/student_detail.html", {"record": record, "student": access.student}
    )


@login_required
def school_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access = selectors.school_for_user(request.user, pk)
    return render(
        request,
        "students/school_detail.html",
        {"overview": school_overview(access.school), "role": access.role},
    )

"""Bench-only pages: the same reads and writes as an app page, without templates.

Served only under bench.settings (ROOT_URLCONF = "bench.urls"); they are the baseline that the
app's pages are compared with, so they must call exactly the selectors and services the page
calls, in the same order, and nothing else.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from privacy.services import access_log_record
from students import selectors


@login_required
def plain_section_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """students.views.section_detail's queries and access-log write, answered in plain text."""
    access = selectors.section_for_user(request.user, pk)
    roster = selectors.section_roster(access.section)
    access_log_record(
        actor=request.user,
        role=access.role,
        what="section roster",
        students=[enrollment.student for enrollment in roster],
        path=request.path,
    )
    teachers = selectors.section_teachers(access.section)
    return HttpResponse(
        f"section {access.section.pk}: {len(roster)} students, {len(teachers)} teachers\n",
        content_type="text/plain",
    )

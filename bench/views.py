"""Bench-only pages: the same reads and writes as an app page, without templates.

Served only under bench.settings (ROOT_URLCONF = "bench.urls"); they are the baseline that the
app's pages are compared with, so they must call exactly the selectors and services the page
calls, in the same order, and nothing else.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from accounts.access import section_for_user
from privacy.services import log_shown
from students import selectors


@login_required
def plain_section_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The section page's access check, roster read and access-log write, in plain text."""
    access = section_for_user(request.user, pk)
    roster = selectors.section_roster(access.section)
    log_shown(
        request,
        access,
        what="section roster",
        students=[enrollment.student for enrollment in roster],
    )
    teachers = selectors.section_teachers(access.section)
    return HttpResponse(
        f"section {access.section.pk}: {len(roster)} students, {len(teachers)} teachers\n",
        content_type="text/plain",
    )

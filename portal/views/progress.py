"""A child's progress: mastery by standard in plain words, and recent scores."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboard.charts import level_styles
from portal.selectors import child_progress
from portal.views.common import child_page


@login_required
@require_GET
def progress(request: HttpRequest, pk: int) -> HttpResponse:
    access, context = child_page(request, pk, what="family portal: progress")
    found = child_progress(access)
    return render(
        request,
        "portal/progress.html",
        {**context, "progress": found, "levels": level_styles(found.policy)},
    )

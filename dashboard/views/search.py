"""The top bar's student search: for whoever sees rosters (teachers, principals, district staff),
among the students they may see."""

from itertools import groupby

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.access import may_search_students
from dashboard import selectors
from dashboard.forms import StudentSearchForm
from privacy.services import log_shown

# Of a refused search text, how much the box shows again.
TYPED_KEPT = 200


@login_required
@require_GET
def student_search(request: HttpRequest) -> HttpResponse:
    """Students by name or student number (?q=); a message for an empty, short or long text."""
    if not may_search_students(request.user):
        raise Http404("No such page.")
    form = StudentSearchForm(request.GET)
    text = form.cleaned_data["q"] if form.is_valid() else ""
    search = selectors.student_search(request.user, text) if text else None
    if search is not None:
        # One row per student shown, under the grant that reaches them (a teacher who is also a
        # principal reads their own class as its teacher).
        by_basis = sorted(search.found, key=lambda found: found.access.basis)
        for _, group in groupby(by_basis, key=lambda found: found.access.basis):
            shown = list(group)
            log_shown(
                request,
                shown[0].access,
                what="student search results",
                students=[found.access.student for found in shown],
            )
    problems = form.errors.get("q")
    return render(
        request,
        "dashboard/search.html",
        {
            # The top bar's box keeps what was typed, to correct it (cut short if huge).
            "search_text": text or str(form.data.get("q", ""))[:TYPED_KEPT],
            "search_problem": problems[0] if problems else "",
            "search": search,
            "shown": selectors.SEARCH_RESULTS_SHOWN,
        },
        status=400 if problems else 200,
    )

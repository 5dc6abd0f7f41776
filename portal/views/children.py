"""The guardian's landing page in the portal: their children, each with school and grade."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.access import REACH, Basis, viewer_for
from accounts.models import Role
from portal.selectors import family_children
from privacy.services import log_shown


@login_required
@require_GET
def children(request: HttpRequest) -> HttpResponse:
    """The children the user follows as their guardian: a card each (name, school, grade) that
    opens the child's pages. 404 for anyone who is no child's guardian today."""
    if Role.GUARDIAN not in viewer_for(request.user).roles:
        raise Http404("No children to show.")
    cards = family_children(request.user)
    log_shown(
        request,
        REACH[Basis.GUARDIAN],
        what="family portal: my children",
        students=[card.student for card in cards],
    )
    return render(request, "portal/children.html", {"cards": cards})

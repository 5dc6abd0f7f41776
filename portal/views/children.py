"""The guardian's landing page in the portal: their children, each with school and grade."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.access import REACH, Basis, SignedInRequest, viewer_for
from accounts.models import Role
from portal.selectors import family_children
from privacy.services import log_shown
from rights.selectors import notices_to_acknowledge


@login_required
@require_GET
def children(request: SignedInRequest) -> HttpResponse:
    """The children the user follows as their guardian: a card each (name, school, grade) that
    opens the child's pages, and a banner until the guardian has read the annual notice of
    rights. 404 for anyone who is no child's guardian today."""
    if Role.GUARDIAN not in viewer_for(request.user).roles:
        raise Http404("No children to show.")
    cards = family_children(request.user)
    log_shown(
        request,
        REACH[Basis.GUARDIAN],
        what="family portal: my children",
        students=[card.student for card in cards],
    )
    # The district's annual notice of rights, until the guardian has read it (rights).
    unread_notices = notices_to_acknowledge(request.user, [card.student for card in cards])
    return render(
        request, "portal/children.html", {"cards": cards, "unread_notices": unread_notices}
    )

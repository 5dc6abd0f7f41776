"""Who has seen my child's record: every access-log row about the child, filtered by who and by
date, a page at a time (portal.selectors_seen); and the disclosures to outside parties, each
disclosure record of the child's (rights, through portal.selectors_rights)."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.forms_seen import SeenFilterForm
from portal.selectors_rights import child_disclosures
from portal.selectors_seen import Cursor, SeenFilters, seen_page, seen_who_choices
from portal.views.common import child_page


def _link(filters: SeenFilters, cursor_name: str = "", cursor: Cursor | None = None) -> str:
    """This page's query string with the same filters, from a cursor (or the newest rows)."""
    params = {
        "who": filters.who,
        "date_from": filters.date_from.isoformat() if filters.date_from else "",
        "date_to": filters.date_to.isoformat() if filters.date_to else "",
    }
    if cursor is not None:
        params[cursor_name] = cursor.token
    return "?" + urlencode({name: value for name, value in params.items() if value})


@login_required
@require_GET
def seen(request: HttpRequest, pk: int) -> HttpResponse:
    """The child's access log for their family, newest first. A filter value the page cannot
    use answers 400 with the form and what is wrong with it."""
    access, context = child_page(request, pk, what="family portal: who has seen")
    me = request.user.pk
    form = SeenFilterForm(request.GET, who=seen_who_choices(access, me=me))
    problems = form.problems()
    page = links = None
    if not problems:
        filters = form.filters()
        page = seen_page(access, filters, me=me)
        links = {
            "older": _link(filters, "before", page.older) if page.older else "",
            "newer": _link(filters, "after", page.newer) if page.newer else "",
            "newest": _link(filters) if filters.before or filters.after else "",
        }
    return render(
        request,
        "portal/seen.html",
        {
            **context,
            "form": form,
            "problems": problems,
            "page": page,
            "links": links,
            "disclosures": child_disclosures(access),
        },
        status=400 if problems else 200,
    )

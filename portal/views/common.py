"""What the portal's pages about one child share: the access check (the child must be one the
user follows as their guardian), the log of the read, and the child switcher of
templates/portal/base_portal.html."""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from accounts.access import StudentAccess, child_for_guardian
from portal.selectors import family_child_names
from privacy.services import log_shown, students_logged_for

# A child's first page in the portal: where the switcher goes when a page has no twin per child.
CHILD_HOME = "portal:child_progress"
# Pages about one row of a child's (a consent, a request): the tab the switcher goes to instead.
TAB_OF_ROW_PAGES = {
    "child_rights_consent": "portal:child_rights",
    "child_rights_revoke": "portal:child_rights",
    "child_rights_download": "portal:child_rights",
    "child_rights_statement": "portal:child_rights",
}


@dataclass(frozen=True)
class ChildLink:
    label: str
    url: str
    current: bool


def _same_page_for(request: HttpRequest, pk: int) -> str:
    """This page's address for another child (the same tab), else that child's first page. A
    page about one of this child's rows (a consent, a request) goes to the other child's tab."""
    match = request.resolver_match
    if match is not None and match.namespace == "portal" and set(match.kwargs) - {"pk"}:
        tab = TAB_OF_ROW_PAGES.get(match.url_name or "", CHILD_HOME)
        return reverse(tab, kwargs={"pk": pk})
    if match is not None and match.namespace == "portal":
        try:
            return reverse(match.view_name, kwargs={**match.kwargs, "pk": pk})
        except NoReverseMatch:
            pass
    return reverse(CHILD_HOME, kwargs={"pk": pk})


def child_page(
    request: HttpRequest, pk: int, *, what: str | Callable[[StudentAccess], str]
) -> tuple[StudentAccess, dict]:
    """The child the page is about (404 unless the user follows them as their guardian), the
    read logged in `what`'s words (or the words it gives for the access, when what the page
    shows depends on it), and the base layout's context: the child and the switcher,
    a link per child to the same page (the other children's names are a read too, logged once
    per response). Three queries: the check, the children's names, the log (four with a
    switcher)."""
    access = child_for_guardian(request.user, pk)
    return access, child_page_context(request, access, what=what)


def child_page_context(
    request: HttpRequest, access: StudentAccess, *, what: str | Callable[[StudentAccess], str]
) -> dict:
    """child_page's log and context, for a child already fetched through child_for_guardian (a
    form's page checks access first, and logs only when it shows the child)."""
    log_shown(
        request,
        access,
        what=what if isinstance(what, str) else what(access),
        students=[access.student],
    )
    children = family_child_names(request.user)
    logged = students_logged_for(request)
    log_shown(
        request,
        access,
        what="family portal: child switcher",
        students=[child for child in children if child.pk not in logged],
    )
    switcher = [
        ChildLink(
            label=child.display_name,
            url=_same_page_for(request, child.pk),
            current=child.pk == access.student.pk,
        )
        for child in children
    ]
    return {"child": access.student, "child_switcher": switcher}

from dataclasses import dataclass
from functools import cached_property

from django.http import HttpRequest
from django.urls import reverse

from accounts.access import (
    REACH,
    Basis,
    holds_privacy_office,
    may_search_students,
    schools_visible_to,
    sections_visible_to,
    students_visible_to,
    viewer_for,
)
from accounts.models import Role
from privacy.services import log_shown, students_logged_for

# How many of a teacher's sections the top bar lists; past it, a link to all of them (home).
TOP_BAR_SECTIONS = 12
# Where the request keeps its top bar, so that fragments rendered with it share one.
_TOP_BAR_ATTRIBUTE = "_trellis_top_bar"


def roles(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"viewer_roles": viewer_for(user).roles}


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str
    current: bool  # the page shown now (aria-current)


class TopBar:
    """What the top bar offers the signed-in user: their sections, schools, district pages or
    children, and search if they may use it, each asked of accounts.access. Nothing is read
    until the template asks (fragments and pages without the bar cost nothing); each part is
    one query, and the children a guardian is shown are logged like any other read."""

    def __init__(self, request: HttpRequest) -> None:
        self._request = request
        self._user = request.user
        self._roles = viewer_for(request.user).roles

    def _link(self, label: str, url: str) -> NavLink:
        return NavLink(label=label, url=url, current=self._request.path == url)

    @cached_property
    def _sections(self) -> list[NavLink]:
        if Role.TEACHER not in self._roles:
            return []
        sections = (
            sections_visible_to(self._user, role=Role.TEACHER)
            .only("pk", "title", "period")
            .order_by("period", "title", "pk")[: TOP_BAR_SECTIONS + 1]
        )
        return [
            self._link(
                f"{section.title} · Period {section.period}" if section.period else section.title,
                reverse("students:section_detail", kwargs={"pk": section.pk}),
            )
            for section in sections
        ]

    @property
    def sections(self) -> list[NavLink]:
        return self._sections[:TOP_BAR_SECTIONS]

    @property
    def more_sections(self) -> bool:
        return len(self._sections) > TOP_BAR_SECTIONS

    @property
    def plans(self) -> NavLink | None:
        """The teacher's lesson plan calendar, for whoever plans a section (no query)."""
        if Basis.SECTION_TEACHER not in viewer_for(self._user).bases:
            return None
        return self._link("Lesson plans", reverse("lessons:teacher_calendar"))

    @cached_property
    def schools(self) -> list[NavLink]:
        """The schools the user leads (district staff reach theirs from the district page)."""
        if Role.PRINCIPAL not in self._roles:
            return []
        schools = schools_visible_to(self._user, role=Role.PRINCIPAL).only("pk", "name")
        return [
            self._link(school.name, reverse("students:school_detail", kwargs={"pk": school.pk}))
            for school in schools.order_by("name", "pk")
        ]

    @property
    def district(self) -> bool:
        """Whether to offer the district's pages: its schools (home) and imports."""
        return Role.DISTRICT_STAFF in self._roles

    @property
    def guardian(self) -> bool:
        """Whether the user follows children of their own (named by `children`)."""
        return Role.GUARDIAN in self._roles

    @cached_property
    def children(self) -> list[NavLink]:
        """A guardian's children, by name: a read of their names, logged (once per response).
        Error pages leave them out (templates/404.html), so that a refused request logs nothing."""
        if not self.guardian:
            return []
        students = list(
            students_visible_to(self._user, role=Role.GUARDIAN)
            .only("pk", "uuid", "first_name", "preferred_first_name", "last_name")
            .order_by("first_name", "pk")
        )
        logged = students_logged_for(self._request)
        log_shown(
            self._request,
            REACH[Basis.GUARDIAN],
            what="top bar: my children",
            students=[student for student in students if student.pk not in logged],
        )
        return [
            # Their child's pages in the family portal (the profile's address sends them there).
            self._link(
                student.display_name, reverse("portal:child_progress", kwargs={"pk": student.pk})
            )
            for student in students
        ]

    @cached_property
    def privacy_office(self) -> bool:
        """Whether to offer the privacy office's pages (families' rights requests, consents,
        disclosures, the annual notice): its district's privacy officer only."""
        return holds_privacy_office(self._user)

    @cached_property
    def can_search(self) -> bool:
        return may_search_students(self._user)


def top_bar(request: HttpRequest) -> dict:
    """The top bar (templates/base.html), built once per request and read lazily."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    bar = getattr(request, _TOP_BAR_ATTRIBUTE, None)
    if bar is None:
        bar = TopBar(request)
        setattr(request, _TOP_BAR_ATTRIBUTE, bar)
    return {"top_bar": bar}

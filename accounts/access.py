"""Who may see which student, from when to when, and why: the one home of that rule.

Every page, chart endpoint, export, admin page and command that shows student data asks this
module; nothing else filters by role. As in Kolibri's permission classes, each way of reaching
students is declared once (`REACHES`): the basis of the grant, the role it acts in, the purpose a
family reads in the access log, and the filters it puts on students, sections and schools. A new
role or kind of grant is one more declaration here.

Access is always evaluated as of today, from the records themselves: a section assignment, an
enrollment, a school membership or a role membership gives access from its begin date through
its end date and not after, and an edit (in the admin too) counts from the next request. Nothing
waits for an import or a sync. A page's "as of" date filters what it shows, never who sees it.

Grants made one object at a time stay django-guardian object permissions
(`view_student_record`, given by hand): the INDIVIDUAL basis.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.db.models import (
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.http import Http404, HttpRequest
from django.utils import timezone

from accounts.models import DERIVED_SOURCES, Role, RoleMembership, User
from students.models import (
    District,
    Enrollment,
    GuardianRelationship,
    School,
    Section,
    SectionAssignment,
    Student,
    StudentSchoolMembership,
    StudentUserObjectPermission,
    in_force,
)

# Whoever is asking: a signed-in user or the anonymous one (who may see nothing).
AnyUser = User | AnonymousUser


class SignedInRequest(HttpRequest):
    """A request behind login_required: its user is a User (for type checking only)."""

    user: User


STUDENT_CODENAME = "view_student_record"
STUDENT_PERMISSION = f"students.{STUDENT_CODENAME}"


class Basis(models.TextChoices):
    """Why a user may see a student: each grant names exactly one."""

    SECTION_TEACHER = "section_teacher", "Teacher of the student's class"
    SUBSTITUTE = "substitute", "Substitute for the student's class (a dated exception)"
    SCHOOL_TEACHER = "school_teacher", "Teacher at the student's school (granted by hand)"
    PRINCIPAL = "principal", "Principal of the student's school"
    DISTRICT_STAFF = "district_staff", "District staff"
    GUARDIAN = "guardian", "Parent or guardian with portal access"
    INDIVIDUAL = "individual", "Given this one student by the district"


@dataclass(frozen=True)
class Reach:
    """One way of reaching students, declared once.

    `scope` says what the grant's scope ids are; the three filters turn a set of them into a Q
    on students, sections and schools (None: this basis shows no such page).
    """

    basis: Basis
    role: str
    scope: str  # "section", "school", "district" or "student"
    purpose: str  # as a family reads it in the access log
    # Whether it opens the school's own pages (those who run the school or its district).
    school_pages: bool = False

    def _rows(self, ids: frozenset[int]) -> QuerySet | None:
        """The rows in force today that reach students from these scope ids (None: the scope
        is a student or a district, read straight off the student)."""
        if self.scope == "section":
            return Enrollment.objects.filter(in_force(), section_id__in=ids)
        if self.scope == "school":
            return StudentSchoolMembership.objects.filter(in_force(), school_id__in=ids)
        return None

    def students(self, ids: frozenset[int]) -> Q:
        """A filter on Student: every student this basis reaches from these scope ids."""
        rows = self._rows(ids)
        if rows is not None:
            return Q(pk__in=rows.values("student_id"))
        if self.scope == "district":
            return Q(district_id__in=ids)
        return Q(pk__in=ids)

    def reaches(self, ids: frozenset[int]) -> Exists | ExpressionWrapper:
        """Whether this basis reaches the student of the row at hand: a correlated EXISTS on
        the student's own rows (one student at a time, by index), for annotating a fetch."""
        rows = self._rows(ids)
        if rows is not None:
            return Exists(rows.filter(student_id=OuterRef("pk")))
        return ExpressionWrapper(self.students(ids), output_field=models.BooleanField())

    def sections(self, ids: frozenset[int]) -> Q | None:
        # A roster shows other children: guardians and one-student grants never see one.
        return {
            "section": Q(pk__in=ids),
            "school": Q(school_id__in=ids),
            "district": Q(district_id__in=ids),
        }.get(self.scope)

    def schools(self, ids: frozenset[int]) -> Q | None:
        if not self.school_pages:
            return None
        return {"school": Q(pk__in=ids), "district": Q(district_id__in=ids)}.get(self.scope)


# In order of precedence: the most specific basis names a page's role and purpose.
REACHES: tuple[Reach, ...] = (
    Reach(Basis.SECTION_TEACHER, Role.TEACHER, "section", "Teaching the student's class"),
    Reach(
        Basis.SUBSTITUTE, Role.TEACHER, "section", "Covering the student's class as a substitute"
    ),
    Reach(Basis.SCHOOL_TEACHER, Role.TEACHER, "school", "Teaching at the student's school"),
    Reach(
        Basis.PRINCIPAL, Role.PRINCIPAL, "school", "Leading the student's school", school_pages=True
    ),
    Reach(
        Basis.DISTRICT_STAFF,
        Role.DISTRICT_STAFF,
        "district",
        "District administration",
        school_pages=True,
    ),
    Reach(Basis.GUARDIAN, Role.GUARDIAN, "student", "A parent or guardian following their child"),
    Reach(Basis.INDIVIDUAL, "individual", "student", "A task the district gave for this student"),
)
REACH = {reach.basis: reach for reach in REACHES}
# Which (role, scope) a role membership may have; anything else is refused (RoleMembership.clean
# and a check constraint in accounts.models hold the same table).
MEMBERSHIP_BASIS: dict[tuple[str, str], Basis] = {
    (Role.TEACHER, "section"): Basis.SUBSTITUTE,
    (Role.TEACHER, "school"): Basis.SCHOOL_TEACHER,
    (Role.PRINCIPAL, "school"): Basis.PRINCIPAL,
    (Role.DISTRICT_STAFF, "district"): Basis.DISTRICT_STAFF,
    (Role.GUARDIAN, "student"): Basis.GUARDIAN,
}
MEMBERSHIP_BASIS_BY_NAME = {
    (str(role), scope): basis for (role, scope), basis in MEMBERSHIP_BASIS.items()
}
# The Trellis admin: superusers and staff with model permissions, for system administration.
ADMIN_ROLE = "admin"
ADMIN_PURPOSE = "System administration in the Trellis admin"
# Commands district IT runs on the server: the machine's own operator, not a person's grant.
SYSTEM_ROLE = "system"


@dataclass(frozen=True)
class ScopeGrant:
    """One row that grants a user a scope today, with the dates it runs between."""

    basis: Basis
    scope_id: int
    begin: date | None
    end: date | None
    source: str  # the kind of row: "membership", "assignment", "relationship", "permission"
    row_id: int


@dataclass(frozen=True)
class Viewer:
    """A user's grants in force today, read once per request (one query)."""

    user_id: int | None
    grants: tuple[ScopeGrant, ...] = ()

    def ids(self, *bases: Basis) -> frozenset[int]:
        return frozenset(g.scope_id for g in self.grants if g.basis in bases)

    @property
    def bases(self) -> frozenset[Basis]:
        return frozenset(g.basis for g in self.grants)

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(REACH[b].role for b in self.bases if REACH[b].role in Role.values)

    @property
    def is_staff_role(self) -> bool:
        return bool(self.roles & {Role.DISTRICT_STAFF, Role.PRINCIPAL, Role.TEACHER})


# The columns every part of the grants' UNION gives: where the row comes from, the role it acts
# in, its one scope (the others NULL), its dates and its id.
_GRANT_COLUMNS = ("g_source", "g_role", "g_district", "g_school", "g_section", "g_student")
_SCOPE_NAMES = ("district", "school", "section", "student")


def _grant_part(queryset: QuerySet, source: str, role: str | None, **columns: str) -> QuerySet:
    """One part of the UNION: `columns` maps g_district, g_school, g_section, g_student, g_begin,
    g_end to fields of the row (absent: NULL); the role is the row's own field when None."""
    text: models.CharField = models.CharField()
    number: models.IntegerField = models.IntegerField()
    day: models.DateField = models.DateField()
    annotations: dict[str, object] = {
        "g_source": Value(source, output_field=text),
        "g_role": F("role") if role is None else Value(role, output_field=text),
    }
    for name in ("g_district", "g_school", "g_section", "g_student"):
        annotations[name] = F(columns[name]) if name in columns else Value(None, number)
    for name in ("g_begin", "g_end"):
        annotations[name] = F(columns[name]) if name in columns else Value(None, day)
    annotations["g_row"] = F("pk")
    return (
        queryset.annotate(**annotations)
        .values_list(*_GRANT_COLUMNS, "g_begin", "g_end", "g_row")
        .order_by()  # models with a default ordering may not order inside a UNION
    )


# Limits that a feature app puts on what a guardian relationship grants, registered by name from
# its AppConfig.ready() (guardian_grant_limit_register): each returns a Q on GuardianRelationship
# matching the rows that grant nothing today. The rights app's: a student who holds their own
# rights (eligible, 34 CFR 99.5) where the district ends parents' portal access then. Read with
# the rest of a user's grants, in the same query.
_GUARDIAN_GRANT_LIMITS: dict[str, Callable[[], Q]] = {}


def guardian_grant_limit_register(name: str, limit: Callable[[], Q]) -> None:
    """Add a limit on guardians' grants (a callable returning a Q on GuardianRelationship of the
    rows that grant nothing); registering a name again replaces its limit."""
    _GUARDIAN_GRANT_LIMITS[name] = limit


def _grant_rows(user: User, today: date) -> QuerySet:
    """Every row that grants the user something today: one UNION ALL over role memberships
    given by hand, section assignments, guardian relationships and one-object grants."""
    parts = [
        _grant_part(
            RoleMembership.objects.current(today)
            .filter(user=user)
            .exclude(source__in=DERIVED_SOURCES),
            "membership",
            None,
            g_district="district_id",
            g_school="school_id",
            g_section="section_id",
            g_student="student_id",
            g_begin="begin_date",
            g_end="end_date",
        )
    ]
    staff_id = user.staff_record_id
    if staff_id is not None:
        assignments = SectionAssignment.objects.filter(
            in_force(on=today), staff_id=staff_id, staff__is_active=True, section__is_active=True
        )
        parts.append(
            _grant_part(
                assignments,
                "assignment",
                Role.TEACHER,
                g_section="section_id",
                g_begin="begin_date",
                g_end="end_date",
            )
        )
    guardian_id = user.guardian_record_id
    if guardian_id is not None:
        relationships = GuardianRelationship.objects.filter(
            guardian_id=guardian_id,
            guardian__is_active=True,
            is_active=True,
            portal_access=True,
            contact_restricted=False,
            student__is_active=True,
        )
        for limit in _GUARDIAN_GRANT_LIMITS.values():
            relationships = relationships.exclude(limit())
        parts.append(
            _grant_part(relationships, "relationship", Role.GUARDIAN, g_student="student_id")
        )
    one_object = StudentUserObjectPermission.objects.filter(
        user=user, permission__codename=STUDENT_CODENAME
    )
    parts.append(_grant_part(one_object, "permission", "individual", g_student="content_object_id"))
    first, *rest = parts
    return first.union(*rest, all=True)


def _basis_of(source: str, role: str, scope: str) -> Basis | None:
    """The basis a grant row gives: by its source, or for a membership by its role and scope."""
    if source == "assignment":
        return Basis.SECTION_TEACHER
    if source == "relationship":
        return Basis.GUARDIAN
    if source == "permission":
        return Basis.INDIVIDUAL
    return MEMBERSHIP_BASIS.get((role, scope))


# Where a request's grants are kept, on its user object (read once per request).
_VIEWER_ATTRIBUTE = "_trellis_viewer"


def viewer_for(user: AnyUser) -> Viewer:
    """The user's grants in force today, cached on the user object for the request."""
    if not isinstance(user, User) or not user.is_active:
        return Viewer(user_id=None)
    cached: Viewer | None = getattr(user, _VIEWER_ATTRIBUTE, None)
    if cached is not None:
        return cached
    grants = []
    # The same rows hold the privacy office's memberships (no Reach): kept for
    # _privacy_office_district_ids, so that asking it after this costs no query.
    privacy_office: set[int] = set()
    for source, role, *scope_ids, begin, end, row_id in _grant_rows(user, timezone.localdate()):
        scopes = [(name, pk) for name, pk in zip(_SCOPE_NAMES, scope_ids, strict=True) if pk]
        if len(scopes) != 1:
            continue
        if source == "membership" and role == Role.PRIVACY_OFFICER and scopes[0][0] == "district":
            privacy_office.add(int(scopes[0][1]))
        basis = _basis_of(source, role, scopes[0][0])
        if basis is not None:
            grants.append(ScopeGrant(basis, int(scopes[0][1]), begin, end, source, row_id))
    guardian_by_hand = {
        g.scope_id for g in grants if g.basis == Basis.GUARDIAN and g.source == "membership"
    }
    if guardian_by_hand and user.guardian_record_id is not None:
        # A guardian membership given by hand never overrides a contact restriction.
        restricted = set(
            GuardianRelationship.objects.filter(
                guardian_id=user.guardian_record_id,
                student_id__in=guardian_by_hand,
                contact_restricted=True,
            ).values_list("student_id", flat=True)
        )
        grants = [
            g
            for g in grants
            if not (g.basis == Basis.GUARDIAN and g.source == "membership")
            or g.scope_id not in restricted
        ]
    viewer = Viewer(user_id=user.pk, grants=tuple(grants))
    setattr(user, _VIEWER_ATTRIBUTE, viewer)
    if getattr(user, _PRIVACY_OFFICE_ATTRIBUTE, None) is None:
        setattr(user, _PRIVACY_OFFICE_ATTRIBUTE, frozenset(privacy_office))
    return viewer


def forget_viewer(user: AnyUser) -> None:
    """Drop the request's cached grants (after a write that changes them)."""
    for attribute in (_VIEWER_ATTRIBUTE, _PRIVACY_OFFICE_ATTRIBUTE):
        if hasattr(user, attribute):
            delattr(user, attribute)


def _bases_for(viewer: Viewer, role: str | None) -> list[Reach]:
    return [
        reach
        for reach in REACHES
        if reach.basis in viewer.bases and (role is None or reach.role == role)
    ]


def _any_of(filters: Iterable[Q | None]) -> Q | None:
    """The filters joined by OR (those a basis does not have left out); None when none is."""
    present = [q for q in filters if q is not None]
    return functools.reduce(operator.or_, present) if present else None


def student_filter(user: AnyUser, *, role: str | None = None) -> Q:
    """A filter on Student for every student the user may see today (in `role` only, if given);
    a filter that matches nothing for anyone else. Embed it in any query of students."""
    viewer = viewer_for(user)
    visible = Q(pk__in=[])
    for reach in _bases_for(viewer, role):
        visible |= reach.students(viewer.ids(reach.basis))
    return visible


def students_visible_to(user: AnyUser, *, role: str | None = None) -> QuerySet[Student]:
    """Every active student the user may see today, for any of their roles (or one)."""
    if viewer_for(user).user_id is None:
        return Student.objects.none()
    return Student.objects.filter(student_filter(user, role=role), is_active=True)


def sections_visible_to(user: AnyUser, *, role: str | None = None) -> QuerySet[Section]:
    """Active sections whose roster the user may see today (guardians see none)."""
    viewer = viewer_for(user)
    visible = _any_of(reach.sections(viewer.ids(reach.basis)) for reach in _bases_for(viewer, role))
    if visible is None:
        return Section.objects.none()
    return Section.objects.filter(visible, is_active=True)


def schools_visible_to(user: AnyUser, *, role: str | None = None) -> QuerySet[School]:
    """Active schools whose page the user may open today (principals, district staff)."""
    viewer = viewer_for(user)
    visible = _any_of(reach.schools(viewer.ids(reach.basis)) for reach in _bases_for(viewer, role))
    if visible is None:
        return School.objects.none()
    return School.objects.filter(visible, is_active=True)


# Who invites families to the portal: those who run the child's school or its district.
INVITING_BASES = (Basis.PRINCIPAL, Basis.DISTRICT_STAFF)


def students_whose_guardians_user_may_invite(user: AnyUser) -> QuerySet[Student]:
    """The active students whose guardians the user may invite to the portal today: at a school
    they lead (principal) or in their district (district staff). Teachers and guardians: none."""
    viewer = viewer_for(user)
    visible = _any_of(
        REACH[basis].students(viewer.ids(basis)) for basis in INVITING_BASES if viewer.ids(basis)
    )
    if visible is None:
        return Student.objects.none()
    return Student.objects.filter(visible, is_active=True)


def may_invite_guardians_of(user: AnyUser, student: Student) -> bool:
    """Whether the user may send this student's guardians a portal invitation today."""
    return students_whose_guardians_user_may_invite(user).filter(pk=student.pk).exists()


# --- Finding students by name: those who see rosters (teachers, principals, district staff).

# Shorter text matches too much to be worth a query; longer is not a name or a number.
SEARCH_MIN_LENGTH = 2
SEARCH_MAX_LENGTH = 100
# Each word is its own condition on the names: a handful is a full name.
SEARCH_MAX_WORDS = 6


def may_search_students(user: AnyUser) -> bool:
    """Whether the user may look students up by name today: whoever holds a grant that reaches
    a roster (a section, school or district). A guardian or a one-student grant knows their
    students already, and a search would only confirm who else exists (no query)."""
    return any(reach.scope != "student" for reach in _bases_for(viewer_for(user), None))


def students_matching(user: AnyUser, text: str) -> QuerySet[Student]:
    """The students the user may see today whose name or student number matches `text`, ignoring
    case: every word of it within a first, preferred or last name ("ada love" and "Lovelace, Ada"
    find Ada Lovelace), or the whole of it at the start of the student number. Ordered by last
    and first name, each row annotated with the bases that reach it (`found_student_access`
    reads them). One query whatever the district's size; nothing for a user who may not search
    (`may_search_students`) or a text outside SEARCH_MIN_LENGTH..SEARCH_MAX_LENGTH."""
    text = " ".join(text.split())
    words = text.replace(",", " ").split()[:SEARCH_MAX_WORDS]
    if (
        not may_search_students(user)
        or not words
        or not SEARCH_MIN_LENGTH <= len(text) <= SEARCH_MAX_LENGTH
    ):
        return Student.objects.none()
    names = functools.reduce(
        operator.and_,
        (
            Q(first_name__icontains=word)
            | Q(preferred_first_name__icontains=word)
            | Q(last_name__icontains=word)
            for word in words
        ),
    )
    return (
        students_visible_to(user)
        .filter(names | Q(student_number__istartswith=text))
        .annotate(**_reached_by(viewer_for(user)))
        .order_by("last_name", "first_name", "pk")
    )


def districts_administered_by(user: AnyUser) -> QuerySet[District]:
    """The districts the user is district staff of today (imports, district pages)."""
    return District.objects.filter(pk__in=viewer_for(user).ids(Basis.DISTRICT_STAFF))


def district_staff_of(district_id: int) -> QuerySet[User]:
    """The active users who are the district's staff today (given by hand, as viewer_for reads
    them): whom a district-wide notice goes to (a failed scheduled import's report)."""
    memberships = (
        RoleMembership.objects.current(timezone.localdate())
        .filter(role=Role.DISTRICT_STAFF, district_id=district_id)
        .exclude(source__in=DERIVED_SOURCES)
    )
    return User.objects.filter(is_active=True, pk__in=memberships.values("user_id")).order_by("pk")


def _section_reach(viewer: Viewer, section: Section) -> Reach | None:
    for reach in REACHES:
        ids = viewer.ids(reach.basis)
        if not ids:
            continue
        scope_id = {
            "section": section.pk,
            "school": section.school_id,
            "district": section.district_id,
        }.get(reach.scope)
        if scope_id in ids:
            return reach
    return None


def can_see_section(user: AnyUser, section: Section) -> bool:
    """Whether the user may open this section's pages today (no query)."""
    return section.is_active and _section_reach(viewer_for(user), section) is not None


# --- Access to one object: fetch and check together, 404 for anything the user may not see.


@dataclass(frozen=True)
class Access:
    """A grant that lets a user see something: its basis, the role it acts in, its purpose."""

    basis: Basis

    @property
    def role(self) -> str:
        return REACH[self.basis].role

    @property
    def purpose(self) -> str:
        return REACH[self.basis].purpose

    @property
    def teaches(self) -> bool:
        """Whether the user teaches the class (enters scores, overrides levels)."""
        return self.basis in (Basis.SECTION_TEACHER, Basis.SUBSTITUTE)


@dataclass(frozen=True)
class AdminAccess:
    """The Trellis admin's reads, logged like any other."""

    role: str = ADMIN_ROLE
    purpose: str = ADMIN_PURPOSE


@dataclass(frozen=True)
class CommandAccess:
    """A management command's reads: district IT at the server, logged like any other."""

    command: str
    role: str = SYSTEM_ROLE

    @property
    def purpose(self) -> str:
        return f"District IT at the server (manage.py {self.command})"

    @property
    def path(self) -> str:
        return f"manage.py {self.command}"


@dataclass(frozen=True)
class StudentAccess(Access):
    """A student the user may see, the basis that lets them, and what that role shows."""

    student: Student

    @property
    def is_guardian(self) -> bool:
        return self.basis == Basis.GUARDIAN

    @property
    def can_see_contacts(self) -> bool:
        return True

    @property
    def can_see_programs(self) -> bool:
        return True

    @property
    def can_see_scores(self) -> bool:
        return True

    @property
    def can_see_discipline(self) -> bool:
        if self.basis in (Basis.PRINCIPAL, Basis.DISTRICT_STAFF):
            return True
        return self.is_guardian and self.student.district.guardians_see_discipline

    @property
    def can_see_guardians(self) -> bool:
        # Staff see every guardian (restricted ones flagged); a guardian sees only themself.
        return self.basis != Basis.GUARDIAN


@dataclass(frozen=True)
class SectionAccess(Access):
    section: Section


@dataclass(frozen=True)
class SchoolAccess(Access):
    school: School


def _reached_by(viewer: Viewer) -> dict[str, Exists | ExpressionWrapper]:
    """One boolean annotation on Student per basis the viewer holds: whether it reaches the
    student today. Fetching a student with them checks access in the same query."""
    return {
        f"via_{reach.basis.value}": reach.reaches(viewer.ids(reach.basis))
        for reach in REACHES
        if viewer.ids(reach.basis)
    }


def _reaches_of(student: Student) -> list[Reach]:
    """The bases that reached a student fetched with _reached_by, most specific first."""
    return [r for r in REACHES if getattr(student, f"via_{r.basis.value}", False)]


def student_for_user(user: AnyUser, pk: int) -> StudentAccess:
    """Fetch a student and check access together, in one query; 404 when the user may not see
    them."""
    viewer = viewer_for(user)
    student = (
        Student.objects.filter(pk=pk, is_active=True)
        .select_related("district")
        .annotate(**_reached_by(viewer))
        .first()
        if viewer.grants
        else None
    )
    reaches = _reaches_of(student) if student is not None else []
    if student is None or not reaches:
        raise Http404("No such student.")
    return StudentAccess(basis=reaches[0].basis, student=student)


def found_student_access(student: Student) -> StudentAccess:
    """The access to a student that students_matching found (its rows carry their bases)."""
    reaches = _reaches_of(student)
    if not reaches:
        raise Http404("No such student.")
    return StudentAccess(basis=reaches[0].basis, student=student)


def child_for_guardian(user: AnyUser, pk: int) -> StudentAccess:
    """A child the user follows as their parent or guardian today (the family portal's pages),
    in one query; 404 otherwise, also for staff who see the student on another basis: the
    portal is the family's. The guardian grants already leave out contact-restricted
    relationships and those without portal access (viewer_for)."""
    if pk not in viewer_for(user).ids(Basis.GUARDIAN):
        raise Http404("No such child.")
    student = Student.objects.filter(pk=pk, is_active=True).select_related("district").first()
    if student is None:
        raise Http404("No such child.")
    return StudentAccess(basis=Basis.GUARDIAN, student=student)


def section_for_user(user: AnyUser, pk: int) -> SectionAccess:
    """Fetch a section and check access together; 404 when the user may not see its roster."""
    viewer = viewer_for(user)
    section = (
        Section.objects.filter(pk=pk, is_active=True)
        .select_related("school", "course", "session")
        .first()
        if viewer.grants
        else None
    )
    reach = _section_reach(viewer, section) if section is not None else None
    if section is None or reach is None:
        raise Http404("No such section.")
    return SectionAccess(basis=reach.basis, section=section)


def school_for_user(user: AnyUser, pk: int) -> SchoolAccess:
    """Fetch a school and check access together; 404 unless the user runs it or its district."""
    viewer = viewer_for(user)
    school = School.objects.filter(pk=pk, is_active=True).first() if viewer.grants else None
    reach = None
    if school is not None:
        scope_ids = {"school": school.pk, "district": school.district_id}
        reach = next(
            (
                r
                for r in REACHES
                if r.school_pages and scope_ids.get(r.scope) in viewer.ids(r.basis)
            ),
            None,
        )
    if school is None or reach is None:
        raise Http404("No such school.")
    return SchoolAccess(basis=reach.basis, school=school)


# --- Lesson plans (the lessons app): who may read or edit a section's plans, and of which days.
#
# Written over a section and days, so that this layer needs nothing of lessons (which fetches a
# plan, then asks here): a current teacher or co-teacher of the section edits its plans; a
# substitute whose dated access to it (in force today) covers a plan's days reads that plan; the
# principal of its school reads them. District staff, guardians, teachers granted the school by
# hand and anyone else: nothing (a 404).

PLAN_READING_BASES = (Basis.SECTION_TEACHER, Basis.SUBSTITUTE, Basis.PRINCIPAL)


@dataclass(frozen=True)
class SectionPlansAccess(SectionAccess):
    """A section whose lesson plans the user may read, whether they may edit them, and the days
    whose plans they see: `windows` holds (begin, end) spans, either end None for open; empty
    means every day."""

    may_edit: bool = False
    windows: tuple[tuple[date | None, date | None], ...] = ()

    def covers(self, first_day: date, last_day: date) -> bool:
        """Whether a plan running first_day through last_day is one the user may read."""
        if not self.windows:
            return True
        return any(
            (begin is None or begin <= last_day) and (end is None or end >= first_day)
            for begin, end in self.windows
        )


def _section_plans_access(viewer: Viewer, section: Section) -> SectionPlansAccess | None:
    if not section.is_active:
        return None
    if section.pk in viewer.ids(Basis.SECTION_TEACHER):
        return SectionPlansAccess(basis=Basis.SECTION_TEACHER, section=section, may_edit=True)
    windows = tuple(
        (g.begin, g.end)
        for g in viewer.grants
        if g.basis == Basis.SUBSTITUTE and g.scope_id == section.pk
    )
    if windows:
        return SectionPlansAccess(basis=Basis.SUBSTITUTE, section=section, windows=windows)
    if section.school_id in viewer.ids(Basis.PRINCIPAL):
        return SectionPlansAccess(basis=Basis.PRINCIPAL, section=section)
    return None


def section_plans_for_user(user: AnyUser, pk: int) -> SectionPlansAccess:
    """Fetch a section and check that the user may read its lesson plans (a section's calendar);
    404 otherwise. A substitute's access carries the days it covers."""
    viewer = viewer_for(user)
    section = (
        Section.objects.filter(pk=pk, is_active=True)
        .select_related("school", "course", "session")
        .first()
        if viewer.ids(*PLAN_READING_BASES)
        else None
    )
    plans_access = _section_plans_access(viewer, section) if section is not None else None
    if plans_access is None:
        raise Http404("No such section.")
    return plans_access


def section_plan_access(
    user: AnyUser, section: Section, *, first_day: date, last_day: date | None = None
) -> SectionPlansAccess | None:
    """Whether the user may read a plan of this section running first_day through last_day
    (default: that one day), and how (`may_edit`); None when not. No query once the user's
    grants are read."""
    plans_access = _section_plans_access(viewer_for(user), section)
    if plans_access is None or not plans_access.covers(first_day, last_day or first_day):
        return None
    return plans_access


def sections_plannable_by(user: AnyUser) -> QuerySet[Section]:
    """The active sections whose plans the user writes today: those they teach (co-teachers
    too). Substitutes and principals read plans; they plan none."""
    return Section.objects.filter(
        pk__in=viewer_for(user).ids(Basis.SECTION_TEACHER), is_active=True
    )


# --- Why can X see Y: every basis, with the rows and dates behind it.


@dataclass(frozen=True)
class Explanation:
    """One basis on which a user may see a student today, and the rows that give it."""

    basis: Basis
    role: str
    purpose: str
    via: str  # the rows, in words: "assignment to Grade 4 Math (section 12)"
    begin: date | None  # the grant runs from (None: no start recorded)
    end: date | None  # through (None: open-ended)

    @property
    def period(self) -> str:
        begin = f"from {self.begin:%Y-%m-%d}" if self.begin else "from no recorded start"
        end = f"through {self.end:%Y-%m-%d}" if self.end else "with no end date"
        return f"{begin} {end}"

    def as_dict(self) -> dict[str, object]:
        return {
            "basis": self.basis.value,
            "basis_label": self.basis.label,
            "role": self.role,
            "purpose": self.purpose,
            "via": self.via,
            "begin": self.begin.isoformat() if self.begin else None,
            "end": self.end.isoformat() if self.end else None,
        }


def _later(*days: date | None) -> date | None:
    known = [d for d in days if d is not None]
    return max(known) if known else None


def _sooner(*days: date | None) -> date | None:
    known = [d for d in days if d is not None]
    return min(known) if known else None


@dataclass(frozen=True)
class _StudentRows:
    """The student's rows in force that an explanation names (read once for many users)."""

    enrollments: dict[int, Enrollment]
    school_memberships: dict[int, StudentSchoolMembership]


def _student_rows(student: Student) -> _StudentRows:
    return _StudentRows(
        enrollments={
            e.section_id: e
            for e in Enrollment.objects.filter(in_force(), student=student).select_related(
                "section"
            )
        },
        school_memberships={
            m.school_id: m
            for m in StudentSchoolMembership.objects.filter(
                in_force(), student=student
            ).select_related("school")
        },
    )


def explain(
    user: AnyUser, student: Student, *, rows: _StudentRows | None = None
) -> list[Explanation]:
    """Every basis on which the user may see the student today; empty when none does. `rows`,
    when the caller has read them for several users, are the student's rows in force."""
    viewer = viewer_for(user)
    checked = (
        Student.objects.filter(pk=student.pk, is_active=True)
        .annotate(**_reached_by(viewer))
        .first()
        if viewer.grants
        else None
    )
    if checked is None:
        return []
    reached = {reach.basis for reach in _reaches_of(checked)}
    explanations: list[Explanation] = []
    rows = rows or _student_rows(student)
    enrollments, school_memberships = rows.enrollments, rows.school_memberships
    precedence = {reach.basis: index for index, reach in enumerate(REACHES)}
    for grant in sorted(viewer.grants, key=lambda g: precedence[g.basis]):
        if grant.basis not in reached:
            continue
        reach = REACH[grant.basis]
        begin, end, via = grant.begin, grant.end, ""
        if reach.scope == "section":
            enrollment = enrollments.get(grant.scope_id)
            if enrollment is None:
                continue
            row = (
                f"section assignment {grant.row_id}"
                if grant.source == "assignment"
                else f"role membership {grant.row_id}"
            )
            via = (
                f"{row} to {enrollment.section.title} (section {grant.scope_id}), "
                f"enrollment {enrollment.pk}"
            )
            begin, end = (
                _later(begin, enrollment.begin_date),
                _sooner(end, enrollment.end_date),
            )
        elif reach.scope == "school":
            membership = school_memberships.get(grant.scope_id)
            if membership is None:
                continue
            via = (
                f"role membership {grant.row_id} at {membership.school.name} "
                f"(school {grant.scope_id}), school membership {membership.pk}"
            )
            begin, end = _later(begin, membership.begin_date), _sooner(end, membership.end_date)
        elif reach.scope == "district":
            if grant.scope_id != student.district_id:
                continue
            via = f"role membership {grant.row_id} for district {grant.scope_id}"
        else:
            if grant.scope_id != student.pk:
                continue
            via = {
                "relationship": f"guardian relationship {grant.row_id}, with portal access",
                "membership": f"role membership {grant.row_id}",
                "permission": f"object permission {grant.row_id} ({STUDENT_PERMISSION})",
            }[grant.source]
        explanations.append(Explanation(grant.basis, reach.role, reach.purpose, via, begin, end))
    return explanations


def users_who_may_see(student: Student) -> list[tuple[User, list[Explanation]]]:
    """Every user who may see the student today, each with their bases (the student's admin
    page). The candidates come from the records that can reach the student; each is then asked
    through explain(), so this can never disagree with the access check."""
    today = timezone.localdate()
    sections = Enrollment.objects.filter(in_force(), student=student).values("section_id")
    schools = StudentSchoolMembership.objects.filter(in_force(), student=student).values(
        "school_id"
    )
    memberships = RoleMembership.objects.current(today).exclude(source__in=DERIVED_SOURCES)
    candidates = User.objects.filter(is_active=True).filter(
        Q(
            staff_record__section_assignments__in=SectionAssignment.objects.filter(
                in_force(), section_id__in=sections
            )
        )
        | Q(
            pk__in=memberships.filter(
                Q(section_id__in=sections)
                | Q(school_id__in=schools)
                | Q(district_id=student.district_id)
                | Q(student=student)
            ).values("user_id")
        )
        | Q(
            guardian_record__relationships__in=GuardianRelationship.objects.filter(
                student=student, is_active=True
            )
        )
        | Q(
            pk__in=StudentUserObjectPermission.objects.filter(
                content_object=student, permission__codename=STUDENT_CODENAME
            ).values("user_id")
        )
    )
    found = []
    rows = _student_rows(student)
    for user in candidates.distinct().order_by("email"):
        explanations = explain(user, student, rows=rows)
        if explanations:
            found.append((user, explanations))
    return found


# --- The privacy office (FERPA; the rights app): a district-scoped role that is not a Reach.
#
# A privacy officer answers families' rights requests (inspection, amendment, consent) and
# records disclosures for their district. The role opens no student page by itself: it is no
# Reach, so no profile, roster, search or school page counts it, and Viewer leaves it out. The
# rights pages ask the functions below, which give any student of the officer's district, active
# or not (a family's rights outlast enrolment), under the purpose a family reads in the access
# log. It is held as a role membership over a district given by hand (accounts.services.
# role_grant), in force between its dates like any other.

PRIVACY_OFFICE_PURPOSE = "Answering a family's rights request or recording a disclosure (FERPA)"
# Where a request's privacy-office districts are kept, on its user object (read once).
_PRIVACY_OFFICE_ATTRIBUTE = "_trellis_privacy_office"


def _privacy_office_district_ids(user: AnyUser) -> frozenset[int]:
    """The districts whose privacy office the user holds today (one query, cached)."""
    if not isinstance(user, User) or not user.is_active:
        return frozenset()
    cached: frozenset[int] | None = getattr(user, _PRIVACY_OFFICE_ATTRIBUTE, None)
    if cached is not None:
        return cached
    district_ids = frozenset(
        RoleMembership.objects.current(timezone.localdate())
        .filter(user=user, role=Role.PRIVACY_OFFICER, district__isnull=False)
        .exclude(source__in=DERIVED_SOURCES)
        .values_list("district_id", flat=True)
    )
    setattr(user, _PRIVACY_OFFICE_ATTRIBUTE, district_ids)
    return district_ids


@dataclass(frozen=True)
class PrivacyOfficeAccess:
    """The privacy office of one district, as a user holds it today: what its pages' reads and
    writes are logged under (privacy.services.log_shown takes it as the grant)."""

    district: District

    @property
    def role(self) -> str:
        return str(Role.PRIVACY_OFFICER)

    @property
    def purpose(self) -> str:
        return PRIVACY_OFFICE_PURPOSE


@dataclass(frozen=True)
class PrivacyOfficeStudentAccess(PrivacyOfficeAccess):
    """A student of the privacy officer's district, for the rights pages."""

    student: Student


def districts_with_privacy_office(user: AnyUser) -> QuerySet[District]:
    """The active districts whose privacy officer the user is today (empty for anyone else)."""
    return District.objects.filter(pk__in=_privacy_office_district_ids(user), is_active=True)


def holds_privacy_office(user: AnyUser) -> bool:
    """Whether the user is the privacy officer of any district today (the top bar's link; no
    query once the user's grants are read)."""
    return bool(_privacy_office_district_ids(user))


def may_act_as_privacy_officer(user: AnyUser, district: District | int) -> bool:
    """Whether the user is the district's privacy officer today (no query once cached)."""
    district_id = district if isinstance(district, int) else district.pk
    return district_id in _privacy_office_district_ids(user)


def privacy_office_for_user(user: AnyUser, district_pk: int) -> PrivacyOfficeAccess:
    """A district whose privacy officer the user is today; 404 otherwise."""
    district_ids = _privacy_office_district_ids(user)
    district = (
        District.objects.filter(pk=district_pk, is_active=True).first()
        if district_pk in district_ids
        else None
    )
    if district is None:
        raise Http404("No such district.")
    return PrivacyOfficeAccess(district=district)


def students_for_privacy_officer(user: AnyUser) -> QuerySet[Student]:
    """Every student, active or not, of the districts whose privacy officer the user is today
    (the rights pages' pickers); none for anyone else."""
    return Student.objects.filter(district_id__in=_privacy_office_district_ids(user))


def student_for_privacy_officer(user: AnyUser, pk: int) -> PrivacyOfficeStudentAccess:
    """Fetch a student for the rights pages and check together: a student, active or not, of a
    district whose privacy officer the user is today; 404 otherwise."""
    district_ids = _privacy_office_district_ids(user)
    student = (
        Student.objects.filter(pk=pk, district_id__in=district_ids)
        .select_related("district")
        .first()
        if district_ids
        else None
    )
    if student is None:
        raise Http404("No such student.")
    return PrivacyOfficeStudentAccess(district=student.district, student=student)


def may_exercise_rights_for(user: AnyUser, student: Student) -> bool:
    """Whether the user follows the child as a parent or guardian today (child_for_guardian's
    test) through a relationship that gives them the child's educational rights (FERPA: notice,
    inspection, amendment, consent, directory opt-out); a guardian without them still sees the
    child in the portal, but asks for nothing on the child's behalf."""
    if (
        not isinstance(user, User)
        or user.guardian_record_id is None
        or student.pk not in viewer_for(user).ids(Basis.GUARDIAN)
    ):
        return False
    return GuardianRelationship.objects.filter(
        guardian_id=user.guardian_record_id,
        student_id=student.pk,
        is_active=True,
        has_educational_rights=True,
    ).exists()

"""Permission-scoped reads of the district's records.

One access function per model (`student_for_user`, `section_for_user`, `school_for_user`) fetches
and checks together, and list selectors scope querysets by what the user may see. Views never
repeat the rule. Anything a user may not see is a 404, so that ids are not confirmed.

Who sees what: teachers their current students and sections (django-guardian object
permissions, kept by accounts.services.derived_access_sync); principals their schools' students
(by query over memberships); district staff their district; guardians with portal access their
own children.
"""

from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from accounts.models import Role, RoleMembership
from students.models import (
    ContactDetail,
    Enrollment,
    GuardianRelationship,
    ProgramParticipation,
    School,
    Section,
    SectionAssignment,
    Student,
    StudentSchoolMembership,
)

STUDENT_PERMISSION = "students.view_student_record"
SECTION_PERMISSION = "students.view_section_roster"


@dataclass(frozen=True)
class Viewer:
    """A user's current scopes, read once per request."""

    user_id: int | None
    district_ids: frozenset[int] = frozenset()
    principal_school_ids: frozenset[int] = frozenset()
    teacher_section_ids: frozenset[int] = frozenset()
    guardian_student_ids: frozenset[int] = frozenset()
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_staff_role(self) -> bool:
        return bool(self.roles & {Role.DISTRICT_STAFF, Role.PRINCIPAL, Role.TEACHER})


def viewer_for(user: object) -> Viewer:
    """The user's current role memberships, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return Viewer(user_id=None)
    cached = getattr(user, "_trellis_viewer", None)
    if cached is not None:
        return cached
    scopes: dict[str, set[int]] = {role: set() for role in Role.values}
    rows = (
        RoleMembership.objects.current()
        .filter(user=user)
        .values_list("role", "district_id", "school_id", "section_id", "student_id")
    )
    for role, district_id, school_id, section_id, student_id in rows:
        scopes.setdefault(role, set()).add(district_id or school_id or section_id or student_id)
    viewer = Viewer(
        user_id=user.pk,  # type: ignore[attr-defined]
        district_ids=frozenset(scopes[Role.DISTRICT_STAFF]),
        principal_school_ids=frozenset(scopes[Role.PRINCIPAL]),
        teacher_section_ids=frozenset(scopes[Role.TEACHER]),
        guardian_student_ids=frozenset(scopes[Role.GUARDIAN]),
        roles=frozenset(role for role, ids in scopes.items() if ids),
    )
    user._trellis_viewer = viewer  # type: ignore[attr-defined]
    return viewer


def _teacher_student_ids(user: object) -> QuerySet:
    # accept_global_perms=False: a model-wide permission granted by mistake reveals nothing.
    return get_objects_for_user(
        user,
        STUDENT_PERMISSION,
        klass=Student,
        use_groups=False,
        with_superuser=False,
        accept_global_perms=False,
    ).values("pk")


def _teacher_section_ids(user: object) -> QuerySet:
    return get_objects_for_user(
        user,
        SECTION_PERMISSION,
        klass=Section,
        use_groups=False,
        with_superuser=False,
        accept_global_perms=False,
    ).values("pk")


def _principal_student_ids(school_ids: frozenset[int]) -> QuerySet:
    today = timezone.localdate()
    return (
        StudentSchoolMembership.objects.filter(school_id__in=school_ids, is_active=True)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .values("student_id")
    )


def students_visible_to(user: object) -> QuerySet[Student]:
    """Every active student the user may see, for any of their roles."""
    viewer = viewer_for(user)
    if viewer.user_id is None:
        return Student.objects.none()
    visible = Q(pk__in=_teacher_student_ids(user))
    if viewer.district_ids:
        visible |= Q(district_id__in=viewer.district_ids)
    if viewer.principal_school_ids:
        visible |= Q(pk__in=_principal_student_ids(viewer.principal_school_ids))
    if viewer.guardian_student_ids:
        visible |= Q(pk__in=viewer.guardian_student_ids)
    return Student.objects.filter(is_active=True).filter(visible)


@dataclass(frozen=True)
class StudentAccess:
    """A student the user may see, the role that lets them, and what that role shows."""

    student: Student
    role: str
    can_see_contacts: bool
    can_see_programs: bool
    can_see_discipline: bool
    can_see_scores: bool
    can_see_guardians: bool


def _student_role(user: object, viewer: Viewer, student: Student) -> str | None:
    """The most specific role that lets the user see this student, or None."""
    if Role.TEACHER in viewer.roles and _teacher_student_ids(user).filter(pk=student.pk).exists():
        return Role.TEACHER
    if viewer.principal_school_ids and (
        _principal_student_ids(viewer.principal_school_ids).filter(student_id=student.pk).exists()
    ):
        return Role.PRINCIPAL
    if student.district_id in viewer.district_ids:
        return Role.DISTRICT_STAFF
    if student.pk in viewer.guardian_student_ids:
        return Role.GUARDIAN
    return None


def student_for_user(user: object, pk: int) -> StudentAccess:
    """Fetch a student and check access together; 404 when the user may not see them."""
    viewer = viewer_for(user)
    student = Student.objects.filter(pk=pk, is_active=True).select_related("district").first()
    role = _student_role(user, viewer, student) if student and viewer.user_id else None
    if student is None or role is None:
        raise Http404("No such student.")
    is_guardian = role == Role.GUARDIAN
    return StudentAccess(
        student=student,
        role=role,
        can_see_contacts=True,
        can_see_programs=True,
        can_see_discipline=role in {Role.PRINCIPAL, Role.DISTRICT_STAFF}
        or (is_guardian and student.district.guardians_see_discipline),
        can_see_scores=True,
        # Staff see every guardian (restricted ones flagged); a guardian sees only themself.
        can_see_guardians=not is_guardian,
    )


@dataclass(frozen=True)
class StudentRecord:
    """What the student page shows, each part already filtered by the viewer's access."""

    access: StudentAccess
    school_memberships: list[StudentSchoolMembership]
    enrollments: list[Enrollment]
    contacts: list[ContactDetail]
    programs: list[ProgramParticipation]
    guardian_relationships: list[GuardianRelationship]
    own_guardian_contacts: list[ContactDetail]


def student_record(user: object, access: StudentAccess) -> StudentRecord:
    student = access.student
    today = timezone.localdate()
    enrollments = list(
        Enrollment.objects.current()
        .filter(student=student)
        .select_related("section__course", "section__school", "section__session")
        .prefetch_related(
            Prefetch(
                "section__assignments",
                queryset=SectionAssignment.objects.current().select_related("staff"),
                to_attr="current_assignments",
            )
        )
        .order_by("section__period", "section__title")
    )
    relationships: list[GuardianRelationship] = []
    own_contacts: list[ContactDetail] = []
    if access.can_see_guardians:
        relationships = list(
            GuardianRelationship.objects.filter(student=student, is_active=True)
            .select_related("guardian")
            .prefetch_related(
                Prefetch(
                    "guardian__contacts",
                    queryset=ContactDetail.objects.filter(is_active=True),
                    to_attr="active_contacts",
                )
            )
        )
    else:
        guardian_id = getattr(user, "guardian_record_id", None)
        relationships = list(
            GuardianRelationship.objects.filter(
                student=student, guardian_id=guardian_id, is_active=True
            ).select_related("guardian")
        )
        own_contacts = list(ContactDetail.objects.filter(guardian_id=guardian_id, is_active=True))
    return StudentRecord(
        access=access,
        school_memberships=list(
            StudentSchoolMembership.objects.filter(student=student, is_active=True)
            .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
            .select_related("school")
        ),
        enrollments=enrollments,
        contacts=list(student.contacts.filter(is_active=True)) if access.can_see_contacts else [],
        programs=list(ProgramParticipation.objects.current().filter(student=student))
        if access.can_see_programs
        else [],
        guardian_relationships=relationships,
        own_guardian_contacts=own_contacts,
    )


def sections_visible_to(user: object) -> QuerySet[Section]:
    """Sections whose roster the user may see (guardians see none: other children are on it)."""
    viewer = viewer_for(user)
    if viewer.user_id is None:
        return Section.objects.none()
    visible = Q(pk__in=_teacher_section_ids(user))
    if viewer.principal_school_ids:
        visible |= Q(school_id__in=viewer.principal_school_ids)
    if viewer.district_ids:
        visible |= Q(district_id__in=viewer.district_ids)
    return Section.objects.filter(is_active=True).filter(visible)


@dataclass(frozen=True)
class SectionAccess:
    section: Section
    role: str


def section_for_user(user: object, pk: int) -> SectionAccess:
    viewer = viewer_for(user)
    section = (
        Section.objects.filter(pk=pk, is_active=True)
        .select_related("school", "course", "session")
        .first()
    )
    role = None
    if section is not None and viewer.user_id is not None:
        if section.pk in viewer.teacher_section_ids and (
            _teacher_section_ids(user).filter(pk=section.pk).exists()
        ):
            role = Role.TEACHER
        elif section.school_id in viewer.principal_school_ids:
            role = Role.PRINCIPAL
        elif section.district_id in viewer.district_ids:
            role = Role.DISTRICT_STAFF
    if section is None or role is None:
        raise Http404("No such section.")
    return SectionAccess(section=section, role=role)


def section_roster(section: Section) -> list[Enrollment]:
    """The section's current students, in name order, with what the roster shows: one query."""
    today = timezone.localdate()
    return list(
        Enrollment.objects.current()
        .filter(section=section, student__is_active=True)
        .select_related("student")
        .annotate(
            program_count=Count(
                "student__programs",
                filter=Q(student__programs__is_active=True)
                & (
                    Q(student__programs__end_date__isnull=True)
                    | Q(student__programs__end_date__gte=today)
                ),
            )
        )
        .order_by("student__last_name", "student__first_name", "student_id")
    )


def section_teachers(section: Section) -> list[SectionAssignment]:
    return list(
        SectionAssignment.objects.current()
        .filter(section=section)
        .select_related("staff")
        .order_by("-is_primary", "staff__last_name")
    )


def schools_visible_to(user: object) -> QuerySet[School]:
    viewer = viewer_for(user)
    visible = Q(pk__in=viewer.principal_school_ids) | Q(district_id__in=viewer.district_ids)
    if viewer.user_id is None or not (viewer.principal_school_ids or viewer.district_ids):
        return School.objects.none()
    return School.objects.filter(is_active=True).filter(visible)


@dataclass(frozen=True)
class SchoolAccess:
    school: School
    role: str


def school_for_user(user: object, pk: int) -> SchoolAccess:
    viewer = viewer_for(user)
    school = School.objects.filter(pk=pk, is_active=True).first()
    role = None
    if school is not None:
        if school.pk in viewer.principal_school_ids:
            role = Role.PRINCIPAL
        elif school.district_id in viewer.district_ids:
            role = Role.DISTRICT_STAFF
    if school is None or role is None:
        raise Http404("No such school.")
    return SchoolAccess(school=school, role=role)

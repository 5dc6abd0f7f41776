"""Permission-scoped reads of the district's records.

One access function per model (`student_for_user`, `section_for_user`, `school_for_user`) fetches
and checks together, and list selectors scope querysets by what the user may see. Views never
repeat the rule. Anything a user may not see is a 404, so that ids are not confirmed.

Who sees what: teachers their current students and sections (django-guardian object
permissions, kept by accounts.services.derived_access_sync); principals their schools' students
(by query over memberships); district staff their district; guardians with portal access their
own children.
"""

import calendar
from dataclasses import dataclass, field
from datetime import date

from django.contrib.contenttypes.models import ContentType
from django.db.models import F, Func, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from guardian.models import UserObjectPermissionBase
from guardian.shortcuts import get_objects_for_user

from accounts.models import Role, RoleMembership
from assessments.models import AssessmentKind, Score
from students.models import (
    AcademicRecord,
    AttendanceCategory,
    AttendanceEvent,
    CohortMembership,
    ContactDetail,
    CourseTranscript,
    DisciplineAction,
    Enrollment,
    Grade,
    GuardianRelationship,
    ProgramParticipation,
    ReportCard,
    School,
    Section,
    SectionAssignment,
    SectionUserObjectPermission,
    Student,
    StudentDisciplineIncident,
    StudentSchoolMembership,
    StudentUserObjectPermission,
    in_force,
)

STUDENT_CODENAME = "view_student_record"
SECTION_CODENAME = "view_section_roster"
STUDENT_PERMISSION = f"students.{STUDENT_CODENAME}"
SECTION_PERMISSION = f"students.{SECTION_CODENAME}"
# What a section's pages read of its students (section_roster): names, number, the uuid the
# access log hashes.
ROSTER_STUDENT_FIELDS = (
    "district_id",
    "first_name",
    "middle_name",
    "last_name",
    "preferred_first_name",
    "student_number",
    "uuid",
)


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


def _granted(grants: type[UserObjectPermissionBase], user: object, codename: str, pk: int) -> bool:
    """Whether the user holds this object permission on this one object: one indexed query on
    guardian's direct foreign-key table (get_objects_for_user first looks up the permission and
    content type, three queries where every page needs one)."""
    content_type = ContentType.objects.get_for_model(grants.content_object.field.related_model)
    return grants.objects.filter(
        user=user,
        content_object_id=pk,
        permission__content_type=content_type,
        permission__codename=codename,
    ).exists()


def _principal_student_ids(school_ids: frozenset[int]) -> QuerySet:
    return StudentSchoolMembership.objects.filter(in_force(), school_id__in=school_ids).values(
        "student_id"
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
    if Role.TEACHER in viewer.roles and _granted(
        StudentUserObjectPermission, user, STUDENT_CODENAME, student.pk
    ):
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
    enrollments = list(
        Enrollment.objects.current()
        .filter(student=student)
        .select_related("section")
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
            StudentSchoolMembership.objects.filter(in_force(), student=student).select_related(
                "school"
            )
        ),
        enrollments=enrollments,
        contacts=list(student.contacts.filter(is_active=True)) if access.can_see_contacts else [],
        programs=list(ProgramParticipation.objects.current().filter(student=student))
        if access.can_see_programs
        else [],
        guardian_relationships=relationships,
        own_guardian_contacts=own_contacts,
    )


def student_sections(student: Student) -> list[Section]:
    """The student's current sections (those of enrollments in force), by period and title:
    the same sections as student_record's enrollments, in one query."""
    return list(
        Section.objects.filter(
            pk__in=Enrollment.objects.current().filter(student=student).values("section_id")
        ).order_by("period", "title")
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
        if section.pk in viewer.teacher_section_ids and _granted(
            SectionUserObjectPermission, user, SECTION_CODENAME, section.pk
        ):
            role = Role.TEACHER
        elif section.school_id in viewer.principal_school_ids:
            role = Role.PRINCIPAL
        elif section.district_id in viewer.district_ids:
            role = Role.DISTRICT_STAFF
    if section is None or role is None:
        raise Http404("No such section.")
    return SectionAccess(section=section, role=role)


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """A student currently in a section, with what the section's pages show beside them."""

    student: Student
    begin_date: date | None
    program_count: int

    @property
    def student_id(self) -> int:
        return self.student.pk


def section_roster(section: Section) -> list[RosterEntry]:
    """The section's current students, in name order, with what the roster shows: one query.
    Students only, with only the fields the section's pages read (names, number, the uuid the
    access log hashes) and their enrollment's start: whole enrollment and student rows cost the
    section page more than every other read together."""
    current_programs = (
        ProgramParticipation.objects.current()
        .filter(student=OuterRef("pk"))
        .order_by()
        .values("student")
        .annotate(count=Func("pk", function="COUNT"))
        .values("count")
    )
    # One filter() call, so that the enrollment joined is the one whose begin_date is read.
    students = (
        Student.objects.filter(
            Q(enrollments__section=section) & in_force("enrollments__"), is_active=True
        )
        .only(*ROSTER_STUDENT_FIELDS)
        .annotate(
            roster_begin_date=F("enrollments__begin_date"),
            roster_program_count=Coalesce(Subquery(current_programs), 0),
        )
        .order_by("last_name", "first_name", "pk")
    )
    return [RosterEntry(s, s.roster_begin_date, s.roster_program_count) for s in students]


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


# --- What an Ed-Fi import brings to the student profile: attendance, discipline, grades and
# transcripts, cohorts and programs. Each selector takes a StudentAccess (from
# student_for_user, so the access check has been made) and returns one context object for its
# partial under templates/students/profile/.


@dataclass(frozen=True)
class AttendanceCutPoints:
    """Counts up to `watch` are fine, up to `alert` need watching, above that an alert (inBloom's
    dashboard coloured absences and tardies this way)."""

    watch: int = 5
    alert: int = 10

    def level(self, count: int) -> str:
        if count <= self.watch:
            return "good"
        if count <= self.alert:
            return "watch"
        return "alert"


ABSENCE_CUT_POINTS = AttendanceCutPoints(watch=5, alert=10)
TARDY_CUT_POINTS = AttendanceCutPoints(watch=5, alert=10)


@dataclass(frozen=True)
class AttendanceDay:
    day: int
    category: str  # an AttendanceCategory value, or "" when nothing was recorded
    label: str


@dataclass(frozen=True)
class AttendanceMonth:
    title: str  # "September 2011"
    weeks: list[list[AttendanceDay | None]]  # Monday first; None pads days of other months


@dataclass(frozen=True)
class AttendanceSummary:
    """Context of templates/students/profile/_attendance.html (as `attendance`).

    One school year (the latest with events unless asked): counts of days present, absences
    (excused and unexcused), tardies, each count's level by its cut points ("good", "watch",
    "alert"), and a calendar of months.
    """

    school_year: int | None
    days_recorded: int
    present: int
    excused: int
    unexcused: int
    tardies: int
    absence_level: str
    tardy_level: str
    absence_cut_points: AttendanceCutPoints
    tardy_cut_points: AttendanceCutPoints
    months: list[AttendanceMonth]
    school_years: list[int]

    @property
    def absences(self) -> int:
        return self.excused + self.unexcused


def student_attendance(
    access: StudentAccess, *, school_year: int | None = None
) -> AttendanceSummary:
    """The student's attendance for a school year, counted and laid out as a calendar."""
    events = AttendanceEvent.objects.filter(student=access.student, is_active=True)
    school_years = sorted(
        {y for y in events.values_list("school_year", flat=True).distinct() if y}, reverse=True
    )
    year = school_year or (school_years[0] if school_years else None)
    rows = list(
        (events.filter(school_year=year) if year else events)
        .order_by("event_date", "id")
        .values_list("event_date", "category")
    )
    # One mark per day: the most notable event of the day (an absence before a tardy).
    precedence = {
        AttendanceCategory.UNEXCUSED_ABSENCE: 5,
        AttendanceCategory.EXCUSED_ABSENCE: 4,
        AttendanceCategory.TARDY: 3,
        AttendanceCategory.EARLY_DEPARTURE: 2,
        AttendanceCategory.OTHER: 1,
        AttendanceCategory.PRESENT: 0,
    }
    by_day: dict = {}
    for when, category in rows:
        if when not in by_day or precedence[category] > precedence[by_day[when]]:
            by_day[when] = category
    counts = {category: 0 for category in AttendanceCategory.values}
    for category in by_day.values():
        counts[category] += 1
    labels = dict(AttendanceCategory.choices)
    months: list[AttendanceMonth] = []
    if by_day:
        first, last = min(by_day), max(by_day)
        cursor_year, cursor_month = first.year, first.month
        while (cursor_year, cursor_month) <= (last.year, last.month):
            weeks = []
            for week in calendar.Calendar(firstweekday=0).monthdatescalendar(
                cursor_year, cursor_month
            ):
                weeks.append(
                    [
                        AttendanceDay(
                            day=d.day,
                            category=by_day.get(d, ""),
                            label=labels.get(by_day.get(d, ""), "No record"),
                        )
                        if d.month == cursor_month
                        else None
                        for d in week
                    ]
                )
            months.append(
                AttendanceMonth(
                    title=f"{calendar.month_name[cursor_month]} {cursor_year}", weeks=weeks
                )
            )
            cursor_month += 1
            if cursor_month == 13:
                cursor_year, cursor_month = cursor_year + 1, 1
    excused = counts[AttendanceCategory.EXCUSED_ABSENCE]
    unexcused = counts[AttendanceCategory.UNEXCUSED_ABSENCE]
    tardies = counts[AttendanceCategory.TARDY]
    return AttendanceSummary(
        school_year=year,
        days_recorded=len(by_day),
        present=counts[AttendanceCategory.PRESENT],
        excused=excused,
        unexcused=unexcused,
        tardies=tardies,
        absence_level=ABSENCE_CUT_POINTS.level(excused + unexcused),
        tardy_level=TARDY_CUT_POINTS.level(tardies),
        absence_cut_points=ABSENCE_CUT_POINTS,
        tardy_cut_points=TARDY_CUT_POINTS,
        months=months,
        school_years=school_years,
    )


@dataclass(frozen=True)
class DisciplineEntry:
    incident: object  # DisciplineIncident
    participation: str
    behaviors: list[str]
    actions: list[object]  # DisciplineAction of this student for the incident


@dataclass(frozen=True)
class DisciplineRecord:
    """Context of templates/students/profile/_discipline.html (as `discipline`). `allowed` is
    StudentAccess.can_see_discipline: when False, `entries` is empty and nothing is read."""

    allowed: bool
    entries: list[DisciplineEntry]


def student_discipline(access: StudentAccess) -> DisciplineRecord:
    """Incidents the student was part of, with the actions taken; only for those allowed."""
    if not access.can_see_discipline:
        return DisciplineRecord(allowed=False, entries=[])
    links = list(
        StudentDisciplineIncident.objects.filter(student=access.student, is_active=True)
        .select_related("incident__school", "incident__reported_by")
        .order_by("-incident__incident_date")
    )
    actions_by_incident: dict[int | None, list[object]] = {}
    for action in DisciplineAction.objects.filter(students=access.student, is_active=True).order_by(
        "-action_date"
    ):
        actions_by_incident.setdefault(action.incident_id, []).append(action)
    entries = [
        DisciplineEntry(
            incident=link.incident,
            participation=link.participation,
            behaviors=link.behaviors or link.incident.behaviors,
            actions=actions_by_incident.pop(link.incident_id, []),
        )
        for link in links
    ]
    # Actions on the student for an incident they have no association with still show.
    for incident_id, actions in actions_by_incident.items():
        incident = getattr(actions[0], "incident", None) if incident_id else None
        entries.append(
            DisciplineEntry(incident=incident, participation="", behaviors=[], actions=actions)
        )
    return DisciplineRecord(allowed=True, entries=entries)


@dataclass(frozen=True)
class GradesRecord:
    """Context of templates/students/profile/_grades.html (as `grades`): grading-period grades,
    report cards, academic records each with its course transcripts, and gradebook results."""

    grades: list[object]
    report_cards: list[object]
    academic_records: list[object]
    gradebook: list[object]  # Score rows of gradebook entries, with their assessment


def student_grades(access: StudentAccess) -> GradesRecord:
    student = access.student
    if not access.can_see_scores:
        return GradesRecord(grades=[], report_cards=[], academic_records=[], gradebook=[])
    return GradesRecord(
        grades=list(
            Grade.objects.filter(student=student, is_active=True)
            .select_related("section", "grading_period")
            .order_by("grading_period__start_date", "section__title")
        ),
        report_cards=list(
            ReportCard.objects.filter(student=student, is_active=True)
            .select_related("grading_period")
            .order_by("grading_period__start_date")
        ),
        academic_records=list(
            AcademicRecord.objects.filter(student=student, is_active=True)
            .select_related("session")
            .prefetch_related(
                Prefetch(
                    "transcripts",
                    queryset=CourseTranscript.objects.filter(is_active=True)
                    .select_related("course")
                    .order_by("course__title"),
                    to_attr="active_transcripts",
                )
            )
            .order_by("-school_year", "session__start_date")
        ),
        gradebook=list(
            Score.objects.filter(
                student=student,
                # As in the profile's score history: the student on both tables lets the
                # planner read only this student's sittings.
                student_assessment__student=student,
                item__isnull=True,
                student_assessment__assessment__kind=AssessmentKind.GRADEBOOK,
            )
            .select_related("student_assessment__assessment__section")
            .order_by("-scored_on")
        ),
    )


@dataclass(frozen=True)
class CohortsPrograms:
    """Context of templates/students/profile/_cohorts_programs.html (as `cohorts_programs`):
    current cohort memberships, and current programs when the viewer may see programs."""

    cohorts: list[object]
    programs: list[ProgramParticipation]
    can_see_programs: bool


def student_cohorts_programs(
    access: StudentAccess, record: StudentRecord | None = None
) -> CohortsPrograms:
    """`record`, when the page has read it (student_record), supplies the current programs."""
    if record is not None:
        programs = record.programs
    elif access.can_see_programs:
        programs = list(ProgramParticipation.objects.current().filter(student=access.student))
    else:
        programs = []
    return CohortsPrograms(
        cohorts=list(
            CohortMembership.objects.current()
            .filter(student=access.student, cohort__is_active=True)
            .select_related("cohort")
            .order_by("cohort__identifier")
        ),
        programs=programs,
        can_see_programs=access.can_see_programs,
    )

"""Reads for the family portal: a guardian's children, and for one child that the access module
let them see (accounts.access.child_for_guardian) their progress in plain words, grades,
attendance and teachers. The numbers come from the reads the staff pages use (the profile's
mastery in dashboard.selectors, the records' in students.selectors); what is added here is what
a family reads: the standard in their language, each level in words with its symbol, its trend
as a sentence, and what the district lets families see (levels only once released)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Prefetch, Q, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext, pgettext, pgettext_lazy

from accounts.access import AnyUser, StudentAccess, students_visible_to
from accounts.models import Role
from assessments.family_words import level_words, parent_description, subject_words
from assessments.methods import Level, Policy
from assessments.models import (
    MasteryEstimateHistory,
    MasteryOverride,
    ScoreStatus,
)
from dashboard.selectors import ScoreLine, student_mastery
from dashboard.selectors.levels import levels_of
from students.attendance import school_year_of
from students.models import (
    ContactDetail,
    ContactKind,
    Enrollment,
    Section,
    SectionAssignment,
    Student,
    StudentSchoolMembership,
    in_force,
)
from students.selectors import (
    AttendanceSummary,
    DisciplineRecord,
    GradesRecord,
    student_attendance,
    student_discipline,
    student_grades,
)

# The district's setting (District.guardians_see_mastery): levels only once the teacher releases.
RELEASED = "released"
# How many recent scores the progress page lists (newest first).
RECENT_SCORES = 12
# A level that last changed longer ago than this reads "steady since …", not "improving since …".
STEADY_AFTER_DAYS = 42

SCORE_STATUS_WORDS: dict[str, object] = {
    ScoreStatus.EXEMPT: pgettext_lazy("score status", "Excused"),
    ScoreStatus.MISSING: pgettext_lazy("score status", "Missing"),
    ScoreStatus.LATE: pgettext_lazy("score status", "Late"),
    ScoreStatus.INCOMPLETE: pgettext_lazy("score status", "Incomplete"),
}


def grade_words(code: str) -> str:
    """A grade level as a family reads it, in the page's language ("Grade 7", "Kindergarten")."""
    if code == "PK":
        return pgettext("grade level", "Pre-K")
    if code == "KG":
        return pgettext("grade level", "Kindergarten")
    if code.isdigit():
        return pgettext("grade level", "Grade %(number)s") % {"number": int(code)}
    return code


# --- The guardian's children


@dataclass(frozen=True)
class ChildCard:
    """A child on the guardian's list: name, school and grade (none when not enrolled now)."""

    student: Student
    school_name: str
    grade_level: str

    @property
    def grade_name(self) -> str:
        return grade_words(self.grade_level) if self.grade_level else ""


def _children(user: AnyUser) -> QuerySet[Student]:
    return students_visible_to(user, role=Role.GUARDIAN).order_by("first_name", "last_name", "pk")


def family_children(user: AnyUser) -> list[ChildCard]:
    """The children the user follows as their guardian today, each with their current school
    and grade: two queries, whatever the number of children."""
    students = _children(user).prefetch_related(
        Prefetch(
            "school_memberships",
            queryset=StudentSchoolMembership.objects.filter(in_force())
            .select_related("school")
            .order_by("-begin_date", "-pk"),
            to_attr="current_memberships",
        )
    )
    cards = []
    for student in students:
        membership = next(iter(student.current_memberships), None)
        cards.append(
            ChildCard(
                student=student,
                school_name=membership.school.name if membership else "",
                grade_level=membership.grade_level if membership else "",
            )
        )
    return cards


def family_child_names(user: AnyUser) -> list[Student]:
    """The children the user follows as their guardian, names only (the portal's switcher):
    one query."""
    return list(
        _children(user).only("pk", "uuid", "first_name", "preferred_first_name", "last_name")
    )


# --- Progress


@dataclass(frozen=True)
class TrendWords:
    """A level's trend as a family reads it: "improving", "slipping" or "steady", since a day
    (None: steady from the first measure, or nothing measured yet: kind "")."""

    kind: str
    since: date | None = None
    today: date | None = None

    @property
    def text(self) -> str:
        if not self.kind:
            return ""
        if self.since is None:
            return pgettext("trend", "Steady")
        # A month is enough within the school year; further back, the year too.
        near = self.today is not None and (self.today - self.since).days < 300
        month = formats.date_format(self.since, "F" if near else "F Y")
        return {
            "improving": gettext("Improving since %(month)s"),
            "slipping": gettext("Slipping since %(month)s"),
            "steady": gettext("Steady since %(month)s"),
        }[self.kind] % {"month": month}


def trend_in_words(
    points: Sequence[tuple[date, int]], *, today: date, no_evidence: int
) -> TrendWords:
    """The trend of a level over its dated history (oldest first): the direction of its last
    change and since when it has run that way ("improving since October"), or steady when it
    never changed or last changed more than STEADY_AFTER_DAYS ago ("steady since …")."""
    changes: list[tuple[date, int]] = []
    for day, level in points:
        if level == no_evidence:
            continue
        if not changes or changes[-1][1] != level:
            changes.append((day, level))
    if not changes:
        return TrendWords("", today=today)
    if len(changes) == 1:
        return TrendWords("steady", None, today)
    last_day = changes[-1][0]
    if (today - last_day).days > STEADY_AFTER_DAYS:
        return TrendWords("steady", last_day, today)
    rising = changes[-1][1] > changes[-2][1]
    start = len(changes) - 1
    # Back through the changes while each went the same way: the run began at the first of them.
    while start >= 2 and (changes[start - 1][1] > changes[start - 2][1]) == rising:
        start -= 1
    return TrendWords("improving" if rising else "slipping", changes[start][0], today)


@dataclass(frozen=True)
class LevelShown:
    value: int
    name: str  # in the page's language
    symbol: str


@dataclass(frozen=True)
class StandardProgress:
    """One standard on the child's progress page."""

    code: str
    subject: str
    description: str  # for families, in the page's language
    level: LevelShown
    trend: TrendWords
    set_by_teacher: bool  # a teacher's override, not the estimate
    sections: tuple[str, ...]  # the child's classes that measure it


@dataclass(frozen=True)
class SectionRelease:
    """A class of the child and when its teacher last released levels (None: not yet)."""

    title: str
    released_at: datetime | None


@dataclass(frozen=True)
class ScoreShown:
    scored_on: date
    assessment_title: str
    points: object
    max_points: object
    status: str  # "" when scored; else the status in words


@dataclass
class ChildProgress:
    """What the progress page shows: the child's standards (levels, trends), recent scores, the
    scale, and under the "released" setting, each class's release."""

    standards: list[StandardProgress]
    scores: list[ScoreShown]
    scale: list[LevelShown]
    released_only: bool
    releases: list[SectionRelease]
    unreleased: int  # standards held back: measured, but in no class released yet
    policy: Policy


def _shown(level: Level) -> LevelShown:
    return LevelShown(level.value, level_words(level), level.symbol)


# A standard's history as of a release: (recorded at, as of, level); its overrides: (set at,
# cleared at, level).
ReleasedHistory = dict[int, list[tuple[datetime, date, int]]]
ReleasedOverrides = dict[int, list[tuple[datetime, datetime | None, int]]]


def _as_released(
    student: Student, releases: dict[int, datetime]
) -> tuple[ReleasedHistory, ReleasedOverrides]:
    """The child's estimate history and teachers' overrides recorded up to the latest release
    (two queries): (standard → [(recorded at, as of, level)]), (standard → [(set, cleared,
    level)])."""
    latest = max(releases.values())
    history: ReleasedHistory = defaultdict(list)
    for standard_id, recorded_at, as_of, level in (
        MasteryEstimateHistory.objects.filter(student=student, recorded_at__lte=latest)
        .order_by("standard_id", "as_of", "recorded_at", "id")
        .values_list("standard_id", "recorded_at", "as_of", "level")
    ):
        history[standard_id].append((recorded_at, as_of, level))
    overrides: ReleasedOverrides = defaultdict(list)
    for standard_id, set_at, cleared_at, level in (
        MasteryOverride.objects.filter(student=student, set_at__lte=latest)
        .order_by("set_at", "id")
        .values_list("standard_id", "set_at", "cleared_at", "level")
    ):
        overrides[standard_id].append((set_at, cleared_at, level))
    return history, overrides


def child_progress(access: StudentAccess) -> ChildProgress:
    """The child's mastery of each standard of their classes, in words, with its trend, and
    their recent scores. Under the district's "released" setting a standard shows only once a
    class that measures it has been released, at its level as of that release (the latest
    one's), and its trend up to then. A constant number of queries, whatever the child's
    history."""
    student = access.student
    sections = list(
        Section.objects.filter(
            pk__in=Enrollment.objects.current().filter(student=student).values("section_id")
        )
        .only("pk", "title", "period", "mastery_released_at")
        .order_by("period", "title")
    )
    titles = {s.pk: s.title for s in sections}
    mastery = student_mastery(student, [s.pk for s in sections], titles, with_test_results=False)
    policy = mastery.policy
    no_evidence = policy.no_evidence.value
    today = timezone.localdate()
    released_only = student.district.guardians_see_mastery == RELEASED
    releases = {s.pk: s.mastery_released_at for s in sections if s.mastery_released_at}
    history: ReleasedHistory = {}
    overrides: ReleasedOverrides = {}
    if released_only and releases:
        history, overrides = _as_released(student, releases)
    shown: list[StandardProgress] = []
    unreleased = 0
    for item in mastery.standards:
        standard = item.standard
        level_value, overridden = item.cell.level, item.cell.overridden
        points = [(as_of, level) for as_of, _, level in mastery.history.get(standard.pk, [])]
        reference = today
        if released_only:
            moments = [releases[pk] for pk in item.section_ids if pk in releases]
            if not moments:
                if item.cell.level != no_evidence:
                    unreleased += 1
                continue
            released_at = max(moments)
            rows = [row for row in history.get(standard.pk, []) if row[0] <= released_at]
            points = [(as_of, level) for _, as_of, level in rows]
            level_value = points[-1][1] if points else no_evidence
            overridden = False
            for set_at, cleared_at, level in overrides.get(standard.pk, []):
                if set_at <= released_at and (cleared_at is None or cleared_at > released_at):
                    level_value, overridden = level, True
            reference = timezone.localdate(released_at)
        shown.append(
            StandardProgress(
                code=item.short_code,
                subject=subject_words(standard.subject),
                description=parent_description(standard),
                level=_shown(policy.level_named(level_value)),
                trend=trend_in_words(points, today=reference, no_evidence=no_evidence),
                set_by_teacher=overridden,
                sections=tuple(titles[pk] for pk in item.section_ids if pk in titles),
            )
        )
    return ChildProgress(
        standards=shown,
        scores=_recent_scores(mastery.scores),
        scale=[_shown(level) for level in reversed(levels_of(policy))],
        released_only=released_only,
        releases=[SectionRelease(s.title, s.mastery_released_at) for s in sections],
        unreleased=unreleased,
        policy=policy,
    )


def _recent_scores(scores: Sequence[ScoreLine]) -> list[ScoreShown]:
    """The newest whole-assessment scores (an item's part of a test is the teacher's detail)."""
    recent = []
    for line in scores:
        if line.item_code:
            continue
        status = "" if line.status == ScoreStatus.SCORED else line.status
        recent.append(
            ScoreShown(
                scored_on=line.scored_on,
                assessment_title=line.assessment_title,
                points=line.points,
                max_points=line.max_points,
                status=str(SCORE_STATUS_WORDS.get(status, status)) if status else "",
            )
        )
        if len(recent) == RECENT_SCORES:
            break
    return recent


# --- Grades, attendance, teachers


def child_grades(access: StudentAccess) -> GradesRecord:
    """Grading-period grades, report cards and transcripts (the profile's read)."""
    return student_grades(access)


@dataclass(frozen=True)
class ChildAttendance:
    """This school year's attendance, and the child's discipline record when the district shows
    it to families (`discipline.allowed`)."""

    summary: AttendanceSummary
    threshold_percent: object  # the district's chronic absence line, a Decimal
    discipline: DisciplineRecord


def child_attendance(access: StudentAccess) -> ChildAttendance:
    """Days present, absent and tardy this school year by the chronic absence rule (the
    profile's read), and discipline only where the district lets families see it."""
    return ChildAttendance(
        summary=student_attendance(access, school_year=school_year_of(timezone.localdate())),
        threshold_percent=access.student.district.chronic_absence_percent,
        discipline=student_discipline(access),
    )


@dataclass(frozen=True)
class TeacherContact:
    name: str
    is_primary: bool
    email: str
    phone: str  # only when the school publishes it (Staff.publish_phone_to_families)


@dataclass(frozen=True)
class ClassTeachers:
    section_title: str
    period: str
    school_name: str
    teachers: list[TeacherContact]


def child_teachers(access: StudentAccess) -> list[ClassTeachers]:
    """The child's current classes, each with its current teachers and how to reach them: their
    work email, and their phone only where the school publishes it to families (an unpublished
    phone is never read). Three queries."""
    published_phone = Q(kind=ContactKind.PHONE, staff__publish_phone_to_families=True)
    contacts = ContactDetail.objects.filter(
        Q(kind=ContactKind.EMAIL) | published_phone, is_active=True
    ).order_by("kind", "-is_primary", "id")
    enrollments = (
        Enrollment.objects.current()
        .filter(student=access.student, section__is_active=True)
        .select_related("section__school")
        .prefetch_related(
            Prefetch(
                "section__assignments",
                queryset=SectionAssignment.objects.current()
                .filter(staff__is_active=True)
                .select_related("staff__user")
                .prefetch_related(Prefetch("staff__contacts", contacts, to_attr="shown_contacts"))
                .order_by("-is_primary", "staff__last_name", "staff__first_name"),
                to_attr="current_assignments",
            )
        )
        .order_by("section__period", "section__title")
    )
    classes = []
    for enrollment in enrollments:
        section = enrollment.section
        teachers = []
        for assignment in section.current_assignments:  # type: ignore[attr-defined]  # prefetched
            staff = assignment.staff
            emails = [c.value for c in staff.shown_contacts if c.kind == ContactKind.EMAIL]
            phones = [c.value for c in staff.shown_contacts if c.kind == ContactKind.PHONE]
            login = getattr(staff, "user", None)
            teachers.append(
                TeacherContact(
                    name=staff.display_name,
                    is_primary=assignment.is_primary,
                    email=emails[0] if emails else (login.email if login is not None else ""),
                    phone=phones[0] if phones else "",
                )
            )
        classes.append(ClassTeachers(section.title, section.period, section.school.name, teachers))
    return classes

"""Reads behind the alerts: a login's preferences (defaults until they change them), the new
unexcused absences of the children they follow, and what a digest names (levels fallen below
their threshold, missing work, absences past the chronic line). Children are only ever those
accounts.access lets the login see as their guardian, and only what the district lets families
see: under District.guardians_see_mastery "released", a level as of its class's release;
discipline never."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.formats import get_format

from accounts.access import students_visible_to
from accounts.models import Role, User
from alerts.models import AlertedAbsence, AlertPreference, Digest
from assessments.family_words import level_words, parent_description
from assessments.methods import policy_for_district
from assessments.models import (
    Assessment,
    MasteryEstimate,
    MasteryEstimateHistory,
    MasteryOverride,
    Score,
    ScoreStatus,
    Standard,
)
from students.attendance import (
    AttendanceRate,
    attendance_rates,
    format_percent,
    school_year_of,
)
from students.models import AttendanceCategory, AttendanceEvent, Enrollment, Section, Student

# The district's setting (students.District.guardians_see_mastery) that holds levels back.
RELEASED = "released"
# An absence recorded up to this long ago, and not yet told, goes in the evening's email (so a
# missed evening is caught up the next); older records (a back-filled import) are not news.
ABSENCE_NEWS_HOURS = 48
# ...and only about days this recent.
ABSENCE_NEWS_DAYS = 7


def alert_preference_of(user: User) -> AlertPreference:
    """The login's alert preferences: their saved row, else the defaults (not saved)."""
    found = AlertPreference.objects.filter(user=user).first()
    return found if found is not None else AlertPreference(user=user)


def guardian_children(user: User) -> list[Student]:
    """The children the login follows as their guardian today (accounts.access)."""
    return list(
        students_visible_to(user, role=Role.GUARDIAN)
        .select_related("district")
        .order_by("first_name", "last_name", "pk")
    )


def level_choices(user: User) -> list[tuple[int, str]]:
    """The levels a digest's threshold may be, from the district's scale: every level but the
    lowest (nothing falls below it), highest first, in words with the symbol."""
    guardian = user.guardian_record
    if guardian is None:
        return []
    policy = policy_for_district(guardian.district_id, with_fit=False)
    return [(level.value, f"{level.symbol} {level_words(level)}") for level in policy.levels[:-1]]


# --- The evening's unexcused absences.


@dataclass(frozen=True)
class AbsenceLine:
    event_id: int
    student: Student
    day: date
    section_title: str  # "" for the whole day


def guardians_with_new_absences(now: datetime) -> list[int]:
    """The ids of active logins whose children have an unexcused absence recorded lately: the
    candidates of an evening's run (each then asked through accounts.access)."""
    events = _new_absences(now)
    return sorted(
        set(
            User.objects.filter(
                is_active=True,
                guardian_record__relationships__student_id__in=events.values("student_id"),
                guardian_record__relationships__portal_access=True,
                guardian_record__relationships__contact_restricted=False,
            ).values_list("pk", flat=True)
        )
    )


def _new_absences(now: datetime) -> QuerySet[AttendanceEvent]:
    today = timezone.localdate(now)
    return AttendanceEvent.objects.filter(
        is_active=True,
        category=AttendanceCategory.UNEXCUSED_ABSENCE,
        created_at__gt=now - timedelta(hours=ABSENCE_NEWS_HOURS),
        created_at__lte=now,
        event_date__gte=today - timedelta(days=ABSENCE_NEWS_DAYS),
        event_date__lte=today,
    )


def new_absences_for(user: User, now: datetime) -> list[AbsenceLine]:
    """The unexcused absences recorded lately for the children the login may see, that no
    email has told them of yet, by child and day."""
    children = {child.pk: child for child in guardian_children(user)}
    if not children:
        return []
    told = AlertedAbsence.objects.filter(user=user).values("event_id")
    events = (
        _new_absences(now)
        .filter(student_id__in=list(children))
        .exclude(pk__in=told)
        .select_related("section")
        .order_by("student__first_name", "student_id", "event_date", "section__title", "pk")
    )
    return [
        AbsenceLine(
            event_id=event.pk,
            student=children[event.student_id],
            day=event.event_date,
            section_title=event.section.title if event.section is not None else "",
        )
        for event in events
    ]


# --- The digest.


@dataclass(frozen=True)
class LevelFall:
    standard: str  # in words, in the active language
    code: str
    level: str  # its level now, in words with its symbol


@dataclass(frozen=True)
class MissingLine:
    title: str
    day: date


@dataclass
class ChildDigest:
    student: Student
    levels: list[LevelFall] = field(default_factory=list)
    missing: list[MissingLine] = field(default_factory=list)
    # The child's attendance when they passed the chronic line since the last digest.
    chronic: AttendanceRate | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.levels or self.missing or self.chronic)

    @property
    def absent_percent(self) -> str:
        """The child's share of days absent, as the active language writes it ("12,5")."""
        return _percent(self.chronic.absent_percent) if self.chronic else ""

    @property
    def chronic_line(self) -> str:
        """The district's chronic absence line, in percent."""
        return _percent(self.chronic.threshold_percent) if self.chronic else ""


def _percent(value: object) -> str:
    text = format_percent(value) if value is not None else ""  # type: ignore[arg-type]
    return text.replace(".", str(get_format("DECIMAL_SEPARATOR")))


def digest_window(
    preference: AlertPreference, last_sent: datetime | None, now: datetime
) -> datetime:
    """Where a digest starts: its last one, but no further back than its period (a day or a
    week), so that nothing is told twice and a new subscriber hears only of recent news."""
    period = timedelta(days=7 if preference.digest == Digest.WEEKLY else 1)
    start = now - period
    return max(start, last_sent) if last_sent is not None else start


def _level_at(
    moment: datetime,
    history: list[tuple[datetime, int]],
    overrides: list[tuple[datetime, datetime | None, int]],
) -> int | None:
    """A standard's level at a moment: a teacher's override in force then, else the newest
    estimate recorded by then (None: not measured yet)."""
    for set_at, cleared_at, overridden in reversed(overrides):
        if set_at <= moment and (cleared_at is None or cleared_at > moment):
            return overridden
    level: int | None = None
    for recorded_at, value in history:
        if recorded_at > moment:
            break
        level = value
    return level


def _level_falls(child: Student, threshold: int, since: datetime, now: datetime) -> list[LevelFall]:
    """The child's standards (of their current classes) whose level, as the family may see it,
    is below the threshold now and was not at `since`. Under the "released" setting the level
    "now" is the one as of the latest release of a class that measures the standard, and only
    a release since `since` can bring news."""
    sections = {
        s.pk: s.mastery_released_at
        for s in Section.objects.filter(
            pk__in=Enrollment.objects.current().filter(student=child).values("section_id")
        ).only("pk", "mastery_released_at")
    }
    measured: dict[int, list[int]] = defaultdict(list)
    for section_id, standard_id in (
        Assessment.standards.through.objects.filter(assessment__section_id__in=list(sections))
        .values_list("assessment__section_id", "standard_id")
        .distinct()
    ):
        measured[standard_id].append(section_id)
    if not measured:
        return []
    released_only = child.district.guardians_see_mastery == RELEASED
    history: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for standard_id, recorded_at, level in (
        MasteryEstimateHistory.objects.filter(student=child, standard_id__in=list(measured))
        .order_by("recorded_at", "id")
        .values_list("standard_id", "recorded_at", "level")
    ):
        history[standard_id].append((recorded_at, level))
    overrides: dict[int, list[tuple[datetime, datetime | None, int]]] = defaultdict(list)
    for standard_id, set_at, cleared_at, level in (
        MasteryOverride.objects.filter(student=child, standard_id__in=list(measured))
        .order_by("set_at", "id")
        .values_list("standard_id", "set_at", "cleared_at", "level")
    ):
        overrides[standard_id].append((set_at, cleared_at, level))
    current = dict(
        MasteryEstimate.objects.filter(student=child, standard_id__in=list(measured)).values_list(
            "standard_id", "level"
        )
    )
    policy = policy_for_district(child.district_id, with_fit=False)
    no_evidence = policy.no_evidence.value
    falls: list[tuple[int, int]] = []
    for standard_id, section_ids in measured.items():
        if released_only:
            moments = [sections[pk] for pk in section_ids if sections.get(pk) is not None]
            if not moments:
                continue
            moment = max(m for m in moments if m is not None)
            if moment <= since or moment > now:
                continue
            level_now = _level_at(moment, history[standard_id], overrides[standard_id])
        else:
            active = [o for o in overrides[standard_id] if o[1] is None]
            level_now = active[-1][2] if active else current.get(standard_id)
        if level_now is None or level_now == no_evidence or level_now >= threshold:
            continue
        before = _level_at(since, history[standard_id], overrides[standard_id])
        if before is None or before == no_evidence or before >= threshold:
            falls.append((standard_id, level_now))
    standards = Standard.objects.in_bulk([standard_id for standard_id, _ in falls])
    lines = [
        LevelFall(
            standard=parent_description(standards[standard_id]),
            code=standards[standard_id].code,
            level=f"{policy.level_named(level).symbol} {level_words(policy.level_named(level))}",
        )
        for standard_id, level in falls
        if standard_id in standards
    ]
    return sorted(lines, key=lambda line: line.code)


def _missing_work(child: Student, since: datetime, now: datetime) -> list[MissingLine]:
    """Whole assessments marked missing for the child since `since`."""
    rows = (
        Score.objects.filter(
            student=child,
            status=ScoreStatus.MISSING,
            item__isnull=True,
            updated_at__gt=since,
            updated_at__lte=now,
        )
        .select_related("student_assessment__assessment")
        .order_by("scored_on", "pk")
    )
    return [
        MissingLine(title=row.student_assessment.assessment.title, day=row.scored_on)
        for row in rows
    ]


def _chronic_crossings(
    children: list[Student], since: datetime, now: datetime
) -> dict[int, AttendanceRate]:
    """The children chronically absent today who were not as of `since` (same school year),
    each with their attendance."""
    today = timezone.localdate(now)
    year = school_year_of(today)
    ids = [child.pk for child in children]
    rates_now = attendance_rates(ids, school_year=year, as_of=today)
    crossed = [pk for pk, rate in rates_now.items() if rate.is_chronic]
    if not crossed:
        return {}
    before_day = timezone.localdate(since)
    rates_before = (
        attendance_rates(crossed, school_year=year, as_of=before_day)
        if school_year_of(before_day) == year
        else {}
    )
    return {
        pk: rates_now[pk]
        for pk in crossed
        if pk not in rates_before or not rates_before[pk].is_chronic
    }


def digest_for(user: User, *, since: datetime, now: datetime) -> list[ChildDigest]:
    """What a login's digest names, child by child (children with nothing to tell left out)."""
    preference = alert_preference_of(user)
    children = guardian_children(user)
    if not children:
        return []
    chronic = _chronic_crossings(children, since, now)
    found = []
    for child in children:
        entry = ChildDigest(
            student=child,
            levels=_level_falls(child, preference.level_threshold, since, now),
            missing=_missing_work(child, since, now),
            chronic=chronic.get(child.pk),
        )
        if not entry.is_empty:
            found.append(entry)
    return found


def digest_due(preference: AlertPreference, today: date) -> bool:
    """Whether the login's digest goes out on this day: daily ones every day, weekly ones on
    TRELLIS_WEEKLY_DIGEST_WEEKDAY (0 is Monday)."""
    if preference.digest == Digest.DAILY:
        return True
    if preference.digest == Digest.WEEKLY:
        return today.weekday() == settings.TRELLIS_WEEKLY_DIGEST_WEEKDAY
    return False


def digest_candidates() -> list[int]:
    """The ids of active logins that follow children as guardians and want a digest."""
    return list(
        User.objects.filter(is_active=True, guardian_record__isnull=False)
        .exclude(alert_preference__digest=Digest.NEVER)
        .filter(Q(guardian_record__relationships__portal_access=True))
        .values_list("pk", flat=True)
        .distinct()
        .order_by("pk")
    )

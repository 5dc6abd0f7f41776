"""Chronic absence: one definition for every page and rollup.

A student is chronically absent when absent on the district's share (District.
chronic_absence_percent, 10% unless changed) or more of the instructional days they have been
enrolled so far this school year. Instructional days come from the school's calendar, else the
district's, else are estimated as Monday to Friday. As in Ed-Fi, attendance events record only
what was not plain presence, so a day enrolled and not absent is a day present. Only the day's
events count (section null): missing one class period is not missing the day.
"""

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal

from django.db.models import FilteredRelation, OuterRef, Q, Subquery
from django.utils import timezone

from students.models import (
    AcademicSession,
    AttendanceCategory,
    AttendanceEvent,
    CalendarDate,
    SessionKind,
    Student,
)

DEFAULT_CHRONIC_ABSENCE_PERCENT = Decimal("10")

# The events that count, as the plain strings the database gives.
_UNEXCUSED = str(AttendanceCategory.UNEXCUSED_ABSENCE.value)
_EXCUSED = str(AttendanceCategory.EXCUSED_ABSENCE.value)
_TARDY = str(AttendanceCategory.TARDY.value)
_COUNTED = (_UNEXCUSED, _EXCUSED, _TARDY)


def format_percent(value: Decimal | int | float) -> str:
    """10 → "10", 12.5 → "12.5": no trailing ".0" or zeros."""
    return f"{Decimal(str(value)).normalize():f}"


def chronic_absence_rule(percent: Decimal | int | float = DEFAULT_CHRONIC_ABSENCE_PERCENT) -> str:
    """The rule in words, as pages show it beside the numbers."""
    return (
        f"Chronically absent means absent on {format_percent(percent)}% or more of the "
        "instructional days enrolled so far this school year."
    )


def is_chronically_absent(
    days_absent: int, instructional_days: int, percent: Decimal | int | float
) -> bool:
    """The rule itself, in exact arithmetic so that exactly the threshold counts (18 of 180 at
    10%). Not enrolled on any instructional day yet: not chronically absent."""
    if instructional_days <= 0:
        return False
    return Decimal(days_absent) * 100 >= Decimal(str(percent)) * instructional_days


_NON_INSTRUCTIONAL = ("non-instructional", "noninstructional", "non instructional")


def is_instructional(event: str) -> bool:
    """A calendar event names an instructional day ("Instructional day",
    "uri://ed-fi.org/CalendarEventDescriptor#Instructional day"), not a non-instructional one."""
    text = event.lower()
    if "instructional" not in text:
        return False
    return not any(no in text for no in _NON_INSTRUCTIONAL)


def school_year_of(day: date) -> int:
    """The school year (named by the year it ends in) a day falls in, July to June."""
    return day.year + 1 if day.month >= 7 else day.year


def default_year_bounds(school_year: int) -> tuple[date, date]:
    """July 1 to June 30, for a district without a school-year session."""
    return date(school_year - 1, 7, 1), date(school_year, 6, 30)


@dataclass(frozen=True, slots=True)
class AttendanceRate:
    """A student's attendance in a school year up to a day, by the chronic absence rule.

    `instructional_days` are the instructional days enrolled up to `as_of`; each count is of
    distinct days among them (a day both excused and unexcused is unexcused; a tardy day on which
    the student was also absent is absent, otherwise present). `days_estimated`: some of the
    days were counted Monday to Friday, for want of a calendar.
    """

    student_id: int
    school_year: int
    as_of: date
    instructional_days: int
    days_excused: int
    days_unexcused: int
    days_tardy: int
    threshold_percent: Decimal
    days_estimated: bool
    # The instructional days enrolled, in order: only when asked (with_days), for a calendar.
    days: tuple[date, ...] = ()

    @property
    def days_absent(self) -> int:
        return self.days_excused + self.days_unexcused

    @property
    def days_present(self) -> int:
        return self.instructional_days - self.days_absent

    @property
    def absent_percent(self) -> Decimal | None:
        """Days absent as a percent of instructional days enrolled, rounded down to a tenth so
        that the percent shown reaches the threshold exactly when the rule is met."""
        if not self.instructional_days:
            return None
        exact = Decimal(self.days_absent) * 100 / Decimal(self.instructional_days)
        return exact.quantize(Decimal("0.1"), rounding=ROUND_FLOOR)

    @property
    def is_chronic(self) -> bool:
        return is_chronically_absent(
            self.days_absent, self.instructional_days, self.threshold_percent
        )

    @property
    def rule(self) -> str:
        return chronic_absence_rule(self.threshold_percent)


@dataclass(frozen=True, slots=True)
class _Span:
    """A membership of the student, as days within the year and up to `as_of`."""

    district_id: int
    school_id: int
    bounds: tuple[date, date]  # the district's school year, to pick the calendar by
    begin: date
    end: date


class _Calendars:
    """Each school's instructional days in the year: from its own calendar rows, else from its
    district's (rows with no school), else the year's weekdays, estimated."""

    def __init__(self, rows: Iterable[tuple[int, int | None, date, str]]) -> None:
        # A day is instructional when any of its rows says so (Ed-Fi may give a day two events).
        self._school: dict[int, dict[date, bool]] = defaultdict(dict)
        self._district: dict[int, dict[date, bool]] = defaultdict(dict)
        for district_id, school_id, day, event in rows:
            days = self._district[district_id] if school_id is None else self._school[school_id]
            days[day] = days.get(day, False) or is_instructional(event)
        self._cache: dict[tuple[int, int, date, date], tuple[list[date], bool]] = {}

    def days(self, span: _Span) -> tuple[list[date], bool]:
        """(the sorted instructional days of the span's school in its year, whether estimated)."""
        key = (span.district_id, span.school_id, *span.bounds)
        if key not in self._cache:
            self._cache[key] = self._read(span.district_id, span.school_id, span.bounds)
        return self._cache[key]

    def _read(
        self, district_id: int, school_id: int, bounds: tuple[date, date]
    ) -> tuple[list[date], bool]:
        start, end = bounds
        for calendar in (self._school.get(school_id, {}), self._district.get(district_id, {})):
            in_year = {day: flag for day, flag in calendar.items() if start <= day <= end}
            if in_year:
                return sorted(day for day, flag in in_year.items() if flag), False
        weekdays = []
        day = start
        while day <= end:
            if day.weekday() < 5:
                weekdays.append(day)
            day += timedelta(days=1)
        return weekdays, True


def _between(days: list[date], begin: date, end: date) -> list[date]:
    return days[bisect_left(days, begin) : bisect_right(days, end)]


Event = tuple[int, date, str]  # a day's event: (student id, day, AttendanceCategory value)


def attendance_rates(
    student_ids: Iterable[int],
    *,
    school_year: int,
    as_of: date | None = None,
    events: Iterable[Event] | None = None,
    with_days: bool = False,
) -> dict[int, AttendanceRate]:
    """Each student's AttendanceRate for `school_year` up to and including `as_of` (today by
    default), by student id; ids of no student are left out.

    At most three queries whatever the number of students (students with their district's
    threshold, year bounds and active memberships; the calendars; the events), two when the
    caller has read the students' active day events (section null) already and passes them as
    `events` (rows of other categories or students are ignored). `with_days` keeps each
    student's enrolled instructional days on the rate (for one student's calendar).
    Each membership counts its own school's calendar over its own dates, so a student who moved
    mid-year counts each school's days while there; overlapping memberships count a day once.
    """
    as_of = as_of or timezone.localdate()
    ids = sorted(set(student_ids))
    if not ids:
        return {}
    sessions = AcademicSession.objects.filter(
        district_id=OuterRef("district_id"),
        kind=SessionKind.SCHOOL_YEAR,
        school_year=school_year,
        is_active=True,
    )
    rows = list(
        Student.objects.filter(pk__in=ids)
        .annotate(
            membership=FilteredRelation(
                "school_memberships", condition=Q(school_memberships__is_active=True)
            ),
            year_start=Subquery(sessions.order_by("start_date").values("start_date")[:1]),
            year_end=Subquery(sessions.order_by("-end_date").values("end_date")[:1]),
        )
        .order_by()
        .values_list(
            "pk",
            "district_id",
            "district__chronic_absence_percent",
            "year_start",
            "year_end",
            "membership__school_id",
            "membership__begin_date",
            "membership__end_date",
        )
    )
    thresholds: dict[int, Decimal] = {}
    spans: dict[int, list[_Span]] = defaultdict(list)
    for student_id, district_id, percent, start, end, school_id, begin, finish in rows:
        thresholds[student_id] = percent
        fallback = default_year_bounds(school_year)
        bounds = (start or fallback[0], end or fallback[1])
        if school_id is None:
            continue
        first = max(begin or bounds[0], bounds[0])
        last = min(finish or bounds[1], bounds[1], as_of)
        if first <= last:
            spans[student_id].append(_Span(district_id, school_id, bounds, first, last))

    all_spans = [span for student_spans in spans.values() for span in student_spans]
    calendars = _Calendars(
        CalendarDate.objects.filter(
            Q(school_id__in={s.school_id for s in all_spans})
            | Q(school__isnull=True, district_id__in={s.district_id for s in all_spans}),
            is_active=True,
            date__gte=min((s.bounds[0] for s in all_spans), default=as_of),
            date__lte=max((s.bounds[1] for s in all_spans), default=as_of),
        )
        .order_by()
        .values_list("district_id", "school_id", "date", "event")
        if all_spans
        else []
    )

    # Only the days that can count: those enrolled, in the year, to date.
    counted: dict[int, list[tuple[date, str]]] = defaultdict(list)
    if all_spans:
        if events is None:
            events = (
                AttendanceEvent.objects.filter(
                    student_id__in=list(spans),
                    is_active=True,
                    section__isnull=True,
                    category__in=_COUNTED,
                    event_date__gte=min(s.begin for s in all_spans),
                    event_date__lte=max(s.end for s in all_spans),
                )
                .order_by()
                .values_list("student_id", "event_date", "category")
                .iterator(chunk_size=5000)
            )
        for student_id, day, category in events:
            if category in _COUNTED and student_id in spans:
                counted[student_id].append((day, category))

    rates = {}
    for student_id, percent in thresholds.items():
        enrolled: set[date] = set()
        estimated = False
        for span in spans.get(student_id, []):
            days, span_estimated = calendars.days(span)
            in_span = _between(days, span.begin, span.end)
            enrolled.update(in_span)
            estimated = estimated or (span_estimated and bool(in_span))
        marks: dict[str, set[date]] = {category: set() for category in _COUNTED}
        for day, category in counted.get(student_id, []):
            if day in enrolled:
                marks[category].add(day)
        unexcused = marks[_UNEXCUSED]
        excused = marks[_EXCUSED] - unexcused
        tardy = marks[_TARDY] - unexcused - excused
        rates[student_id] = AttendanceRate(
            student_id=student_id,
            school_year=school_year,
            as_of=as_of,
            instructional_days=len(enrolled),
            days_excused=len(excused),
            days_unexcused=len(unexcused),
            days_tardy=len(tardy),
            threshold_percent=percent,
            days_estimated=estimated,
            days=tuple(sorted(enrolled)) if with_days else (),
        )
    return rates

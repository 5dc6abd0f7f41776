"""The calendars: a section's week and month, and one across all of a teacher's sections.

`?view=week|month` (default week) and `?day=YYYY-MM-DD` (default today) pick what is shown: the
week (Monday to Sunday) or the month holding that day. Each day lists the plans running on it (a
plan over several days shows on each). Who sees what is accounts.access's: a section's calendar
is open to its teachers and co-teachers (who also plan from it), a substitute (the plans of the
days they cover), and the school's principal (read-only); the teacher's calendar to whoever
plans a section. A substitute, who plans none, reaches the sections they cover from the top bar
and the section page (which leads with today's plan), so the teacher's calendar is a 404 to
them as to principals, district staff and guardians. No student is named: nothing is logged.
"""

import calendar as stdlib_calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.views.decorators.http import require_GET

from accounts.access import section_plans_for_user
from assessments.models import standard_short_code
from dashboard.views.teacher.common import PLAN_PLACEHOLDER, bad_parameters
from lessons import selectors as lesson_selectors
from lessons.models import LessonPlan
from students.models import Section

VIEWS = ("week", "month")
DAY_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
# The years a calendar shows: far enough either way, and month arithmetic never overflows.
FIRST_YEAR, LAST_YEAR = 1900, 2999
OBJECTIVE_EXCERPT = 90  # characters of the objective a day shows


@dataclass(frozen=True)
class PlanEntry:
    """One plan as a calendar day lists it."""

    plan: LessonPlan
    section_label: str
    short_codes: list[str]
    span: str  # "" for a one-day plan, else "day 2 of 3"

    @property
    def taught(self) -> str:
        return "Taught" if self.plan.taught_at is not None else "Not marked taught"

    def html(self, *, url: str, show_section: bool, compact: bool) -> SafeString:
        """The entry as a calendar day lists it: written here, not by a template included per
        plan, since a teacher's month holds a hundred and more (the include was half the
        page's time)."""
        objective = self.plan.objective
        width = 48 if compact else 90
        if show_section:
            label = self.section_label
        else:
            label = Truncator(objective).chars(width) if objective else "Lesson plan"
        standards = (
            format_html('<span class="plan-standards">{}</span>', ", ".join(self.short_codes))
            if self.short_codes
            else ""
        )
        detail = (
            format_html('<span class="plan-objective">{}</span>', Truncator(objective).chars(90))
            if not compact and objective and show_section
            else ""
        )
        return format_html(
            '<li class="plan-entry{}"><a href="{}">{}</a>{}{}'
            '<span class="plan-status">{}{}</span></li>',
            " is-taught" if self.plan.taught_at is not None else "",
            url,
            label,
            standards,
            detail,
            self.taught,
            f" · {self.span}" if self.span else "",
        )


@dataclass(frozen=True)
class CalendarDay:
    day: date
    entries: list[PlanEntry]
    is_today: bool
    in_range: bool  # in the month shown (a month grid's first and last weeks spill over)
    plan_url: str  # "Plan this day" for one section, "" when the viewer may not plan
    entries_html: SafeString = SafeString("")  # the entries' <li>s (PlanEntry.html)


@dataclass(frozen=True)
class Calendar:
    view: str
    first: date  # the first and last days shown
    last: date
    days: list[CalendarDay]
    title: str
    previous_query: str
    next_query: str
    previous_label: str
    next_label: str
    shows_today: bool

    @property
    def weeks(self) -> list[list[CalendarDay]]:
        return [self.days[i : i + 7] for i in range(0, len(self.days), 7)]

    @property
    def week_days(self) -> list[CalendarDay]:
        """The week's list: Monday to Friday, and a weekend day only when it holds a plan."""
        return [d for d in self.days if d.day.weekday() < 5 or d.entries]


def section_label(section: Section) -> str:
    return f"{section.title} · Period {section.period}" if section.period else section.title


def plan_entry(plan: LessonPlan, day: date | None = None) -> PlanEntry:
    """A plan as a day lists it (its standards prefetched, as lessons.selectors loads them)."""
    span = ""
    if plan.first_day != plan.last_day and day is not None:
        span = (
            f"day {(day - plan.first_day).days + 1} of {(plan.last_day - plan.first_day).days + 1}"
        )
    return PlanEntry(
        plan=plan,
        section_label=section_label(plan.section),
        short_codes=[standard_short_code(s.code) for s in plan.standards.all()],
        span=span,
    )


def _parameters(request: HttpRequest) -> tuple[str, date] | HttpResponse:
    """The view and the day asked for, or a 400 naming each parameter it could not use."""
    problems = []
    view = request.GET.get("view", "week") or "week"
    if view not in VIEWS:
        problems.append(f"view: {view[:40]!r} is not one of {', '.join(VIEWS)}.")
    raw_day = request.GET.get("day", "")
    day = timezone.localdate()
    if raw_day:
        try:
            if not DAY_PATTERN.fullmatch(raw_day):
                raise ValueError
            day = date.fromisoformat(raw_day)
            if not FIRST_YEAR <= day.year <= LAST_YEAR:
                raise ValueError
        except ValueError:
            problems.append(
                f"day: {raw_day[:40]!r} is not a date (YYYY-MM-DD) from {FIRST_YEAR} to "
                f"{LAST_YEAR}."
            )
    if problems:
        return bad_parameters(problems)
    return view, day


def _span(view: str, day: date) -> tuple[date, date, date, date]:
    """The first and last days shown, and the days the previous and next links pick."""
    if view == "week":
        monday = day - timedelta(days=day.weekday())
        return (
            monday,
            monday + timedelta(days=6),
            monday - timedelta(days=7),
            monday + timedelta(days=7),
        )
    first_of_month = day.replace(day=1)
    days_in_month = stdlib_calendar.monthrange(day.year, day.month)[1]
    last_of_month = day.replace(day=days_in_month)
    first = first_of_month - timedelta(days=first_of_month.weekday())
    last = last_of_month + timedelta(days=6 - last_of_month.weekday())
    previous = (first_of_month - timedelta(days=1)).replace(day=1)
    following = last_of_month + timedelta(days=1)
    return first, last, previous, following


def _clamped(day: date) -> date | None:
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else None


def build_calendar(
    view: str,
    day: date,
    plans: list[LessonPlan],
    plan_url: str = "",
    *,
    show_section: bool = False,
) -> Calendar:
    """The days shown with the plans running on each. `plan_url`: the "Plan this day" link
    (lessons:plan_new of one section) given ?day=; empty when the viewer plans none here.
    `show_section`: each plan labelled with its section (the teacher's calendar)."""
    detail_url = reverse("lessons:plan_detail", kwargs={"pk": PLAN_PLACEHOLDER})
    compact = view == "month"
    first, last, previous, following = _span(view, day)
    today = timezone.localdate()
    by_day: dict[date, list[PlanEntry]] = {}
    for plan in plans:
        current = max(plan.first_day, first)
        while current <= min(plan.last_day, last):
            by_day.setdefault(current, []).append(plan_entry(plan, current))
            current += timedelta(days=1)
    days = []
    current = first
    while current <= last:
        entries = by_day.get(current, [])
        days.append(
            CalendarDay(
                day=current,
                entries=entries,
                is_today=current == today,
                in_range=view == "week" or current.month == day.month,
                plan_url=f"{plan_url}?day={current.isoformat()}" if plan_url else "",
                entries_html=SafeString(
                    "".join(
                        entry.html(
                            url=detail_url.replace(str(PLAN_PLACEHOLDER), str(entry.plan.pk)),
                            show_section=show_section,
                            compact=compact,
                        )
                        for entry in entries
                    )
                ),
            )
        )
        current += timedelta(days=1)
    if view == "week":
        title = f"Week of {first:%A, %B} {first.day}, {first.year}"
        previous_label, next_label = "Previous week", "Next week"
    else:
        title = f"{day:%B %Y}"
        previous_label = f"Previous month ({previous:%B %Y})"
        next_label = f"Next month ({following:%B %Y})"
    previous_day, next_day = _clamped(previous), _clamped(following)
    return Calendar(
        view=view,
        first=first,
        last=last,
        days=days,
        title=title,
        previous_query=f"?view={view}&day={previous_day.isoformat()}" if previous_day else "",
        next_query=f"?view={view}&day={next_day.isoformat()}" if next_day else "",
        previous_label=previous_label,
        next_label=next_label,
        shows_today=first <= today <= last,
    )


@login_required
@require_GET
def section_calendar(request: HttpRequest, pk: int) -> HttpResponse:
    """One section's week or month of lesson plans."""
    access = section_plans_for_user(request.user, pk)
    parameters = _parameters(request)
    if isinstance(parameters, HttpResponse):
        return parameters
    view, day = parameters
    first, last, _, _ = _span(view, day)
    plans = lesson_selectors.plans_of_section(access, first, last)
    plan_url = (
        reverse("lessons:plan_new", kwargs={"pk": access.section.pk}) if access.may_edit else ""
    )
    return render(
        request,
        "dashboard/planner/section_calendar.html",
        {
            "section": access.section,
            "access": access,
            "calendar": build_calendar(view, day, plans, plan_url=plan_url),
            "here": reverse("lessons:section_calendar", kwargs={"pk": access.section.pk}),
        },
    )


@login_required
@require_GET
def teacher_calendar(request: HttpRequest) -> HttpResponse:
    """The week or month of every section the signed-in teacher plans; a 404 to anyone who plans
    none (substitutes, principals, district staff, guardians: see the module's docstring)."""
    sections = list(
        lesson_selectors.sections_plannable_by(request.user)
        .select_related("school")
        .order_by("period", "title", "pk")
    )
    if not sections:
        raise Http404("You plan no sections.")
    parameters = _parameters(request)
    if isinstance(parameters, HttpResponse):
        return parameters
    view, day = parameters
    first, last, _, _ = _span(view, day)
    plans = lesson_selectors.plans_of_teacher(request.user, first, last)
    only = sections[0] if len(sections) == 1 else None
    plan_url = reverse("lessons:plan_new", kwargs={"pk": only.pk}) if only is not None else ""
    return render(
        request,
        "dashboard/planner/teacher_calendar.html",
        {
            "sections": [
                (
                    section,
                    section_label(section),
                    reverse("lessons:section_calendar", kwargs={"pk": section.pk}),
                    reverse("lessons:plan_new", kwargs={"pk": section.pk}),
                )
                for section in sections
            ],
            "calendar": build_calendar(view, day, plans, plan_url=plan_url, show_section=True),
            "here": reverse("lessons:teacher_calendar"),
        },
    )

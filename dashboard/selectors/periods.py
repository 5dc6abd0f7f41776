"""When a rollup report looks: the as-of date, the term and last year (issue 19's filters).

The rollups keep each month as it stood at the month's end (the current month as it stands today),
so a report reads months: as of a date it shows the last month completed by then (the current one
when the date falls in it), from the chosen term's first month counted. The same month a year
earlier is shown beside it where the rollups still hold it.
"""

from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from rollups.counting import month_first, month_last, year_start
from students.models import AcademicSession, SessionKind

# The sessions a report's term filter offers, longest first within a start date.
TERM_KINDS = (SessionKind.SCHOOL_YEAR, SessionKind.SEMESTER, SessionKind.TERM)
KIND_ORDER: dict[str, int] = {str(kind): index for index, kind in enumerate(TERM_KINDS)}


@dataclass(frozen=True)
class Term:
    """A span the report's growth runs over: a session of the district, or the school year
    holding the as-of date when the district recorded none (pk None)."""

    pk: int | None
    title: str
    start: date
    end: date


@dataclass(frozen=True)
class ReportPeriods:
    """The months a report compares: `month` (now), `start_month` (the term's first month
    counted, before `month`; None when `month` is the first) and `last_year_month` (12 months
    before `month`, when the rollups hold it)."""

    as_of: date
    month: date
    term: Term
    start_month: date | None
    last_year_month: date | None
    months: list[date]  # every month the rollups hold, oldest first
    terms: list[Term]  # the term filter's choices

    def by_period(self) -> dict[str, date]:
        """The months by their role on the page: now, start and last year where they exist."""
        return {
            "now": self.month,
            **({"start": self.start_month} if self.start_month else {}),
            **({"last_year": self.last_year_month} if self.last_year_month else {}),
        }

    @property
    def month_note(self) -> str:
        """Which month the as-of date reads, in a sentence (empty when it is the date's own)."""
        if self.month == month_first(self.as_of):
            return ""
        return (
            f"Counts are kept at each month’s end: as of {self.as_of:%-d %B %Y} the report shows "
            f"the end of {self.month:%B %Y}, the last month completed by then."
        )


def report_terms(district_id: int, months: list[date]) -> list[Term]:
    """The district's school years, semesters and terms that overlap the months the rollups
    hold, newest first."""
    if not months:
        return []
    sessions = AcademicSession.objects.filter(
        district_id=district_id,
        school__isnull=True,
        is_active=True,
        kind__in=TERM_KINDS,
        start_date__lte=month_last(months[-1]),
        end_date__gte=months[0],
    ).values_list("pk", "title", "kind", "start_date", "end_date")
    ordered = sorted(sessions, key=lambda s: (s[3], -s[4].toordinal(), KIND_ORDER[s[2]]))
    return [
        Term(pk=pk, title=title, start=start, end=end)
        for pk, title, _kind, start, end in reversed(ordered)
    ]


def month_as_of(as_of: date, months: list[date]) -> date:
    """The month a report reads as of a date: the date's own month when it is the current one or
    the date is its last day, else the month before."""
    today = timezone.localdate()
    if month_first(as_of) == month_first(today) or as_of == month_last(as_of):
        return month_first(as_of)
    first = month_first(as_of)
    return month_first(date.fromordinal(first.toordinal() - 1))


def report_periods(
    district_id: int,
    *,
    months: list[date],
    month: date,
    as_of: date | None = None,
    term: Term | None = None,
    terms: list[Term] | None = None,
) -> ReportPeriods:
    """The report's months for a month (or as-of date) and term. A term that ended before the
    month reads to its own last month: the term's growth, start to end."""
    month = month_first(month)
    if term is None:
        start = year_start(district_id, month_last(month))
        held = [t for t in terms or [] if t.start == start and t.end >= month]
        term = (
            max(held, key=lambda t: t.end)
            if held
            else Term(pk=None, title="The school year", start=start, end=month_last(month))
        )
    elif month_last(month) > term.end:
        month = month_first(term.end)
    term_first = month_first(term.start)
    start_month = next((m for m in months if term_first <= m < month), None)
    year_before = date(month.year - 1, month.month, 1)
    return ReportPeriods(
        as_of=as_of or min(timezone.localdate(), month_last(month)),
        month=month,
        term=term,
        start_month=start_month,
        last_year_month=year_before if year_before in months else None,
        months=months,
        terms=terms or [],
    )

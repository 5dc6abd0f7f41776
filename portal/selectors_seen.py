"""Reads for "Who has seen my child's record": every access-log row about one child (a child the
access module let the guardian see), in words a family reads, newest first, a page at a time.

Names or roles: a row names the person who read (the name snapshotted as the row was written,
privacy.services.access_log_record) only where the district shows staff names
(District.access_log_names) and only for staff roles; another parent's reads show as their role.
The guardian's own reads are listed too, as "You": they are reads of the record like any other,
and hiding them would make the list less than the whole log (the "who" filter leaves them out).

Paging is by keyset, (at, id) descending, on the index (student, -at): a page of a child with
fifty thousand rows costs what a page of a child with fifty does: one query for the rows, and one
for the filter's list of who appears, which reads only the rows since the last load (who_groups).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.core.cache import caches
from django.db.models import BooleanField, ExpressionWrapper, Max, Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from accounts.access import (
    ADMIN_PURPOSE,
    ADMIN_ROLE,
    PRIVACY_OFFICE_PURPOSE,
    REACH,
    SYSTEM_ROLE,
    Basis,
    StudentAccess,
)
from accounts.models import Role
from privacy.models import AccessLogEntry
from students.models import Student

# A page a phone scrolls through comfortably; "Older" goes on.
PAGE_SIZE = 25
# The district's choice (District.access_log_names) to show roles only.
ROLES_ONLY = "roles"
# Roles whose people are named where the district shows names: staff (and the Trellis admin). A
# guardian's reads, a command's and an application's are shown by their role.
NAMED_ROLES = frozenset(
    {
        Role.TEACHER,
        Role.PRINCIPAL,
        Role.DISTRICT_STAFF,
        Role.PRIVACY_OFFICER,
        REACH[Basis.INDIVIDUAL].role,
        ADMIN_ROLE,
    }
)
# The "who" filter's fixed values; the others are "u<user id>" (a named person) and "r<role>".
EVERYONE = ""
OTHERS = "others"
YOU = "you"

ROLE_WORDS: dict[str, Promise] = {
    Role.TEACHER: pgettext_lazy("access log role", "Teacher"),
    Role.PRINCIPAL: pgettext_lazy("access log role", "Principal"),
    Role.DISTRICT_STAFF: pgettext_lazy("access log role", "District staff"),
    Role.GUARDIAN: pgettext_lazy("access log role", "Parent or guardian"),
    REACH[Basis.INDIVIDUAL].role: pgettext_lazy(
        "access log role", "Staff member the district gave access to this child"
    ),
    ADMIN_ROLE: pgettext_lazy("access log role", "Trellis administrator"),
    SYSTEM_ROLE: pgettext_lazy("access log role", "District IT, on the server"),
    Role.PRIVACY_OFFICER: pgettext_lazy("access log role", "Privacy officer"),
}

# What was seen: the access log's words for each read (log_shown(what=...)), as a family reads
# them. The profile's tabs are logged one by one, so each has its own words.
WHAT_WORDS: dict[str, Promise] = {
    "student record": gettext_lazy("Profile: record (school, classes, programs, contacts)"),
    "student attendance and discipline": gettext_lazy("Profile: attendance and discipline"),
    "student mastery and scores": gettext_lazy("Profile: progress and scores"),
    "student grades": gettext_lazy("Profile: grades"),
    "student mastery export": gettext_lazy("Download of progress on every standard"),
    "student history on a standard": gettext_lazy("Progress on one standard"),
    "student history on a standard export": gettext_lazy("Download of progress on one standard"),
    "section roster": gettext_lazy("Class page (the class list and levels)"),
    "section mastery export": gettext_lazy("Download of the class's levels"),
    "section distribution export": gettext_lazy("Download of the class's levels, counted"),
    "lesson plan": gettext_lazy("Lesson plan (the small groups for a lesson)"),
    "lesson plan (print)": gettext_lazy("Lesson plan, printed"),
    "lesson plan live groups": gettext_lazy("Lesson plan: check for group changes"),
    "section mastery live update": gettext_lazy("Class page, updated as scores came in"),
    "standard in section": gettext_lazy("The class's results on one standard"),
    "standard in section export": gettext_lazy("Download of the class's results on one standard"),
    "score entry grid": gettext_lazy("Entering scores for the class"),
    "student search results": gettext_lazy("Search results (name only)"),
    "home: my children": gettext_lazy("Home page (name only)"),
    "top bar: my children": gettext_lazy("Menu of your children (name only)"),
    "OneRoster export": gettext_lazy("Export to another district system"),
    "school: guardian invitations": gettext_lazy("The school's list of family invitations"),
    "school: invitation letter": gettext_lazy("A printed invitation letter for the family"),
    "why a user may see a student": gettext_lazy("A check of who may see the record"),
    "family portal: my children": gettext_lazy("Family portal: your children (name only)"),
    "family portal: child switcher": gettext_lazy("Family portal: switch child (name only)"),
    "family portal: progress": gettext_lazy("Family portal: progress"),
    "family portal: grades": gettext_lazy("Family portal: grades"),
    "family portal: attendance": gettext_lazy("Family portal: attendance"),
    "family portal: attendance and discipline": gettext_lazy(
        "Family portal: attendance and discipline"
    ),
    "family portal: teachers": gettext_lazy("Family portal: teachers"),
    "family portal: who has seen": gettext_lazy("Family portal: who has seen the record"),
    "family portal: rights": gettext_lazy("Family portal: your rights"),
    "family portal: directory information": gettext_lazy("Family portal: directory information"),
    "family portal: consent request": gettext_lazy("Family portal: a request for consent"),
    "family portal: consent": gettext_lazy("Family portal: a consent given"),
    "family portal: inspection request": gettext_lazy("Family portal: asking to see the records"),
    "family portal: inspection package (JSON)": gettext_lazy(
        "Family portal: the copy of the records, downloaded (JSON)"
    ),
    "family portal: inspection package (PDF)": gettext_lazy(
        "Family portal: the copy of the records, downloaded (PDF)"
    ),
    "family portal: amendment request": gettext_lazy("Family portal: asking to correct a record"),
    "family portal: amendment statement": gettext_lazy("Family portal: a statement about a record"),
    # rights.services.inspection_request_fulfil: the privacy office reads the whole record.
    "inspection package": gettext_lazy("The copy of the whole record prepared for your request"),
}
# Reads logged with a detail after a fixed start ("admin: student", "school report: students
# counted (absent)").
WHAT_PREFIX_WORDS: tuple[tuple[str, Promise], ...] = (
    ("school report: students counted", gettext_lazy("School report: a list of students counted")),
    ("admin: ", gettext_lazy("Trellis administration pages")),
    # The privacy office's pages (dashboard.views.privacy): requests, consents, disclosures.
    ("privacy office: ", gettext_lazy("The school district's privacy office pages")),
)

# Why: each grant's purpose (accounts.access), as a family reads it.
PURPOSE_WORDS: dict[str, Promise] = {
    REACH[Basis.SECTION_TEACHER].purpose: gettext_lazy("Teaching your child's class"),
    REACH[Basis.SUBSTITUTE].purpose: gettext_lazy(
        "Covering your child's class as a substitute teacher"
    ),
    REACH[Basis.SCHOOL_TEACHER].purpose: gettext_lazy("Teaching at your child's school"),
    REACH[Basis.PRINCIPAL].purpose: gettext_lazy("Leading your child's school"),
    REACH[Basis.DISTRICT_STAFF].purpose: gettext_lazy("Running the school district"),
    REACH[Basis.GUARDIAN].purpose: gettext_lazy("A parent or guardian following their child"),
    REACH[Basis.INDIVIDUAL].purpose: gettext_lazy("A task the district gave for your child"),
    ADMIN_PURPOSE: gettext_lazy("Looking after the Trellis system"),
    PRIVACY_OFFICE_PURPOSE: gettext_lazy(
        "Answering a request about the record, or recording a disclosure"
    ),
}
# accounts.access.CommandAccess.purpose: the command's name follows.
PURPOSE_PREFIX_WORDS: tuple[tuple[str, Promise], ...] = (
    ("District IT at the server", gettext_lazy("District IT work on the server")),
)


def _in_words(
    value: str, exact: dict[str, Promise], prefixes: Iterable[tuple[str, Promise]]
) -> str:
    """A logged value in the page's language; one this page does not know shows as logged."""
    words = exact.get(value)
    if words is None:
        words = next((w for start, w in prefixes if value.startswith(start)), None)
    return str(words) if words is not None else value


def role_words(role: str) -> str:
    return _in_words(role, ROLE_WORDS, ())


def what_words(what: str) -> str:
    return _in_words(what, WHAT_WORDS, WHAT_PREFIX_WORDS)


def purpose_words(purpose: str) -> str:
    return _in_words(purpose, PURPOSE_WORDS, PURPOSE_PREFIX_WORDS)


# --- Where a page starts: a row's (at, id), as the links carry it.

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The largest id a row may have (a bigint).
_MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class Cursor:
    """A row's place in the list: its time and id. In a link: "<microseconds since 1970>-<id>"."""

    at: datetime
    id: int

    @property
    def token(self) -> str:
        return f"{(self.at - _EPOCH) // timedelta(microseconds=1)}-{self.id}"

    @classmethod
    def parse(cls, token: str) -> Cursor:
        """The cursor a link carries; ValueError for anything that is not one."""
        micros, sep, row_id = token.partition("-")
        if not sep or not micros.isdigit() or not row_id.isdigit() or len(token) > 40:
            raise ValueError(token)
        number = int(row_id)
        if not 0 < number <= _MAX_ID:
            raise ValueError(token)
        try:
            at = _EPOCH + timedelta(microseconds=int(micros))
        except OverflowError as error:
            raise ValueError(token) from error
        return cls(at=at, id=number)


# --- Who appears, and the filter on them.


def _names_shown(access: StudentAccess) -> bool:
    return access.student.district.access_log_names != ROLES_ONLY


def _who_key(user_id: int | None, role: str, *, me: int | None, names: bool) -> str:
    """The "who" filter's value a row falls under."""
    if user_id is not None and user_id == me:
        return YOU
    if names and user_id is not None and role in NAMED_ROLES:
        return f"u{user_id}"
    return f"r{role}"


def who_filter(key: str, *, me: int | None, names: bool) -> Q:
    """The rows a value of the "who" filter selects (a value seen_who_choices offers)."""
    if key == EVERYONE:
        return Q()
    if key == OTHERS:
        return ~Q(actor_user_id=me)
    if key == YOU:
        return Q(actor_user_id=me)
    if key.startswith("u") and key[1:].isdigit():
        return Q(actor_user_id=int(key[1:]), role__in=NAMED_ROLES)
    role = key[1:]
    rows = Q(role=role) & ~Q(actor_user_id=me)
    if names and role in NAMED_ROLES:
        # A named role's people have their own values: this one is rows without a person.
        rows &= Q(actor_user_id__isnull=True)
    return rows


@dataclass(frozen=True)
class WhoChoice:
    value: str
    label: str


# Who appears in a child's log, kept between loads (the "default" cache, every process's): the
# log is append-only, so what its rows up to a time say never changes, and each load reads only
# the rows after it. Rows are counted in once they are older than SETTLE_AFTER, so that a row
# written by a transaction that commits late is not passed over.
WHO_CACHE_LAYOUT = 1
SETTLE_AFTER = timedelta(hours=1)
WHO_CACHE_TIMEOUT_S = 7 * 24 * 3600
# (actor_user_id, role, actor_name, actor_label) → the latest read of the group.
WhoGroups = dict[tuple[int | None, str, str, str], datetime]


def _who_cache_key(student: Student) -> str:
    # By uuid, never by id: an id may come back (a test database, a restored backup).
    return f"portal-seen-who:{WHO_CACHE_LAYOUT}:{student.uuid}"


def _merge(into: WhoGroups, key: tuple[int | None, str, str, str], last: datetime) -> None:
    if key not in into or last > into[key]:
        into[key] = last


def who_groups(student: Student) -> WhoGroups:
    """Everyone who appears in the student's log: one query of the rows since those already
    counted (all of them the first time), on the index (student, -at)."""
    cache = caches["default"]
    key = _who_cache_key(student)
    stored: tuple[datetime, WhoGroups] | None = cache.get(key)
    counted_through, counted = stored if stored is not None else (None, {})
    settle_by = timezone.now() - SETTLE_AFTER
    if counted_through is not None:
        settle_by = max(settle_by, counted_through)
    rows = AccessLogEntry.objects.filter(student_id=student.pk)
    if counted_through is not None:
        rows = rows.filter(at__gt=counted_through)
    found = (
        rows.annotate(settled=ExpressionWrapper(Q(at__lte=settle_by), BooleanField()))
        .values_list("actor_user_id", "role", "actor_name", "actor_label", "settled")
        .annotate(last=Max("at"))
        .order_by()
    )
    settled, everyone = dict(counted), dict(counted)
    newly_settled = False
    for user_id, role, name, label, is_settled, last in found:
        group = (user_id, role, name, label)
        _merge(everyone, group, last)
        if is_settled:
            _merge(settled, group, last)
            newly_settled = True
    if stored is None or newly_settled:
        cache.set(key, (settle_by, settled), WHO_CACHE_TIMEOUT_S)
    return everyone


def seen_who_choices(access: StudentAccess, *, me: int | None) -> list[WhoChoice]:
    """Everyone who appears in the child's log, as the "who" filter offers them: everyone,
    everyone but you, you, then each named person (their latest name, with their roles), then
    each role shown without names. One query (who_groups)."""
    names = _names_shown(access)
    people: dict[str, tuple[datetime, str]] = {}  # key → (latest read, name)
    roles_of: dict[str, set[str]] = {}
    role_keys: set[str] = set()
    has_you = False
    for (user_id, role, name, label), last in who_groups(access.student).items():
        key = _who_key(user_id, role, me=me, names=names)
        if key == YOU:
            has_you = True
        elif key.startswith("u"):
            if key not in people or last > people[key][0]:
                people[key] = (last, name or label)
            roles_of.setdefault(key, set()).add(role)
        else:
            role_keys.add(key)
    choices = [
        WhoChoice(EVERYONE, gettext("Everyone")),
        WhoChoice(OTHERS, gettext("Everyone except you")),
    ]
    if has_you:
        choices.append(WhoChoice(YOU, gettext("You")))
    person_choices = [
        WhoChoice(
            key,
            gettext("%(name)s (%(roles)s)")
            % {
                "name": name,
                "roles": ", ".join(sorted(role_words(role) for role in roles_of[key])),
            },
        )
        for key, (_, name) in people.items()
    ]
    role_choices = [WhoChoice(key, role_words(key[1:])) for key in role_keys]
    choices += sorted(person_choices, key=lambda c: c.label.casefold())
    choices += sorted(role_choices, key=lambda c: c.label.casefold())
    return choices


# --- The rows.


@dataclass(frozen=True)
class SeenFilters:
    who: str = EVERYONE
    date_from: date | None = None
    date_to: date | None = None
    before: Cursor | None = None  # older than this row (the "older" link)
    after: Cursor | None = None  # newer than this row (the "newer" link)


@dataclass(frozen=True)
class SeenRow:
    at: datetime
    you: bool
    name: str  # "" where only the role is shown
    role: str
    what: str
    purpose: str


@dataclass(frozen=True)
class SeenDay:
    day: date
    rows: list[SeenRow]


@dataclass(frozen=True)
class SeenPage:
    days: list[SeenDay]
    older: Cursor | None  # where the next older page starts (None: this is the oldest)
    newer: Cursor | None  # where the next newer page starts (None: this is the newest)
    names_shown: bool

    @property
    def count(self) -> int:
        return sum(len(day.rows) for day in self.days)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _filtered(access: StudentAccess, filters: SeenFilters, *, me: int | None) -> QuerySet:
    rows = AccessLogEntry.objects.filter(student_id=access.student.pk)
    rows = rows.filter(who_filter(filters.who, me=me, names=_names_shown(access)))
    if filters.date_from is not None:
        rows = rows.filter(at__gte=_day_start(filters.date_from))
    if filters.date_to is not None and filters.date_to < date.max:
        rows = rows.filter(at__lt=_day_start(filters.date_to + timedelta(days=1)))
    return rows


def seen_page(access: StudentAccess, filters: SeenFilters, *, me: int | None) -> SeenPage:
    """A page of the child's log rows, newest first, from where the filters' cursor says: one
    query of at most PAGE_SIZE + 1 rows on the index (student, -at)."""
    names = _names_shown(access)
    rows = _filtered(access, filters, me=me)
    cursor = filters.after or filters.before
    if filters.after is not None:
        # Newer than the cursor: read upwards, then turn the page the right way round.
        assert cursor is not None  # noqa: S101  # for the type checker
        rows = rows.filter(at__gte=cursor.at).exclude(at=cursor.at, id__lte=cursor.id)
        rows = rows.order_by("at", "id")
    else:
        if cursor is not None:
            rows = rows.filter(at__lte=cursor.at).exclude(at=cursor.at, id__gte=cursor.id)
        rows = rows.order_by("-at", "-id")
    found = list(
        rows.values_list(
            "id", "at", "actor_user_id", "actor_name", "actor_label", "role", "what", "purpose"
        )[: PAGE_SIZE + 1]
    )
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    if filters.after is not None:
        found.reverse()
    # A page repeats a few roles, reads and purposes: each is put in words once.
    words: dict[tuple[str, str], str] = {}

    def once(kind: str, value: str) -> str:
        if (kind, value) not in words:
            words[kind, value] = _WORDS_OF[kind](value)
        return words[kind, value]

    shown: list[SeenRow] = []
    for _, at, user_id, name, label, role, what, purpose in found:
        key = _who_key(user_id, role, me=me, names=names)
        if key == YOU:
            who = gettext("You")
        elif key.startswith("u"):
            who = name or label  # rows written before names were kept show the email
        else:
            who = name if names and user_id is None else ""  # an application's own name
        shown.append(
            SeenRow(
                at=at,
                you=key == YOU,
                name=who,
                role=once("role", role),
                what=once("what", what),
                purpose=once("purpose", purpose),
            )
        )
    first = Cursor(found[0][1], found[0][0]) if found else None
    last = Cursor(found[-1][1], found[-1][0]) if found else None
    if filters.after is not None:
        older, newer = last, first if more else None
    else:
        older = last if more else None
        newer = first if filters.before is not None else None
    return SeenPage(days=_by_day(shown), older=older, newer=newer, names_shown=names)


_WORDS_OF = {"role": role_words, "what": what_words, "purpose": purpose_words}


def _by_day(rows: list[SeenRow]) -> list[SeenDay]:
    days: list[SeenDay] = []
    for row in rows:
        day = timezone.localdate(row.at)
        if not days or days[-1].day != day:
            days.append(SeenDay(day=day, rows=[]))
        days[-1].rows.append(row)
    return days

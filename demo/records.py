"""The demo district's school year on record (a seed step): calendars, attendance, grades, report
cards, last year's transcripts and discipline.

`seed_records` runs after the assessments step (scores exist) and before the logins. It reads
the school year's sessions (semesters and quarters) that the district step wrote, and draws
everything per student from a stream keyed by the student's slot (never the database id), so the
same seed and the same `today` give the same rows whatever the batch size.

- Calendars: one CalendarDate per school for every weekday from the first day of school to the
  last day of the spring semester. The closures are shared by every school: Labor Day,
  Thanksgiving Wednesday to Friday, winter break (the weekdays between the semesters, about two
  and a half weeks), MLK Day, Presidents' Day, a spring-break week, Memorial Day and two teacher
  work days (the first day of the second quarter and of the spring semester); more holidays and
  work days close until at most 179 instructional days remain (175-180 every year).
- Attendance: only what is not "present" is stored (as Ed-Fi does): excused and unexcused
  absences, tardies and a few early departures, one daily row (school set, section empty) per
  student and day at most, on instructional days from the student's entry day up to yesterday.
  Each student has an absence rate from a mixture (most 0.5-5%, 16% at 5-9%, and 8%, 10% or 14%
  at elementary, middle or high school at 10-30%), so that about 12% of students are chronically
  absent (absent on 10% or more of the
  instructional days enrolled so far); absences come in spells of one to three days, and the
  share of unexcused ones grows with the rate. Tardies run up to 3% of days at elementary, 4% at
  middle and 6% at high school.
- Grades: a "Grading Period" grade per student and section for every quarter that ended before
  today (none for the quarter in progress: its report card is not out yet), from the quarter's
  scores where the student has scored work in that section (the average of points / max points
  over the scores of assessments due in the quarter, mapped to a percent with a little noise),
  else from the student's own ability (lower for high absentees) and a subject offset. Letters
  by the usual scale (A 90+, B 80+, C 70+, D 60+, F), for every grade level.
- Report cards: per student and ended quarter, the quarter's GPA (4-point), the cumulative GPA
  (last year's courses count one each, a quarter grade a quarter), the quarter's days absent,
  days in attendance and days tardy (equal to the attendance rows of the quarter and the
  instructional days enrolled), and its grades.
- Transcripts: students in grades 6-12 have last year's academic record (school year - 1, no
  session: last year's sessions do not exist) with a course transcript per course of the grade
  below: final grade, Pass/Fail (60 to pass), one credit per passed course for high school years.
  The record's cumulative credits and GPA are those of its transcripts.
- Discipline: 2-4 incidents per elementary school and 5-10 per middle and high school, on past
  school days, each with 1-3 of the school's students (perpetrator, victim, witness), reported by
  the principal, with an action (conference, detention, suspension) per perpetrator.

Scale: memory holds small per-slot arrays (rates, ability, per-quarter absence counts), never the
district's rows. The large tables (attendance, grades, report cards, transcripts) are written
straight in batches of ROWS_PER_INSERT rows (COPY on PostgreSQL: see _Rows); discipline, a few
rows per school with encrypted fields, with bulk_create. At 20,000 students on PostgreSQL the
step takes about 4 s in December and 8 s in May (plus the foreign-key checks at commit).
"""

import random
from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal
from time import monotonic
from typing import TYPE_CHECKING, Any

from django.db import connection, models, reset_queries
from django.db.models import Avg
from django.utils import timezone

from assessments.models import Score, ScoreStatus
from students.models import (
    AcademicRecord,
    AcademicSession,
    AttendanceCategory,
    AttendanceEvent,
    CalendarDate,
    CourseTranscript,
    DisciplineAction,
    DisciplineIncident,
    Grade,
    ReportCard,
    SchoolLevel,
    SessionKind,
    Staff,
    StudentDisciplineIncident,
)

if TYPE_CHECKING:
    from demo.district import DemoBuild

ROWS_PER_INSERT = 5000

INSTRUCTIONAL_DAY = "Instructional day"
HOLIDAY = "Holiday"
TEACHER_WORK_DAY = "Teacher work day"
MAX_INSTRUCTIONAL_DAYS = 179

# Absence rates: by school level, this share of students is absent on HIGH_ABSENCE of days,
# MIDDLING_ABSENCE_SHARE on MIDDLING_ABSENCE, the rest on LOW_ABSENCE (uniform within).
HIGH_ABSENCE_SHARE: dict[str, float] = {
    SchoolLevel.ELEMENTARY: 0.08,
    SchoolLevel.MIDDLE: 0.10,
    SchoolLevel.HIGH: 0.14,
}
HIGH_ABSENCE = (0.10, 0.30)
MIDDLING_ABSENCE_SHARE = 0.16
MIDDLING_ABSENCE = (0.05, 0.09)
LOW_ABSENCE = (0.005, 0.05)
TARDY_MAX: dict[str, float] = {
    SchoolLevel.ELEMENTARY: 0.03,
    SchoolLevel.MIDDLE: 0.04,
    SchoolLevel.HIGH: 0.06,
}
EARLY_DEPARTURE_RATE = 0.004
# A spell of absence lasts one, two or three days.
SPELL_LENGTHS = (1, 2, 3)
SPELL_WEIGHTS = (0.65, 0.25, 0.10)
MEAN_SPELL = sum(n * w for n, w in zip(SPELL_LENGTHS, SPELL_WEIGHTS, strict=True))
EXCUSED_REASONS = [
    ("Illness", 70.0),
    ("Medical appointment", 15.0),
    ("Family emergency", 8.0),
    ("Religious observance", 4.0),
    ("Bereavement", 3.0),
]
UNEXCUSED_REASONS = [("", 60.0), ("No note received", 30.0), ("Truancy", 10.0)]
TARDY_REASONS = [("", 70.0), ("Overslept", 12.0), ("Late bus", 10.0), ("Medical appointment", 8.0)]
EARLY_DEPARTURE_REASONS = [("Medical appointment", 60.0), ("Illness", 30.0), ("Family", 10.0)]

GRADE_TYPE = "Grading Period"
LETTERS = [(90.0, "A", 4), (80.0, "B", 3), (70.0, "C", 2), (60.0, "D", 1), (0.0, "F", 0)]
PASSING = 60.0
ABILITY_MEAN, ABILITY_SD, SUBJECT_SD, QUARTER_SD = 85.0, 9.0, 4.0, 3.5
# A quarter's score average a (0..1) as a percent: 100 - 45 (1 - a)^1.3, give or take SCORE_SD
# (a gradebook's percent runs above the raw share of points: completion counts, low scores are
# retaken). An average of 0.55 makes about 84%, 0.8 about 95%, 0.25 about 69%.
SCORE_FLOOR, SCORE_CURVE, SCORE_SD = 55.0, 1.3, 2.5

INCIDENTS: dict[str, tuple[int, int]] = {
    SchoolLevel.ELEMENTARY: (2, 4),
    SchoolLevel.MIDDLE: (5, 10),
    SchoolLevel.HIGH: (5, 10),
}


@dataclass(frozen=True)
class _Behavior:
    name: str
    weight: dict[str, float]  # by school level
    roles: list[list[str]]  # participations of the students, one list picked per incident
    locations: list[str]
    descriptions: list[str]
    # (disciplines, length in days or None), picked per perpetrator; {days} is a range.
    actions: dict[str, list[tuple[str, tuple[int, int] | None]]]


PERPETRATOR, VICTIM, WITNESS = "Perpetrator", "Victim", "Witness"
BEHAVIORS = [
    _Behavior(
        "Fighting",
        {SchoolLevel.ELEMENTARY: 2.0, SchoolLevel.MIDDLE: 3.0, SchoolLevel.HIGH: 2.5},
        [[PERPETRATOR, PERPETRATOR], [PERPETRATOR, PERPETRATOR, WITNESS], [PERPETRATOR, VICTIM]],
        ["Hallway", "Cafeteria", "Playground", "Gym", "Bus loading zone"],
        [
            "Two students argued in line and the argument turned into pushing and punching; "
            "staff separated them. Nobody needed medical care.",
            "A disagreement during a game turned physical. A teacher stepped in and both "
            "students were sent to the office.",
            "Students exchanged blows after a conflict that started online; a staff member "
            "separated them within a minute.",
        ],
        {
            SchoolLevel.ELEMENTARY: [("Parent conference\nLoss of recess", None)],
            SchoolLevel.MIDDLE: [
                ("Parent conference\nIn-school suspension", (1, 2)),
                ("Out-of-school suspension", (1, 3)),
            ],
            SchoolLevel.HIGH: [
                ("Out-of-school suspension", (1, 3)),
                ("Parent conference\nIn-school suspension", (1, 2)),
            ],
        },
    ),
    _Behavior(
        "Disruptive behavior",
        {SchoolLevel.ELEMENTARY: 4.0, SchoolLevel.MIDDLE: 3.0, SchoolLevel.HIGH: 2.0},
        [[PERPETRATOR], [PERPETRATOR], [PERPETRATOR, WITNESS]],
        ["Classroom", "Classroom", "Library", "Cafeteria"],
        [
            "A student repeatedly interrupted the lesson and refused to follow directions after "
            "several warnings.",
            "A student threw materials across the room during independent work and would not "
            "return to their seat.",
            "A student left class without permission twice in one period and argued with the "
            "teacher on returning.",
        ],
        {
            SchoolLevel.ELEMENTARY: [("Parent conference", None), ("Loss of recess", None)],
            SchoolLevel.MIDDLE: [("Detention", (1, 1)), ("Parent conference", None)],
            SchoolLevel.HIGH: [("Detention", (1, 2)), ("Parent conference", None)],
        },
    ),
    _Behavior(
        "Bullying",
        {SchoolLevel.ELEMENTARY: 2.0, SchoolLevel.MIDDLE: 2.5, SchoolLevel.HIGH: 1.5},
        [[PERPETRATOR, VICTIM], [PERPETRATOR, VICTIM, WITNESS]],
        ["Playground", "Hallway", "Bus", "Locker room", "Cafeteria"],
        [
            "A student repeatedly teased a classmate and took their belongings over several "
            "days; the classmate told a teacher.",
            "A student kept excluding a classmate from group work and mocked them in front of "
            "others; a witness reported it.",
        ],
        {
            SchoolLevel.ELEMENTARY: [("Parent conference\nRestorative conference", None)],
            SchoolLevel.MIDDLE: [
                ("Parent conference\nDetention", (1, 2)),
                ("In-school suspension", (1, 1)),
            ],
            SchoolLevel.HIGH: [("In-school suspension", (1, 2)), ("Restorative conference", None)],
        },
    ),
    _Behavior(
        "Harassment",
        {SchoolLevel.ELEMENTARY: 0.0, SchoolLevel.MIDDLE: 1.5, SchoolLevel.HIGH: 2.0},
        [[PERPETRATOR, VICTIM]],
        ["Classroom", "Hallway", "Off campus (online)"],
        [
            "A student posted hurtful comments about a classmate in a group chat; a parent "
            "reported it to the school.",
            "A student made repeated unwelcome remarks to a classmate between classes after "
            "being asked to stop.",
        ],
        {
            SchoolLevel.MIDDLE: [("Parent conference\nIn-school suspension", (1, 2))],
            SchoolLevel.HIGH: [
                ("In-school suspension", (1, 3)),
                ("Out-of-school suspension", (1, 2)),
            ],
        },
    ),
    _Behavior(
        "Tobacco/vaping",
        {SchoolLevel.ELEMENTARY: 0.0, SchoolLevel.MIDDLE: 1.0, SchoolLevel.HIGH: 3.0},
        [[PERPETRATOR], [PERPETRATOR, PERPETRATOR]],
        ["Restroom", "Restroom", "Parking lot", "Locker room"],
        [
            "A staff member found a student using a vape device; the device was confiscated "
            "and the family contacted.",
            "Students were found sharing a vape pen; the devices were confiscated.",
        ],
        {
            SchoolLevel.MIDDLE: [("Parent conference\nIn-school suspension", (1, 1))],
            SchoolLevel.HIGH: [
                ("In-school suspension", (1, 2)),
                ("Parent conference\nTobacco education program", None),
            ],
        },
    ),
]


def _bulk(model: type[models.Model], rows: list) -> list:
    created = model._default_manager.bulk_create(rows, batch_size=ROWS_PER_INSERT)
    # With DEBUG on (the demo settings) Django keeps every query's SQL: forget them.
    reset_queries()
    return created


class _Rows:
    """Rows of one table, written straight in batches: COPY on PostgreSQL, one executemany
    elsewhere. bulk_create's per-object work (a model instance and per-value preparation for
    every row) was four fifths of this step's time at scale. Only for tables of plain values
    (no encrypted or JSON fields): each row is a tuple of the values of `fields` (field names;
    foreign keys as ids), preceded by its id when the table was made `with_ids`.

    A sourced record gets its district and source system (DemoBuild.sourced) and its timestamps
    here, and every other column its model default. `next_id()` hands out primary keys taken up
    front from the table's sequence, so that rows of other tables can point at these.
    """

    ID_BLOCK = 10000

    def __init__(
        self,
        model: type[models.Model],
        fields: Sequence[str],
        build: "DemoBuild | None" = None,
        *,
        with_ids: bool = False,
    ) -> None:
        meta = model._meta
        self.table = meta.db_table
        given = [meta.get_field(name) for name in fields]
        rest: list[Any] = []
        rest_values: list[Any] = []
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        sourced = build.sourced("", 0) if build is not None else {}
        for field in meta.concrete_fields:
            if field.primary_key or field in given:
                continue
            if field.name in ("created_at", "updated_at"):
                value = now
            elif field.name == "district":
                value = sourced["district"].pk
            elif field.name == "source_system":
                value = sourced["source_system"]
            else:
                value = field.get_db_prep_save(field.get_default(), connection)
            rest.append(field)
            rest_values.append(value)
        columns = ([meta.pk.column] if with_ids else []) + [f.column for f in given + rest]
        self.columns = ", ".join(connection.ops.quote_name(column) for column in columns)
        self.defaults = tuple(rest_values)
        self.pending: list[tuple[Any, ...]] = []
        self.key = meta.pk.column
        self._ids: Iterator[int] = iter(())
        self.last_taken = 0
        self.written = 0

    def next_id(self) -> int:
        taken = next(self._ids, None)
        if taken is None:
            self._ids = iter(self._ids_take(self.ID_BLOCK))
            taken = next(self._ids)
        return taken

    def _ids_take(self, count: int) -> list[int]:
        table, key = self.table, self.key
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [table, key, count],
                )
                return [row[0] for row in cursor.fetchall()]
            # SQLite: past the largest id in use, ever handed out (AUTOINCREMENT keeps it in
            # sqlite_sequence) and taken here before.
            quoted, quoted_key = connection.ops.quote_name(table), connection.ops.quote_name(key)
            # The names are the model's own.
            largest = (
                "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "  # noqa: S608
                f"coalesce((SELECT max({quoted_key}) FROM {quoted}), 0), %s)"
            )
            cursor.execute(largest, [table, self.last_taken])
            first = cursor.fetchone()[0] + 1
        self.last_taken = first + count - 1
        return list(range(first, first + count))

    def add(self, *values: Any) -> None:
        self.pending.append(values + self.defaults)

    @property
    def full(self) -> bool:
        return len(self.pending) >= ROWS_PER_INSERT

    def flush(self) -> None:
        if not self.pending:
            return
        table = connection.ops.quote_name(self.table)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({self.columns}) FROM STDIN") as copy:
                    for row in self.pending:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(self.pending[0]))
                cursor.executemany(
                    f"INSERT INTO {table} ({self.columns}) VALUES ({marks})",  # noqa: S608
                    self.pending,
                )
        self.written += len(self.pending)
        self.pending = []
        reset_queries()


def _source_id(build: "DemoBuild", prefix: str, number: int) -> str:
    return build.sourced(prefix, number)["source_id"]


def _weighted(rng: random.Random, options: list[tuple[str, float]]) -> str:
    return rng.choices([value for value, _ in options], weights=[w for _, w in options])[0]


def _letter(percent: float) -> tuple[str, int]:
    for floor, letter, points in LETTERS:
        if percent >= floor:
            return letter, points
    return "F", 0


def score_percent(average: float) -> float:
    """A quarter's average share of points (0..1) as a gradebook percent."""
    return 100.0 - (100.0 - SCORE_FLOOR) * (1.0 - average) ** SCORE_CURVE


def _clamped(percent: float) -> float:
    """A percent between 30 and 100, to a tenth (as stored)."""
    return round(min(100.0, max(30.0, percent)), 1)


def _two_places(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


# --- The calendar --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Quarter:
    pk: int
    start: date
    end: date


@dataclass
class _Year:
    school_year: int
    weekdays: list[date]
    closures: dict[date, str]
    days: list[date]  # instructional days, the whole year
    past: int  # days[:past] are before today
    quarters: list[_Quarter]
    ended: int  # quarters[:ended] ended before today
    day_quarter: bytes  # per instructional day: its quarter's index

    def index_of(self, day: date) -> int:
        """The index of the first instructional day on or after `day`."""
        return bisect_left(self.days, day)

    def quarter_days(self, quarter: int, entry: int) -> int:
        """Instructional days of the quarter from the index `entry` on."""
        start = max(entry, self.index_of(self.quarters[quarter].start))
        end = bisect_left(self.days, self.quarters[quarter].end + timedelta(days=1))
        return max(0, end - start)


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    day = date(year, month, 1)
    return day + timedelta(days=(weekday - day.weekday()) % 7 + 7 * (nth - 1))


def _last_monday(year: int, month: int) -> date:
    day = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return day - timedelta(days=day.weekday())


def _year_plan(build: "DemoBuild") -> _Year:
    """The school year's days, from the sessions the district step wrote."""
    assert build.district is not None  # noqa: S101 - the district step runs first
    assert build.first_day is not None  # noqa: S101
    assert build.school_year_end is not None  # noqa: S101
    sessions = list(
        AcademicSession.objects.filter(
            district=build.district,
            parent__parent_id=build.school_year_id,
            kind=SessionKind.GRADING_PERIOD,
        )
        .order_by("start_date")
        .values_list("pk", "start_date", "end_date", "parent__start_date", "parent__end_date")
    )
    quarters = [_Quarter(pk, start, end) for pk, start, end, _, _ in sessions]
    semesters = sorted({(start, end) for *_, start, end in sessions})
    end_year = build.school_year_end.year
    start_year = end_year - 1
    first, last = build.first_day, quarters[-1].end
    weekdays = [
        first + timedelta(days=n)
        for n in range((last - first).days + 1)
        if (first + timedelta(days=n)).weekday() < 5
    ]
    closures: dict[date, str] = {}

    def close(day: date, event: str) -> None:
        if first <= day <= last and day.weekday() < 5 and day not in closures:
            closures[day] = event

    close(_nth_weekday(start_year, 9, 0, 1), HOLIDAY)  # Labor Day
    thanksgiving = _nth_weekday(start_year, 11, 3, 4)
    for offset in (-1, 0, 1):
        close(thanksgiving + timedelta(days=offset), "Thanksgiving break")
    fall_end, spring_start = semesters[0][1], semesters[-1][0]
    for day in weekdays:
        if fall_end < day < spring_start:
            close(day, "Winter break")
    close(_nth_weekday(end_year, 1, 0, 3), HOLIDAY)  # Martin Luther King Jr. Day
    close(_nth_weekday(end_year, 2, 0, 3), HOLIDAY)  # Presidents' Day
    spring_break = date(end_year, 3, 23)
    spring_break += timedelta(days=-spring_break.weekday() % 7)
    for offset in range(5):
        close(spring_break + timedelta(days=offset), "Spring break")
    close(_last_monday(end_year, 5), HOLIDAY)  # Memorial Day
    if len(quarters) > 1:
        close(quarters[1].start, TEACHER_WORK_DAY)
    close(spring_start, TEACHER_WORK_DAY)
    # Then, while the year is still long, a few more days off (in this order).
    extra = [
        (_nth_weekday(start_year, 10, 0, 2), HOLIDAY),  # Indigenous Peoples' Day
        (date(start_year, 11, 11), HOLIDAY),  # Veterans Day
        (_nth_weekday(end_year, 2, 0, 3) - timedelta(days=3), TEACHER_WORK_DAY),
        (_nth_weekday(start_year, 11, 0, 1) + timedelta(days=1), TEACHER_WORK_DAY),  # Election
        (quarters[-1].start - timedelta(days=3), TEACHER_WORK_DAY),
    ]
    for day, event in extra:
        if len(weekdays) - len(closures) <= MAX_INSTRUCTIONAL_DAYS:
            break
        close(day, event)
    days = [day for day in weekdays if day not in closures]
    day_quarter = bytearray(len(days))
    for index, day in enumerate(days):
        day_quarter[index] = sum(1 for q in quarters[1:] if q.start <= day)
    return _Year(
        school_year=end_year,
        weekdays=weekdays,
        closures=closures,
        days=days,
        past=bisect_left(days, build.today),
        quarters=quarters,
        ended=sum(1 for q in quarters if q.end < build.today),
        day_quarter=bytes(day_quarter),
    )


def instructional_days(build: "DemoBuild") -> list[date]:
    """The school year's instructional days (every school keeps the same calendar), as the
    records step writes them: what later steps (lesson plans) call school days."""
    return _year_plan(build).days


def _calendars_write(build: "DemoBuild", year: _Year) -> int:
    rows = _Rows(CalendarDate, ["source_id", "school", "date", "event"], build)
    number = 0
    for school in build.schools:
        for day in year.weekdays:
            number += 1
            event = year.closures.get(day, INSTRUCTIONAL_DAY)
            rows.add(_source_id(build, "cal", number), school.pk, day, event)
        if rows.full:
            rows.flush()
    rows.flush()
    return number


# --- Students: profiles and attendance ---------------------------------------------------


class _Profiles:
    """Per slot: absence, unexcused share and tardy rates, ability and subject offsets."""

    def __init__(self, students: int) -> None:
        self.absence = array("f", bytes(4 * students))
        self.unexcused = array("f", bytes(4 * students))
        self.tardy = array("f", bytes(4 * students))
        self.ability = array("f", bytes(4 * students))
        self.offsets = [array("f", bytes(4 * students)) for _ in range(4)]

    def draw(self, rng: random.Random, slot: int, level: str) -> None:
        """A fixed number of draws, whatever the branch: the stream goes on with attendance."""
        roll, spread = rng.random(), rng.random()
        high = HIGH_ABSENCE_SHARE.get(level, 0.12)
        if roll < high:
            low_rate, high_rate = HIGH_ABSENCE
            absence = low_rate + (high_rate - low_rate) * spread**1.8
        elif roll < high + MIDDLING_ABSENCE_SHARE:
            absence = MIDDLING_ABSENCE[0] + (MIDDLING_ABSENCE[1] - MIDDLING_ABSENCE[0]) * spread
        else:
            absence = LOW_ABSENCE[0] + (LOW_ABSENCE[1] - LOW_ABSENCE[0]) * spread
        self.absence[slot] = absence
        self.unexcused[slot] = min(0.8, max(0.05, 0.15 + 1.6 * absence + rng.uniform(-0.1, 0.1)))
        self.tardy[slot] = TARDY_MAX.get(level, 0.04) * rng.random() ** 1.5
        self.ability[slot] = rng.gauss(ABILITY_MEAN, ABILITY_SD) - 40 * max(0.0, absence - 0.06)
        for offsets in self.offsets:
            offsets[slot] = rng.gauss(0, SUBJECT_SD)


def _slot_rng(build: "DemoBuild", part: str, slot: int) -> random.Random:
    return random.Random(f"trellis-demo:{build.seed}:{part}:{slot}")  # noqa: S311 - not crypto


def attendance_marks(
    rng: random.Random, absence: float, unexcused: float, tardy: float, start: int, end: int
) -> list[tuple[int, str, str]]:
    """(day index, category, reason) for the days in [start, end) that were not plain present
    days: absences in spells, tardies and early departures."""
    marks: list[tuple[int, str, str]] = []
    # The chance that a spell starts on a day, such that the share of days absent is `absence`.
    spell = absence / (MEAN_SPELL - absence * (MEAN_SPELL - 1))
    day = start
    while day < end:
        draw = rng.random()
        if draw < spell:
            length = rng.choices(SPELL_LENGTHS, weights=SPELL_WEIGHTS)[0]
            if rng.random() < unexcused:
                category = AttendanceCategory.UNEXCUSED_ABSENCE
                reason = _weighted(rng, UNEXCUSED_REASONS)
            else:
                category = AttendanceCategory.EXCUSED_ABSENCE
                reason = "Illness" if length > 1 else _weighted(rng, EXCUSED_REASONS)
            for offset in range(min(length, end - day)):
                marks.append((day + offset, category, reason))
            day += length
            continue
        if draw < spell + tardy:
            marks.append((day, AttendanceCategory.TARDY, _weighted(rng, TARDY_REASONS)))
        elif draw < spell + tardy + EARLY_DEPARTURE_RATE:
            reason = _weighted(rng, EARLY_DEPARTURE_REASONS)
            marks.append((day, AttendanceCategory.EARLY_DEPARTURE, reason))
        day += 1
    return marks


ABSENT = (AttendanceCategory.EXCUSED_ABSENCE, AttendanceCategory.UNEXCUSED_ABSENCE)
CHRONIC_SHARE = 0.10  # absent on this share of the days enrolled or more: chronically absent


@dataclass
class _QuarterTotals:
    """Per ended quarter and slot: days absent and days tardy (from the attendance rows)."""

    absent: list[array]
    tardy: list[array]


def _attendance_write(
    build: "DemoBuild", year: _Year, profiles: _Profiles
) -> tuple[_QuarterTotals, dict[str, int]]:
    totals = _QuarterTotals(
        absent=[array("H", bytes(2 * build.students)) for _ in range(year.ended)],
        tardy=[array("H", bytes(2 * build.students)) for _ in range(year.ended)],
    )
    counts: dict[str, int] = defaultdict(int)
    rows = _Rows(
        AttendanceEvent,
        ["source_id", "student", "school", "event_date", "category", "reason", "school_year"],
        build,
    )
    number = 0
    for slot in range(build.students):
        school = build.schools[build.slot_school[slot]]
        rng = _slot_rng(build, "attendance", slot)
        profiles.draw(rng, slot, school.level)
        start = year.index_of(build.entry_day(slot))
        marks = attendance_marks(
            rng,
            profiles.absence[slot],
            profiles.unexcused[slot],
            profiles.tardy[slot],
            start,
            year.past,
        )
        student_id = build.student_ids[slot]
        absences = sum(1 for _, category, _ in marks if category in ABSENT)
        if absences and absences >= CHRONIC_SHARE * (year.past - start):
            counts["chronically absent"] += 1
        for day, category, reason in marks:
            number += 1
            counts[str(category)] += 1
            quarter = year.day_quarter[day]
            if quarter < year.ended:
                if category in ABSENT:
                    totals.absent[quarter][slot] += 1
                elif category == AttendanceCategory.TARDY:
                    totals.tardy[quarter][slot] += 1
            rows.add(
                _source_id(build, "att", number),
                student_id,
                school.pk,
                year.days[day],
                str(category),
                reason,
                year.school_year,
            )
        if (slot + 1) % 20000 == 0 and slot + 1 < build.students:
            build.progress(
                f"records: attendance of {slot + 1}/{build.students} students, {number} events"
            )
        if rows.full:
            rows.flush()
    rows.flush()
    return totals, counts


# --- Last year's transcripts ---------------------------------------------------------------


@dataclass
class _Prior:
    """Per slot: last year's grade points (sum) and number of courses, for cumulative GPAs."""

    points: array
    courses: array


def _transcripts_write(
    build: "DemoBuild", profiles: _Profiles, year: _Year
) -> tuple[_Prior, int, int]:
    from demo.district import ELEMENTARY_SUBJECTS, GRADES, LEVEL_GRADES, SUBJECTS

    prior = _Prior(
        points=array("H", bytes(2 * build.students)), courses=array("B", bytes(build.students))
    )
    schools_of_level: dict[str, list[int]] = defaultdict(list)
    for school in build.schools:
        schools_of_level[school.level].append(school.pk)
    level_of_grade = {grade: level for level, grades in LEVEL_GRADES.items() for grade in grades}
    last_year = year.school_year - 1
    records = _Rows(
        AcademicRecord,
        [
            "source_id",
            "student",
            "school_year",
            "cumulative_credits_attempted",
            "cumulative_credits_earned",
            "cumulative_gpa",
        ],
        build,
        with_ids=True,
    )
    transcripts = _Rows(
        CourseTranscript,
        [
            "source_id",
            "student",
            "academic_record",
            "course",
            "school",
            "attempt_result",
            "credits_earned",
            "grade_level_when_taken",
            "final_letter_grade",
            "final_numeric_grade",
        ],
        build,
    )
    records_written = transcripts_written = 0
    for slot in range(build.students):
        grade = build.slot_grade[slot]
        if grade < 6:
            continue
        taken = grade - 1
        rng = _slot_rng(build, "transcript", slot)
        school = build.schools[build.slot_school[slot]]
        level = level_of_grade[taken]
        pick = rng.random()
        if build.slot_entry[slot]:
            school_pk = None  # transferred in this year: last year was in another district
        elif school.level == level:
            school_pk = school.pk
        else:
            options = schools_of_level[level]
            school_pk = options[int(pick * len(options))] if options else None
        student_id = build.student_ids[slot]
        subjects = SUBJECTS if taken >= 6 else SUBJECTS[:ELEMENTARY_SUBJECTS]
        high_school = taken >= 9
        record_id = records.next_id()
        points = 0
        credits = Decimal(0)
        for subject_index, (_, subject, _) in enumerate(subjects):
            noise = rng.gauss(0, QUARTER_SD)
            percent = _clamped(
                profiles.ability[slot] + profiles.offsets[subject_index][slot] + noise
            )
            letter, grade_points = _letter(percent)
            passed = percent >= PASSING
            points += grade_points
            earned = (Decimal("1.00") if passed else Decimal("0.00")) if high_school else None
            credits += earned or 0
            transcripts_written += 1
            transcripts.add(
                _source_id(build, "crt", transcripts_written),
                student_id,
                record_id,
                build.course_ids[(taken, subject)],
                school_pk,
                "Pass" if passed else "Fail",
                earned,
                GRADES[taken],
                letter,
                Decimal(f"{percent:.1f}"),
            )
        prior.points[slot] = points
        prior.courses[slot] = len(subjects)
        records_written += 1
        records.add(
            record_id,
            _source_id(build, "acr", records_written),
            student_id,
            last_year,
            Decimal(len(subjects)) if high_school else None,
            credits if high_school else None,
            _two_places(points / len(subjects)),
        )
        if transcripts.full:
            records.flush()
            transcripts.flush()
    records.flush()
    transcripts.flush()
    return prior, records_written, transcripts_written


# --- Grades and report cards -------------------------------------------------------------


def _quarter_score_averages(build: "DemoBuild", quarter: _Quarter) -> dict[tuple[int, int], float]:
    """(student id, section id) -> the average of points / max points of the student's scored
    results on the section's assessments due in the quarter: one aggregate query."""
    rows = (
        Score.objects.filter(
            district=build.district,
            item__isnull=True,
            status=ScoreStatus.SCORED,
            normalized__isnull=False,
            student_assessment__assessment__section__isnull=False,
            student_assessment__assessment__due_on__gte=quarter.start,
            student_assessment__assessment__due_on__lte=quarter.end,
        )
        .values_list("student_id", "student_assessment__assessment__section_id")
        .annotate(average=Avg("normalized"))
        .order_by()
    )
    return {(student, section): average for student, section, average in rows}


def _grades_write(
    build: "DemoBuild", year: _Year, profiles: _Profiles, totals: _QuarterTotals, prior: _Prior
) -> dict[str, int]:
    averages = [_quarter_score_averages(build, q) for q in year.quarters[: year.ended]]
    counts = {"grades": 0, "from scores": 0, "report cards": 0}
    grades = _Rows(
        Grade,
        [
            "source_id",
            "student",
            "section",
            "grading_period",
            "school_year",
            "grade_type",
            "letter_grade",
            "numeric_grade",
        ],
        build,
        with_ids=True,
    )
    cards = _Rows(
        ReportCard,
        [
            "source_id",
            "student",
            "grading_period",
            "school_year",
            "gpa_grading_period",
            "gpa_cumulative",
            "days_absent",
            "days_in_attendance",
            "days_tardy",
        ],
        build,
        with_ids=True,
    )
    card_grades = _Rows(ReportCard.grades.through, ["reportcard", "grade"])
    sections = build.slot_sections
    for slot in range(build.students if year.ended else 0):
        rng = _slot_rng(build, "grades", slot)
        student_id = build.student_ids[slot]
        entry_day = build.entry_day(slot)
        entry = year.index_of(entry_day)
        ability = profiles.ability[slot]
        total_points = prior.points[slot] * 4
        total_grades = prior.courses[slot] * 4  # in quarter grades: a course is four
        for index, quarter in enumerate(year.quarters[: year.ended]):
            noises = [rng.gauss(0, 1) for _ in sections]  # drawn whatever is graded
            if entry_day > quarter.end:
                continue
            quarter_points = 0
            grade_ids = []
            for subject_index, column in enumerate(sections):
                section_id = column[slot]
                if not section_id:
                    continue
                average = averages[index].get((student_id, section_id))
                if average is not None:
                    percent = _clamped(score_percent(average) + SCORE_SD * noises[subject_index])
                    counts["from scores"] += 1
                else:
                    offset = profiles.offsets[subject_index][slot]
                    percent = _clamped(ability + offset + QUARTER_SD * noises[subject_index])
                letter, points = _letter(percent)
                quarter_points += points
                counts["grades"] += 1
                grade_id = grades.next_id()
                grade_ids.append(grade_id)
                grades.add(
                    grade_id,
                    _source_id(build, "grd", counts["grades"]),
                    student_id,
                    section_id,
                    quarter.pk,
                    year.school_year,
                    GRADE_TYPE,
                    letter,
                    Decimal(f"{percent:.1f}"),
                )
            total_points += quarter_points
            total_grades += len(grade_ids)
            enrolled = year.quarter_days(index, entry)
            absent = totals.absent[index][slot]
            counts["report cards"] += 1
            card_id = cards.next_id()
            cards.add(
                card_id,
                _source_id(build, "rpc", counts["report cards"]),
                student_id,
                quarter.pk,
                year.school_year,
                _two_places(quarter_points / len(grade_ids)) if grade_ids else None,
                _two_places(total_points / total_grades) if total_grades else None,
                Decimal(absent),
                Decimal(enrolled - absent),
                totals.tardy[index][slot],
            )
            for grade_id in grade_ids:
                card_grades.add(card_id, grade_id)
        if card_grades.full:
            grades.flush()
            cards.flush()
            card_grades.flush()
        if (slot + 1) % 20000 == 0 and slot + 1 < build.students:
            build.progress(f"records: grades of {slot + 1}/{build.students} students")
    grades.flush()
    cards.flush()
    card_grades.flush()
    return counts


# --- Discipline ----------------------------------------------------------------------------


def _discipline_write(build: "DemoBuild", year: _Year) -> dict[str, int]:
    rng = build.rng("discipline")
    counts = {"incidents": 0, "students": 0, "actions": 0}
    principals = Staff.objects.in_bulk(list(build.principal_ids.values()))
    school_days = year.days[: year.past]
    slots_of: dict[int, range] = {}
    for cohort in build.cohorts:
        slots = slots_of.get(cohort.school)
        first = slots.start if slots else cohort.first_slot
        slots_of[cohort.school] = range(first, cohort.first_slot + cohort.students)
    incidents: list[DisciplineIncident] = []
    links: list[StudentDisciplineIncident] = []
    actions: list[tuple[DisciplineAction, int]] = []  # (action, student id)
    link_of: list[int] = []  # per link and action: the index of its incident
    action_of: list[int] = []
    for school in build.schools:
        low, high = INCIDENTS.get(school.level, (2, 4))
        planned = rng.randint(low, high)
        slots = slots_of.get(school.index, range(0))
        if not school_days or not slots:
            continue
        principal = principals.get(build.principal_ids.get(school.index, 0))
        behaviors = [b for b in BEHAVIORS if b.weight.get(school.level, 0) > 0]
        for number in range(1, planned + 1):
            behavior = rng.choices(behaviors, weights=[b.weight[school.level] for b in behaviors])[
                0
            ]
            when = rng.choice(school_days)
            roles = rng.choice(behavior.roles)
            chosen: list[int] = []
            for _ in range(20 * len(roles)):
                if len(chosen) == len(roles):
                    break
                slot = rng.choice(slots)
                if slot not in chosen and build.entry_day(slot) <= when:
                    chosen.append(slot)
            if not chosen:
                continue
            roles = roles[: len(chosen)]
            identifier = f"{school.number}-{year.school_year}-{number:03d}"
            counts["incidents"] += 1
            incident = DisciplineIncident(
                school_id=school.pk,
                incident_identifier=identifier,
                incident_date=when,
                incident_time=time(rng.randint(8, 14), rng.randrange(0, 60, 5)),
                location=rng.choice(behavior.locations),
                behaviors=[behavior.name],
                weapons=[],
                reported_to_law_enforcement=False,
                reporter_description="Staff",
                reporter_name=principal.display_name if principal else "",
                description=rng.choice(behavior.descriptions),
                reported_by=principal,
                **build.sourced("dsi", counts["incidents"]),
            )
            incidents.append(incident)
            next_day = year.index_of(when) + 1
            action_day = year.days[next_day] if next_day < year.past else when
            for position, (slot, role) in enumerate(zip(chosen, roles, strict=True)):
                counts["students"] += 1
                links.append(
                    StudentDisciplineIncident(
                        student_id=build.student_ids[slot],
                        participation=role,
                        behaviors=[behavior.name] if role == PERPETRATOR else [],
                        **build.sourced("sdi", counts["students"]),
                    )
                )
                link_of.append(len(incidents) - 1)
                if role != PERPETRATOR:
                    continue
                disciplines, length = rng.choice(behavior.actions[school.level])
                days = Decimal(rng.randint(*length)) if length else None
                counts["actions"] += 1
                actions.append(
                    (
                        DisciplineAction(
                            action_identifier=f"{identifier}-{position + 1}",
                            action_date=action_day,
                            disciplines=disciplines,
                            length_days=days,
                            actual_length_days=days,
                            assigned_by=principal,
                            responsibility_school_id=school.pk,
                            assignment_school_id=school.pk,
                            **build.sourced("dsa", counts["actions"]),
                        ),
                        build.student_ids[slot],
                    )
                )
                action_of.append(len(incidents) - 1)
    _bulk(DisciplineIncident, incidents)
    for link, position in zip(links, link_of, strict=True):
        link.incident = incidents[position]
    for (action, _), position in zip(actions, action_of, strict=True):
        action.incident = incidents[position]
    _bulk(StudentDisciplineIncident, links)
    _bulk(DisciplineAction, [action for action, _ in actions])
    through = DisciplineAction.students.through
    _bulk(
        through,
        [through(disciplineaction_id=action.pk, student_id=student) for action, student in actions],
    )
    return counts


# --- The step ------------------------------------------------------------------------------


def seed_records(build: "DemoBuild") -> None:
    """The seed step: calendars, attendance, grades, report cards, transcripts, discipline."""
    assert build.district is not None  # noqa: S101 - the district step runs first
    started = monotonic()
    year = _year_plan(build)
    calendar_rows = _calendars_write(build, year)
    closed = len(year.weekdays) - len(year.days)
    build.progress(
        f"records: {calendar_rows} calendar dates for {len(build.schools)} schools "
        f"({len(year.days)} instructional days, {closed} weekdays closed, "
        f"{year.past} school days so far)"
    )

    profiles = _Profiles(build.students)
    totals, attendance = _attendance_write(build, year, profiles)
    events = sum(attendance[category] for category in AttendanceCategory.values)
    absences = sum(attendance[category] for category in ABSENT)
    chronic = 100 * attendance["chronically absent"] / build.students
    build.progress(
        f"records: {events} attendance events ({absences} absences, "
        f"{attendance[AttendanceCategory.TARDY]} tardies, "
        f"{attendance[AttendanceCategory.EARLY_DEPARTURE]} early departures; "
        f"{chronic:.1f}% of students chronically absent so far)"
    )

    prior, records, transcripts = _transcripts_write(build, profiles, year)
    build.progress(
        f"records: last year's academic records of {records} students, {transcripts} courses"
    )

    grades = _grades_write(build, year, profiles, totals, prior)
    build.progress(
        f"records: {grades['grades']} grades for {year.ended} ended grading periods "
        f"({grades['from scores']} from scores), {grades['report cards']} report cards"
    )

    discipline = _discipline_write(build, year)
    build.progress(
        f"records: {discipline['incidents']} discipline incidents "
        f"({discipline['students']} students involved, {discipline['actions']} actions)"
    )
    build.progress(
        f"records done in {monotonic() - started:.1f}s: {calendar_rows} calendar dates, "
        f"{events} attendance events, "
        f"{grades['grades']} grades, {grades['report cards']} report cards, {records} academic "
        f"records with {transcripts} course transcripts, {discipline['incidents']} incidents"
    )

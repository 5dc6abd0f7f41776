"""Writes of the rollups: rebuild a district from the raw data, recount the groups some students
belong to, and the queue of students waiting for that (rollups.tasks runs them).

    report = rollups_rebuild(district_id)                   # nightly, imports: every row, drift
    rollups_update_students(student_ids, months_from=day)   # their schools' grades and sections
    rollups_pending_add(student_ids=ids, since=day)         # the estimates' notice, after commit
    rollups_flush()                                         # the queue, coalesced

Attendance and engagement (SchoolEngagementDay) is counted for one day, today, a whole school at
a time: by the rebuild (every school), by an update (each school the students are members of)
and by the nightly catch-up (a new day: every school, since chronic absence moves with the
days enrolled). Past days are kept as a short history (ENGAGEMENT_RECENT_DAYS, then the last day
counted in each month), pruned by the rebuild.

Every write holds the district's row lock (FOR NO KEY UPDATE: inserts that refer to the district
are not blocked) for one school at a time, reading the raw data under it, so that a rebuild and
an update never interleave their reads and writes; each school's rows are replaced in one
transaction, and only the rows whose counts changed are written.
"""

import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import TypeVar

from django.db import transaction
from django.db.models import Min, Q, QuerySet
from django.utils import timezone

from assessments.models import MasteryEstimate
from rollups.counting import (
    Counted,
    Month,
    engagement_count,
    engagement_facts,
    month_first,
    overlapping,
    rules_for,
    school_count,
)
from rollups.models import (
    RollupPending,
    RollupRebuild,
    SchoolEngagementDay,
    SchoolStandardMonth,
    SchoolSubjectMonth,
    SectionStandardMonth,
)
from rollups.signals import rollups_changed_on_commit
from students.models import (
    District,
    Enrollment,
    ProgramParticipation,
    School,
    Section,
    Student,
    StudentSchoolMembership,
)

logger = logging.getLogger(__name__)

WRITE_BATCH = 2000
READ_CHUNK = 5000
# The flush waits for the students' own estimates still being recomputed, this long at most.
FLUSH_WAIT = timedelta(seconds=3)
# A district with this many estimates pending is recomputing wholesale (a model refit): the
# flush waits for it to finish, this long at most, and then recounts the district once.
STORM_ESTIMATES = 2000
STORM_WAIT = timedelta(minutes=30)
# Students waiting at once beyond which a district is recounted whole rather than by group.
RECOUNT_MIN_STUDENTS = 500
RECOUNT_SHARE = 0.25

TABLES = ("school_standard", "school_subject", "section_standard", "school_engagement")
# SchoolEngagementDay keeps every day counted this recently, and before that the last day
# counted in each month (a month-end history of a year in about 20 days per school).
ENGAGEMENT_RECENT_DAYS = 7


@dataclass
class TableDrift:
    """Rows a recount added (counted, not stored), removed (stored, counting nobody now) and
    changed (stored with other counts)."""

    added: int = 0
    removed: int = 0
    changed: int = 0

    @property
    def total(self) -> int:
        return self.added + self.removed + self.changed

    def add(self, other: "TableDrift") -> None:
        self.added += other.added
        self.removed += other.removed
        self.changed += other.changed

    def as_json(self) -> dict[str, int]:
        return {"added": self.added, "removed": self.removed, "changed": self.changed}


@dataclass(frozen=True)
class RebuildReport:
    district_id: int
    reason: str
    as_of: date
    months: tuple[date, ...]
    schools: int
    rows: int  # rows stored after the rebuild: the year's months, and today's engagement
    drift_by_table: dict[str, TableDrift]
    seconds: float
    rebuild_id: int | None = None

    @property
    def drift(self) -> int:
        """Rows that differed from those stored: 0 when the incremental updates kept up."""
        return sum(table.total for table in self.drift_by_table.values())


@dataclass(frozen=True)
class UpdateReport:
    students: int = 0
    schools: int = 0
    groups: int = 0  # (school, grade) groups recounted
    sections: int = 0
    rows_changed: int = 0


@dataclass(frozen=True)
class FlushReport:
    students: int = 0
    districts_recounted: int = 0
    deferred: bool = False  # students left waiting: the flush should run again shortly
    updates: list[UpdateReport] = field(default_factory=list)


def _district_lock(district_id: int) -> None:
    """Serialize rollup writers of a district (a no-op on SQLite, whose writers are serialized
    by its IMMEDIATE transactions)."""
    list(
        District.objects.select_for_update(no_key=True)
        .filter(pk=district_id)
        .values_list("pk", flat=True)
    )


def _chunks(ids: Sequence[int], size: int = READ_CHUNK) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


LEVEL_FIELDS = ("level_1", "level_2", "level_3", "level_4")
STANDARD_VALUES = ("students_measured", "students_proficient", *LEVEL_FIELDS)
SUBJECT_VALUES = (
    "students_measured",
    "students_proficient_in_subject",
    "pairs_measured",
    "pairs_proficient",
    *LEVEL_FIELDS,
)


def _apply(
    district_id: int,
    school_id: int,
    months: Sequence[Month],
    counted: Counted,
    *,
    grades: set[str] | None,
    section_ids: set[int] | None,
) -> dict[str, TableDrift]:
    """Store a school's counted rows for these months, grades (all when None) and sections
    (all of the school when None): only what differs is written."""
    firsts = [month.first for month in months]
    drift: dict[str, TableDrift] = {}

    school_rows = SchoolStandardMonth.objects.filter(school_id=school_id, month__in=firsts)
    subject_rows = SchoolSubjectMonth.objects.filter(school_id=school_id, month__in=firsts)
    if grades is not None:
        school_rows = school_rows.filter(grade_level__in=sorted(grades))
        subject_rows = subject_rows.filter(grade_level__in=sorted(grades))
    if grades is None or grades:
        drift["school_standard"] = _diff_write(
            SchoolStandardMonth,
            school_rows,
            counted.school,
            ("grade_level", "subgroup", "standard_id", "month"),
            STANDARD_VALUES,
            {"district_id": district_id, "school_id": school_id},
        )
        drift["school_subject"] = _diff_write(
            SchoolSubjectMonth,
            subject_rows,
            counted.subject,
            ("grade_level", "subgroup", "subject", "month"),
            SUBJECT_VALUES,
            {"district_id": district_id, "school_id": school_id},
        )
    if section_ids is None:
        # The school's rows, and any row of its sections stored under another school.
        section_rows = SectionStandardMonth.objects.filter(
            Q(school_id=school_id)
            | Q(section_id__in=Section.objects.filter(school_id=school_id).values("pk")),
            month__in=firsts,
        )
    else:
        section_rows = SectionStandardMonth.objects.filter(
            section_id__in=sorted(section_ids), month__in=firsts
        )
    if section_ids is None or section_ids:
        drift["section_standard"] = _diff_write(
            SectionStandardMonth,
            section_rows,
            {(school_id, *key): values for key, values in counted.section.items()},
            ("school_id", "section_id", "standard_id", "month"),
            STANDARD_VALUES,
            {"district_id": district_id},
        )
    if any(table.total for table in drift.values()):
        rollups_changed_on_commit(district_id)
    return drift


ENGAGEMENT_VALUES = ("students", "chronically_absent", "falling_two_subjects")


def _apply_engagement(district_id: int, school_id: int, day: date) -> TableDrift:
    """Recount a school's engagement rows of `day` from the raw records (five queries) and store
    what differs; rollups_changed when anything did."""
    counted = engagement_count(engagement_facts(school_id, day))
    drift = _diff_write(
        SchoolEngagementDay,
        SchoolEngagementDay.objects.filter(school_id=school_id, day=day),
        dict(counted),
        ("grade_level", "subgroup"),
        ENGAGEMENT_VALUES,
        {"district_id": district_id, "school_id": school_id, "day": day},
    )
    if drift.total:
        rollups_changed_on_commit(district_id)
    return drift


def _prune_engagement(district_id: int, today: date) -> int:
    """Drop the engagement rows of days older than ENGAGEMENT_RECENT_DAYS, except each
    school's last day counted in each month. Returns the rows deleted."""
    before = today - timedelta(days=ENGAGEMENT_RECENT_DAYS)
    last_of_month: dict[tuple[int, date], date] = {}
    # The days of each school counted (about 20 each once pruned: a small read).
    days: list[tuple[int, date]] = list(
        SchoolEngagementDay.objects.filter(district_id=district_id)
        .order_by()
        .values_list("school_id", "day")
        .distinct()
    )
    for school_id, day in days:
        key = (school_id, month_first(day))
        if last_of_month.get(key, day) <= day:
            last_of_month[key] = day
    dropped: dict[int, list[date]] = defaultdict(list)
    for school_id, day in days:
        if day < before and last_of_month[(school_id, month_first(day))] != day:
            dropped[school_id].append(day)
    deleted = 0
    for school_id, school_days in sorted(dropped.items()):
        gone, _ = SchoolEngagementDay.objects.filter(
            school_id=school_id, day__in=sorted(school_days)
        ).delete()
        deleted += gone
    return deleted


_Row = TypeVar(
    "_Row", SchoolStandardMonth, SchoolSubjectMonth, SectionStandardMonth, SchoolEngagementDay
)


def _diff_write(
    model: type[_Row],
    stored_rows: QuerySet[_Row],
    counted: dict[tuple, list[int]],
    key_fields: Sequence[str],
    value_fields: Sequence[str],
    fixed: dict[str, object],
) -> TableDrift:
    """Make the stored rows equal the counted ones (key → values): delete those that count
    nobody now or count otherwise, insert the new and the changed. Returns what differed."""
    drift = TableDrift()
    kept: set[tuple] = set()
    to_delete: list[int] = []
    for row in stored_rows.order_by().values_list("pk", *key_fields, *value_fields):
        key = tuple(row[1 : 1 + len(key_fields)])
        values = list(row[1 + len(key_fields) :])
        new_values = counted.get(key)
        if new_values is None or key in kept:
            drift.removed += 1
            to_delete.append(row[0])
        elif new_values != values:
            drift.changed += 1
            to_delete.append(row[0])
        else:
            kept.add(key)
    for chunk in _chunks(to_delete):
        model.objects.filter(pk__in=chunk).delete()
    fresh: list[_Row] = []
    for key, values in counted.items():
        if key in kept:
            continue
        fresh.append(
            model(
                **fixed,
                **dict(zip(key_fields, key, strict=True)),
                **dict(zip(value_fields, values, strict=True)),
            )
        )
    drift.added = len(fresh) - drift.changed
    model.objects.bulk_create(fresh, batch_size=WRITE_BATCH)
    return drift


def _merge(total: dict[str, TableDrift], part: dict[str, TableDrift]) -> None:
    for table, drift in part.items():
        total.setdefault(table, TableDrift()).add(drift)


def rollups_rebuild(
    district_id: int, *, today: date | None = None, reason: str = RollupRebuild.Reason.MANUAL
) -> RebuildReport:
    """Recount every rollup row of the district's school year from the raw data, a school at a
    time (memory bounded by a school), each school's rows replaced in one transaction; rows of
    schools or sections no longer active go. Reports the drift (rows that differed from what was
    stored) and keeps the report as a RollupRebuild row. Months before the school year are left
    as they are (last year's, for comparison). Engagement is counted for `today`, and its older
    days pruned (_prune_engagement)."""
    started_at = timezone.now()
    started = time.monotonic()
    today = today or timezone.localdate()
    rules = rules_for(district_id, today)
    firsts = [month.first for month in rules.months]
    school_ids = list(
        School.objects.filter(district_id=district_id, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    drift: dict[str, TableDrift] = {table: TableDrift() for table in TABLES}
    for school_id in school_ids:
        with transaction.atomic():
            _district_lock(district_id)
            counted = school_count(rules, school_id)
            _merge(
                drift,
                _apply(
                    district_id, school_id, rules.months, counted, grades=None, section_ids=None
                ),
            )
            drift["school_engagement"].add(_apply_engagement(district_id, school_id, today))
    with transaction.atomic():
        _district_lock(district_id)
        for table, model in (
            ("school_standard", SchoolStandardMonth),
            ("school_subject", SchoolSubjectMonth),
            ("section_standard", SectionStandardMonth),
        ):
            gone, _ = (
                model.objects.filter(district_id=district_id, month__in=firsts)
                .exclude(school_id__in=school_ids)
                .delete()
            )
            drift[table].removed += gone
            if gone:
                rollups_changed_on_commit(district_id)
        gone, _ = (
            SchoolEngagementDay.objects.filter(district_id=district_id, day=today)
            .exclude(school_id__in=school_ids)
            .delete()
        )
        drift["school_engagement"].removed += gone
        if gone:
            rollups_changed_on_commit(district_id)
        _prune_engagement(district_id, today)
        rows = (
            sum(
                model.objects.filter(district_id=district_id, month__in=firsts).count()
                for model in (SchoolStandardMonth, SchoolSubjectMonth, SectionStandardMonth)
            )
            + SchoolEngagementDay.objects.filter(district_id=district_id, day=today).count()
        )
        report = RebuildReport(
            district_id=district_id,
            reason=str(reason),
            as_of=today,
            months=tuple(firsts),
            schools=len(school_ids),
            rows=rows,
            drift_by_table=drift,
            seconds=time.monotonic() - started,
        )
        stored = RollupRebuild.objects.create(
            district_id=district_id,
            reason=reason,
            as_of=today,
            started_at=started_at,
            finished_at=timezone.now(),
            schools=len(school_ids),
            rows=rows,
            drift=report.drift,
            drift_detail={table: value.as_json() for table, value in drift.items()},
        )
    return replace(report, rebuild_id=stored.pk)


def _plan_for(
    student_ids: Sequence[int], district_id: int, months: Sequence[Month]
) -> dict[int, tuple[set[str], set[int]]]:
    """The groups these students count in over these months, by school: (grades, sections).
    Memberships and enrollments whatever their active flag, so that a row just deactivated
    still has its old group recounted."""
    first_day, last_day = months[0].day, months[-1].day
    in_span = overlapping(first_day, last_day)
    plan: dict[int, tuple[set[str], set[int]]] = defaultdict(lambda: (set(), set()))
    for chunk in _chunks(student_ids):
        for school_id, grade in (
            StudentSchoolMembership.objects.filter(
                in_span,
                student_id__in=chunk,
                school__district_id=district_id,
                school__is_active=True,
            )
            .order_by()
            .values_list("school_id", "grade_level")
            .distinct()
        ):
            plan[school_id][0].add(grade)
        for school_id, section_id in (
            Enrollment.objects.filter(
                in_span,
                student_id__in=chunk,
                section__district_id=district_id,
                section__is_active=True,
                section__school__is_active=True,
            )
            .order_by()
            .values_list("section__school_id", "section_id")
            .distinct()
        ):
            plan[school_id][1].add(section_id)
    return dict(plan)


def rollups_update_students(
    student_ids: Iterable[int],
    *,
    today: date | None = None,
    months_from: date | None = None,
    engagement: bool = True,
) -> UpdateReport:
    """Recount exactly the groups these students count in (each grade of a school they belong
    to, each section they are enrolled in), reading only those groups' students, so that the
    rows equal what a rebuild would store. Months: from `months_from`'s on (a change known to
    leave earlier months alone, as a new estimate dated then) and always the current one; every
    month of the year when None (a change of records, which are dated). With `engagement`, the
    engagement rows of today of every school they are members of are recounted too (the whole
    school's: one school's recount is five queries)."""
    ids = sorted(set(student_ids))
    if not ids:
        return UpdateReport()
    today = today or timezone.localdate()
    by_district: dict[int, list[int]] = defaultdict(list)
    for chunk in _chunks(ids):
        for district_id, student_id in Student.objects.filter(pk__in=chunk).values_list(
            "district_id", "pk"
        ):
            by_district[district_id].append(student_id)
    schools = groups = sections = changed = 0
    for district_id, students in sorted(by_district.items()):
        rules = rules_for(district_id, today)
        months = rules.months_from(months_from)
        plan = _plan_for(students, district_id, months)
        for school_id, (grades, section_ids) in sorted(plan.items()):
            with transaction.atomic():
                _district_lock(district_id)
                counted = school_count(
                    rules, school_id, months=months, grades=grades, section_ids=section_ids
                )
                drift = _apply(
                    district_id,
                    school_id,
                    months,
                    counted,
                    grades=grades,
                    section_ids=section_ids,
                )
                if engagement and grades:
                    drift["school_engagement"] = _apply_engagement(district_id, school_id, today)
            schools += 1
            groups += len(grades)
            sections += len(section_ids)
            changed += sum(table.total for table in drift.values())
    return UpdateReport(
        students=len(ids), schools=schools, groups=groups, sections=sections, rows_changed=changed
    )


def rollups_catch_up(district_id: int, *, since: date, today: date | None = None) -> int:
    """Bring the rows up to `today` from `since`, the day they were counted as of: what the
    passing of days changes without any write. A month that closed meanwhile is recounted
    (its day is its last now, and its levels come from history), with the new one; within a
    month, the students whose memberships, programmes or enrollments began or ended meanwhile
    are recounted. Engagement is counted for the new day in every school (chronic absence
    moves with the days enrolled). The nightly rebuild runs this first, so that its drift counts
    only what the updates missed. Returns how many students (or, after a month closed,
    schools)."""
    today = today or timezone.localdate()
    if since >= today:
        return 0
    for school_id in (
        School.objects.filter(district_id=district_id, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    ):
        with transaction.atomic():
            _district_lock(district_id)
            _apply_engagement(district_id, school_id, today)
    if month_first(since) != month_first(today):
        rules = rules_for(district_id, today)
        months = rules.months_from(since)
        school_ids = list(
            School.objects.filter(district_id=district_id, is_active=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for school_id in school_ids:
            with transaction.atomic():
                _district_lock(district_id)
                counted = school_count(rules, school_id, months=months)
                _apply(district_id, school_id, months, counted, grades=None, section_ids=None)
        return len(school_ids)
    crossed = (Q(begin_date__gt=since) & Q(begin_date__lte=today)) | (
        Q(end_date__gte=since) & Q(end_date__lt=today)
    )
    student_ids: set[int] = set()
    for model in (StudentSchoolMembership, ProgramParticipation, Enrollment):
        student_ids.update(
            model.objects.filter(crossed, district_id=district_id, is_active=True)
            .order_by()
            .values_list("student_id", flat=True)
            .distinct()
        )
    rollups_update_students(student_ids, today=today, months_from=today, engagement=False)
    return len(student_ids)


def rollups_pending_add(*, student_ids: Iterable[int], since: date) -> bool:
    """Queue students for a recount from `since` on. True when the queue was empty before (the
    caller then sends the flush; otherwise one is on its way)."""
    ids = sorted(set(student_ids))
    if not ids:
        return False
    was_empty = not RollupPending.objects.exists()
    RollupPending.objects.bulk_create(
        [RollupPending(student_id=pk, since=since) for pk in ids], batch_size=WRITE_BATCH
    )
    return was_empty


def district_recomputing_wholesale(district_id: int) -> bool:
    """The district has at least STORM_ESTIMATES estimates pending: a bulk import's or a model
    refit's recompute is under way, and counting its students now would be counted again."""
    pending = MasteryEstimate.objects.filter(
        pending_since__isnull=False, student__district_id=district_id
    )[:STORM_ESTIMATES].count()
    return pending >= STORM_ESTIMATES


def _recount_whole(district_id: int, students: int) -> bool:
    """So many students waiting that recounting the district costs less than their groups."""
    if students < RECOUNT_MIN_STUDENTS:
        return False
    active = Student.objects.filter(district_id=district_id, is_active=True).count()
    return students >= RECOUNT_SHARE * active


def rollups_flush(*, wait: bool = True, today: date | None = None) -> FlushReport:
    """Recount the groups of every queued student, a district at a time, in one batch: many
    small changes cost one recount of each group. With `wait`, a district whose queued students'
    estimates are still being recomputed waits (FLUSH_WAIT at most since the oldest was queued;
    STORM_WAIT while the district recomputes wholesale), so that a batch of recomputes is
    counted once; the report says `deferred` and the caller runs the flush again shortly. A
    district with many students queued is recounted whole (rollups_rebuild)."""
    now = timezone.now()
    # Each district's oldest queued time first: a district still recomputing wholesale waits
    # without its queue being read (during a bulk recompute the flush runs every second, and
    # the queue grows to every student of the district).
    oldest_of = dict(
        RollupPending.objects.values_list("student__district_id")
        .annotate(oldest=Min("created_at"))
        .order_by()
    )
    deferred = False
    students = recounted = 0
    updates: list[UpdateReport] = []
    for district_id, oldest in sorted(oldest_of.items()):
        waited = now - oldest
        if wait and waited < STORM_WAIT and district_recomputing_wholesale(district_id):
            deferred = True
            continue
        rows = list(
            RollupPending.objects.filter(student__district_id=district_id)
            .order_by("pk")
            .values_list("pk", "student_id", "since")
        )
        if not rows:
            continue
        student_ids = sorted({row[1] for row in rows})
        if wait:
            if waited < FLUSH_WAIT and any(
                MasteryEstimate.objects.filter(
                    pending_since__isnull=False, student_id__in=chunk
                ).exists()
                for chunk in _chunks(student_ids)
            ):
                deferred = True
                continue
        with transaction.atomic():
            claimed = list(
                RollupPending.objects.select_for_update(skip_locked=True)
                .filter(pk__in=[row[0] for row in rows])
                .values_list("pk", "student_id", "since")
            )
            for chunk in _chunks([row[0] for row in claimed]):
                RollupPending.objects.filter(pk__in=chunk).delete()
        if not claimed:
            continue
        claimed_students = sorted({row[1] for row in claimed})
        since = min(row[2] for row in claimed)
        try:
            if _recount_whole(district_id, len(claimed_students)):
                rollups_rebuild(district_id, today=today, reason=RollupRebuild.Reason.UPDATE)
                recounted += 1
            else:
                updates.append(
                    rollups_update_students(claimed_students, today=today, months_from=since)
                )
        except Exception:
            # Put them back for the next flush (the task retries), then fail loudly.
            RollupPending.objects.bulk_create(
                [RollupPending(student_id=pk, since=day) for _, pk, day in claimed],
                batch_size=WRITE_BATCH,
            )
            raise
        students += len(claimed_students)
    return FlushReport(
        students=students, districts_recounted=recounted, deferred=deferred, updates=updates
    )

"""Reads behind a school's pages (its principal and its district's staff): grade levels, sections
and teachers, and the dated exceptions given at the school."""

import dataclasses
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, Subquery, Sum
from django.utils import timezone

from accounts.access import AnyUser, students_visible_to
from accounts.models import MembershipSource, Role, RoleMembership
from dashboard.selectors.periods import ReportPeriods
from dashboard.selectors.totals import (
    PAIRS,
    PAIRS_PROFICIENT,
    PROFICIENT_STUDENTS,
    counts_cell,
    grade_ref,
    grade_table,
    school_ref,
    school_totals,
)
from rollups.counting import Month as RollupMonth
from rollups.counting import (
    engagement_facts,
    levels_by_month,  # the rollups' own reading of levels, so a list counts as its count
    month_first,
    month_last,
    rules_for,
)
from rollups.models import (
    ALL_SUBJECTS,
    WHOLE_SCHOOL,
    SchoolEngagementDay,
    SchoolStandardMonth,
    SchoolSubjectMonth,
)
from rollups.selectors import (
    Counts,
    RollupRow,
    SchoolRollup,
    rollup_subjects,
    school_rollup,
    summed,
)
from rollups.subgroups import (
    ALL,
    subgroup_label,
    subgroup_sort_key,
)
from rollups.suppression import (
    NO_DATA,
    NOT_SHOWN,
    hidden_text,
    percent_value,
    rule_sentence,
    shown,
    shown_percent,
    suppress_tables,
)
from rollups.suppression import Cell as SuppressedCell
from rollups.suppression import Table as SuppressionTable
from students.attendance import (
    chronic_absence_rule,
)
from students.models import (
    GRADE_LEVELS,
    School,
    Section,
    SectionAssignment,
    Staff,
    Student,
    StudentSchoolMembership,
    grade_label,
    in_force,
)


@dataclass(frozen=True)
class GradeLevelCount:
    code: str
    label: str
    students: int
    # The count as it reads: "fewer than 10" below the district's minimum group size.
    students_shown: str


@dataclass(frozen=True)
class SchoolOverview:
    school: School
    grade_levels: list[GradeLevelCount]
    sections: Sequence[Section]
    teachers: Sequence[Staff]


def school_overview(school: School) -> SchoolOverview:
    counts = (
        StudentSchoolMembership.objects.filter(in_force(), school=school, student__is_active=True)
        .values("grade_level")
        .annotate(students=Count("student_id", distinct=True))
        .order_by("grade_level")
    )
    sections = list(
        Section.objects.filter(school=school, is_active=True)
        .select_related("course")
        .annotate(student_count=Count("enrollments", filter=in_force("enrollments__")))
        .prefetch_related(
            Prefetch(
                "assignments",
                queryset=SectionAssignment.objects.current().select_related("staff"),
                to_attr="current_assignments",
            )
        )
        .order_by("title")
    )
    teachers = list(
        Staff.objects.filter(
            is_active=True,
            section_assignments__section__school=school,
            section_assignments__is_active=True,
        )
        .annotate(section_count=Count("section_assignments", distinct=True))
        .order_by("last_name", "first_name")
        .distinct()
    )
    # Enrolment counts are aggregate cells too: below the minimum group size they read "fewer
    # than 10" (no totals are shown beside them, so nothing else needs hiding).
    min_n = school.district.min_group_size
    grade_rows = list(counts)
    grade_counts = counts_shown([row["students"] for row in grade_rows], min_n)
    for section, shown_count in zip(
        sections, counts_shown([s.student_count for s in sections], min_n), strict=True
    ):
        setattr(section, "student_count_shown", shown_count)  # noqa: B010  # beside the annotation
    return SchoolOverview(
        school=school,
        grade_levels=[
            GradeLevelCount(
                code=row["grade_level"],
                label=grade_label(row["grade_level"]),
                students=row["students"],
                students_shown=shown_count,
            )
            for row, shown_count in zip(grade_rows, grade_counts, strict=True)
        ],
        sections=sections,
        teachers=teachers,
    )


def counts_shown(counts: Sequence[int], min_n: int) -> list[str]:
    """Each count as a page shows it, through the rollups' suppression (primary rule only: the
    counts stand alone, without a total)."""
    if not counts:
        return []
    rows = tuple(range(len(counts)))
    table = SuppressionTable(
        rows=rows,
        columns=("students",),
        cells={(row, "students"): SuppressedCell(n=count) for row, count in enumerate(counts)},
    )
    (stamped,) = suppress_tables([table], min_n=min_n)
    return [shown(stamped.cells[row, "students"]) for row in rows]


def school_substitutes(school: School) -> list[RoleMembership]:
    """Dated exceptions at the school that have not ended: section memberships given by hand to
    teachers, with who has them, the section, and who granted them."""
    return list(
        RoleMembership.objects.filter(
            Q(end_date__isnull=True) | Q(end_date__gte=timezone.localdate()),
            role=Role.TEACHER,
            source=MembershipSource.MANUAL,
            section__school=school,
        )
        .select_related("user", "section", "granted_by")
        .order_by("begin_date", "section__title", "user__email")
    )


# --- The school report (issue 19): proficiency and growth read from the rollups, suppressed. ---

# The page's tables, in the order they are shown; `?table=` of the CSV export names one.
REPORT_TABLES = ("grades", "subjects", "sections", "clusters", "standards")
# The tables the CSV export offers: those, and the subgroups against the rest of the school.
EXPORT_TABLES = (*REPORT_TABLES, "subgroups")


@dataclass(frozen=True)
class ReportRow:
    """One line of a report table: its cells now and at the start of the term (suppressed)."""

    key: str | int
    label: str
    code: str
    now: SuppressedCell
    start: SuppressedCell | None
    last_year: SuppressedCell | None = None  # the same month a year before, where held
    detail: str = ""  # a section's teachers, a standard's subject
    cluster_id: int | None = None

    @property
    def students(self) -> str:
        return shown(self.now)

    @property
    def hidden(self) -> bool:
        return self.now.hidden

    @property
    def has_proficient_students(self) -> bool:
        return PROFICIENT_STUDENTS in self.now.numerators

    @property
    def proficient_students(self) -> str:
        if not self.has_proficient_students:
            return "—"
        if self.now.hidden:
            return NOT_SHOWN
        return (
            f"{shown(self.now, PROFICIENT_STUDENTS)} "
            f"({shown_percent(self.now, PROFICIENT_STUDENTS)})"
        )

    @property
    def proficiency(self) -> str:
        return _share(self.now)

    @property
    def proficiency_start(self) -> str:
        return "—" if self.start is None else _share(self.start)

    @property
    def proficiency_last_year(self) -> str:
        return "—" if self.last_year is None else _share(self.last_year)

    @property
    def growth(self) -> str:
        """The change in proficiency since the term's start, in percentage points."""
        if self.start is None:
            return "—"
        if self.now.hidden or self.start.hidden:
            return NOT_SHOWN
        before = share_value(self.start)
        after = share_value(self.now)
        if before is None or after is None:
            return NO_DATA
        change = after - before
        return points_text(change) if change else "no change"


def points_text(change: Decimal | int) -> str:
    """A signed change in percentage points: "+1 point", "-12 points", "+0 points"."""
    return f"{change:+} point{'' if abs(change) == 1 else 's'}"


def share_value(cell: SuppressedCell) -> Decimal | None:
    if cell.hidden or not cell.numerators.get(PAIRS):
        return None
    return percent_value(cell, PAIRS_PROFICIENT, denominator=PAIRS)


def _share(cell: SuppressedCell) -> str:
    if cell.hidden:
        return NOT_SHOWN
    if not cell.numerators.get(PAIRS):
        return NO_DATA
    return shown_percent(cell, PAIRS_PROFICIENT, denominator=PAIRS)


@dataclass(frozen=True)
class Gap:
    """A subgroup's gap to the rest of the school in students proficient, in percentage points
    (the rest's share minus the subgroup's), and its standard error."""

    points: float
    standard_error: float


def proportion_gap(
    group_proficient: int, group_students: int, rest_proficient: int, rest_students: int
) -> Gap | None:
    """The gap between two shares and the standard error of their difference: the square root of
    p1(1 - p1)/n1 + p2(1 - p2)/n2, in percentage points. None when either group is empty."""
    if group_students <= 0 or rest_students <= 0:
        return None
    group_share = group_proficient / group_students
    rest_share = rest_proficient / rest_students
    variance = (
        group_share * (1 - group_share) / group_students
        + rest_share * (1 - rest_share) / rest_students
    )
    return Gap(points=100 * (rest_share - group_share), standard_error=100 * math.sqrt(variance))


def gap_change_label(now: Gap, start: Gap) -> str:
    """Widening or narrowing only when the gap's change exceeds its standard error (the two
    months' errors combined as independent: the square root of the sum of their squares);
    steady otherwise."""
    change = now.points - start.points
    error = math.sqrt(now.standard_error**2 + start.standard_error**2)
    if abs(change) <= error or abs(now.points) == abs(start.points):
        return "steady"
    return "widening" if abs(now.points) > abs(start.points) else "narrowing"


@dataclass(frozen=True)
class SubgroupRow:
    """A subgroup against the rest of the school (or grade): its cells now and at the term's
    start, suppressed, and the gap in students proficient when every cell is shown."""

    key: str
    label: str
    group: SuppressedCell
    rest: SuppressedCell
    group_start: SuppressedCell | None
    rest_start: SuppressedCell | None

    @staticmethod
    def _students_share(cell: SuppressedCell) -> str:
        if cell.hidden:
            return hidden_text(cell)
        if not cell.n:
            return NO_DATA
        return f"{shown(cell)} ({shown_percent(cell, PROFICIENT_STUDENTS)} proficient)"

    @property
    def group_text(self) -> str:
        return self._students_share(self.group)

    @property
    def rest_text(self) -> str:
        return self._students_share(self.rest)

    @staticmethod
    def _gap(group: SuppressedCell | None, rest: SuppressedCell | None) -> Gap | None:
        if group is None or rest is None or group.hidden or rest.hidden:
            return None
        return proportion_gap(
            group.numerators.get(PROFICIENT_STUDENTS, 0),
            group.n,
            rest.numerators.get(PROFICIENT_STUDENTS, 0),
            rest.n,
        )

    @property
    def gap_now(self) -> Gap | None:
        return self._gap(self.group, self.rest)

    @property
    def gap_start(self) -> Gap | None:
        return self._gap(self.group_start, self.rest_start)

    @property
    def gap_text(self) -> str:
        gap = self.gap_now
        if gap is None:
            return NOT_SHOWN if self.group.hidden or self.rest.hidden else NO_DATA
        return f"{points_text(round(gap.points))} (± {gap.standard_error:.0f})"

    @property
    def gap_start_text(self) -> str:
        gap = self.gap_start
        if gap is None:
            if self.group_start is None:
                return "—"
            hidden = self.group_start.hidden or (self.rest_start and self.rest_start.hidden)
            return NOT_SHOWN if hidden else NO_DATA
        return points_text(round(gap.points))

    @property
    def trend(self) -> str:
        now, start = self.gap_now, self.gap_start
        if now is None or start is None:
            return "—"
        return gap_change_label(now, start)


@dataclass(frozen=True)
class TrendRow:
    """A month of a total's trend (the school's, a grade's, the district's), decided as every
    page decides that total for that month."""

    month: date
    cell: SuppressedCell

    @property
    def students(self) -> str:
        return shown(self.cell)

    @property
    def proficiency(self) -> str:
        return _share(self.cell)

    @property
    def share(self) -> Decimal | None:
        return share_value(self.cell)


def trend_rows(
    decided: dict[Hashable, SuppressedCell], months: Sequence[date], ref: tuple[Hashable, ...]
) -> list[TrendRow]:
    """The total named by `ref` month by month, where it was counted."""
    return [
        TrendRow(month=month, cell=decided[(month, *ref)])
        for month in months
        if (month, *ref) in decided
    ]


@dataclass(frozen=True)
class SchoolReport:
    """A school's report for a month: every table suppressed together (one fate per cell)."""

    school: School
    month: date
    start_month: date | None
    last_year_month: date | None
    periods: ReportPeriods
    grade: str | None
    subject: str | None
    min_n: int
    subject_percent: int
    total: ReportRow
    tables: dict[str, list[ReportRow]]
    subgroups: list[SubgroupRow]
    months: list[date]
    subjects: list[str]
    grades: list[tuple[str, str]]
    trend: list[TrendRow]

    @property
    def rule(self) -> str:
        return rule_sentence(self.min_n)

    @property
    def subgroups_hidden(self) -> bool:
        """Every subgroup row hidden (a grade's, often): the page says why."""
        return bool(self.subgroups) and all(row.group.hidden for row in self.subgroups)


def _column(
    rows: Sequence[tuple[Hashable, Counts]], period: Hashable, name: str
) -> SuppressionTable:
    keys = tuple(key for key, _ in rows)
    return SuppressionTable(
        rows=keys,
        columns=("students",),
        cells={(key, "students"): counts_cell(c, (period, name, key)) for key, c in rows},
    )


def _sections_of_grade(rows: list[RollupRow], grade: str | None) -> list[RollupRow]:
    return [row for row in rows if grade is None or grade in row.grade_levels]


def _subgroup_counts_by_grade(
    school: School, *, months: Sequence[date], subject: str | None
) -> dict[date, dict[str, dict[str, Counts]]]:
    """Every subgroup's counts (and all students') in each grade for the months, on the subject
    or every standard: {month: {grade: {subgroup: counts}}}, one query on the rollups."""
    found: dict[date, dict[str, dict[str, Counts]]] = {month: {} for month in months}
    for row in (
        SchoolSubjectMonth.objects.filter(
            school=school, month__in=list(months), subject=subject or ALL_SUBJECTS
        )
        .values("month", "grade_level", "subgroup")
        .annotate(
            students=Sum("students_measured"),
            students_proficient=Sum("students_proficient_in_subject"),
            measured=Sum("pairs_measured"),
            proficient=Sum("pairs_proficient"),
        )
        .order_by()
    ):
        found[row["month"]].setdefault(row["grade_level"], {})[row["subgroup"]] = Counts(
            students=row["students"],
            students_proficient=row["students_proficient"],
            measured=row["measured"],
            proficient=row["proficient"],
        )
    return found


def subgroup_ref(when: date, grade: str | None, key: str) -> tuple[date, str, str | None, str]:
    return (when, "subgroup", grade, key)


def rest_ref(when: date, grade: str | None, key: str) -> tuple[date, str, str | None, str]:
    return (when, "rest", grade, key)


def _subgroup_family(
    school: School, when: date, by_grade: dict[str, dict[str, Counts]], keys: Sequence[str]
) -> tuple[list[SuppressionTable], list[tuple[Hashable, Hashable]]]:
    """Each subgroup against the rest, grade by grade, with the school's subgroup and rest as
    column totals and the grades' totals as row totals: the same family on the school's page and
    on each grade's, so that a grade's small subgroup cannot be read off the school's."""
    tables: list[SuppressionTable] = []
    pairs: list[tuple[Hashable, Hashable]] = []
    grades = [code for code in sorted(by_grade, key=_grade_sort_key) if ALL in by_grade[code]]
    if not grades:
        return tables, pairs
    school_total = summed((by_grade[code][ALL] for code in grades), disjoint=True)
    the_school = school_ref(when, school.pk)
    for key in keys:
        cells: dict[tuple[Hashable, Hashable], SuppressedCell] = {}
        groups: list[Counts] = []
        for code in grades:
            everyone = by_grade[code][ALL]
            group = by_grade[code].get(key, Counts())
            groups.append(group)
            cells[(code, "group")] = counts_cell(group, subgroup_ref(when, code, key))
            cells[(code, "rest")] = counts_cell(everyone.minus(group), rest_ref(when, code, key))
            the_grade = grade_ref(when, school.pk, code)
            pairs.append((the_grade, subgroup_ref(when, code, key)))
            pairs.append((the_grade, rest_ref(when, code, key)))
            pairs.append((subgroup_ref(when, None, key), subgroup_ref(when, code, key)))
            pairs.append((rest_ref(when, None, key), rest_ref(when, code, key)))
        school_group = summed(groups, disjoint=True)
        pairs.append((the_school, subgroup_ref(when, None, key)))
        pairs.append((the_school, rest_ref(when, None, key)))
        tables.append(
            SuppressionTable(
                rows=tuple(grades),
                columns=("group", "rest"),
                cells=cells,
                row_totals={
                    code: counts_cell(by_grade[code][ALL], grade_ref(when, school.pk, code))
                    for code in grades
                },
                column_totals={
                    "group": counts_cell(school_group, subgroup_ref(when, None, key)),
                    "rest": counts_cell(
                        school_total.minus(school_group), rest_ref(when, None, key)
                    ),
                },
                grand_total=counts_cell(school_total, the_school),
            )
        )
    return tables, pairs


def _subjects_by_grade(
    school: School, *, month: date, subject: str | None, period: Hashable
) -> SuppressionTable:
    """The school's grades × subjects for a month (all students), each subject's column adding
    up to the school's subject row: one query on the rollups."""
    rows = SchoolSubjectMonth.objects.filter(school=school, month=month, subgroup=ALL).exclude(
        subject=ALL_SUBJECTS
    )
    if subject is not None:
        rows = rows.filter(subject=subject)
    found: dict[tuple[str, str], Counts] = {}
    for (
        grade_level,
        row_subject,
        students,
        students_proficient,
        measured,
        proficient,
    ) in rows.order_by().values_list(
        "grade_level",
        "subject",
        "students_measured",
        "students_proficient_in_subject",
        "pairs_measured",
        "pairs_proficient",
    ):
        found[(grade_level, row_subject)] = Counts(
            students=students,
            students_proficient=students_proficient,
            measured=measured,
            proficient=proficient,
        )
    grade_keys = tuple(sorted({g for g, _ in found}, key=_grade_sort_key))
    subject_keys = tuple(sorted({s for _, s in found}))
    cells = {
        (g, s): counts_cell(found.get((g, s), Counts()), (period, "grade-subject", g, s))
        for g in grade_keys
        for s in subject_keys
    }
    return SuppressionTable(
        rows=grade_keys,
        columns=subject_keys,
        cells=cells,
        column_totals={
            s: counts_cell(
                summed((found.get((g, s), Counts()) for g in grade_keys), disjoint=True),
                (period, "subjects", s),
            )
            for s in subject_keys
        }
        if grade_keys
        else None,
    )


def _standards_by_grade(
    school: School, *, month: date, subject: str | None, period: Hashable
) -> SuppressionTable:
    """The school's grades × standards for a month (all students), each standard's column
    adding up to the school's standard row: one query on the rollups."""
    rows = SchoolStandardMonth.objects.filter(school=school, month=month, subgroup=ALL)
    if subject is not None:
        rows = rows.filter(standard__subject=subject)
    found: dict[tuple[str, int], Counts] = {}
    for grade_level, standard_id, students, proficient in rows.order_by().values_list(
        "grade_level", "standard_id", "students_measured", "students_proficient"
    ):
        found[(grade_level, standard_id)] = Counts(
            students=students,
            students_proficient=proficient,
            measured=students,
            proficient=proficient,
        )
    grade_keys = tuple(sorted({g for g, _ in found}, key=_grade_sort_key))
    standard_keys = tuple(sorted({k for _, k in found}))
    return SuppressionTable(
        rows=grade_keys,
        columns=standard_keys,
        cells={
            (g, k): counts_cell(found.get((g, k), Counts()), (period, "grade-standard", g, k))
            for g in grade_keys
            for k in standard_keys
        },
        column_totals={
            k: counts_cell(
                summed((found.get((g, k), Counts()) for g in grade_keys), disjoint=True),
                (period, "standards", k),
            )
            for k in standard_keys
        }
        if grade_keys
        else None,
    )


def school_report(
    school: School,
    *,
    periods: ReportPeriods,
    subject: str | None = None,
    grade: str | None = None,
) -> SchoolReport:
    """The school's proficiency by grade, subject, section, cluster, standard and subgroup for a
    month, at the start of the term and a year before, read from the rollups only. The district's
    and the school's totals come decided from their own families (dashboard.selectors.totals);
    every other cell of every table and month is decided by one run of the suppression rules with
    those fixed, the same run on the school's page and on each grade's."""
    district = school.district
    min_n = district.min_group_size
    month = periods.month
    start_month = periods.start_month
    # The report's own tables for now and the term's start; a year before, the totals, grades and
    # subjects (sections, clusters and standards change from year to year).
    full = {"now": month, **({"start": start_month} if start_month else {})}
    every = periods.by_period()
    when_list = list(dict.fromkeys(every.values()))
    # The total's trend: every month held up to the one read (decided as each month's own page).
    trend_months = sorted({m for m in periods.months if m <= month} | set(when_list))
    totals = school_totals(school, months=trend_months, subject=subject)

    whole: dict[str, SchoolRollup] = {}
    chosen: dict[str, SchoolRollup] = {}
    for period, when in full.items():
        whole[period] = school_rollup(school, month=when, subject=subject)
        chosen[period] = (
            whole[period]
            if grade is None
            else school_rollup(school, month=when, subject=subject, grade=grade)
        )

    tables: list[SuppressionTable] = []
    pairs: list[tuple[Hashable, Hashable]] = []
    for when in when_list:
        tables.append(grade_table(school.pk, when, totals.grades[when]))
        the_school = school_ref(when, school.pk)
        pairs.extend((the_school, grade_ref(when, school.pk, code)) for code in totals.grades[when])
        # Subjects by grade, with the school's subjects as their totals: the same family for
        # the whole school's page and each grade's, so that a grade's subject row and the
        # school's decide together (a pair, grade within school, and a line per subject).
        by_grade = _subjects_by_grade(school, month=when, subject=subject, period=when)
        tables.append(by_grade)
        pairs.extend(
            ((when, "subjects", column), (when, "grade-subject", row_key, column))
            for column in by_grade.columns
            for row_key in by_grade.rows
        )
    for period, when in full.items():
        everyone = whole[period]
        the_school = school_ref(when, school.pk)
        grade_n = {code: c.students for code, c in totals.grades[when].items()}
        for row in everyone.sections:
            # A section within one grade is part of that grade, else of the school (the
            # suppression module's pair 4); its count is a lower bound, so only a smaller one
            # can be a part.
            only = row.grade_levels[0] if len(row.grade_levels) == 1 else None
            if only in grade_n and row.group.students <= grade_n[only]:
                pairs.append((grade_ref(when, school.pk, only), (when, "sections", row.key)))
            elif row.group.students <= everyone.total.group.students:
                pairs.append((the_school, (when, "sections", row.key)))
        standards_by_grade = _standards_by_grade(school, month=when, subject=subject, period=when)
        tables.append(standards_by_grade)
        pairs.extend(
            ((when, "standards", column), (when, "grade-standard", row_key, column))
            for column in standards_by_grade.columns
            for row_key in standards_by_grade.rows
        )
        tables.append(
            _column([(row.key, row.group) for row in everyone.sections], when, "sections")
        )
        tables.append(
            _column([(row.key, row.group) for row in chosen[period].clusters], when, "clusters")
        )

    # Subgroups against the rest, grade by grade (see _subgroup_family).
    by_subgroup = _subgroup_counts_by_grade(school, months=list(full.values()), subject=subject)
    # The school's subgroups, on its page and on each grade's alike (one family for both).
    subgroup_keys = sorted(
        {key for counts_of in by_subgroup[month].values() for key in counts_of if key != ALL},
        key=subgroup_sort_key,
    )
    for when in full.values():
        family, family_pairs = _subgroup_family(school, when, by_subgroup[when], subgroup_keys)
        tables.extend(family)
        pairs.extend(family_pairs)

    stamped = suppress_tables(tables, min_n=min_n, pairs=pairs, decided=totals.decided.values())
    decided: dict[Hashable, SuppressedCell] = dict(totals.decided)
    for table in stamped:
        for cell in (
            *table.cells.values(),
            *(table.column_totals or {}).values(),
            *(table.row_totals or {}).values(),
            *([table.grand_total] if table.grand_total else []),
        ):
            if cell.ref is not None:
                decided[cell.ref] = cell

    def at(period: str, ref: tuple[Hashable, ...]) -> SuppressedCell | None:
        when = every.get(period)
        return None if when is None else decided.get((when, *ref))

    def report_rows(name: str, rows: list[RollupRow]) -> list[ReportRow]:
        made = []
        for row in rows:
            detail = ", ".join(row.teachers) if name == "sections" else row.subject
            ref: tuple[Hashable, ...] = (name, row.key)
            if name == "grades":
                ref = ("grade", school.pk, row.key)
            elif name == "subjects" and grade is not None:
                ref = ("grade-subject", grade, row.key)
            elif name == "standards" and grade is not None:
                ref = ("grade-standard", grade, row.key)
            made.append(
                ReportRow(
                    key=row.key,
                    label=row.label,
                    code=row.code,
                    now=decided[(month, *ref)],  # every row shown now was decided now
                    start=at("start", ref),
                    last_year=at("last_year", ref) if name in ("grades", "subjects") else None,
                    detail=detail,
                    cluster_id=row.cluster_id,
                )
            )
        return made

    now_whole, now_view = whole["now"], chosen["now"]
    total_ref: tuple[Hashable, ...] = ("school", school.pk)
    if grade is not None:
        total_ref = ("grade", school.pk, grade)
    total_now = at("now", total_ref)
    if total_now is None:
        # Nobody measured in that grade this month: an empty cell, nothing to hide.
        total_now = counts_cell(now_view.total.group, None)
    total = ReportRow(
        key=grade or "school",
        label=now_view.total.label,
        code="",
        now=total_now,
        start=at("start", total_ref),
        last_year=at("last_year", total_ref),
    )
    report_tables = {
        "grades": report_rows("grades", now_whole.grades),
        "subjects": report_rows("subjects", now_view.subjects),
        "sections": report_rows("sections", _sections_of_grade(now_whole.sections, grade)),
        "clusters": report_rows("clusters", now_view.clusters),
        "standards": report_rows("standards", now_view.standards),
    }
    subgroup_rows = []
    for key in subgroup_keys:
        group_now = decided.get(subgroup_ref(month, grade, key))
        if group_now is None or not group_now.n:
            continue  # nobody of the subgroup here (in the chosen grade)
        subgroup_rows.append(
            SubgroupRow(
                key=key,
                label=subgroup_label(key),
                group=group_now,
                rest=decided[rest_ref(month, grade, key)],
                group_start=decided.get(subgroup_ref(start_month, grade, key))
                if start_month
                else None,
                rest_start=decided.get(rest_ref(start_month, grade, key)) if start_month else None,
            )
        )
    present_grades = sorted({row.key for row in now_whole.grades} | ({grade} if grade else set()))
    return SchoolReport(
        school=school,
        month=month,
        start_month=start_month,
        last_year_month=periods.last_year_month,
        periods=periods,
        grade=grade,
        subject=subject,
        min_n=min_n,
        subject_percent=district.subject_proficiency_percent,
        total=total,
        tables=report_tables,
        subgroups=subgroup_rows,
        months=periods.months,
        subjects=rollup_subjects(district.pk, month=month),
        grades=[
            (str(code), grade_label(str(code)))
            for code in sorted(present_grades, key=_grade_sort_key)
        ],
        trend=trend_rows(totals.decided, [m for m in trend_months if m <= month], total_ref),
    )


def _grade_sort_key(code: object) -> tuple[int, str]:
    text = str(code)
    return (GRADE_LEVELS.index(text) if text in GRADE_LEVELS else len(GRADE_LEVELS), text)


def report_csv_rows(report: SchoolReport, table: str) -> list[list[str]]:
    """A table of the report as the page shows it, hidden cells in words."""
    if table == "subgroups":
        subgroup_lines = [
            [
                "Subgroup",
                "Subgroup: students measured (proficient)",
                "Rest of the school: students measured (proficient)",
                "Gap now",
                "Gap at the term's start",
                "Change",
            ]
        ]
        subgroup_lines += [
            [row.label, row.group_text, row.rest_text, row.gap_text, row.gap_start_text, row.trend]
            for row in report.subgroups
        ]
        return subgroup_lines
    header = ["Name", "Code", "Students measured", "Students proficient in the subject"]
    header += ["Proficiency", "Proficiency at the term's start", "Change"]
    with_last_year = table in ("grades", "subjects")
    if with_last_year:
        header.append("Proficiency last year")
    if table == "sections":
        header[1] = "Teachers"
    elif table == "standards":
        header.append("Subject")
    lines = [header]
    for row in report.tables[table]:
        line = [
            row.label,
            row.detail if table == "sections" else row.code,
            row.students,
            row.proficient_students,
            row.proficiency,
            row.proficiency_start,
            row.growth,
        ]
        if with_last_year:
            line.append(row.proficiency_last_year)
        if table == "standards":
            line.append(row.detail)
        lines.append(line)
    return lines


# --- Drill-down: exactly the students a count counts. ---


@dataclass(frozen=True)
class CountedStudents:
    """Who a report count counts: the students the user may see among them (by name), and how
    many the count holds in all (the rest, if any, are not the user's to see)."""

    students: list[Student]
    counted: int


def counted_students(
    user: AnyUser,
    school: School,
    *,
    month: date,
    grade: str | None = None,
    subject: str | None = None,
    standard_id: int | None = None,
    proficient: bool = False,
) -> CountedStudents:
    """The students behind a count of the school report, counted as the rollups count them
    (rollups.counting): members of the school (and grade) on the month's day, measured then on
    the subject's standards (or the standard); with `proficient`, those at or above mastery on
    at least the district's share of them (on the standard)."""
    today = timezone.localdate()
    rules = rules_for(school.district_id, today)
    first = month_first(month)
    counted_month = next(
        (m for m in rules.months if m.first == first),
        RollupMonth(first, month_last(first), False),
    )
    day = counted_month.day
    members = StudentSchoolMembership.objects.filter(
        Q(begin_date__isnull=True) | Q(begin_date__lte=day),
        Q(end_date__isnull=True) | Q(end_date__gte=day),
        school=school,
        is_active=True,
        student__is_active=True,
    )
    if grade is not None:
        members = members.filter(grade_level=grade)
    member_ids = sorted(set(members.order_by().values_list("student_id", flat=True)))
    levels = levels_by_month(member_ids, rules, (counted_month,)) if member_ids else {}
    chosen: list[int] = []
    for student_id in member_ids:
        held = levels.get(student_id)
        month_levels = held[0] if held else {}
        relevant = [
            level
            for standard, level in month_levels.items()
            if (standard_id is None or standard == standard_id)
            and (subject is None or rules.subjects.get(standard, "") == subject)
        ]
        if not relevant:
            continue
        if proficient:
            at_mastery = sum(1 for level in relevant if level >= rules.mastery_level)
            if at_mastery * 100 < rules.subject_percent * len(relevant):
                continue
        chosen.append(student_id)
    visible = list(
        students_visible_to(user).filter(pk__in=chosen).order_by("last_name", "first_name", "pk")
    )
    return CountedStudents(students=visible, counted=len(chosen))


# --- Attendance and engagement (issue 19): the school's current students, suppressed. ---

CHRONIC = "chronic"


@dataclass(frozen=True)
class EngagementRow:
    """A line of the chronic absence tables: the students counted and those chronically absent
    among them (one suppressed cell: "fewer than 10" for all three below the minimum)."""

    key: str
    label: str
    cell: SuppressedCell

    @property
    def students(self) -> str:
        return shown(self.cell)

    @property
    def chronic(self) -> str:
        return shown(self.cell, CHRONIC)

    @property
    def share(self) -> str:
        if not self.cell.hidden and not self.cell.n:
            return NO_DATA
        return shown_percent(self.cell, CHRONIC)


@dataclass(frozen=True)
class SchoolEngagement:
    """Chronic absence by grade and by subgroup, and the students falling in two or more
    subjects, among the school's students enrolled on `as_of`: the day the rollups counted
    (today, unless today's count has not run yet; None when the school was never counted)."""

    as_of: date | None
    counted_today: bool
    rule: str
    total: EngagementRow
    grades: list[EngagementRow]
    subgroups: list[EngagementRow]
    falling: EngagementRow


def _engagement_rows(
    school: School, today: date
) -> dict[tuple[str, str], tuple[date, int, int, int]]:
    """The school's SchoolEngagementDay rows of the latest day counted up to today, by (grade
    or WHOLE_SCHOOL, subgroup): (day, students, chronically absent, falling); one query, by the
    table's unique index."""
    latest = (
        SchoolEngagementDay.objects.filter(
            school_id=school.pk, day__lte=today, grade_level=WHOLE_SCHOOL, subgroup=ALL
        )
        .order_by("-day")
        .values("day")[:1]
    )
    return {
        (grade, subgroup): (day, students, chronic, falling)
        for grade, subgroup, day, students, chronic, falling in SchoolEngagementDay.objects.filter(
            school_id=school.pk, day=Subquery(latest)
        )
        .order_by()
        .values_list(
            "grade_level",
            "subgroup",
            "day",
            "students",
            "chronically_absent",
            "falling_two_subjects",
        )
    }


def school_engagement(school: School) -> SchoolEngagement:
    """Chronic absence by grade and subgroup, and the count of students falling in two or more
    subjects, read from the rollups (SchoolEngagementDay, never the raw records); suppressed
    together.

    These cells are their own suppression family, apart from the report's `suppress_tables`
    call: they count the students enrolled on a day (by attendance and current trends), while
    the report counts students measured in a rollup month; no line adds one population up from
    the other and neither contains the other (month against month is no pair, see
    rollups.suppression), so combining them would only hide cells for nothing. The enrolment
    counts of the staff overview are the same population: `overview_decided` gives them this
    family's decisions.
    """
    today = timezone.localdate()
    rows = _engagement_rows(school, today)
    whole = rows.get((WHOLE_SCHOOL, ALL))
    as_of = whole[0] if whole else None

    def cell(key: tuple[str, str], ref: Hashable) -> SuppressedCell:
        values = rows.get(key)
        if values is None:
            return SuppressedCell(n=0, numerators={CHRONIC: 0}, ref=ref)
        return SuppressedCell(n=values[1], numerators={CHRONIC: values[2]}, ref=ref)

    total_ref = ("engagement", "total")
    total = cell((WHOLE_SCHOOL, ALL), total_ref)
    grade_keys = tuple(
        sorted(
            (grade for grade, group in rows if group == ALL and grade != WHOLE_SCHOOL),
            key=_grade_sort_key,
        )
    )
    tables = [
        SuppressionTable(
            rows=grade_keys or ("none",),
            columns=("students",),
            cells={(g, "students"): cell((g, ALL), ("engagement", "grade", g)) for g in grade_keys}
            or {("none", "students"): SuppressedCell(n=0, ref=("engagement", "none"))},
            column_totals={"students": total},
        )
    ]
    pairs: list[tuple[Hashable, Hashable]] = [
        (total_ref, ("engagement", "grade", g)) for g in grade_keys
    ]
    subgroup_keys = tuple(
        sorted(
            (group for grade, group in rows if grade == WHOLE_SCHOOL and group != ALL),
            key=subgroup_sort_key,
        )
    )
    if subgroup_keys:
        # Each subgroup and its rest add up to the school: declared, so that a shown rest
        # cannot give a hidden subgroup away (the rest is not shown, but its cell decides).
        cells = {}
        for key in subgroup_keys:
            group = cell((WHOLE_SCHOOL, key), ("engagement", "subgroup", key))
            cells[(key, "group")] = group
            cells[(key, "rest")] = SuppressedCell(
                n=total.n - group.n,
                numerators={CHRONIC: total.numerators[CHRONIC] - group.numerators[CHRONIC]},
                ref=("engagement", "rest", key),
            )
            pairs.append((total_ref, ("engagement", "subgroup", key)))
            pairs.append((total_ref, ("engagement", "rest", key)))
        tables.append(
            SuppressionTable(
                rows=subgroup_keys,
                columns=("group", "rest"),
                cells=cells,
                row_totals=dict.fromkeys(subgroup_keys, total),
            )
        )
    falling_ref = ("engagement", "falling")
    # The rollups count the falling students, not how many of them are chronically absent:
    # the page shows their number only.
    falling = SuppressedCell(n=whole[3] if whole else 0, ref=falling_ref)
    tables.append(
        SuppressionTable(
            rows=("falling",), columns=("students",), cells={("falling", "students"): falling}
        )
    )
    # The falling students are some of the school's: the rest of it must not be a small group.
    pairs.append((total_ref, falling_ref))
    decided: dict[Hashable, SuppressedCell] = {}
    for table in suppress_tables(tables, min_n=school.district.min_group_size, pairs=pairs):
        for decided_cell in (
            *table.cells.values(),
            *(table.column_totals or {}).values(),
            *(table.row_totals or {}).values(),
        ):
            decided[decided_cell.ref] = decided_cell
    return SchoolEngagement(
        as_of=as_of,
        counted_today=as_of == today,
        rule=chronic_absence_rule(school.district.chronic_absence_percent),
        total=EngagementRow("total", "The whole school", decided[total_ref]),
        grades=[
            EngagementRow(g, grade_label(g), decided[("engagement", "grade", g)])
            for g in grade_keys
        ],
        subgroups=[
            EngagementRow(key, subgroup_label(key), decided[("engagement", "subgroup", key)])
            for key in subgroup_keys
        ],
        falling=EngagementRow("falling", "Falling in two or more subjects", decided[falling_ref]),
    )


def overview_decided(overview: SchoolOverview, engagement: SchoolEngagement) -> SchoolOverview:
    """The overview's enrolment counts as the engagement family decided them: a grade hidden
    there (to protect another through the school's total) is hidden in the overview too."""
    hidden = {row.key: row.students for row in engagement.grades if row.cell.hidden}
    return dataclasses.replace(
        overview,
        grade_levels=[
            dataclasses.replace(level, students_shown=hidden[level.code])
            if level.code in hidden
            else level
            for level in overview.grade_levels
        ],
    )


def engagement_students(
    user: AnyUser,
    school: School,
    *,
    measure: str,
    grade: str | None = None,
    subgroup: str | None = None,
    chronic: bool = False,
) -> CountedStudents:
    """The students behind a count of the section, counted as it counts them: with measure
    "chronic", the current students (of the grade or subgroup), or with `chronic` those
    chronically absent; with "falling", those falling in two or more subjects. By name only
    those the user may see. The list reads the raw records of today (rollups.counting's
    facts, as the rows count them): it names students, which the rollups do not hold."""
    facts = engagement_facts(school.pk, timezone.localdate())
    chosen = []
    for pk in sorted(facts.grade_of):
        if measure == "falling":
            if pk in facts.falling:
                chosen.append(pk)
            continue
        if grade is not None and facts.grade_of[pk] != grade:
            continue
        if subgroup is not None and subgroup not in facts.subgroups_of.get(pk, ()):
            continue
        if chronic and not facts.chronic(pk):
            continue
        chosen.append(pk)
    visible = list(
        students_visible_to(user).filter(pk__in=chosen).order_by("last_name", "first_name", "pk")
    )
    return CountedStudents(students=visible, counted=len(chosen))

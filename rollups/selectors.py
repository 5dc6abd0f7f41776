"""Reads of the rollups for the school and district pages: a constant number of queries whatever
the number of students and schools, by index, never a raw estimate. No suppression here: the
pages apply rollups.suppression to what these return.

The caller has checked access (accounts.access.school_for_user, or the district staff's own
district); the rows name no student, so nothing here is logged.

Every row holds `group` (the chosen subgroup; every student for "all") and, for a subgroup,
`rest`: the rest of the school (all minus the subgroup, from the counts). `Counts.students` is
how many students a row describes, for suppression: exact for a standard, subject, grade, school
or district; for a cluster or a section (several standards) at least that many (the most
measured on any one of its standards), which is safe for suppression to use (`exact` False).
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Max, QuerySet, Sum

from assessments.models import standard_short_code
from rollups.counting import month_first
from rollups.models import (
    ALL_SUBJECTS,
    RollupRebuild,
    SchoolStandardMonth,
    SchoolSubjectMonth,
    SectionStandardMonth,
)
from rollups.subgroups import ALL, subgroup_sort_key
from students.models import (
    GRADE_LEVELS,
    District,
    School,
    SchoolLevel,
    Section,
    SectionAssignment,
    grade_label,
)

LEVEL_FIELDS = ("level_1", "level_2", "level_3", "level_4")
# Each level's count summed over rows, as l1..l4 (what Counts reads back).
LEVEL_SUMS = {f"l{value}": Sum(name) for value, name in enumerate(LEVEL_FIELDS, start=1)}


@dataclass(frozen=True, slots=True)
class Counts:
    """What a row counts for one group of students.

    students: how many students it describes (see the module's note on `exact`);
    students_proficient: of them, proficient: on the standard (a standard's row), in the
        subject by the district's share rule (a subject's, grade's, school's or district's
        row); None where undefined (a cluster or a section);
    measured / proficient: the (student, standard) estimates measured and at or above mastery
        (proficiency is proficient / measured);
    levels: the measured estimates at levels 1, 2, 3 and 4.
    """

    students: int = 0
    students_proficient: int | None = 0
    measured: int = 0
    proficient: int = 0
    levels: tuple[int, int, int, int] = (0, 0, 0, 0)
    exact: bool = True

    @property
    def proficiency(self) -> float | None:
        """The share of measured estimates at or above mastery (None: nothing measured)."""
        return self.proficient / self.measured if self.measured else None

    @property
    def students_proficiency(self) -> float | None:
        """The share of the students proficient (None: undefined or nobody measured)."""
        if self.students_proficient is None or not self.students:
            return None
        return self.students_proficient / self.students

    def minus(self, other: "Counts") -> "Counts":
        """These counts without another group's (a subgroup within them): the rest."""
        return Counts(
            students=self.students - other.students,
            students_proficient=(
                None
                if self.students_proficient is None or other.students_proficient is None
                else self.students_proficient - other.students_proficient
            ),
            measured=self.measured - other.measured,
            proficient=self.proficient - other.proficient,
            levels=_levels_minus(self.levels, other.levels),
            exact=self.exact and other.exact,
        )


EMPTY = Counts()


def _levels_minus(a: Sequence[int], b: Sequence[int]) -> tuple[int, int, int, int]:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3])


def summed(parts: Iterable[Counts], *, disjoint: bool) -> Counts:
    """Counts of several rows together: of disjoint groups of students (grades, schools), whose
    students add up; or of several standards of the same students (a cluster, a section), whose
    students are at least the most of any one (not exact)."""
    items = list(parts)
    if not items:
        return Counts(exact=disjoint)
    proficient_students = [c.students_proficient for c in items]
    return Counts(
        students=sum(c.students for c in items) if disjoint else max(c.students for c in items),
        students_proficient=(
            sum(p for p in proficient_students if p is not None)
            if disjoint and None not in proficient_students
            else None
        ),
        measured=sum(c.measured for c in items),
        proficient=sum(c.proficient for c in items),
        levels=(
            sum(c.levels[0] for c in items),
            sum(c.levels[1] for c in items),
            sum(c.levels[2] for c in items),
            sum(c.levels[3] for c in items),
        ),
        exact=disjoint and all(c.exact for c in items),
    )


def _standard_counts(measured: int, proficient: int, levels: Sequence[int]) -> Counts:
    return Counts(
        students=measured,
        students_proficient=proficient,
        measured=measured,
        proficient=proficient,
        levels=(levels[0], levels[1], levels[2], levels[3]),
    )


def _subject_counts(values: Sequence[int]) -> Counts:
    students, students_proficient, measured, proficient, *levels = values
    return Counts(
        students=students,
        students_proficient=students_proficient,
        measured=measured,
        proficient=proficient,
        levels=(levels[0], levels[1], levels[2], levels[3]),
    )


@dataclass(frozen=True, slots=True)
class RollupRow:
    """One line of a rollup table: a grade, subject, cluster, standard, section or school.

    key: the grade code, subject, cluster or standard id, section id or school id;
    label: what the page names it by; code: a standard's or cluster's short code;
    subject: a standard's subject; cluster_id: a standard's parent (its cluster);
    teachers: a section's current teachers; grade_levels: a section's grades;
    level: a school's level (SchoolLevel) on the district page.
    """

    key: str | int
    label: str
    group: Counts
    rest: Counts | None = None
    code: str = ""
    subject: str = ""
    cluster_id: int | None = None
    teachers: tuple[str, ...] = ()
    grade_levels: tuple[str, ...] = ()
    level: str = ""


@dataclass(frozen=True)
class SchoolRollup:
    """A school's month, for one subgroup (and grade, and subject, when chosen).

    total: the school (or the grade) on every standard (or the subject's);
    grades, subjects, clusters, standards: its rows, each with the rest of the school when a
    subgroup is chosen; sections: by section (no subgroups at that grain, so no rest);
    subgroups: the subgroups with anyone measured that month, for the filter.
    """

    school_id: int
    month: date
    grade: str | None
    subgroup: str
    subject: str | None
    total: RollupRow
    grades: list[RollupRow] = field(default_factory=list)
    subjects: list[RollupRow] = field(default_factory=list)
    clusters: list[RollupRow] = field(default_factory=list)
    standards: list[RollupRow] = field(default_factory=list)
    sections: list[RollupRow] = field(default_factory=list)
    subgroups: list[str] = field(default_factory=list)


def _grade_order(code: str) -> tuple[int, str]:
    return (GRADE_LEVELS.index(code) if code in GRADE_LEVELS else len(GRADE_LEVELS), code)


def _with_rest(by_group: dict[str, Counts], subgroup: str) -> tuple[Counts, Counts | None]:
    """The chosen subgroup's counts and, for a subgroup, the rest: everyone minus it."""
    everyone = by_group.get(ALL, EMPTY)
    if subgroup == ALL:
        return everyone, None
    chosen = by_group.get(subgroup, EMPTY)
    return chosen, everyone.minus(chosen)


def school_rollup(
    school: School,
    *,
    month: date,
    grade: str | None = None,
    subgroup: str = ALL,
    subject: str | None = None,
) -> SchoolRollup:
    """A school's rollups for a month (any day of it), by grade, subject, cluster, standard and
    section: six queries, whatever the school's size."""
    month = month_first(month)
    groups = sorted({ALL, subgroup})
    subject_key = subject or ALL_SUBJECTS

    # 1. Subjects by grade: the grade rows, the subject rows and the total.
    subject_rows = SchoolSubjectMonth.objects.filter(
        school=school, month=month, subgroup__in=groups
    )
    if grade is not None:
        subject_rows = subject_rows.filter(grade_level=grade)
    if subject is not None:
        subject_rows = subject_rows.filter(subject__in=[subject, ALL_SUBJECTS])
    by_grade: dict[str, dict[str, Counts]] = defaultdict(dict)
    by_subject: dict[str, dict[str, list[Counts]]] = defaultdict(lambda: defaultdict(list))
    for row in subject_rows.order_by().values_list(
        "grade_level",
        "subgroup",
        "subject",
        "students_measured",
        "students_proficient_in_subject",
        "pairs_measured",
        "pairs_proficient",
        *LEVEL_FIELDS,
    ):
        row_grade, row_group, row_subject = row[0], row[1], row[2]
        counts = _subject_counts(row[3:])
        if row_subject == subject_key:
            by_grade[row_grade][row_group] = counts
        if row_subject != ALL_SUBJECTS:
            by_subject[row_subject][row_group].append(counts)
    grades = []
    for code in sorted(by_grade, key=_grade_order):
        group, rest = _with_rest(by_grade[code], subgroup)
        grades.append(RollupRow(key=code, label=grade_label(code), group=group, rest=rest))
    subjects = []
    for name in sorted(by_subject):
        summed_groups = {g: summed(parts, disjoint=True) for g, parts in by_subject[name].items()}
        group, rest = _with_rest(summed_groups, subgroup)
        subjects.append(RollupRow(key=name, label=name or "No subject", group=group, rest=rest))
    total_groups = {
        g: summed((by_grade[code].get(g, EMPTY) for code in by_grade), disjoint=True)
        for g in groups
    }
    group, rest = _with_rest(total_groups, subgroup)
    total = RollupRow(
        key=grade or "school",
        label=grade_label(grade) if grade else school.name,
        group=group,
        rest=rest,
    )

    # 2. Standards (summed over grades), and their clusters.
    standard_rows = SchoolStandardMonth.objects.filter(
        school=school, month=month, subgroup__in=groups
    )
    if grade is not None:
        standard_rows = standard_rows.filter(grade_level=grade)
    if subject is not None:
        standard_rows = standard_rows.filter(standard__subject=subject)
    standards_by_id: dict[int, dict[str, Counts]] = defaultdict(dict)
    about: dict[int, tuple[str, str, str, int | None]] = {}
    cluster_about: dict[int, tuple[str, str, str]] = {}
    for row in (
        standard_rows.values(
            "standard_id",
            "subgroup",
            "standard__code",
            "standard__description",
            "standard__subject",
            "standard__parent_id",
            "standard__parent__code",
            "standard__parent__description",
        )
        .annotate(
            measured=Sum("students_measured"),
            proficient=Sum("students_proficient"),
            **LEVEL_SUMS,
        )
        .order_by()
    ):
        standard_id = row["standard_id"]
        standards_by_id[standard_id][row["subgroup"]] = _standard_counts(
            row["measured"], row["proficient"], (row["l1"], row["l2"], row["l3"], row["l4"])
        )
        about[standard_id] = (
            row["standard__code"],
            row["standard__description"],
            row["standard__subject"],
            row["standard__parent_id"],
        )
        if row["standard__parent_id"] is not None:
            cluster_about[row["standard__parent_id"]] = (
                row["standard__parent__code"] or "",
                row["standard__parent__description"] or "",
                row["standard__subject"],
            )
    standards = []
    by_cluster: dict[int, list[RollupRow]] = defaultdict(list)
    for standard_id in sorted(standards_by_id, key=lambda pk: about[pk][0]):
        code, description, standard_subject, parent_id = about[standard_id]
        group, rest = _with_rest(standards_by_id[standard_id], subgroup)
        standard_row = RollupRow(
            key=standard_id,
            label=description or code,
            group=group,
            rest=rest,
            code=standard_short_code(code),
            subject=standard_subject,
            cluster_id=parent_id,
        )
        standards.append(standard_row)
        if parent_id is not None:
            by_cluster[parent_id].append(standard_row)
    clusters = []
    for parent_id, members in by_cluster.items():
        parent_code, parent_description, cluster_subject = cluster_about[parent_id]
        clusters.append(
            RollupRow(
                key=parent_id,
                label=parent_description or parent_code,
                code=standard_short_code(parent_code),
                subject=cluster_subject,
                group=summed((m.group for m in members), disjoint=False),
                rest=(
                    None
                    if subgroup == ALL
                    else summed((m.rest or EMPTY for m in members), disjoint=False)
                ),
            )
        )
    clusters.sort(key=lambda row: (row.code, row.label))

    # 3-5. Sections: their standards summed, their names and grades, their teachers.
    section_rows = SectionStandardMonth.objects.filter(school=school, month=month)
    if subject is not None:
        section_rows = section_rows.filter(standard__subject=subject)
    section_counts = {
        row["section_id"]: Counts(
            students=row["students"],
            students_proficient=None,
            measured=row["measured"],
            proficient=row["proficient"],
            levels=(row["l1"], row["l2"], row["l3"], row["l4"]),
            exact=False,
        )
        for row in section_rows.values("section_id")
        .annotate(
            students=Max("students_measured"),
            measured=Sum("students_measured"),
            proficient=Sum("students_proficient"),
            **LEVEL_SUMS,
        )
        .order_by()
    }
    sections = []
    if section_counts:
        teachers: dict[int, list[str]] = defaultdict(list)
        for section_id, first, preferred, last in (
            SectionAssignment.objects.current()
            .filter(section_id__in=list(section_counts), staff__is_active=True)
            .order_by("-is_primary", "staff__last_name", "staff__first_name")
            .values_list(
                "section_id", "staff__first_name", "staff__preferred_first_name", "staff__last_name"
            )
        ):
            teachers[section_id].append(f"{preferred or first} {last}")
        for section_id, title, section_grades in (
            Section.objects.filter(pk__in=list(section_counts))
            .order_by("title", "pk")
            .values_list("pk", "title", "grade_levels")
        ):
            levels_of_section = tuple(str(g) for g in section_grades or [])
            if grade is not None and grade not in levels_of_section:
                continue
            sections.append(
                RollupRow(
                    key=section_id,
                    label=title,
                    group=section_counts[section_id],
                    teachers=tuple(teachers.get(section_id, ())),
                    grade_levels=levels_of_section,
                )
            )

    # 6. The subgroups anyone belongs to this month (the grade's, when one is chosen).
    present = SchoolSubjectMonth.objects.filter(school=school, month=month, subject=ALL_SUBJECTS)
    if grade is not None:
        present = present.filter(grade_level=grade)
    subgroups = sorted(
        set(present.order_by().values_list("subgroup", flat=True).distinct()),
        key=subgroup_sort_key,
    )
    return SchoolRollup(
        school_id=school.pk,
        month=month,
        grade=grade,
        subgroup=subgroup,
        subject=subject,
        total=total,
        grades=grades,
        subjects=subjects,
        clusters=clusters,
        standards=standards,
        sections=sections,
        subgroups=subgroups,
    )


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """A month of a trend: the group, and the rest of the school when a subgroup is chosen."""

    month: date
    group: Counts
    rest: Counts | None = None


def _trend(rows: Iterable[dict], subgroup: str) -> list[TrendPoint]:
    by_month: dict[date, dict[str, Counts]] = defaultdict(dict)
    for row in rows:
        by_month[row["month"]][row["subgroup"]] = _subject_counts(
            (
                row["students"],
                row["students_proficient"],
                row["measured"],
                row["proficient"],
                row["l1"],
                row["l2"],
                row["l3"],
                row["l4"],
            )
        )
    points = []
    for month in sorted(by_month):
        group, rest = _with_rest(by_month[month], subgroup)
        points.append(TrendPoint(month=month, group=group, rest=rest))
    return points


def _subject_sums(rows: QuerySet) -> QuerySet:
    """Sum a values() queryset of SchoolSubjectMonth rows into the names _trend reads."""
    return rows.annotate(
        students=Sum("students_measured"),
        students_proficient=Sum("students_proficient_in_subject"),
        measured=Sum("pairs_measured"),
        proficient=Sum("pairs_proficient"),
        **LEVEL_SUMS,
    ).order_by()


def school_trend(
    school: School, *, grade: str | None = None, subgroup: str = ALL, subject: str | None = None
) -> list[TrendPoint]:
    """The school's (or grade's) month by month, on every standard or the subject's: growth
    from the first month to now. One query."""
    rows = SchoolSubjectMonth.objects.filter(
        school=school, subgroup__in=sorted({ALL, subgroup}), subject=subject or ALL_SUBJECTS
    )
    if grade is not None:
        rows = rows.filter(grade_level=grade)
    return _trend(_subject_sums(rows.values("month", "subgroup")), subgroup)


@dataclass(frozen=True)
class DistrictRollup:
    """Every active school of the district for a month, side by side, with the district's
    total; schools with nobody measured have empty counts. `schools` are in the order pages
    group them: by level (elementary, middle, high, K-12, other), then by name."""

    district_id: int
    month: date
    subgroup: str
    subject: str | None
    total: RollupRow
    schools: list[RollupRow] = field(default_factory=list)


_LEVEL_ORDER = [choice.value for choice in SchoolLevel]


def district_rollup(
    district: District, *, month: date, subgroup: str = ALL, subject: str | None = None
) -> DistrictRollup:
    """The district's schools for a month (any day of it), on every standard or the subject's,
    for all students or a subgroup against the rest of each school. Two queries, whatever the
    number of schools and students."""
    month = month_first(month)
    groups = sorted({ALL, subgroup})
    counts: dict[int, dict[str, Counts]] = defaultdict(dict)
    for row in _subject_sums(
        SchoolSubjectMonth.objects.filter(
            district=district, month=month, subgroup__in=groups, subject=subject or ALL_SUBJECTS
        ).values("school_id", "subgroup")
    ):
        counts[row["school_id"]][row["subgroup"]] = _subject_counts(
            (
                row["students"],
                row["students_proficient"],
                row["measured"],
                row["proficient"],
                row["l1"],
                row["l2"],
                row["l3"],
                row["l4"],
            )
        )
    schools = []
    for school_id, name, level in (
        School.objects.filter(district=district, is_active=True)
        .order_by("name", "pk")
        .values_list("pk", "name", "level")
    ):
        group, rest = _with_rest(counts.get(school_id, {}), subgroup)
        schools.append(RollupRow(key=school_id, label=name, group=group, rest=rest, level=level))
    schools.sort(
        key=lambda row: (
            _LEVEL_ORDER.index(row.level) if row.level in _LEVEL_ORDER else len(_LEVEL_ORDER),
            row.label,
        )
    )
    total_group = summed((row.group for row in schools), disjoint=True)
    total_rest = (
        None if subgroup == ALL else summed((row.rest or EMPTY for row in schools), disjoint=True)
    )
    return DistrictRollup(
        district_id=district.pk,
        month=month,
        subgroup=subgroup,
        subject=subject,
        total=RollupRow(key="district", label=district.name, group=total_group, rest=total_rest),
        schools=schools,
    )


def district_trend(
    district: District, *, subgroup: str = ALL, subject: str | None = None
) -> list[TrendPoint]:
    """The district's total month by month. One query."""
    rows = SchoolSubjectMonth.objects.filter(
        district=district, subgroup__in=sorted({ALL, subgroup}), subject=subject or ALL_SUBJECTS
    )
    return _trend(_subject_sums(rows.values("month", "subgroup")), subgroup)


def rollup_months(district_id: int) -> list[date]:
    """The months the district's rollups hold, oldest first (the as-of filter's choices)."""
    return list(
        SchoolSubjectMonth.objects.filter(
            district_id=district_id, subgroup=ALL, subject=ALL_SUBJECTS
        )
        .order_by("month")
        .values_list("month", flat=True)
        .distinct()
    )


def rollup_subjects(district_id: int, *, month: date) -> list[str]:
    """The subjects measured in the district that month (the subject filter's choices)."""
    return sorted(
        SchoolSubjectMonth.objects.filter(
            district_id=district_id, month=month_first(month), subgroup=ALL
        )
        .exclude(subject=ALL_SUBJECTS)
        .order_by()
        .values_list("subject", flat=True)
        .distinct()
    )


def rollup_rebuild_latest(district_id: int) -> RollupRebuild | None:
    """The district's last rebuild and its drift (for an admin page)."""
    return (
        RollupRebuild.objects.filter(district_id=district_id)
        .order_by("-finished_at", "-pk")
        .first()
    )

"""Reads behind the teacher dashboard: a section's mastery grid, one standard within a section,
one student's history on one standard, and a student's mastery profile.

Access is checked by the foundation's selectors (section_for_user, student_for_user) before any
of these run; the functions here add the dashboard's own 404s (a student not in the section now,
a standard the section never measured). Every read is a fixed number of queries, whatever the
roster or the number of standards: estimates, overrides and history are each one query.
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property

from django.db import connection
from django.db.models import CharField, IntegerField, Q, Value
from django.http import Http404
from django.utils import timezone

from assessments.methods import Level, Policy, policy_for_district
from assessments.models import (
    Assessment,
    AssessmentItem,
    AssessmentPurpose,
    MasteryEstimate,
    MasteryEstimateHistory,
    MasteryEvidence,
    MasteryOverride,
    Score,
    ScoreStatus,
    Standard,
    StudentAssessment,
    Trend,
)
from privacy.services import StudentRef
from students.models import Enrollment, Section, Student
from students.selectors import RosterEntry, section_roster

# A standard counts as "recently taught" when the section measured it this many days before the
# reference date (today, or the "as of" date of the filters).
RECENT_DAYS = 21
# Missing work is listed from this many days back unless the filters give a date range.
MISSING_DAYS = 42
# Live updates look back this far past the client's last check: the engine stamps computed_at
# before its transaction commits, so a change can become visible slightly after its stamp.
CHANGES_OVERLAP = timedelta(seconds=60)
STUDENT_SORTS = {"name": "Name", "need": "Most in need first"}
STANDARD_SORTS = {"code": "Code", "mastery": "Lowest class mastery first"}


# --- what the pages hold ------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One student's level on one standard, as shown (an override replaces the estimate)."""

    level: int
    probability: float | None = None
    evidence_count: int = 0
    trend: str = Trend.FLAT
    overridden: bool = False
    estimated_level: int | None = None
    override_note: str = ""


@dataclass(frozen=True)
class Measurement:
    """An assessment (and item, if the alignment is an item's) that measured a standard."""

    standard_id: int
    assessment_id: int
    title: str
    kind: str
    due_on: date | None
    item_code: str = ""


@dataclass(frozen=True)
class StandardColumn:
    standard: Standard
    last_measured: date | None
    kinds: frozenset[str]

    @property
    def short_code(self) -> str:
        return standard_short_code(self.standard.code)


@dataclass(frozen=True)
class OverviewFilters:
    """The section page's filters and sorts, already validated (dashboard.forms)."""

    subject: str = ""
    cluster_id: int | None = None
    kind: str = ""
    date_from: date | None = None
    as_of: date | None = None
    student_sort: str = "name"
    standard_sort: str = "code"


@dataclass(frozen=True)
class FilterChoices:
    subjects: list[str]
    clusters: list[tuple[int, str]]
    kinds: list[tuple[str, str]]


@dataclass
class SectionMastery:
    section: Section
    policy: Policy
    filters: OverviewFilters
    roster: list[RosterEntry]
    students: list[Student]  # in the chosen order
    columns: list[StandardColumn]  # in the chosen order
    cells: dict[tuple[int, int], Cell]
    choices: FilterChoices
    reference_date: date
    measurements: list[Measurement] = field(default_factory=list)

    @property
    def is_current(self) -> bool:
        return self.filters.as_of is None

    @cached_property
    def empty_cell(self) -> Cell:
        return Cell(level=self.policy.no_evidence.value)

    def cell(self, student_id: int, standard_id: int) -> Cell:
        return self.cells.get((student_id, standard_id)) or self.empty_cell

    @cached_property
    def students_by_level(self) -> dict[int, dict[int, list[Student]]]:
        """Per standard: which students are at each level of the scale (every level present),
        counted once per page."""
        levels = [level.value for level in levels_of(self.policy)]
        no_evidence = self.policy.no_evidence.value
        students = [(student.pk, student) for student in self.students]
        by_standard: dict[int, dict[int, list[Student]]] = {}
        for column in self.columns:
            standard_id = column.standard.pk
            counts: dict[int, list[Student]] = {value: [] for value in levels}
            for student_id, student in students:
                cell = self.cells.get((student_id, standard_id))
                counts.setdefault(cell.level if cell else no_evidence, []).append(student)
            by_standard[standard_id] = counts
        return by_standard


def standard_short_code(code: str) -> str:
    """CCSS.MATH.CONTENT.4.NF.A.1 → 4.NF.A.1: the part a teacher reads."""
    for prefix in ("CCSS.MATH.CONTENT.", "CCSS.ELA-LITERACY.", "CCSS.MATH.PRACTICE."):
        if code.startswith(prefix):
            return code[len(prefix) :]
    return code


def levels_of(policy: Policy) -> list[Level]:
    """The scale from the lowest level up, with No Evidence first."""
    return [policy.no_evidence, *sorted(policy.levels, key=lambda level: level.value)]


# --- the section's standards --------------------------------------------------------------------


def section_measurements(
    section_ids: list[int], standard_id: int | None = None
) -> list[Measurement]:
    """Every (standard, assessment[, item]) alignment of these sections' active assessments: one
    query (a union of whole-assessment and item alignments)."""
    by_assessment = Assessment.standards.through.objects.filter(
        assessment__section_id__in=section_ids, assessment__is_active=True
    )
    by_item = AssessmentItem.standards.through.objects.filter(
        assessmentitem__assessment__section_id__in=section_ids,
        assessmentitem__assessment__is_active=True,
        assessmentitem__is_active=True,
    )
    if standard_id is not None:
        by_assessment = by_assessment.filter(standard_id=standard_id)
        by_item = by_item.filter(standard_id=standard_id)
    # A whole-assessment alignment has no item: an empty code keeps the union's columns alike.
    rows = (
        by_assessment.annotate(no_item=Value("", output_field=CharField()))
        .values_list(
            "standard_id",
            "assessment_id",
            "assessment__title",
            "assessment__kind",
            "assessment__due_on",
            "no_item",
        )
        .union(
            by_item.values_list(
                "standard_id",
                "assessmentitem__assessment_id",
                "assessmentitem__assessment__title",
                "assessmentitem__assessment__kind",
                "assessmentitem__assessment__due_on",
                "assessmentitem__code",
            ),
            all=True,
        )
    )
    measurements = []
    for standard, assessment, title, kind, due_on, item_code in rows:
        measurements.append(
            Measurement(
                standard_id=standard,
                assessment_id=assessment,
                title=title,
                kind=kind,
                due_on=due_on,
                item_code=item_code or "",
            )
        )
    measurements.sort(key=lambda m: (m.due_on or date.min, m.title, m.item_code), reverse=True)
    return measurements


def _columns(
    measurements: list[Measurement], standards: dict[int, Standard], filters: OverviewFilters
) -> list[StandardColumn]:
    last: dict[int, date | None] = {}
    kinds: dict[int, set[str]] = defaultdict(set)
    for m in measurements:
        if filters.kind and m.kind != filters.kind:
            continue
        if filters.date_from and (m.due_on is None or m.due_on < filters.date_from):
            continue
        if filters.as_of and (m.due_on is None or m.due_on > filters.as_of):
            continue
        kinds[m.standard_id].add(m.kind)
        if m.due_on and (last.get(m.standard_id) is None or m.due_on > last[m.standard_id]):
            last[m.standard_id] = m.due_on
        last.setdefault(m.standard_id, None)
    columns = []
    for standard_id in last:
        standard = standards.get(standard_id)
        if standard is None:
            continue
        if filters.subject and standard.subject != filters.subject:
            continue
        if filters.cluster_id and standard.parent_id != filters.cluster_id:
            continue
        columns.append(StandardColumn(standard, last[standard_id], frozenset(kinds[standard_id])))
    return columns


def _choices(standards: dict[int, Standard]) -> FilterChoices:
    from assessments.models import AssessmentKind

    clusters = {
        s.parent_id: s.parent.description or s.parent.code
        for s in standards.values()
        if s.parent_id and s.parent is not None
    }
    return FilterChoices(
        subjects=sorted({s.subject for s in standards.values() if s.subject}),
        clusters=sorted(clusters.items(), key=lambda item: item[1]),
        kinds=list(AssessmentKind.choices),
    )


# --- levels: current or as of a date ------------------------------------------------------------


def cells_read(
    *,
    student_ids: list[int],
    standard_ids: list[int],
    policy: Policy,
    as_of: date | None = None,
    detail: bool = True,
) -> dict[tuple[int, int], Cell]:
    """The level of every (student, standard) pair: estimates now, or the estimate history as of
    a date; overrides replace the estimate where one was in force. Two queries. Without
    `detail`, cells hold the level and trend only (no chance, no evidence count)."""
    if not student_ids or not standard_ids:
        return {}
    cells: dict[tuple[int, int], Cell] = {}
    if not detail:
        _levels_read(cells, student_ids, standard_ids, as_of)
    else:
        if as_of is None:
            rows = MasteryEstimate.objects.filter(
                student_id__in=student_ids, standard_id__in=standard_ids
            ).values_list(
                "student_id", "standard_id", "level", "probability", "evidence_count", "trend"
            )
        else:
            rows = _history_as_of(student_ids, standard_ids, as_of)
        for student_id, standard_id, level, probability, count, trend in rows:
            cells[(student_id, standard_id)] = Cell(
                level=level,
                probability=probability,
                evidence_count=count or 0,
                # The trend is today's: history keeps no trend of its own.
                trend=trend if as_of is None else Trend.FLAT,
            )
    overrides = MasteryOverride.objects.filter(
        student_id__in=student_ids, standard_id__in=standard_ids
    )
    if as_of is None:
        overrides = overrides.filter(cleared_at__isnull=True)
    else:
        end_of_day = _end_of(as_of)
        overrides = overrides.filter(set_at__lte=end_of_day).filter(
            Q(cleared_at__isnull=True) | Q(cleared_at__gt=end_of_day)
        )
    for student_id, standard_id, level, note in overrides.order_by("set_at").values_list(
        "student_id", "standard_id", "level", "note"
    ):
        base = cells.get((student_id, standard_id)) or Cell(level=policy.no_evidence.value)
        cells[(student_id, standard_id)] = Cell(
            level=level,
            probability=base.probability,
            evidence_count=base.evidence_count,
            trend=base.trend,
            overridden=True,
            estimated_level=base.level,
            override_note=note,
        )
    return cells


def _levels_read(
    cells: dict[tuple[int, int], Cell],
    student_ids: list[int],
    standard_ids: list[int],
    as_of: date | None,
) -> None:
    """Fill `cells` with levels and trends only. A section's 6,000 pairs share a handful of
    distinct (level, trend) values: one Cell each, not one per pair (a third of the page)."""
    if as_of is None:
        rows = MasteryEstimate.objects.filter(
            student_id__in=student_ids, standard_id__in=standard_ids
        ).values_list("student_id", "standard_id", "level", "trend")
    else:
        rows = [
            (s, t, level, trend)
            for s, t, level, _, _, trend in _history_as_of(student_ids, standard_ids, as_of)
        ]
    shared: dict[tuple[int, str], Cell] = {}
    for student_id, standard_id, level, trend in rows:
        cell = shared.get((level, trend))
        if cell is None:
            cell = shared[(level, trend)] = Cell(level=level, trend=trend)
        cells[(student_id, standard_id)] = cell


def _history_as_of(
    student_ids: list[int], standard_ids: list[int], as_of: date
) -> list[tuple[int, int, int, float | None, int, str]]:
    """The newest history row on or before the date, per pair: one query. PostgreSQL picks the
    rows itself (DISTINCT ON, on the (student, standard, as_of) index); elsewhere the rows come
    in order and the last of each pair wins."""
    history = MasteryEstimateHistory.objects.filter(
        student_id__in=student_ids, standard_id__in=standard_ids, as_of__lte=as_of
    )
    columns = ("student_id", "standard_id", "level", "probability", "evidence_count")
    if connection.features.can_distinct_on_fields:
        picked = (
            history.order_by("student_id", "standard_id", "-as_of", "-recorded_at", "-id")
            .distinct("student_id", "standard_id")
            .values_list(*columns)
        )
        return [(*row, Trend.FLAT) for row in picked]
    newest: dict[tuple[int, int], tuple] = {}
    for row in history.order_by("as_of", "recorded_at", "id").values_list(*columns):
        newest[(row[0], row[1])] = row
    return [(*row, Trend.FLAT) for row in newest.values()]


def _end_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.max.time()))


# --- the section overview -----------------------------------------------------------------------


@dataclass
class SectionInputs:
    """What the section page reads fresh on every request, before its levels: the policy, the
    section's alignments and standards, and its current roster (which the access log needs)."""

    section: Section
    policy: Policy
    filters: OverviewFilters
    measurements: list[Measurement]
    standards_by_id: dict[int, Standard]
    roster: list[RosterEntry]
    reference_date: date

    @cached_property
    def choices(self) -> FilterChoices:
        return _choices(self.standards_by_id)

    def fingerprint(self) -> str:
        """A digest of everything above that the page shows: with the district's mastery version
        (dashboard.cache), the key of the section's cached grid. A renamed student, a new
        enrollment or alignment, an edited standard or policy gives another key."""
        policy = self.policy
        standards = sorted(
            (
                s.pk,
                s.code,
                s.description,
                s.subject,
                s.parent_id,
                s.parent.code if s.parent else "",
                s.parent.description if s.parent else "",
            )
            for s in self.standards_by_id.values()
        )
        roster = [
            (
                e.student_id,
                e.student.last_name,
                e.student.first_name,
                e.student.preferred_first_name,
                e.student.student_number,
                e.begin_date,
                getattr(e, "program_count", None),
            )
            for e in self.roster
        ]
        content = (
            self.section.pk,
            self.filters,
            self.reference_date,
            (policy.levels, policy.no_evidence, policy.mastery_level),
            self.measurements,
            standards,
            roster,
        )
        return hashlib.blake2b(repr(content).encode(), digest_size=20).hexdigest()


def section_inputs(section: Section, filters: OverviewFilters) -> SectionInputs:
    """The section page's fresh reads: five queries whatever its size."""
    policy = policy_for_district(section.district_id, with_fit=False)
    measurements = section_measurements([section.pk])
    # Only what the page and its fingerprint read of a standard (half the cost of whole rows).
    standards = (
        Standard.objects.filter(pk__in={m.standard_id for m in measurements}, is_active=True)
        .select_related("parent")
        .only("code", "description", "subject", "parent", "parent__code", "parent__description")
    )
    return SectionInputs(
        section=section,
        policy=policy,
        filters=filters,
        measurements=measurements,
        standards_by_id={s.pk: s for s in standards},
        roster=section_roster(section),
        reference_date=filters.as_of or timezone.localdate(),
    )


def section_mastery(
    section: Section, filters: OverviewFilters, inputs: SectionInputs | None = None
) -> SectionMastery:
    """The section's grid of levels, filtered and sorted: seven queries whatever its size (two
    when the inputs were read already)."""
    if inputs is None:
        inputs = section_inputs(section, filters)
    policy = inputs.policy
    columns = _columns(inputs.measurements, inputs.standards_by_id, filters)
    roster = inputs.roster
    students = [e.student for e in roster]
    cells = cells_read(
        student_ids=[s.pk for s in students],
        standard_ids=[c.standard.pk for c in columns],
        policy=policy,
        as_of=filters.as_of,
        detail=False,
    )
    mastery = SectionMastery(
        section=section,
        policy=policy,
        filters=filters,
        roster=roster,
        students=students,
        columns=columns,
        cells=cells,
        choices=inputs.choices,
        reference_date=inputs.reference_date,
        measurements=inputs.measurements,
    )
    _sort(mastery)
    return mastery


def share_at_mastery(mastery: SectionMastery, standard_id: int) -> float | None:
    """The share of the students with evidence who are at or above the mastery level."""
    counts = level_counts(mastery, standard_id)
    measured = sum(len(v) for k, v in counts.items() if k != mastery.policy.no_evidence.value)
    if not measured:
        return None
    at_or_above = sum(len(v) for k, v in counts.items() if k >= mastery.policy.mastery_level)
    return at_or_above / measured


def need_of(mastery: SectionMastery, student: Student) -> tuple[int, int]:
    """(standards below mastery, -sum of levels): larger sorts first as more in need."""
    below = 0
    total = 0
    no_evidence = mastery.policy.no_evidence.value
    student_id = student.pk
    for column in mastery.columns:
        cell = mastery.cells.get((student_id, column.standard.pk))
        level = cell.level if cell else no_evidence
        if level == no_evidence:
            continue
        total += level
        below += level < mastery.policy.mastery_level
    return below, -total


def _sort(mastery: SectionMastery) -> None:
    # Students first: the per-level lists (students_by_level) keep the students' order.
    if mastery.filters.student_sort == "need":
        mastery.students.sort(key=lambda s: (tuple(-x for x in need_of(mastery, s)), s.sort_name))
    if mastery.filters.standard_sort == "mastery":
        shares = {c.standard.pk: share_at_mastery(mastery, c.standard.pk) for c in mastery.columns}
        mastery.columns.sort(
            key=lambda c: (
                shares[c.standard.pk] is None,
                shares[c.standard.pk] or 0.0,
                c.standard.code,
            )
        )
    else:
        mastery.columns.sort(key=lambda c: c.standard.code)


def level_counts(mastery: SectionMastery, standard_id: int) -> dict[int, list[Student]]:
    """Which students are at each level of the scale on one standard (every level present)."""
    return mastery.students_by_level[standard_id]


# --- needs attention ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MissingWork:
    student_id: int
    assessment_title: str
    due_on: date | None


@dataclass(frozen=True)
class AttentionFlag:
    student: Student
    reasons: list[str]


def missing_work(
    section: Section, student_ids: list[int], filters: OverviewFilters
) -> list[MissingWork]:
    """Scores marked missing on the section's assessments, in the filters' date range (without
    one, the last MISSING_DAYS days: the work a teacher can still chase). Two queries: the
    section's assessments, then the students' missing scores in the window through the
    (student, scored_on) index (joined to the assessments, PostgreSQL would scan every result)."""
    assessments = Assessment.objects.filter(section=section, is_active=True)
    if filters.kind:
        assessments = assessments.filter(kind=filters.kind)
    titles = dict(assessments.values_list("pk", "title"))
    until = filters.as_of or timezone.localdate()
    rows = (
        Score.objects.filter(
            student_id__in=student_ids,
            status=ScoreStatus.MISSING,
            scored_on__gte=filters.date_from or until - timedelta(days=MISSING_DAYS),
            scored_on__lte=until,
        )
        .order_by("scored_on", "pk")
        .values_list("student_id", "student_assessment__assessment_id", "scored_on")
    )
    return [
        MissingWork(student_id, titles[assessment_id], scored_on)
        for student_id, assessment_id, scored_on in rows
        if assessment_id in titles
    ]


def attention_list(mastery: SectionMastery, missing: list[MissingWork]) -> list[AttentionFlag]:
    """Students to look at, each with the reasons in words; most reasons first. No queries."""
    return attention_flags(mastery.students, attention_reasons(mastery), missing)


def attention_reasons(mastery: SectionMastery) -> dict[int, list[str]]:
    """The reasons that come from the levels (far below mastery on a recent standard, a falling
    trend), per student id: the part of the attention list the section page caches."""
    policy = mastery.policy
    recent_since = mastery.reference_date - timedelta(days=RECENT_DAYS)
    recent = [c for c in mastery.columns if c.last_measured and recent_since <= c.last_measured]
    # Flag the levels of the reteach group (two or more below mastery), not those just below:
    # mid-unit, most of a class is near mastery, and a list of everyone helps nobody.
    below_mastery = sorted(v.value for v in policy.levels if v.value < policy.mastery_level)
    flagged_levels = set(below_mastery[:-1] or below_mastery)
    recent_columns = [(c.standard.pk, c.short_code) for c in recent]
    all_columns = [(c.standard.pk, c.short_code) for c in mastery.columns]
    found: dict[int, list[str]] = {}
    for student in mastery.students:
        student_id = student.pk
        reasons = []
        below = []
        for standard_id, code in recent_columns:
            cell = mastery.cells.get((student_id, standard_id))
            if cell is not None and cell.level in flagged_levels:
                below.append(code)
        if below:
            names = " or ".join(policy.level_named(v).name for v in sorted(flagged_levels))
            reasons.append(
                f"{names} on {_count(len(below), 'standard')} taught in the last "
                f"{RECENT_DAYS // 7} weeks: {', '.join(below)}"
            )
        falling = [
            code
            for standard_id, code in all_columns
            if (cell := mastery.cells.get((student_id, standard_id))) is not None
            and cell.trend == Trend.FALLING
        ]
        if falling:
            reasons.append(f"Falling trend in recent scores on {', '.join(falling)}")
        if reasons:
            found[student_id] = reasons
    return found


def attention_flags(
    students: list[Student], reasons_by_student: dict[int, list[str]], missing: list[MissingWork]
) -> list[AttentionFlag]:
    """The attention list: the level reasons, then missing work; most reasons first."""
    missing_by_student: dict[int, list[MissingWork]] = defaultdict(list)
    for row in missing:
        missing_by_student[row.student_id].append(row)
    flags = []
    for student in students:
        reasons = list(reasons_by_student.get(student.pk, ()))
        work = missing_by_student.get(student.pk, [])
        if work:
            listed = ", ".join(
                f"{w.assessment_title}" + (f" ({w.due_on:%b} {w.due_on.day})" if w.due_on else "")
                for w in work[:4]
            )
            more = f" and {len(work) - 4} more" if len(work) > 4 else ""
            reasons.append(f"Missing work ({_count(len(work), 'assessment')}): {listed}{more}")
        if reasons:
            flags.append(AttentionFlag(student, reasons))
    flags.sort(key=lambda f: (-len(f.reasons), f.student.sort_name))
    return flags


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


# --- live updates -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CellChange:
    student_id: int
    standard_id: int
    cell: Cell


@dataclass(frozen=True)
class SectionChanges:
    checked_at: datetime
    changes: list[CellChange]
    pending: int
    students: list[StudentRef] = field(default_factory=list)  # whose cells changed (access log)


def section_changes(section: Section, since: datetime | None) -> SectionChanges:
    """Cells of the section whose estimate or override changed since a moment (with an overlap;
    the client compares values), and how many estimates are still being recomputed. Four
    queries, and four more when something changed."""
    checked_at = timezone.now()
    # The roster's and the section's standards' ids first (two small indexed reads): the
    # estimates are then found through their (student, standard) index, not by a scan.
    student_ids = list(
        Enrollment.objects.current()
        .filter(section=section, student__is_active=True)
        .values_list("student_id", flat=True)
    )
    standard_ids = list(
        Assessment.standards.through.objects.filter(
            assessment__section=section, assessment__is_active=True
        )
        .values_list("standard_id", flat=True)
        .union(
            AssessmentItem.standards.through.objects.filter(
                assessmentitem__assessment__section=section, assessmentitem__is_active=True
            ).values_list("standard_id", flat=True)
        )
    )
    in_section = Q(student_id__in=student_ids, standard_id__in=standard_ids)
    pending = MasteryEstimate.objects.filter(in_section, pending_since__isnull=False).count()
    if since is None:
        return SectionChanges(checked_at, [], pending)
    after = since - CHANGES_OVERLAP
    changed_pairs = set(
        MasteryEstimate.objects.filter(in_section, computed_at__gt=after).values_list(
            "student_id", "standard_id"
        )
    ) | set(
        MasteryOverride.objects.filter(in_section)
        .filter(Q(set_at__gt=after) | Q(cleared_at__gt=after))
        .values_list("student_id", "standard_id")
    )
    if not changed_pairs:
        return SectionChanges(checked_at, [], pending)
    policy = policy_for_district(section.district_id, with_fit=False)
    cells = cells_read(
        student_ids=sorted({p[0] for p in changed_pairs}),
        standard_ids=sorted({p[1] for p in changed_pairs}),
        policy=policy,
    )
    changes = [
        CellChange(s, t, cells.get((s, t)) or Cell(level=policy.no_evidence.value))
        for s, t in sorted(changed_pairs)
    ]
    students = [
        StudentRef(pk, str(uuid))
        for pk, uuid in Student.objects.filter(pk__in={p[0] for p in changed_pairs}).values_list(
            "pk", "uuid"
        )
    ]
    return SectionChanges(checked_at, changes, pending, students)


# --- one standard within a section --------------------------------------------------------------


@dataclass
class StandardInSection:
    section: Section
    standard: Standard
    policy: Policy
    roster: list[RosterEntry]
    cells: dict[tuple[int, int], Cell]
    measurements: list[Measurement]

    def cell(self, student_id: int) -> Cell:
        return self.cells.get((student_id, self.standard.pk)) or Cell(
            level=self.policy.no_evidence.value
        )


def standard_in_section(section: Section, standard_id: int) -> StandardInSection:
    """One standard the section measured, with each current student's level; 404 otherwise."""
    measurements = section_measurements([section.pk], standard_id=standard_id)
    standard = (
        Standard.objects.filter(pk=standard_id, district_id=section.district_id, is_active=True)
        .select_related("parent")
        .first()
    )
    if standard is None or not measurements:
        raise Http404("This section has not measured that standard.")
    policy = policy_for_district(section.district_id, with_fit=False)
    roster = section_roster(section)
    cells = cells_read(
        student_ids=[e.student_id for e in roster], standard_ids=[standard.pk], policy=policy
    )
    return StandardInSection(section, standard, policy, roster, cells, measurements)


@dataclass(frozen=True)
class LevelGroup:
    key: str
    title: str
    description: str
    students: list[Student]


def level_groups(view: StandardInSection) -> list[LevelGroup]:
    """Reteach (two or more levels below mastery), practice (one below), extend (at or above),
    and those with no evidence yet: the groups the lessons work starts from."""
    policy = view.policy
    mastery = policy.mastery_level
    values = sorted(level.value for level in policy.levels)
    below = [v for v in values if v < mastery]
    practice_level = below[-1] if below else None
    groups: dict[str, list[Student]] = {"reteach": [], "practice": [], "extend": [], "none": []}
    for enrollment in view.roster:
        level = view.cell(enrollment.student_id).level
        if level == policy.no_evidence.value:
            groups["none"].append(enrollment.student)
        elif level >= mastery:
            groups["extend"].append(enrollment.student)
        elif level == practice_level:
            groups["practice"].append(enrollment.student)
        else:
            groups["reteach"].append(enrollment.student)
    mastery_name = policy.level_named(mastery).name
    return [
        LevelGroup(
            "reteach", "Reteach", f"Two or more levels below {mastery_name}", groups["reteach"]
        ),
        LevelGroup(
            "practice",
            "Practice",
            f"{policy.level_named(practice_level).name if practice_level else 'Just below'}",
            groups["practice"],
        ),
        LevelGroup("extend", "Extend", f"At or above {mastery_name}", groups["extend"]),
        LevelGroup("none", "No evidence yet", "Not yet measured", groups["none"]),
    ]


# --- one student on one standard ----------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceRow:
    observed_on: date
    value: float
    assessment_title: str
    assessment_kind: str
    item_code: str
    points: object
    max_points: object
    status: str


@dataclass
class StudentStandardHistory:
    section: Section
    student: Student
    standard: Standard
    policy: Policy
    cell: Cell
    history: list[MasteryEstimateHistory]
    evidence: list[EvidenceRow]
    missing: list[MissingWork]
    overrides: list[MasteryOverride]  # newest first, cleared ones included

    @property
    def active_override(self) -> MasteryOverride | None:
        return next((o for o in self.overrides if o.cleared_at is None), None)


def enrolled_student(section: Section, student_id: int) -> Student:
    """A student currently in the section; 404 for anyone else (one who left included)."""
    enrollment = (
        Enrollment.objects.current()
        .filter(section=section, student_id=student_id, student__is_active=True)
        .select_related("student")
        .first()
    )
    if enrollment is None:
        raise Http404("No such student in this section.")
    return enrollment.student


def student_standard_history(
    section: Section, student: Student, standard_id: int
) -> StudentStandardHistory:
    view_measurements = section_measurements([section.pk], standard_id=standard_id)
    standard = Standard.objects.filter(
        pk=standard_id, district_id=section.district_id, is_active=True
    ).first()
    if standard is None or not view_measurements:
        raise Http404("This section has not measured that standard.")
    policy = policy_for_district(section.district_id, with_fit=False)
    cell = cells_read(student_ids=[student.pk], standard_ids=[standard.pk], policy=policy).get(
        (student.pk, standard.pk)
    ) or Cell(level=policy.no_evidence.value)
    history = list(
        MasteryEstimateHistory.objects.filter(student=student, standard=standard).order_by(
            "as_of", "recorded_at", "id"
        )
    )
    evidence = [
        EvidenceRow(*row)
        for row in MasteryEvidence.objects.filter(student=student, standard=standard)
        .order_by("-observed_on", "-id")
        .values_list(
            "observed_on",
            "value",
            "score__student_assessment__assessment__title",
            "score__student_assessment__assessment__kind",
            "score__item__code",
            "score__points",
            "score__student_assessment__assessment__max_points",
            "score__status",
        )
    ]
    evidence = [EvidenceRow(**{**vars(row), "item_code": row.item_code or ""}) for row in evidence]
    missing = [
        MissingWork(student.pk, title, day)
        for title, day in Score.objects.filter(
            student=student,
            status=ScoreStatus.MISSING,
            student_assessment__assessment_id__in={m.assessment_id for m in view_measurements},
        )
        .order_by("-scored_on")
        .values_list("student_assessment__assessment__title", "scored_on")
    ]
    overrides = list(
        MasteryOverride.objects.filter(student=student, standard=standard)
        .select_related("set_by")
        .order_by("-set_at", "-id")
    )
    return StudentStandardHistory(
        section, student, standard, policy, cell, history, evidence, missing, overrides
    )


# --- the student profile ------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileStandard:
    standard: Standard
    cell: Cell
    section_ids: tuple[int, ...]

    @property
    def short_code(self) -> str:
        return standard_short_code(self.standard.code)


@dataclass(frozen=True)
class ScoreLine:
    scored_on: date
    assessment_title: str
    kind: str
    purpose: str
    item_code: str
    points: object
    max_points: object
    normalized: float | None
    status: str


@dataclass(frozen=True)
class TestResult:
    administered_on: date
    assessment_title: str
    family: str
    purpose: str
    performance_level: str
    performance_rank: int | None
    points: object
    max_points: object


@dataclass
class StudentMastery:
    policy: Policy
    standards: list[ProfileStandard]
    history: dict[int, list[tuple[date, float | None, int]]]  # standard id → (as of, p, level)
    scores: list[ScoreLine]
    test_results: list[TestResult]
    section_titles: dict[int, str]


def student_mastery(
    student: Student, section_ids: list[int], section_titles: dict[int, str]
) -> StudentMastery:
    """A student's mastery on every standard of their current sections (and any other standard
    with evidence), its history, their scores and their interim or state results: nine queries."""
    policy = policy_for_district(student.district_id, with_fit=False)
    # The standards measured in the student's sections and those the student has an estimate on,
    # in one query: (standard, section) pairs, the section None for an estimate.
    measured_in: dict[int, set[int]] = defaultdict(set)
    estimated = MasteryEstimate.objects.filter(student=student).values_list(
        "standard_id", Value(None, output_field=IntegerField())
    )
    if section_ids:
        estimated = estimated.union(
            Assessment.standards.through.objects.filter(
                assessment__section_id__in=section_ids, assessment__is_active=True
            ).values_list("standard_id", "assessment__section_id"),
            AssessmentItem.standards.through.objects.filter(
                assessmentitem__assessment__section_id__in=section_ids,
                assessmentitem__is_active=True,
            ).values_list("standard_id", "assessmentitem__assessment__section_id"),
        )
    standard_ids: set[int] = set()
    for standard_id, section_id in estimated:
        standard_ids.add(standard_id)
        if section_id is not None:
            measured_in[standard_id].add(section_id)
    # Only what the profile shows of a standard (its grade levels and framework are not).
    standard_list = list(
        Standard.objects.filter(pk__in=standard_ids, is_active=True)
        .only("code", "description", "subject")
        .order_by("subject", "code")
    )
    cells = cells_read(
        student_ids=[student.pk], standard_ids=[s.pk for s in standard_list], policy=policy
    )
    history: dict[int, list[tuple[date, float | None, int]]] = defaultdict(list)
    for standard_id, as_of, probability, level in (
        MasteryEstimateHistory.objects.filter(student=student)
        .order_by("standard_id", "as_of", "recorded_at", "id")
        .values_list("standard_id", "as_of", "probability", "level")
    ):
        history[standard_id].append((as_of, probability, level))
    scores = [
        ScoreLine(scored_on, title, kind, purpose, item_code or "", *rest)
        # The student on both tables (a score's student is its sitting's): with only the scores
        # narrowed, the planner reads every sitting of a small district to hash-join them.
        for scored_on, title, kind, purpose, item_code, *rest in Score.objects.filter(
            student=student, student_assessment__student=student
        )
        .order_by("-scored_on", "student_assessment__assessment__title", "item__position")
        .values_list(
            "scored_on",
            "student_assessment__assessment__title",
            "student_assessment__assessment__kind",
            "student_assessment__assessment__purpose",
            "item__code",
            "points",
            "student_assessment__assessment__max_points",
            "normalized",
            "status",
        )
    ]
    results = [
        TestResult(
            administered_on=r.administered_on,
            assessment_title=r.assessment.title,
            family=r.assessment.family,
            purpose=r.assessment.get_purpose_display(),
            performance_level=r.performance_level.name if r.performance_level else "",
            performance_rank=r.performance_level.rank if r.performance_level else None,
            points=next((s.points for s in r.whole_scores), None),
            max_points=r.assessment.max_points,
        )
        for r in StudentAssessment.objects.filter(
            student=student,
            assessment__purpose__in=[AssessmentPurpose.INTERIM, AssessmentPurpose.STATE],
        )
        .select_related("assessment", "performance_level")
        .prefetch_related(_whole_scores())
        .order_by("-administered_on")
    ]
    return StudentMastery(
        policy=policy,
        standards=[
            ProfileStandard(
                s,
                cells.get((student.pk, s.pk)) or Cell(level=policy.no_evidence.value),
                tuple(sorted(measured_in.get(s.pk, ()))),
            )
            for s in standard_list
        ],
        history=dict(history),
        scores=scores,
        test_results=results,
        section_titles=section_titles,
    )


def _whole_scores():  # type: ignore[no-untyped-def]
    from django.db.models import Prefetch

    return Prefetch(
        "scores", queryset=Score.objects.filter(item__isnull=True), to_attr="whole_scores"
    )

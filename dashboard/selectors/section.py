"""Reads behind a section's overview: its inputs and mastery grid, the needs-attention list, and
what changed since the page's last check. Every read is a fixed number of queries, whatever the
roster or the number of standards."""

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property

from django.db.models import Q
from django.utils import timezone

from assessments.methods import AttentionThresholds, Policy, policy_for_district
from assessments.models import (
    Assessment,
    AssessmentItem,
    MasteryEstimate,
    MasteryOverride,
    Score,
    ScoreStatus,
    Standard,
    Trend,
)
from dashboard.selectors.levels import (
    Cell,
    FilterChoices,
    Measurement,
    OverviewFilters,
    SectionMastery,
    cells_read,
    filter_choices,
    section_measurements,
    standard_columns,
)
from privacy.services import StudentRef
from students.models import Enrollment, Section, Student
from students.selectors import RosterEntry, section_roster

# The needs-attention thresholds (recently taught, how far back missing work is listed, how many
# students show first) are the district's: Policy.attention, from its MasteryPolicy.
# How much each kind of reason weighs in ranking the list (the gap below mastery on a recently
# taught standard counts in chances, 0 to 1, doubled for a standard measured today).
FALLING_WEIGHT = 0.1  # per standard whose recent scores fall
MISSING_WEIGHT = 0.08  # per missing assessment, up to MISSING_COUNTED
MISSING_COUNTED = 5


# Live updates look back this far past the client's last check: the engine stamps computed_at
# before its transaction commits, so a change can become visible slightly after its stamp.
CHANGES_OVERLAP = timedelta(seconds=60)


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
        return filter_choices(self.standards_by_id)

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
    columns = standard_columns(inputs.measurements, inputs.standards_by_id, filters)
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


@dataclass(frozen=True)
class MissingWork:
    student_id: int
    assessment_title: str
    due_on: date | None


@dataclass(frozen=True)
class AttentionFlag:
    student: Student
    reasons: list[str]
    # How much the reasons matter, for the order of the list: the larger, the sooner.
    severity: float = 0.0


def missing_work(
    section: Section,
    student_ids: list[int],
    filters: OverviewFilters,
    *,
    missing_days: int = AttentionThresholds.missing_days,
) -> list[MissingWork]:
    """Scores marked missing on the section's assessments, in the filters' date range (without
    one, the last `missing_days` days, the district's setting: the work a teacher can still
    chase). Two queries: the
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
            scored_on__gte=filters.date_from or until - timedelta(days=missing_days),
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


def attention_list(
    mastery: SectionMastery,
    missing: list[MissingWork],
    taught: dict[int, date] | None = None,
) -> list[AttentionFlag]:
    """Students to look at, each with the reasons in words, the most pressing first. No
    queries. `taught`: standards taught by lesson plans, with the day (attention_reasons)."""
    return attention_flags(mastery.students, attention_reasons(mastery, taught), missing)


@dataclass(frozen=True)
class AttentionReasons:
    severity: float
    reasons: tuple[str, ...]


def attention_reasons(
    mastery: SectionMastery, taught: dict[int, date] | None = None
) -> dict[int, AttentionReasons]:
    """The reasons that come from the levels, per student id, with how much they matter: far
    below mastery on a recently taught standard (weighed by how far below, and more the more
    recently the standard was taught) and a falling trend. The part of the list the section
    page caches. A standard is taught when an assessment measured it or, in `taught` (standard
    id → day, lessons.selectors.standards_taught), a lesson plan marked taught targeted it."""
    policy = mastery.policy
    recent_days = policy.attention.recent_days
    reference = mastery.reference_date
    recent_since = reference - timedelta(days=recent_days)
    taught = taught or {}
    # When each recently taught standard was last measured or taught, whichever is later.
    recent_day: dict[int, date] = {}
    for c in mastery.columns:
        days = [day for day in (c.last_measured, taught.get(c.standard.pk)) if day is not None]
        if days and recent_since <= max(days):
            recent_day[c.standard.pk] = max(days)
    recent = [c for c in mastery.columns if c.standard.pk in recent_day]
    # Flag the levels of the reteach group (two or more below mastery), not those just below:
    # mid-unit, most of a class is near mastery, and a list of everyone helps nobody.
    below_mastery = sorted(v.value for v in policy.levels if v.value < policy.mastery_level)
    flagged_levels = set(below_mastery[:-1] or below_mastery)
    mastery_min = policy.level_named(policy.mastery_level).min
    recency = {
        standard_id: 1 + max(0, recent_days - (reference - day).days) / recent_days
        for standard_id, day in recent_day.items()
    }
    recent_columns = [(c.standard.pk, c.short_code) for c in recent]
    all_columns = [(c.standard.pk, c.short_code) for c in mastery.columns]
    found: dict[int, AttentionReasons] = {}
    for student in mastery.students:
        student_id = student.pk
        reasons = []
        severity = 0.0
        below = []
        for standard_id, code in recent_columns:
            cell = mastery.cells.get((student_id, standard_id))
            if cell is not None and cell.level in flagged_levels:
                gap = mastery_min - (cell.probability if cell.probability is not None else 0)
                severity += max(0.05, gap) * recency[standard_id]
                chance = f" ({round(cell.probability * 100)}%)" if cell.probability else ""
                below.append(f"{code}{chance}")
        if below:
            names = " or ".join(policy.level_named(v).name for v in sorted(flagged_levels))
            weeks = max(1, recent_days // 7)
            reasons.append(
                f"{names} on {_count(len(below), 'standard')} taught in the last "
                f"{_count(weeks, 'week')}: {', '.join(below)}"
            )
        falling = [
            code
            for standard_id, code in all_columns
            if (cell := mastery.cells.get((student_id, standard_id))) is not None
            and cell.trend == Trend.FALLING
        ]
        if falling:
            severity += FALLING_WEIGHT * len(falling)
            reasons.append(f"Falling trend in recent scores on {', '.join(falling)}")
        if reasons:
            found[student_id] = AttentionReasons(severity, tuple(reasons))
    return found


def attention_flags(
    students: list[Student],
    reasons_by_student: dict[int, AttentionReasons],
    missing: list[MissingWork],
) -> list[AttentionFlag]:
    """The attention list: the level reasons, then missing work; the most severe first."""
    missing_by_student: dict[int, list[MissingWork]] = defaultdict(list)
    for row in missing:
        missing_by_student[row.student_id].append(row)
    flags = []
    for student in students:
        found = reasons_by_student.get(student.pk)
        reasons = list(found.reasons) if found else []
        severity = found.severity if found else 0.0
        work = missing_by_student.get(student.pk, [])
        if work:
            listed = ", ".join(
                f"{w.assessment_title}" + (f" ({w.due_on:%b} {w.due_on.day})" if w.due_on else "")
                for w in work[:4]
            )
            more = f" and {len(work) - 4} more" if len(work) > 4 else ""
            reasons.append(f"Missing work ({_count(len(work), 'assessment')}): {listed}{more}")
            severity += MISSING_WEIGHT * min(len(work), MISSING_COUNTED)
        if reasons:
            flags.append(AttentionFlag(student, reasons, round(severity, 4)))
    flags.sort(key=lambda f: (-f.severity, -len(f.reasons), f.student.sort_name))
    return flags


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


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

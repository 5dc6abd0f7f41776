"""What the section pages hold and share: cells, measurements, standard columns, filters; the
section's standards and its levels, current or as of a date (estimates, overrides and history,
each one query)."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from django.db import connection
from django.db.models import CharField, Q, Value

from assessments.methods import Level, Policy
from assessments.models import (
    Assessment,
    AssessmentItem,
    MasteryEstimate,
    MasteryEstimateHistory,
    MasteryOverride,
    Standard,
    Trend,
    standard_short_code,
)
from rollups.counting import end_of
from students.models import Section, Student
from students.selectors import RosterEntry

STUDENT_SORTS = {"name": "Name", "need": "Most in need first"}


STANDARD_SORTS = {"code": "Code", "mastery": "Lowest class mastery first"}


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


def levels_of(policy: Policy) -> list[Level]:
    """The scale from the lowest level up, with No Evidence first."""
    return [policy.no_evidence, *sorted(policy.levels, key=lambda level: level.value)]


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
            "no_item",  # type: ignore[misc]  # django-stubs misses annotations on a through model
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


def standard_columns(
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
        latest = last.get(m.standard_id)
        if m.due_on and (latest is None or m.due_on > latest):
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


def filter_choices(standards: dict[int, Standard]) -> FilterChoices:
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
        rows: Iterable[tuple[int, int, int, float | None, int, str]]
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
        end_of_day = end_of(as_of)
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
    rows: Iterable[tuple[int, int, int, str]]
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

"""Reads of one standard within a section (the class at each level, groups by need) and of one
student's history on it, with the evidence behind each estimate."""

from dataclasses import dataclass
from datetime import date

from django.http import Http404

from assessments.methods import Policy, policy_for_district
from assessments.models import (
    MasteryEstimateHistory,
    MasteryEvidence,
    MasteryOverride,
    Score,
    ScoreStatus,
    Standard,
)
from dashboard.selectors.levels import Cell, Measurement, cells_read, section_measurements
from dashboard.selectors.section import MissingWork
from students.models import Enrollment, Section, Student
from students.selectors import RosterEntry, section_roster


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
    practice_level = policy.practice_level
    groups: dict[str, list[Student]] = {"reteach": [], "practice": [], "extend": [], "none": []}
    for enrollment in view.roster:
        # The rule lives with the policy (assessments.methods): lessons build their groups by it.
        groups[policy.need_of(view.cell(enrollment.student_id).level)].append(enrollment.student)
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

"""Writes of lesson plans: keyword-only, typed, atomic, by an acting user who may edit the plan
(a current teacher or co-teacher of its section; anyone else: PermissionDenied, as a view that
found the plan with lessons.selectors.plan_for_user would answer 403).

Plans:
- `plan_create(*, acting_user, section, first_day, last_day=None, objective="", notes="",
  standards=()) -> LessonPlan`
- `plan_update(*, acting_user, plan, first_day=None, last_day=None, objective=None, notes=None,
  standards=None) -> LessonPlan` (None: unchanged)
- `plan_copy(*, acting_user, plan, to_section, to_day) -> LessonPlan`: standards, objective,
  notes, span, links and files, activities by group; groups rebuilt from `to_section`'s
  students (a teacher's own groups come over empty).
- `template_save_from_plan(*, acting_user, plan, name) -> PlanTemplate` and
  `plan_create_from_template(*, acting_user, template, section, first_day, last_day=None)`.
- `plan_delete(*, acting_user, plan)`: the plan, its groups and materials; their files leave
  the storage once the deletion commits.
- `plan_mark_taught(*, acting_user, plan)` / `plan_unmark_taught(...)`: send
  lessons.signals.plans_taught after commit.
- `exit_ticket_attach(*, acting_user, plan, assessment)` / `exit_ticket_detach(...)`.
- `exit_ticket_create(*, acting_user, plan, title, max_points) -> Assessment`: a short quiz of
  the section on the plan's standards (assessments.services.assessment_create, the score-entry
  pages' own), due on the plan's last day, attached as its exit ticket.

Groups (refused with GroupsLocked while the plan's groups are locked, but for renames and
activities):
- `groups_build(*, acting_user, plan, standard) -> list[PlanGroup]`: reteach, practice and
  extend from the current levels by the district's policy (Policy.need_of, the standard page's
  rule), and "Not yet measured" when anyone is; replaces the plan's groups, keeping each kind's
  activities.
- `group_move_student(*, acting_user, plan, student, to_group) -> PlanGroupMember`
- `group_rename(*, acting_user, group, name)`, `group_add(*, acting_user, plan, name,
  kind=CUSTOM, standard=None)`, `group_activities_set(*, acting_user, group, texts)`
- `groups_lock(*, acting_user, plan)` / `groups_unlock(...)`
- `group_moves_accept(*, acting_user, plan, moves) -> list[ProposedMove]`: applies those of
  `moves` that lessons.selectors.group_moves_proposed still proposes.

Materials:
- `material_add_file(*, acting_user, plan, upload, name=None) -> PlanMaterial`: refused
  (MaterialRefused) above settings.TRELLIS_LESSON_UPLOAD_MAX_BYTES before anything is read, and
  unless its content is a PDF, an image, a Word, PowerPoint or Excel document (docx, pptx,
  xlsx) or plain UTF-8 text, whatever its name; kept through Django's default storage under
  lesson-materials/ (never served by the web server).
- `material_add_link(*, acting_user, plan, url, title="") -> PlanMaterial` (http and https only)
- `material_remove(*, acting_user, material)`
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from functools import partial

import filetype
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile, File
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from assessments.methods import policy_for_district
from assessments.models import (
    Assessment,
    AssessmentItem,
    AssessmentKind,
    AssessmentPurpose,
    Standard,
)
from assessments.selectors import current_levels, level_of
from assessments.services import assessment_create
from lessons.models import (
    GroupActivity,
    GroupKind,
    LessonPlan,
    PlanGroup,
    PlanGroupMember,
    PlanMaterial,
    PlanTemplate,
)
from lessons.selectors import (
    KIND_OF_NEED,
    NOT_MEASURED_NAME,
    ProposedMove,
    group_moves_proposed,
    may_edit_plan,
)
from lessons.signals import plans_taught_on_commit
from students.models import Enrollment, Section, Student, in_force
from students.selectors import section_roster

logger = logging.getLogger(__name__)


class GroupsLocked(ValidationError):
    """The plan's groups are locked for the lesson: unlock them first."""


class MaterialRefused(ValidationError):
    """An upload or link that a plan does not take, with the reason in words."""


# What a material may hold, by the MIME type filetype reads from its content.
ALLOWED_MATERIAL_TYPES = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG image",
    "image/png": "PNG image",
    "image/gif": "GIF image",
    "image/webp": "WebP image",
    "image/bmp": "BMP image",
    "image/tiff": "TIFF image",
    "image/heic": "HEIC image",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word document",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
        "PowerPoint presentation"
    ),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel workbook",
}
PLAIN_TEXT = "text/plain"
ALLOWED_IN_WORDS = "a PDF, an image, a Word, PowerPoint or Excel document, or plain text"
GROUP_NAMES: dict[str, str] = {
    GroupKind.RETEACH: "Reteach",
    GroupKind.PRACTICE: "Practice",
    GroupKind.EXTEND: "Extend",
}


# --- Checks


def _require_edit(acting_user: User, plan: LessonPlan) -> None:
    if not may_edit_plan(acting_user, plan):
        raise PermissionDenied("Only the section's teachers change its lesson plans.")


def _require_plannable(acting_user: User, section: Section, day: date) -> None:
    probe = LessonPlan(section=section, first_day=day, last_day=day)
    if not may_edit_plan(acting_user, probe):
        raise PermissionDenied("Only the section's teachers plan its lessons.")


def _require_unlocked(plan: LessonPlan) -> None:
    if plan.groups_locked:
        raise GroupsLocked("The groups are locked for the lesson: unlock them to change them.")


def _standards_checked(section: Section, standards: Iterable[Standard]) -> list[Standard]:
    chosen = list(standards)
    foreign = [s.code for s in chosen if s.district_id != section.district_id]
    if foreign:
        raise ValidationError(
            {"standards": f"Not a standard of this district: {', '.join(foreign)}."}
        )
    return chosen


# --- Plans


@transaction.atomic
def plan_create(
    *,
    acting_user: User,
    section: Section,
    first_day: date,
    last_day: date | None = None,
    objective: str = "",
    notes: str = "",
    standards: Iterable[Standard] = (),
    copied_from: LessonPlan | None = None,
    template: PlanTemplate | None = None,
) -> LessonPlan:
    """A new plan of the section, on first_day (through last_day)."""
    _require_plannable(acting_user, section, first_day)
    chosen = _standards_checked(section, standards)
    plan = LessonPlan(
        section=section,
        first_day=first_day,
        last_day=last_day or first_day,
        objective=objective,
        notes=notes,
        created_by=acting_user,
        copied_from=copied_from,
        template=template,
    )
    plan.full_clean()
    plan.save()
    plan.standards.set(chosen)
    logger.info("lesson plan %s created by %s for section %s", plan.pk, acting_user.pk, section.pk)
    return plan


@transaction.atomic
def plan_update(
    *,
    acting_user: User,
    plan: LessonPlan,
    first_day: date | None = None,
    last_day: date | None = None,
    objective: str | None = None,
    notes: str | None = None,
    standards: Iterable[Standard] | None = None,
) -> LessonPlan:
    """Change what is given (None: unchanged). Moving a plan to other days keeps its groups."""
    _require_edit(acting_user, plan)
    changed = []
    for name, value in (
        ("first_day", first_day),
        ("last_day", last_day),
        ("objective", objective),
        ("notes", notes),
    ):
        if value is not None and getattr(plan, name) != value:
            setattr(plan, name, value)
            changed.append(name)
    if first_day is not None and last_day is None and plan.last_day < plan.first_day:
        plan.last_day = plan.first_day
        changed.append("last_day")
    if changed:
        plan.full_clean()
        # The editor must still teach the section on the new days (it is theirs either way).
        _require_edit(acting_user, plan)
        plan.save(update_fields=[*changed, "updated_at"])
    if standards is not None:
        plan.standards.set(_standards_checked(plan.section, standards))
    return plan


def _activities_by_kind(plan: LessonPlan) -> dict[str, list[str]]:
    activities: dict[str, list[str]] = {}
    for kind, text in (
        GroupActivity.objects.filter(group__plan=plan)
        .order_by("group__position", "group_id", "position", "pk")
        .values_list("group__kind", "text")
    ):
        activities.setdefault(kind, []).append(text)
    return activities


def _activities_add(group: PlanGroup, texts: Sequence[str]) -> None:
    start = group.activities.count()
    for offset, text in enumerate(texts):
        activity = GroupActivity(group=group, text=text, position=start + offset)
        activity.full_clean()
        activity.save()


@transaction.atomic
def plan_copy(
    *, acting_user: User, plan: LessonPlan, to_section: Section, to_day: date
) -> LessonPlan:
    """A copy of the plan for another section or day (the same span length): its standards,
    objective, notes, materials and activities. Groups are built again from the new section's
    students for each standard the original grouped by; a teacher's own groups come over empty
    with their activities. Not copied: taught, exit ticket, lock."""
    _require_edit(acting_user, plan)
    copy = plan_create(
        acting_user=acting_user,
        section=to_section,
        first_day=to_day,
        last_day=to_day + (plan.last_day - plan.first_day),
        objective=plan.objective,
        notes=plan.notes,
        standards=plan.standards.all(),
        copied_from=plan,
    )
    originals = list(
        plan.groups.select_related("standard").prefetch_related("activities").order_by("position")
    )
    built_for = [g.standard for g in originals if g.kind != GroupKind.CUSTOM and g.standard]
    if built_for and built_for[0].district_id == to_section.district_id:
        groups_build(acting_user=acting_user, plan=copy, standard=built_for[0])
    new_groups = {
        (g.kind, g.name if g.kind == GroupKind.CUSTOM else ""): g for g in copy.groups.all()
    }
    for original in originals:
        texts = [a.text for a in original.activities.all()]
        built = original.kind != GroupKind.CUSTOM or original.name == NOT_MEASURED_NAME
        target = new_groups.get(
            (original.kind, "" if original.kind != GroupKind.CUSTOM else original.name)
        )
        if target is None:
            if built and not texts:
                continue
            # A teacher's own group comes over empty: its students were the other section's.
            target = group_add(acting_user=acting_user, plan=copy, name=original.name)
        _activities_add(target, texts)
    for material in plan.materials.all():
        duplicate = PlanMaterial(
            plan=copy,
            url=material.url,
            original_name=material.original_name,
            content_type=material.content_type,
            size=material.size,
            added_by=acting_user,
        )
        if material.file:
            with material.file.open("rb") as source:
                duplicate.file.save("material", ContentFile(source.read()), save=False)
        duplicate.full_clean()
        duplicate.save()
    return copy


@transaction.atomic
def template_save_from_plan(*, acting_user: User, plan: LessonPlan, name: str) -> PlanTemplate:
    """The plan as the acting teacher's personal template: objective, notes, standards and each
    group kind's activities (no students, no days)."""
    _require_edit(acting_user, plan)
    template = PlanTemplate(
        owner=acting_user,
        name=name,
        objective=plan.objective,
        notes=plan.notes,
        activities=_activities_by_kind(plan),
    )
    template.full_clean()
    template.save()
    template.standards.set(plan.standards.all())
    return template


@transaction.atomic
def plan_create_from_template(
    *,
    acting_user: User,
    template: PlanTemplate,
    section: Section,
    first_day: date,
    last_day: date | None = None,
) -> LessonPlan:
    """A new plan from one of the acting user's templates: groups are built for its first
    standard from the section's students, and each kind's activities go to its group."""
    if template.owner_id != acting_user.pk:
        raise PermissionDenied("A template is its owner's own.")
    standards = [
        s
        for s in template.standards.filter(is_active=True).order_by("code")
        if s.district_id == section.district_id
    ]
    plan = plan_create(
        acting_user=acting_user,
        section=section,
        first_day=first_day,
        last_day=last_day,
        objective=template.objective,
        notes=template.notes,
        standards=standards,
        template=template,
    )
    if standards:
        groups_build(acting_user=acting_user, plan=plan, standard=standards[0])
    by_kind = {g.kind: g for g in plan.groups.exclude(kind=GroupKind.CUSTOM)}
    for kind, texts in (template.activities or {}).items():
        if not texts:
            continue
        group = by_kind.get(kind) or group_add(
            acting_user=acting_user, plan=plan, name=GROUP_NAMES.get(kind, "Group")
        )
        _activities_add(group, texts)
    return plan


@transaction.atomic
def plan_delete(*, acting_user: User, plan: LessonPlan) -> None:
    """Delete the plan with its groups, activities and materials; the materials' files leave
    the storage once the deletion commits (a rollback keeps them). Copies and templates made
    from it stay. "Recently taught" no longer counts it: the section's pages are retired."""
    _require_edit(acting_user, plan)
    files = [
        (material.file.storage, material.file.name)
        for material in plan.materials.exclude(file="")
        if material.file.name
    ]
    was_taught, section_id = plan.is_taught, plan.section_id
    plan_id = plan.pk
    plan.delete()
    for storage, name in files:
        transaction.on_commit(partial(storage.delete, name))
    if was_taught:
        plans_taught_on_commit([section_id])
    logger.info("lesson plan %s deleted by %s", plan_id, acting_user.pk)


@transaction.atomic
def plan_mark_taught(*, acting_user: User, plan: LessonPlan) -> LessonPlan:
    """Mark the plan taught (now): "recently taught" counts its standards; the section's cached
    pages are retired after commit (lessons.signals.plans_taught)."""
    _require_edit(acting_user, plan)
    if plan.taught_at is None:
        plan.taught_at = timezone.now()
        plan.save(update_fields=["taught_at", "updated_at"])
        plans_taught_on_commit([plan.section_id])
    return plan


@transaction.atomic
def plan_unmark_taught(*, acting_user: User, plan: LessonPlan) -> LessonPlan:
    _require_edit(acting_user, plan)
    if plan.taught_at is not None:
        plan.taught_at = None
        plan.save(update_fields=["taught_at", "updated_at"])
        plans_taught_on_commit([plan.section_id])
    return plan


@transaction.atomic
def exit_ticket_attach(
    *, acting_user: User, plan: LessonPlan, assessment: Assessment
) -> LessonPlan:
    """Attach an assessment of the plan's section, aligned (whole or by item) to the plan's
    standards and to no other, as its exit ticket."""
    _require_edit(acting_user, plan)
    if assessment.section_id != plan.section_id or not assessment.is_active:
        raise ValidationError({"exit_ticket": "An exit ticket is an assessment of this section."})
    aligned = set(assessment.standards.values_list("pk", flat=True)) | set(
        AssessmentItem.standards.through.objects.filter(
            assessmentitem__assessment=assessment, assessmentitem__is_active=True
        ).values_list("standard_id", flat=True)
    )
    targeted = set(plan.standards.values_list("pk", flat=True))
    if not aligned & targeted or aligned - targeted:
        raise ValidationError(
            {"exit_ticket": "An exit ticket measures the plan's standards, and only those."}
        )
    plan.exit_ticket = assessment
    plan.save(update_fields=["exit_ticket", "updated_at"])
    return plan


@transaction.atomic
def exit_ticket_create(
    *, acting_user: User, plan: LessonPlan, title: str, max_points: Decimal
) -> Assessment:
    """A new short quiz of the plan's section on the plan's standards, due on its last day, as
    its exit ticket: its scores are entered in the score grid and flow into mastery as any."""
    _require_edit(acting_user, plan)
    standards = list(plan.standards.all())
    if not standards:
        raise ValidationError(
            {"exit_ticket": "Choose the plan's standards first: an exit ticket measures them."}
        )
    assessment = assessment_create(
        section=plan.section,
        title=title,
        kind=AssessmentKind.QUIZ,
        purpose=AssessmentPurpose.FORMATIVE,
        due_on=plan.last_day,
        max_points=max_points,
        standards=standards,
        acting_user=acting_user,
    )
    plan.exit_ticket = assessment
    plan.save(update_fields=["exit_ticket", "updated_at"])
    return assessment


@transaction.atomic
def exit_ticket_detach(*, acting_user: User, plan: LessonPlan) -> LessonPlan:
    _require_edit(acting_user, plan)
    if plan.exit_ticket_id is not None:
        plan.exit_ticket = None
        plan.save(update_fields=["exit_ticket", "updated_at"])
    return plan


# --- Groups


def _plan_students(plan: LessonPlan) -> list[Student]:
    return [entry.student for entry in section_roster(plan.section)]


@transaction.atomic
def groups_build(*, acting_user: User, plan: LessonPlan, standard: Standard) -> list[PlanGroup]:
    """Reteach, practice and extend groups for one of the plan's standards, from the section's
    current students and their levels now, by the district's mastery policy; "Not yet measured"
    for students without evidence. Replaces the plan's groups; the activities written for each
    kind (and a teacher's own groups, emptied) stay."""
    _require_edit(acting_user, plan)
    _require_unlocked(plan)
    if not plan.standards.filter(pk=standard.pk).exists():
        raise ValidationError({"standard": "Groups are built for one of the plan's standards."})
    policy = policy_for_district(plan.section.district_id, with_fit=False)
    students = _plan_students(plan)
    levels = current_levels([s.pk for s in students], [standard.pk], policy)
    kept_activities = {
        kind: texts for kind, texts in _activities_by_kind(plan).items() if kind != GroupKind.CUSTOM
    }
    # Every member goes (the teacher's own groups come back empty), and the groups built before
    # with their activities (kept above by kind), in one deletion.
    PlanGroupMember.objects.filter(plan=plan).delete()
    plan.groups.filter(
        ~Q(kind=GroupKind.CUSTOM) | Q(kind=GroupKind.CUSTOM, name=NOT_MEASURED_NAME)
    ).delete()
    custom = list(plan.groups.order_by("position", "pk"))
    # Whom each need holds, then the groups in one insert (the three kinds, and "Not yet
    # measured" when anyone has no evidence), their kept activities in another.
    placed: dict[str, list[tuple[Student, int]]] = {
        GroupKind.RETEACH: [],
        GroupKind.PRACTICE: [],
        GroupKind.EXTEND: [],
    }
    for student in students:
        level = level_of(levels, student.pk, standard.pk, policy)
        placed.setdefault(KIND_OF_NEED[policy.need_of(level)], []).append((student, level))
    groups = dict(
        zip(
            placed,
            PlanGroup.objects.bulk_create(
                PlanGroup(
                    plan=plan,
                    name=GROUP_NAMES.get(kind, NOT_MEASURED_NAME),
                    kind=kind,
                    position=position,
                    standard=standard,
                )
                for position, kind in enumerate(placed)
            ),
            strict=True,
        )
    )
    GroupActivity.objects.bulk_create(
        GroupActivity(group=group, text=text, position=position)
        for kind, group in groups.items()
        for position, text in enumerate(kept_activities.get(kind, []))
    )
    members = [
        PlanGroupMember(group=groups[kind], plan=plan, student=student, level_at_placement=level)
        for kind, students_placed in placed.items()
        for student, level in students_placed
    ]
    PlanGroupMember.objects.bulk_create(members)
    for offset, group in enumerate(custom, start=len(groups)):
        if group.position != offset:
            group.position = offset
            group.save(update_fields=["position"])
    logger.info("lesson plan %s grouped by standard %s", plan.pk, standard.pk)
    return [*groups.values(), *custom]


@transaction.atomic
def group_move_student(
    *, acting_user: User, plan: LessonPlan, student: Student, to_group: PlanGroup
) -> PlanGroupMember:
    """Put a student of the section in another group of the plan (out of any other), with their
    level now on the group's standard as the level at placement."""
    _require_edit(acting_user, plan)
    _require_unlocked(plan)
    if to_group.plan_id != plan.pk:
        raise ValidationError({"to_group": "That group is not one of this plan's."})
    in_section = Enrollment.objects.filter(
        in_force(), section_id=plan.section_id, student=student, student__is_active=True
    ).exists()
    if not in_section:
        raise ValidationError({"student": "That student is not in this section."})
    level = None
    if to_group.standard_id is not None:
        policy = policy_for_district(plan.section.district_id, with_fit=False)
        levels = current_levels([student.pk], [to_group.standard_id], policy)
        level = level_of(levels, student.pk, to_group.standard_id, policy)
    PlanGroupMember.objects.filter(plan=plan, student=student).delete()
    member = PlanGroupMember(group=to_group, plan=plan, student=student, level_at_placement=level)
    member.full_clean()
    member.save()
    return member


@transaction.atomic
def group_rename(*, acting_user: User, group: PlanGroup, name: str) -> PlanGroup:
    _require_edit(acting_user, group.plan)
    group.name = name.strip()
    group.full_clean()
    group.save(update_fields=["name"])
    return group


@transaction.atomic
def group_add(
    *,
    acting_user: User,
    plan: LessonPlan,
    name: str,
    kind: str = GroupKind.CUSTOM,
    standard: Standard | None = None,
) -> PlanGroup:
    """An empty group at the end of the plan's groups."""
    _require_edit(acting_user, plan)
    _require_unlocked(plan)
    if standard is not None and not plan.standards.filter(pk=standard.pk).exists():
        raise ValidationError({"standard": "A group's standard is one of the plan's."})
    last = plan.groups.order_by("-position").values_list("position", flat=True).first()
    group = PlanGroup(
        plan=plan,
        name=name.strip(),
        kind=kind,
        standard=standard,
        position=0 if last is None else last + 1,
    )
    group.full_clean()
    group.save()
    return group


@transaction.atomic
def group_activities_set(
    *, acting_user: User, group: PlanGroup, texts: Sequence[str]
) -> list[GroupActivity]:
    """The group's activities, in order (blank ones left out); allowed on locked groups."""
    _require_edit(acting_user, group.plan)
    group.activities.all().delete()
    _activities_add(group, [t.strip() for t in texts if t.strip()])
    return list(group.activities.order_by("position", "pk"))


@transaction.atomic
def groups_lock(*, acting_user: User, plan: LessonPlan) -> LessonPlan:
    _require_edit(acting_user, plan)
    if plan.groups_locked_at is None:
        plan.groups_locked_at = timezone.now()
        plan.save(update_fields=["groups_locked_at", "updated_at"])
    return plan


@transaction.atomic
def groups_unlock(*, acting_user: User, plan: LessonPlan) -> LessonPlan:
    _require_edit(acting_user, plan)
    if plan.groups_locked_at is not None:
        plan.groups_locked_at = None
        plan.save(update_fields=["groups_locked_at", "updated_at"])
    return plan


@transaction.atomic
def group_moves_accept(
    *, acting_user: User, plan: LessonPlan, moves: Iterable[ProposedMove]
) -> list[ProposedMove]:
    """Apply the moves the teacher accepted, those still proposed now (same student, same
    groups); returns what was applied. Refused on a locked plan."""
    _require_edit(acting_user, plan)
    _require_unlocked(plan)
    wanted = {(m.student.pk, m.from_group.pk, m.to_group.pk) for m in moves}
    applied = []
    for move in group_moves_proposed(plan).moves:
        if (move.student.pk, move.from_group.pk, move.to_group.pk) not in wanted:
            continue
        PlanGroupMember.objects.filter(plan=plan, student=move.student).update(
            group=move.to_group, level_at_placement=move.level_now, placed_at=timezone.now()
        )
        applied.append(move)
    return applied


# --- Materials


def _content_type_of(upload: File) -> str:
    """The allowed type the content is, or MaterialRefused naming what it is instead."""
    upload.seek(0)
    head = upload.read(8192)
    kind = filetype.guess(head)
    if kind is not None:
        if kind.mime in ALLOWED_MATERIAL_TYPES:
            return str(kind.mime)
        raise MaterialRefused(
            f"This file holds {kind.extension.upper()} content ({kind.mime}), whatever its name "
            f"says: a plan takes {ALLOWED_IN_WORDS}."
        )
    upload.seek(0)
    content = upload.read()
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text or not content:
        raise MaterialRefused(
            f"This file's content is not of a kind a plan takes ({ALLOWED_IN_WORDS})."
        )
    return PLAIN_TEXT


@transaction.atomic
def material_add_file(
    *, acting_user: User, plan: LessonPlan, upload: File, name: str | None = None
) -> PlanMaterial:
    """Keep an uploaded file as a material of the plan, through Django's storage API."""
    _require_edit(acting_user, plan)
    limit = settings.TRELLIS_LESSON_UPLOAD_MAX_BYTES
    size = upload.size
    # The size the upload declares, before anything of it is read.
    if size is None or size > limit:
        raise MaterialRefused(
            f"This file is larger than a plan takes: {limit // (1024 * 1024)} MB at most."
        )
    content_type = _content_type_of(upload)
    upload.seek(0)
    original_name = (name or upload.name or "material").rsplit("/", 1)[-1][:255]
    material = PlanMaterial(
        plan=plan,
        original_name=original_name,
        content_type=content_type,
        size=size,
        added_by=acting_user,
    )
    material.file.save("material", upload, save=False)
    stored = material.file.name
    try:
        material.full_clean()
        material.save()
    except Exception:
        material.file.storage.delete(stored)
        raise
    return material


@transaction.atomic
def material_add_link(
    *, acting_user: User, plan: LessonPlan, url: str, title: str = ""
) -> PlanMaterial:
    """A link (http or https only) as a material of the plan."""
    _require_edit(acting_user, plan)
    url = url.strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as refused:
        raise MaterialRefused(
            "A link starts with http:// or https:// and is a web address."
        ) from refused
    material = PlanMaterial(
        plan=plan, url=url, original_name=(title.strip() or url)[:255], added_by=acting_user
    )
    material.full_clean()
    material.save()
    return material


@transaction.atomic
def material_remove(*, acting_user: User, material: PlanMaterial) -> None:
    """Remove a material; its file leaves the storage once the removal commits."""
    _require_edit(acting_user, material.plan)
    stored, storage = material.file.name, material.file.storage
    material.delete()
    if stored:
        transaction.on_commit(lambda: storage.delete(stored))

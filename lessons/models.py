"""Lesson plans: what a section is taught on a day or a span of days, with groups by need.

A plan (LessonPlan) belongs to one section and runs from `first_day` through `last_day`. It
targets standards, has an objective and notes, groups of students built from the current mastery
estimates (PlanGroup, with each student's level when placed: PlanGroupMember), activities per
group (GroupActivity), materials (PlanMaterial: a link, or a file kept through Django's storage
API under a path the web server does not serve), an exit ticket (an assessment of the section on
the plan's standards) and, once taught, `taught_at`. A teacher's personal templates
(PlanTemplate) start new plans. District staff record prerequisites between standards
(StandardPrerequisite, in the admin); the planner suggests them for a group below mastery.

Every write goes through lessons.services; reads through lessons.selectors.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from assessments.models import Assessment, Standard
from students.models import Section, Student


class GroupKind(models.TextChoices):
    RETEACH = "reteach", "Reteach"
    PRACTICE = "practice", "Practice"
    EXTEND = "extend", "Extend"
    CUSTOM = "custom", "Custom"


class LessonPlan(models.Model):
    """One lesson of a section, on a day or a span of days."""

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="lesson_plans")
    first_day = models.DateField()
    last_day = models.DateField()
    standards = models.ManyToManyField(Standard, blank=True, related_name="lesson_plans")
    objective = models.TextField(blank=True, default="")
    notes = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Marked taught by a teacher (None: not yet): "recently taught" counts it from then.
    taught_at = models.DateTimeField(null=True, blank=True)
    exit_ticket = models.ForeignKey(
        Assessment, null=True, blank=True, on_delete=models.SET_NULL, related_name="exit_for_plans"
    )
    # While set, the groups change only by a teacher's own move (never by accepting proposals).
    groups_locked_at = models.DateTimeField(null=True, blank=True)
    copied_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="copies"
    )
    template = models.ForeignKey(
        "PlanTemplate", null=True, blank=True, on_delete=models.SET_NULL, related_name="plans"
    )

    class Meta:
        ordering = ["first_day", "pk"]
        indexes = [models.Index(fields=["section", "first_day", "last_day"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_day__gte=F("first_day")), name="plan_ends_after_it_begins"
            )
        ]

    def __str__(self) -> str:
        return f"{self.section} on {self.first_day:%Y-%m-%d}"

    def clean(self) -> None:
        if self.first_day and self.last_day and self.last_day < self.first_day:
            raise ValidationError({"last_day": "A plan ends on or after the day it begins."})

    @property
    def is_taught(self) -> bool:
        return self.taught_at is not None

    @property
    def groups_locked(self) -> bool:
        return self.groups_locked_at is not None


class PlanGroup(models.Model):
    """A group of a plan's students: built for a standard (reteach, practice, extend) or added by
    the teacher (custom)."""

    plan = models.ForeignKey(LessonPlan, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=GroupKind.choices, default=GroupKind.CUSTOM)
    position = models.PositiveIntegerField(default=0)
    standard = models.ForeignKey(
        Standard, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    students: models.ManyToManyField = models.ManyToManyField(
        Student, through="PlanGroupMember", related_name="+", blank=True
    )

    class Meta:
        ordering = ["plan", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.plan})"


class PlanGroupMember(models.Model):
    """A student in a plan's group, with the level they had on the group's standard when placed
    (what "would move" compares the current estimate with)."""

    group = models.ForeignKey(PlanGroup, on_delete=models.CASCADE, related_name="members")
    # The plan, copied from the group: a student is in one group of a plan (the constraint).
    plan = models.ForeignKey(LessonPlan, on_delete=models.CASCADE, related_name="+")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="+")
    level_at_placement = models.PositiveSmallIntegerField(null=True, blank=True)
    placed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["group", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "student"], name="one_group_per_plan")
        ]

    def __str__(self) -> str:
        return f"student {self.student_id} in {self.group}"


class GroupActivity(models.Model):
    """What one group does in the lesson."""

    group = models.ForeignKey(PlanGroup, on_delete=models.CASCADE, related_name="activities")
    text = models.TextField()
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["group", "position", "pk"]
        verbose_name_plural = "group activities"

    def __str__(self) -> str:
        return self.text[:60]


def material_upload_path(instance: "PlanMaterial", filename: str) -> str:
    """Under lesson-materials/, by district and plan, by a random name: never the uploader's
    name, and outside anything the web server serves (files go out through a view that checks
    access)."""
    district_id = instance.plan.section.district_id
    return f"lesson-materials/{district_id}/{instance.plan_id}/{uuid.uuid4().hex}"


class PlanMaterial(models.Model):
    """A link or an uploaded file of a plan."""

    plan = models.ForeignKey(LessonPlan, on_delete=models.CASCADE, related_name="materials")
    url = models.URLField(max_length=2000, blank=True, default="")
    file = models.FileField(upload_to=material_upload_path, max_length=300, blank=True)
    original_name = models.CharField(max_length=255, blank=True, default="")
    content_type = models.CharField(max_length=120, blank=True, default="")
    size = models.PositiveBigIntegerField(default=0)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plan", "added_at", "pk"]

    def __str__(self) -> str:
        return self.original_name or self.url

    @property
    def is_link(self) -> bool:
        return bool(self.url)

    def clean(self) -> None:
        if bool(self.url) == bool(self.file):
            raise ValidationError("A material is either a link or a file.")


class PlanTemplate(models.Model):
    """A teacher's personal template: what a new plan starts from. `activities` maps a group
    kind to its activities' texts ({"reteach": ["..."], ...})."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lesson_templates"
    )
    name = models.CharField(max_length=200)
    objective = models.TextField(blank=True, default="")
    notes = models.TextField(blank=True, default="")
    standards = models.ManyToManyField(Standard, blank=True, related_name="+")
    activities = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["owner", "name", "pk"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        activities = self.activities
        if not isinstance(activities, dict) or any(
            kind not in GroupKind.values
            or not isinstance(texts, list)
            or not all(isinstance(t, str) for t in texts)
            for kind, texts in activities.items()
        ):
            raise ValidationError(
                {"activities": "Activities are lists of texts under a group kind."}
            )


class StandardPrerequisite(models.Model):
    """What a standard builds on, as district staff recorded it (in the admin)."""

    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="+")
    prerequisite = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["standard", "prerequisite"]
        constraints = [
            models.UniqueConstraint(fields=["standard", "prerequisite"], name="prerequisite_once"),
            models.CheckConstraint(
                condition=~Q(standard=F("prerequisite")), name="prerequisite_not_itself"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prerequisite} before {self.standard}"

    def clean(self) -> None:
        if self.standard_id and self.standard_id == self.prerequisite_id:
            raise ValidationError("A standard is not its own prerequisite.")
        if (
            self.standard_id
            and self.prerequisite_id
            and self.standard.district_id != self.prerequisite.district_id
        ):
            raise ValidationError("A prerequisite is a standard of the same district.")

"""Standards, assessments, scores and the mastery estimates computed from them.

Scores are written only through assessments.services.scores_record (never a bare save): it
expands each score into MasteryEvidence rows (one per aligned standard) and marks the affected
(student, standard) estimates pending, in the same transaction.
"""

from typing import ClassVar, TypedDict

from django.conf import settings
from django.db import models
from django.db.models import Q

from students.models import (
    District,
    Section,
    SourcedRecord,
    Student,
    VendorColumns,
    sourced_unique,
)


class StandardKind(models.TextChoices):
    FRAMEWORK = "framework", "Framework"
    DOMAIN = "domain", "Domain"
    CLUSTER = "cluster", "Cluster"
    STANDARD = "standard", "Standard"
    SUBSTANDARD = "substandard", "Sub-standard"
    OBJECTIVE = "objective", "Learning objective"


class Standard(SourcedRecord):
    """A learning standard, in a hierarchy (domain → cluster → standard) so rollups go up it."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="standards")
    code = models.CharField(max_length=120, help_text="e.g. CCSS.MATH.CONTENT.3.OA.A.1")
    kind = models.CharField(
        max_length=20, choices=StandardKind.choices, default=StandardKind.STANDARD
    )
    description = models.TextField(blank=True, default="")
    parent_description = models.TextField(
        blank=True, default="", help_text="The same in words a family understands (English)."
    )
    # One field per portal language besides English (settings.LANGUAGES); imports may fill them.
    parent_description_es = models.TextField(
        blank=True, default="", help_text="The same in words a family understands, in Spanish."
    )
    subject = models.CharField(max_length=100, blank=True, default="")
    grade_levels = models.JSONField(default=list, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    framework = models.CharField(max_length=100, blank=True, default="")
    # None: the district's default method applies.
    mastery_method = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        ordering = ["code"]
        constraints = [
            sourced_unique("standard"),
            models.UniqueConstraint(
                fields=["district", "framework", "code"], name="standard_code_once"
            ),
        ]

    def __str__(self) -> str:
        return self.code


def standard_short_code(code: str) -> str:
    """CCSS.MATH.CONTENT.4.NF.A.1 → 4.NF.A.1: the part a teacher reads."""
    for prefix in ("CCSS.MATH.CONTENT.", "CCSS.ELA-LITERACY.", "CCSS.MATH.PRACTICE."):
        if code.startswith(prefix):
            return code[len(prefix) :]
    return code


class NoEvidenceLevel(TypedDict):
    """The shape of :attr:`MasteryPolicy.NO_EVIDENCE`."""

    value: int
    name: str
    color: str
    symbol: str


class MasteryPolicy(models.Model):
    """A district's mastery scale and method. Levels: value, name, min probability, colour."""

    DEFAULT_LEVELS = [
        {"value": 4, "name": "Exceeds Mastery", "min": 0.85, "color": "#127a45", "symbol": "★"},
        {"value": 3, "name": "Mastery", "min": 0.65, "color": "#5aae61", "symbol": "✓"},
        {"value": 2, "name": "Near Mastery", "min": 0.45, "color": "#f1b6da", "symbol": "~"},
        {"value": 1, "name": "Below Mastery", "min": 0.0, "color": "#c51b7d", "symbol": "!"},
    ]
    NO_EVIDENCE: ClassVar[NoEvidenceLevel] = {
        "value": 0,
        "name": "No Evidence",
        "color": "#e0e0e0",
        "symbol": "–",
    }

    district = models.OneToOneField(
        District, on_delete=models.CASCADE, related_name="mastery_policy"
    )
    method = models.CharField(max_length=40, default="")
    method_options = models.JSONField(default=dict, blank=True)
    levels = models.JSONField(default=list, blank=True)
    mastery_level = models.PositiveSmallIntegerField(
        default=3, help_text="The level value from which a student counts as having mastered."
    )
    # The section page's "needs attention": which standards count as recently taught, how far
    # back missing work is listed, and how many students show before "show all".
    attention_recent_days = models.PositiveSmallIntegerField(
        default=21, help_text="A standard measured this many days back counts as recently taught."
    )
    attention_missing_days = models.PositiveSmallIntegerField(
        default=42, help_text="Missing work is listed from this many days back."
    )
    attention_shown = models.PositiveSmallIntegerField(
        default=5, help_text="Students listed before the rest of the needs-attention list."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "mastery policies"

    def __str__(self) -> str:
        return f"Mastery policy of {self.district}"


class AssessmentKind(models.TextChoices):
    TEST = "test", "Test"
    QUIZ = "quiz", "Quiz"
    TASK = "task", "Performance task"
    GRADEBOOK = "gradebook", "Gradebook entry"


class AssessmentPurpose(models.TextChoices):
    FORMATIVE = "formative", "Formative"
    INTERIM = "interim", "Interim"
    SUMMATIVE = "summative", "Summative"
    STATE = "state", "State"


class Assessment(SourcedRecord, VendorColumns):
    """A test, quiz, task or gradebook entry, in one section or district-wide (section empty).
    A OneRoster line item's vendor columns are kept in source_extra."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="assessments")
    section = models.ForeignKey(
        Section, null=True, blank=True, on_delete=models.CASCADE, related_name="assessments"
    )
    title = models.CharField(max_length=250)
    kind = models.CharField(
        max_length=20, choices=AssessmentKind.choices, default=AssessmentKind.QUIZ
    )
    purpose = models.CharField(
        max_length=20, choices=AssessmentPurpose.choices, default=AssessmentPurpose.FORMATIVE
    )
    family = models.CharField(
        max_length=200, blank=True, default="", help_text="e.g. ACT, state test"
    )
    category = models.CharField(max_length=100, blank=True, default="")
    subject = models.CharField(max_length=100, blank=True, default="")
    assigned_on = models.DateField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True)
    min_points = models.DecimalField(max_digits=9, decimal_places=3, default=0)
    max_points = models.DecimalField(max_digits=9, decimal_places=3, null=True, blank=True)
    # Alignment of the whole assessment (gradebook entries); items carry their own.
    standards = models.ManyToManyField(Standard, blank=True, related_name="assessments")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-due_on", "title"]
        constraints = [sourced_unique("assessment")]
        indexes = [models.Index(fields=["section", "due_on"])]

    def __str__(self) -> str:
        return self.title


class ItemKind(models.TextChoices):
    ITEM = "item", "Item"
    OBJECTIVE = "objective", "Objective"


class AssessmentItem(SourcedRecord):
    """An item or an objective of an assessment, aligned to one or more standards."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="items")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    kind = models.CharField(max_length=20, choices=ItemKind.choices, default=ItemKind.ITEM)
    code = models.CharField(max_length=120)
    title = models.CharField(max_length=250, blank=True, default="")
    position = models.PositiveIntegerField(default=0)
    max_points = models.DecimalField(max_digits=9, decimal_places=3, null=True, blank=True)
    correct_response = models.CharField(max_length=200, blank=True, default="")
    standards = models.ManyToManyField(Standard, blank=True, related_name="items")

    class Meta:
        ordering = ["assessment", "position", "code"]
        constraints = [
            sourced_unique("assessmentitem"),
            models.UniqueConstraint(fields=["assessment", "kind", "code"], name="item_code_once"),
        ]

    def __str__(self) -> str:
        return self.title or self.code


class PerformanceLevel(models.Model):
    """A level an assessment defines (e.g. Advanced, Proficient), by score range."""

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="performance_levels"
    )
    code = models.CharField(max_length=60)
    name = models.CharField(max_length=120)
    min_score = models.DecimalField(max_digits=9, decimal_places=3, null=True, blank=True)
    max_score = models.DecimalField(max_digits=9, decimal_places=3, null=True, blank=True)
    rank = models.PositiveSmallIntegerField(default=0, help_text="Higher is better.")

    class Meta:
        ordering = ["assessment", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "code"], name="performance_level_once")
        ]

    def __str__(self) -> str:
        return self.name


class ScoreSource(models.TextChoices):
    ENTERED = "entered", "Entered by a teacher"
    IMPORTED = "imported", "Imported"


class ScoreStatus(models.TextChoices):
    SCORED = "scored", "Scored"
    EXEMPT = "exempt", "Exempt"
    MISSING = "missing", "Missing"
    LATE = "late", "Late"
    INCOMPLETE = "incomplete", "Incomplete"


class StudentAssessment(SourcedRecord):
    """A student's result on one whole assessment (one administration)."""

    # The assessment's district, copied for scoping: no foreign key or index of its own (the
    # assessment's key guards it; its per-row check and index write were a tenth of a bulk
    # import of scores, and the source-id constraint leads with it).
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    # No index of its own: one_result_per_administration and the (student, date) index lead
    # with it (each redundant index costs every bulk import of scores).
    student = models.ForeignKey(
        Student, on_delete=models.CASCADE, related_name="assessment_results", db_index=False
    )
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="results")
    administered_on = models.DateField()
    # Indexed where set (a partial index below): most results carry no performance level.
    performance_level = models.ForeignKey(
        PerformanceLevel,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    status = models.CharField(
        max_length=20, choices=ScoreStatus.choices, default=ScoreStatus.SCORED
    )

    class Meta:
        ordering = ["-administered_on"]
        constraints = [
            sourced_unique("studentassessment"),
            models.UniqueConstraint(
                fields=["student", "assessment", "administered_on"],
                name="one_result_per_administration",
            ),
        ]
        indexes = [
            models.Index(fields=["student", "administered_on"]),
            models.Index(
                fields=["performance_level"],
                condition=Q(performance_level__isnull=False),
                name="result_performance_level",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student} on {self.assessment}"


class Score(VendorColumns):
    """A result on a whole assessment (item empty), an item or an objective.

    `normalized` is 0..1 (empty when exempt or missing). Written only by scores_record. A
    OneRoster result's vendor columns are kept in source_extra (on its whole-assessment score).
    """

    # Copied from the student assessment for scoping: no foreign key or index of its own (as
    # StudentAssessment.district).
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    # No index of its own: score_once_per_item leads with it (migration 0007 drops the old one
    # by name: Django's own AlterField would drop the partial unique index on the same column).
    student_assessment = models.ForeignKey(
        StudentAssessment, on_delete=models.CASCADE, related_name="scores", db_index=False
    )
    # Indexed where set (a partial index below): most scores are of a whole assessment.
    item = models.ForeignKey(
        AssessmentItem,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="scores",
        db_index=False,
    )
    # Denormalised from student_assessment for the mastery engine's set-based reads; covered by
    # the (student, scored_on) index. The student assessment's key guards it (Django's CASCADE
    # deletes a student's scores either way), so no database check of its own.
    student = models.ForeignKey(
        Student,
        on_delete=models.CASCADE,
        related_name="scores",
        db_index=False,
        db_constraint=False,
    )
    points = models.DecimalField(max_digits=9, decimal_places=3, null=True, blank=True)
    rubric_level = models.CharField(max_length=60, blank=True, default="")
    normalized = models.FloatField(null=True, blank=True)
    scored_on = models.DateField()
    status = models.CharField(
        max_length=20, choices=ScoreStatus.choices, default=ScoreStatus.SCORED
    )
    source = models.CharField(
        max_length=20, choices=ScoreSource.choices, default=ScoreSource.ENTERED
    )
    comment = models.TextField(blank=True, default="")
    source_system = models.CharField(max_length=40, blank=True, default="")
    source_id = models.CharField(max_length=255, blank=True, default="")
    # Indexed where set (a partial index below): imported scores have no one who entered them.
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # Not partial: it is also the index of every read by student assessment.
            models.UniqueConstraint(
                fields=["student_assessment", "item"], name="score_once_per_item"
            ),
            models.UniqueConstraint(
                fields=["student_assessment"],
                condition=Q(item__isnull=True),
                name="score_once_per_assessment",
            ),
            models.CheckConstraint(
                condition=Q(normalized__isnull=True)
                | (Q(normalized__gte=0) & Q(normalized__lte=1)),
                name="score_normalized_0_1",
            ),
        ]
        indexes = [
            models.Index(fields=["student", "scored_on"]),
            models.Index(fields=["item"], condition=Q(item__isnull=False), name="score_item"),
            # The section page's missing work: a few rows among every score.
            models.Index(
                fields=["student", "scored_on"],
                condition=Q(status=ScoreStatus.MISSING),
                name="score_missing",
            ),
            models.Index(
                fields=["entered_by"],
                condition=Q(entered_by__isnull=False),
                name="score_entered_by",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student_id}: {self.normalized}"


class MasteryEvidence(models.Model):
    """One score counted for one standard: the engine's input, one row per (score, standard).

    Derived from scores (the score services write and delete it with them; Django cascades
    deletes), so it carries no database foreign keys: checking three per row at COMMIT cost an
    import of a million scores about 15 s (docs/benchmarks.md, oneroster)."""

    # Indexed by evidence_once (score, standard) and (student, standard, observed_on, id).
    score = models.ForeignKey(
        Score,
        on_delete=models.CASCADE,
        related_name="evidence",
        db_constraint=False,
        db_index=False,
    )
    student = models.ForeignKey(
        Student, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    standard = models.ForeignKey(
        Standard, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    item_key = models.CharField(
        max_length=80, help_text="What the learned model knows the item by."
    )
    observed_on = models.DateField()
    value = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["score", "standard"], name="evidence_once"),
        ]
        indexes = [models.Index(fields=["student", "standard", "observed_on", "id"])]

    def __str__(self) -> str:
        return f"{self.student_id}/{self.standard_id}: {self.value}"


class Trend(models.TextChoices):
    RISING = "rising", "Rising"
    FLAT = "flat", "Flat"
    FALLING = "falling", "Falling"


class MasteryEstimate(models.Model):
    """The current estimate for one student on one standard."""

    # Indexed by estimate_once (student, standard).
    student = models.ForeignKey(
        Student, on_delete=models.CASCADE, related_name="mastery_estimates", db_index=False
    )
    standard = models.ForeignKey(
        Standard, on_delete=models.CASCADE, related_name="mastery_estimates"
    )
    probability = models.FloatField(null=True, blank=True)
    level = models.PositiveSmallIntegerField(default=0)
    evidence_count = models.PositiveIntegerField(default=0)
    trend = models.CharField(max_length=10, choices=Trend.choices, default=Trend.FLAT)
    method = models.CharField(max_length=40, blank=True, default="")
    computed_at = models.DateTimeField(null=True, blank=True)
    # The newest evidence reflected: a score dated before it forces a full recompute of the pair.
    latest_observed_on = models.DateField(null=True, blank=True)
    latest_evidence_id = models.BigIntegerField(null=True, blank=True)
    # The incremental state of the method (counters, running averages).
    state = models.JSONField(default=dict, blank=True)
    # Set by scores_record in the scores' transaction; cleared when the estimate catches up.
    pending_since = models.DateTimeField(null=True, blank=True)
    needs_full_recompute = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["student", "standard"], name="estimate_once"),
        ]
        indexes = [
            models.Index(
                fields=["pending_since"],
                condition=Q(pending_since__isnull=False),
                name="estimate_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student_id}/{self.standard_id}: level {self.level}"


class LearnerState(models.Model):
    """The learned model's state of one student across all standards: counts of attempts and
    successes and recent performance against expectation. Each new score folds into it in
    constant time; it can always be rebuilt from the student's evidence."""

    student = models.OneToOneField(
        Student, on_delete=models.CASCADE, primary_key=True, related_name="learner_state"
    )
    fit = models.ForeignKey(
        "MasteryModelFit", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    counters = models.JSONField(default=dict, blank=True)
    latest_evidence_id = models.BigIntegerField(null=True, blank=True)
    latest_observed_on = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"learner state of student {self.student_id}"


class MasteryEstimateHistory(models.Model):
    """Append-only: a row whenever an estimate's level or probability changes materially."""

    # Indexed by (student, standard, as_of).
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="+", db_index=False)
    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="+")
    probability = models.FloatField(null=True, blank=True)
    level = models.PositiveSmallIntegerField()
    evidence_count = models.PositiveIntegerField()
    method = models.CharField(max_length=40)
    as_of = models.DateField(help_text="The date of the newest evidence reflected.")
    recorded_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["student", "standard", "as_of"])]
        verbose_name_plural = "mastery estimate history"

    def __str__(self) -> str:
        return f"{self.student_id}/{self.standard_id} as of {self.as_of}: {self.level}"


class MasteryOverride(models.Model):
    """A teacher's judgement of a level, with a note; shown as overridden wherever it appears."""

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="+")
    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="+")
    level = models.PositiveSmallIntegerField()
    note = models.TextField()
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    set_at = models.DateTimeField(auto_now_add=True)
    clear_on_new_score = models.BooleanField(default=False)
    # The newest evidence id of the pair when set: only evidence after it counts as "newer".
    evidence_watermark = models.BigIntegerField(default=0)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_reason = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["student", "standard"],
                condition=Q(cleared_at__isnull=True),
                name="one_active_override",
            )
        ]

    def __str__(self) -> str:
        return f"{self.student_id}/{self.standard_id} overridden to {self.level}"


class MasteryModelFit(models.Model):
    """Parameters of the learned model fitted on a district's own data (fit_mastery_model)."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    method = models.CharField(max_length=40)
    parameters = models.JSONField()
    metrics = models.JSONField(default=dict, blank=True)
    responses_used = models.PositiveIntegerField(default=0)
    fitted_at = models.DateTimeField()
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-fitted_at"]

    def __str__(self) -> str:
        return f"{self.method} for {self.district} at {self.fitted_at:%Y-%m-%d}"

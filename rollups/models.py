"""Rollups: counts of mastery that the school and district pages read by index, never scanning a
school's raw estimates.

Three grains, each a row per month (`month`: the month's first day):

- SchoolStandardMonth: school × grade × subgroup × standard. Students measured on the standard
  (a level other than No Evidence), those at or above the district's mastery level, and how many
  at each level 1-4.
- SchoolSubjectMonth: school × grade × subgroup × subject (and ALL_SUBJECTS, every standard):
  students measured in the subject, those proficient in it (at or above mastery on at least the
  district's subject_proficiency_percent of the subject's standards assessed for them), and the
  (student, standard) estimates behind them by level, so that a grade's or the school's totals
  need no sum over standards.
- SectionStandardMonth: section × standard (the standards the section's assessments align to),
  for the teacher and section views; no subgroups.

What a month counts: the students whose records (school membership, programmes, enrollment) are
in force on its day (the month's last day; today for the current month), at the level each of
their estimates had then (the newest history point dated that day or before; today's estimate in
the current month), overrides in force then replacing it, as the section page shows levels.
rollups.services writes them; rollups.selectors reads them.
"""

from django.db import models

from assessments.models import Standard
from students.models import District, School, Section, Student

# SchoolSubjectMonth.subject of the row that counts every standard, whatever its subject.
ALL_SUBJECTS = "*"
# SchoolEngagementDay.grade_level of the rows that count the whole school (each student once,
# whatever their memberships), so that a subgroup's school-wide count needs no sum over grades.
WHOLE_SCHOOL = "*"


class LevelCounts(models.Model):
    """How many of the row's (student, standard) estimates are at each level of the scale."""

    level_1 = models.PositiveIntegerField(default=0)
    level_2 = models.PositiveIntegerField(default=0)
    level_3 = models.PositiveIntegerField(default=0)
    level_4 = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class SchoolStandardMonth(LevelCounts):
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    grade_level = models.CharField(max_length=4)
    # rollups.subgroups: "all", "iep", "504", "el", "frl", "race:<code>", "sex:<code>"...
    subgroup = models.CharField(max_length=120)
    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    students_measured = models.PositiveIntegerField(default=0)
    students_proficient = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            # Also the index of every read: a school's month for one subgroup (and grade).
            models.UniqueConstraint(
                fields=["school", "month", "subgroup", "grade_level", "standard"],
                name="rollup_school_standard_once",
            )
        ]
        indexes = [models.Index(fields=["district", "month"], name="rollup_std_district_month")]

    def __str__(self) -> str:
        return (
            f"{self.school_id} {self.grade_level} {self.subgroup} {self.standard_id} {self.month}"
        )


class SchoolSubjectMonth(LevelCounts):
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    grade_level = models.CharField(max_length=4)
    subgroup = models.CharField(max_length=120)
    # Standard.subject, or ALL_SUBJECTS for the row of every standard.
    subject = models.CharField(max_length=100)
    month = models.DateField()
    students_measured = models.PositiveIntegerField(default=0)
    students_proficient_in_subject = models.PositiveIntegerField(default=0)
    # The (student, standard) estimates behind them: proficiency on the subject's standards.
    pairs_measured = models.PositiveIntegerField(default=0)
    pairs_proficient = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["school", "month", "subgroup", "grade_level", "subject"],
                name="rollup_school_subject_once",
            )
        ]
        # The district page: every school of a month for one subgroup and subject.
        indexes = [
            models.Index(
                fields=["district", "month", "subgroup", "subject"],
                name="rollup_subject_district_month",
            )
        ]

    def __str__(self) -> str:
        return f"{self.school_id} {self.grade_level} {self.subgroup} {self.subject} {self.month}"


class SectionStandardMonth(LevelCounts):
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    # The section's school, copied: a school page reads its sections' rows by it.
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="+")
    standard = models.ForeignKey(Standard, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    students_measured = models.PositiveIntegerField(default=0)
    students_proficient = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["section", "month", "standard"], name="rollup_section_standard_once"
            )
        ]
        indexes = [models.Index(fields=["school", "month"], name="rollup_section_school_month")]

    def __str__(self) -> str:
        return f"{self.section_id} {self.standard_id} {self.month}"


class SchoolEngagementDay(models.Model):
    """Attendance and engagement of a school's students enrolled on `day` (issue 19): by grade
    (WHOLE_SCHOOL for the school) and subgroup, how many students, how many chronically absent
    (students.attendance's rule, the year up to that day) and how many falling in two or more
    subjects (their estimates' current trends). A student counts once, in the lower grade code
    of their memberships in force that day. The (WHOLE_SCHOOL, "all") row is written whenever a
    school is counted, even with nobody enrolled, so that a day counted is told from one not.

    History: the days counted are kept, pruned by the rebuild to the last 7 days and the last
    day counted in each month before them (rollups.services.ENGAGEMENT_DAYS_KEPT), so that the
    table holds a year in about 20 days per school."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    grade_level = models.CharField(max_length=4)
    subgroup = models.CharField(max_length=120)
    day = models.DateField()
    students = models.PositiveIntegerField(default=0)
    chronically_absent = models.PositiveIntegerField(default=0)
    falling_two_subjects = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            # Also the index of the page's read: a school's rows of its latest day.
            models.UniqueConstraint(
                fields=["school", "day", "subgroup", "grade_level"],
                name="rollup_school_engagement_once",
            )
        ]
        indexes = [models.Index(fields=["district", "day"], name="rollup_engagement_district")]

    def __str__(self) -> str:
        return f"{self.school_id} {self.grade_level} {self.subgroup} {self.day}"


class RollupPending(models.Model):
    """A student whose rollups wait for a recount, from the day given on (the estimates' notice).
    rollups.tasks.rollups_flush takes them in one batch, so that many small changes recount each
    group once; the table is the truth, so a lost message loses nothing (the flush sweep)."""

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="+")
    since = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.student_id} since {self.since}"


class RollupRebuild(models.Model):
    """One recount of a district's rollups from the raw data, and what it found: `drift` is how
    many rows differed from those stored (0 when the incremental updates were right)."""

    class Reason(models.TextChoices):
        NIGHTLY = "nightly", "Nightly rebuild"
        IMPORT = "import", "After an import"
        UPDATE = "update", "Many students changed"
        SETTINGS = "settings", "The district's rules changed"
        SEED = "seed", "Demo seed"
        MANUAL = "manual", "By hand"

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=20, choices=Reason.choices, default=Reason.MANUAL)
    as_of = models.DateField(help_text="The day counted as today.")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    schools = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0, help_text="Rows stored after the rebuild.")
    drift = models.PositiveIntegerField(
        default=0, help_text="Rows added, removed or changed: 0 when updates kept up."
    )
    # Per table: {"school_standard": {"added": 0, "removed": 0, "changed": 0}, ...}
    drift_detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-finished_at", "-pk"]
        indexes = [models.Index(fields=["district", "-finished_at"], name="rollup_rebuild_latest")]

    def __str__(self) -> str:
        return f"Rollups of {self.district_id} as of {self.as_of}: drift {self.drift}"

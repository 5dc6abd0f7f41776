"""The district's records: what its systems send (as opposed to accounts, who logs in).

Every record carries its origin (source_system, source_id; unique per district) so imports can
upsert, an active flag (records are deactivated, never silently deleted) and timestamps.
"""

import uuid
from datetime import date
from decimal import Decimal
from typing import ClassVar, TypeVar

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from privacy.fields import EncryptedTextField, KeyedHashField

_Record = TypeVar("_Record", bound=models.Model)


class RecordQuerySet(models.QuerySet[_Record]):
    def active(self) -> "RecordQuerySet[_Record]":
        return self.filter(is_active=True)


class SourcedRecord(models.Model):
    source_system = models.CharField(max_length=40, blank=True, default="")
    source_id = models.CharField(max_length=255, blank=True, default="")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RecordQuerySet.as_manager()

    class Meta:
        abstract = True


class VendorColumns(models.Model):
    """What a record's row held beyond the standard's columns (OneRoster's `metadata.*` columns
    and any other vendor column), as the latest import of it said: `{"metadata": {"sis_house":
    "Blue"}, "ext_color": "red"}` for the columns `metadata.sis_house` and `ext_color` (a
    `metadata.` column under "metadata" without its prefix, as the REST binding's metadata
    object holds it; any other column under its name as it is). Queried with JSON lookups
    (`source_extra__metadata__sis_house="Blue"`); exported again as the same columns."""

    source_extra = models.JSONField(default=dict, db_default={}, blank=True)

    class Meta:
        abstract = True


def sourced_unique(name: str) -> models.UniqueConstraint:
    """Source ids are unique per district (imports upsert on them); empty ones are not."""
    return models.UniqueConstraint(
        fields=["district", "source_system", "source_id"],
        condition=~Q(source_id=""),
        name=f"{name}_unique_source",
    )


def validate_absolute_folder(value: str) -> None:
    """A folder setting names an absolute path (a relative one would depend on where the worker
    happens to start)."""
    if value and not value.startswith("/"):
        raise ValidationError("Give an absolute path, starting with /.")


class District(SourcedRecord, VendorColumns):
    name = models.CharField(max_length=200)
    state_code = models.CharField(max_length=2, blank=True, default="")
    nces_id = models.CharField("NCES id", max_length=20, blank=True, default="")
    # Policy knobs that later waves read; the defaults are the privacy-protective ones.
    guardians_see_discipline = models.BooleanField(default=False)
    # A student is chronically absent when absent this share (percent) or more of the
    # instructional days they have been enrolled so far this year.
    chronic_absence_percent = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        default=Decimal("10.0"),
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("100"))],
        help_text="Absent this percent or more of instructional days enrolled: chronically absent.",
    )
    # School and district rollups (issue 19). A database default too, so that rows written
    # without Django (bench/bench_seed.py's raw INSERT) get them.
    min_group_size = models.PositiveSmallIntegerField(
        default=10,
        db_default=10,
        validators=[MinValueValidator(1)],
        help_text=(
            "The smallest group of students any aggregate cell may describe: a cell of fewer "
            "students shows “fewer than” this number, never a count, percentage or chart mark."
        ),
    )
    subject_proficiency_percent = models.PositiveSmallIntegerField(
        default=70,
        db_default=70,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=(
            "A student is proficient in a subject when at or above mastery on at least this "
            "percent of the subject's standards assessed for them."
        ),
    )

    # What families see in the portal (issue 20); a later issue builds the page that edits them.
    guardians_see_mastery = models.CharField(
        max_length=20,
        choices=[
            ("always", "As soon as it is estimated"),
            ("released", "Once the teacher releases the section's levels to families"),
        ],
        default="always",
        db_default="always",
    )
    access_log_names = models.CharField(
        "who families see in the access log",
        max_length=20,
        choices=[("names", "Staff names and roles"), ("roles", "Roles only")],
        default="names",
        db_default="names",
    )

    # Scheduled imports (issue 23): interop.dropfolder polls this folder on the server (where
    # the student information system drops its exports, usually by SFTP) and emails failures.
    import_drop_folder = models.CharField(
        "import drop folder",
        max_length=500,
        blank=True,
        default="",
        db_default="",
        validators=[validate_absolute_folder],
        help_text=(
            "An absolute folder on the server where the student information system drops its "
            "exports (a OneRoster zip, or Ed-Fi XML files in a zip or a folder); each new file "
            "is imported once it is complete. Blank: no scheduled imports."
        ),
    )
    import_failure_email = models.EmailField(
        "import failure email",
        blank=True,
        default="",
        db_default="",
        help_text=(
            "Where the report of a failed scheduled import is sent (district IT). Blank: every "
            "district staff member with an email address."
        ),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source_system", "source_id"],
                condition=~Q(source_id=""),
                name="district_unique_source",
            )
        ]

    def __str__(self) -> str:
        return self.name


class SchoolLevel(models.TextChoices):
    ELEMENTARY = "elementary", "Elementary"
    MIDDLE = "middle", "Middle"
    HIGH = "high", "High"
    K12 = "k12", "K-12"
    OTHER = "other", "Other"


GRADE_LEVELS = ["PK", "KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"]


def grade_label(code: str) -> str:
    return {"PK": "Pre-K", "KG": "Kindergarten"}.get(
        code, f"Grade {int(code)}" if code.isdigit() else code
    )


class School(SourcedRecord, VendorColumns):
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="schools")
    name = models.CharField(max_length=200)
    school_number = models.CharField(max_length=40, blank=True, default="")
    level = models.CharField(max_length=20, choices=SchoolLevel.choices, default=SchoolLevel.OTHER)
    grade_levels = models.JSONField(default=list, blank=True)
    # Made by an import for an org its records name but its export left out (orgs.csv absent)
    # and Trellis did not hold, named "Unknown school (source id X)"; the export that brings
    # the org replaces it.
    is_placeholder = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["name"]
        constraints = [sourced_unique("school")]

    def __str__(self) -> str:
        return self.name


class SessionKind(models.TextChoices):
    SCHOOL_YEAR = "school_year", "School year"
    SEMESTER = "semester", "Semester"
    TERM = "term", "Term"
    GRADING_PERIOD = "grading_period", "Grading period"


class AcademicSession(SourcedRecord, VendorColumns):
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="sessions")
    school = models.ForeignKey(
        School, null=True, blank=True, on_delete=models.PROTECT, related_name="sessions"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=SessionKind.choices)
    school_year = models.PositiveSmallIntegerField(help_text="The year the school year ends in.")
    start_date = models.DateField()
    end_date = models.DateField()

    class Meta:
        ordering = ["start_date", "title"]
        constraints = [sourced_unique("academicsession")]

    def __str__(self) -> str:
        return self.title


class Course(SourcedRecord, VendorColumns):
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="courses")
    school = models.ForeignKey(
        School, null=True, blank=True, on_delete=models.PROTECT, related_name="courses"
    )
    title = models.CharField(max_length=200)
    course_code = models.CharField(max_length=60, blank=True, default="")
    subject = models.CharField(max_length=100, blank=True, default="")
    grade_levels = models.JSONField(default=list, blank=True)
    # Made by an import for a course its classes name but its export left out (courses.csv
    # absent) and Trellis did not hold; the export that brings the course replaces it.
    is_placeholder = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["title"]
        constraints = [sourced_unique("course")]

    def __str__(self) -> str:
        return self.title


class Section(SourcedRecord, VendorColumns):
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="sections")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="sections")
    course = models.ForeignKey(
        Course, null=True, blank=True, on_delete=models.PROTECT, related_name="sections"
    )
    session = models.ForeignKey(
        AcademicSession, null=True, blank=True, on_delete=models.PROTECT, related_name="sections"
    )
    title = models.CharField(max_length=200)
    section_code = models.CharField(max_length=60, blank=True, default="")
    period = models.CharField(max_length=40, blank=True, default="")
    subject = models.CharField(max_length=100, blank=True, default="")
    grade_levels = models.JSONField(default=list, blank=True)
    room = models.CharField(max_length=60, blank=True, default="")
    # When the district shows families mastery only once released: levels as of this moment are
    # released (a teacher's action); None: nothing released yet.
    mastery_released_at = models.DateTimeField(null=True, blank=True)
    # Made by an import for a class its enrollments name but its export left out (classes.csv
    # absent) and Trellis did not hold; the export that brings the class replaces it.
    is_placeholder = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["title"]
        constraints = [sourced_unique("section")]
        permissions = [("view_section_roster", "May see the section and its current students")]

    def __str__(self) -> str:
        return self.title


class PersonName(models.Model):
    first_name = models.CharField(max_length=100)
    middle_name = models.CharField(max_length=100, blank=True, default="")
    last_name = models.CharField(max_length=100)
    preferred_first_name = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return f"{self.preferred_first_name or self.first_name} {self.last_name}"

    @property
    def sort_name(self) -> str:
        return f"{self.last_name}, {self.preferred_first_name or self.first_name}"


class StaffKind(models.TextChoices):
    TEACHER = "teacher", "Teacher"
    ADMINISTRATOR = "administrator", "Administrator"
    AIDE = "aide", "Aide"
    COUNSELOR = "counselor", "Counselor"
    DISTRICT = "district", "District staff"
    OTHER = "other", "Other"


class Staff(SourcedRecord, PersonName, VendorColumns):
    """A staff record from the district's systems, with or without a login."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="staff")
    staff_number = models.CharField(max_length=60, blank=True, default="")
    kind = models.CharField(max_length=20, choices=StaffKind.choices, default=StaffKind.TEACHER)
    title = models.CharField(max_length=100, blank=True, default="")
    # The school's choice: families see this person's work phone in the portal (email always).
    publish_phone_to_families = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [sourced_unique("staff")]
        verbose_name_plural = "staff"


class StaffSchoolAssignment(SourcedRecord, VendorColumns):
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    # Looked up by staff through staff_school_once, which leads with it: no index of its own.
    staff = models.ForeignKey(
        Staff, on_delete=models.CASCADE, related_name="school_assignments", db_index=False
    )
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="staff_assignments")
    position = models.CharField(max_length=100, blank=True, default="")
    begin_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            sourced_unique("staffschoolassignment"),
            models.UniqueConstraint(fields=["staff", "school"], name="staff_school_once"),
        ]

    def __str__(self) -> str:
        return f"{self.staff} at {self.school}"


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    NONBINARY = "nonbinary", "Non-binary"
    UNSPECIFIED = "", "Not specified"


class Student(SourcedRecord, PersonName, VendorColumns):
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="students")
    # A stable identity for pseudonymous keys (the access log keeps them after deletion).
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student_number = models.CharField(max_length=60, blank=True, default="")
    state_id = models.CharField(max_length=60, blank=True, default="")
    birth_date = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=12, choices=Sex.choices, blank=True, default="")
    home_language = models.CharField(max_length=60, blank=True, default="")
    # Federal reporting categories; several may apply.
    races = models.JSONField(default=list, blank=True)
    hispanic_or_latino = models.BooleanField(null=True, blank=True)
    # A OneRoster demographics.csv row's vendor columns (source_extra holds its users.csv row's).
    demographics_extra = models.JSONField(default=dict, db_default={}, blank=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [sourced_unique("student")]
        permissions = [("view_student_record", "May see the student's record and results")]

    @property
    def legal_name(self) -> str:
        middle = f" {self.middle_name}" if self.middle_name else ""
        return f"{self.first_name}{middle} {self.last_name}"


class StudentSchoolMembership(SourcedRecord, VendorColumns):
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(
        Student, on_delete=models.CASCADE, related_name="school_memberships"
    )
    # Looked up by school through the (school, is_active, grade_level) index below.
    school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="student_memberships", db_index=False
    )
    grade_level = models.CharField(max_length=4)
    begin_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [sourced_unique("studentschoolmembership")]
        indexes = [models.Index(fields=["school", "is_active", "grade_level"])]

    def __str__(self) -> str:
        return f"{self.student} in {self.school} ({self.grade_level})"

    @property
    def grade_name(self) -> str:
        return grade_label(self.grade_level)


def in_force(prefix: str = "", on: date | None = None) -> Q:
    """Rows in force on a day (today by default): active, begun by then or with no start, and
    ended then or later or not at all. `prefix` reaches the rows through a relation
    ("enrollments__")."""
    today = on or timezone.localdate()
    return (
        Q(**{f"{prefix}is_active": True})
        & (Q(**{f"{prefix}begin_date__isnull": True}) | Q(**{f"{prefix}begin_date__lte": today}))
        & (Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gte": today}))
    )


class CurrentQuerySet(RecordQuerySet[_Record]):
    """Rows in force today: active, and ended in the future or not at all."""

    def current(self, on: date | None = None) -> "CurrentQuerySet[_Record]":
        return self.filter(in_force(on=on))


class SectionAssignment(SourcedRecord, VendorColumns):
    """A staff member teaching a section (one or more teachers; one primary)."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    # Looked up by staff through staff_section_once, which leads with it.
    staff = models.ForeignKey(
        Staff, on_delete=models.CASCADE, related_name="section_assignments", db_index=False
    )
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="assignments")
    is_primary = models.BooleanField(default=True)
    begin_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)

    objects: ClassVar = CurrentQuerySet.as_manager()

    class Meta:
        constraints = [
            sourced_unique("sectionassignment"),
            models.UniqueConstraint(fields=["staff", "section"], name="staff_section_once"),
        ]

    def __str__(self) -> str:
        return f"{self.staff} teaches {self.section}"


class Enrollment(SourcedRecord, VendorColumns):
    """A student in a section. Current when active and not ended (session dates do not end it)."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    # No index of their own: student_section_once leads with the student, the (section,
    # is_active) index with the section; two more indexes only slowed the roster's bulk writes.
    student = models.ForeignKey(
        Student, on_delete=models.CASCADE, related_name="enrollments", db_index=False
    )
    section = models.ForeignKey(
        Section, on_delete=models.CASCADE, related_name="enrollments", db_index=False
    )
    begin_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)

    objects: ClassVar = CurrentQuerySet.as_manager()

    class Meta:
        constraints = [
            sourced_unique("enrollment"),
            models.UniqueConstraint(fields=["student", "section"], name="student_section_once"),
        ]
        indexes = [models.Index(fields=["section", "is_active"])]

    def __str__(self) -> str:
        return f"{self.student} in {self.section}"

    @property
    def is_current(self) -> bool:
        today = timezone.localdate()
        return (
            self.is_active
            and (self.begin_date is None or self.begin_date <= today)
            and (self.end_date is None or self.end_date >= today)
        )


class ContactMethod(models.TextChoices):
    EMAIL = "email", "Email"
    TEXT = "text", "Text message"


class ContactTime(models.TextChoices):
    ANY = "any", "Any time"
    MORNING = "morning", "Mornings"
    SCHOOL_DAY = "school_day", "During the school day"
    EVENING = "evening", "Evenings"
    WEEKEND = "weekend", "Weekends"


class Guardian(SourcedRecord, PersonName, VendorColumns):
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="guardians")
    # The language the family reads, named as the source names it ("Spanish"); imports default
    # it to a child's home language where the source carries none.
    language = models.CharField(max_length=60, blank=True, default="")
    contact_method = models.CharField(
        max_length=10, choices=ContactMethod.choices, default=ContactMethod.EMAIL
    )
    contact_time = models.CharField(
        max_length=12, choices=ContactTime.choices, default=ContactTime.ANY
    )

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [sourced_unique("guardian")]


class Relationship(models.TextChoices):
    MOTHER = "mother", "Mother"
    FATHER = "father", "Father"
    GUARDIAN = "guardian", "Guardian"
    OTHER_RELATIVE = "other_relative", "Other relative"
    OTHER = "other", "Other"


class GuardianRelationship(SourcedRecord):
    """How a guardian relates to a student. Portal access is granted explicitly, never assumed."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    # Looked up by guardian through guardian_student_once, which leads with it.
    guardian = models.ForeignKey(
        Guardian, on_delete=models.CASCADE, related_name="relationships", db_index=False
    )
    student = models.ForeignKey(
        Student, on_delete=models.CASCADE, related_name="guardian_relationships"
    )
    relationship = models.CharField(max_length=20, choices=Relationship.choices)
    has_educational_rights = models.BooleanField(default=False)
    portal_access = models.BooleanField(default=False)
    custodial = models.BooleanField(default=False)
    lives_with = models.BooleanField(default=False)
    emergency_contact = models.BooleanField(default=False)
    contact_priority = models.PositiveSmallIntegerField(null=True, blank=True)
    contact_restricted = models.BooleanField(
        default=False, help_text="Must not be contacted: no portal access, shown as restricted."
    )

    class Meta:
        ordering = ["contact_priority", "id"]
        constraints = [
            sourced_unique("guardianrelationship"),
            models.UniqueConstraint(fields=["guardian", "student"], name="guardian_student_once"),
            # A guardian who must not be contacted never has portal access.
            models.CheckConstraint(
                condition=~(Q(contact_restricted=True) & Q(portal_access=True)),
                name="restricted_guardian_no_portal",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.guardian} ({self.get_relationship_display()}) of {self.student}"

    @property
    def has_portal_access(self) -> bool:
        return self.is_active and self.portal_access and not self.contact_restricted


class Program(models.TextChoices):
    IEP = "iep", "IEP"
    SECTION_504 = "504", "504 plan"
    ENGLISH_LEARNER = "ell", "English learner"
    FREE_REDUCED_LUNCH = "frl", "Free/reduced lunch"
    GIFTED = "gifted", "Gifted and talented"
    OTHER = "other", "Other"


class ProgramParticipation(SourcedRecord):
    """Dated participation, so later rollups can group by program as of any date."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="programs")
    program = models.CharField(max_length=20, choices=Program.choices)
    program_name = models.CharField(max_length=200, blank=True, default="")
    begin_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)

    objects: ClassVar = CurrentQuerySet.as_manager()

    class Meta:
        ordering = ["program", "begin_date"]
        constraints = [sourced_unique("programparticipation")]

    def __str__(self) -> str:
        return f"{self.student}: {self.get_program_display()}"


class ContactKind(models.TextChoices):
    ADDRESS = "address", "Address"
    PHONE = "phone", "Phone"
    EMAIL = "email", "Email"


class ContactDetail(SourcedRecord):
    """An address, phone or email of one student, guardian or staff member; encrypted at rest."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(
        Student, null=True, blank=True, on_delete=models.CASCADE, related_name="contacts"
    )
    guardian = models.ForeignKey(
        Guardian, null=True, blank=True, on_delete=models.CASCADE, related_name="contacts"
    )
    staff = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.CASCADE, related_name="contacts"
    )
    kind = models.CharField(max_length=10, choices=ContactKind.choices)
    label = models.CharField(max_length=40, blank=True, default="", help_text="home, mobile, work…")
    value = EncryptedTextField()
    value_hash = KeyedHashField(source_field="value")
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["kind", "-is_primary", "id"]
        constraints = [
            sourced_unique("contactdetail"),
            models.CheckConstraint(
                condition=(
                    Q(student__isnull=False, guardian__isnull=True, staff__isnull=True)
                    | Q(student__isnull=True, guardian__isnull=False, staff__isnull=True)
                    | Q(student__isnull=True, guardian__isnull=True, staff__isnull=False)
                ),
                name="contact_has_one_owner",
            ),
        ]
        # Staff invitations look contacts up by the hash of their value (invite_staff).
        indexes = [models.Index(fields=["value_hash"], name="contact_value_hash")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.label})"


# --- Object permissions (django-guardian), in direct foreign-key tables: one join, no generic
# text ids. Maintained in bulk by students.services.roster_permissions_sync.
from guardian.models import UserObjectPermissionBase  # noqa: E402


class SectionUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Section, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        abstract = False


class StudentUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Student, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        abstract = False


# --- What Ed-Fi interchanges bring besides rosters: calendars, attendance, discipline, grades,
# transcripts and cohorts. Each row keeps its natural key as source_id so imports upsert on it.


class CalendarDate(SourcedRecord):
    """A day in a school's (or the district's, school empty) calendar: instructional, holiday…"""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(
        School, null=True, blank=True, on_delete=models.CASCADE, related_name="calendar_dates"
    )
    date = models.DateField()
    event = models.CharField(max_length=200, help_text="e.g. Instructional day, Holiday")

    class Meta:
        ordering = ["date"]
        constraints = [sourced_unique("calendardate")]

    def __str__(self) -> str:
        return f"{self.date}: {self.event}"


class AttendanceCategory(models.TextChoices):
    PRESENT = "present", "In attendance"
    EXCUSED_ABSENCE = "excused_absence", "Excused absence"
    UNEXCUSED_ABSENCE = "unexcused_absence", "Unexcused absence"
    TARDY = "tardy", "Tardy"
    EARLY_DEPARTURE = "early_departure", "Early departure"
    OTHER = "other", "Other"


class AttendanceEvent(SourcedRecord):
    """A student's attendance on one day, at a school or in one section."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    # No index of its own: the (student, event_date) index leads with it (the largest table an
    # import writes pays for every index on each row).
    student = models.ForeignKey(
        Student, on_delete=models.CASCADE, related_name="attendance", db_index=False
    )
    school = models.ForeignKey(
        School, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    section = models.ForeignKey(
        Section, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    event_date = models.DateField()
    category = models.CharField(max_length=20, choices=AttendanceCategory.choices)
    reason = models.CharField(max_length=200, blank=True, default="")
    educational_environment = models.CharField(max_length=60, blank=True, default="")
    school_year = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["event_date"]
        constraints = [sourced_unique("attendanceevent")]
        indexes = [models.Index(fields=["student", "event_date"])]

    def __str__(self) -> str:
        return f"{self.student_id} {self.event_date}: {self.get_category_display()}"

    @property
    def is_absence(self) -> bool:
        return self.category in {
            AttendanceCategory.EXCUSED_ABSENCE,
            AttendanceCategory.UNEXCUSED_ABSENCE,
        }


class DisciplineIncident(SourcedRecord):
    """An incident at a school. Sensitive: names and descriptions are encrypted at rest, and only
    those StudentAccess.can_see_discipline allows see it."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    incident_identifier = models.CharField(max_length=60)
    incident_date = models.DateField()
    incident_time = models.TimeField(null=True, blank=True)
    location = models.CharField(max_length=60, blank=True, default="")
    behaviors = models.JSONField(default=list, blank=True)
    weapons = models.JSONField(default=list, blank=True)
    reported_to_law_enforcement = models.BooleanField(null=True, blank=True)
    reporter_description = models.CharField(max_length=60, blank=True, default="")
    reporter_name = EncryptedTextField(blank=True, default="")
    description = EncryptedTextField(blank=True, default="")
    reported_by = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-incident_date"]
        constraints = [sourced_unique("disciplineincident")]

    def __str__(self) -> str:
        return f"Incident {self.incident_identifier} on {self.incident_date}"


class StudentDisciplineIncident(SourcedRecord):
    """A student's part in an incident (perpetrator, victim, witness…)."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(
        Student, on_delete=models.CASCADE, related_name="discipline_incidents"
    )
    incident = models.ForeignKey(
        DisciplineIncident, on_delete=models.CASCADE, related_name="student_links"
    )
    participation = models.CharField(max_length=40, blank=True, default="")
    behaviors = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            sourced_unique("studentdisciplineincident"),
            models.UniqueConstraint(fields=["student", "incident"], name="student_incident_once"),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} in {self.incident_id} ({self.participation})"


class DisciplineAction(SourcedRecord):
    """What was done about an incident, for one or more students."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    incident = models.ForeignKey(
        DisciplineIncident,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="actions",
    )
    action_identifier = models.CharField(max_length=60)
    action_date = models.DateField()
    disciplines = EncryptedTextField(blank=True, default="", help_text="One action per line.")
    length_days = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    actual_length_days = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    length_difference_reason = models.CharField(max_length=100, blank=True, default="")
    assigned_by = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    responsibility_school = models.ForeignKey(
        School, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assignment_school = models.ForeignKey(
        School, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    students = models.ManyToManyField(Student, related_name="discipline_actions")

    class Meta:
        ordering = ["-action_date"]
        constraints = [sourced_unique("disciplineaction")]

    def __str__(self) -> str:
        return f"Action {self.action_identifier} on {self.action_date}"


class Grade(SourcedRecord):
    """A student's grade in a section for a grading period (mid-term, final…)."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="grades")
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="grades")
    grading_period = models.ForeignKey(
        AcademicSession, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    school_year = models.PositiveSmallIntegerField(null=True, blank=True)
    grade_type = models.CharField(max_length=40, blank=True, default="")
    letter_grade = models.CharField(max_length=20, blank=True, default="")
    numeric_grade = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["student", "grading_period__start_date"]
        constraints = [sourced_unique("grade")]

    def __str__(self) -> str:
        return f"{self.student_id} {self.grade_type}: {self.letter_grade or self.numeric_grade}"


class ReportCard(SourcedRecord):
    """A student's report card for a grading period: its grades, GPA and attendance totals."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="report_cards")
    grading_period = models.ForeignKey(
        AcademicSession, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    school_year = models.PositiveSmallIntegerField(null=True, blank=True)
    gpa_grading_period = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    gpa_cumulative = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    days_absent = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    days_in_attendance = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    days_tardy = models.PositiveSmallIntegerField(null=True, blank=True)
    grades = models.ManyToManyField(Grade, blank=True, related_name="report_cards")

    class Meta:
        ordering = ["student", "grading_period__start_date"]
        constraints = [sourced_unique("reportcard")]

    def __str__(self) -> str:
        return f"Report card of {self.student_id} ({self.grading_period_id})"


class AcademicRecord(SourcedRecord):
    """A student's cumulative record as of a session: credits and GPA; transcripts hang on it."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="academic_records")
    session = models.ForeignKey(
        AcademicSession, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    school_year = models.PositiveSmallIntegerField(null=True, blank=True)
    cumulative_credits_attempted = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True
    )
    cumulative_credits_earned = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True
    )
    cumulative_gpa = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["student", "school_year"]
        constraints = [sourced_unique("academicrecord")]

    def __str__(self) -> str:
        return f"Academic record of {self.student_id} ({self.school_year})"


class CourseTranscript(SourcedRecord):
    """A course a student took and its final result, on an academic record."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="transcripts")
    academic_record = models.ForeignKey(
        AcademicRecord, on_delete=models.CASCADE, related_name="transcripts"
    )
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(
        School, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attempt_result = models.CharField(max_length=40, blank=True, default="")
    credits_earned = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    grade_level_when_taken = models.CharField(max_length=4, blank=True, default="")
    final_letter_grade = models.CharField(max_length=20, blank=True, default="")
    final_numeric_grade = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["student", "course__title"]
        constraints = [sourced_unique("coursetranscript")]

    def __str__(self) -> str:
        return f"{self.student_id}: {self.course_id} {self.final_letter_grade}"


class Cohort(SourcedRecord):
    """A group of students followed together (an intervention, a study group…)."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="cohorts")
    school = models.ForeignKey(
        School, null=True, blank=True, on_delete=models.CASCADE, related_name="cohorts"
    )
    identifier = models.CharField(max_length=60)
    description = models.CharField(max_length=400, blank=True, default="")
    cohort_type = models.CharField(max_length=60, blank=True, default="")
    scope = models.CharField(max_length=40, blank=True, default="")
    subject = models.CharField(max_length=100, blank=True, default="")
    program_name = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["identifier"]
        constraints = [sourced_unique("cohort")]

    def __str__(self) -> str:
        return self.description or self.identifier


class CohortMembership(SourcedRecord):
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="cohorts")
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="memberships")
    begin_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)

    objects: ClassVar = CurrentQuerySet.as_manager()

    class Meta:
        ordering = ["cohort", "begin_date"]
        constraints = [sourced_unique("cohortmembership")]

    def __str__(self) -> str:
        return f"{self.student_id} in {self.cohort}"


class StudentCompetency(SourcedRecord):
    """A competency level a student reached on a learning objective in a section (report card)."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="competencies")
    section = models.ForeignKey(
        Section, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    objective = models.ForeignKey(
        "assessments.Standard", on_delete=models.CASCADE, related_name="+"
    )
    competency_level = models.CharField(max_length=40)

    class Meta:
        constraints = [sourced_unique("studentcompetency")]

    def __str__(self) -> str:
        return f"{self.student_id} on {self.objective_id}: {self.competency_level}"

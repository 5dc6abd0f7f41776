"""Families' rights under FERPA (34 CFR Part 99), as records: the district's annual notice and
each acknowledgement of it (99.7), directory-information opt-outs (99.37), consent requests and
the consents given (99.30), the record of every disclosure (99.32), inspection requests (99.10),
amendment requests with their decisions and the family's statements (99.20-99.22), students who
hold their own rights (99.5) and the district's settings for all of it (RightsPolicy).

Every row is written by rights.services, which checks, validates and logs each change in
RightsEvent (append-only). Reads go through rights.selectors. Rows that are evidence outlive
what a later change does to them: an acting user's account may go (SET_NULL and a label kept
as it was), a disclosure record stays as long as its student's record (DisclosureRecord).

Built to be extended by the district's administration, retention and offboarding, and the app
API: a Recipient is where an API application will hang, DisclosureRecord.actor_app names an
application acting without a user, and each model keeps its district for per-district rules.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from privacy.models import AppendOnlyError

# Category names are snake_case: a data category of the inventory (students.inventory, "grades",
# "attendance") or a directory item (DirectoryItem, "name").
_CATEGORY = re.compile(r"^[a-z][a-z0-9_]*$")


def validate_categories(value: object) -> None:
    """A non-empty list of distinct snake_case category names."""
    if not isinstance(value, list) or not value:
        raise ValidationError("Name at least one category of records.", code="no_categories")
    wrong = [item for item in value if not isinstance(item, str) or not _CATEGORY.match(item)]
    if wrong:
        raise ValidationError(
            f"Categories are snake_case names; not {', '.join(map(repr, wrong))}.",
            code="bad_category",
        )
    if len(set(value)) != len(value):
        raise ValidationError("A category is named twice.", code="category_twice")


def validate_directory_items(value: object) -> None:
    """A list (possibly empty: the district designates nothing) of distinct DirectoryItem values."""
    if not isinstance(value, list):
        raise ValidationError("Directory information is a list of items.", code="not_a_list")
    unknown = [item for item in value if item not in DirectoryItem.values]
    if unknown:
        raise ValidationError(
            f"Not a directory item: {', '.join(map(repr, unknown))}.", code="unknown_item"
        )
    if len(set(value)) != len(value):
        raise ValidationError("A directory item is named twice.", code="item_twice")


class DirectoryItem(models.TextChoices):
    """What a district may designate as directory information (99.3), each a category name a
    disclosure under the directory exception may name."""

    NAME = "name", "Name"
    ADDRESS = "address", "Address"
    TELEPHONE = "telephone", "Telephone listing"
    EMAIL = "email", "Email address"
    PHOTOGRAPH = "photograph", "Photograph"
    DATE_OF_BIRTH = "date_of_birth", "Date and place of birth"
    GRADE_LEVEL = "grade_level", "Grade level"
    ENROLLMENT_STATUS = "enrollment_status", "Enrollment status (full-time, part-time)"
    DATES_OF_ATTENDANCE = "dates_of_attendance", "Dates of attendance"
    ACTIVITIES = "activities", "Participation in officially recognized activities and sports"
    ATHLETES = "athletes_height_weight", "Weight and height of members of athletic teams"
    HONORS = "honors_and_awards", "Degrees, honors and awards received"
    MOST_RECENT_SCHOOL = "most_recent_school", "The most recent school attended"


# --- The district's settings.


class ParentsAccessAtEligibility(models.TextChoices):
    NO_CHANGE = "no_change", "No change: parents keep their portal access"
    END_PORTAL_ACCESS = (
        "end_portal_access",
        "Parents' portal access ends (the privacy office may keep it for one student)",
    )


class RightsPolicy(models.Model):
    """A district's settings for families' rights, one per district; a district without a row
    has the defaults (rights.selectors.rights_policy_of)."""

    district = models.OneToOneField(
        "students.District", on_delete=models.CASCADE, related_name="rights_policy"
    )
    # What parents' access becomes when their child holds their own rights (99.5).
    parents_access_at_eligibility = models.CharField(
        max_length=30,
        choices=ParentsAccessAtEligibility.choices,
        default=ParentsAccessAtEligibility.NO_CHANGE,
    )
    # 99.10(b): no more than 45 days; a district (or its state) may promise fewer.
    inspection_days = models.PositiveSmallIntegerField(
        default=45,
        validators=[MinValueValidator(1), MaxValueValidator(45)],
        help_text="Days to comply with a request to inspect records (at most 45).",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "rights policies"

    def __str__(self) -> str:
        return f"Rights policy of district {self.district_id}"


# --- Annual notice (99.7) and directory information (99.37).


class AnnualNotice(models.Model):
    """The district's annual notice of rights for a school year: what FERPA gives families, how
    to inspect and to ask for amendment, and what it designates as directory information. The
    latest published one is in force; a published notice is never edited (acknowledgements
    refer to its text): a correction is a new notice."""

    district = models.ForeignKey(
        "students.District", on_delete=models.PROTECT, related_name="annual_notices"
    )
    school_year = models.PositiveSmallIntegerField(
        help_text="The year the school year ends in.",
        validators=[MinValueValidator(2000), MaxValueValidator(2200)],
    )
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="The notice as families read it.")
    directory_information = models.JSONField(
        default=list, blank=True, validators=[validate_directory_items]
    )
    # 99.37(a)(3): the period in which a family may opt out before directory information is
    # first disclosed (None: no deadline is given; an opt-out counts whenever it comes).
    opt_out_by = models.DateField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["district", "-published_at"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.school_year})"


class NoticeAcknowledgement(models.Model):
    """A guardian's acknowledgement of an annual notice, with its date; once per notice and user
    (and child, when given from a child's page)."""

    district = models.ForeignKey("students.District", on_delete=models.PROTECT, related_name="+")
    notice = models.ForeignKey(
        AnnualNotice, on_delete=models.PROTECT, related_name="acknowledgements"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    user_label = models.CharField(max_length=254, help_text="Who, as they were then.")
    student = models.ForeignKey(
        "students.Student", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    acknowledged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-acknowledged_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["notice", "user"],
                condition=Q(student__isnull=True),
                name="notice_acknowledged_once",
            ),
            models.UniqueConstraint(
                fields=["notice", "user", "student"],
                condition=Q(student__isnull=False),
                name="notice_acknowledged_once_per_child",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_label} acknowledged notice {self.notice_id} on {self.acknowledged_at}"


class DirectoryOptOut(models.Model):
    """A guardian's opt-out of directory information for a child (99.37(a)(2)): disclosures
    under the directory-information exception leave the child out from `set_at` until it is
    withdrawn. History is kept: a new opt-out after a withdrawal is a new row."""

    district = models.ForeignKey("students.District", on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(
        "students.Student", on_delete=models.CASCADE, related_name="directory_opt_outs"
    )
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    set_by_label = models.CharField(max_length=254)
    set_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-set_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["student"],
                condition=Q(withdrawn_at__isnull=True),
                name="directory_opt_out_once_in_force",
            )
        ]

    def __str__(self) -> str:
        state = "withdrawn" if self.withdrawn_at else "in force"
        return f"Directory opt-out of student {self.student_id} ({state})"

    @property
    def in_force(self) -> bool:
        return self.withdrawn_at is None


# --- Consent (99.30) and disclosure (99.31, 99.32).


class RecipientKind(models.TextChoices):
    ORGANIZATION = "organization", "An organization (a vendor, a college, an agency)"
    PERSON = "person", "A person"
    COURT = "court", "A court or a party to a case"
    # The app API (a later issue): an OAuth2 application acting for the district.
    APPLICATION = "application", "An application using Trellis's API"


class Recipient(models.Model):
    """Someone outside the school officials to whom records may be disclosed: named once, then
    chosen by consent requests and disclosures."""

    district = models.ForeignKey(
        "students.District", on_delete=models.PROTECT, related_name="rights_recipients"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(
        max_length=20, choices=RecipientKind.choices, default=RecipientKind.ORGANIZATION
    )
    contact = models.TextField(blank=True, default="", help_text="Address, email, a person.")
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="recipient_named_once")
        ]

    def __str__(self) -> str:
        return self.name


class ConsentRequest(models.Model):
    """The district asks families' written consent (99.30) to disclose records to one recipient
    for one purpose: which records (categories, and in words), and which students: those named,
    or every student of the district (of one school, if given). Guardians see it in the portal
    until it closes or expires; consents given stand until revoked or the request expires."""

    district = models.ForeignKey(
        "students.District", on_delete=models.PROTECT, related_name="consent_requests"
    )
    recipient = models.ForeignKey(
        Recipient, on_delete=models.PROTECT, related_name="consent_requests"
    )
    purpose = models.CharField(max_length=500)
    categories = models.JSONField(validators=[validate_categories])
    records_description = models.TextField(help_text="The records, as families read it.")
    for_all_students = models.BooleanField(
        default=False, help_text="Every student of the district (or of the school, if given)."
    )
    school = models.ForeignKey(
        "students.School", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    students = models.ManyToManyField(
        "students.Student", blank=True, related_name="consent_requests"
    )
    expires_on = models.DateField(
        null=True, blank=True, help_text="The last day a consent given under it counts."
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Consent for {self.recipient}: {self.purpose}"

    def clean(self) -> None:
        super().clean()
        if self.school_id is not None and not self.for_all_students:
            raise ValidationError(
                {"school": "A school narrows a request for every student; name students or not."}
            )

    def expired(self, on: date | None = None) -> bool:
        return self.expires_on is not None and self.expires_on < (on or timezone.localdate())

    @property
    def is_open(self) -> bool:
        """Whether guardians may still give consent under it."""
        return self.closed_at is None and not self.expired()


class Consent(models.Model):
    """A guardian's signed consent for one student under one request (99.30(a), (d)): the
    signature is the guardian's click after re-entering their password, kept as the time, the
    user and the request. A revocation (99.30 does not bar it; families expect it) stops every
    later disclosure at once; disclosures made before stay recorded."""

    district = models.ForeignKey("students.District", on_delete=models.PROTECT, related_name="+")
    request = models.ForeignKey(ConsentRequest, on_delete=models.RESTRICT, related_name="consents")
    student = models.ForeignKey(
        "students.Student", on_delete=models.CASCADE, related_name="consents"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    user_label = models.CharField(max_length=254, help_text="Who signed, as they were then.")
    guardian = models.ForeignKey(
        "students.Guardian", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    signed_at = models.DateTimeField(default=timezone.now)
    # How the signer proved who they were (99.30(d): an electronic signature that identifies
    # and authenticates the person).
    signature_method = models.CharField(max_length=60, default="password re-entered")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-signed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "student", "user"],
                condition=Q(revoked_at__isnull=True),
                name="consent_once_in_force",
            )
        ]

    def __str__(self) -> str:
        return f"Consent of {self.user_label} for student {self.student_id} ({self.request_id})"

    @property
    def in_force(self) -> bool:
        return self.revoked_at is None and not self.request.expired()


class DisclosureBasis(models.TextChoices):
    """Why a disclosure outside the school officials is lawful: consent (99.30) or one of the
    exceptions (99.31) Trellis records."""

    CONSENT = "consent", "Written consent"
    SCHOOL_OFFICIAL_UNDER_CONTRACT = (
        "school_official_under_contract",
        "A contractor acting as a school official (99.31(a)(1)(i)(B))",
    )
    DIRECTORY_INFORMATION = "directory_information", "Directory information (99.31(a)(11))"
    COURT_ORDER = "court_order", "A court order (99.31(a)(9))"
    SUBPOENA = "subpoena", "A lawfully issued subpoena (99.31(a)(9))"


class DisclosureRecordQuerySet(models.QuerySet):
    def update(self, **kwargs: object) -> int:
        raise AppendOnlyError("Disclosure records cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        # Rows go only with their student's (the CASCADE, below the queryset): while any row
        # exists, its student does. Deleting none is no deletion.
        if self.exists():
            raise AppendOnlyError(
                "Disclosure records are kept as long as the student's record (34 CFR 99.32(a)(2))."
            )
        return 0, {}


class DisclosureRecord(models.Model):
    """One disclosure of one student's records (99.32): to whom, what, when, on what basis and
    who made it. Append-only: never changed, and never deleted while the student's record
    exists. It goes with the student's row (CASCADE, which deletes it below the queryset and
    model that refuse), which is what 99.32(a)(2) asks: kept as long as the records are."""

    district = models.ForeignKey("students.District", on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(
        "students.Student", on_delete=models.CASCADE, related_name="disclosure_records"
    )
    recipient = models.ForeignKey(
        Recipient, on_delete=models.PROTECT, related_name="disclosure_records"
    )
    recipient_name = models.CharField(max_length=200, help_text="As the recipient was named then.")
    categories = models.JSONField(validators=[validate_categories])
    description = models.TextField(help_text="What was disclosed, in words.")
    disclosed_at = models.DateTimeField(default=timezone.now, db_index=True)
    basis = models.CharField(max_length=40, choices=DisclosureBasis.choices)
    # The evidence: the consent (basis consent; RESTRICT: a consent with disclosures under it
    # goes only with the student), or the exception's purpose and reference (a contract, a
    # court order's or a subpoena's number).
    consent = models.ForeignKey(
        Consent, null=True, blank=True, on_delete=models.RESTRICT, related_name="disclosures"
    )
    purpose = models.CharField(max_length=500)
    reference = models.CharField(max_length=200, blank=True, default="")
    # Amendment statements sent with it (99.21(c)): [{"amendment_request": id, "category",
    # "record", "field", "statement", "statement_at"}], as they were sent.
    statements_sent = models.JSONField(default=list, blank=True)
    acting_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    acting_label = models.CharField(
        max_length=254, blank=True, default="", help_text="Who disclosed, as they were then."
    )
    # Later: an API application disclosing without a user (the app API issue).
    actor_app = models.CharField(max_length=200, blank=True, default="")

    objects = DisclosureRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-disclosed_at", "-id"]
        indexes = [models.Index(fields=["student", "-disclosed_at"])]

    def __str__(self) -> str:
        return f"{self.disclosed_at:%Y-%m-%d} to {self.recipient_name} ({self.basis})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Disclosure records cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(
            "Disclosure records are kept as long as the student's record (34 CFR 99.32(a)(2))."
        )

    def clean(self) -> None:
        super().clean()
        if (self.basis == DisclosureBasis.CONSENT) != (self.consent_id is not None):
            raise ValidationError("A disclosure names a consent exactly when consent is its basis.")


# --- Inspection (99.10).


class InspectionStatus(models.TextChoices):
    OPEN = "open", "Open"
    DELIVERED = "delivered", "Delivered"
    WITHDRAWN = "withdrawn", "Withdrawn"


def inspection_package_path(request: InspectionRequest, filename: str) -> str:
    # Under MEDIA_ROOT, which Trellis never serves (no MEDIA_URL): a package is read only
    # through a page that checks access and logs the read.
    return f"rights/inspection-packages/{request.district_id}/{request.pk}/{filename}"


class InspectionRequest(models.Model):
    """A guardian's request to inspect and review their child's records (99.10): due within the
    district's days (45 at most) of the request; one action builds the package (every category
    of the child's data as JSON and as a readable PDF, with the access log and the disclosure
    records) and delivers it in the portal."""

    district = models.ForeignKey("students.District", on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(
        "students.Student", on_delete=models.CASCADE, related_name="inspection_requests"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    user_label = models.CharField(max_length=254, help_text="Who asked, as they were then.")
    note = models.TextField(blank=True, default="", help_text="What the family asks to see.")
    requested_at = models.DateTimeField(default=timezone.now)
    due_on = models.DateField()
    status = models.CharField(
        max_length=20, choices=InspectionStatus.choices, default=InspectionStatus.OPEN
    )
    package_json = models.FileField(upload_to=inspection_package_path, blank=True, max_length=300)
    package_pdf = models.FileField(upload_to=inspection_package_path, blank=True, max_length=300)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    fulfilled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    delivered_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["district", "status", "due_on"])]

    def __str__(self) -> str:
        return f"Inspection request {self.pk} for student {self.student_id} (due {self.due_on})"

    @staticmethod
    def due_on_for(requested_at: Any, days: int = 45) -> date:
        """The day a request made at `requested_at` is due: `days` days after its local day."""
        return timezone.localdate(requested_at) + timedelta(days=days)

    def overdue_on(self, today: date | None = None) -> bool:
        return (
            self.status == InspectionStatus.OPEN and (today or timezone.localdate()) > self.due_on
        )

    @property
    def overdue(self) -> bool:
        """Open and past its due date (today, local time)."""
        return self.overdue_on()


# --- Amendment (99.20-99.22).


class AmendmentDecision(models.TextChoices):
    GRANTED = "granted", "Granted: the record is amended"
    REFUSED = "refused", "Refused"


class AmendmentRequest(models.Model):
    """A guardian contests a value in their child's record as inaccurate, misleading or in
    violation of privacy (99.20). The privacy office decides; a refusal carries the notice of
    the right to a hearing (99.20(c)), after which the guardian may place a statement in the
    record (99.21(b)(2)): shown beside the value wherever staff see it and sent with every later
    disclosure of it (99.21(c))."""

    district = models.ForeignKey("students.District", on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey(
        "students.Student", on_delete=models.CASCADE, related_name="amendment_requests"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    user_label = models.CharField(max_length=254, help_text="Who asked, as they were then.")
    # Which value: its data category, the record in words, and where known the row and field
    # (model label and primary key), so that a page showing that row can show the statement.
    category = models.CharField(max_length=60)
    record_label = models.CharField(max_length=300, help_text="The record, as the family names it.")
    record_model = models.CharField(max_length=100, blank=True, default="")
    record_id = models.PositiveBigIntegerField(null=True, blank=True)
    field_name = models.CharField(max_length=100, blank=True, default="")
    contested_value = models.TextField()
    proposed_value = models.TextField(blank=True, default="")
    reason = models.TextField(help_text="Why the family believes the value is wrong.")
    requested_at = models.DateTimeField(default=timezone.now)
    decision = models.CharField(
        max_length=10, choices=AmendmentDecision.choices, blank=True, default=""
    )
    decision_reason = models.TextField(blank=True, default="")
    hearing_notice = models.TextField(
        blank=True, default="", help_text="The notice of the right to a hearing (on a refusal)."
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    statement = models.TextField(blank=True, default="")
    statement_at = models.DateTimeField(null=True, blank=True)
    statement_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(decision="refused") | ~Q(hearing_notice=""),
                name="amendment_refusal_carries_hearing_notice",
            ),
            models.CheckConstraint(
                condition=Q(statement="") | Q(decision="refused"),
                name="amendment_statement_only_after_refusal",
            ),
        ]

    def __str__(self) -> str:
        return f"Amendment request {self.pk}: {self.record_label}"

    def clean(self) -> None:
        super().clean()
        if not _CATEGORY.match(self.category or ""):
            raise ValidationError({"category": "A category is a snake_case name."})
        if self.decision == AmendmentDecision.REFUSED and not self.hearing_notice.strip():
            raise ValidationError(
                {"hearing_notice": "A refusal carries the notice of the right to a hearing."}
            )
        if self.statement and self.decision != AmendmentDecision.REFUSED:
            raise ValidationError(
                {"statement": "A statement is added to the record only after a refusal."}
            )


# --- Eligible students (99.5).


class EligibilityReason(models.TextChoices):
    AGE_18 = "age_18", "Turned 18"
    POSTSECONDARY = "postsecondary", "Attends a postsecondary institution"


class EligibleStudent(models.Model):
    """A student who holds their own rights (99.3, 99.5): from their 18th birthday (flagged by a
    daily task) or from attending a postsecondary institution (flagged by hand). Parents' portal
    access follows the district's setting at that moment (RightsPolicy); the privacy office may
    change it for this student (a tax dependant, 99.31(a)(8), or the student's consent)."""

    district = models.ForeignKey("students.District", on_delete=models.PROTECT, related_name="+")
    student = models.OneToOneField(
        "students.Student", on_delete=models.CASCADE, related_name="rights_eligibility"
    )
    eligible_since = models.DateField()
    reason = models.CharField(max_length=20, choices=EligibilityReason.choices)
    # Who flagged it: None for the daily task.
    flagged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    flagged_at = models.DateTimeField(default=timezone.now)
    parents_portal_access_ended = models.BooleanField(default=False)
    parents_access_note = models.CharField(max_length=300, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-eligible_since", "-id"]

    def __str__(self) -> str:
        return f"Student {self.student_id} holds their rights since {self.eligible_since}"


# --- Every change, logged.


class RightsAction(models.TextChoices):
    POLICY_SET = "policy_set", "Rights settings changed"
    NOTICE_DRAFTED = "notice_drafted", "Annual notice draft saved"
    NOTICE_PUBLISHED = "notice_published", "Annual notice published"
    NOTICE_ACKNOWLEDGED = "notice_acknowledged", "Annual notice acknowledged"
    OPT_OUT_SET = "opt_out_set", "Directory information opt-out set"
    OPT_OUT_WITHDRAWN = "opt_out_withdrawn", "Directory information opt-out withdrawn"
    RECIPIENT_SAVED = "recipient_saved", "Recipient saved"
    CONSENT_REQUESTED = "consent_requested", "Consent requested"
    CONSENT_REQUEST_CLOSED = "consent_request_closed", "Consent request closed"
    CONSENT_GIVEN = "consent_given", "Consent given"
    CONSENT_REFUSED = "consent_refused", "Consent refused: wrong password"
    CONSENT_REVOKED = "consent_revoked", "Consent revoked"
    DISCLOSED = "disclosed", "Records disclosed"
    DISCLOSURE_REFUSED = "disclosure_refused", "Disclosure refused"
    INSPECTION_REQUESTED = "inspection_requested", "Inspection requested"
    INSPECTION_DELIVERED = "inspection_delivered", "Inspection package delivered"
    INSPECTION_WITHDRAWN = "inspection_withdrawn", "Inspection request withdrawn"
    AMENDMENT_REQUESTED = "amendment_requested", "Amendment requested"
    AMENDMENT_DECIDED = "amendment_decided", "Amendment decided"
    STATEMENT_ADDED = "statement_added", "Statement added to the record"
    ELIGIBLE_FLAGGED = "eligible_flagged", "Student holds their own rights"
    PARENTS_ACCESS_SET = "parents_access_set", "Parents' access of an eligible student set"


class RightsEventQuerySet(models.QuerySet):
    def update(self, **kwargs: object) -> int:
        raise AppendOnlyError("The rights log is append-only: rows cannot be updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("The rights log is append-only: rows cannot be deleted.")


class RightsEvent(models.Model):
    """One change made through rights.services: who, when, what, to which row and student.
    Append-only, and it outlives the user, the student and the row (no database constraint)."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    district = models.ForeignKey(
        "students.District",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    # The account's email, a task's name ("task: eligible_students_flag") or an application's.
    actor_label = models.CharField(max_length=254)
    action = models.CharField(max_length=40, choices=RightsAction.choices)
    student = models.ForeignKey(
        "students.Student",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    subject_model = models.CharField(max_length=60, blank=True, default="")
    subject_id = models.PositiveBigIntegerField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    objects = RightsEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["district", "-at"]),
            models.Index(fields=["student", "-at"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label}: {self.get_action_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("The rights log is append-only: rows cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("The rights log is append-only: rows cannot be deleted.")

"""Who logs in (User), what they may do (RoleMembership), how guardians join (Invitation) and
how a login's second factor is enrolled and reset (MFAEnrolmentInvitation, MFAResetRecord)."""

import functools
import hashlib
import operator
import secrets
from datetime import date, timedelta
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from privacy.models import AppendOnlyError


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """An account. Email is the login; it may link to one staff or guardian record."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True, default="")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May use the Django admin.")
    date_joined = models.DateTimeField(default=timezone.now)
    staff_record = models.OneToOneField(
        "students.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="user"
    )
    # The language pages and emails use for this person (settings.LANGUAGES); a guardian's is
    # preselected in the portal.
    language = models.CharField(max_length=10, default="en", db_default="en")
    guardian_record = models.OneToOneField(
        "students.Guardian", null=True, blank=True, on_delete=models.SET_NULL, related_name="user"
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Role(models.TextChoices):
    """Roles are memberships. A new role (counselor, aide) is a new value, no schema change."""

    DISTRICT_STAFF = "district_staff", "District staff"
    PRINCIPAL = "principal", "Principal"
    TEACHER = "teacher", "Teacher"
    GUARDIAN = "guardian", "Guardian"
    # Answers families' rights requests and records disclosures (FERPA; the rights app). Opens
    # no student page by itself: accounts.access gives it the rights pages' students only.
    PRIVACY_OFFICER = "privacy_officer", "Privacy officer"


STAFF_ROLES = {Role.DISTRICT_STAFF, Role.PRINCIPAL, Role.TEACHER}


class MembershipSource(models.TextChoices):
    MANUAL = "manual", "Granted by the district"
    SECTION_ASSIGNMENT = "section_assignment", "Derived from a section assignment"
    GUARDIAN_RELATIONSHIP = "guardian_relationship", "Derived from a guardian relationship"
    IMPORT = "import", "Imported"


# Rows that accounts.services.derived_access_sync writes as a mirror of the records (section
# assignments, guardian relationships). Access reads those records themselves, never the mirror.
DERIVED_SOURCES = (MembershipSource.SECTION_ASSIGNMENT, MembershipSource.GUARDIAN_RELATIONSHIP)

# The scope each role may hold (accounts.access.MEMBERSHIP_BASIS says what each grants).
ROLE_SCOPES: dict[str, tuple[str, ...]] = {
    "district_staff": ("district",),
    "principal": ("school",),
    "teacher": ("section", "school"),
    "guardian": ("student",),
    "privacy_officer": ("district",),
}
SCOPE_FIELDS = ("district", "school", "section", "student")


def _only_scope(scope: str) -> Q:
    return Q(**{f"{name}__isnull": name != scope for name in SCOPE_FIELDS})


def _role_scope_condition() -> Q:
    allowed = [
        Q(role=role) & _only_scope(scope)
        for role, scopes in ROLE_SCOPES.items()
        for scope in scopes
    ]
    return functools.reduce(operator.or_, allowed)


class RoleMembershipQuerySet(models.QuerySet):
    def current(self, on: date | None = None) -> "RoleMembershipQuerySet":
        today = on or timezone.localdate()
        return self.filter(Q(begin_date__isnull=True) | Q(begin_date__lte=today)).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=today)
        )


class RoleMembership(models.Model):
    """A user holding a role over one scope: a district, a school, a section or a student."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=40, choices=Role.choices)
    district = models.ForeignKey(
        "students.District", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    school = models.ForeignKey(
        "students.School", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    section = models.ForeignKey(
        "students.Section", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    student = models.ForeignKey(
        "students.Student", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    begin_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    source = models.CharField(
        max_length=40, choices=MembershipSource.choices, default=MembershipSource.MANUAL
    )
    # Who granted it by hand and why (a substitute's two weeks, say): the grant's audit trail.
    granted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RoleMembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            # Exactly one scope per membership, and one that fits the role: a principal of a
            # district would otherwise open whichever school has the district's primary key.
            models.CheckConstraint(
                condition=_role_scope_condition(),
                name="membership_scope_fits_role",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(begin_date__isnull=True)
                | Q(end_date__gte=F("begin_date")),
                name="membership_ends_after_it_begins",
            ),
            *[
                # Once per source: a grant by hand may stand beside the mirror of a record.
                models.UniqueConstraint(
                    fields=["user", "role", scope, "source"],
                    condition=Q(**{f"{scope}__isnull": False}),
                    name=f"membership_once_per_{scope}_and_source",
                )
                for scope in ("district", "school", "section", "student")
            ],
        ]
        indexes = [models.Index(fields=["user", "role"])]

    def __str__(self) -> str:
        scope = self.district or self.school or self.section or self.student
        return f"{self.user} — {self.get_role_display()} of {scope}"

    def clean(self) -> None:
        super().clean()
        scopes = [name for name in SCOPE_FIELDS if getattr(self, f"{name}_id") is not None]
        allowed = ROLE_SCOPES.get(self.role, ())
        if len(scopes) != 1 or scopes[0] not in allowed:
            given = " and ".join(scopes) or "no scope"
            raise ValidationError(
                f"A {self.get_role_display().lower()} membership needs exactly one "
                f"{' or '.join(allowed)} scope, not {given}.",
                code="scope_does_not_fit_role",
            )
        if self.begin_date and self.end_date and self.end_date < self.begin_date:
            raise ValidationError(
                {"end_date": "The membership must end on or after the day it begins."}
            )


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class OneTimeLink(models.Model):
    """A single-use, expiring link sent to one email address. Only the token's hash is stored,
    so a database reader cannot use a pending link; a new link replaces the pending one."""

    email = models.EmailField()
    # Only the hash is stored: a database reader cannot use a pending invitation.
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    VALID_FOR = timedelta(days=14)

    class Meta:
        abstract = True

    @staticmethod
    def new_token() -> tuple[str, str]:
        token = secrets.token_urlsafe(32)
        return token, _hash_token(token)

    @staticmethod
    def hash_token(token: str) -> str:
        return _hash_token(token)

    @property
    def is_usable(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )


class Invitation(OneTimeLink):
    """A single-use, expiring invitation for one guardian record to create a login: a link
    emailed to the family, or for a family without email a short code printed in a letter
    (`code_hash` set, `email` empty until the guardian gives theirs when redeeming it)."""

    # A letter's invitation has no address yet: the guardian types theirs with the code.
    email = models.EmailField(blank=True, default="")
    guardian = models.ForeignKey(
        "students.Guardian", on_delete=models.CASCADE, related_name="invitations"
    )
    accepted_user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The language of the email or letter (settings.LANGUAGES); the login starts in it.
    language = models.CharField(max_length=10, default="en", db_default="en")
    # A letter's short code, hashed like the token (None: an emailed link).
    code_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # When the email left (None: a letter, or the mail could not be sent).
    sent_at = models.DateTimeField(null=True, blank=True)

    # Letters: the short code's alphabet (no 0/O, 1/I/L) and length, typed by hand from paper.
    CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
    CODE_LENGTH = 12

    def __str__(self) -> str:
        return f"Invitation for {self.guardian} ({self.email or 'letter'})"

    @classmethod
    def new_code(cls) -> tuple[str, str]:
        """A letter's code, as printed (groups of four) and its hash (of the bare code)."""
        bare = "".join(secrets.choice(cls.CODE_ALPHABET) for _ in range(cls.CODE_LENGTH))
        return "-".join(bare[i : i + 4] for i in range(0, len(bare), 4)), cls.hash_code(bare)

    @classmethod
    def hash_code(cls, code: str) -> str:
        """The hash of a code as typed: case, spaces and dashes do not matter."""
        bare = "".join(ch for ch in code.upper() if ch.isalnum())
        return _hash_token(f"code:{bare}")

    @property
    def is_letter(self) -> bool:
        return self.code_hash is not None


class MFAEnrolmentInvitation(OneTimeLink):
    """A single-use, expiring link, emailed to a login's own address, that lets whoever opens it
    set up that login's second factor. Holding the password is not enough to enrol: where staff
    must use MFA (TRELLIS_REQUIRE_STAFF_MFA), they enrol only after opening this link, which
    proves the mailbox (accounts.middleware.StaffMFARequiredMiddleware)."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="mfa_enrolment_invitations"
    )
    # When the email left (None: it could not be sent, and the link reached nobody).
    sent_at = models.DateTimeField(null=True, blank=True)

    VALID_FOR = timedelta(days=7)

    class Meta:
        verbose_name = "two-factor enrolment invitation"

    def __str__(self) -> str:
        return f"Two-factor enrolment for {self.user} ({self.email})"


class MFAResetVia(models.TextChoices):
    ADMIN = "admin", "Django admin"
    COMMAND = "command", "manage.py send_mfa_enrolment --reset"


class MFAResetRecordQuerySet(models.QuerySet):
    def update(self, **kwargs: object) -> int:
        raise AppendOnlyError("Two-factor resets are append-only: records cannot be updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Two-factor resets are append-only: records cannot be deleted.")


class MFAResetRecord(models.Model):
    """One reset of someone's second factors: whose, by whom, when, why, what was removed, and
    the enrolment link it sent. Append-only, and it outlives both users (emails are kept)."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        User,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    user_email = models.EmailField()
    by = models.ForeignKey(
        User,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    by_label = models.CharField(max_length=254, help_text="Who reset it, as they were then.")
    via = models.CharField(max_length=20, choices=MFAResetVia.choices)
    reason = models.CharField(max_length=200)
    removed = models.CharField(
        max_length=200, blank=True, default="", help_text="The factors removed, by type."
    )
    invitation = models.ForeignKey(
        MFAEnrolmentInvitation,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )

    objects = MFAResetRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "two-factor reset"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.by_label} reset two-factor of {self.user_email}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Two-factor resets are append-only: records cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Two-factor resets are append-only: records cannot be deleted.")

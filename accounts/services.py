"""Writes to accounts: derived roles and object permissions, staff logins, guardian invitations,
two-factor enrolment links and resets."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, send_mail
from django.db import models, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from accounts.access import schools_visible_to
from accounts.models import (
    Invitation,
    MembershipSource,
    MFAEnrolmentInvitation,
    MFAResetRecord,
    Role,
    RoleMembership,
    User,
)
from students.models import Guardian, GuardianRelationship, Section, SectionAssignment, Staff

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccessSyncReport:
    memberships_added: int
    memberships_removed: int


def _sync_rows(
    model: type[models.Model],
    scope: Q,
    wanted: set[tuple],
    key_fields: tuple[str, ...],
    extra: dict,
) -> tuple[int, int]:
    """Make the rows of `model` within `scope` exactly `wanted` (tuples over key_fields)."""
    existing = {
        tuple(row[:-1]): row[-1]
        for row in model._default_manager.filter(scope).values_list(*key_fields, "pk")
    }
    stale_ids = [pk for key, pk in existing.items() if key not in wanted]
    missing = [key for key in wanted if key not in existing]
    if stale_ids:
        for start in range(0, len(stale_ids), 5000):
            model._default_manager.filter(pk__in=stale_ids[start : start + 5000]).delete()
    model._default_manager.bulk_create(
        [model(**dict(zip(key_fields, key, strict=True)), **extra) for key in missing],
        batch_size=5000,
        ignore_conflicts=True,
    )
    return len(missing), len(stale_ids)


@transaction.atomic
def derived_access_sync(*, user_ids: Iterable[int] | None = None) -> AccessSyncReport:
    """Mirror teachers' section assignments and guardians' portal relationships as role
    memberships (source SECTION_ASSIGNMENT or GUARDIAN_RELATIONSHIP), with the assignment's dates.

    The mirror is what the admin shows of a user's roles. Access never reads it: accounts.access
    reads the assignments, enrollments and relationships themselves, by date, so a stale mirror
    grants nothing. It is re-derived after every save of its inputs (accounts.signals), after
    each import, and nightly (accounts.tasks).
    """
    today = timezone.localdate()
    users = User.objects.filter(is_active=True)
    if user_ids is not None:
        users = users.filter(pk__in=list(user_ids))
    staff_users = dict(
        users.filter(staff_record__isnull=False).values_list("staff_record_id", "pk")
    )
    guardian_users = dict(
        users.filter(guardian_record__isnull=False).values_list("guardian_record_id", "pk")
    )
    # Rows of users no longer active (or no longer linked) go too: the scope is every user asked.
    scope_users = User.objects.all() if user_ids is None else User.objects.filter(pk__in=user_ids)
    user_scope = Q(user_id__in=scope_users.values("pk"))

    teacher_sections = {
        (staff_users[staff_id], section_id, begin, end)
        for staff_id, section_id, begin, end in SectionAssignment.objects.filter(
            Q(end_date__isnull=True) | Q(end_date__gte=today),
            is_active=True,
            staff_id__in=list(staff_users),
            section__is_active=True,
        ).values_list("staff_id", "section_id", "begin_date", "end_date")
    }
    guardian_students = {
        (guardian_users[guardian_id], student_id)
        for guardian_id, student_id in GuardianRelationship.objects.filter(
            is_active=True,
            portal_access=True,
            contact_restricted=False,
            guardian_id__in=list(guardian_users),
            student__is_active=True,
        ).values_list("guardian_id", "student_id")
    }
    added_t, removed_t = _sync_rows(
        RoleMembership,
        user_scope & Q(role=Role.TEACHER, source=MembershipSource.SECTION_ASSIGNMENT),
        teacher_sections,
        ("user_id", "section_id", "begin_date", "end_date"),
        {"role": Role.TEACHER, "source": MembershipSource.SECTION_ASSIGNMENT},
    )
    added_g, removed_g = _sync_rows(
        RoleMembership,
        user_scope & Q(role=Role.GUARDIAN, source=MembershipSource.GUARDIAN_RELATIONSHIP),
        guardian_students,
        ("user_id", "student_id"),
        {"role": Role.GUARDIAN, "source": MembershipSource.GUARDIAN_RELATIONSHIP},
    )
    return AccessSyncReport(
        memberships_added=added_t + added_g, memberships_removed=removed_t + removed_g
    )


def _verified_email(user: User) -> None:
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )


@transaction.atomic
def staff_login_provision(
    *,
    staff: Staff,
    email: str,
    password: str | None = None,
    acting_user: User | None = None,
    base_url: str | None = None,
    send_enrolment: bool | None = None,
) -> User:
    """Give a staff record a login (the district provisions staff; there is no sign-up).

    Where staff must use two-factor authentication (TRELLIS_REQUIRE_STAFF_MFA, or
    send_enrolment=True), a login that has no second factor yet is also emailed its enrolment
    link (mfa_enrolment_invite): whoever holds the password cannot enrol without it. A login that
    already has a factor keeps it and is sent nothing."""
    email = email.strip().lower()
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email=email, password=password, full_name=staff.display_name
        )
    elif password:
        user.set_password(password)
        user.save(update_fields=["password"])
    if user.staff_record_id not in (None, staff.pk):
        raise ValidationError(f"{email} is already linked to another staff record.")
    user.staff_record = staff
    user.full_name = user.full_name or staff.display_name
    user.save(update_fields=["staff_record", "full_name"])
    _verified_email(user)
    derived_access_sync(user_ids=[user.pk])
    logger.info(
        "staff login provisioned staff=%s by=%s", staff.pk, getattr(acting_user, "pk", None)
    )
    if send_enrolment is None:
        send_enrolment = settings.TRELLIS_REQUIRE_STAFF_MFA
    if send_enrolment and not has_second_factor(user):
        mfa_enrolment_invite(user=user, acting_user=acting_user, base_url=base_url)
    return user


@transaction.atomic
def role_grant(
    *,
    user: User,
    role: str,
    acting_user: User | None = None,
    begin_date: date | None = None,
    end_date: date | None = None,
    reason: str = "",
    **scope: object,
) -> RoleMembership:
    """Grant a role over a scope (district=, school=, section= or student=), between optional
    dates. A scope that does not fit the role is refused (RoleMembership.clean)."""
    membership = RoleMembership.objects.filter(
        user=user, role=role, source=MembershipSource.MANUAL, **scope
    ).first() or RoleMembership(user=user, role=role, source=MembershipSource.MANUAL, **scope)
    if membership.pk is None or begin_date or end_date or reason:
        membership.begin_date = begin_date
        membership.end_date = end_date
        membership.reason = reason
        membership.granted_by = acting_user
        membership.full_clean()
        membership.save()
        logger.info(
            "role granted user=%s role=%s scope=%s by=%s from=%s through=%s",
            user.pk,
            role,
            {k: getattr(v, "pk", v) for k, v in scope.items()},
            getattr(acting_user, "pk", None),
            begin_date,
            end_date,
        )
    return membership


class GrantRefused(PermissionDenied):
    pass


@transaction.atomic
def substitute_grant(
    *,
    acting_user: User,
    substitute: User,
    section: Section,
    begin_date: date,
    end_date: date,
    reason: str = "",
) -> RoleMembership:
    """A dated exception: a substitute teaches a section from begin_date through end_date. Made
    by the principal of the section's school or by district staff of its district, and kept as
    a role membership that names who granted it and why (the audit trail)."""
    # The school's page is open to exactly its principal and its district's staff.
    if not schools_visible_to(acting_user).filter(pk=section.school_id).exists():
        raise GrantRefused(
            "Only the school's principal or district staff give a substitute access."
        )
    return role_grant(
        user=substitute,
        role=Role.TEACHER,
        section=section,
        begin_date=begin_date,
        end_date=end_date,
        reason=reason or "Substitute teacher",
        acting_user=acting_user,
    )


@transaction.atomic
def substitute_end(*, acting_user: User, membership_id: int) -> None:
    """End a substitute's access now: a grant that has begun ends yesterday, one that has not
    begun is withdrawn. Only the school's principal or district staff may."""
    membership = (
        RoleMembership.objects.select_for_update()
        .filter(pk=membership_id, role=Role.TEACHER, source=MembershipSource.MANUAL)
        .exclude(section=None)
        .select_related("section")
        .first()
    )
    if membership is None or not (
        schools_visible_to(acting_user).filter(pk=membership.section.school_id).exists()
    ):
        raise GrantRefused("No such substitute grant at a school of yours.")
    today = timezone.localdate()
    if membership.begin_date is None or membership.begin_date < today:
        membership.end_date = today - timedelta(days=1)
        membership.save(update_fields=["end_date"])
    else:
        membership.delete()
    logger.info(
        "substitute access ended membership=%s by=%s",
        membership_id,
        getattr(acting_user, "pk", None),
    )


class InvitationError(ValidationError):
    pass


# How the districts' systems name the languages of settings.LANGUAGES (Guardian.language holds
# the source's word: "Spanish", "es", "Español"...).
_LANGUAGE_NAMES = {
    "en": ("en", "eng", "english", "inglés", "ingles"),
    "es": ("es", "spa", "spanish", "español", "espanol", "castellano"),
}


def language_code(value: str | None) -> str:
    """A language of settings.LANGUAGES for a code or a name as a source writes it; the site's
    default for anything else."""
    known = dict(settings.LANGUAGES)
    text = (value or "").strip().lower()
    if text in known:
        return text
    base = text.split("-")[0].split("_")[0]
    if base in known:
        return base
    for code, names in _LANGUAGE_NAMES.items():
        if code in known and text in names:
            return code
    return settings.LANGUAGE_CODE.split("-")[0]


def guardian_language(guardian: Guardian) -> str:
    """The language to write to a guardian in: their login's, else their record's."""
    user = getattr(guardian, "user", None)
    if isinstance(user, User):
        return language_code(user.language)
    return language_code(guardian.language)


def _check_invitable(guardian: Guardian) -> None:
    """Only guardians with portal access to at least one child, and no contact restriction on
    any, can be invited: a guardian who must not be contacted is never sent anything."""
    relationships = list(guardian.relationships.filter(is_active=True))
    if any(rel.contact_restricted for rel in relationships):
        raise InvitationError(_("This guardian is contact-restricted and cannot be invited."))
    if not any(rel.portal_access for rel in relationships):
        raise InvitationError(
            _("This guardian has no portal access to any student; grant it before inviting.")
        )
    if User.objects.filter(guardian_record=guardian).exists():
        raise InvitationError(_("This guardian already has a login."))


def _replace_pending(guardian: Guardian) -> None:
    """A new invitation replaces any pending one, emailed or printed."""
    Invitation.objects.filter(
        guardian=guardian, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())


@transaction.atomic
def invitation_create(
    *,
    guardian: Guardian,
    email: str,
    acting_user: User | None = None,
    language: str | None = None,
) -> tuple[Invitation, str]:
    """Invite a guardian to create a login. Returns the invitation and its one-time token.

    Only guardians with portal access to at least one child, and no contact restriction on any,
    can be invited (see _check_invitable). `language` defaults to the guardian's record's.
    """
    _check_invitable(guardian)
    _replace_pending(guardian)
    token, token_hash = Invitation.new_token()
    invitation = Invitation(
        guardian=guardian,
        email=email.strip().lower(),
        token_hash=token_hash,
        created_by=acting_user,
        expires_at=timezone.now() + Invitation.VALID_FOR,
        language=language_code(language) if language else guardian_language(guardian),
    )
    if not invitation.email:
        raise InvitationError(_("Give the guardian's email address."))
    invitation.full_clean()
    invitation.save()
    logger.info(
        "guardian invitation created guardian=%s by=%s",
        guardian.pk,
        getattr(acting_user, "pk", None),
    )
    return invitation, token


def invitation_link(token: str, base_url: str | None = None) -> str:
    return site_url(base_url) + reverse("invitation_accept", kwargs={"token": token})


def _send_invitation_mail(invitation: Invitation, link: str) -> bool:
    """The invitation's email, in its language; False when it could not leave."""
    with translation.override(invitation.language):
        context = {
            "invitation": invitation,
            "guardian": invitation.guardian,
            "link": link,
            "valid_until": timezone.localtime(invitation.expires_at).date(),
        }
        subject = render_to_string("portal/emails/invitation_subject.txt", context)
        body = render_to_string("portal/emails/invitation_message.txt", context)
    message = EmailMessage(
        " ".join(subject.split()),
        body,
        None,
        [invitation.email],
        headers={"Content-Language": invitation.language},
    )
    try:
        message.send()
    except OSError:  # smtplib's errors included: staff see it was not sent and send again
        logger.warning(
            "guardian invitation mail not sent guardian=%s invitation=%s",
            invitation.guardian_id,
            invitation.pk,
            exc_info=True,
        )
        return False
    invitation.sent_at = timezone.now()
    invitation.save(update_fields=["sent_at"])
    return True


@transaction.atomic
def invitation_send(
    *,
    guardian: Guardian,
    email: str,
    acting_user: User | None = None,
    language: str | None = None,
    base_url: str | None = None,
) -> tuple[Invitation, str]:
    """Invite a guardian by email: a single-use link that expires (Invitation.VALID_FOR), in the
    invitation's language, replacing any pending invitation (a resend is a new link). The
    invitation's `sent_at` stays empty when the mail could not leave. Returns the invitation
    and its token (the command prints the link; pages never show it)."""
    invitation, token = invitation_create(
        guardian=guardian, email=email, acting_user=acting_user, language=language
    )
    sent = _send_invitation_mail(invitation, invitation_link(token, base_url))
    logger.info(
        "guardian invitation emailed guardian=%s invitation=%s by=%s sent=%s",
        guardian.pk,
        invitation.pk,
        getattr(acting_user, "pk", None),
        sent,
    )
    return invitation, token


@transaction.atomic
def invitation_letter_create(
    *, guardian: Guardian, acting_user: User | None = None, language: str | None = None
) -> tuple[Invitation, str]:
    """An invitation for a family without email: a short single-use code that expires, to print
    in a letter (the code is returned once; only its hash is kept). The guardian enters it at
    the invitation_redeem page with an email address of theirs and a password."""
    _check_invitable(guardian)
    _replace_pending(guardian)
    code, code_hash = Invitation.new_code()
    # The link's token exists (the field is required) but is never shown: the code is the key.
    _, token_hash = Invitation.new_token()
    invitation = Invitation(
        guardian=guardian,
        email="",
        token_hash=token_hash,
        code_hash=code_hash,
        created_by=acting_user,
        expires_at=timezone.now() + Invitation.VALID_FOR,
        language=language_code(language) if language else guardian_language(guardian),
    )
    invitation.full_clean()
    invitation.save()
    logger.info(
        "guardian invitation letter created guardian=%s invitation=%s by=%s",
        guardian.pk,
        invitation.pk,
        getattr(acting_user, "pk", None),
    )
    return invitation, code


def invitation_for_token(token: str) -> Invitation | None:
    invitation = (
        Invitation.objects.select_related("guardian")
        .filter(token_hash=Invitation.hash_token(token), code_hash__isnull=True)
        .first()
    )
    if invitation is None or not invitation.is_usable:
        return None
    return invitation


def invitation_for_code(code: str) -> Invitation | None:
    """The usable letter invitation with this code (typed in any case, with or without dashes)."""
    if not code or len(code) > 40:
        return None
    invitation = (
        Invitation.objects.select_related("guardian")
        .filter(code_hash=Invitation.hash_code(code))
        .first()
    )
    if invitation is None or not invitation.is_usable:
        return None
    return invitation


def _guardian_login_create(
    invitation: Invitation, *, email: str, password: str, language: str | None = None
) -> User:
    """The guardian's login from a usable invitation (locked by the caller); it is then used.
    Its language is the one the guardian chose on the page, else the invitation's."""
    if User.objects.filter(email=email).exists():
        raise InvitationError(_("An account with this email already exists; sign in instead."))
    guardian = invitation.guardian
    if User.objects.filter(guardian_record=guardian).exists():
        raise InvitationError(_("This guardian already has a login; sign in instead."))
    user = User.objects.create_user(
        email=email,
        password=password,
        full_name=guardian.display_name,
        language=language_code(language) if language else invitation.language,
    )
    user.guardian_record = guardian
    user.save(update_fields=["guardian_record"])
    invitation.accepted_at = timezone.now()
    invitation.accepted_user = user
    invitation.save(update_fields=["accepted_at", "accepted_user"])
    derived_access_sync(user_ids=[user.pk])
    logger.info("guardian invitation accepted guardian=%s user=%s", guardian.pk, user.pk)
    return user


@transaction.atomic
def invitation_accept(*, token: str, password: str, language: str | None = None) -> User:
    """Create the guardian's login from a usable invitation; the token then stops working."""
    invitation = invitation_for_token(token)
    if invitation is None:
        raise InvitationError(
            _("This invitation is not valid: it was used, revoked or has expired.")
        )
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_usable:
        raise InvitationError(_("This invitation has already been used."))
    user = _guardian_login_create(
        invitation, email=invitation.email, password=password, language=language
    )
    # The link came to this address: opening it proves the mailbox.
    _verified_email(user)
    return user


@transaction.atomic
def invitation_redeem_code(
    *, code: str, email: str, password: str, language: str | None = None
) -> User:
    """Create the guardian's login from a letter's code, with the email address they give (not
    yet verified: allauth asks them to confirm it); the code then stops working."""
    found = invitation_for_code(code)
    if found is None:
        raise InvitationError(_("This code is not valid: it was used, replaced or has expired."))
    invitation = Invitation.objects.select_for_update().get(pk=found.pk)
    if not invitation.is_usable:
        raise InvitationError(_("This code has already been used."))
    email = email.strip().lower()
    invitation.email = email
    invitation.save(update_fields=["email"])
    user = _guardian_login_create(invitation, email=email, password=password, language=language)
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": False, "primary": True}
    )
    return user


# --- Two-factor enrolment: a link to the login's own mailbox, and resets by an administrator.

# Where enrolment links point when neither the caller nor TRELLIS_BASE_URL says.
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


def has_second_factor(user: User) -> bool:
    return Authenticator.objects.filter(user=user).exists()


def site_url(base_url: str | None = None) -> str:
    """The site's address for links in emails: the caller's, else TRELLIS_BASE_URL."""
    configured = getattr(settings, "TRELLIS_BASE_URL", "")
    return (base_url or configured or DEFAULT_BASE_URL).rstrip("/")


def _send_enrolment_mail(invitation: MFAEnrolmentInvitation, link: str) -> bool:
    context = {"invitation": invitation, "user": invitation.user, "link": link}
    subject = render_to_string("accounts/email/mfa_enrolment_subject.txt", context)
    body = render_to_string("accounts/email/mfa_enrolment_message.txt", context)
    try:
        send_mail(" ".join(subject.split()), body, None, [invitation.email])
    except OSError:  # smtplib's errors included: the link is then re-sent, never printed
        logger.warning(
            "two-factor enrolment mail not sent user=%s invitation=%s",
            invitation.user_id,
            invitation.pk,
            exc_info=True,
        )
        return False
    invitation.sent_at = timezone.now()
    invitation.save(update_fields=["sent_at"])
    return True


@transaction.atomic
def mfa_enrolment_invite(
    *, user: User, acting_user: User | None = None, base_url: str | None = None
) -> MFAEnrolmentInvitation:
    """Email the login's own address a single-use, expiring link to set up a second factor.

    The token leaves only in that email (it is neither returned nor logged): opening the link
    proves the mailbox, which the password alone does not. A new link replaces a pending one.
    Its `sent_at` stays empty when the mail could not be sent."""
    if has_second_factor(user):
        raise InvitationError(f"{user.email} already has two-factor authentication.")
    MFAEnrolmentInvitation.objects.filter(
        user=user, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    token, token_hash = MFAEnrolmentInvitation.new_token()
    invitation = MFAEnrolmentInvitation(
        user=user,
        email=user.email,
        token_hash=token_hash,
        created_by=acting_user,
        expires_at=timezone.now() + MFAEnrolmentInvitation.VALID_FOR,
    )
    invitation.full_clean()
    invitation.save()
    link = site_url(base_url) + reverse("mfa_enrolment_accept", kwargs={"token": token})
    sent = _send_enrolment_mail(invitation, link)
    logger.info(
        "two-factor enrolment link created user=%s invitation=%s by=%s sent=%s",
        user.pk,
        invitation.pk,
        getattr(acting_user, "pk", None),
        sent,
    )
    return invitation


def mfa_enrolment_for_token(token: str) -> MFAEnrolmentInvitation | None:
    """The usable enrolment link with this token, for an active login with no factor yet."""
    invitation = (
        MFAEnrolmentInvitation.objects.select_related("user")
        .filter(token_hash=MFAEnrolmentInvitation.hash_token(token))
        .first()
    )
    if (
        invitation is None
        or not invitation.is_usable
        or not invitation.user.is_active
        or has_second_factor(invitation.user)
    ):
        return None
    return invitation


@transaction.atomic
def mfa_enrolment_accept(*, token: str, password: str | None = None) -> MFAEnrolmentInvitation:
    """Use an enrolment link (it then stops working). A login without a password sets one here;
    one that has a password keeps it (and signs in with it)."""
    found = mfa_enrolment_for_token(token)
    if found is None:
        raise InvitationError("This link is not valid: it was used, replaced or has expired.")
    invitation = MFAEnrolmentInvitation.objects.select_for_update().get(pk=found.pk)
    if not invitation.is_usable:
        raise InvitationError("This link has already been used.")
    user = found.user
    if not user.has_usable_password():
        if not password:
            raise InvitationError("Choose a password to finish.")
        user.set_password(password)
        user.save(update_fields=["password"])
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    invitation.user = user
    logger.info("two-factor enrolment link used user=%s invitation=%s", user.pk, invitation.pk)
    return invitation


class MFAResetRefused(PermissionDenied):
    pass


@transaction.atomic
def mfa_reset(
    *,
    user: User,
    reason: str,
    via: str,
    acting_user: User | None = None,
    actor_label: str = "",
    base_url: str | None = None,
) -> MFAResetRecord:
    """Remove every second factor of a login and email it a new enrolment link. Recorded (an
    MFAResetRecord: whose, by whom, when, why, what) and logged, whoever does it: an
    administrator in the Django admin, or an operator with `send_mfa_enrolment --reset`."""
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError("Say why the two-factor authentication is reset.")
    if acting_user is not None and user.is_superuser and not acting_user.is_superuser:
        raise MFAResetRefused("Only a superuser may reset a superuser's two-factor authentication.")
    factors = list(Authenticator.objects.filter(user=user).order_by("type", "pk"))
    Authenticator.objects.filter(pk__in=[factor.pk for factor in factors]).delete()
    invitation = mfa_enrolment_invite(user=user, acting_user=acting_user, base_url=base_url)
    record = MFAResetRecord.objects.create(
        user=user,
        user_email=user.email,
        by=acting_user,
        by_label=(acting_user.email if acting_user is not None else actor_label)[:254] or "unknown",
        via=via,
        reason=reason[:200],
        removed=", ".join(factor.type for factor in factors)[:200],
        invitation=invitation,
    )
    logger.info(
        "two-factor reset user=%s by=%s via=%s removed=%s reason=%r record=%s invitation=%s",
        user.pk,
        record.by_label,
        via,
        record.removed or "nothing",
        record.reason,
        record.pk,
        invitation.pk,
    )
    return record

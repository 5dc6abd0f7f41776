"""Writes to accounts: derived roles and object permissions, staff logins, guardian invitations."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Invitation, MembershipSource, Role, RoleMembership, User
from students.models import (
    Enrollment,
    Guardian,
    GuardianRelationship,
    SectionAssignment,
    SectionUserObjectPermission,
    Staff,
    StudentUserObjectPermission,
    in_force,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccessSyncReport:
    memberships_added: int
    memberships_removed: int
    permissions_added: int
    permissions_removed: int


def _sync_rows(
    model: type, scope: Q, wanted: set[tuple], key_fields: tuple[str, ...], extra: dict
) -> tuple[int, int]:
    """Make the rows of `model` within `scope` exactly `wanted` (tuples over key_fields)."""
    existing = {
        tuple(row[:-1]): row[-1]
        for row in model.objects.filter(scope).values_list(*key_fields, "pk")
    }
    stale_ids = [pk for key, pk in existing.items() if key not in wanted]
    missing = [key for key in wanted if key not in existing]
    if stale_ids:
        for start in range(0, len(stale_ids), 5000):
            model.objects.filter(pk__in=stale_ids[start : start + 5000]).delete()
    model.objects.bulk_create(
        [model(**dict(zip(key_fields, key, strict=True)), **extra) for key in missing],
        batch_size=5000,
        ignore_conflicts=True,
    )
    return len(missing), len(stale_ids)


@transaction.atomic
def derived_access_sync(*, user_ids: Iterable[int] | None = None) -> AccessSyncReport:
    """Derive teacher and guardian memberships and teachers' object permissions, in bulk.

    Teachers hold their sections (current assignments) and those sections' current students;
    guardians hold each child whose relationship grants portal access and is not restricted.
    A student who leaves a section is gone from the teacher's view as soon as this runs (every
    service that changes rosters calls it).
    """
    users = User.objects.filter(is_active=True)
    if user_ids is not None:
        users = users.filter(pk__in=list(user_ids))
    staff_users = dict(
        users.filter(staff_record__isnull=False).values_list("staff_record_id", "pk")
    )
    guardian_users = dict(
        users.filter(guardian_record__isnull=False).values_list("guardian_record_id", "pk")
    )
    user_scope = Q(user_id__in=users.values("pk"))

    teacher_sections = {
        (staff_users[staff_id], section_id)
        for staff_id, section_id in SectionAssignment.objects.filter(
            in_force(), staff_id__in=list(staff_users), section__is_active=True
        ).values_list("staff_id", "section_id")
    }
    section_ids = {section_id for _, section_id in teacher_sections}
    students_by_section: dict[int, set[int]] = {}
    for section_id, student_id in Enrollment.objects.filter(
        in_force(), section_id__in=section_ids, student__is_active=True
    ).values_list("section_id", "student_id"):
        students_by_section.setdefault(section_id, set()).add(student_id)
    teacher_students = {
        (user_id, student_id)
        for user_id, section_id in teacher_sections
        for student_id in students_by_section.get(section_id, ())
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
        ("user_id", "section_id"),
        {"role": Role.TEACHER, "source": MembershipSource.SECTION_ASSIGNMENT},
    )
    added_g, removed_g = _sync_rows(
        RoleMembership,
        user_scope & Q(role=Role.GUARDIAN, source=MembershipSource.GUARDIAN_RELATIONSHIP),
        guardian_students,
        ("user_id", "student_id"),
        {"role": Role.GUARDIAN, "source": MembershipSource.GUARDIAN_RELATIONSHIP},
    )
    section_perm = Permission.objects.get(
        content_type__app_label="students", codename="view_section_roster"
    )
    student_perm = Permission.objects.get(
        content_type__app_label="students", codename="view_student_record"
    )
    added_sp, removed_sp = _sync_rows(
        SectionUserObjectPermission,
        user_scope & Q(permission=section_perm),
        teacher_sections,
        ("user_id", "content_object_id"),
        {"permission": section_perm},
    )
    added_st, removed_st = _sync_rows(
        StudentUserObjectPermission,
        user_scope & Q(permission=student_perm),
        teacher_students,
        ("user_id", "content_object_id"),
        {"permission": student_perm},
    )
    return AccessSyncReport(
        memberships_added=added_t + added_g,
        memberships_removed=removed_t + removed_g,
        permissions_added=added_sp + added_st,
        permissions_removed=removed_sp + removed_st,
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
) -> User:
    """Give a staff record a login (the district provisions staff; there is no sign-up)."""
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
    return user


@transaction.atomic
def role_grant(
    *, user: User, role: str, acting_user: User | None = None, **scope: object
) -> RoleMembership:
    """Grant a role over a scope (district=, school=, section= or student=)."""
    membership, _ = RoleMembership.objects.get_or_create(
        user=user, role=role, source=MembershipSource.MANUAL, **scope
    )
    return membership


class InvitationError(ValidationError):
    pass


@transaction.atomic
def invitation_create(
    *, guardian: Guardian, email: str, acting_user: User | None = None
) -> tuple[Invitation, str]:
    """Invite a guardian to create a login. Returns the invitation and its one-time token.

    Only guardians with portal access to at least one child, and no contact restriction on any,
    can be invited: a guardian who must not be contacted is never sent anything.
    """
    relationships = list(guardian.relationships.filter(is_active=True))
    if any(rel.contact_restricted for rel in relationships):
        raise InvitationError("This guardian is contact-restricted and cannot be invited.")
    if not any(rel.portal_access for rel in relationships):
        raise InvitationError(
            "This guardian has no portal access to any student; grant it before inviting."
        )
    if hasattr(guardian, "user"):
        raise InvitationError("This guardian already has a login.")
    # A new invitation replaces any pending one.
    Invitation.objects.filter(
        guardian=guardian, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    token, token_hash = Invitation.new_token()
    invitation = Invitation(
        guardian=guardian,
        email=email.strip().lower(),
        token_hash=token_hash,
        created_by=acting_user,
        expires_at=timezone.now() + Invitation.VALID_FOR,
    )
    invitation.full_clean()
    invitation.save()
    logger.info(
        "guardian invitation created guardian=%s by=%s",
        guardian.pk,
        getattr(acting_user, "pk", None),
    )
    return invitation, token


def invitation_for_token(token: str) -> Invitation | None:
    invitation = (
        Invitation.objects.select_related("guardian")
        .filter(token_hash=Invitation.hash_token(token))
        .first()
    )
    if invitation is None or not invitation.is_usable:
        return None
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, password: str) -> User:
    """Create the guardian's login from a usable invitation; the token then stops working."""
    invitation = invitation_for_token(token)
    if invitation is None:
        raise InvitationError("This invitation is not valid: it was used, revoked or has expired.")
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_usable:
        raise InvitationError("This invitation has already been used.")
    if User.objects.filter(email=invitation.email).exists():
        raise InvitationError("An account with this email already exists; sign in instead.")
    guardian = invitation.guardian
    user = User.objects.create_user(
        email=invitation.email, password=password, full_name=guardian.display_name
    )
    user.guardian_record = guardian
    user.save(update_fields=["guardian_record"])
    _verified_email(user)
    invitation.accepted_at = timezone.now()
    invitation.accepted_user = user
    invitation.save(update_fields=["accepted_at", "accepted_user"])
    derived_access_sync(user_ids=[user.pk])
    logger.info("guardian invitation accepted guardian=%s user=%s", guardian.pk, user.pk)
    return user

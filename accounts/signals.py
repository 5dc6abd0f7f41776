"""Receivers that keep what accounts derives from the records in step with every save, the
admin's included (bulk imports re-derive once after they commit), that note at sign-in
whether the user had access (AccessEndedMiddleware signs them out when it ends), and that log
what a user does to their own second factors (an administrator's reset is logged and recorded
by accounts.services.mfa_reset)."""

import logging

from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added, authenticator_removed, authenticator_reset
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest

from accounts.access import forget_viewer, viewer_for
from accounts.middleware import HAD_ACCESS_KEY, MFA_ENROLMENT_GRANT_KEY
from accounts.models import User
from students.models import GuardianRelationship, SectionAssignment


def _resync_on_commit(users: QuerySet[User] | list[int]) -> None:
    """Re-derive the mirror of these users (a queryset or a list of ids) once the save commits."""
    user_ids = users if isinstance(users, list) else list(users.values_list("pk", flat=True))
    if not user_ids:
        return
    from accounts.services import derived_access_sync

    transaction.on_commit(lambda: derived_access_sync(user_ids=user_ids))


@receiver([post_save, post_delete], sender=SectionAssignment)
def _assignment_changed(sender: object, instance: SectionAssignment, **_: object) -> None:
    _resync_on_commit(User.objects.filter(staff_record_id=instance.staff_id))


@receiver([post_save, post_delete], sender=GuardianRelationship)
def _relationship_changed(sender: object, instance: GuardianRelationship, **_: object) -> None:
    _resync_on_commit(User.objects.filter(guardian_record_id=instance.guardian_id))


@receiver(post_save, sender=User)
def _user_changed(
    sender: object,
    instance: User,
    created: bool,
    update_fields: frozenset[str] | None = None,
    **_: object,
) -> None:
    # A sign-in saves last_login alone: nothing access depends on.
    if update_fields is not None and set(update_fields) <= {"last_login", "password"}:
        return
    _resync_on_commit([instance.pk])


@receiver(user_logged_in)
def _remember_access_at_sign_in(
    sender: object, request: HttpRequest | None, user: User, **_: object
) -> None:
    if request is not None and hasattr(request, "session"):
        forget_viewer(user)  # the same object may have been asked before, on another day
        request.session[HAD_ACCESS_KEY] = bool(viewer_for(user).grants)


logger = logging.getLogger(__name__)


@receiver(authenticator_added)
def _second_factor_added(
    sender: object,
    request: HttpRequest | None,
    user: User,
    authenticator: Authenticator,
    **_: object,
) -> None:
    # The emailed link's grant has served: a factor removed later needs a new link.
    if request is not None and hasattr(request, "session"):
        request.session.pop(MFA_ENROLMENT_GRANT_KEY, None)
    logger.info("two-factor authenticator added user=%s type=%s", user.pk, authenticator.type)


@receiver(authenticator_removed)
def _second_factor_removed(
    sender: object,
    request: HttpRequest | None,
    user: User,
    authenticator: Authenticator,
    **_: object,
) -> None:
    logger.info("two-factor authenticator removed user=%s type=%s", user.pk, authenticator.type)


@receiver(authenticator_reset)
def _second_factor_reset(
    sender: object,
    request: HttpRequest | None,
    user: User,
    authenticator: Authenticator,
    **_: object,
) -> None:
    logger.info(
        "two-factor authenticator reset by its user user=%s type=%s", user.pk, authenticator.type
    )

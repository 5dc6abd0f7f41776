"""Authentication backends: Django's and allauth's, whose per-request read of the signed-in user
also says whether they have enrolled an MFA authenticator. StaffMFARequiredMiddleware asks that
on every page a staff member opens; read with the user, it costs no query of its own."""

from typing import Any

from allauth.account import auth_backends as allauth_backends
from allauth.mfa.models import Authenticator
from django.contrib.auth import backends as django_backends
from django.db.models import Exists, OuterRef

from accounts.models import User

# The path of the backend a view names when it signs a user in itself (a new guardian).
MODEL_BACKEND = "accounts.backends.ModelBackend"


class _UserWithMFA(django_backends.ModelBackend):
    """get_user as ModelBackend's, with `trellis_has_authenticator` annotated on the user."""

    def get_user(self, user_id: Any) -> User | None:
        user = (
            User.objects.annotate(
                trellis_has_authenticator=Exists(Authenticator.objects.filter(user=OuterRef("pk")))
            )
            .filter(pk=user_id)
            .first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(_UserWithMFA):
    pass


class AuthenticationBackend(_UserWithMFA, allauth_backends.AuthenticationBackend):
    pass

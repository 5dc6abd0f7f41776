"""Authentication backends: Django's and allauth's, whose per-request read of the signed-in user
also says whether they have enrolled an MFA authenticator. StaffMFARequiredMiddleware asks that
on every page a staff member opens; read with the user, it costs no query of its own."""

from allauth.account import auth_backends as allauth_backends
from allauth.mfa.models import Authenticator
from django.contrib.auth import backends as django_backends
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Exists, OuterRef

# The path of the backend a view names when it signs a user in itself (a new guardian).
MODEL_BACKEND = "accounts.backends.ModelBackend"


class _UserWithMFA:
    """get_user as ModelBackend's, with `trellis_has_authenticator` annotated on the user."""

    def get_user(self, user_id: object) -> AbstractBaseUser | None:
        user_model = django_backends.UserModel
        user = (
            user_model._default_manager.annotate(
                trellis_has_authenticator=Exists(Authenticator.objects.filter(user=OuterRef("pk")))
            )
            .filter(pk=user_id)
            .first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None  # type: ignore[attr-defined]


class ModelBackend(_UserWithMFA, django_backends.ModelBackend):
    pass


class AuthenticationBackend(_UserWithMFA, allauth_backends.AuthenticationBackend):
    pass

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from students.selectors import viewer_for

# Pages a staff member without MFA may still reach: enrolling in MFA, and signing out.
MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/")


def _has_authenticator(user: object) -> bool:
    # Read with the user by accounts.backends; asked of the database only for a user that some
    # other way put on the request.
    known = getattr(user, "trellis_has_authenticator", None)
    if known is not None:
        return bool(known)
    return Authenticator.objects.filter(user=user).exists()


class StaffMFARequiredMiddleware:
    """When TRELLIS_REQUIRE_STAFF_MFA is on, staff must enrol in MFA before seeing any page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.TRELLIS_REQUIRE_STAFF_MFA
            and request.user.is_authenticated
            and not request.path.startswith(MFA_EXEMPT_PREFIXES)
            and (viewer_for(request.user).is_staff_role or request.user.is_staff)
            and not _has_authenticator(request.user)
        ):
            return redirect("mfa_activate_totp")
        return self.get_response(request)

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.utils.http import urlencode

from accounts.access import viewer_for

# Set in the session at sign-in (accounts.signals) when the user had access then.
HAD_ACCESS_KEY = "trellis_had_access"

# Pages a staff member without MFA may still reach: enrolling in MFA, and signing out.
MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/")


def _has_authenticator(user: object) -> bool:
    # Read with the user by accounts.backends; asked of the database only for a user that some
    # other way put on the request.
    known = getattr(user, "trellis_has_authenticator", None)
    if known is not None:
        return bool(known)
    return Authenticator.objects.filter(user=user).exists()


class AccessEndedMiddleware:
    """A user whose last grant has ended is signed out at their next request (a deactivated
    user already is: the auth backends refuse inactive users). Django admin users keep their
    session: the admin is theirs by is_staff, not by a grant."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not user.is_staff
            and request.session.get(HAD_ACCESS_KEY)
            and not viewer_for(user).grants
        ):
            logout(request)
            messages.info(request, "Your access to Trellis has ended, so you were signed out.")
            login_url = resolve_url(settings.LOGIN_URL)
            return redirect(f"{login_url}?{urlencode({'next': request.path})}")
        return self.get_response(request)


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

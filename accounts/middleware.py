import time
from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.urls import Resolver404, resolve
from django.utils.http import urlencode

from accounts.access import viewer_for

# Set in the session at sign-in (accounts.signals) when the user had access then.
HAD_ACCESS_KEY = "trellis_had_access"

# Set in the session by the emailed enrolment link (accounts.views): {"user": pk, "until": epoch
# seconds}. It lets that user, in this session only, reach the pages that add a second factor.
MFA_ENROLMENT_GRANT_KEY = "trellis_mfa_enrolment"
MFA_ENROLMENT_GRANT_SECONDS = 60 * 60

# Pages a staff member who has opened their enrolment link may reach before enrolling: allauth's
# (MFA set-up, reauthentication, signing out).
MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/")

# Pages a staff member without a factor and without the link may reach: the page that tells
# them to use the link, the link itself, signing in and out, and a password reset by email.
# Never the set-up of a factor, nor the email or password of the account.
MFA_UNENROLLED_OPEN_URLS = frozenset(
    {
        "mfa_enrolment_needed",
        "mfa_enrolment_accept",
        "account_login",
        "account_logout",
        "account_reset_password",
        "account_reset_password_done",
        "account_reset_password_from_key",
        "account_reset_password_from_key_done",
    }
)


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


def mfa_enrolment_granted(request: HttpRequest) -> bool:
    """Whether this session opened the signed-in user's enrolment link within the hour."""
    grant = request.session.get(MFA_ENROLMENT_GRANT_KEY)
    return (
        isinstance(grant, dict)
        and grant.get("user") == request.user.pk
        and float(grant.get("until", 0)) > time.time()
    )


def mfa_enrolment_required(request: HttpRequest) -> bool:
    """Whether the signed-in user must enrol a second factor before any page: staff (a staff
    role, or the Django admin's is_staff) without one, when TRELLIS_REQUIRE_STAFF_MFA is on."""
    return bool(
        settings.TRELLIS_REQUIRE_STAFF_MFA
        and request.user.is_authenticated
        and (viewer_for(request.user).is_staff_role or request.user.is_staff)
        and not _has_authenticator(request.user)
    )


def _url_name(request: HttpRequest) -> str | None:
    try:
        return resolve(request.path_info).url_name
    except Resolver404:
        return None


class StaffMFARequiredMiddleware:
    """When TRELLIS_REQUIRE_STAFF_MFA is on, staff must enrol in MFA before seeing any page, and
    may enrol only from the link emailed to their own address: the first holder of the password
    is not necessarily its owner. Without the link they are shown the page that says so
    (mfa_enrolment_needed); having opened it, they are sent to set up TOTP. Staff who have a
    factor, and everyone else, pass untouched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/static/") and mfa_enrolment_required(request):
            if mfa_enrolment_granted(request):
                if not request.path.startswith(MFA_EXEMPT_PREFIXES) and (
                    _url_name(request) not in MFA_UNENROLLED_OPEN_URLS
                ):
                    return redirect("mfa_activate_totp")
            elif _url_name(request) not in MFA_UNENROLLED_OPEN_URLS:
                return redirect("mfa_enrolment_needed")
        return self.get_response(request)

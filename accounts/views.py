import time

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.access import SignedInRequest
from accounts.backends import MODEL_BACKEND
from accounts.forms import InvitationCodeForm, MFAEnrolmentForm, NewPasswordForm
from accounts.language import chosen_language
from accounts.middleware import (
    MFA_ENROLMENT_GRANT_KEY,
    MFA_ENROLMENT_GRANT_SECONDS,
    mfa_enrolment_granted,
    mfa_enrolment_required,
)
from accounts.models import MFAEnrolmentInvitation
from accounts.services import (
    InvitationError,
    invitation_accept,
    invitation_for_token,
    invitation_redeem_code,
    mfa_enrolment_accept,
    mfa_enrolment_for_token,
)


@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    """An emailed invitation's link: the guardian chooses a password, in the invitation's
    language unless they switched the page to another (the login keeps the page's)."""
    invitation = invitation_for_token(token)
    if invitation is None:
        raise Http404("This invitation is not valid: it was used, revoked or has expired.")
    language = chosen_language(request) or invitation.language
    with translation.override(language):
        form = NewPasswordForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                user = invitation_accept(
                    token=token, password=form.cleaned_data["password1"], language=language
                )
            except InvitationError as error:
                form.add_error(None, error.message)
            else:
                login(request, user, backend=MODEL_BACKEND)
                messages.success(request, _("Welcome to Trellis. Your account is ready."))
                return redirect("home")
        return render(
            request, "accounts/invitation_accept.html", {"form": form, "invitation": invitation}
        )


@never_cache
@require_http_methods(["GET", "POST"])
def invitation_redeem_view(request: HttpRequest) -> HttpResponse:
    """Where a guardian types the code of a school's letter (families without email): with an
    email address of theirs and a password it becomes their login. A code works once and
    expires; allauth then asks them to confirm the address."""
    form = InvitationCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitation_redeem_code(
                code=form.cleaned_data["code"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                language=chosen_language(request),
            )
        except InvitationError as error:
            form.add_error("code", error.message)
        else:
            login(request, user, backend=MODEL_BACKEND)
            with translation.override(user.language):
                address = EmailAddress.objects.filter(user=user, email=user.email).first()
                if address is not None:
                    address.send_confirmation(request)
                messages.success(
                    request,
                    _(
                        "Welcome to Trellis. Your account is ready; we sent you an email to "
                        "confirm your address."
                    ),
                )
            return redirect("home")
    return render(
        request,
        "accounts/invitation_redeem.html",
        {"form": form},
        status=400 if form.is_bound and form.errors else 200,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def mfa_enrolment_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed two-factor enrolment link. Opening it (GET) changes nothing, so that a mail
    scanner that follows links cannot spend it; the button (POST) spends it and lets this
    session, signed in as the link's owner, set up a factor within the hour."""
    invitation = mfa_enrolment_for_token(token)
    if invitation is None:
        raise Http404("This link is not valid: it was used, replaced or has expired.")
    form = MFAEnrolmentForm(
        request.POST if request.method == "POST" else None, user=invitation.user
    )
    if request.method == "POST" and form.is_valid():
        had_password = invitation.user.has_usable_password()
        try:
            accepted = mfa_enrolment_accept(
                token=token, password=form.cleaned_data.get("password1")
            )
        except InvitationError as error:
            form.add_error(None, error.message)
        else:
            return _continue_enrolment(request, accepted, had_password=had_password)
    return render(
        request, "accounts/mfa_enrolment_accept.html", {"form": form, "invitation": invitation}
    )


def _continue_enrolment(
    request: HttpRequest, invitation: MFAEnrolmentInvitation, *, had_password: bool
) -> HttpResponse:
    owner = invitation.user
    if not (request.user.is_authenticated and request.user.pk == owner.pk):
        if not had_password:
            # They chose their password here, as a guardian does on an invitation.
            login(request, owner, backend=MODEL_BACKEND)
        elif request.user.is_authenticated:
            logout(request)  # someone else's session: the owner signs in with their password
    request.session[MFA_ENROLMENT_GRANT_KEY] = {
        "user": owner.pk,
        "until": time.time() + MFA_ENROLMENT_GRANT_SECONDS,
    }
    if request.user.is_authenticated:
        messages.success(request, "Your email is confirmed. Now set up your authenticator app.")
        return redirect("mfa_activate_totp")
    messages.info(
        request,
        "Your email is confirmed. Sign in with your password to set up two-factor authentication.",
    )
    login_url = resolve_url(settings.LOGIN_URL)
    return redirect(f"{login_url}?{urlencode({'next': reverse('mfa_activate_totp')})}")


@never_cache
@login_required
@require_http_methods(["GET"])
def mfa_enrolment_needed_view(request: SignedInRequest) -> HttpResponse:
    """Where staff who must enrol, and have not opened their emailed link, are sent: a password
    alone never reaches the set-up of a factor."""
    required = mfa_enrolment_required(request)
    if required and mfa_enrolment_granted(request):
        return redirect("mfa_activate_totp")
    pending = None
    if required:
        pending = (
            MFAEnrolmentInvitation.objects.filter(
                user=request.user,
                accepted_at__isnull=True,
                revoked_at__isnull=True,
                expires_at__gt=timezone.now(),
            )
            .order_by("-created_at")
            .first()
        )
    return render(
        request,
        "accounts/mfa_enrolment_needed.html",
        {"required": required, "pending": pending},
    )

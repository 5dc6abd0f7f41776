"""The school's families and the portal, for its principal and its district's staff: every
guardian with portal access to a child at the school and where they stand (joined, invited, no
email on file), an invitation emailed in the family's language (or sent again: a new link
replaces the old), and for a family without email a printable letter with a short code."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts.access import SchoolAccess, SignedInRequest, may_invite_guardians_of, school_for_user
from accounts.services import (
    InvitationError,
    invitation_letter_create,
    invitation_send,
    site_url,
)
from dashboard.selectors.invitations import (
    STATES,
    SchoolGuardians,
    invitation_expired,
    school_guardian,
    school_guardians,
)
from privacy.services import log_shown


class GuardianListForm(forms.Form):
    """The list's filter and page (?state=, ?page=)."""

    state = forms.ChoiceField(
        choices=[("", gettext_lazy("Every guardian")), *STATES.items()],
        required=False,
        label=gettext_lazy("Show"),
    )
    page = forms.IntegerField(min_value=1, max_value=1_000_000, required=False)


class InvitationActionForm(forms.Form):
    """One row's invitation: emailed (to the address given) or printed as a letter."""

    action = forms.ChoiceField(choices=[("email", "email"), ("letter", "letter")])
    guardian = forms.IntegerField(min_value=1, max_value=2**62)
    email = forms.EmailField(required=False, max_length=254)
    language = forms.ChoiceField(choices=settings.LANGUAGES)

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        if cleaned.get("action") == "email" and not cleaned.get("email") and not self.errors:
            self.add_error("email", _("Give the guardian's email address to email the invitation."))
        return cleaned


def _problem_text(form: forms.Form) -> str:
    """The form's errors in one line, each naming its field."""
    return " ".join(
        f"{name}: {' '.join(str(e) for e in errors)}"
        if name != "__all__"
        else " ".join(str(e) for e in errors)
        for name, errors in form.errors.items()
    )


def _list_page(
    request: SignedInRequest,
    access: SchoolAccess,
    listing: SchoolGuardians,
    *,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    log_shown(request, access, what="school: guardian invitations", students=listing.children_shown)
    now = timezone.now()
    return render(
        request,
        "students/school_invitations.html",
        {
            "school": access.school,
            "listing": listing,
            "languages": settings.LANGUAGES,
            "expired": {
                row.guardian.pk for row in listing.rows if invitation_expired(row.invitation, now)
            },
            "problem": problem,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def school_invitations(request: SignedInRequest, pk: int) -> HttpResponse:
    """The school's guardians with portal access; POST emails an invitation (or prints a
    letter) for one of them. Open to the school's principal and its district's staff."""
    access = school_for_user(request.user, pk)
    school = access.school
    if request.method == "POST":
        return _invite(request, access)
    list_form = GuardianListForm(request.GET)
    if not list_form.is_valid():
        listing = school_guardians(school)
        return _list_page(request, access, listing, problem=_problem_text(list_form), status=400)
    listing = school_guardians(
        school, state=list_form.cleaned_data["state"], page=list_form.cleaned_data["page"] or 1
    )
    return _list_page(request, access, listing)


def _invite(request: SignedInRequest, access: SchoolAccess) -> HttpResponse:
    school = access.school
    form = InvitationActionForm(request.POST)
    if not form.is_valid():
        return _list_page(
            request, access, school_guardians(school), problem=_problem_text(form), status=400
        )
    row = school_guardian(school, form.cleaned_data["guardian"])
    # The guardian must be one of the school's, and the user allowed to invite their children's
    # families (accounts.access); anyone else's guardian is not confirmed to exist.
    if row is None or not any(may_invite_guardians_of(request.user, c) for c in row.children):
        raise Http404("No such guardian at this school.")
    language = form.cleaned_data["language"]
    try:
        if form.cleaned_data["action"] == "letter":
            invitation, code = invitation_letter_create(
                guardian=row.guardian, acting_user=request.user, language=language
            )
        else:
            invitation, _token = invitation_send(
                guardian=row.guardian,
                email=form.cleaned_data["email"],
                acting_user=request.user,
                language=language,
                base_url=settings.TRELLIS_BASE_URL or request.build_absolute_uri("/"),
            )
    except InvitationError as refused:
        return _list_page(
            request, access, school_guardians(school), problem=str(refused.message), status=400
        )
    if form.cleaned_data["action"] == "letter":
        log_shown(request, access, what="school: invitation letter", students=row.children)
        base_url = settings.TRELLIS_BASE_URL or request.build_absolute_uri("/")
        return render(
            request,
            "students/school_invitation_letter.html",
            {
                "school": school,
                "row": row,
                "invitation": invitation,
                "code": code,
                "join_url": site_url(base_url) + reverse("invitation_redeem"),
                "valid_until": timezone.localtime(invitation.expires_at).date(),
                "today": timezone.localdate(),
            },
        )
    if invitation.sent_at is None:
        messages.error(
            request,
            _("The invitation to %(email)s could not be sent; try again later.")
            % {"email": invitation.email},
        )
    else:
        messages.success(
            request,
            _("Invitation emailed to %(email)s, valid until %(day)s.")
            % {
                "email": invitation.email,
                "day": formats.date_format(timezone.localtime(invitation.expires_at).date()),
            },
        )
    return redirect(request.get_full_path())

"""A guardian's own preferences (their language, alerts, and how and when the school should reach
them), and the one-click unsubscribe of an alert email's signed link. Nothing here changes a
record about a child: only the signed-in guardian's own settings."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.access import SignedInRequest, viewer_for
from accounts.models import Role, User
from alerts.models import Digest
from alerts.selectors import alert_preference_of, level_choices
from alerts.services import (
    alerts_unsubscribe,
    family_preferences_update,
    unsubscribe_target,
)
from students.models import ContactMethod, ContactTime

# The records' choices, in the page's language (students.models keeps the source's English).
CONTACT_METHODS = [
    (ContactMethod.EMAIL.value, pgettext_lazy("contact method", "Email")),
    (ContactMethod.TEXT.value, pgettext_lazy("contact method", "Text message")),
]
CONTACT_TIMES = [
    (ContactTime.ANY.value, pgettext_lazy("contact time", "Any time")),
    (ContactTime.MORNING.value, pgettext_lazy("contact time", "Mornings")),
    (ContactTime.SCHOOL_DAY.value, pgettext_lazy("contact time", "During the school day")),
    (ContactTime.EVENING.value, pgettext_lazy("contact time", "Evenings")),
    (ContactTime.WEEKEND.value, pgettext_lazy("contact time", "Weekends")),
]


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        choices=settings.LANGUAGES,
        widget=forms.RadioSelect,
        help_text=gettext_lazy("The portal's pages and the emails we send you."),
    )
    same_day_absences = forms.BooleanField(
        label=gettext_lazy("Email me the evening my child is marked absent without an excuse"),
        required=False,
    )
    digest = forms.ChoiceField(
        label=gettext_lazy("A summary of what needs attention"),
        choices=Digest.choices,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "Levels that fall below the one you choose, missing work, and absences that pass "
            "the chronic line. Sent only when there is something to tell."
        ),
    )
    level_threshold = forms.TypedChoiceField(
        label=gettext_lazy("Tell me when a level falls below"),
        coerce=int,
        choices=[],
    )
    contact_method = forms.ChoiceField(
        label=gettext_lazy("How the school should contact you"),
        choices=CONTACT_METHODS,
        widget=forms.RadioSelect,
    )
    contact_time = forms.ChoiceField(
        label=gettext_lazy("When the school should contact you"), choices=CONTACT_TIMES
    )

    def __init__(self, *args: object, user: User, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        threshold = self.fields["level_threshold"]
        assert isinstance(threshold, forms.TypedChoiceField)  # noqa: S101  # for mypy
        threshold.choices = level_choices(user)


def _guardian(request: SignedInRequest) -> User:
    """The signed-in guardian (one who follows a child today); 404 for anyone else."""
    user = request.user
    if user.guardian_record is None or Role.GUARDIAN not in viewer_for(user).roles:
        raise Http404("No preferences here.")
    return user


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: SignedInRequest) -> HttpResponse:
    """The guardian's language, alerts and contact preferences. Saving a new language switches
    the pages to it at once (and the emails from then on)."""
    user = _guardian(request)
    guardian = user.guardian_record
    assert guardian is not None  # noqa: S101  # _guardian checked it; for mypy
    preference = alert_preference_of(user)
    initial = {
        "language": user.language,
        "same_day_absences": preference.same_day_absences,
        "digest": preference.digest,
        "level_threshold": preference.level_threshold,
        "contact_method": guardian.contact_method,
        "contact_time": guardian.contact_time,
    }
    form = PreferencesForm(
        request.POST if request.method == "POST" else None, initial=initial, user=user
    )
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            family_preferences_update(
                user=user,
                language=data["language"],
                same_day_absences=data["same_day_absences"],
                digest=data["digest"],
                level_threshold=data["level_threshold"],
                contact_method=data["contact_method"],
                contact_time=data["contact_time"],
            )
            # This response in the new language; accounts.language.UserLanguageMiddleware then
            # sets the language cookie from the login's, as set_language would.
            translation.activate(data["language"])
            messages.success(request, _("Your preferences are saved."))
            return redirect("portal:preferences")
    return render(
        request,
        "portal/preferences.html",
        {"form": form},
        status=400 if form.is_bound and form.errors else 200,
    )


UNSUBSCRIBE_WORDS = {
    "absence": gettext_lazy("the evening emails about unexcused absences"),
    "digest": gettext_lazy("the summaries of what needs attention"),
    "all": gettext_lazy("every alert email"),
}


@never_cache
@csrf_exempt  # the signed token is the credential; mail clients' one-click POST has no cookie
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """An alert email's signed link. Opening it (GET) changes nothing, so that a mail scanner
    following links cannot unsubscribe anyone: it shows one button. The button, or a mail
    client's one-click POST (RFC 8058, List-Unsubscribe-Post), stops that kind of alert."""
    target = unsubscribe_target(token)
    if target is None:
        return render(request, "portal/unsubscribe.html", {"invalid": True}, status=404)
    with translation.override(target.user.language):
        context = {"what": str(UNSUBSCRIBE_WORDS[target.what]), "email": target.user.email}
        if request.method == "POST":
            alerts_unsubscribe(user=target.user, what=target.what)
            return render(request, "portal/unsubscribe.html", {**context, "done": True})
        return render(request, "portal/unsubscribe.html", context)

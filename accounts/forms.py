"""Forms of the accounts pages: a new password, a two-factor enrolment link's page, and an
administrator's reset."""

from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from accounts.models import User


class NewPasswordForm(forms.Form):
    """A new password, typed twice and held to the password validators (an invitation's page,
    an enrolment link's page when the login has none)."""

    password1 = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Type it again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    user: User | None = None

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            raise forms.ValidationError(_("The two passwords differ."))
        if first:
            validate_password(first, user=self.user)
        return cleaned


class InvitationCodeForm(NewPasswordForm):
    """A letter's invitation code, the email address the guardian will sign in with, and a new
    password (the code's page, accounts.views.invitation_redeem_view)."""

    code = forms.CharField(
        label=_("Invitation code"),
        max_length=40,
        help_text=_("As printed in the school's letter, for example ABCD-EFGH-JKMN."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "characters"}
        ),
    )
    email = forms.EmailField(
        label=_("Your email address"),
        help_text=_("You will sign in with it, and a forgotten password is reset through it."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    field_order = ("code", "email", "password1", "password2")


class MFAEnrolmentForm(NewPasswordForm):
    """Opening an enrolment link: a confirmation, with a new password when the login has none."""

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if user.has_usable_password():
            del self.fields["password1"], self.fields["password2"]


class MFAResetForm(forms.Form):
    """Why an administrator resets someone's second factors (kept in MFAResetRecord)."""

    reason = forms.CharField(
        max_length=200,
        label="Reason",
        help_text="Kept with the reset, for example “lost phone, confirmed by phone call”.",
    )

"""The forms of the families' rights pages (POST): acknowledging the notice, the directory
switch, consent signed with the password, revoking, and the requests to inspect and to amend. A
value the page did not offer (a forged form) is a named error, never guessed at."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy, pgettext_lazy

from portal.selectors_rights import amendment_category_choices

# Long enough for any honest answer; a bound on what one request may store.
NOTE_MAX = 2000
VALUE_MAX = 2000
REASON_MAX = 4000

OPT_OUT = "opt_out"
WITHDRAW = "withdraw"
REVOKE = "revoke"


class AcknowledgeForm(forms.Form):
    notice = forms.IntegerField(min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        message = gettext_lazy(
            "This is not a notice you can acknowledge here: reload the page and try again."
        )
        for code in ("required", "invalid", "min_value", "max_value"):
            self.fields["notice"].error_messages[code] = message


class DirectoryForm(forms.Form):
    choice = forms.ChoiceField(
        choices=[(OPT_OUT, OPT_OUT), (WITHDRAW, WITHDRAW)], widget=forms.HiddenInput
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        message = gettext_lazy("Choose to opt out, or to withdraw the opt-out, with its button.")
        for code in ("required", "invalid_choice"):
            self.fields["choice"].error_messages[code] = message


class ConsentForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("Your password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=gettext_lazy(
            "The password you sign in with. Entering it signs your consent, as a signature on "
            "paper would."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password"].error_messages["required"] = gettext_lazy(
            "Enter your password to sign your consent."
        )


class RevokeForm(forms.Form):
    confirm = forms.ChoiceField(choices=[(REVOKE, REVOKE)], widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        message = gettext_lazy("Confirm with the “Revoke consent” button on this page.")
        for code in ("required", "invalid_choice"):
            self.fields["confirm"].error_messages[code] = message


class InspectionForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("What would you like to see? (optional)"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "For example: “everything”, or “the attendance records of this year”. Leave it "
            "empty to ask for all of the records."
        ),
    )


class AmendmentForm(forms.Form):
    category = forms.ChoiceField(label=gettext_lazy("Which part of the record is it in?"))
    record_label = forms.CharField(
        label=gettext_lazy("Which record?"),
        max_length=300,
        help_text=gettext_lazy("For example: “Math grade, first quarter” or “home address”."),
    )
    contested_value = forms.CharField(
        label=gettext_lazy("What does the record say now?"),
        max_length=VALUE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    proposed_value = forms.CharField(
        label=gettext_lazy("What should it say? (optional)"),
        required=False,
        max_length=VALUE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    reason = forms.CharField(
        label=gettext_lazy("Why is it wrong?"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "Say why the record is wrong, misleading, or breaks your child's privacy."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["category"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101  # for the type checker
        field.choices = [
            ("", pgettext_lazy("a choice to make", "Choose…")),
            *amendment_category_choices(),
        ]
        field.error_messages["invalid_choice"] = gettext_lazy(
            "Choose one of the parts of the record in the list."
        )


class StatementForm(forms.Form):
    statement = forms.CharField(
        label=gettext_lazy("Your statement"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy(
            "Say what you think about the record, or why you disagree with the decision. It is "
            "kept with the record, shown to staff beside it and sent with it whenever the "
            "record is shared."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["statement"].error_messages["required"] = gettext_lazy("Write your statement.")

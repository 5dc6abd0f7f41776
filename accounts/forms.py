"""Forms of the school-side access pages."""

from datetime import date, timedelta

from django import forms
from django.utils import timezone

from accounts.models import User
from students.models import Section

# A dated exception is for weeks, not years: anything longer is an assignment for the SIS.
LONGEST_EXCEPTION = timedelta(days=366)


class SubstituteForm(forms.Form):
    """Give someone with a Trellis login one section of the school between two dates."""

    section = forms.ModelChoiceField(queryset=Section.objects.none(), label="Section")
    email = forms.EmailField(
        label="Substitute's Trellis login (email)",
        help_text="They need a Trellis login already; district IT creates logins.",
    )
    begin_date = forms.DateField(label="First day", widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(label="Last day", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(
        label="Reason", max_length=200, required=False, help_text="For example, whose class."
    )

    def __init__(self, *args: object, sections: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["section"].queryset = sections  # type: ignore[attr-defined]

    def clean_email(self) -> User:
        email = self.cleaned_data["email"].strip().lower()
        user = User.objects.filter(email=email, is_active=True).first()
        if user is None:
            raise forms.ValidationError(f"No active Trellis login for {email}.")
        return user

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        begin: date | None = cleaned.get("begin_date")
        end: date | None = cleaned.get("end_date")
        if begin and end:
            if end < begin:
                self.add_error("end_date", "The last day must be on or after the first day.")
            elif end < timezone.localdate():
                self.add_error("end_date", "The last day has passed: access would never open.")
            elif end - begin > LONGEST_EXCEPTION:
                self.add_error(
                    "end_date",
                    "An exception lasts a year at most; a longer one is a section assignment.",
                )
        return cleaned


class SubstituteEndForm(forms.Form):
    membership = forms.IntegerField(min_value=1)

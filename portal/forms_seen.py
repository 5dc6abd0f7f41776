"""The filters of "Who has seen my child's record" (GET): who, from and to dates, and where the
page starts. A value the page cannot use is named in a 400, never guessed at."""

from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext, gettext_lazy

from portal.selectors_seen import Cursor, SeenFilters, WhoChoice

# No school record is older: a date before it is a typo or a probe.
EARLIEST_DAY = date(1900, 1, 1)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        # The browser's date picker reads and writes ISO dates, whatever the page's language.
        super().__init__(format="%Y-%m-%d")


class SeenFilterForm(forms.Form):
    who = forms.ChoiceField(required=False, label=gettext_lazy("Who"))
    date_from = forms.DateField(required=False, label=gettext_lazy("From"), widget=DateInput())
    date_to = forms.DateField(required=False, label=gettext_lazy("To"), widget=DateInput())
    before = forms.CharField(required=False, max_length=40)
    after = forms.CharField(required=False, max_length=40)

    def __init__(self, data: Any, *, who: list[WhoChoice]) -> None:
        super().__init__(data)
        field = self.fields["who"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101  # for the type checker
        field.choices = [(choice.value, choice.label) for choice in who]
        field.error_messages["invalid_choice"] = gettext_lazy(
            "Choose one of the people or roles in the list."
        )
        for name in ("date_from", "date_to"):
            self.fields[name].error_messages["invalid"] = gettext_lazy(
                "Enter a date, such as 2026-10-31."
            )

    def _cursor(self, name: str) -> Cursor | None:
        token = self.cleaned_data.get(name) or ""
        if not token:
            return None
        try:
            return Cursor.parse(token)
        except ValueError:
            raise forms.ValidationError(
                gettext("This link to a page of the list is damaged: go back to the newest."),
                code="invalid",
            ) from None

    def clean_before(self) -> Cursor | None:
        return self._cursor("before")

    def clean_after(self) -> Cursor | None:
        return self._cursor("after")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in ("date_from", "date_to"):
            day = cleaned.get(name)
            if day is not None and day < EARLIEST_DAY:
                self.add_error(
                    name,
                    gettext("Enter a date in %(year)s or later.") % {"year": EARLIEST_DAY.year},
                )
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_to < date_from:
            self.add_error(
                "date_to", gettext("Enter a date on or after “From”, or swap the two dates.")
            )
        if cleaned.get("before") and cleaned.get("after"):
            self.add_error(
                None, gettext("This link asks for older and newer rows at once: go to the newest.")
            )
        return cleaned

    def problems(self) -> list[str]:
        """Every value the page cannot use, named: "“Who”: …", in the page's language."""
        if self.is_valid():
            return []
        named = []
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else None
            for error in errors:
                named.append(
                    gettext("“%(field)s”: %(problem)s") % {"field": label, "problem": error}
                    if label
                    else str(error)
                )
        return named

    def filters(self) -> SeenFilters:
        """The filters, once the form is valid."""
        data = self.cleaned_data
        return SeenFilters(
            who=data.get("who") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            before=data.get("before"),
            after=data.get("after"),
        )

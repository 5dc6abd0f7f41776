"""The pages' forms: the section page's filters (GET), the override form (POST), and the
school's substitute grants."""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone

from accounts.access import SEARCH_MAX_LENGTH, SEARCH_MIN_LENGTH
from accounts.models import User
from assessments.methods import Policy
from assessments.models import AssessmentKind
from dashboard.selectors import STANDARD_SORTS, STUDENT_SORTS, FilterChoices, OverviewFilters
from dashboard.selectors.district import DISTRICT_SORTS
from dashboard.selectors.periods import Term, month_as_of
from rollups.counting import month_first, month_last
from students.models import GRADE_LEVELS, Section

# No school record is older: a date before it is a typo or a probe, and date arithmetic on the
# year 1 overflows.
EARLIEST_DAY = date(1900, 1, 1)


# Errors that mean the value itself is malformed or impossible (a 400), where the others mean a
# well-formed value that does not apply here (a stale link's subject: the page falls back).
MALFORMED = {"invalid", "out_of_range", "max_value", "min_value", "max_length"}


def malformed_values(form: forms.Form) -> list[str]:
    """The form's malformed values as 'parameter: message' lines, for a 400 that names each."""
    form.is_valid()
    return [
        f"{name}: {error.message % (error.params or {})}"
        for name, errors in form.errors.as_data().items()
        for error in errors
        if error.code in MALFORMED
    ]


class OverviewFilterForm(forms.Form):
    subject = forms.CharField(required=False)
    cluster = forms.IntegerField(required=False, min_value=1, label="Cluster")
    kind = forms.ChoiceField(
        required=False, choices=[("", "Any kind"), *AssessmentKind.choices], label="Assessment kind"
    )
    date_from = forms.DateField(required=False, label="Measured from")
    as_of = forms.DateField(required=False, label="Levels as of")
    students = forms.ChoiceField(
        required=False, choices=list(STUDENT_SORTS.items()), label="Sort students by"
    )
    standards = forms.ChoiceField(
        required=False, choices=list(STANDARD_SORTS.items()), label="Sort standards by"
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in ("date_from", "as_of"):
            day = cleaned.get(name)
            if day is not None and day < EARLIEST_DAY:
                self.add_error(
                    name,
                    forms.ValidationError(
                        f"“{self.fields[name].label}” must be {EARLIEST_DAY.year} or later.",
                        code="out_of_range",
                    ),
                )
                cleaned.pop(name, None)
        date_from, as_of = cleaned.get("date_from"), cleaned.get("as_of")
        if date_from and as_of and date_from > as_of:
            self.add_error("as_of", "“Levels as of” must be on or after “Measured from”.")
        if as_of and as_of > timezone.localdate():
            self.add_error("as_of", "“Levels as of” cannot be in the future.")
        return cleaned

    def filters(self) -> OverviewFilters:
        """The valid filters; a field with an error falls back to its default (the page says so)."""
        self.is_valid()
        data = self.cleaned_data  # the fields that passed: each wrong one alone falls back
        as_of = data.get("as_of")
        return OverviewFilters(
            subject=data.get("subject") or "",
            cluster_id=data.get("cluster"),
            kind=data.get("kind") or "",
            date_from=data.get("date_from"),
            # Today's levels are the current estimates (live), not yesterday's history.
            as_of=None if as_of == timezone.localdate() else as_of,
            student_sort=data.get("students") or "name",
            standard_sort=data.get("standards") or "code",
        )


def filters_query(filters: OverviewFilters) -> str:
    """The filters as a query string, for the CSV and JSON links of what the page shows."""
    params = {
        "subject": filters.subject,
        "cluster": filters.cluster_id or "",
        "kind": filters.kind,
        "date_from": filters.date_from.isoformat() if filters.date_from else "",
        "as_of": filters.as_of.isoformat() if filters.as_of else "",
        "students": "" if filters.student_sort == "name" else filters.student_sort,
        "standards": "" if filters.standard_sort == "code" else filters.standard_sort,
    }
    return urlencode({k: v for k, v in params.items() if v})


def filter_form_with_choices(data: QueryDict, choices: FilterChoices) -> OverviewFilterForm:
    """The filter form offering, and accepting, only the section's own subjects and clusters."""
    form = OverviewFilterForm(data)
    form.fields["subject"] = forms.ChoiceField(
        required=False,
        choices=[("", "All subjects"), *((s, s) for s in choices.subjects)],
        label="Subject",
    )
    form.fields["cluster"] = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "All clusters"), *((str(pk), label) for pk, label in choices.clusters)],
        label="Cluster",
    )
    form.fields["date_from"].widget = forms.DateInput(attrs={"type": "date"})
    form.fields["as_of"].widget = forms.DateInput(attrs={"type": "date"})
    return form


class OverrideForm(forms.Form):
    level = forms.TypedChoiceField(coerce=int, label="Level")
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Why (required)",
        help_text="Say what you saw: the student and their family may read this note.",
        max_length=2000,
    )
    clear_on_new_score = forms.BooleanField(
        required=False,
        initial=True,
        label="A newer score clears this override",
        help_text="Leave ticked to let the next score on this standard replace your judgement.",
    )

    def __init__(self, *args: Any, policy: Policy, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        level_field = cast(forms.ChoiceField, self.fields["level"])
        level_field.choices = [
            (level.value, f"{level.symbol} {level.name}")
            for level in sorted(policy.levels, key=lambda level: -level.value)
        ]

    def clean_note(self) -> str:
        note = self.cleaned_data["note"].strip()
        if not note:
            raise forms.ValidationError("An override needs a note saying why.")
        return note


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

    def __init__(self, *args: Any, sections: QuerySet[Section], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["section"]).queryset = sections

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


class StudentSearchForm(forms.Form):
    """The top bar's search (GET ?q=): a name or a student number."""

    q = forms.CharField(
        required=False,
        min_length=SEARCH_MIN_LENGTH,
        max_length=SEARCH_MAX_LENGTH,
        label="Search students",
        error_messages={
            "min_length": (
                f"Type at least {SEARCH_MIN_LENGTH} characters of a name or student number."
            ),
            "max_length": (
                f"Search for at most {SEARCH_MAX_LENGTH} characters: a name or a student number "
                "(this was %(show_value)d)."
            ),
            "null_characters_not_allowed": "Search for letters and digits: a name or a number.",
        },
    )

    def clean_q(self) -> str:
        # Runs of spaces (or a pasted tab) count as one.
        return " ".join(self.cleaned_data["q"].split())


class SchoolReportForm(forms.Form):
    """The school report's filters (GET): an as-of date (or a month, as links carry it) held by
    the rollups, a term, a subject, a grade; and, for the export, which table as CSV. Any other
    value is refused with a message (400). `month` is cleaned to the month the report reads."""

    month = forms.RegexField(
        regex=r"^\d{4}-(0[1-9]|1[0-2])$",
        required=False,
        error_messages={"invalid": "Choose a month as YYYY-MM, for example 2026-12."},
    )
    as_of = forms.DateField(
        required=False,
        error_messages={"invalid": "Give the as-of date as YYYY-MM-DD, for example 2026-12-01."},
    )
    term = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    subject = forms.CharField(required=False, max_length=100)
    grade = forms.CharField(required=False, max_length=4)
    format = forms.ChoiceField(required=False, choices=[("", "page"), ("csv", "CSV")])
    table = forms.CharField(required=False, max_length=20)

    def __init__(
        self,
        data: QueryDict,
        *,
        months: list[date],
        subjects_of: Callable[[date], list[str]],
        tables: tuple[str, ...],
        terms: list[Term] | None = None,
    ) -> None:
        super().__init__(data)
        self.months = months
        self.subjects_of = subjects_of
        self.tables = tables
        self.terms = terms or []

    def _held(self, month: date) -> date:
        if month != timezone.localdate().replace(day=1) and month not in self.months:
            raise forms.ValidationError("There are no counts for that month.")
        return month

    def clean_month(self) -> date:
        text = self.cleaned_data["month"]
        if not text:
            return timezone.localdate().replace(day=1)
        return self._held(date(int(text[:4]), int(text[5:7]), 1))

    def clean_as_of(self) -> date | None:
        as_of = self.cleaned_data["as_of"]
        if as_of is None:
            return None
        if as_of < EARLIEST_DAY or as_of > timezone.localdate():
            raise forms.ValidationError("Choose a day between 1900 and today.")
        return as_of

    def clean_term(self) -> Term | None:
        term_id = self.cleaned_data["term"]
        if term_id is None:
            return None
        for term in self.terms:
            if term.pk == term_id:
                return term
        raise forms.ValidationError("That is not one of the district's terms with counts.")

    def clean_subject(self) -> str | None:
        return self.cleaned_data["subject"] or None

    def clean_grade(self) -> str | None:
        grade = self.cleaned_data["grade"]
        if not grade:
            return None
        if grade not in GRADE_LEVELS:
            raise forms.ValidationError("That is not a grade level.")
        return grade

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        as_of, term = cleaned.get("as_of"), cleaned.get("term")
        if as_of is not None:
            # The date, where given, says which month to read (links carry the month alone).
            try:
                cleaned["month"] = self._held(month_as_of(as_of, self.months))
            except forms.ValidationError as error:
                self.add_error("as_of", error)
        month = cleaned.get("month")
        if term is not None and month is not None and month_last(month) < term.start:
            self.add_error("term", f"That term starts after {month_last(month):%-d %B %Y}.")
        elif term is not None and month is not None and month_last(month) > term.end:
            cleaned["month"] = month = month_first(term.end)  # the term's end: start to end
            if month not in self.months:
                self.add_error("term", "There are no counts for that term's last month.")
        subject = cleaned.get("subject")
        if month is not None and subject is not None and subject not in self.subjects_of(month):
            self.add_error("subject", "That subject was not measured in the district that month.")
        if cleaned.get("format") == "csv" and cleaned.get("table") not in self.tables:
            self.add_error("table", f"Choose a table to export: {', '.join(self.tables)}.")
        return cleaned


class CountedStudentsForm(SchoolReportForm):
    """Which count of the school report to list: its filters, a standard, proficient or not."""

    standard = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    proficient = forms.BooleanField(required=False)


class DistrictReportForm(SchoolReportForm):
    """The district page's filters: those of the school report, and the column to sort by."""

    sort = forms.ChoiceField(
        required=False,
        choices=[("", "name")]
        + [(column, column) for column in DISTRICT_SORTS]
        + [(f"-{column}", f"{column}, largest first") for column in DISTRICT_SORTS],
    )

    def clean_sort(self) -> str:
        return self.cleaned_data["sort"] or "name"


class EngagementCountedForm(forms.Form):
    """Which count of the attendance and engagement section to list (`?measure=`): the
    students counted for chronic absence (of a grade or subgroup; `absent` those chronically
    absent), or those falling in two or more subjects."""

    measure = forms.ChoiceField(choices=[("chronic", "chronic"), ("falling", "falling")])
    grade = forms.ChoiceField(required=False, choices=[("", "")] + [(g, g) for g in GRADE_LEVELS])
    subgroup = forms.CharField(required=False, max_length=120)
    absent = forms.BooleanField(required=False)

"""The privacy office's forms: each parses and checks the shape of what is posted (a choice that
is not offered, a student number the district does not have, a date out of range) and names the
field; the rights services decide the rest (a disclosure without a lawful basis) and the page
shows their refusal on the form."""

import re
from datetime import date
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import QuerySet
from django.utils import timezone

from dashboard.selectors.privacy import students_by_number
from rights.models import (
    AmendmentDecision,
    ConsentRequest,
    DirectoryItem,
    DisclosureBasis,
    Recipient,
    RecipientKind,
)
from students.inventory import category_of, personal_categories
from students.models import School, Student

# No school record is older, none reaches this far; outside them a date is a typo or a probe.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2200, 12, 31)
# Student numbers one form may name (a consent request for more is one for a school or all).
MOST_STUDENTS = 500
STUDENT_NUMBER_LENGTH = 60

DEFAULT_HEARING_NOTICE = (
    "The district has decided not to amend the record as you asked. You have the right to a "
    "hearing to challenge the content of your child's education records on the grounds that the "
    "information is inaccurate, misleading or otherwise in violation of your child's privacy "
    "rights (34 CFR 99.20(c) and 99.21).\n\n"
    "To ask for a hearing, write to the district's privacy officer. The district will hold the "
    "hearing within a reasonable time of your request and tell you its date, time and place "
    "reasonably in advance. It is conducted by an official of the district who has no direct "
    "interest in the outcome. You will have a full and fair opportunity to present evidence, "
    "and you may be assisted or represented by anyone you choose, including an attorney, at "
    "your own expense (34 CFR 99.22). The district will decide in writing, within a reasonable "
    "time after the hearing, based only on the evidence presented there, with a summary of the "
    "evidence and the reasons for its decision.\n\n"
    "If the district still decides not to amend the record, you may place a statement in the "
    "record commenting on the contested information or saying why you disagree with the "
    "decision. The district keeps the statement with the record for as long as it keeps the "
    "record, and discloses it whenever it discloses the contested part (34 CFR 99.21(b)(2) and "
    "(c))."
)


def _day_validators() -> list[Any]:
    return [MinValueValidator(EARLIEST_DAY), MaxValueValidator(LATEST_DAY)]


def record_category_choices() -> list[tuple[str, str]]:
    """The data categories of a student's records (students.inventory), by their titles."""
    return [(key, str(category_of(key).title)) for key in personal_categories()]


def directory_item_choices() -> list[tuple[str, str]]:
    return [(str(value), str(label)) for value, label in DirectoryItem.choices]


class StudentNumbersField(forms.CharField):
    """Student numbers, one a line or separated by commas: a list of distinct numbers, in the
    order given (the form resolves them to the district's students)."""

    widget = forms.Textarea(attrs={"rows": 3})

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        numbers = list(dict.fromkeys(n for n in re.split(r"[\s,;]+", text) if n))
        if len(numbers) > MOST_STUDENTS:
            raise forms.ValidationError(
                f"Name at most {MOST_STUDENTS} students; for more, ask for a school or all.",
                code="max_length",
            )
        too_long = [n for n in numbers if len(n) > STUDENT_NUMBER_LENGTH]
        if too_long:
            raise forms.ValidationError("That is not a student number.", code="invalid")
        return numbers

    def validate(self, value: Any) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")


def resolve_students(numbers: list[str], students: QuerySet[Student]) -> list[Student]:
    """The district's students with these numbers; ValidationError naming those it does not
    have, or that name two students."""
    found = students_by_number(students, numbers)
    missing = [n for n in numbers if n not in found]
    if missing:
        raise forms.ValidationError(
            f"No student of the district has the number {', '.join(missing[:10])}"
            f"{' …' if len(missing) > 10 else ''}.",
            code="unknown_student",
        )
    twice = [n for n in numbers if len(found[n]) > 1]
    if twice:
        raise forms.ValidationError(
            f"The number {', '.join(twice[:10])} belongs to more than one student: ask the "
            "district's records office which one is meant.",
            code="ambiguous_student",
        )
    return [found[n][0] for n in numbers]


# --- Lists.


class PageForm(forms.Form):
    page = forms.IntegerField(min_value=1, max_value=1_000_000, required=False)


class DisclosureFilterForm(PageForm):
    """The disclosure records' filter (GET): one student, by number, and a span of days."""

    student = forms.CharField(
        required=False, max_length=STUDENT_NUMBER_LENGTH, label="Student number"
    )
    date_from = forms.DateField(required=False, label="From", validators=_day_validators())
    date_to = forms.DateField(required=False, label="To", validators=_day_validators())

    def __init__(self, *args: Any, students: QuerySet[Student], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.office_students = students

    def clean_student(self) -> list[Student] | None:
        number = self.cleaned_data["student"].strip()
        if not number:
            return None
        found = students_by_number(self.office_students, [number]).get(number)
        if not found:
            raise forms.ValidationError(
                f"No student of the district has the number {number}.", code="unknown_student"
            )
        return found

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The last day comes before the first.")
        return cleaned


# --- Requests.


class InspectionActionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("fulfil", "Prepare and deliver the package"), ("withdraw", "Withdrawn")]
    )


class AmendmentDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=AmendmentDecision.choices, widget=forms.RadioSelect, label="Decision"
    )
    decision_reason = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Reason for the decision",
        help_text="The family reads it in the portal.",
    )
    hearing_notice = forms.CharField(
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 12}),
        label="Notice of the right to a hearing (with a refusal)",
        initial=DEFAULT_HEARING_NOTICE,
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (
            cleaned.get("decision") == AmendmentDecision.REFUSED
            and not (cleaned.get("hearing_notice") or "").strip()
        ):
            self.add_error(
                "hearing_notice",
                "A refusal carries the notice of the right to a hearing (34 CFR 99.20(c)).",
            )
        return cleaned


# --- Consents.


class ConsentRequestForm(forms.Form):
    """A consent request: to whom (a recipient named before, or a new one), for what, which
    records, which students, until when."""

    SCOPES = [
        ("students", "The students named below"),
        ("school", "Every student of one school"),
        ("district", "Every student of the district"),
    ]

    recipient = forms.ModelChoiceField(
        queryset=Recipient.objects.none(),
        required=False,
        empty_label="A new recipient (name it below)",
        label="Recipient",
    )
    new_recipient_name = forms.CharField(
        required=False, max_length=200, label="New recipient's name"
    )
    new_recipient_kind = forms.ChoiceField(
        choices=RecipientKind.choices,
        required=False,
        initial=RecipientKind.ORGANIZATION,
        label="New recipient is",
    )
    new_recipient_contact = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="New recipient's contact (address, email, a person)",
    )
    purpose = forms.CharField(max_length=500, label="Purpose", help_text="As families read it.")
    categories = forms.MultipleChoiceField(
        choices=(), widget=forms.CheckboxSelectMultiple, label="Records (data categories)"
    )
    records_description = forms.CharField(
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="The records, in words families read",
    )
    scope = forms.ChoiceField(
        choices=SCOPES, widget=forms.RadioSelect, initial="students", label="Students"
    )
    students = StudentNumbersField(
        required=False, label="Student numbers (one a line, or separated by commas)"
    )
    school = forms.ModelChoiceField(
        queryset=School.objects.none(), required=False, label="School", empty_label="Choose"
    )
    expires_on = forms.DateField(
        required=False,
        label="Last day a consent counts (optional)",
        validators=_day_validators(),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(
        self,
        *args: Any,
        recipients: QuerySet[Recipient],
        schools: QuerySet[School],
        students: QuerySet[Student],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["recipient"].queryset = recipients  # type: ignore[attr-defined]
        self.fields["school"].queryset = schools  # type: ignore[attr-defined]
        self.fields["categories"].choices = record_category_choices()  # type: ignore[attr-defined]
        self.office_students = students

    def clean_expires_on(self) -> date | None:
        day = self.cleaned_data.get("expires_on")
        if day is not None and day < timezone.localdate():
            raise forms.ValidationError("The last day is in the past.", code="past")
        return day

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        recipient, new_name = cleaned.get("recipient"), (cleaned.get("new_recipient_name") or "")
        if recipient is None and not new_name.strip() and "recipient" not in self.errors:
            self.add_error("new_recipient_name", "Choose a recipient, or name a new one.")
        elif recipient is not None and new_name.strip():
            self.add_error("new_recipient_name", "Choose a recipient or name a new one, not both.")
        scope = cleaned.get("scope")
        cleaned["student_rows"] = []
        if scope == "students":
            numbers = cleaned.get("students") or []
            if not numbers and "students" not in self.errors:
                self.add_error("students", "Name the students by their numbers.")
            elif numbers:
                try:
                    cleaned["student_rows"] = resolve_students(numbers, self.office_students)
                except forms.ValidationError as problem:
                    self.add_error("students", problem)
        elif scope == "school" and cleaned.get("school") is None and "school" not in self.errors:
            self.add_error("school", "Choose the school.")
        return cleaned


class ConsentRequestActionForm(forms.Form):
    action = forms.ChoiceField(choices=[("close", "Close"), ("revoke", "Revoke")])
    consent = forms.IntegerField(min_value=1, max_value=2**62, required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("action") == "revoke" and not cleaned.get("consent"):
            self.add_error("consent", "Say which consent was revoked.")
        return cleaned


# --- Disclosures.


class DisclosureForm(forms.Form):
    """A disclosure to record, made through rights.services.disclose: its basis and evidence,
    the students, the records."""

    recipient = forms.ModelChoiceField(
        queryset=Recipient.objects.none(), label="Recipient", empty_label="Choose"
    )
    basis = forms.ChoiceField(
        choices=DisclosureBasis.choices, widget=forms.RadioSelect, label="Basis"
    )
    consent_request = forms.ModelChoiceField(
        queryset=ConsentRequest.objects.none(),
        required=False,
        label="Consent request (when the basis is consent)",
        empty_label="None",
    )
    students = StudentNumbersField(label="Student numbers (one a line, or separated by commas)")
    categories = forms.MultipleChoiceField(
        choices=(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Records (data categories)",
    )
    directory_items = forms.MultipleChoiceField(
        choices=(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Directory information",
        help_text="Only what the notice in force designates, under the directory basis.",
    )
    description = forms.CharField(
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="What was disclosed, in words",
    )
    purpose = forms.CharField(
        required=False,
        max_length=500,
        label="Purpose",
        help_text="Under a consent, the consent's own (left empty, it is taken from it).",
    )
    reference = forms.CharField(
        required=False,
        max_length=200,
        label="Reference",
        help_text="The contract, or the court order's or subpoena's number.",
    )

    def __init__(
        self,
        *args: Any,
        recipients: QuerySet[Recipient],
        consent_requests: QuerySet[ConsentRequest],
        students: QuerySet[Student],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["recipient"].queryset = recipients  # type: ignore[attr-defined]
        self.fields["consent_request"].queryset = consent_requests  # type: ignore[attr-defined]
        self.fields["categories"].choices = record_category_choices()  # type: ignore[attr-defined]
        self.fields["directory_items"].choices = directory_item_choices()  # type: ignore[attr-defined]
        self.office_students = students

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # The service takes one list: data categories and directory items are both names.
        cleaned["all_categories"] = [
            *(cleaned.get("categories") or []),
            *(cleaned.get("directory_items") or []),
        ]
        if not cleaned["all_categories"] and not {"categories", "directory_items"} & set(
            self.errors
        ):
            self.add_error("categories", "Say which records were disclosed.")
        numbers = cleaned.get("students") or []
        cleaned["student_rows"] = []
        if numbers:
            try:
                cleaned["student_rows"] = resolve_students(numbers, self.office_students)
            except forms.ValidationError as problem:
                self.add_error("students", problem)
        return cleaned


# --- Notices.


class NoticeForm(forms.Form):
    """A draft of the annual notice; "publish" saves it and makes it the notice in force."""

    action = forms.ChoiceField(choices=[("save", "Save the draft"), ("publish", "Publish")])
    school_year = forms.IntegerField(
        min_value=2000, max_value=2200, label="School year", help_text="The year it ends in."
    )
    title = forms.CharField(max_length=200, label="Title")
    body = forms.CharField(
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 16}),
        label="The notice, as families read it",
        help_text="Paragraphs separated by a blank line.",
    )
    directory_information = forms.MultipleChoiceField(
        choices=(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Directory information the district designates",
    )
    opt_out_by = forms.DateField(
        required=False,
        label="Families may opt out of directory information before (optional)",
        validators=_day_validators(),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["directory_information"].choices = directory_item_choices()  # type: ignore[attr-defined]

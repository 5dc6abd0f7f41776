"""The plan pages' forms: each checks the shape of what is posted (a day out of range, a section
that is not one of the teacher's, a standard not offered) and names the field; lessons.services
decides the rest, and the page shows its refusal on the form."""

from collections.abc import Sequence
from datetime import date
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import QuerySet

from assessments.models import Standard
from assessments.widgets import MAX_ID, StandardPickerField
from dashboard.forms import EARLIEST_DAY
from students.models import Section

# No plan runs this far ahead; beyond it a day is a typo or a probe.
LATEST_DAY = date(2200, 12, 31)
# The longest objective, notes and template name a form takes (the model's name is 200).
OBJECTIVE_MAX = 4000
NOTES_MAX = 10000
TEMPLATE_NAME_MAX = 200
# How many ?standard= values a link may preselect.
MOST_PRESELECTED = 50


def _day_field(label: str, *, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[MinValueValidator(EARLIEST_DAY), MaxValueValidator(LATEST_DAY)],
        error_messages={
            "invalid": "Enter a real date (YYYY-MM-DD).",
            "min_value": f"Enter a day in {EARLIEST_DAY.year} or later.",
            "max_value": f"Enter a day in {LATEST_DAY.year} or before.",
        },
    )


class PlanForm(forms.Form):
    """A plan's days, standards, objective and notes (new and edit)."""

    first_day = _day_field("First day")
    last_day = _day_field(
        "Last day",
        required=False,
        help_text="Only for a lesson over several days; leave empty for one day.",
    )
    standards = StandardPickerField(
        required=False,
        label="Standards",
        help_text="The standards this lesson targets. Search by code or by words from the "
        "description; those taught in this section lately come first.",
    )
    objective = forms.CharField(
        label="Objective",
        required=False,
        max_length=OBJECTIVE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What students will be able to do by the end of the lesson.",
    )
    notes = forms.CharField(
        label="Notes",
        required=False,
        max_length=NOTES_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(
        self, *args: Any, standards: list[Standard], recent_ids: Sequence[int] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(StandardPickerField, self.fields["standards"]).offer(standards, recent_ids=recent_ids)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, last = cleaned.get("first_day"), cleaned.get("last_day")
        if first and last and last < first:
            self.add_error("last_day", "The last day is on or after the first day.")
        return cleaned

    def plan_values(self) -> dict[str, Any]:
        """What plan_create and plan_update take (an empty last day: the one day)."""
        data = self.cleaned_data
        return {
            "first_day": data["first_day"],
            "last_day": data.get("last_day") or data["first_day"],
            "objective": data.get("objective", ""),
            "notes": data.get("notes", ""),
            "standards": list(data.get("standards") or []),
        }


class StandardIdsField(forms.Field):
    """Standard ids from a link (?standard=1&standard=2): malformed ids are refused by name."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        values = value if isinstance(value, (list, tuple)) else ([value] if value else [])
        if len(values) > MOST_PRESELECTED:
            raise ValidationError(
                f"Link to at most {MOST_PRESELECTED} standards.", code="max_length"
            )
        ids = []
        for raw in values:
            text = str(raw)
            if not text.isdigit() or len(text) > 10 or int(text) > MAX_ID:
                shown = text if len(text) <= 20 else f"{text[:20]}…"
                raise ValidationError(f"“{shown}” is not the id of a standard.", code="invalid")
            ids.append(int(text))
        return ids


class PlanPrefillForm(forms.Form):
    """What a link to the new-plan page may choose ahead: ?day= and ?standard= (repeatable)."""

    day = _day_field("day", required=False)
    standard = StandardIdsField(required=False)


class PlannableSectionField(forms.ModelChoiceField):
    """One of the sections the teacher plans; anything else, an id the database could not even
    hold included, is refused by name before any query."""

    def __init__(self, sections: QuerySet[Section]) -> None:
        super().__init__(
            queryset=sections,
            label="Section",
            empty_label=None,
            error_messages={"invalid_choice": "Choose one of the sections you teach."},
        )

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        text = str(value)
        if not text.isdigit() or len(text) > 10 or int(text) > MAX_ID:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class SectionDayForm(forms.Form):
    """A section the teacher plans and a day: where a copy or a plan from a template goes."""

    day = _day_field("Day")

    def __init__(
        self,
        *args: Any,
        sections: QuerySet[Section],
        options: list[tuple[int, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = PlannableSectionField(sections.order_by("title", "pk"))
        if options is not None:
            # The options read once for many forms on a page (the templates page), not per form.
            field.widget.choices = options
        self.fields["section"] = field
        self.order_fields(["section", "day"])


def section_options(sections: QuerySet[Section]) -> list[tuple[int, str]]:
    """The sections as a select's options, read once."""
    return [(s.pk, str(s)) for s in sections.order_by("title", "pk")]


class TemplateNameForm(forms.Form):
    name = forms.CharField(
        label="Template name",
        max_length=TEMPLATE_NAME_MAX,
        error_messages={"required": "Give the template a name."},
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError("Give the template a name.", code="required")
        return name


class TaughtForm(forms.Form):
    taught = forms.ChoiceField(
        choices=[("yes", "Mark taught"), ("no", "Not taught")],
        error_messages={
            "required": "Say whether the plan was taught (yes or no).",
            "invalid_choice": "Say whether the plan was taught (yes or no).",
        },
    )


class MaterialLinkForm(forms.Form):
    url = forms.CharField(label="Web address", max_length=2000)
    title = forms.CharField(label="Title", required=False, max_length=255)


class MaterialFileForm(forms.Form):
    file = forms.FileField(
        label="File",
        widget=forms.FileInput,
        error_messages={
            "required": "Choose a file to add.",
            "empty": "The file is empty.",
            "invalid": "No file was sent: choose a file and try again.",
        },
    )

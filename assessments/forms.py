from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django import forms
from django.utils import timezone

from assessments.models import (
    Assessment,
    AssessmentItem,
    AssessmentKind,
    AssessmentPurpose,
    ScoreStatus,
    Standard,
)
from assessments.selectors import ScoreGrid
from assessments.services import ScoreInput
from assessments.widgets import StandardPickerField


class AssessmentForm(forms.ModelForm):
    standards = StandardPickerField(
        required=True,
        help_text="The standards this assessment measures. Search by code or by words from "
        "the description; those taught in this section lately come first.",
    )

    class Meta:
        model = Assessment
        fields = ["title", "kind", "purpose", "due_on", "max_points", "standards"]
        widgets = {"due_on": forms.DateInput(attrs={"type": "date"})}

    def __init__(
        self,
        *args: Any,
        standards: list[Standard],
        recent_standard_ids: Sequence[int] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(StandardPickerField, self.fields["standards"]).offer(
            standards, recent_ids=recent_standard_ids
        )
        cast(forms.ChoiceField, self.fields["kind"]).choices = AssessmentKind.choices
        cast(forms.ChoiceField, self.fields["purpose"]).choices = AssessmentPurpose.choices
        self.fields["due_on"].required = True
        self.fields["max_points"].required = True

    def clean_max_points(self) -> Decimal:
        value = self.cleaned_data["max_points"]
        if value is None or value <= 0:
            raise forms.ValidationError("Max points must be more than zero.")
        return value


ENTRY_STATUSES = [
    (ScoreStatus.SCORED, "Scored"),
    (ScoreStatus.LATE, "Late"),
    (ScoreStatus.MISSING, "Missing"),
    (ScoreStatus.EXEMPT, "Exempt"),
]


class GridError(Exception):
    pass


def parse_score_grid(grid: ScoreGrid, data: dict) -> tuple[list[dict], dict[str, str]]:
    """Read the grid's POST into entries; return (entries, errors by field name).

    Every field is checked against the roster and the assessment: a student who is not on the
    current roster, an item of another assessment, a number outside the range are errors that
    name the problem; nothing is saved while any remains.
    """
    roster_ids = {e.student_id for e in grid.roster}
    item_max = {item.pk: item.max_points for item in grid.items}
    whole_max = grid.assessment.max_points
    entries: list[dict] = []
    errors: dict[str, str] = {}
    valid_statuses = {value for value, _ in ENTRY_STATUSES}
    for name, raw in data.items():
        if not name.startswith(("score-", "status-")):
            continue
        parts = name.split("-")
        try:
            student_id = int(parts[1])
            item_id = int(parts[2]) if parts[0] == "score" else None
        except (IndexError, ValueError):
            errors[name] = "This field is not part of the grid."
            continue
        if student_id not in roster_ids:
            errors[name] = f"Student {student_id} is not on this section's current roster."
            continue
        if parts[0] == "status":
            if raw not in valid_statuses:
                errors[name] = f"Unknown status {raw!r}."
            continue
        if item_id and item_id not in item_max:
            errors[name] = f"Item {item_id} is not part of this assessment."
            continue
        text = str(raw).strip()
        if text == "":
            continue
        try:
            points = Decimal(text)
        except InvalidOperation:
            errors[name] = f"{text!r} is not a number."
            continue
        maximum = item_max.get(item_id) if item_id else whole_max
        # Not finite first: NaN cannot even be compared.
        if not points.is_finite() or points < 0 or (maximum is not None and points > maximum):
            shown = f"{maximum.normalize():f}" if maximum is not None else "any"
            errors[name] = f"Enter a number from 0 to {shown}."
            continue
        entries.append({"student_id": student_id, "item_id": item_id or None, "points": points})
    return entries, errors


def score_inputs_from_grid(
    grid: ScoreGrid, posted: dict
) -> tuple[list[ScoreInput], dict[str, str]]:
    """The grid's POST as scores to record, or the errors that stop anything being saved.

    Points count as scored (or late, when the row says so); a row marked missing or exempt with
    no points records that status alone.
    """
    entries, errors = parse_score_grid(grid, posted)
    if errors:
        return [], errors
    scored_on = grid.assessment.due_on or timezone.localdate()
    statuses = {
        int(name.split("-")[1]): value
        for name, value in posted.items()
        if name.startswith("status-")
    }
    inputs = [
        ScoreInput(
            student_id=entry["student_id"],
            assessment_id=grid.assessment.pk,
            item_id=entry["item_id"],
            points=entry["points"],
            scored_on=scored_on,
            status=ScoreStatus.LATE
            if statuses.get(entry["student_id"]) == ScoreStatus.LATE
            else ScoreStatus.SCORED,
        )
        for entry in entries
    ]
    with_points = {entry["student_id"] for entry in entries}
    inputs += [
        ScoreInput(
            student_id=student_id,
            assessment_id=grid.assessment.pk,
            scored_on=scored_on,
            status=status,
        )
        for student_id, status in statuses.items()
        if status in (ScoreStatus.MISSING, ScoreStatus.EXEMPT) and student_id not in with_points
    ]
    return inputs, errors


def score_grid_rows(
    grid: ScoreGrid, posted: dict, errors: dict[str, str]
) -> tuple[list[dict], list[str]]:
    """One row per student with its cells (posted values win over saved ones), and the errors
    that belong to no cell of the grid (a forged field)."""
    columns: Sequence[AssessmentItem | None] = grid.items or [None]
    rows = []
    field_names: set[str] = set()
    for enrollment in grid.roster:
        student_id = enrollment.student_id
        cells = []
        for item in columns:
            name = f"score-{student_id}-{item.pk if item else 0}"
            existing = grid.scores.get((student_id, item.pk if item else None))
            saved = (
                "" if existing is None or existing.points is None else existing.points.normalize()
            )
            cells.append(
                {
                    "name": name,
                    "value": posted.get(name, saved),
                    "error": errors.get(name),
                    "item": item,
                }
            )
            field_names.add(name)
        whole = grid.scores.get((student_id, None))
        status_name = f"status-{student_id}"
        field_names.add(status_name)
        rows.append(
            {
                "student": enrollment.student,
                "cells": cells,
                "status_name": status_name,
                "status": posted.get(status_name, whole.status if whole else ScoreStatus.SCORED),
                "status_error": errors.get(status_name),
            }
        )
    stray_errors = [message for name, message in errors.items() if name not in field_names]
    return rows, stray_errors

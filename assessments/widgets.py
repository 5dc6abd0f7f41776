"""The standard picker: a form field and widget that offer standards as checkboxes grouped by
subject, grade and cluster, the recently taught ones first, each with its description, and a
search box that filters them as one types (static/js/standard-picker.js; without the script
every checkbox stays visible and the form works the same).

Any form may use it: declare the field, then tell it what to offer once the form knows whose
standards they are::

    standards = StandardPickerField(help_text="The standards this lesson teaches.")
    ...
    self.fields["standards"].offer(standards, recent_ids=recently_taught_ids)

Render the field with ``{% include "assessments/includes/standard_picker_field.html" with
field=form.standards %}`` and put ``{{ form.media }}`` on the page (its stylesheet and script).
"""

from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.forms.renderers import BaseRenderer, TemplatesSetting
from django.forms.widgets import Script
from django.utils.safestring import SafeString

from assessments.models import Standard
from assessments.selectors import PickerGroup, standard_picker_groups


class StandardPicker(forms.CheckboxSelectMultiple):
    template_name = "assessments/widgets/standard_picker.html"
    # The template sits with the project's templates, which Django's default form renderer does
    # not search.
    project_renderer = TemplatesSetting()

    class Media:
        css = {"all": ["css/standard-picker.css"]}
        js = [Script("js/standard-picker.js", defer=True)]

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.groups: list[PickerGroup] = []

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        # The plain widget's context: the choice widget's own would read every choice from the
        # database again, and the groups already hold them.
        context = forms.Widget.get_context(self, name, value, attrs)
        chosen = {str(v) for v in context["widget"]["value"]}
        picker_id = context["widget"]["attrs"].get("id") or f"id_{name}"
        groups = []
        for number, group in enumerate(self.groups):
            options = [
                {
                    "option": option,
                    "id": f"{picker_id}_{option.standard_id}",
                    "checked": str(option.standard_id) in chosen,
                }
                for option in group.options
            ]
            groups.append({"group": group, "id": f"{picker_id}_group_{number}", "options": options})
        offered = {o.standard_id for g in self.groups for o in g.options}
        context["picker"] = {
            "id": picker_id,
            "groups": groups,
            "offered_count": len(offered),
            "selected_count": sum(1 for pk in offered if str(pk) in chosen),
        }
        return context

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        return super().render(name, value, attrs, renderer=self.project_renderer)


# The largest id a standard can have (a 32-bit integer column).
MAX_ID = 2**31 - 1


class StandardPickerField(forms.ModelMultipleChoiceField):
    """Standards chosen with the picker. Only the standards given to offer() are valid: any other
    id is refused with a message that names it."""

    widget = StandardPicker
    default_error_messages = {
        "required": "Choose at least one standard.",
        "invalid_choice": "Standard %(value)s is not one of the standards offered here.",
        "invalid_pk_value": "“%(pk)s” is not the id of a standard.",
        "invalid_list": "Choose standards from the list.",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", Standard.objects.none())
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Any:
        # An id the database cannot hold (say, 100 digits) is refused here, by name, before the
        # query that would overflow on it.
        for pk in value if isinstance(value, (list, tuple)) else ():
            text = str(pk)
            if not text.isdigit() or len(text) > 10 or int(text) > MAX_ID:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": text if len(text) <= 20 else f"{text[:20]}…"},
                )
        return super().clean(value)

    def offer(self, standards: Iterable[Standard], *, recent_ids: Sequence[int] = ()) -> None:
        """Offer these standards, the recently taught ones (recent_ids, the most recent first)
        in a group of their own at the top."""
        standards = list(standards)
        self.queryset = Standard.objects.filter(pk__in=[s.pk for s in standards])
        self.picker.groups = standard_picker_groups(standards, recent_ids)

    @property
    def picker(self) -> StandardPicker:
        if not isinstance(self.widget, StandardPicker):
            raise TypeError("A StandardPickerField draws its choices with a StandardPicker.")
        return self.widget

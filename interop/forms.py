from typing import Any, cast

from django import forms

from interop.registry import IMPORTERS
from students.models import District


class ImportUploadForm(forms.Form):
    district = forms.ModelChoiceField(queryset=District.objects.none(), empty_label=None)
    format = forms.ChoiceField(label="Format")
    upload = forms.FileField(
        label="Export file (.zip)",
        help_text=(
            "The zip your student information system exports: OneRoster CSV files with "
            "manifest.csv, or Ed-Fi XML interchange files."
        ),
    )
    dry_run = forms.BooleanField(
        required=False, label="Check only (a dry run: report what would change, write nothing)"
    )

    def __init__(self, *args: Any, districts: list[District], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["district"]).queryset = District.objects.filter(
            pk__in=[d.pk for d in districts]
        ).order_by("name")
        self.fields["district"].initial = districts[0].pk if districts else None
        cast(forms.ChoiceField, self.fields["format"]).choices = [
            (importer.format, importer.label) for importer in IMPORTERS.values()
        ]

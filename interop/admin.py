from django.contrib import admin
from django.http import HttpRequest

from interop.models import DroppedFile, ImportRun


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "format",
        "source_name",
        "origin",
        "district",
        "status",
        "created_by",
        "created_at",
    ]
    list_filter = ["format", "status", "origin"]
    readonly_fields = [field.name for field in ImportRun._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # runs are started by the command or the upload page


@admin.register(DroppedFile)
class DroppedFileAdmin(admin.ModelAdmin):
    """What the drop-folder polls found (interop.dropfolder): read only."""

    list_display = ["name", "district", "size", "status", "run", "first_seen_at"]
    list_filter = ["status"]
    readonly_fields = [field.name for field in DroppedFile._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rows are the polls' own

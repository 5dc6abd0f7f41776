from django.contrib import admin
from django.http import HttpRequest

from interop.models import ImportRun


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ["pk", "format", "source_name", "district", "status", "created_by", "created_at"]
    list_filter = ["format", "status"]
    readonly_fields = [field.name for field in ImportRun._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # runs are started by the command or the upload page

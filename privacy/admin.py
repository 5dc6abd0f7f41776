from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from privacy.models import AccessLogEntry


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_name", "actor_label", "role", "what", "student_id", "student_key"]
    list_filter = ["role", "what"]
    search_fields = ["student_key", "actor_label", "actor_name"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

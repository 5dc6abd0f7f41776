from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from privacy.models import AccessLogEntry
from privacy.services import access_log_record


class AccessLoggedAdminMixin:
    """Admin pages that show students' data log one row per student shown."""

    access_log_role = "admin"
    # How to reach the student from a row of this model ("" when the row is the student).
    student_path = ""

    def _student_of(self, obj: Any) -> Any:
        target = obj
        for part in filter(None, self.student_path.split("__")):
            target = getattr(target, part, None)
        return target

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)  # type: ignore[misc]
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            students = [self._student_of(obj) for obj in changelist.result_list]
            access_log_record(
                actor=request.user,
                role=self.access_log_role,
                what=f"admin: {self.model._meta.verbose_name_plural} list",  # type: ignore[attr-defined]
                students=[s for s in students if s is not None],
                path=request.path,
            )
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
        original = getattr(response, "context_data", {}).get("original")
        student = self._student_of(original) if original is not None else None
        if student is not None:
            access_log_record(
                actor=request.user,
                role=self.access_log_role,
                what=f"admin: {self.model._meta.verbose_name}",  # type: ignore[attr-defined]
                students=[student],
                path=request.path,
            )
        return response


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_label", "role", "what", "student_id", "student_key"]
    list_filter = ["role", "what"]
    search_fields = ["student_key", "actor_label"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

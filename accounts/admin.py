from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse

from accounts.access import AdminAccess, student_filter
from accounts.models import Invitation, RoleMembership, User
from privacy.services import log_shown
from students.models import Student


class AccessLoggedAdminMixin(admin.ModelAdmin):
    """Admin pages that show students' data: a superuser sees every row; other admin users only
    the rows of students the access module lets them see today. Each page logs one row per
    student shown, through the one helper, as system administration."""

    # How to reach the student from a row of this model ("" when the row is the student).
    student_path = ""

    def _student_of(self, obj: Any) -> Any:
        target = obj
        for part in filter(None, self.student_path.split("__")):
            target = getattr(target, part, None)
        return target

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        rows = super().get_queryset(request)
        if request.user.is_superuser:
            return rows
        visible = Student.objects.filter(student_filter(request.user), is_active=True)
        if not self.student_path:
            return rows.filter(pk__in=visible.values("pk"))
        return rows.filter(Q(**{f"{self.student_path}__in": visible.values("pk")}))

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            students = [self._student_of(obj) for obj in changelist.result_list]
            log_shown(
                request,
                AdminAccess(),
                what=f"admin: {self.model._meta.verbose_name_plural} list",
                students=[s for s in students if s is not None],
            )
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        original = getattr(response, "context_data", {}).get("original")
        student = self._student_of(original) if original is not None else None
        if student is not None:
            log_shown(
                request,
                AdminAccess(),
                what=f"admin: {self.model._meta.verbose_name}",
                students=[student],
            )
        return response


class MembershipInline(admin.TabularInline):
    model = RoleMembership
    fk_name = "user"
    extra = 0
    raw_id_fields = ["district", "school", "section", "student"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff"]
    search_fields = ["email", "full_name"]
    raw_id_fields = ["staff_record", "guardian_record"]
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("email", "password", "full_name")}),
        ("Records", {"fields": ("staff_record", "guardian_record")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["guardian", "email", "created_at", "expires_at", "accepted_at", "revoked_at"]
    readonly_fields = ["token_hash", "created_at", "accepted_at", "accepted_user"]
    raw_id_fields = ["guardian", "created_by", "accepted_user"]

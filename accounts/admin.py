from typing import Any

import allauth.mfa.admin  # noqa: F401  # registers Authenticator first: replaced below
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from accounts.access import AdminAccess, student_filter
from accounts.forms import MFAResetForm
from accounts.models import (
    Invitation,
    MFAEnrolmentInvitation,
    MFAResetRecord,
    MFAResetVia,
    RoleMembership,
    User,
)
from accounts.services import mfa_reset
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
    list_display = ["email", "full_name", "is_active", "is_staff", "has_two_factor"]
    search_fields = ["email", "full_name"]
    raw_id_fields = ["staff_record", "guardian_record"]
    inlines = [MembershipInline]
    actions = ["reset_two_factor"]
    fieldsets = (
        (None, {"fields": ("email", "password", "full_name")}),
        ("Records", {"fields": ("staff_record", "guardian_record")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .annotate(trellis_two_factor=Exists(Authenticator.objects.filter(user=OuterRef("pk"))))
        )

    @admin.display(boolean=True, description="Two-factor", ordering="trellis_two_factor")
    def has_two_factor(self, obj: User) -> bool:
        return bool(getattr(obj, "trellis_two_factor", False))

    @admin.action(description="Reset two-factor authentication", permissions=["change"])
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> Any:
        """Remove the selected users' second factors and email each a new enrolment link, after
        a confirmation page that asks why. Each reset is recorded (MFAResetRecord) and logged."""
        form = MFAResetForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            if getattr(settings, "TRELLIS_BASE_URL", ""):
                base_url = None  # services.site_url reads it
            else:
                base_url = request.build_absolute_uri("/")
            done = 0
            for user in queryset.order_by("email"):
                try:
                    record = mfa_reset(
                        user=user,
                        reason=form.cleaned_data["reason"],
                        via=MFAResetVia.ADMIN,
                        acting_user=request.user,  # type: ignore[arg-type]  # the admin's own user
                        base_url=base_url,
                    )
                except PermissionDenied as refused:
                    self.message_user(request, f"{user.email}: {refused}", messages.ERROR)
                else:
                    done += 1
                    # Also in the user's admin history, beside the MFAResetRecord.
                    self.log_change(
                        request, user, f"Reset two-factor authentication: {record.reason}"
                    )
            if done:
                self.message_user(
                    request,
                    f"Two-factor authentication reset for {done} user(s); each was emailed a "
                    "new enrolment link.",
                    messages.SUCCESS,
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Reset two-factor authentication",
            "opts": self.model._meta,
            "users": queryset.order_by("email"),
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "accounts/admin/mfa_reset_confirm.html", context)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = [
        "guardian",
        "email",
        "language",
        "created_at",
        "sent_at",
        "expires_at",
        "accepted_at",
        "revoked_at",
    ]
    readonly_fields = [
        "token_hash",
        "code_hash",
        "created_at",
        "sent_at",
        "accepted_at",
        "accepted_user",
    ]
    raw_id_fields = ["guardian", "created_by", "accepted_user"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by services: shown, never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MFAEnrolmentInvitation)
class MFAEnrolmentInvitationAdmin(ReadOnlyAdmin):
    list_display = ["user", "email", "created_at", "sent_at", "expires_at", "accepted_at"]
    list_select_related = ["user"]
    search_fields = ["email"]
    exclude = ["token_hash"]


@admin.register(MFAResetRecord)
class MFAResetRecordAdmin(ReadOnlyAdmin):
    list_display = ["at", "user_email", "by_label", "via", "reason", "removed"]
    list_filter = ["via"]
    search_fields = ["user_email", "by_label", "reason"]


# allauth registers its authenticators with add, change and delete. Adding or changing one would
# enrol a factor for someone without their mailbox, and deleting one would be a reset that no one
# records: they are shown only; the users' action "Reset two-factor authentication" removes them.
admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class AuthenticatorAdmin(ReadOnlyAdmin):
    raw_id_fields = ("user",)
    list_display = ("user", "type", "created_at", "last_used_at")
    list_filter = ("type", "created_at", "last_used_at")
    exclude = ("data",)

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import Invitation, RoleMembership, User


class MembershipInline(admin.TabularInline):
    model = RoleMembership
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

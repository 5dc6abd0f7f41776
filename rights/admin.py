"""The rights records in the Trellis admin, read-only: rights.services writes every row (and logs
it); the privacy office's pages are where they change. Rows about a student are filtered and
their reads logged like every admin page of students' data (accounts.admin)."""

from django.contrib import admin

from accounts.admin import AccessLoggedAdminMixin, ReadOnlyAdmin
from rights import models


class StudentRowsAdmin(AccessLoggedAdminMixin, ReadOnlyAdmin):
    student_path = "student"
    raw_id_fields = ["student"]


@admin.register(models.RightsPolicy)
class RightsPolicyAdmin(ReadOnlyAdmin):
    list_display = ["district", "parents_access_at_eligibility", "inspection_days", "updated_at"]


@admin.register(models.AnnualNotice)
class AnnualNoticeAdmin(ReadOnlyAdmin):
    list_display = ["title", "district", "school_year", "published_at"]
    list_filter = ["school_year"]


@admin.register(models.NoticeAcknowledgement)
class NoticeAcknowledgementAdmin(ReadOnlyAdmin):
    list_display = ["notice", "user_label", "student", "acknowledged_at"]
    search_fields = ["user_label"]


@admin.register(models.DirectoryOptOut)
class DirectoryOptOutAdmin(StudentRowsAdmin):
    list_display = ["student", "set_by_label", "set_at", "withdrawn_at"]


@admin.register(models.Recipient)
class RecipientAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "district", "is_active"]
    search_fields = ["name"]


@admin.register(models.ConsentRequest)
class ConsentRequestAdmin(ReadOnlyAdmin):
    list_display = ["recipient", "purpose", "for_all_students", "expires_on", "closed_at"]


@admin.register(models.Consent)
class ConsentAdmin(StudentRowsAdmin):
    list_display = ["request", "student", "user_label", "signed_at", "revoked_at"]


@admin.register(models.DisclosureRecord)
class DisclosureRecordAdmin(StudentRowsAdmin):
    list_display = ["disclosed_at", "student", "recipient_name", "basis", "acting_label"]
    list_filter = ["basis"]


@admin.register(models.InspectionRequest)
class InspectionRequestAdmin(StudentRowsAdmin):
    list_display = ["student", "user_label", "requested_at", "due_on", "status", "delivered_at"]
    list_filter = ["status"]


@admin.register(models.AmendmentRequest)
class AmendmentRequestAdmin(StudentRowsAdmin):
    list_display = ["student", "record_label", "requested_at", "decision", "decided_at"]
    list_filter = ["decision"]


@admin.register(models.EligibleStudent)
class EligibleStudentAdmin(StudentRowsAdmin):
    list_display = ["student", "eligible_since", "reason", "parents_portal_access_ended"]


@admin.register(models.RightsEvent)
class RightsEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_label", "action", "student_id", "subject_model", "subject_id"]
    list_filter = ["action"]

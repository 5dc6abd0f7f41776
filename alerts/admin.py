"""What families' alerts did, for the district's administrators: read-only (the alerts' services
write every row; a guardian changes their own preferences in the portal)."""

from django.contrib import admin

from accounts.admin import ReadOnlyAdmin
from alerts.models import AlertDelivery, AlertPreference


@admin.register(AlertPreference)
class AlertPreferenceAdmin(ReadOnlyAdmin):
    list_display = ["user", "same_day_absences", "digest", "level_threshold", "updated_at"]
    list_filter = ["digest", "same_day_absences"]
    search_fields = ["user__email"]


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["user", "kind", "day", "sent_at", "email", "language", "summary"]
    list_filter = ["kind", "day"]
    search_fields = ["user__email", "email"]
    date_hierarchy = "day"

"""District staff record prerequisites between standards here; the planner suggests them."""

from django.contrib import admin

from lessons.models import StandardPrerequisite


@admin.register(StandardPrerequisite)
class StandardPrerequisiteAdmin(admin.ModelAdmin):
    list_display = ("standard", "prerequisite", "created_by", "created_at")
    list_filter = ("standard__district",)
    search_fields = ("standard__code", "prerequisite__code")
    raw_id_fields = ("standard", "prerequisite")
    readonly_fields = ("created_by", "created_at")

    def save_model(self, request, obj, form, change) -> None:
        if obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

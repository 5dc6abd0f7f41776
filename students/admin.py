from django.contrib import admin

from students import models


class RecordAdmin(admin.ModelAdmin):
    list_filter = ["is_active", "source_system"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(models.District)
class DistrictAdmin(RecordAdmin):
    list_display = ["name", "state_code", "is_active"]


@admin.register(models.School)
class SchoolAdmin(RecordAdmin):
    list_display = ["name", "level", "school_number", "is_active"]
    search_fields = ["name", "school_number"]


@admin.register(models.AcademicSession)
class AcademicSessionAdmin(RecordAdmin):
    list_display = ["title", "kind", "school_year", "start_date", "end_date"]


@admin.register(models.Course)
class CourseAdmin(RecordAdmin):
    list_display = ["title", "course_code", "subject"]
    search_fields = ["title", "course_code"]


@admin.register(models.Section)
class SectionAdmin(RecordAdmin):
    list_display = ["title", "school", "period", "subject", "is_active"]
    search_fields = ["title", "section_code"]
    list_select_related = ["school"]
    raw_id_fields = ["school", "course", "session"]


@admin.register(models.Staff)
class StaffAdmin(RecordAdmin):
    list_display = ["last_name", "first_name", "kind", "staff_number", "is_active"]
    search_fields = ["last_name", "first_name", "staff_number"]


@admin.register(models.Guardian)
class GuardianAdmin(RecordAdmin):
    list_display = ["last_name", "first_name", "language", "contact_method", "is_active"]
    list_filter = ["language", "contact_method", "contact_time", "is_active"]
    search_fields = ["last_name", "first_name"]


@admin.register(models.SectionAssignment)
class SectionAssignmentAdmin(RecordAdmin):
    list_display = ["staff", "section", "is_primary", "is_active"]
    list_select_related = ["staff", "section"]
    raw_id_fields = ["staff", "section"]


@admin.register(models.DisciplineIncident)
class DisciplineIncidentAdmin(RecordAdmin):
    list_display = ["incident_identifier", "incident_date", "school", "location"]
    list_select_related = ["school"]
    raw_id_fields = ["school", "reported_by"]


@admin.register(models.DisciplineAction)
class DisciplineActionAdmin(RecordAdmin):
    list_display = ["action_identifier", "action_date", "incident"]
    raw_id_fields = ["incident", "assigned_by", "responsibility_school", "assignment_school"]
    filter_horizontal = ["students"]


@admin.register(models.Cohort)
class CohortAdmin(RecordAdmin):
    list_display = ["identifier", "description", "cohort_type", "school"]
    search_fields = ["identifier", "description"]

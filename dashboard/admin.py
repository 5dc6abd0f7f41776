"""The admin's pages of students' own data: every one filtered by accounts.access for admin
users who are not superusers, and logged through privacy.services.log_shown as system
administration (accounts.admin.AccessLoggedAdminMixin). The other records' admin pages stay with
their app (students.admin)."""

from django.contrib import admin
from django.utils.html import format_html_join

from accounts.access import users_who_may_see
from accounts.admin import AccessLoggedAdminMixin
from students import models
from students.admin import RecordAdmin


class ContactInline(admin.TabularInline):
    model = models.ContactDetail
    fields = ["kind", "label", "value", "is_primary", "is_active"]
    extra = 0


class ProgramInline(admin.TabularInline):
    model = models.ProgramParticipation
    fields = ["program", "program_name", "begin_date", "end_date", "is_active"]
    extra = 0


@admin.register(models.Student)
class StudentAdmin(AccessLoggedAdminMixin, RecordAdmin):
    list_display = ["last_name", "first_name", "student_number", "is_active"]
    search_fields = ["last_name", "first_name", "student_number"]
    inlines = [ContactInline, ProgramInline]
    exclude = ["uuid"]
    readonly_fields = [*RecordAdmin.readonly_fields, "who_may_see"]

    @admin.display(description="Who may see this student today, and why")
    def who_may_see(self, student: models.Student) -> str:
        """Every user the access module lets see the student today, with each basis (the same
        answer as `manage.py explain_access`)."""
        if student.pk is None:
            return "—"
        rows = [
            (user.email, explanation.basis.label, explanation.via, explanation.period)
            for user, explanations in users_who_may_see(student)
            for explanation in explanations
        ]
        if not rows:
            return "Nobody but the Trellis administrators."
        return format_html_join("", "<p><strong>{}</strong>: {} ({}; {})</p>", rows)


@admin.register(models.GuardianRelationship)
class GuardianRelationshipAdmin(AccessLoggedAdminMixin, RecordAdmin):
    student_path = "student"
    list_display = ["guardian", "student", "relationship", "portal_access", "contact_restricted"]
    list_select_related = ["guardian", "student"]
    raw_id_fields = ["guardian", "student"]


@admin.register(models.Enrollment)
class EnrollmentAdmin(AccessLoggedAdminMixin, RecordAdmin):
    student_path = "student"
    list_display = ["student", "section", "begin_date", "end_date", "is_active"]
    list_select_related = ["student", "section"]
    raw_id_fields = ["student", "section"]


# What Ed-Fi imports bring; every per-student view of it is access-logged.
@admin.register(models.AttendanceEvent)
class AttendanceEventAdmin(AccessLoggedAdminMixin, RecordAdmin):
    student_path = "student"
    list_display = ["student", "event_date", "category", "reason", "school"]
    list_select_related = ["student", "school"]
    raw_id_fields = ["student", "school", "section"]


@admin.register(models.StudentDisciplineIncident)
class StudentDisciplineIncidentAdmin(AccessLoggedAdminMixin, RecordAdmin):
    student_path = "student"
    list_display = ["student", "incident", "participation"]
    list_select_related = ["student", "incident"]
    raw_id_fields = ["student", "incident"]


@admin.register(models.Grade)
class GradeAdmin(AccessLoggedAdminMixin, RecordAdmin):
    student_path = "student"
    list_display = ["student", "section", "grading_period", "grade_type", "letter_grade"]
    list_select_related = ["student", "section", "grading_period"]
    raw_id_fields = ["student", "section", "grading_period"]


@admin.register(models.CourseTranscript)
class CourseTranscriptAdmin(AccessLoggedAdminMixin, RecordAdmin):
    student_path = "student"
    list_display = ["student", "course", "attempt_result", "final_letter_grade"]
    list_select_related = ["student", "course"]
    raw_id_fields = ["student", "academic_record", "course", "school"]

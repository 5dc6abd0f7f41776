"""How many records of each kind the installation holds, for `manage.py data_inventory`.

A registry of counts, in registration order: this module registers the district's records;
other apps add theirs from AppConfig.ready():

    from students.inventory import register_count
    register_count("assessments", lambda: Assessment.objects.filter(is_active=True))

A count source is a callable returning a QuerySet (counted with one `.count()` query) or an int.
Records carry an active flag; only active ones count (the access log has none: every row counts).
"""

import re
from collections.abc import Callable

from django.apps import apps
from django.db.models import QuerySet

CountSource = Callable[[], "QuerySet | int"]

_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_registry: dict[str, CountSource] = {}


def register_count(key: str, source: CountSource, *, replace: bool = False) -> None:
    """Add a count under a snake_case plural key. A key is registered once, unless replace=True
    (which keeps its place in the order)."""
    if not _KEY.match(key):
        raise ValueError(f"Inventory keys are snake_case: {key!r}.")
    if key in _registry and not replace:
        raise ValueError(f"The inventory already counts {key!r}.")
    _registry[key] = source


def registered_keys() -> list[str]:
    return list(_registry)


def inventory_counts() -> dict[str, int]:
    """Every registered count, in registration order; one query each."""
    counts = {}
    for key, source in _registry.items():
        result = source()
        counts[key] = result if isinstance(result, int) else result.count()
    return counts


def _active(label: str) -> CountSource:
    # Resolved when counted, so that importing this module never needs the app registry.
    return lambda: apps.get_model(label)._default_manager.filter(is_active=True)


def _all(label: str) -> CountSource:
    return lambda: apps.get_model(label)._default_manager.all()


for _key, _source in (
    ("students", _active("students.Student")),
    ("guardians", _active("students.Guardian")),
    ("staff", _active("students.Staff")),
    ("schools", _active("students.School")),
    ("sections", _active("students.Section")),
    ("enrollments", _active("students.Enrollment")),
    ("access_log_entries", _all("privacy.AccessLogEntry")),
    ("districts", _active("students.District")),
    ("courses", _active("students.Course")),
    ("academic_sessions", _active("students.AcademicSession")),
    ("guardian_relationships", _active("students.GuardianRelationship")),
    ("program_participations", _active("students.ProgramParticipation")),
    ("contact_details", _active("students.ContactDetail")),
    ("users", _active("accounts.User")),
    ("calendar_dates", _active("students.CalendarDate")),
    ("attendance_events", _active("students.AttendanceEvent")),
    ("discipline_incidents", _active("students.DisciplineIncident")),
    ("discipline_actions", _active("students.DisciplineAction")),
    ("student_discipline_incidents", _active("students.StudentDisciplineIncident")),
    ("grades", _active("students.Grade")),
    ("report_cards", _active("students.ReportCard")),
    ("academic_records", _active("students.AcademicRecord")),
    ("course_transcripts", _active("students.CourseTranscript")),
    ("cohorts", _active("students.Cohort")),
    ("cohort_memberships", _active("students.CohortMembership")),
    ("student_competencies", _active("students.StudentCompetency")),
    ("school_memberships", _active("students.StudentSchoolMembership")),
    ("staff_school_assignments", _active("students.StaffSchoolAssignment")),
    ("section_assignments", _active("students.SectionAssignment")),
):
    register_count(_key, _source)

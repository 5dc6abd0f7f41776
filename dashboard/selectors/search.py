"""The student search behind the top bar: students the user may see, by name or student number,
with their school and grade, in one query."""

from dataclasses import dataclass

from django.db.models import F, OuterRef, Subquery

from accounts.access import AnyUser, StudentAccess, found_student_access, students_matching
from students.models import StudentSchoolMembership, grade_label, in_force

# How many results a search shows; past it the page asks for more of the name.
SEARCH_RESULTS_SHOWN = 25


@dataclass(frozen=True)
class FoundStudent:
    access: StudentAccess  # the student, and the grant the read is logged under
    school_name: str
    grade_level: str

    @property
    def grade_name(self) -> str:
        return grade_label(self.grade_level) if self.grade_level else ""


@dataclass(frozen=True)
class StudentSearch:
    found: list[FoundStudent]
    more: bool  # more students match than are shown


def student_search(user: AnyUser, text: str, *, shown: int = SEARCH_RESULTS_SHOWN) -> StudentSearch:
    """The first `shown` students matching `text` that the user may see (accounts.access decides
    who and how they match), each with the school and grade of their membership in force (the
    latest begun, if several): one query, however many students the user may see."""
    membership = StudentSchoolMembership.objects.filter(
        in_force(), student_id=OuterRef("pk")
    ).order_by(F("begin_date").desc(nulls_last=True), "-pk")
    rows = list(
        students_matching(user, text).annotate(
            school_name=Subquery(membership.values("school__name")[:1]),
            grade_level=Subquery(membership.values("grade_level")[:1]),
        )[: shown + 1]
    )
    return StudentSearch(
        found=[
            FoundStudent(
                access=found_student_access(student),
                school_name=student.school_name or "",
                grade_level=student.grade_level or "",
            )
            for student in rows[:shown]
        ],
        more=len(rows) > shown,
    )

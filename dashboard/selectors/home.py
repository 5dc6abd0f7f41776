"""Reads for each role's home page: the teacher's sections, the principal's schools, the district's
schools, a guardian's children. Each is scoped by accounts.access and returns plain data for the
template, in few queries."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.access import (
    AnyUser,
    schools_visible_to,
    sections_visible_to,
    students_visible_to,
)
from accounts.models import Role
from dashboard.selectors.school import SchoolOverview, counts_shown, school_overview
from students.models import (
    Enrollment,
    School,
    Section,
    SectionAssignment,
    Student,
    StudentSchoolMembership,
    in_force,
)


def teacher_sections(user: AnyUser) -> list[Section]:
    """The teacher's own sections with their current student counts: one query."""
    return list(
        sections_visible_to(user, role=Role.TEACHER)
        .select_related("school", "course", "session")
        .annotate(student_count=Count("enrollments", filter=in_force("enrollments__")))
        .order_by("period", "title")
    )


def principal_schools(user: AnyUser) -> list[SchoolOverview]:
    schools = schools_visible_to(user, role=Role.PRINCIPAL)
    return [school_overview(school) for school in schools]


def _per_school(rows: QuerySet, school_field: str, counted: str) -> Coalesce:
    """A correlated count per school. Each count is its own subquery: joining memberships and
    sections in one query multiplied them (students x sections rows per school; 10 s on the
    default demo's PostgreSQL)."""
    return Coalesce(
        Subquery(
            rows.filter(**{school_field: OuterRef("pk")})
            .order_by()
            .values(school_field)
            .annotate(n=Count(counted, distinct=True))
            .values("n")
        ),
        0,
    )


def district_schools(user: AnyUser) -> list[School]:
    """Every school of the user's districts, with student, section and teacher counts; a school
    with fewer students than its district's minimum group size reads "fewer than 10"."""
    schools: list[School] = list(
        schools_visible_to(user, role=Role.DISTRICT_STAFF)
        .annotate(
            student_count=_per_school(
                StudentSchoolMembership.objects.filter(in_force()), "school", "student"
            ),
            section_count=_per_school(Section.objects.filter(is_active=True), "school", "pk"),
            teacher_count=_per_school(
                SectionAssignment.objects.filter(section__is_active=True, is_active=True),
                "section__school",
                "staff",
            ),
        )
        .select_related("district")
        .order_by("level", "name")
    )
    for school in schools:
        # An annotation beside the counts: what the template prints.
        (shown_count,) = counts_shown(
            [school.student_count],  # type: ignore[attr-defined]  # annotated above
            school.district.min_group_size,
        )
        setattr(school, "student_count_shown", shown_count)  # noqa: B010
    return schools


@dataclass(frozen=True)
class ChildOverview:
    student: Student
    enrollments: Sequence[Enrollment]


def guardian_children(user: AnyUser) -> list[ChildOverview]:
    """A guardian's children with portal access, each with their sections and teachers."""
    students = list(
        students_visible_to(user, role=Role.GUARDIAN).prefetch_related(
            Prefetch(
                "enrollments",
                queryset=Enrollment.objects.current()
                .select_related("section__course", "section__school")
                .prefetch_related(
                    Prefetch(
                        "section__assignments",
                        queryset=SectionAssignment.objects.current().select_related("staff"),
                        to_attr="current_assignments",
                    )
                )
                .order_by("section__period", "section__title"),
                to_attr="current_enrollments",
            )
        )
    )
    return [ChildOverview(student=s, enrollments=s.current_enrollments) for s in students]

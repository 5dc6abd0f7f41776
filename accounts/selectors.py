"""Reads for each role's home page. Each returns plain data for the template, in few queries."""

from dataclasses import dataclass

from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.access import schools_visible_to, sections_visible_to, students_visible_to
from accounts.models import MembershipSource, Role, RoleMembership
from students.models import (
    Enrollment,
    School,
    Section,
    SectionAssignment,
    Staff,
    Student,
    StudentSchoolMembership,
    grade_label,
    in_force,
)


def teacher_sections(user: object) -> list[Section]:
    """The teacher's own sections with their current student counts: one query."""
    return list(
        sections_visible_to(user, role=Role.TEACHER)
        .select_related("school", "course", "session")
        .annotate(student_count=Count("enrollments", filter=in_force("enrollments__")))
        .order_by("period", "title")
    )


@dataclass(frozen=True)
class GradeLevelCount:
    code: str
    label: str
    students: int


@dataclass(frozen=True)
class SchoolOverview:
    school: School
    grade_levels: list[GradeLevelCount]
    sections: list[Section]
    teachers: list[Staff]


def school_overview(school: School) -> SchoolOverview:
    counts = (
        StudentSchoolMembership.objects.filter(in_force(), school=school, student__is_active=True)
        .values("grade_level")
        .annotate(students=Count("student_id", distinct=True))
        .order_by("grade_level")
    )
    sections = list(
        Section.objects.filter(school=school, is_active=True)
        .select_related("course")
        .annotate(student_count=Count("enrollments", filter=in_force("enrollments__")))
        .prefetch_related(
            Prefetch(
                "assignments",
                queryset=SectionAssignment.objects.current().select_related("staff"),
                to_attr="current_assignments",
            )
        )
        .order_by("title")
    )
    teachers = list(
        Staff.objects.filter(
            is_active=True,
            section_assignments__section__school=school,
            section_assignments__is_active=True,
        )
        .annotate(section_count=Count("section_assignments", distinct=True))
        .order_by("last_name", "first_name")
        .distinct()
    )
    return SchoolOverview(
        school=school,
        grade_levels=[
            GradeLevelCount(
                code=row["grade_level"],
                label=grade_label(row["grade_level"]),
                students=row["students"],
            )
            for row in counts
        ],
        sections=sections,
        teachers=teachers,
    )


def principal_schools(user: object) -> list[SchoolOverview]:
    schools = schools_visible_to(user, role=Role.PRINCIPAL)
    return [school_overview(school) for school in schools]


def district_schools(user: object) -> list[School]:
    """Every school of the user's districts, with student, section and teacher counts."""
    current_members = in_force("student_memberships__")
    return list(
        schools_visible_to(user, role=Role.DISTRICT_STAFF)
        .annotate(
            student_count=Count(
                "student_memberships__student", filter=current_members, distinct=True
            ),
            section_count=Count("sections", filter=Q(sections__is_active=True), distinct=True),
            # Teachers of the school's sections (a subquery: joining would multiply the counts).
            teacher_count=Coalesce(
                Subquery(
                    SectionAssignment.objects.filter(
                        section__school=OuterRef("pk"), section__is_active=True, is_active=True
                    )
                    .order_by()
                    .values("section__school")
                    .annotate(n=Count("staff", distinct=True))
                    .values("n")
                ),
                0,
            ),
        )
        .order_by("level", "name")
    )


def school_substitutes(school: School) -> list[RoleMembership]:
    """Dated exceptions at the school that have not ended: section memberships given by hand to
    teachers, with who has them, the section, and who granted them."""
    return list(
        RoleMembership.objects.filter(
            Q(end_date__isnull=True) | Q(end_date__gte=timezone.localdate()),
            role=Role.TEACHER,
            source=MembershipSource.MANUAL,
            section__school=school,
        )
        .select_related("user", "section", "granted_by")
        .order_by("begin_date", "section__title", "user__email")
    )


@dataclass(frozen=True)
class ChildOverview:
    student: Student
    enrollments: list[Enrollment]


def guardian_children(user: object) -> list[ChildOverview]:
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

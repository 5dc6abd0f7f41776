"""Reads behind a school's pages (its principal and its district's staff): grade levels, sections
and teachers, and the dated exceptions given at the school."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from accounts.models import MembershipSource, Role, RoleMembership
from students.models import (
    School,
    Section,
    SectionAssignment,
    Staff,
    StudentSchoolMembership,
    grade_label,
    in_force,
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
    sections: Sequence[Section]
    teachers: Sequence[Staff]


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

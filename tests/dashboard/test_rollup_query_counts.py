"""The school report, a grade of it and the district page read the rollups in a number of queries
that does not grow with the district (issue 19): each page makes as many queries for a district
of 1 school with 3 students in 1 section as for one of 3 schools with 36 students in 3 sections
each. (bench/bench_school_rollup.py measures the same pages on the demo's 86,000 students.)"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role, User
from accounts.services import derived_access_sync, role_grant
from assessments.models import Assessment, MasteryEstimate, MasteryEstimateHistory, Standard
from rollups.models import SchoolStandardMonth, SectionStandardMonth
from rollups.services import rollups_rebuild
from students.models import (
    District,
    Enrollment,
    ProgramParticipation,
    School,
    SchoolLevel,
    SectionAssignment,
    StudentSchoolMembership,
)
from tests import factories

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 10, 12, tzinfo=dt.UTC)
# A level held in September too, so that each page reads the term's start as well as now.
TERM_START_DAY = dt.date(2026, 9, 15)
GRADES = ("03", "04")
LEVELS = (SchoolLevel.ELEMENTARY, SchoolLevel.MIDDLE, SchoolLevel.HIGH)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(NOW, tick=False):
        yield


@dataclass(frozen=True)
class Sized:
    district: District
    school: School
    principal: User
    district_staff: User
    sections: int


def _sized_district(*, schools: int, students: int, sections: int) -> Sized:
    """A district of `schools` schools (of different levels), each with `students` students in
    two grades spread over `sections` sections, measured on four standards of two subjects now
    and in September, a third of them in a programme (a subgroup); its rollups rebuilt."""
    district = factories.DistrictFactory.create()
    standards = [
        Standard.objects.create(
            district=district, code=f"S.{n}", subject=("Mathematics", "ELA")[n % 2]
        )
        for n in range(4)
    ]
    made: list[School] = []
    for school_number in range(schools):
        school = factories.SchoolFactory.create(
            district=district, level=LEVELS[school_number % len(LEVELS)]
        )
        made.append(school)
        school_sections = []
        for number in range(sections):
            section = factories.SectionFactory.create(
                school=school, grade_levels=[GRADES[number % 2]]
            )
            SectionAssignment.objects.create(
                district=district,
                staff=factories.StaffFactory.create(district=district),
                section=section,
            )
            assessment = Assessment.objects.create(district=district, section=section, title="Quiz")
            assessment.standards.add(*standards)
            school_sections.append(section)
        for n in range(students):
            student = factories.StudentFactory.create(
                district=district, sex=("female", "male")[n % 2]
            )
            StudentSchoolMembership.objects.create(
                district=district, student=student, school=school, grade_level=GRADES[n % 2]
            )
            Enrollment.objects.create(
                district=district, student=student, section=school_sections[n % sections]
            )
            if n % 3 == 0:
                ProgramParticipation.objects.create(
                    district=district, student=student, program="iep", begin_date=TERM_START_DAY
                )
            MasteryEstimate.objects.bulk_create(
                MasteryEstimate(student=student, standard=standard, level=1 + (n + k) % 4)
                for k, standard in enumerate(standards)
            )
            MasteryEstimateHistory.objects.bulk_create(
                MasteryEstimateHistory(
                    student=student,
                    standard=standard,
                    level=1 + (n + k + 1) % 4,
                    evidence_count=1,
                    method="test",
                    as_of=TERM_START_DAY,
                    recorded_at=NOW,
                )
                for k, standard in enumerate(standards)
            )
    principal = factories.UserFactory.create()
    role_grant(user=principal, role=Role.PRINCIPAL, school=made[0])
    district_staff = factories.UserFactory.create()
    role_grant(user=district_staff, role=Role.DISTRICT_STAFF, district=district)
    derived_access_sync()
    rollups_rebuild(district.pk, today=NOW.date())
    return Sized(district, made[0], principal, district_staff, sections)


def _school_report(sized: Sized) -> tuple[User, str]:
    return sized.principal, reverse("students:school_detail", args=[sized.school.pk])


def _grade_page(sized: Sized) -> tuple[User, str]:
    user, url = _school_report(sized)
    return user, f"{url}?grade={GRADES[1]}"


def _district_page(sized: Sized) -> tuple[User, str]:
    return sized.district_staff, reverse("dashboard:district_schools", args=[sized.district.pk])


PAGES: dict[str, Callable[[Sized], tuple[User, str]]] = {
    "school report": _school_report,
    "grade page": _grade_page,
    "district page": _district_page,
}


def _queries(client: Client, sized: Sized, page: str) -> tuple[int, str]:
    """The page's queries once warm (the same caches filled for both districts), and its HTML."""
    user, url = PAGES[page](sized)
    client.force_login(user)
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response.content.decode()


def test_each_page_makes_as_many_queries_for_a_large_district_as_for_a_small_one(
    client: Client,
) -> None:
    small = _sized_district(schools=1, students=3, sections=1)
    large = _sized_district(schools=3, students=36, sections=3)
    # The large district's rollups really hold more: rows of three schools, sections in each.
    assert SchoolStandardMonth.objects.filter(district=large.district).count() > (
        SchoolStandardMonth.objects.filter(district=small.district).count()
    )
    assert (
        SectionStandardMonth.objects.filter(school=large.school).values("section").distinct()
    ).count() == 3
    small_queries, large_queries = {}, {}
    for page in PAGES:
        small_queries[page], _ = _queries(client, small, page)
        large_queries[page], html = _queries(client, large, page)
        # What the large district's page shows comes from its many rows: every school, or
        # every section of the school.
        if page == "district page":
            for school in School.objects.filter(district=large.district):
                assert school.name in html
        else:
            for section in large.school.sections.all():
                assert section.title in html, page
    assert large_queries == small_queries

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from students.models import (
    ContactDetail,
    Enrollment,
    ProgramParticipation,
    Section,
    StudentSchoolMembership,
    in_force,
)
from tests import factories
from tests.conftest import World

pytestmark = pytest.mark.django_db


def _grow_roster(world: World, extra: int) -> None:
    for _ in range(extra):
        student = factories.StudentFactory.create(district=world.district)
        Enrollment.objects.create(district=world.district, student=student, section=world.section)
        StudentSchoolMembership.objects.create(
            district=world.district, student=student, school=world.school, grade_level="04"
        )
        ProgramParticipation.objects.create(district=world.district, student=student, program="iep")
    from accounts.services import derived_access_sync

    derived_access_sync()


def _queries(client, url: str) -> int:
    client.get(url)  # warm the session, so that only the page's own queries differ
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("role", ["teacher", "principal", "district_staff"])
def test_roster_page_query_count_does_not_grow_with_the_roster(
    client, world: World, role: str
) -> None:
    client.force_login(world.users_by_role()[role])
    url = reverse("students:section_detail", kwargs={"pk": world.section.pk})
    small = _queries(client, url)
    _grow_roster(world, 30)
    large = _queries(client, url)
    assert large == small
    # The section page is the mastery dashboard now (tests/dashboard pins its parts).
    assert large <= 18


def test_roster_page_pins_its_queries(client, world: World, django_assert_max_num_queries) -> None:
    _grow_roster(world, 25)
    client.force_login(world.teacher)
    with django_assert_max_num_queries(18):
        response = client.get(reverse("students:section_detail", kwargs={"pk": world.section.pk}))
    assert len(response.context["roster"]) == 27


def test_roster_shows_current_students_only(client, world: World) -> None:
    Enrollment.objects.filter(student=world.classmate).update(end_date=dt.date(2020, 1, 1))
    client.force_login(world.principal)
    response = client.get(reverse("students:section_detail", kwargs={"pk": world.section.pk}))
    assert [e.student for e in response.context["roster"]] == [world.student]


def test_student_page_shows_contacts_to_staff_and_guardian_but_not_other_guardians(
    client, world: World
) -> None:
    ContactDetail.objects.create(
        district=world.district, student=world.student, kind="address", value="12 Birch Lane"
    )
    other_guardian = world.other_parent.guardian_record
    assert other_guardian is not None
    ContactDetail.objects.create(
        district=world.district, guardian=world.guardian, kind="phone", value="720-555-0199"
    )
    from students.models import GuardianRelationship

    GuardianRelationship.objects.create(
        district=world.district,
        guardian=other_guardian,
        student=world.student,
        relationship="father",
    )
    ContactDetail.objects.create(
        district=world.district, guardian=other_guardian, kind="phone", value="720-555-0777"
    )
    url = reverse("students:student_detail", kwargs={"pk": world.student.pk})
    client.force_login(world.teacher)
    page = client.get(url).content.decode()
    assert "12 Birch Lane" in page and "720-555-0199" in page and "720-555-0777" in page
    # A guardian reads the record's tab on its own (the profile's address sends them to the
    # family portal).
    client.force_login(world.parent)
    tab = reverse("dashboard:student_profile_tab", kwargs={"pk": world.student.pk, "tab": "record"})
    page = client.get(tab).content.decode()
    assert "12 Birch Lane" in page and "720-555-0199" in page
    assert "720-555-0777" not in page


def test_program_badges_on_the_student_page(client, world: World) -> None:
    ProgramParticipation.objects.create(
        district=world.district, student=world.student, program="ell"
    )
    ProgramParticipation.objects.create(
        district=world.district, student=world.student, program="iep", end_date=dt.date(2020, 6, 1)
    )
    client.force_login(world.teacher)
    page = client.get(
        reverse("students:student_detail", kwargs={"pk": world.student.pk})
    ).content.decode()
    assert "English learner" in page
    assert ">IEP<" not in page  # ended in 2020


def test_home_for_each_role(client, world: World) -> None:
    client.force_login(world.teacher)
    assert world.section.title in client.get(reverse("home")).content.decode()
    client.force_login(world.principal)
    page = client.get(reverse("home")).content.decode()
    assert world.school.name in page and "Grade 4" in page and world.other_section.title in page
    client.force_login(world.district_staff)
    page = client.get(reverse("home")).content.decode()
    assert world.school.name in page and world.other_school.name in page
    # A guardian's home is the family portal's list of their children.
    client.force_login(world.parent)
    assert client.get(reverse("home"))["Location"] == reverse("portal:children")
    page = client.get(reverse("portal:children")).content.decode()
    assert world.student.display_name in page and world.school.name in page
    assert world.classmate.display_name not in page


def test_district_home_counts_each_schools_teachers(client, world: World) -> None:
    client.force_login(world.district_staff)
    schools = {s.name: s for s in client.get(reverse("home")).context["district_schools"]}
    assert schools[world.school.name].teacher_count == 2
    assert schools[world.other_school.name].teacher_count == 1
    assert schools[world.school.name].student_count == 3
    # Each count on its own: sections and teachers do not multiply the students, nor the reverse.
    for school in (world.school, world.other_school):
        shown = schools[school.name]
        assert shown.section_count == Section.objects.filter(school=school, is_active=True).count()
        assert shown.student_count == len(
            set(
                StudentSchoolMembership.objects.filter(in_force(), school=school).values_list(
                    "student_id", flat=True
                )
            )
        )


def test_inactive_guardian_contacts_are_not_shown(client, world: World) -> None:
    ContactDetail.objects.create(
        district=world.district,
        guardian=world.guardian,
        kind="phone",
        value="720-555-0142",
        is_active=False,
    )
    client.force_login(world.teacher)
    page = client.get(
        reverse("students:student_detail", kwargs={"pk": world.student.pk})
    ).content.decode()
    assert "720-555-0142" not in page

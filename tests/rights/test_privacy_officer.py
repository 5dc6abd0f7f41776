"""The privacy officer: a district-scoped role given through the access module. It lets its
holder act on the rights pages for the students of their district, and opens no other page."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from accounts import access
from accounts.models import Role, RoleMembership, User
from accounts.services import role_grant
from privacy.models import AccessLogEntry
from privacy.services import log_shown
from tests import factories
from tests.conftest import World

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("scope", ["school", "section", "student"])
def test_the_privacy_officer_role_fits_a_district_only(world: World, scope: str) -> None:
    target = {"school": world.school, "section": world.section, "student": world.student}[scope]
    membership = RoleMembership(user=world.outsider, role=Role.PRIVACY_OFFICER, **{scope: target})
    with pytest.raises(ValidationError, match="needs exactly one district scope"):
        membership.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        membership.save()
    fitting = RoleMembership(
        user=world.outsider, role=Role.PRIVACY_OFFICER, district=world.district
    )
    fitting.full_clean()


def test_the_privacy_officer_acts_for_their_district_only(world: World, officer: User) -> None:
    assert access.may_act_as_privacy_officer(officer, world.district)
    assert access.may_act_as_privacy_officer(officer, world.district.pk)
    assert not access.may_act_as_privacy_officer(officer, world.other_district)
    assert list(access.districts_with_privacy_office(officer)) == [world.district]
    assert access.privacy_office_for_user(officer, world.district.pk).district == world.district
    grant = access.student_for_privacy_officer(officer, world.other_school_student.pk)
    assert grant.student == world.other_school_student
    assert grant.role == "privacy_officer"
    with pytest.raises(Http404):
        access.student_for_privacy_officer(officer, world.other_district_student.pk)
    with pytest.raises(Http404):
        access.privacy_office_for_user(officer, world.other_district.pk)
    assert set(access.students_for_privacy_officer(officer)) == {
        world.student,
        world.classmate,
        world.other_section_student,
        world.other_school_student,
    }


def test_a_withdrawn_student_is_still_the_privacy_offices(world: World, officer: User) -> None:
    """A family's rights outlast enrolment: the office answers for a student who left."""
    world.student.is_active = False
    world.student.save(update_fields=["is_active"])
    assert access.student_for_privacy_officer(officer, world.student.pk).student == world.student


@pytest.mark.parametrize("role", ["teacher", "principal", "district_staff", "guardian", "outsider"])
def test_no_other_role_is_the_privacy_office(world: World, role: str) -> None:
    user = world.users_by_role()[role]
    assert not access.may_act_as_privacy_officer(user, world.district)
    assert not access.districts_with_privacy_office(user).exists()
    assert not access.students_for_privacy_officer(user).exists()
    with pytest.raises(Http404):
        access.student_for_privacy_officer(user, world.student.pk)
    with pytest.raises(Http404):
        access.privacy_office_for_user(user, world.district.pk)


def test_the_privacy_officer_opens_no_student_page_by_itself(
    client, world: World, officer: User
) -> None:
    assert not access.students_visible_to(officer).exists()
    assert not access.sections_visible_to(officer).exists()
    assert not access.schools_visible_to(officer).exists()
    assert not access.may_search_students(officer)
    assert access.viewer_for(officer).roles == frozenset()
    with pytest.raises(Http404):
        access.student_for_user(officer, world.student.pk)
    client.force_login(officer)
    for url in (
        reverse("students:student_detail", kwargs={"pk": world.student.pk}),
        reverse("students:section_detail", kwargs={"pk": world.section.pk}),
        reverse("students:school_detail", kwargs={"pk": world.school.pk}),
    ):
        assert client.get(url).status_code == 404, url


def test_district_staff_who_is_also_privacy_officer_keeps_staff_sight(world: World) -> None:
    role_grant(user=world.district_staff, role=Role.PRIVACY_OFFICER, district=world.district)
    access.forget_viewer(world.district_staff)
    assert access.may_act_as_privacy_officer(world.district_staff, world.district)
    assert access.student_for_user(world.district_staff, world.student.pk).basis == "district_staff"


def test_the_privacy_office_runs_between_its_dates(world: World) -> None:
    today = timezone.localdate()
    ended = factories.UserFactory.create()
    role_grant(
        user=ended,
        role=Role.PRIVACY_OFFICER,
        district=world.district,
        begin_date=today - dt.timedelta(days=30),
        end_date=today - dt.timedelta(days=1),
    )
    later = factories.UserFactory.create()
    role_grant(
        user=later,
        role=Role.PRIVACY_OFFICER,
        district=world.district,
        begin_date=today + dt.timedelta(days=1),
    )
    assert not access.may_act_as_privacy_officer(ended, world.district)
    assert not access.may_act_as_privacy_officer(later, world.district)
    inactive = factories.UserFactory.create(is_active=False)
    role_grant(user=inactive, role=Role.PRIVACY_OFFICER, district=world.district)
    assert not access.may_act_as_privacy_officer(inactive, world.district)


def test_the_privacy_offices_reads_are_logged_under_its_role_and_purpose(
    world: World, officer: User
) -> None:
    grant = access.student_for_privacy_officer(officer, world.student.pk)
    log_shown(None, grant, what="inspection request", students=[grant.student])
    row = AccessLogEntry.objects.get(student_id=world.student.pk)
    assert row.role == "privacy_officer"
    assert row.purpose == access.PRIVACY_OFFICE_PURPOSE


def test_only_a_guardian_holding_the_childs_rights_exercises_them(world: World) -> None:
    assert access.may_exercise_rights_for(world.parent, world.student)
    # Portal access without educational rights: the child is seen, nothing is asked for them.
    assert access.child_for_guardian(world.other_parent, world.classmate.pk)
    assert not access.may_exercise_rights_for(world.other_parent, world.classmate)
    assert not access.may_exercise_rights_for(world.parent, world.classmate)
    for role in ("teacher", "principal", "district_staff", "outsider"):
        assert not access.may_exercise_rights_for(world.users_by_role()[role], world.student)

"""The annual notice (34 CFR 99.7) and directory information (99.37)."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import User
from rights.models import DirectoryItem, DirectoryOptOut, NoticeAcknowledgement, RightsEvent
from rights.selectors import (
    acknowledgements_of_district,
    current_notice,
    directory_opt_out_of,
    notices_to_acknowledge,
    without_directory_opt_out,
)
from rights.services import (
    RightsRefused,
    directory_opt_out_set,
    directory_opt_out_withdraw,
    notice_acknowledge,
    notice_publish,
)
from students.models import Student
from tests.conftest import World

pytestmark = pytest.mark.django_db

NOTICE_BODY = (
    "You have the right to inspect your child's records within 45 days, to ask us to amend "
    "them, and to consent before we disclose them, with the exceptions the law allows."
)


def publish(world: World, officer: User, **overrides: object):
    fields: dict = {
        "acting_user": officer,
        "district": world.district,
        "school_year": 2027,
        "title": "Annual notice of rights, 2026-2027",
        "body": NOTICE_BODY,
        "directory_information": [DirectoryItem.NAME, DirectoryItem.GRADE_LEVEL],
        **overrides,
    }
    return notice_publish(**fields)


def test_99_7_notice_published_by_the_privacy_office_names_directory_information(
    world: World, officer: User
) -> None:
    notice = publish(world, officer)
    assert current_notice(world.district) == notice
    assert notice.directory_information == ["name", "grade_level"]
    assert notice.published_by == officer
    event = RightsEvent.objects.get(action="notice_published")
    assert (event.actor_user, event.subject_id) == (officer, notice.pk)
    # A correction is a new notice, in force from its publication.
    later = publish(world, officer, title="Corrected notice")
    assert current_notice(world.district) == later


@pytest.mark.parametrize("role", ["teacher", "principal", "district_staff", "guardian", "outsider"])
def test_99_7_only_the_privacy_office_publishes(world: World, role: str) -> None:
    with pytest.raises(RightsRefused):
        publish(world, world.users_by_role()[role])
    assert current_notice(world.district) is None


def test_99_7_a_directory_item_the_rule_does_not_know_is_refused(
    world: World, officer: User
) -> None:
    with pytest.raises(ValidationError, match="Not a directory item"):
        publish(world, officer, directory_information=["name", "grades"])


def test_99_7_notice_acknowledged_with_date(world: World, officer: User) -> None:
    notice = publish(world, officer)
    children = [world.student]
    assert notices_to_acknowledge(world.parent, children) == [notice]
    with time_machine.travel(dt.datetime(2026, 9, 3, 18, 5, tzinfo=dt.UTC), tick=False):
        acknowledgement = notice_acknowledge(acting_user=world.parent, notice=notice)
    assert acknowledgement.acknowledged_at == dt.datetime(2026, 9, 3, 18, 5, tzinfo=dt.UTC)
    assert acknowledgement.user_label == world.parent.email
    assert notices_to_acknowledge(world.parent, children) == []
    # Again, later: the first acknowledgement and its date stand.
    again = notice_acknowledge(acting_user=world.parent, notice=notice)
    assert again.pk == acknowledgement.pk
    assert again.acknowledged_at == dt.datetime(2026, 9, 3, 18, 5, tzinfo=dt.UTC)
    assert list(acknowledgements_of_district(world.district)) == [acknowledgement]
    assert RightsEvent.objects.filter(action="notice_acknowledged").count() == 1
    # For one child too, once.
    for_child = notice_acknowledge(acting_user=world.parent, notice=notice, student=world.student)
    assert for_child.pk != acknowledgement.pk
    assert NoticeAcknowledgement.objects.filter(notice=notice).count() == 2


def test_99_7_acknowledgement_comes_from_a_family_of_the_district(
    world: World, officer: User
) -> None:
    notice = publish(world, officer)
    for user in (world.outsider, world.teacher, world.district_staff, officer):
        with pytest.raises(RightsRefused):
            notice_acknowledge(acting_user=user, notice=notice)
    with pytest.raises(RightsRefused):
        notice_acknowledge(acting_user=world.parent, notice=notice, student=world.classmate)
    assert not NoticeAcknowledgement.objects.exists()


def test_99_37_guardian_opts_out_and_withdraws(world: World) -> None:
    opt_out = directory_opt_out_set(acting_user=world.parent, student=world.student)
    assert directory_opt_out_of(world.student) == opt_out
    assert directory_opt_out_set(acting_user=world.parent, student=world.student) == opt_out
    everyone = Student.objects.filter(district=world.district)
    assert world.student not in without_directory_opt_out(everyone)
    assert world.classmate in without_directory_opt_out(everyone)
    withdrawn = directory_opt_out_withdraw(acting_user=world.parent, student=world.student)
    assert withdrawn is not None and withdrawn.withdrawn_at is not None
    assert directory_opt_out_of(world.student) is None
    assert world.student in without_directory_opt_out(everyone)
    assert directory_opt_out_withdraw(acting_user=world.parent, student=world.student) is None
    # A new opt-out is a new row: the history stays.
    directory_opt_out_set(acting_user=world.parent, student=world.student)
    assert DirectoryOptOut.objects.filter(student=world.student).count() == 2
    assert list(
        RightsEvent.objects.filter(student=world.student)
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["opt_out_set", "opt_out_withdrawn", "opt_out_set"]


def test_99_37_opt_out_is_the_rights_holders_or_the_offices(world: World, officer: User) -> None:
    # Portal access without educational rights; another family's child; staff.
    for user, student in (
        (world.other_parent, world.classmate),
        (world.parent, world.classmate),
        (world.teacher, world.student),
        (world.district_staff, world.student),
    ):
        with pytest.raises(RightsRefused):
            directory_opt_out_set(acting_user=user, student=student)
    # The office records one the family made on paper.
    opt_out = directory_opt_out_set(acting_user=officer, student=world.classmate)
    assert opt_out.set_by == officer
    assert opt_out.set_at <= timezone.now()

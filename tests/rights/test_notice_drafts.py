"""The annual notice as a draft (34 CFR 99.7): written and changed by the privacy office, seen
by no family until it is published; a published notice is never changed."""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import User
from rights.models import AnnualNotice, DirectoryItem, RightsEvent
from rights.selectors import current_notice, notices_to_acknowledge
from rights.services import RightsRefused, notice_draft_publish, notice_draft_save
from tests.conftest import World

pytestmark = pytest.mark.django_db


def _draft(world: World, officer: User, **change: object) -> AnnualNotice:
    fields: dict = {
        "acting_user": officer,
        "district": world.district,
        "school_year": 2027,
        "title": "Your rights",
        "body": "FERPA gives you these rights.",
        "directory_information": [DirectoryItem.NAME],
        **change,
    }
    return notice_draft_save(**fields)


def test_99_7_a_draft_is_no_notice_until_published(world: World, officer: User) -> None:
    draft = _draft(world, officer)
    assert draft.published_at is None
    assert current_notice(world.district) is None
    assert notices_to_acknowledge(world.parent, [world.student]) == []
    changed = _draft(world, officer, notice=draft, body="FERPA gives families these rights.")
    assert changed.pk == draft.pk and changed.body == "FERPA gives families these rights."
    published = notice_draft_publish(acting_user=officer, notice=changed)
    assert published.published_at is not None and published.published_by == officer
    assert current_notice(world.district) == published
    assert notices_to_acknowledge(world.parent, [world.student]) == [published]
    assert list(
        RightsEvent.objects.filter(subject_id=draft.pk)
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["notice_drafted", "notice_drafted", "notice_published"]


def test_99_7_a_published_notice_is_never_changed(world: World, officer: User) -> None:
    published = notice_draft_publish(acting_user=officer, notice=_draft(world, officer))
    with pytest.raises(ValidationError, match="A published notice is not changed"):
        _draft(world, officer, notice=published, body="Changed")
    with pytest.raises(ValidationError, match="published already"):
        notice_draft_publish(acting_user=officer, notice=published)
    published.refresh_from_db()
    assert published.body == "FERPA gives you these rights."


def test_a_draft_is_the_privacy_offices_of_its_own_district(world: World, officer: User) -> None:
    draft = _draft(world, officer)
    for user in (world.district_staff, world.principal, world.parent):
        with pytest.raises(RightsRefused):
            _draft(world, user)
        with pytest.raises(RightsRefused):
            notice_draft_publish(acting_user=user, notice=draft)
    with pytest.raises(RightsRefused):
        _draft(world, officer, district=world.other_district)
    with pytest.raises(ValidationError, match="directory item"):
        _draft(world, officer, directory_information=["shoe_size"])
    assert AnnualNotice.objects.count() == 1

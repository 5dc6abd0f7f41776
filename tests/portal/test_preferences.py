"""A guardian's own preferences (issue 20): language (the pages switch to it at once), alerts
and how the school reaches them. Only the signed-in guardian's own settings change, and only
guardians who follow a child have the page."""

import pytest
from django.urls import reverse

from accounts.models import User
from alerts.models import AlertPreference, Digest
from students.models import (
    ContactMethod,
    ContactTime,
    Guardian,
    GuardianRelationship,
    Relationship,
    Student,
)
from tests import factories
from tests.conftest import World

URL = "/family/preferences/"

CHANGED = {
    "language": "es",
    "same_day_absences": "",  # unchecked
    "digest": "daily",
    "level_threshold": "3",
    "contact_method": "text",
    "contact_time": "evening",
}


def test_the_url_is_the_portals() -> None:
    assert reverse("portal:preferences") == URL


def test_the_page_shows_the_guardians_settings_with_the_defaults(client, world: World) -> None:
    client.force_login(world.parent)
    response = client.get(URL)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["language"] == "en" and form.initial["digest"] == Digest.WEEKLY
    assert form.initial["same_day_absences"] is True and form.initial["level_threshold"] == 2
    # The threshold is chosen among the district's levels (not the lowest: nothing falls below).
    assert [value for value, _ in form.fields["level_threshold"].choices] == [4, 3, 2]
    # Reading it writes nothing: the defaults are saved the first time they change.
    assert not AlertPreference.objects.exists()


def test_saving_changes_only_the_guardians_own_preferences(client, world: World) -> None:
    other_guardian = world.other_parent.guardian_record
    assert other_guardian is not None
    other_before = Guardian.objects.get(pk=other_guardian.pk)
    student_before = Student.objects.filter(pk=world.student.pk).values().get()
    client.force_login(world.parent)
    response = client.post(URL, CHANGED)
    assert response.status_code == 302 and response["Location"] == URL
    parent = User.objects.get(pk=world.parent.pk)
    assert parent.language == "es"
    preference = AlertPreference.objects.get(user=parent)
    assert not preference.same_day_absences
    assert preference.digest == Digest.DAILY and preference.level_threshold == 3
    guardian = Guardian.objects.get(pk=world.guardian.pk)
    assert guardian.contact_method == ContactMethod.TEXT
    assert guardian.contact_time == ContactTime.EVENING
    # Nobody else's, and no record about the child.
    assert AlertPreference.objects.count() == 1
    assert User.objects.get(pk=world.other_parent.pk).language == "en"
    other_after = Guardian.objects.get(pk=other_guardian.pk)
    assert (other_after.contact_method, other_after.contact_time) == (
        other_before.contact_method,
        other_before.contact_time,
    )
    assert Student.objects.filter(pk=world.student.pk).values().get() == student_before
    # The page language switches at once (the login's language, and the cookie set_language
    # would set).
    assert response.cookies["django_language"].value == "es"
    page = client.get(URL)
    assert page["Content-Language"] == "es"
    assert page.context["form"].initial["language"] == "es"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("digest", "hourly"),
        ("language", "fr"),
        ("level_threshold", "1"),  # the lowest level: nothing falls below it
        ("level_threshold", "NaN"),
        ("contact_method", "pigeon"),
    ],
)
def test_bad_input_is_a_400_that_changes_nothing(
    client, world: World, field: str, value: str
) -> None:
    client.force_login(world.parent)
    response = client.post(URL, {**CHANGED, field: value})
    assert response.status_code == 400
    assert f'id="id_{field}' in response.content.decode()
    assert "field-errors" in response.content.decode()
    assert not AlertPreference.objects.exists()
    assert User.objects.get(pk=world.parent.pk).language == "en"


def test_a_contact_restricted_guardian_has_no_preferences_page(client, world: World) -> None:
    guardian = factories.GuardianFactory.create(district=world.district)
    GuardianRelationship.objects.create(
        district=world.district,
        guardian=guardian,
        student=world.student,
        relationship=Relationship.OTHER,
        contact_restricted=True,
    )
    restricted = factories.UserFactory.create(guardian_record=guardian)
    client.force_login(restricted)
    assert client.get(URL).status_code == 404
    assert client.post(URL, CHANGED).status_code == 404
    assert not AlertPreference.objects.exists()


@pytest.mark.parametrize("role", ["teacher", "principal", "district_staff", "outsider"])
def test_staff_have_no_family_preferences(client, world: World, role: str) -> None:
    client.force_login(getattr(world, role))
    assert client.post(URL, CHANGED).status_code == 404
    assert not AlertPreference.objects.exists()


def test_the_portal_links_the_preferences(client, world: World) -> None:
    client.force_login(world.parent)
    html = client.get(URL).content.decode()
    assert f'href="{URL}" aria-current="page"' in html

"""The language of the pages (issue 20, accounts.language): before sign-in the cookie or the
browser chooses; once signed in, the login's own language (User.language), whatever the browser
says; the portal's switcher posts to set_language, which keeps a signed-in user's choice as
theirs; a bad choice is a 400 that names it."""

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.language import user_language_update
from tests.conftest import PASSWORD, World

pytestmark = pytest.mark.django_db

COOKIE = settings.LANGUAGE_COOKIE_NAME


def page_language(response) -> str:
    found = re.search(r'<html lang="([^"]+)"', response.content.decode())
    assert found, "no <html lang>"
    return found.group(1)


def test_before_sign_in_the_browser_chooses(client: Client) -> None:
    response = client.get(reverse("account_login"), headers={"accept-language": "es-MX,es;q=0.9"})
    assert page_language(response) == "es"
    assert response["Content-Language"] == "es"
    response = client.get(reverse("account_login"), headers={"accept-language": "fr,en;q=0.5"})
    assert page_language(response) == "en"


def test_a_signed_in_guardian_reads_their_own_language_whatever_the_browser_says(
    client: Client, world: World
) -> None:
    user_language_update(user=world.parent, language="es")
    client.force_login(world.parent)
    client.cookies[COOKIE] = "en"
    response = client.get(reverse("portal:children"), headers={"accept-language": "en-US"})
    assert page_language(response) == "es"
    assert response["Content-Language"] == "es"
    assert "Mis hijos" in response.content.decode()
    # The cookie follows, so that the sign-in page after signing out stays in Spanish.
    assert response.cookies[COOKIE].value == "es"
    # Once it agrees, it is not set again.
    assert COOKIE not in client.get(reverse("portal:children")).cookies


def test_staff_pages_stay_in_the_staff_members_language(client: Client, world: World) -> None:
    client.force_login(world.teacher)
    response = client.get(reverse("home"), headers={"accept-language": "es"})
    assert page_language(response) == "en"


def test_signing_in_sets_the_logins_language(client: Client, world: World) -> None:
    user_language_update(user=world.parent, language="es")
    response = client.post(
        reverse("account_login"), {"login": world.parent.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.cookies[COOKIE].value == "es"


def test_the_switcher_offers_the_other_language_and_keeps_the_page(
    client: Client, world: World
) -> None:
    client.force_login(world.parent)
    url = reverse("portal:child_progress", kwargs={"pk": world.student.pk})
    page = client.get(url).content.decode()
    form = re.search(r'<form class="language-switcher".*?</form>', page, flags=re.S)
    assert form, "no language switcher"
    switcher = form.group(0)
    assert f'action="{reverse("set_language")}"' in switcher
    assert f'name="next" value="{url}"' in switcher
    assert 'value="es" lang="es">Español</button>' in switcher
    assert 'value="en"' not in switcher  # the page's own language is not offered


def test_choosing_a_language_keeps_it_as_the_guardians(client: Client, world: World) -> None:
    client.force_login(world.parent)
    url = reverse("portal:children")
    response = client.post(reverse("set_language"), {"language": "es", "next": url})
    assert response.status_code == 302 and response["Location"] == url
    assert response.cookies[COOKIE].value == "es"
    world.parent.refresh_from_db()
    assert world.parent.language == "es"
    # The next page, on another device too (no cookie), is in Spanish.
    other_device = Client()
    other_device.force_login(world.parent)
    assert page_language(other_device.get(url)) == "es"


def test_before_sign_in_a_choice_is_only_a_cookie(client: Client, world: World) -> None:
    response = client.post(
        reverse("set_language"), {"language": "es", "next": reverse("account_login")}
    )
    assert response.status_code == 302
    assert response.cookies[COOKIE].value == "es"
    assert page_language(client.get(reverse("account_login"))) == "es"


@pytest.mark.parametrize("language", ["", "fr", "xx-evil", "es" * 200])
def test_a_language_not_of_the_site_is_a_400_that_says_so(
    client: Client, world: World, language: str
) -> None:
    client.force_login(world.parent)
    response = client.post(reverse("set_language"), {"language": language, "next": "/"})
    assert response.status_code == 400
    assert "Unknown language" in response.content.decode()
    world.parent.refresh_from_db()
    assert world.parent.language == "en"


def test_a_next_address_elsewhere_is_not_followed(client: Client) -> None:
    response = client.post(
        reverse("set_language"), {"language": "es", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_set_language_takes_only_a_post(client: Client) -> None:
    assert client.get(reverse("set_language")).status_code == 405

"""Guardians join by invitation (issue 20): a single-use link that expires, emailed in the
family's language from the school's page, or for a family without email a printed letter with a
short code redeemed on a public page; the school's principal and district staff send them, no
one else; and a forgotten password is reset by email through allauth."""

import datetime as dt
import json
import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import formats, timezone, translation

from accounts.access import may_invite_guardians_of, students_visible_to
from accounts.models import Invitation, User
from accounts.services import (
    InvitationError,
    invitation_letter_create,
    invitation_redeem_code,
    invitation_send,
    language_code,
)
from privacy.models import AccessLogEntry
from students.models import (
    ContactDetail,
    ContactKind,
    Guardian,
    GuardianRelationship,
    Relationship,
    Student,
)
from tests import factories
from tests.conftest import PASSWORD, World

NEW_PASSWORD = "Another-Trellis-pw-77"


def _guardian(
    world: World,
    *,
    student: Student | None = None,
    language: str = "",
    email: str | None = "family@example.test",
    restricted: bool = False,
) -> Guardian:
    guardian = factories.GuardianFactory.create(district=world.district, language=language)
    GuardianRelationship.objects.create(
        district=world.district,
        guardian=guardian,
        student=student or world.student,
        relationship=Relationship.FATHER,
        portal_access=not restricted,
        contact_restricted=restricted,
    )
    if email:
        ContactDetail.objects.create(
            district=world.district,
            guardian=guardian,
            kind=ContactKind.EMAIL,
            value=email,
            is_primary=True,
        )
    return guardian


def _link_in(body: object) -> str:
    found = re.search(r"https?://\S+/invitations/\S+/", str(body))
    assert found, body
    return found.group(0)


def _spanish_date(moment: dt.datetime) -> str:
    with translation.override("es"):
        return formats.date_format(timezone.localtime(moment).date(), "DATE_FORMAT")


def _page(world: World) -> str:
    return reverse("students:school_invitations", kwargs={"pk": world.school.pk})


# --- The services.


@pytest.mark.parametrize(
    ("written", "code"),
    [("Spanish", "es"), ("español", "es"), ("es-MX", "es"), ("English", "en"), ("Klingon", "en")],
)
def test_a_records_language_becomes_one_of_the_sites(written: str, code: str) -> None:
    assert language_code(written) == code


def test_an_invitation_is_emailed_in_the_guardians_language(world: World) -> None:
    guardian = _guardian(world, language="Spanish")
    invitation, token = invitation_send(
        guardian=guardian, email="Papa@Example.test", acting_user=world.principal
    )
    assert invitation.language == "es" and invitation.sent_at is not None
    [message] = mail.outbox
    assert message.to == ["papa@example.test"]
    assert message.extra_headers["Content-Language"] == "es"
    # Rendered in Spanish: the date as Spanish writes it (the words come from locale/).
    assert _spanish_date(invitation.expires_at) in message.body
    assert _link_in(message.body).endswith(reverse("invitation_accept", kwargs={"token": token}))


def test_the_language_chosen_when_inviting_wins_and_the_login_keeps_it(
    client, world: World
) -> None:
    guardian = _guardian(world, language="Spanish")
    invitation, _ = invitation_send(guardian=guardian, email="dad@example.test", language="en")
    assert invitation.language == "en"
    assert mail.outbox[0].extra_headers["Content-Language"] == "en"
    assert "Hello" in mail.outbox[0].body
    link = _link_in(mail.outbox[0].body)
    response = client.post(
        link.removeprefix("http://127.0.0.1:8000"),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    user = User.objects.get(email="dad@example.test")
    assert user.language == "en" and user.guardian_record == guardian
    assert EmailAddress.objects.get(user=user).verified


def test_sending_again_replaces_the_pending_invitation(client, world: World) -> None:
    guardian = _guardian(world)
    first, first_token = invitation_send(guardian=guardian, email="a@example.test")
    second, second_token = invitation_send(guardian=guardian, email="a@example.test")
    first.refresh_from_db()
    assert first.revoked_at is not None and second.is_usable
    assert (
        client.get(reverse("invitation_accept", kwargs={"token": first_token})).status_code == 404
    )
    assert (
        client.get(reverse("invitation_accept", kwargs={"token": second_token})).status_code == 200
    )


def test_a_contact_restricted_guardian_is_sent_nothing(world: World) -> None:
    guardian = _guardian(world, restricted=True)
    with pytest.raises(InvitationError, match="contact-restricted"):
        invitation_send(guardian=guardian, email="no@example.test")
    with pytest.raises(InvitationError, match="contact-restricted"):
        invitation_letter_create(guardian=guardian)
    assert not mail.outbox and not Invitation.objects.filter(guardian=guardian).exists()


def test_a_letters_code_works_once_and_makes_the_login(client, world: World) -> None:
    guardian = _guardian(world, email=None, language="Spanish")
    invitation, code = invitation_letter_create(guardian=guardian, acting_user=world.principal)
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    assert invitation.is_letter and invitation.email == ""
    assert invitation.code_hash == Invitation.hash_code(code) and code not in str(invitation)
    url = reverse("invitation_redeem")
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            # Typed by hand: case and dashes do not matter.
            "code": code.lower().replace("-", " "),
            "email": "Abuela@Example.test",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="abuela@example.test")
    assert user.guardian_record == guardian and user.language == "es"
    assert list(students_visible_to(user)) == [world.student]
    # Signed in, and asked to confirm the address they typed (allauth's email, in Spanish).
    assert client.get(reverse("home")).wsgi_request.user == user
    assert not EmailAddress.objects.get(user=user).verified
    [confirmation] = mail.outbox
    assert confirmation.to == ["abuela@example.test"]
    invitation.refresh_from_db()
    assert invitation.accepted_user == user and invitation.email == "abuela@example.test"
    client.logout()
    again = client.post(
        url,
        {
            "code": code,
            "email": "other@example.test",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert again.status_code == 400 and "not valid" in again.content.decode()
    assert not User.objects.filter(email="other@example.test").exists()


def test_an_expired_code_is_refused(client, world: World) -> None:
    guardian = _guardian(world, email=None)
    invitation, code = invitation_letter_create(guardian=guardian)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    with pytest.raises(InvitationError, match="not valid"):
        invitation_redeem_code(code=code, email="late@example.test", password=NEW_PASSWORD)
    response = client.post(
        reverse("invitation_redeem"),
        {
            "code": code,
            "email": "late@example.test",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 400
    assert not User.objects.filter(email="late@example.test").exists()


def test_a_code_is_not_a_link_and_a_link_is_not_a_code(client, world: World) -> None:
    guardian = _guardian(world, email=None)
    _, code = invitation_letter_create(guardian=guardian)
    assert client.get(reverse("invitation_accept", kwargs={"token": code})).status_code == 404


def test_the_redeem_page_names_a_bad_field(client, world: World) -> None:
    response = client.post(
        reverse("invitation_redeem"),
        {"code": "", "email": "not an email", "password1": "a", "password2": "b"},
    )
    assert response.status_code == 400
    assert "Enter a valid email address" in response.content.decode()


# --- Who may invite: accounts.access.


def test_who_may_invite_a_childs_guardians(world: World) -> None:
    assert may_invite_guardians_of(world.principal, world.student)
    assert may_invite_guardians_of(world.district_staff, world.student)
    assert not may_invite_guardians_of(world.other_principal, world.student)
    assert not may_invite_guardians_of(world.teacher, world.student)
    assert not may_invite_guardians_of(world.parent, world.student)
    assert not may_invite_guardians_of(world.outsider, world.student)


# --- The school's page.


def test_the_school_page_lists_guardians_and_their_state(client, world: World) -> None:
    invited = _guardian(world, student=world.classmate)
    invitation_send(guardian=invited, email="invited@example.test")
    without_email = _guardian(world, email=None)
    not_yet = _guardian(world)
    client.force_login(world.principal)
    response = client.get(_page(world))
    assert response.status_code == 200
    rows = {row.guardian.pk: row.state for row in response.context["listing"].rows}
    assert rows[world.guardian.pk] == "joined"  # world.parent signed in already
    assert rows[invited.pk] == "invited"
    assert rows[without_email.pk] == "no_email"
    assert rows[not_yet.pk] == "not_invited"
    assert response.context["listing"].counts["no_email"] == 1
    # The children's names it shows are logged, as any page's.
    shown = set(
        AccessLogEntry.objects.filter(what="school: guardian invitations").values_list(
            "student_id", flat=True
        )
    )
    assert {world.student.pk, world.classmate.pk} <= shown
    filtered = client.get(_page(world), {"state": "no_email"})
    assert [row.guardian.pk for row in filtered.context["listing"].rows] == [without_email.pk]


def test_the_school_page_emails_an_invitation_in_the_language_chosen(client, world: World) -> None:
    guardian = _guardian(world)
    client.force_login(world.district_staff)
    response = client.post(
        _page(world),
        {
            "action": "email",
            "guardian": guardian.pk,
            "email": "mama@example.test",
            "language": "es",
        },
    )
    assert response.status_code == 302
    [message] = mail.outbox
    invitation = Invitation.objects.get(guardian=guardian)
    assert message.to == ["mama@example.test"] and message.extra_headers["Content-Language"] == "es"
    assert _spanish_date(invitation.expires_at) in message.body
    assert invitation.created_by == world.district_staff and invitation.language == "es"
    listing = client.get(_page(world)).context["listing"]
    assert {row.guardian.pk: row.state for row in listing.rows}[guardian.pk] == "invited"


def test_the_school_page_prints_a_letter_with_a_working_code(client, world: World) -> None:
    guardian = _guardian(world, email=None, language="Spanish")
    client.force_login(world.principal)
    response = client.post(
        _page(world), {"action": "letter", "guardian": guardian.pk, "email": "", "language": "es"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    found = re.search(r'class="letter-code">([A-Z2-9-]{14})<', html)
    assert found is not None
    code = found.group(1)
    assert reverse("invitation_redeem") in html
    # The letter in the family's language (the page around it in the staff's).
    assert '<article class="invitation-letter" lang="es"' in html
    invitation = Invitation.objects.get(guardian=guardian)
    assert _spanish_date(invitation.expires_at) in html
    assert not mail.outbox
    user = invitation_redeem_code(code=code, email="tio@example.test", password=NEW_PASSWORD)
    assert user.guardian_record == guardian


@pytest.mark.parametrize("role", ["teacher", "other_principal", "parent", "outsider"])
def test_only_the_schools_principal_and_district_staff_invite(
    client, world: World, role: str
) -> None:
    guardian = _guardian(world)
    client.force_login(getattr(world, role))
    response = client.post(
        _page(world),
        {"action": "email", "guardian": guardian.pk, "email": "x@example.test", "language": "en"},
    )
    assert response.status_code == 404
    assert not Invitation.objects.filter(guardian=guardian).exists() and not mail.outbox


def test_a_guardian_of_another_school_is_not_found_here(client, world: World) -> None:
    elsewhere = _guardian(world, student=world.other_school_student)
    client.force_login(world.principal)
    response = client.post(
        _page(world),
        {"action": "email", "guardian": elsewhere.pk, "email": "x@example.test", "language": "en"},
    )
    assert response.status_code == 404
    assert not Invitation.objects.filter(guardian=elsewhere).exists()


@pytest.mark.parametrize(
    ("form", "named"),
    [
        ({"action": "email", "guardian": "1", "email": "", "language": "en"}, "email"),
        ({"action": "email", "guardian": "x", "email": "a@b.test", "language": "en"}, "guardian"),
        ({"action": "fax", "guardian": "1", "email": "a@b.test", "language": "en"}, "action"),
        ({"action": "email", "guardian": "1", "email": "a@b.test", "language": "fr"}, "language"),
    ],
)
def test_bad_input_on_the_school_page_is_a_400_naming_it(
    client, world: World, form: dict, named: str
) -> None:
    client.force_login(world.principal)
    response = client.post(_page(world), form)
    assert response.status_code == 400
    assert named in response.content.decode()


def test_inviting_a_guardian_who_joined_already_is_a_clear_400(client, world: World) -> None:
    client.force_login(world.principal)
    response = client.post(
        _page(world),
        {
            "action": "email",
            "guardian": world.guardian.pk,
            "email": "x@example.test",
            "language": "en",
        },
    )
    assert response.status_code == 400 and "already has a login" in response.content.decode()


def test_a_bad_filter_is_a_400(client, world: World) -> None:
    client.force_login(world.principal)
    assert client.get(_page(world), {"state": "nonsense"}).status_code == 400
    assert client.get(_page(world), {"page": "-1"}).status_code == 400


# --- The command, as README documents it.


def test_invite_guardian_emails_and_prints_the_link(client, world: World, capsys) -> None:
    guardian = _guardian(world, language="Spanish")
    call_command("invite_guardian", str(guardian.pk), "cmd@example.test", "--json")
    payload = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert payload["emailed"] is True and payload["language"] == "es"
    [message] = mail.outbox
    assert _link_in(message.body) == payload["link"]
    assert client.get(payload["link"].removeprefix("http://127.0.0.1:8000")).status_code == 200


def test_invite_guardian_can_only_print(world: World, capsys) -> None:
    guardian = _guardian(world)
    call_command(
        "invite_guardian", str(guardian.pk), "quiet@example.test", "--no-email", "--language", "en"
    )
    out = capsys.readouterr().out
    assert "/invitations/" in out and not mail.outbox


# --- Account recovery: allauth's password reset, end to end.


def test_a_guardian_resets_a_forgotten_password_by_email(client, world: World) -> None:
    parent = world.parent
    parent.language = "es"
    parent.save(update_fields=["language"])
    EmailAddress.objects.update_or_create(
        user=parent, email=parent.email, defaults={"verified": True, "primary": True}
    )
    response = client.post(reverse("account_reset_password"), {"email": parent.email})
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == [parent.email]
    # In the guardian's language (allauth's own Spanish catalog).
    text = f"{message.subject}\n{message.body}"
    assert "contraseña" in text.lower()
    found = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", text)
    assert found is not None
    link = found.group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    post_to = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link
    done = client.post(post_to, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302
    client.logout()
    assert not client.login(email=parent.email, password=PASSWORD)
    signed_in = client.post(
        reverse("account_login"), {"login": parent.email, "password": NEW_PASSWORD}
    )
    assert signed_in.status_code == 302
    assert client.get(reverse("home")).wsgi_request.user == parent


def test_the_school_page_reads_a_fixed_number_of_queries(client, world: World) -> None:
    """However many guardians a page lists, the same queries (no query per row)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(world.principal)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(_page(world)).status_code == 200
        return len(captured)

    _guardian(world)
    few = queries()
    for number in range(6):
        guardian = _guardian(
            world, student=world.classmate, email=None if number % 2 else "a@b.test"
        )
        if number % 3 == 0:
            invitation_letter_create(guardian=guardian)
    assert queries() == few


def test_a_printed_letter_shows_as_invited_by_letter(client, world: World) -> None:
    guardian = _guardian(world, email=None)
    invitation_letter_create(guardian=guardian, acting_user=world.principal)
    client.force_login(world.principal)
    response = client.get(_page(world), {"state": "invited"})
    [row] = response.context["listing"].rows
    assert row.guardian == guardian
    assert row.invitation is not None and row.invitation.is_letter
    assert "Letter printed on" in response.content.decode()


# --- The language switcher on the pages before sign-in.


def _switcher(page: str) -> str:
    found = re.search(r'<form class="language-switcher".*?</form>', page, flags=re.S)
    assert found, "no language switcher"
    return found.group(0)


@pytest.mark.parametrize("page", ["account_login", "invitation_redeem"])
def test_the_sign_in_and_join_pages_offer_the_other_language_named_in_it(
    client, world: World, page: str
) -> None:
    url = reverse(page)
    switcher = _switcher(client.get(url).content.decode())
    assert f'name="next" value="{url}"' in switcher
    assert 'value="es" lang="es">Español</button>' in switcher
    client.post(reverse("set_language"), {"language": "es", "next": url})
    spanish = client.get(url).content.decode()
    assert '<html lang="es"' in spanish
    assert 'value="en" lang="en">English</button>' in _switcher(spanish)


def test_a_link_opens_in_the_invitations_language_and_the_guardian_may_switch_it(
    client, world: World
) -> None:
    guardian = _guardian(world, language="Spanish")
    _, token = invitation_send(guardian=guardian, email="mama@example.test")
    url = reverse("invitation_accept", kwargs={"token": token})
    page = client.get(url).content.decode()
    assert '<html lang="es"' in page and "Crear la cuenta" in page
    assert 'value="en" lang="en">English</button>' in _switcher(page)
    # She switches to English: the page, and then her login, are in English.
    client.post(reverse("set_language"), {"language": "en", "next": url})
    english = client.get(url).content.decode()
    assert "Create account" in english
    response = client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert User.objects.get(email="mama@example.test").language == "en"


def test_a_code_redeemed_after_choosing_a_language_keeps_that_language(
    client, world: World
) -> None:
    guardian = _guardian(world, email=None, language="English")
    _, code = invitation_letter_create(guardian=guardian, acting_user=world.principal)
    client.post(reverse("set_language"), {"language": "es", "next": "/join/"})
    response = client.post(
        reverse("invitation_redeem"),
        {
            "code": code,
            "email": "tio@example.test",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert User.objects.get(email="tio@example.test").language == "es"

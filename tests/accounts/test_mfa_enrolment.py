"""Two-factor enrolment starts from a link emailed to the login's own address, never from the
password alone; staff who have a factor keep it; an administrator's reset is recorded and logged
whoever does it; the demo keeps MFA off.

Every test drives the real pages with the test client, with TRELLIS_REQUIRE_STAFF_MFA on as in
production unless it says otherwise. The project's new names are imported inside the tests, so
that on the code before this change each test fails at the behaviour it checks."""

import datetime as dt
import io
import json
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from accounts.models import User
from students.models import SectionAssignment, Staff
from tests import factories
from tests.conftest import PASSWORD, World

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
ACTIVATE_TOTP = "/accounts/2fa/totp/activate/"
ENROLMENT_NEEDED = "/two-factor/"
LINK = re.compile(r"https?://[^/\s]+(/two-factor/enrol/[^/\s]+/)")


@pytest.fixture(autouse=True)
def _fresh_used_codes() -> None:
    """allauth remembers used TOTP codes per user id in the cache; ids repeat across tests."""
    cache.clear()


@pytest.fixture
def mfa_required(settings):
    settings.TRELLIS_REQUIRE_STAFF_MFA = True
    return settings


def _code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def _sign_in(
    client: Client, email: str, password: str = PASSWORD, page: str = "/accounts/login/"
) -> str:
    response = client.post(page, {"login": email, "password": password})
    assert response.status_code == 302, response.content[:2000]
    return response["Location"]


def _reauthenticate(client: Client, password: str = PASSWORD) -> None:
    response = client.post("/accounts/reauthenticate/", {"password": password})
    assert response.status_code == 302


def _enrol_totp(client: Client, password: str = PASSWORD) -> str:
    """Set up TOTP as a person would: the set-up page (after allauth's password check), then a
    code from the secret the page showed. Returns the secret."""
    response = client.get(ACTIVATE_TOTP)
    if response.status_code == 302 and "/reauthenticate/" in response["Location"]:
        _reauthenticate(client, password)
        response = client.get(ACTIVATE_TOTP)
    assert response.status_code == 200
    secret = client.session["mfa.totp.secret"]
    assert secret in response.content.decode()
    response = client.post(ACTIVATE_TOTP, {"code": _code(secret)})
    assert response.status_code == 302
    return secret


def _link_path(message_body: str) -> str:
    match = LINK.search(message_body)
    assert match, message_body
    return match.group(1)


def _teaching_staff(world: World, number: str) -> Staff:
    staff = factories.StaffFactory.create(district=world.district, staff_number=number)
    SectionAssignment.objects.create(district=world.district, staff=staff, section=world.section)
    return staff


def test_a_password_alone_never_reaches_the_set_up_of_a_factor(
    client, mfa_required, world: World
) -> None:
    """Whoever first holds a staff member's password (a colleague, whoever read it over their
    shoulder, IT who set it) signs in and tries to enrol their own phone."""
    assert _sign_in(client, world.teacher.email) == "/"
    assert client.get("/")["Location"] == ENROLMENT_NEEDED
    # Straight to the set-up, even after confirming the password as allauth asks: refused.
    _reauthenticate(client)
    for path in (
        ACTIVATE_TOTP,
        "/accounts/2fa/",
        "/accounts/2fa/webauthn/add/",
        "/accounts/2fa/recovery-codes/generate/",
        # Nor may they take over the account's mailbox or password meanwhile.
        "/accounts/email/",
        "/accounts/password/change/",
    ):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == ENROLMENT_NEEDED, path
    response = client.post(ACTIVATE_TOTP, {"code": "123456"})
    assert response["Location"] == ENROLMENT_NEEDED
    assert not Authenticator.objects.filter(user=world.teacher).exists()
    # They are told what to do instead, and may still sign out.
    page = client.get(ENROLMENT_NEEDED)
    assert page.status_code == 200
    text = page.content.decode()
    assert world.teacher.email in text and "district IT" in text
    assert "otpauth" not in text
    assert client.post("/accounts/logout/").status_code == 302


def test_the_emailed_link_opens_enrolment(
    client, mfa_required, world: World, mailoutbox, capsys
) -> None:
    from accounts.models import MFAEnrolmentInvitation

    _teaching_staff(world, "T-900")
    call_command("invite_staff", "T-900", "--json", "--base-url", "https://trellis.example.org")
    output = capsys.readouterr().out
    row = json.loads(output.strip().splitlines()[-1])["logins"][0]
    user = User.objects.get(pk=row["user"])
    assert not user.has_usable_password()
    assert row["enrolment"]["sent"] is True and row["enrolment"]["expires_at"]
    # The link went to the login's own mailbox, and only there: never printed.
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [user.email]
    assert "https://trellis.example.org/two-factor/enrol/" in mailoutbox[0].body
    link = _link_path(mailoutbox[0].body)
    assert link not in output
    invitation = MFAEnrolmentInvitation.objects.get(user=user)
    assert invitation.token_hash not in mailoutbox[0].body and invitation.sent_at is not None

    # Opening it shows a form and spends nothing (a mail scanner may open links).
    assert client.get(link).status_code == 200
    page = client.get(link)
    assert b'name="password1"' in page.content and user.email.encode() in page.content
    response = client.post(
        link, {"password1": "Long-enough-pw-42", "password2": "Long-enough-pw-42"}
    )
    assert response.status_code == 302 and response["Location"] == ACTIVATE_TOTP
    secret = _enrol_totp(client, "Long-enough-pw-42")
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert client.get("/").status_code == 200
    # Spent: the same link works no more.
    assert client.get(link).status_code == 404

    # From now on they sign in with the password and a code.
    client.logout()
    assert _sign_in(client, user.email, "Long-enough-pw-42") == "/accounts/2fa/authenticate/"
    response = client.post("/accounts/2fa/authenticate/", {"code": _code(secret)})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_a_login_with_a_password_signs_in_after_opening_the_link(
    client, mfa_required, world: World, mailoutbox
) -> None:
    call_command("send_mfa_enrolment", world.teacher.email, stdout=io.StringIO())
    link = _link_path(mailoutbox[0].body)
    page = client.get(link)
    assert page.status_code == 200 and b'name="password' not in page.content
    response = client.post(link)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    # Signing in with the password now leads to the set-up, in this browser only.
    assert _sign_in(client, world.teacher.email, page=response["Location"]) == ACTIVATE_TOTP
    assert client.get("/")["Location"] == ACTIVATE_TOTP
    password_only = Client()
    _sign_in(password_only, world.teacher.email)
    assert password_only.get(ACTIVATE_TOTP)["Location"] == ENROLMENT_NEEDED
    _enrol_totp(client)
    assert Authenticator.objects.filter(user=world.teacher, type="totp").exists()
    assert client.get("/").status_code == 200


def test_a_signed_in_staff_member_can_open_their_link(
    client, mfa_required, world: World, mailoutbox
) -> None:
    assert _sign_in(client, world.teacher.email) == "/"
    call_command("send_mfa_enrolment", world.teacher.email, stdout=io.StringIO())
    response = client.post(_link_path(mailoutbox[0].body))
    assert response["Location"] == ACTIVATE_TOTP
    # Pages other than the set-up now send them to it (they have not enrolled yet).
    assert client.get("/")["Location"] == ACTIVATE_TOTP
    _enrol_totp(client)
    assert client.get("/").status_code == 200


def test_the_link_is_single_use_expires_and_is_replaced(
    client, mfa_required, world: World, mailoutbox
) -> None:
    from accounts.models import MFAEnrolmentInvitation

    assert client.get("/two-factor/enrol/not-a-token/").status_code == 404
    call_command("send_mfa_enrolment", world.teacher.email, stdout=io.StringIO())
    first = _link_path(mailoutbox[0].body)
    call_command("send_mfa_enrolment", world.teacher.email, stdout=io.StringIO())
    second = _link_path(mailoutbox[1].body)
    # A new link replaces the pending one.
    assert client.get(first).status_code == 404
    assert client.post(first).status_code == 404
    # Used once, then never again (not even by its owner, nor by another browser).
    assert client.post(second).status_code == 302
    assert client.get(second).status_code == 404
    assert Client().post(second).status_code == 404
    # Expired: refused.
    call_command("send_mfa_enrolment", world.other_teacher.email, stdout=io.StringIO())
    late = _link_path(mailoutbox[2].body)
    MFAEnrolmentInvitation.objects.filter(user=world.other_teacher).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    assert Client().get(late).status_code == 404
    assert Client().post(late).status_code == 404
    # The page staff are sent to says none is waiting.
    other = Client()
    _sign_in(other, world.other_teacher.email)
    assert b"No link is waiting" in other.get(ENROLMENT_NEEDED).content
    # A link whose owner has enrolled since (by another link) opens nothing.
    call_command("send_mfa_enrolment", world.principal.email, stdout=io.StringIO())
    stale = _link_path(mailoutbox[3].body)
    TOTP.activate(world.principal, "JBSWY3DPEHPK3PXP")
    assert Client().get(stale).status_code == 404


def test_enrolled_staff_keep_their_factor_and_sign_in_as_before(
    client, mfa_required, world: World, mailoutbox, capsys
) -> None:
    from accounts.services import staff_login_provision

    secret = "JBSWY3DPEHPK3PXP"
    TOTP.activate(world.teacher, secret)
    RecoveryCodes.activate(world.teacher)
    factors = Authenticator.objects.filter(user=world.teacher).order_by("pk")
    before = list(factors.values_list("pk", "type", "data"))
    # Provisioned again (as an import or IT may): nothing sent, nothing changed.
    staff = Staff.objects.get(user=world.teacher)
    staff_login_provision(staff=staff, email=world.teacher.email)
    assert mailoutbox == []
    with pytest.raises(CommandError, match="Already set up"):
        call_command("send_mfa_enrolment", world.teacher.email)
    assert list(factors.values_list("pk", "type", "data")) == before
    # invite_staff for someone who enrolled since their link: no new link.
    _teaching_staff(world, "T-903")
    call_command("invite_staff", "T-903", "--json")
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["logins"][0]
    assert first["enrolment"]["sent"] is True and len(mailoutbox) == 1
    TOTP.activate(User.objects.get(pk=first["user"]), secret)
    call_command("invite_staff", "T-903", "--json")
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["logins"][0]
    assert again["user"] == first["user"] and again["enrolment"] is None
    assert len(mailoutbox) == 1
    assert Authenticator.objects.filter(user_id=first["user"]).count() == 1
    # Password, then a code, then every page as before.
    assert _sign_in(client, world.teacher.email) == "/accounts/2fa/authenticate/"
    assert client.post("/accounts/2fa/authenticate/", {"code": _code(secret)}).status_code == 302
    assert client.get("/").status_code == 200
    assert client.get("/accounts/2fa/").status_code == 200


def test_a_guardian_is_unaffected(client, mfa_required, world: World, mailoutbox) -> None:
    assert _sign_in(client, world.parent.email) == "/"
    # Home is the family portal, reached without a second factor.
    assert client.get("/")["Location"] == "/family/"
    assert client.get("/family/").status_code == 200
    # Two-factor stays theirs to choose, straight from their account.
    _reauthenticate(client)
    assert client.get(ACTIVATE_TOTP).status_code == 200
    page = client.get(ENROLMENT_NEEDED)
    assert page.status_code == 200 and b"needs nothing more" in page.content
    assert mailoutbox == []


def _admin(world: World, *, superuser: bool) -> User:
    admin_user = factories.UserFactory.create(
        email=f"{'root' if superuser else 'helpdesk'}@example.test",
        is_staff=True,
        is_superuser=superuser,
    )
    if not superuser:
        admin_user.user_permissions.add(
            *Permission.objects.filter(codename__in=["view_user", "change_user"])
        )
    TOTP.activate(admin_user, "JBSWY3DPEHPK3PXQ")
    return User.objects.get(pk=admin_user.pk)


def _admin_reset(client: Client, users: list[User], reason: str) -> Any:
    data = {"action": "reset_two_factor", "_selected_action": [u.pk for u in users]}
    confirm = client.post("/admin/accounts/user/", data)
    assert confirm.status_code == 200
    assert all(u.email.encode() in confirm.content for u in users)
    assert b'name="reason"' in confirm.content
    return client.post("/admin/accounts/user/", {**data, "apply": "1", "reason": reason})


def test_an_admin_reset_removes_the_factors_is_recorded_and_sends_a_new_link(
    client, mfa_required, world: World, mailoutbox, caplog
) -> None:
    from accounts.models import MFAResetRecord
    from privacy.models import AppendOnlyError

    TOTP.activate(world.teacher, "JBSWY3DPEHPK3PXP")
    RecoveryCodes.activate(world.teacher)
    teacher_session = Client()
    teacher_session.force_login(world.teacher)
    assert teacher_session.get("/").status_code == 200
    root = _admin(world, superuser=True)
    client.force_login(root)
    # Without a reason nothing happens.
    _admin_reset(client, [world.teacher], "")
    assert Authenticator.objects.filter(user=world.teacher).count() == 2
    assert not MFAResetRecord.objects.exists() and mailoutbox == []

    started = timezone.now()
    with caplog.at_level(logging.INFO, logger="accounts.services"):
        response = _admin_reset(client, [world.teacher], "Lost phone, confirmed by a call")
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=world.teacher).exists()
    record = MFAResetRecord.objects.get()
    assert (record.user, record.by, record.via) == (world.teacher, root, "admin")
    assert record.user_email == world.teacher.email and record.by_label == root.email
    assert record.reason == "Lost phone, confirmed by a call"
    assert record.removed == "recovery_codes, totp"
    assert started <= record.at <= timezone.now()
    assert any(
        "two-factor reset" in r.getMessage()
        and f"user={world.teacher.pk}" in r.getMessage()
        and root.email in r.getMessage()
        for r in caplog.records
        if r.levelno == logging.INFO
    )
    # Also in the user's admin history.
    history = LogEntry.objects.get(object_id=str(world.teacher.pk), user=root)
    assert "Reset two-factor authentication" in history.get_change_message()
    # The record stays as written.
    with pytest.raises(AppendOnlyError):
        record.save()
    with pytest.raises(AppendOnlyError):
        MFAResetRecord.objects.all().delete()
    # The teacher's open session is stopped at the enrolment page; the new link opens enrolment.
    assert teacher_session.get("/")["Location"] == ENROLMENT_NEEDED
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [world.teacher.email]
    link = _link_path(mailoutbox[0].body)
    assert record.invitation is not None and record.invitation.user == world.teacher
    assert teacher_session.post(link)["Location"] == ACTIVATE_TOTP
    _enrol_totp(teacher_session)
    assert teacher_session.get("/").status_code == 200
    # The admin shows the records and the factors, and changes neither.
    assert client.get("/admin/accounts/mfaresetrecord/").status_code == 200
    assert client.get(f"/admin/accounts/mfaresetrecord/{record.pk}/delete/").status_code == 403
    factor = Authenticator.objects.filter(user=world.teacher).first()
    assert factor is not None
    assert client.get("/admin/mfa/authenticator/").status_code == 200
    assert client.get(f"/admin/mfa/authenticator/{factor.pk}/delete/").status_code == 403
    assert client.get("/admin/mfa/authenticator/add/").status_code == 403


def test_a_reset_is_recorded_whoever_performs_it(
    client, mfa_required, world: World, mailoutbox
) -> None:
    from accounts.models import MFAResetRecord

    TOTP.activate(world.teacher, "JBSWY3DPEHPK3PXP")
    TOTP.activate(world.principal, "JBSWY3DPEHPK3PXP")
    root = _admin(world, superuser=True)
    helpdesk = _admin(world, superuser=False)
    client.force_login(helpdesk)
    assert _admin_reset(client, [world.teacher], "New phone").status_code == 302
    record = MFAResetRecord.objects.get(user=world.teacher)
    assert record.by == helpdesk and record.by_label == helpdesk.email
    # A superuser's factors are a superuser's to reset.
    _admin_reset(client, [root], "Trying")
    assert Authenticator.objects.filter(user=root).exists()
    assert not MFAResetRecord.objects.filter(user=root).exists()
    # From the command line: recorded with the command as its author.
    with pytest.raises(CommandError, match="--reason"):
        call_command("send_mfa_enrolment", world.principal.email, "--reset")
    out = io.StringIO()
    call_command(
        "send_mfa_enrolment",
        world.principal.email,
        "--reset",
        "--reason",
        "Phone stolen",
        "--json",
        stdout=out,
    )
    row = json.loads(out.getvalue().strip().splitlines()[-1])["enrolments"][0]
    record = MFAResetRecord.objects.get(user=world.principal)
    assert row["reset"] == record.pk and row["sent"] is True
    assert record.by is None and record.via == "command" and record.reason == "Phone stolen"
    assert "send_mfa_enrolment" in record.by_label and record.removed == "totp"
    assert not Authenticator.objects.filter(user=world.principal).exists()
    assert [m.to for m in mailoutbox] == [[world.teacher.email], [world.principal.email]]
    assert _link_path(mailoutbox[1].body) not in out.getvalue()


def test_a_link_that_could_not_be_sent_is_reported_never_printed(
    mfa_required, world: World, monkeypatch, capsys
) -> None:
    import accounts.services

    def unreachable(*args: object, **kwargs: object) -> int:
        raise ConnectionRefusedError("no mail server")

    monkeypatch.setattr(accounts.services, "send_mail", unreachable)
    _teaching_staff(world, "T-901")
    call_command("invite_staff", "T-901")
    output = capsys.readouterr().out
    assert "NOT sent" in output and "/two-factor/enrol/" not in output


def test_the_demo_keeps_mfa_off(client, world: World, mailoutbox) -> None:
    from accounts.models import MFAEnrolmentInvitation
    from accounts.services import staff_login_provision

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TRELLIS_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        TRELLIS_FIELD_KEYS="014296wCps317de8kY2oT6xHcoQ6miwZXbYZSEyA5V8=",
        TRELLIS_HMAC_KEY="dGVzdC1obWFjLWtleS1ub3Qtc2VjcmV0LTAxMjM0NTY=",
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.TRELLIS_REQUIRE_STAFF_MFA)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"
    # As the demo's logins are made (demo.district.logins_step), with MFA off as in the demo:
    # no link, no mail, and the password alone signs in to every page.
    staff = _teaching_staff(world, "T-902")
    user = staff_login_provision(staff=staff, email="demo-teacher@example.test", password=PASSWORD)
    assert not MFAEnrolmentInvitation.objects.filter(user=user).exists()
    assert mailoutbox == []
    assert _sign_in(client, user.email) == "/"
    assert client.get("/").status_code == 200
    assert b"needs nothing more" in client.get(ENROLMENT_NEEDED).content

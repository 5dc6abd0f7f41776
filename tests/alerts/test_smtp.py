"""Families' emails through a real SMTP server that the test starts (aiosmtpd), with Django's SMTP
backend pointed at it: what arrived is read back as the mail system would — subject, recipient,
language, and links that work (the portal page it is about, the one-click unsubscribe)."""

import datetime as dt
import email
import email.policy
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone, translation

from accounts.services import invitation_send
from alerts.models import Digest
from alerts.selectors import alert_preference_of
from alerts.services import absence_alerts_send, digests_send
from assessments.models import MasteryEstimate, MasteryEstimateHistory
from students.models import AttendanceCategory, AttendanceEvent, GuardianRelationship, Relationship
from tests import factories
from tests.conftest import World

SITE = "https://trellis.example.test"


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def body(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        return part.get_content()

    def links(self) -> list[str]:
        return re.findall(rf"{re.escape(SITE)}\S+", self.body)


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.received: list[Received] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802  # aiosmtpd's name
        raw = envelope.original_content or envelope.content  # type: ignore[attr-defined]
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(
            Received(
                sender=envelope.mail_from,  # type: ignore[attr-defined]
                recipients=list(envelope.rcpt_tos),  # type: ignore[attr-defined]
                message=message,
            )
        )
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp(settings) -> Iterator[Inbox]:
    """A real SMTP server on a free local port, and Django sending to it."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10
    settings.TRELLIS_BASE_URL = SITE
    try:
        yield inbox
    finally:
        controller.stop()


def _path(link: str) -> str:
    return link.removeprefix(SITE)


def _spanish(day: dt.date) -> str:
    with translation.override("es"):
        return formats.date_format(day, "DATE_FORMAT")


def test_the_evening_absence_email_arrives_in_the_guardians_language(
    smtp: Inbox, world: World
) -> None:
    world.parent.language = "es"
    world.parent.save(update_fields=["language"])
    today = timezone.localdate()
    AttendanceEvent.objects.create(
        district=world.district,
        student=world.student,
        school=world.school,
        event_date=today,
        category=AttendanceCategory.UNEXCUSED_ABSENCE,
    )
    # The classmate's guardian (no absence) and a contact-restricted guardian get nothing.
    restricted = factories.GuardianFactory.create(district=world.district)
    GuardianRelationship.objects.create(
        district=world.district,
        guardian=restricted,
        student=world.student,
        relationship=Relationship.OTHER,
        contact_restricted=True,
    )
    factories.UserFactory.create(guardian_record=restricted, email="restricted@example.test")

    assert absence_alerts_send() == 1
    assert absence_alerts_send() == 0  # the beat running twice sends nothing twice
    [mail] = smtp.received
    assert mail.recipients == [world.parent.email]
    assert mail.message["To"] == world.parent.email
    assert world.student.display_name in mail.message["Subject"]
    assert mail.message["Content-Language"] == "es"
    assert _spanish(today) in mail.body
    attendance = f"{SITE}{reverse('portal:child_attendance', kwargs={'pk': world.student.pk})}"
    assert attendance in mail.links()
    # RFC 8058: a one-click unsubscribe the mail client can POST, the same signed link.
    unsubscribe = str(mail.message["List-Unsubscribe"]).strip().strip("<>")
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in mail.links()

    # The link it is about opens the child's page for the guardian, and no one else.
    parent = Client()
    parent.force_login(world.parent)
    assert parent.get(_path(attendance)).status_code == 200
    other = Client()
    other.force_login(world.other_parent)
    assert other.get(_path(attendance)).status_code == 404

    # The unsubscribe link: opening it changes nothing; the mail client's POST unsubscribes.
    anonymous = Client(enforce_csrf_checks=True)
    assert anonymous.get(_path(unsubscribe)).status_code == 200
    assert alert_preference_of(world.parent).same_day_absences
    response = anonymous.post(
        _path(unsubscribe),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert not alert_preference_of(world.parent).same_day_absences
    AttendanceEvent.objects.create(
        district=world.district,
        student=world.student,
        school=world.school,
        event_date=today,
        category=AttendanceCategory.UNEXCUSED_ABSENCE,
        section=world.section,
    )
    assert absence_alerts_send(now=timezone.now() + dt.timedelta(days=1)) == 0
    assert len(smtp.received) == 1


def test_the_digest_arrives_with_links_to_the_childs_progress(smtp: Inbox, world: World) -> None:
    now = timezone.now()
    preference = alert_preference_of(world.parent)
    preference.digest = Digest.DAILY
    preference.save()
    for recorded_at, level in ((now - dt.timedelta(days=9), 3), (now - dt.timedelta(hours=2), 1)):
        MasteryEstimateHistory.objects.create(
            student=world.student,
            standard=world.standard,
            level=level,
            evidence_count=1,
            method="test",
            as_of=recorded_at.date(),
            recorded_at=recorded_at,
        )
    MasteryEstimate.objects.create(student=world.student, standard=world.standard, level=1)

    assert digests_send(now=now) == 1
    assert digests_send(now=now) == 0
    [mail] = smtp.received
    assert mail.recipients == [world.parent.email]
    assert mail.message["Content-Language"] == "en"
    assert mail.message["Subject"] == "Today at school: what needs your attention"
    assert world.standard.code in mail.body and "Below Mastery" in mail.body
    progress = f"{SITE}{reverse('portal:child_progress', kwargs={'pk': world.student.pk})}"
    assert progress in mail.links()
    parent = Client()
    parent.force_login(world.parent)
    assert parent.get(_path(progress)).status_code == 200
    preferences = f"{SITE}{reverse('portal:preferences')}"
    assert preferences in mail.links()
    assert parent.get(_path(preferences)).status_code == 200


def test_an_invitation_arrives_and_its_link_makes_the_login(smtp: Inbox, world: World) -> None:
    guardian = factories.GuardianFactory.create(district=world.district, language="Spanish")
    GuardianRelationship.objects.create(
        district=world.district,
        guardian=guardian,
        student=world.student,
        relationship=Relationship.FATHER,
        portal_access=True,
    )
    invitation, _ = invitation_send(guardian=guardian, email="papa@example.test")
    [mail] = smtp.received
    assert mail.recipients == ["papa@example.test"]
    assert mail.message["Content-Language"] == "es"
    assert guardian.display_name in mail.message["Subject"]
    assert _spanish(timezone.localtime(invitation.expires_at).date()) in mail.body
    [link] = [link for link in mail.links() if "/invitations/" in link]
    client = Client()
    response = client.post(
        _path(link), {"password1": "Long-enough-pw-42", "password2": "Long-enough-pw-42"}
    )
    assert response.status_code == 302
    assert client.get(_path(link)).status_code == 404  # single use

"""Writes of the alerts: a guardian's own preferences (language, alerts, how to reach them), a
one-click unsubscribe, and the alert emails themselves, each recorded as it is sent so that a
second run sends nothing twice (alerts.models: one delivery of each kind a day, and each
absence told to a login once).

Every email is in the login's language (User.language), links to the portal page it is about
(an absolute address: TRELLIS_BASE_URL) and carries a signed link that unsubscribes from that
kind of alert in one click (RFC 8058: List-Unsubscribe and List-Unsubscribe-Post headers)."""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from accounts.access import REACH, Basis
from accounts.language import site_languages, user_language_update
from accounts.models import User
from accounts.services import language_code, site_url
from alerts.models import AlertDelivery, AlertedAbsence, AlertKind, AlertPreference, Digest
from alerts.selectors import (
    AbsenceLine,
    ChildDigest,
    alert_preference_of,
    digest_candidates,
    digest_due,
    digest_for,
    digest_window,
    guardians_with_new_absences,
    new_absences_for,
)
from privacy.services import access_log_record
from students.models import ContactMethod, ContactTime

logger = logging.getLogger(__name__)

# --- Unsubscribing: a signed link per login and kind of alert.

UNSUBSCRIBE_SALT = "alerts.unsubscribe"
# An unsubscribe link works this long after its email (an older one: sign in to Preferences).
UNSUBSCRIBE_MAX_AGE = 180 * 24 * 3600
# What a link stops: the evening absence emails, the digest, or every alert.
UNSUBSCRIBE_WHAT = ("absence", "digest", "all")


def unsubscribe_token(user: User, what: str) -> str:
    """The signed, timestamped token of a one-click unsubscribe link."""
    if what not in UNSUBSCRIBE_WHAT:
        raise ValueError(f"Unknown kind of alert: {what}")
    return signing.TimestampSigner(salt=UNSUBSCRIBE_SALT).sign_object({"u": user.pk, "w": what})


@dataclass(frozen=True)
class UnsubscribeTarget:
    user: User
    what: str


def unsubscribe_target(token: str) -> UnsubscribeTarget | None:
    """Whose alerts a token stops, and which; None for a token that is forged, altered, too old
    or of a login that no longer exists."""
    try:
        payload = signing.TimestampSigner(salt=UNSUBSCRIBE_SALT).unsign_object(
            token, max_age=UNSUBSCRIBE_MAX_AGE
        )
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(payload, dict) or payload.get("w") not in UNSUBSCRIBE_WHAT:
        return None
    user_id = payload.get("u")
    if not isinstance(user_id, int):
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    return UnsubscribeTarget(user=user, what=payload["w"]) if user is not None else None


@transaction.atomic
def alerts_unsubscribe(*, user: User, what: str) -> AlertPreference:
    """Stop one kind of alert (or all) for the login: the link's only effect."""
    preference = alert_preference_of(user)
    if what in ("absence", "all"):
        preference.same_day_absences = False
    if what in ("digest", "all"):
        preference.digest = Digest.NEVER
    preference.full_clean()
    preference.save()
    logger.info("alerts unsubscribed user=%s what=%s", user.pk, what)
    return preference


# --- A guardian's own preferences.


@transaction.atomic
def family_preferences_update(
    *,
    user: User,
    language: str,
    same_day_absences: bool,
    digest: str,
    level_threshold: int,
    contact_method: str | None = None,
    contact_time: str | None = None,
) -> AlertPreference:
    """Change the login's own preferences, and nothing else: their language (pages and
    emails), their alerts, and how and when the school should reach them (their guardian
    record's contact preferences; only when they have one)."""
    if language not in site_languages():
        raise ValidationError({"language": "Choose one of the site's languages."})
    user_language_update(user=user, language=language)
    preference = alert_preference_of(user)
    preference.same_day_absences = same_day_absences
    preference.digest = digest
    preference.level_threshold = level_threshold
    preference.full_clean()
    preference.save()
    guardian = user.guardian_record
    if guardian is not None and (contact_method or contact_time):
        if contact_method not in ContactMethod.values or contact_time not in ContactTime.values:
            raise ValidationError("Choose how and when the school should contact you.")
        changed = [
            name
            for name, value in (("contact_method", contact_method), ("contact_time", contact_time))
            if getattr(guardian, name) != value
        ]
        for name in changed:
            setattr(guardian, name, contact_method if name == "contact_method" else contact_time)
        if changed:
            guardian.save(update_fields=[*changed, "updated_at"])
    logger.info("family preferences changed user=%s", user.pk)
    return preference


# --- Sending.


def _absolute(path: str) -> str:
    return site_url() + path


def _alert_mail(
    user: User, kind: str, subject_template: str, body_template: str, context: dict
) -> EmailMessage:
    """The email in the login's language, with its one-click unsubscribe (RFC 8058)."""
    token = unsubscribe_token(user, kind)
    unsubscribe = _absolute(reverse("portal:unsubscribe", kwargs={"token": token}))
    language = language_code(user.language)
    with translation.override(language):
        full = {
            **context,
            "user": user,
            "unsubscribe_url": unsubscribe,
            "preferences_url": _absolute(reverse("portal:preferences")),
        }
        subject = " ".join(render_to_string(subject_template, full).split())
        body = render_to_string(body_template, full)
    return EmailMessage(
        subject,
        body,
        None,
        [user.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
            "Content-Language": language,
        },
    )


def _log_told(user: User, students: list, what: str) -> None:
    """An alert shows the children's data to their guardian: logged as the guardian's read."""
    grant = REACH[Basis.GUARDIAN]
    access_log_record(
        actor=user,
        role=grant.role,
        what=what,
        students=students,
        path="email",
        purpose=grant.purpose,
    )


def _absence_links(lines: list[AbsenceLine]) -> list[dict]:
    """The absences by child, each child with the address of their attendance page."""
    by_child: dict[int, dict] = {}
    for line in lines:
        entry = by_child.setdefault(
            line.student.pk,
            {
                "student": line.student,
                "url": _absolute(
                    reverse("portal:child_attendance", kwargs={"pk": line.student.pk})
                ),
                "absences": [],
            },
        )
        entry["absences"].append(line)
    return list(by_child.values())


def absence_alert_send(*, user: User, now: datetime | None = None) -> AlertDelivery | None:
    """The evening email of a login's children's new unexcused absences: one a day at most,
    naming each absence once. Nothing when they turned it off or there is no news. Safe to run
    twice: the second finds the day's delivery (or the absences told) and sends nothing."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    if not user.is_active or not alert_preference_of(user).same_day_absences:
        return None
    lines = new_absences_for(user, now)
    if not lines:
        return None
    message = _alert_mail(
        user,
        "absence",
        "portal/emails/absence_subject.txt",
        "portal/emails/absence_message.txt",
        {"children": _absence_links(lines), "day": day},
    )
    try:
        with transaction.atomic():
            # The rows first: a concurrent run stops at the constraint before anything leaves;
            # a mail that fails rolls them back, and the next run tries again.
            delivery = AlertDelivery.objects.create(
                user=user,
                kind=AlertKind.ABSENCE,
                day=day,
                sent_at=now,
                email=user.email,
                language=language_code(user.language),
                summary=f"{len(lines)} unexcused absence(s)",
            )
            AlertedAbsence.objects.bulk_create(
                [
                    AlertedAbsence(delivery=delivery, user=user, event_id=line.event_id)
                    for line in lines
                ]
            )
            message.send()
    except IntegrityError:
        return None
    except OSError:  # smtplib's errors included: tried again at the next run
        logger.warning("absence alert not sent user=%s", user.pk, exc_info=True)
        return None
    _log_told(user, [line.student for line in lines], "alert email: unexcused absence")
    return delivery


def absence_alerts_send(*, now: datetime | None = None) -> int:
    """Every login's evening absence email (Celery beat, alerts.tasks); how many were sent."""
    now = now or timezone.now()
    sent = 0
    for user in User.objects.filter(pk__in=guardians_with_new_absences(now)).order_by("pk"):
        if absence_alert_send(user=user, now=now) is not None:
            sent += 1
    logger.info("absence alerts sent=%s", sent)
    return sent


def _digest_links(entries: list[ChildDigest]) -> list[dict]:
    return [
        {
            "entry": entry,
            "progress_url": _absolute(
                reverse("portal:child_progress", kwargs={"pk": entry.student.pk})
            ),
            "attendance_url": _absolute(
                reverse("portal:child_attendance", kwargs={"pk": entry.student.pk})
            ),
        }
        for entry in entries
    ]


def digest_send(*, user: User, now: datetime | None = None) -> AlertDelivery | None:
    """A login's digest, when one is due today (daily, or weekly on its weekday) and there is
    something to tell since the last one: levels fallen below their threshold, missing work,
    absences past the chronic line. One a day at most; safe to run twice."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    preference = alert_preference_of(user)
    if not user.is_active or not digest_due(preference, day):
        return None
    if AlertDelivery.objects.filter(user=user, kind=AlertKind.DIGEST, day=day).exists():
        return None
    last = (
        AlertDelivery.objects.filter(user=user, kind=AlertKind.DIGEST)
        .order_by("-sent_at")
        .values_list("sent_at", flat=True)
        .first()
    )
    since = digest_window(preference, last, now)
    with translation.override(language_code(user.language)):
        entries = digest_for(user, since=since, now=now)
        if not entries:
            return None
        message = _alert_mail(
            user,
            "digest",
            "portal/emails/digest_subject.txt",
            "portal/emails/digest_message.txt",
            {"children": _digest_links(entries), "since": since, "preference": preference},
        )
    levels = sum(len(entry.levels) for entry in entries)
    missing = sum(len(entry.missing) for entry in entries)
    chronic = sum(1 for entry in entries if entry.chronic)
    try:
        with transaction.atomic():
            delivery = AlertDelivery.objects.create(
                user=user,
                kind=AlertKind.DIGEST,
                day=day,
                sent_at=now,
                email=user.email,
                language=language_code(user.language),
                summary=f"{levels} level(s), {missing} missing, {chronic} chronic",
            )
            message.send()
    except IntegrityError:
        return None
    except OSError:
        logger.warning("digest not sent user=%s", user.pk, exc_info=True)
        return None
    _log_told(user, [entry.student for entry in entries], "alert email: digest")
    return delivery


def digests_send(*, now: datetime | None = None) -> int:
    """Every due digest (Celery beat, alerts.tasks); how many were sent."""
    now = now or timezone.now()
    sent = 0
    for user in User.objects.filter(pk__in=digest_candidates()).order_by("pk"):
        if digest_send(user=user, now=now) is not None:
            sent += 1
    logger.info("digests sent=%s", sent)
    return sent

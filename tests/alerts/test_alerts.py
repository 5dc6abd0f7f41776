"""Who gets which alert (issue 20): the evening email of a day's unexcused absences and the
daily or weekly digest (levels fallen below the guardian's threshold, missing work, absences
past the chronic line), only about children the guardian may see and only what the district
lets families see; each sent once however often the beat runs; and the signed link in each that
unsubscribes in one click. The SMTP round trip is tests/alerts/test_smtp.py."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from alerts.models import AlertDelivery, AlertedAbsence, AlertKind, AlertPreference, Digest
from alerts.selectors import alert_preference_of, digest_due
from alerts.services import (
    absence_alerts_send,
    digest_send,
    digests_send,
    unsubscribe_target,
    unsubscribe_token,
)
from assessments.models import (
    MasteryEstimate,
    MasteryEstimateHistory,
    Score,
    ScoreStatus,
    StudentAssessment,
)
from privacy.models import AccessLogEntry
from students.attendance import attendance_rates, school_year_of
from students.models import (
    AttendanceCategory,
    AttendanceEvent,
    GuardianRelationship,
    Relationship,
    Section,
    Student,
)
from tests import factories
from tests.conftest import World


def _absence(
    world: World,
    student: Student,
    day: dt.date | None = None,
    category: str = AttendanceCategory.UNEXCUSED_ABSENCE,
    section: Section | None = None,
) -> AttendanceEvent:
    return AttendanceEvent.objects.create(
        district=world.district,
        student=student,
        school=world.school,
        section=section,
        event_date=day or timezone.localdate(),
        category=category,
    )


def _prefer(user: User, **values: object) -> AlertPreference:
    preference = alert_preference_of(user)
    for name, value in values.items():
        setattr(preference, name, value)
    preference.save()
    return preference


def _restricted_guardian_of(world: World, student: Student) -> User:
    guardian = factories.GuardianFactory.create(district=world.district)
    GuardianRelationship.objects.create(
        district=world.district,
        guardian=guardian,
        student=student,
        relationship=Relationship.OTHER,
        contact_restricted=True,
    )
    return factories.UserFactory.create(guardian_record=guardian)


# --- The evening's unexcused absences.


def test_a_guardian_is_told_of_their_own_childs_unexcused_absence(world: World) -> None:
    event = _absence(world, world.student)
    restricted = _restricted_guardian_of(world, world.student)
    assert absence_alerts_send() == 1
    [message] = mail.outbox
    # Only the child's guardian: not the classmate's, not a contact-restricted one.
    assert message.to == [world.parent.email]
    assert world.student.display_name in message.body
    attendance = reverse("portal:child_attendance", kwargs={"pk": world.student.pk})
    assert f"http://127.0.0.1:8000{attendance}" in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert AlertedAbsence.objects.get(user=world.parent).event == event
    assert not AlertDelivery.objects.filter(user__in=[world.other_parent, restricted]).exists()
    # Telling a guardian about their child is a read of the child's record, logged as theirs.
    row = AccessLogEntry.objects.get(what="alert email: unexcused absence")
    assert row.student_id == world.student.pk and row.actor_user_id == world.parent.pk


def test_a_second_run_sends_nothing_twice(world: World) -> None:
    _absence(world, world.student)
    assert absence_alerts_send() == 1
    assert absence_alerts_send() == 0
    assert len(mail.outbox) == 1
    # A later absence the same day waits for the next evening: one email a day at most...
    later = _absence(world, world.student, section=world.section)
    assert absence_alerts_send() == 0
    # ...and goes then, alone.
    tomorrow = timezone.now() + dt.timedelta(days=1)
    assert absence_alerts_send(now=tomorrow) == 1
    assert [
        a.event for a in AlertedAbsence.objects.filter(delivery__day=timezone.localdate(tomorrow))
    ] == [later]
    assert world.section.title in mail.outbox[-1].body


@pytest.mark.parametrize(
    "setup",
    ["turned_off", "excused", "old_record", "old_day", "other_child"],
)
def test_no_absence_email_when_there_is_no_news_for_them(world: World, setup: str) -> None:
    if setup == "turned_off":
        _prefer(world.parent, same_day_absences=False)
        _absence(world, world.student)
    elif setup == "excused":
        _absence(world, world.student, category=AttendanceCategory.EXCUSED_ABSENCE)
    elif setup == "old_record":
        event = _absence(world, world.student)
        AttendanceEvent.objects.filter(pk=event.pk).update(
            created_at=timezone.now() - dt.timedelta(days=3)
        )
    elif setup == "old_day":
        _absence(world, world.student, day=timezone.localdate() - dt.timedelta(days=30))
    else:
        _absence(world, world.other_section_student)
    absence_alerts_send()
    assert not [m for m in mail.outbox if world.parent.email in m.to]


def test_a_failed_send_is_tried_again_at_the_next_run(world: World, settings) -> None:
    _absence(world, world.student)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    assert absence_alerts_send() == 0
    assert not AlertDelivery.objects.exists() and not AlertedAbsence.objects.exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert absence_alerts_send() == 1


# --- The digest.


def _daily(user: User, threshold: int = 2) -> AlertPreference:
    return _prefer(user, digest=Digest.DAILY, level_threshold=threshold)


def _level_history(world: World, *steps: tuple[dt.datetime, int]) -> None:
    """The child's level on the world's standard over time; the estimate is the last step."""
    for recorded_at, level in steps:
        MasteryEstimateHistory.objects.create(
            student=world.student,
            standard=world.standard,
            level=level,
            evidence_count=1,
            method="test",
            as_of=recorded_at.date(),
            recorded_at=recorded_at,
        )
    MasteryEstimate.objects.update_or_create(
        student=world.student, standard=world.standard, defaults={"level": steps[-1][1]}
    )


def test_a_level_that_falls_below_the_threshold_is_in_the_digest(world: World) -> None:
    now = timezone.now()
    _daily(world.parent)
    _level_history(world, (now - dt.timedelta(days=10), 3), (now - dt.timedelta(hours=2), 1))
    delivery = digest_send(user=world.parent, now=now)
    assert delivery is not None and delivery.kind == AlertKind.DIGEST
    [message] = mail.outbox
    assert world.standard.code in message.body and world.student.display_name in message.body
    progress = reverse("portal:child_progress", kwargs={"pk": world.student.pk})
    assert f"http://127.0.0.1:8000{progress}" in message.body
    # Once a day, however often the beat runs.
    assert digest_send(user=world.parent, now=now) is None
    # And not again the next day: it fell once.
    assert digest_send(user=world.parent, now=now + dt.timedelta(days=1)) is None


@pytest.mark.parametrize(
    ("threshold", "before", "told"),
    [(2, 3, True), (1, 3, False), (2, 1, False), (4, 4, True), (4, 3, False)],
)
def test_the_guardians_threshold_decides(
    world: World, threshold: int, before: int, told: bool
) -> None:
    now = timezone.now()
    _daily(world.parent, threshold)
    _level_history(world, (now - dt.timedelta(days=10), before), (now - dt.timedelta(hours=2), 1))
    assert (digest_send(user=world.parent, now=now) is not None) is told


def test_under_released_levels_a_fall_is_told_only_once_released(world: World) -> None:
    now = timezone.now()
    world.district.guardians_see_mastery = "released"
    world.district.save(update_fields=["guardians_see_mastery"])
    _daily(world.parent)
    _level_history(world, (now - dt.timedelta(days=10), 3), (now - dt.timedelta(hours=3), 1))
    # Not released: nothing to tell, though the estimate fell.
    assert digest_send(user=world.parent, now=now) is None
    # Released before the fall: the families' level is still the one as of the release.
    world.section.mastery_released_at = now - dt.timedelta(hours=5)
    world.section.save(update_fields=["mastery_released_at"])
    assert digest_send(user=world.parent, now=now) is None
    # Released after it: now it is news.
    world.section.mastery_released_at = now - dt.timedelta(hours=1)
    world.section.save(update_fields=["mastery_released_at"])
    assert digest_send(user=world.parent, now=now) is not None
    assert world.standard.code in mail.outbox[0].body


def test_missing_work_is_in_the_digest(world: World) -> None:
    _daily(world.parent)
    result = StudentAssessment.objects.create(
        district=world.district,
        student=world.student,
        assessment=world.assessment,
        administered_on=timezone.localdate(),
    )
    Score.objects.create(
        district=world.district,
        student_assessment=result,
        student=world.student,
        scored_on=timezone.localdate(),
        status=ScoreStatus.MISSING,
    )
    assert digest_send(user=world.parent) is not None
    assert world.assessment.title in mail.outbox[0].body
    # The classmate's guardian hears nothing of it.
    _daily(world.other_parent)
    assert digest_send(user=world.other_parent) is None


def test_passing_the_chronic_line_is_in_the_digest(world: World) -> None:
    now = dt.datetime(2026, 12, 11, 18, 30, tzinfo=timezone.get_current_timezone())
    _prefer(world.parent, digest=Digest.WEEKLY)
    # Absent the last twelve weekdays: past 10% of the days enrolled this year now, not a week ago.
    day, absences = now.date(), 0
    while absences < 12:
        if day.weekday() < 5:
            _absence(world, world.student, day=day)
            absences += 1
        day -= dt.timedelta(days=1)
    year = school_year_of(now.date())
    assert attendance_rates([world.student.pk], school_year=year, as_of=now.date())[
        world.student.pk
    ].is_chronic
    week_ago = now.date() - dt.timedelta(days=7)
    assert not attendance_rates([world.student.pk], school_year=year, as_of=week_ago)[
        world.student.pk
    ].is_chronic
    assert now.weekday() == 4  # a Friday: weekly digests' day by default
    assert digest_send(user=world.parent, now=now) is not None
    body = mail.outbox[0].body
    attendance = reverse("portal:child_attendance", kwargs={"pk": world.student.pk})
    assert attendance in body and "10%" in body
    # A week later it is no news.
    assert digest_send(user=world.parent, now=now + dt.timedelta(days=7)) is None


def test_a_weekly_digest_waits_for_its_weekday_and_never_means_never(
    world: World, settings
) -> None:
    now = timezone.now()
    _level_history(world, (now - dt.timedelta(days=10), 3), (now - dt.timedelta(hours=2), 1))
    preference = _prefer(world.parent, digest=Digest.WEEKLY)
    settings.TRELLIS_WEEKLY_DIGEST_WEEKDAY = (timezone.localdate(now).weekday() + 1) % 7
    assert not digest_due(preference, timezone.localdate(now))
    assert digest_send(user=world.parent, now=now) is None
    settings.TRELLIS_WEEKLY_DIGEST_WEEKDAY = timezone.localdate(now).weekday()
    _prefer(world.parent, digest=Digest.NEVER)
    assert digests_send(now=now) == 0
    _prefer(world.parent, digest=Digest.WEEKLY)
    assert digests_send(now=now) == 1 and mail.outbox[0].to == [world.parent.email]


def test_defaults_apply_until_a_guardian_changes_them(world: World) -> None:
    preference = alert_preference_of(world.parent)
    assert preference.pk is None
    assert preference.same_day_absences and preference.digest == Digest.WEEKLY
    assert preference.level_threshold == 2
    assert not AlertPreference.objects.exists()


# --- Unsubscribing in one click.


def _token(user: User, what: str) -> str:
    return unsubscribe_token(user, what)


def test_opening_the_link_changes_nothing_and_the_button_unsubscribes(world: World) -> None:
    client = Client()
    url = reverse("portal:unsubscribe", kwargs={"token": _token(world.parent, "digest")})
    page = client.get(url)
    assert page.status_code == 200 and b'<form method="post"' in page.content
    assert alert_preference_of(world.parent).digest == Digest.WEEKLY
    assert client.post(url).status_code == 200
    preference = alert_preference_of(world.parent)
    assert preference.digest == Digest.NEVER and preference.same_day_absences


def test_a_mail_clients_one_click_post_unsubscribes_without_a_cookie(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    url = reverse("portal:unsubscribe", kwargs={"token": _token(world.parent, "absence")})
    response = client.post(
        url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    preference = alert_preference_of(world.parent)
    assert not preference.same_day_absences and preference.digest == Digest.WEEKLY
    # The other guardian's preferences are untouched.
    assert not AlertPreference.objects.filter(user=world.other_parent).exists()


def test_a_forged_or_old_link_does_nothing(world: World) -> None:
    client = Client()
    token = _token(world.parent, "all")
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.post(reverse("portal:unsubscribe", kwargs={"token": forged})).status_code == 404
    assert client.get(reverse("portal:unsubscribe", kwargs={"token": "x"})).status_code == 404
    with time_machine.travel(timezone.now() + dt.timedelta(days=181)):
        assert unsubscribe_target(token) is None
    assert unsubscribe_target(token) is not None
    assert not AlertPreference.objects.exists()


def test_the_chronic_threshold_is_the_districts(world: World) -> None:
    # The digest names the district's own line, not a fixed 10%.
    world.district.chronic_absence_percent = Decimal("5")
    world.district.save(update_fields=["chronic_absence_percent"])
    now = dt.datetime(2026, 12, 11, 18, 30, tzinfo=timezone.get_current_timezone())
    _daily(world.parent)
    day, absences = now.date(), 0
    while absences < 6:
        if day.weekday() < 5:
            _absence(world, world.student, day=day)
            absences += 1
        day -= dt.timedelta(days=1)
    assert digest_send(user=world.parent, now=now) is not None
    assert "5%" in mail.outbox[0].body


def test_celery_beat_sends_them_in_the_evening(world: World, eager_celery, settings) -> None:
    """The beat's entries name the alerts' tasks, at 18:00 and 18:15 local time, and each task
    sends what is due (run eagerly here; tests/celery_worker.py is the real-worker harness)."""
    eager_celery.loader.import_default_modules()
    schedule = settings.CELERY_BEAT_SCHEDULE
    for entry, hour, minute in (("alerts-absences", 18, 0), ("alerts-digests", 18, 15)):
        task = schedule[entry]["task"]
        assert task in eager_celery.tasks
        assert schedule[entry]["schedule"].hour == {hour}
        assert schedule[entry]["schedule"].minute == {minute}
    _absence(world, world.student)
    assert eager_celery.tasks["alerts.tasks.absence_alerts_evening"].delay().get() == 1
    assert eager_celery.tasks["alerts.tasks.absence_alerts_evening"].delay().get() == 0
    assert [m.to for m in mail.outbox] == [[world.parent.email]]

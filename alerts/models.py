"""What each guardian wants to be told (AlertPreference) and what they were sent
(AlertDelivery, with the absences each evening email named: AlertedAbsence)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Digest(models.TextChoices):
    DAILY = "daily", _("Every evening")
    WEEKLY = "weekly", _("Once a week")
    NEVER = "never", _("Never")


class AlertPreference(models.Model):
    """One login's alert settings. Created the first time they change them: until then the
    defaults below apply (alerts.selectors.alert_preference_of)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_preference"
    )
    same_day_absences = models.BooleanField(
        _("an email the evening a child is marked absent without excuse"), default=True
    )
    digest = models.CharField(
        _("a summary of what needs attention"),
        max_length=10,
        choices=Digest.choices,
        default=Digest.WEEKLY,
    )
    # The digest names a standard whose level falls below this level's value (the district's
    # scale: 2 is "Near Mastery" on the default one).
    level_threshold = models.PositiveSmallIntegerField(
        _("levels to tell me about: below"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Alert preferences of user {self.user_id}"


class AlertKind(models.TextChoices):
    ABSENCE = "absence", "Unexcused absence, the same evening"
    DIGEST = "digest", "Digest"


class AlertDelivery(models.Model):
    """One alert email sent to one login: at most one of each kind per day (the constraint makes
    a second run of the same evening send nothing)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_deliveries"
    )
    kind = models.CharField(max_length=10, choices=AlertKind.choices)
    day = models.DateField(help_text="The local day it was sent for.")
    sent_at = models.DateTimeField(default=timezone.now)
    email = models.EmailField()
    language = models.CharField(max_length=10)
    # What it named, in a line (no names: "2 absences", "1 level, 3 missing"), for the admin.
    summary = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "day"], name="alert_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to user {self.user_id} on {self.day}"


class AlertedAbsence(models.Model):
    """An unexcused absence an evening email named to one login: never named to them again."""

    delivery = models.ForeignKey(AlertDelivery, on_delete=models.CASCADE, related_name="absences")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(
        "students.AttendanceEvent", on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "event"], name="absence_alerted_once"),
        ]

    def __str__(self) -> str:
        return f"absence {self.event_id} told to user {self.user_id}"

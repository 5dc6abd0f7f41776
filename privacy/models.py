"""The access log: who saw which student's data, when, and why. Append-only."""

from typing import Any

from django.conf import settings
from django.db import models


class AppendOnlyError(Exception):
    pass


class AccessLogQuerySet(models.QuerySet):
    def update(self, **kwargs: object) -> int:
        raise AppendOnlyError("The access log is append-only: rows cannot be updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("The access log is append-only: rows cannot be deleted.")


class AccessLogEntry(models.Model):
    """One row per student shown in one response (page, chart JSON, export, admin page)."""

    at = models.DateTimeField(db_index=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    # Later: an OAuth2 application acting for the district.
    actor_app = models.CharField(max_length=200, blank=True, default="")
    actor_label = models.CharField(
        max_length=254, help_text="Who, as an audit names them: the account's email or the app."
    )
    # A snapshot, as the row is written, of the name a family reads: the staff (or guardian)
    # record's name, else the account's name, else its email. Kept in the row so that it outlives
    # the account and a later change of name (privacy.services.access_log_record).
    actor_name = models.CharField(
        max_length=254,
        blank=True,
        default="",
        db_default="",
        help_text="Who, as shown to a family, when the row was written.",
    )
    role = models.CharField(max_length=40)
    what = models.CharField(max_length=100, help_text="Page or export name.")
    path = models.CharField(max_length=500, blank=True, default="")
    purpose = models.CharField(max_length=200, blank=True, default="")
    # No database constraint: the row must outlive the student's deletion. Indexes: the two
    # below, and nothing more (every page view writes a row per student shown).
    student = models.ForeignKey(
        "students.Student",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    student_key = models.CharField(max_length=32)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["student", "-at"]),
            models.Index(fields=["student_key", "-at"], name="access_log_student_key"),
        ]
        verbose_name_plural = "access log entries"

    def __str__(self) -> str:
        who = self.actor_name or self.actor_label
        return f"{self.at:%Y-%m-%d %H:%M} {who} ({self.role}): {self.what}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("The access log is append-only: rows cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("The access log is append-only: rows cannot be deleted.")

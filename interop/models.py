"""Import runs: who imported what, when, how far it got and what it found."""

from django.conf import settings
from django.db import models

from students.models import District


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ImportRun(models.Model):
    """One import of one source (a zip, a folder, an API pull), in any registered format.

    `report` holds the per-entity counts ({entity: {created, updated, deactivated, unchanged}});
    `errors` the first errors found (file, line, column, message), `error_total` how many in all.
    """

    district = models.ForeignKey(
        District, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    format = models.CharField(max_length=40, help_text="A key of interop.registry.IMPORTERS.")
    source_name = models.CharField(max_length=255, blank=True, default="")
    # Where the uploaded file waits for the worker (relative to MEDIA_ROOT); emptied after.
    upload_path = models.CharField(max_length=500, blank=True, default="")
    dry_run = models.BooleanField(default=False)
    status = models.CharField(
        max_length=20, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    progress_label = models.CharField(max_length=120, blank=True, default="")
    progress_done = models.PositiveBigIntegerField(default=0)
    progress_total = models.PositiveBigIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)
    error_total = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["district", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.format} import {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {ImportStatus.SUCCEEDED, ImportStatus.FAILED}

    @property
    def progress_percent(self) -> int:
        if self.is_finished:
            return 100
        if not self.progress_total:
            return 0
        return min(99, int(100 * self.progress_done / self.progress_total))

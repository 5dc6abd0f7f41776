"""Import runs: who imported what, when, how far it got and what it found."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from students.models import District


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ImportOrigin(models.TextChoices):
    UPLOAD = "upload", "Uploaded"
    DROP_FOLDER = "drop_folder", "The district's drop folder"


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
    # Where the file came from: an upload (the page), or the district's drop folder (the file's
    # name is source_name; its DroppedFile row says which version of it).
    origin = models.CharField(
        max_length=20,
        choices=ImportOrigin.choices,
        default=ImportOrigin.UPLOAD,
        db_default="upload",
    )
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
    # When district IT was emailed this failed scheduled run's report (None: not yet; a send that
    # failed leaves it None, and the next poll sends it again).
    failure_notified_at = models.DateTimeField(null=True, blank=True)

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


class DroppedFileStatus(models.TextChoices):
    WAITING = "waiting", "Seen; waiting until it has stopped changing"
    CLAIMED = "claimed", "Being copied for its import"
    IMPORTED = "imported", "Handed to an import run"
    DUPLICATE = "duplicate", "Same content as a file already imported: skipped"


class DroppedFile(models.Model):
    """One version of an entry of a district's drop folder (a zip, a folder of files, or the
    folder's loose files), by name, size, modification time and content hash: each version is
    imported once, whoever polls and however often (interop.dropfolder).

    A version is first recorded WAITING with an empty hash; a later poll that finds it unchanged
    and settled claims it (one poller wins the conditional update), copies it for the import
    while hashing it, and ties it to the ImportRun it creates.
    """

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    mtime_ns = models.BigIntegerField(help_text="Modification time, in ns since the epoch.")
    sha256 = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(
        max_length=20, choices=DroppedFileStatus.choices, default=DroppedFileStatus.WAITING
    )
    run = models.OneToOneField(
        ImportRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="dropped_file"
    )
    first_seen_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-first_seen_at"]
        constraints = [
            # A version is imported once: two pollers cannot both record it (and there is at
            # most one unhashed sighting of it, so that the claim has one row to win).
            models.UniqueConstraint(
                fields=["district", "name", "size", "mtime_ns", "sha256"],
                name="dropped_file_unique_version",
            ),
        ]
        indexes = [models.Index(fields=["district", "name"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.size:,} bytes, {self.status})"

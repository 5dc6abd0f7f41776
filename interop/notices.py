"""Emails about imports: the report of a failed scheduled import, to district IT.

A run from a district's drop folder that fails (refused with errors, or stopped on an internal
error) is emailed once, in plain text: the file, what was wrong, the first errors with their file
and line, and a link to the run's page. The address is the district's `import_failure_email`;
when it is blank, every district staff member with an email address (accounts.access
district_staff_of). A send that fails (the mail server away) is tried again by the next poll
(interop.dropfolder.drop_folders_poll calls import_failure_notices_resend).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone

from accounts.access import district_staff_of
from accounts.services import site_url
from interop.models import ImportOrigin, ImportRun, ImportStatus
from interop.registry import IMPORTERS
from students.models import District

logger = logging.getLogger(__name__)

# How many errors the email lists (the run's page lists all those kept).
EMAILED_ERRORS = 20
# Failed runs older than this are not emailed late (the mail server was away for days).
RESEND_WITHIN = timedelta(days=2)


def import_failure_recipients(district: District) -> list[str]:
    """Where a failed scheduled import of the district is reported."""
    if district.import_failure_email:
        return [district.import_failure_email]
    return sorted({user.email for user in district_staff_of(district.pk) if user.email})


def import_failure_message(run: ImportRun) -> tuple[str, str]:
    """(subject, plain-text body) of the email about a failed run."""
    district = run.district
    district_name = district.name if district is not None else "the district"
    importer = IMPORTERS.get(run.format)
    label = importer.label if importer is not None else run.format
    finished = timezone.localtime(run.finished_at or timezone.now())
    subject = f"Trellis: the scheduled import of {run.source_name} failed ({district_name})"
    at_least = "at least " if run.report.get("error_total_is_minimum") else ""
    lines = [
        f"Trellis could not import {run.source_name}, from the drop folder of {district_name}.",
        "Nothing was written: the district's records are as they were before this file.",
        "",
        f"Format: {label}",
        f"Finished: {finished:%Y-%m-%d %H:%M} ({finished.tzname()})",
        f"Import run: {run.pk}",
        "",
        f"What was wrong ({at_least}{run.error_total:,} "
        f"{'error' if run.error_total == 1 else 'errors'} in all):",
    ]
    for error in run.errors[:EMAILED_ERRORS]:
        where = str(error.get("file") or run.source_name)
        if error.get("line") is not None:
            where += f", line {error['line']}"
        if error.get("column"):
            where += f", {error['column']}"
        lines.append(f"  - {where}: {error.get('message', '')}")
    listed = min(len(run.errors), EMAILED_ERRORS)
    if run.error_total > listed:
        lines.append(f"  ... and {run.error_total - listed:,} more (the run's page lists them).")
    page = reverse("interop:import_run", kwargs={"pk": run.pk})
    lines += [
        "",
        f"The run's page: {site_url()}{page}",
        "",
        "Correct the export in the student information system and drop it again: a file that "
        "is new, or changed, is imported at the next poll.",
    ]
    return subject, "\n".join(lines) + "\n"


def import_failure_notify(*, run_id: int) -> bool:
    """Email a failed drop-folder run's report to district IT, once: the run's notice is claimed
    in one statement (failure_notified_at), so a second call, or a second worker, sends
    nothing; a send that fails gives the claim back for the next poll to try again."""
    claimed = ImportRun.objects.filter(
        pk=run_id,
        origin=ImportOrigin.DROP_FOLDER,
        status=ImportStatus.FAILED,
        failure_notified_at__isnull=True,
    ).update(failure_notified_at=timezone.now())
    if not claimed:
        return False
    run = ImportRun.objects.select_related("district").get(pk=run_id)
    recipients = import_failure_recipients(run.district) if run.district is not None else []
    if not recipients:
        logger.warning(
            "import run %s failed and nobody is set to hear of it: set the district's import "
            "failure email or give it district staff with an email address",
            run_id,
        )
        return False
    subject, body = import_failure_message(run)
    try:
        send_mail(subject, body, None, recipients)
    except OSError:  # smtplib's errors included: the next poll sends it again
        logger.warning("import failure mail not sent run=%s", run_id, exc_info=True)
        ImportRun.objects.filter(pk=run_id).update(failure_notified_at=None)
        return False
    logger.info("import failure mail sent run=%s to=%d", run_id, len(recipients))
    return True


def import_failure_notices_resend() -> int:
    """Send the notices of failed drop-folder runs whose mail has not gone out (the mail server
    was away, or the worker stopped between the run and the mail); how many were sent."""
    unsent = ImportRun.objects.filter(
        origin=ImportOrigin.DROP_FOLDER,
        status=ImportStatus.FAILED,
        failure_notified_at__isnull=True,
        finished_at__gte=timezone.now() - RESEND_WITHIN,
    ).values_list("pk", flat=True)
    return sum(import_failure_notify(run_id=run_id) for run_id in list(unsent))

"""What the rollups do when estimates or records change elsewhere: the apps that change them
send signals (assessments.signals.estimates_changed, interop.signals.records_imported) after
they commit, and never import the rollups. A change of the district's rules (its mastery level,
its subject share) recounts it too."""

import logging
from datetime import date
from typing import Any

from django.db import DatabaseError
from django.db.models.signals import post_save
from django.dispatch import receiver

from assessments.models import MasteryPolicy
from assessments.signals import estimates_changed
from config.celery_app import publish, publish_on_commit
from interop.report import ImportReport
from interop.signals import records_imported
from students.models import District

logger = logging.getLogger(__name__)

# The import report's entities whose changes move students between groups, or standards
# between subjects and sections; and those that change chronic absence (SchoolEngagementDay):
# attendance events, calendars and the school year's sessions.
ROSTER_ENTITIES = frozenset(
    {
        "attendance_events",
        "calendar_dates",
        "academic_sessions",
        "schools",
        "sections",
        "students",
        "demographics",
        "school_memberships",
        "student_school_memberships",
        "enrollments",
        "program_participations",
        "learning_standards",
        "standards",
        "assessments",
        "assessment_items",
        "objective_assessments",
        "gradebook_entries",
    }
)


@receiver(estimates_changed, dispatch_uid="rollups_estimates_changed")
def estimates_changed_queue(
    sender: object, *, student_ids: frozenset[int], since: date, **kwargs: Any
) -> None:
    """Queue the students, and send the flush unless one is on its way already (the queue was
    not empty): a burst of recomputes costs one recount of each group."""
    from rollups.services import rollups_pending_add
    from rollups.tasks import rollups_flush

    try:
        first = rollups_pending_add(student_ids=student_ids, since=since)
    except DatabaseError:
        # The write has committed; the nightly rebuild counts what this notice would have.
        logger.exception("rollups: %s students could not be queued", len(student_ids))
        return
    if first:
        publish(rollups_flush)


@receiver(records_imported, dispatch_uid="rollups_records_imported")
def records_imported_recount(
    sender: object, *, district_id: int, report: ImportReport, **kwargs: Any
) -> None:
    """An import that changed rosters, programmes, memberships or attendance: recount the
    district."""
    from rollups.tasks import rollups_recount

    changed = any(
        counts.created or counts.updated or counts.deactivated
        for entity, counts in report.counts.items()
        if entity in ROSTER_ENTITIES
    )
    if changed:
        publish(rollups_recount, district_id)


@receiver(post_save, sender=District, dispatch_uid="rollups_district_saved")
@receiver(post_save, sender=MasteryPolicy, dispatch_uid="rollups_policy_saved")
def rules_saved_recount(
    sender: type,
    instance: District | MasteryPolicy,
    created: bool,
    raw: bool = False,
    **kwargs: Any,
) -> None:
    """The rollups count by the district's mastery level and subject share: an edit (the admin)
    recounts the district once it commits. A new district has nothing to count yet."""
    from rollups.tasks import rollups_recount

    if raw or (created and isinstance(instance, District)):
        return
    district_id = instance.pk if isinstance(instance, District) else instance.district_id
    publish_on_commit(rollups_recount, district_id, "settings")

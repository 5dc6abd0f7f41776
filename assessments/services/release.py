"""A teacher releases their section's mastery levels to families: under the district's
"released" setting (District.guardians_see_mastery) the family portal shows each level as of the
section's latest release, and nothing before the first."""

import logging

from django.db import transaction
from django.utils import timezone

from students.models import Section

logger = logging.getLogger(__name__)


@transaction.atomic
def section_mastery_release(*, section: Section, acting_user: object) -> Section:
    """Release the section's levels as they stand now (a later release moves the moment on).
    The caller has checked that `acting_user` teaches the section."""
    section.mastery_released_at = timezone.now()
    section.full_clean(validate_unique=False, validate_constraints=False)
    section.save(update_fields=["mastery_released_at"])
    # No audit table for this yet: the release is recorded in the log, by whom and when.
    logger.info(
        "Levels of section %s released to families by user %s at %s",
        section.pk,
        getattr(acting_user, "pk", None),
        section.mastery_released_at.isoformat(),
    )
    return section

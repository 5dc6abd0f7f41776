"""A teacher's override of an estimated level, and its clearing; both audited and retiring the
section's cached grid."""

from typing import TYPE_CHECKING, cast

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from assessments.models import (
    MasteryEvidence,
    MasteryOverride,
)
from assessments.signals import (
    estimates_changed_on_commit,
    mastery_changed_for_students_on_commit,
)

if TYPE_CHECKING:
    from accounts.models import User


@transaction.atomic
def mastery_override_set(
    *,
    student_id: int,
    standard_id: int,
    level: int,
    note: str,
    acting_user: object,
    clear_on_new_score: bool,
) -> MasteryOverride:
    if not note.strip():
        raise ValueError("An override needs a note saying why.")
    now = timezone.now()
    MasteryOverride.objects.filter(
        student_id=student_id, standard_id=standard_id, cleared_at__isnull=True
    ).update(cleared_at=now, cleared_reason="replaced")
    watermark = (
        MasteryEvidence.objects.filter(student_id=student_id, standard_id=standard_id).aggregate(
            newest=Max("id")
        )["newest"]
        or 0
    )
    override = MasteryOverride(
        evidence_watermark=watermark,
        student_id=student_id,
        standard_id=standard_id,
        level=level,
        note=note.strip(),
        set_by=cast("User", acting_user),
        clear_on_new_score=clear_on_new_score,
    )
    override.full_clean()
    override.save()
    mastery_changed_for_students_on_commit({student_id})
    estimates_changed_on_commit({student_id}, since=timezone.localdate())
    return override


@transaction.atomic
def mastery_override_clear(*, student_id: int, standard_id: int, acting_user: object) -> int:
    """Clear the pair's active override (the estimate shows again); returns how many were
    cleared (0 when there was none, so a second click changes nothing)."""
    # The model has no "cleared by" column: the reason names the user, so the audit keeps who.
    reason = f"cleared by teacher (user {getattr(acting_user, 'pk', '?')})"
    cleared = MasteryOverride.objects.filter(
        student_id=student_id, standard_id=standard_id, cleared_at__isnull=True
    ).update(cleared_at=timezone.now(), cleared_reason=reason[:100])
    if cleared:
        mastery_changed_for_students_on_commit({student_id})
        estimates_changed_on_commit({student_id}, since=timezone.localdate())
    return cleared

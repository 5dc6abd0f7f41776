"""Marking estimates pending and enqueueing their recompute: every write of scores ends here, in
the same transaction, and the recompute runs after commit in batches."""

from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from datetime import date

from django.db import connection, transaction
from django.utils import timezone

from assessments.models import (
    MasteryEstimate,
)
from config.celery_app import publish

RECOMPUTE_BATCH = 500
# On PostgreSQL a batch is recomputed set-based (assessments.recompute_sql), so a bulk write's
# estimates go in chunks this large: one task each, that the workers share (idempotent, so a
# chunk redelivered after a lost worker only redoes its own work).
RECOMPUTE_BULK_BATCH = 10_000


def recompute_batches(estimate_ids: Sequence[int]) -> list[list[int]]:
    """The chunks of one recompute, one task each, in id order (ids follow students, so that
    a chunk's evidence is one range of the evidence index)."""
    size = (
        RECOMPUTE_BULK_BATCH
        if connection.vendor == "postgresql" and len(estimate_ids) > RECOMPUTE_BATCH
        else RECOMPUTE_BATCH
    )
    return [list(estimate_ids[start : start + size]) for start in range(0, len(estimate_ids), size)]


def estimates_latest(pairs: set[tuple[int, int]]) -> Iterable[tuple[int, int, date | None]]:
    student_ids = {p[0] for p in pairs}
    standard_ids = {p[1] for p in pairs}
    for row in MasteryEstimate.objects.filter(
        student_id__in=student_ids, standard_id__in=standard_ids
    ).values_list("student_id", "standard_id", "latest_observed_on"):
        if (row[0], row[1]) in pairs:
            yield row


def estimates_mark_pending(
    *,
    pairs: set[tuple[int, int]],
    full_recompute_pairs: AbstractSet[tuple[int, int]] = frozenset(),
) -> list[int]:
    """Create missing estimates and mark every pair pending; returns the estimate ids."""
    if not pairs:
        return []
    now = timezone.now()
    MasteryEstimate.objects.bulk_create(
        [MasteryEstimate(student_id=s, standard_id=t, pending_since=now) for s, t in pairs],
        batch_size=5000,
        ignore_conflicts=True,
    )
    student_ids = {p[0] for p in pairs}
    standard_ids = {p[1] for p in pairs}
    rows = [
        (pk, (s, t))
        for pk, s, t in MasteryEstimate.objects.filter(
            student_id__in=student_ids, standard_id__in=standard_ids
        ).values_list("pk", "student_id", "standard_id")
        if (s, t) in pairs
    ]
    ids = [pk for pk, _ in rows]
    full_ids = [pk for pk, pair in rows if pair in full_recompute_pairs]
    for start in range(0, len(ids), 5000):
        MasteryEstimate.objects.filter(pk__in=ids[start : start + 5000]).update(pending_since=now)
    for start in range(0, len(full_ids), 5000):
        MasteryEstimate.objects.filter(pk__in=full_ids[start : start + 5000]).update(
            needs_full_recompute=True
        )
    return ids


def mastery_recompute_enqueue(estimate_ids: Sequence[int]) -> None:
    """After commit, one task per batch of pairs (a rolled-back transaction enqueues nothing).
    A broker outage loses nothing and fails nothing: the estimates are pending in the database,
    and assessments.tasks.mastery_sweep enqueues them again once the broker is back."""
    from assessments.tasks import mastery_recompute

    def sender(batch: list[int]) -> Callable[[], bool]:
        return lambda: publish(mastery_recompute, batch)

    for batch in recompute_batches(estimate_ids):
        transaction.on_commit(sender(batch), robust=True)

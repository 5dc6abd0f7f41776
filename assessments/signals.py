"""Signals of the assessments app.

`mastery_changed` is sent after a write of scores, estimates or overrides commits, with
`district_ids`: pages that cache levels and missing work (dashboard.cache) retire what they hold
for those districts.
"""

from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal

mastery_changed = Signal()


def mastery_changed_on_commit(district_ids: Iterable[int]) -> None:
    """Send `mastery_changed` once the current transaction commits (at once outside one):
    readers that saw the old rows cached them under what the receivers then retire."""
    ids = set(district_ids)
    if ids:
        transaction.on_commit(lambda: mastery_changed.send(sender=None, district_ids=ids))


def mastery_changed_for_standard_on_commit(standard_id: int) -> None:
    """mastery_changed_on_commit for the standard's district, looked up after commit so that
    the write itself makes no extra query."""

    def send() -> None:
        from assessments.models import Standard

        ids = set(Standard.objects.filter(pk=standard_id).values_list("district_id", flat=True))
        if ids:
            mastery_changed.send(sender=None, district_ids=ids)

    transaction.on_commit(send)

"""Signals of the lessons app.

`plans_taught` is sent after a plan is marked taught, or unmarked, commits, with `section_ids`:
"recently taught" (the section page's, the needs-attention list's) counts taught plans, so pages
that cache them (dashboard.cache) retire what they hold for those sections.
"""

from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal

plans_taught = Signal()


def plans_taught_on_commit(section_ids: Iterable[int]) -> None:
    """Send `plans_taught` once the current transaction commits (at once outside one)."""
    ids = frozenset(section_ids)
    if ids:
        transaction.on_commit(lambda: plans_taught.send(sender=None, section_ids=ids), robust=True)

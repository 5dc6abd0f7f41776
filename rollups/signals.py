"""Signals of the rollups app.

`rollups_changed` is sent after a write of rollup rows commits, with `district_ids`: pages that
keep what they computed from the rollups (the school and district reports, dashboard.cache)
retire it for those districts. A district's totals decide every school's suppression (a number
reads the same on every page), so a change anywhere in a district retires all of its reports.
"""

from django.db import transaction
from django.dispatch import Signal

rollups_changed = Signal()


def rollups_changed_on_commit(district_id: int) -> None:
    """Send rollups_changed for the district once the current transaction commits (at once
    outside one)."""
    transaction.on_commit(
        lambda: rollups_changed.send(sender=rollups_changed, district_ids=[district_id])
    )

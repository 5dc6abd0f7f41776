"""Signals of the import machinery.

`records_imported` is sent once an import that changed the district's records commits, with
`district_id` and `report` (the ImportReport: per-entity counts of what was created, updated and
deactivated). Whatever is derived from rosters, programmes and memberships (the rollups) catches
up from it; a dry run or a rolled-back import sends nothing.
"""

from django.db import transaction
from django.dispatch import Signal

from interop.report import ImportReport

records_imported = Signal()


def records_imported_on_commit(*, district_id: int | None, report: ImportReport) -> None:
    """Send `records_imported` once the import's transaction commits (robust: the import has
    committed, so a receiver's failure is logged, never the import's)."""
    if district_id is None:
        return
    transaction.on_commit(
        lambda: records_imported.send(sender=None, district_id=district_id, report=report),
        robust=True,
    )

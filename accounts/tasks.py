from celery import shared_task

from accounts.services import derived_access_sync


@shared_task(name="accounts.tasks.derived_access_sync_all")
def derived_access_sync_all() -> dict[str, int]:
    """Nightly: the mirror of derived memberships re-derived for every user (access itself reads
    the records by date, so this only tidies what the admin shows)."""
    report = derived_access_sync()
    return {"added": report.memberships_added, "removed": report.memberships_removed}

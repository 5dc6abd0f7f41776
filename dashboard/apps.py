from typing import Any

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"

    def ready(self) -> None:
        from assessments.signals import mastery_changed
        from dashboard.cache import versions_retire
        from interop.signals import records_imported

        # Cached section grids are retired when estimates or overrides change.
        mastery_changed.connect(versions_retire, dispatch_uid="dashboard.versions_retire")

        # And everything cached of a district (the school pages' attendance, enrolment and
        # staff) when an import changed its records.
        def import_retires(sender: object, *, district_id: int, **kwargs: Any) -> None:
            versions_retire(district_ids=[district_id])

        records_imported.connect(
            import_retires, weak=False, dispatch_uid="dashboard.versions_retire_on_import"
        )

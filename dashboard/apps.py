from typing import Any

from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_save


class DashboardConfig(AppConfig):
    name = "dashboard"

    def ready(self) -> None:
        from assessments.signals import mastery_changed
        from dashboard.cache import rollup_versions_retire, versions_retire
        from interop.signals import records_imported
        from lessons.signals import plans_taught
        from rollups.signals import rollups_changed
        from students.models import District

        # Cached section grids are retired when estimates or overrides change.
        mastery_changed.connect(versions_retire, dispatch_uid="dashboard.versions_retire")
        # And when a lesson plan is marked taught or unmarked: "recently taught" counts plans.
        plans_taught.connect(versions_retire, dispatch_uid="dashboard.versions_retire_on_taught")

        # And everything cached of a district (the school pages' attendance, enrolment and
        # staff) when an import changed its records.
        def import_retires(sender: object, *, district_id: int, **kwargs: Any) -> None:
            versions_retire(district_ids=[district_id])

        records_imported.connect(
            import_retires, weak=False, dispatch_uid="dashboard.versions_retire_on_import"
        )

        # The school and district reports, when their district's rollup rows changed, or its
        # settings (the minimum group size, the subject share) did.
        rollups_changed.connect(
            rollup_versions_retire, dispatch_uid="dashboard.rollup_versions_retire"
        )

        def district_saved(sender: object, *, instance: District, **kwargs: Any) -> None:
            transaction.on_commit(lambda: rollup_versions_retire(district_ids=[instance.pk]))

        post_save.connect(
            district_saved,
            sender=District,
            weak=False,
            dispatch_uid="dashboard.rollup_versions_retire_on_settings",
        )

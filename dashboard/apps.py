from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"

    def ready(self) -> None:
        from assessments.signals import mastery_changed
        from dashboard.cache import versions_retire

        # Cached section grids are retired when estimates or overrides change.
        mastery_changed.connect(versions_retire, dispatch_uid="dashboard.versions_retire")

from django.apps import AppConfig


class RollupsConfig(AppConfig):
    """Counts of mastery by school, grade, subgroup, standard and month, and by section, kept up
    to date from the estimates and the records (layer 2; read by the school and district pages)."""

    name = "rollups"
    verbose_name = "Rollups"

    def ready(self) -> None:
        from rollups import receivers  # noqa: F401  (connects the signal receivers)

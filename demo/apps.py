from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo district's generators (`seed_demo`): above every product app, imported by none."""

    name = "demo"
    verbose_name = "Demo district"

    def ready(self) -> None:
        from demo.district import seed_step_register
        from demo.mastery import seed_assessments
        from demo.records import seed_records
        from demo.rollups import seed_rollups

        seed_step_register("assessments", seed_assessments)
        seed_step_register("records", seed_records)
        seed_step_register("rollups", seed_rollups)

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo district's generators (`seed_demo`): above every product app, imported by none."""

    name = "demo"
    verbose_name = "Demo district"

    def ready(self) -> None:
        from demo.district import seed_step_register
        from demo.lessons import seed_lessons
        from demo.mastery import seed_assessments
        from demo.records import seed_records
        from demo.rollups import seed_rollups

        seed_step_register("assessments", seed_assessments)
        seed_step_register("records", seed_records)
        seed_step_register("rollups", seed_rollups)
        # Last: the plans are written by the demo teacher's login, which the logins step makes.
        seed_step_register("lessons", seed_lessons, before=None)

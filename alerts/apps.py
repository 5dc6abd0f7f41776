from django.apps import AppConfig


class AlertsConfig(AppConfig):
    """Families' alerts (issue 20): each guardian's alert preferences, the evening email about
    the day's unexcused absences and the daily or weekly digest, sent by Celery beat, and what
    was sent (so that a run twice sends nothing twice). A feature: it reads the records and
    asks accounts.access which children each guardian may see."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "alerts"
    verbose_name = "Family alerts"

    def ready(self) -> None:
        from students.inventory import register_records

        # A guardian's settings and what was sent to them are about the guardian; which of a
        # child's absences an email named is about the child.
        for label in ("alerts.AlertPreference", "alerts.AlertDelivery"):
            register_records(
                label,
                category="alerts",
                personal=False,
                note="About the guardian's login: settings and emails sent, no student named.",
            )
        register_records(
            "alerts.AlertedAbsence",
            category="alerts",
            personal=True,
            student_lookup="event__student",
        )

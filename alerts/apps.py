from django.apps import AppConfig


class AlertsConfig(AppConfig):
    """Families' alerts (issue 20): each guardian's alert preferences, the evening email about
    the day's unexcused absences and the daily or weekly digest, sent by Celery beat, and what
    was sent (so that a run twice sends nothing twice). A feature: it reads the records and
    asks accounts.access which children each guardian may see."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "alerts"
    verbose_name = "Family alerts"

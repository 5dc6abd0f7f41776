from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The families' portal (issue 20): a guardian's read-only pages about their children, in
    their language, on a phone, with who has seen each child's record. Pages by audience: it asks
    accounts.access for every child and reads through the feature apps' selectors."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "portal"
    verbose_name = "Family portal"

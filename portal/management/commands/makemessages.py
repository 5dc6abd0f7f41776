"""`manage.py makemessages -l es`, scoped to what families read: the portal and its emails,
joining (invitations, the letter), the shared layout and error pages. Staff pages stay in
English (issue 20): their files are left out of the catalogs, so the Spanish catalog holds
only strings a family can meet. Extra --ignore patterns add to these."""

from typing import Any

from django.core.management.commands import makemessages

# Matched by Django against a file's or folder's name and its path from the project root.
STAFF_ONLY = [
    # Not the product, or not read by families.
    "var",
    "bench",
    "tests",
    "test-artifacts",
    "demo",
    "config",
    "migrations",
    "*.egg-info",
    # Staff pages, by app and by template folder.
    "dashboard",
    "interop",
    "lessons",
    "rollups",
    "templates/assessments",
    "templates/students/school_invitations.html",
    "templates/accounts/admin",
    "templates/accounts/home.html",
    "templates/accounts/mfa_*.html",
    "templates/accounts/email/mfa_*",
]


class Command(makemessages.Command):
    help = (
        "Django's makemessages, leaving out the staff's pages (portal.management.commands."
        "makemessages.STAFF_ONLY)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        options["ignore_patterns"] = [*options.get("ignore_patterns", []), *STAFF_ONLY]
        super().handle(*args, **options)

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from accounts.services import InvitationError, invitation_create
from students.models import Guardian


class Command(BaseCommand):
    help = "Invite a guardian (with portal access, not contact-restricted) to create a login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("guardian_id", type=int)
        parser.add_argument("email")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument("--json", action="store_true", help="One JSON line on stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        guardian = Guardian.objects.filter(pk=options["guardian_id"], is_active=True).first()
        if guardian is None:
            raise CommandError(f"No active guardian with id {options['guardian_id']}.")
        try:
            invitation, token = invitation_create(guardian=guardian, email=options["email"])
        except InvitationError as error:
            raise CommandError(error.message) from error
        link = options["base_url"].rstrip("/") + reverse(
            "invitation_accept", kwargs={"token": token}
        )
        if options["json"]:
            payload = {
                "invitation": invitation.pk,
                "link": link,
                "expires_at": invitation.expires_at.isoformat(),
            }
            self.stdout.write(json.dumps(payload, separators=(",", ":")))
        else:
            valid_until = f"{invitation.expires_at:%Y-%m-%d}"
            self.stdout.write(f"Invitation for {guardian.display_name}, valid until {valid_until}:")
            self.stdout.write(link)

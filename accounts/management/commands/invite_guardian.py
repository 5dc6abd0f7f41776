import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.services import InvitationError, invitation_create, invitation_link, invitation_send
from students.models import Guardian


class Command(BaseCommand):
    help = (
        "Invite a guardian (with portal access, not contact-restricted) to create a login: a "
        "single-use link that expires, emailed in the guardian's language and printed here."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("guardian_id", type=int)
        parser.add_argument("email")
        parser.add_argument(
            "--base-url",
            default=None,
            help="The site's address in the link (default: TRELLIS_BASE_URL, else "
            "http://127.0.0.1:8000).",
        )
        parser.add_argument(
            "--language",
            choices=[code for code, _ in settings.LANGUAGES],
            help="The email's language (default: the guardian's).",
        )
        parser.add_argument(
            "--no-email", action="store_true", help="Only print the link; send no email."
        )
        parser.add_argument("--json", action="store_true", help="One JSON line on stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        guardian = Guardian.objects.filter(pk=options["guardian_id"], is_active=True).first()
        if guardian is None:
            raise CommandError(f"No active guardian with id {options['guardian_id']}.")
        try:
            if options["no_email"]:
                invitation, token = invitation_create(
                    guardian=guardian, email=options["email"], language=options["language"]
                )
            else:
                invitation, token = invitation_send(
                    guardian=guardian,
                    email=options["email"],
                    language=options["language"],
                    base_url=options["base_url"],
                )
        except InvitationError as error:
            raise CommandError(str(error.message)) from error
        link = invitation_link(token, options["base_url"])
        if options["json"]:
            payload = {
                "invitation": invitation.pk,
                "link": link,
                "expires_at": invitation.expires_at.isoformat(),
                "language": invitation.language,
                "emailed": invitation.sent_at is not None,
            }
            self.stdout.write(json.dumps(payload, separators=(",", ":")))
        else:
            valid_until = f"{invitation.expires_at:%Y-%m-%d}"
            self.stdout.write(f"Invitation for {guardian.display_name}, valid until {valid_until}:")
            self.stdout.write(link)
            if not options["no_email"]:
                state = "emailed" if invitation.sent_at else "NOT emailed (the mail failed)"
                self.stdout.write(f"{state} to {invitation.email} in {invitation.language}")

"""`manage.py send_mfa_enrolment EMAIL... [--reset --reason TEXT]`: email logins their two-factor
enrolment link.

For a login that has no second factor yet (an administrator made with createsuperuser, a staff
login made before TRELLIS_REQUIRE_STAFF_MFA was on, a lost link). The link goes only to the
login's own address and is never printed: it proves the mailbox, which the password alone does
not. `--reset` first removes the login's factors (a lost phone): recorded as an MFAResetRecord
with the reason and this command as its author, and logged.
"""

import getpass
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.models import MFAResetVia, User
from accounts.services import has_second_factor, mfa_enrolment_invite, mfa_reset


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class Command(BaseCommand):
    help = "Email logins (by email) a single-use link to set up two-factor authentication."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("emails", nargs="+", help="The logins' emails.")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="First remove their second factors (recorded and logged; needs --reason).",
        )
        parser.add_argument("--reason", default="", help="Why the factors are reset.")
        parser.add_argument(
            "--base-url", default=None, help="The site's address (else TRELLIS_BASE_URL)."
        )
        parser.add_argument("--json", action="store_true", help="One JSON line on stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        emails = [email.strip().lower() for email in options["emails"]]
        users = {user.email: user for user in User.objects.filter(email__in=emails)}
        missing = sorted(set(emails) - set(users))
        if missing:
            raise CommandError(f"No login with email(s): {', '.join(missing)}.")
        if options["reset"] and not options["reason"].strip():
            raise CommandError("Give --reason with --reset: it is kept with the reset.")
        if not options["reset"]:
            enrolled = sorted(email for email, user in users.items() if has_second_factor(user))
            if enrolled:
                raise CommandError(
                    f"Already set up: {', '.join(enrolled)}. Use --reset --reason to replace it."
                )
        rows = []
        with transaction.atomic():
            for email in emails:
                user = users[email]
                record = None
                if options["reset"]:
                    record = mfa_reset(
                        user=user,
                        reason=options["reason"],
                        via=MFAResetVia.COMMAND,
                        actor_label=f"manage.py send_mfa_enrolment (as {_operator()})",
                        base_url=options["base_url"],
                    )
                    invitation = record.invitation
                else:
                    invitation = mfa_enrolment_invite(user=user, base_url=options["base_url"])
                assert invitation is not None  # noqa: S101  # mfa_reset always sends one
                rows.append(
                    {
                        "user": user.pk,
                        "email": user.email,
                        "invitation": invitation.pk,
                        "sent": invitation.sent_at is not None,
                        "expires_at": invitation.expires_at.isoformat(),
                        "reset": record.pk if record is not None else None,
                    }
                )
        if options["json"]:
            self.stdout.write(json.dumps({"enrolments": rows}, separators=(",", ":")))
            return
        for row in rows:
            state = "link sent" if row["sent"] else "NOT SENT (check the email settings)"
            reset = " after a reset" if row["reset"] else ""
            self.stdout.write(f"{row['email']}: {state}{reset}, valid until {row['expires_at']}")

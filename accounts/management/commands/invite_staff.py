"""`manage.py invite_staff --all | STAFF_NUMBER...`: give imported staff records a login.

`--all` takes every active staff member who currently teaches a section and has no login yet
(after an import, the district's teachers). The login's email is the staff record's own email
when no other staff member shares it, else `<staff number>@<--domain>` (sample data repeats
placeholder emails). Each login sees exactly what accounts.services.derived_access_sync grants.

Where staff must use two-factor authentication (TRELLIS_REQUIRE_STAFF_MFA), each login without
a second factor is also emailed its single-use enrolment link (never printed: it proves the
mailbox, which the password does not); a login that has a factor keeps it. Naming a staff
number again sends a new link, replacing the pending one.
"""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count
from django.utils import timezone

from accounts.models import MFAEnrolmentInvitation
from accounts.services import staff_login_provision
from students.models import ContactDetail, ContactKind, SectionAssignment, Staff


def staff_login_email(staff: Staff, shared: set[str], domain: str) -> str:
    """The staff record's email if it is theirs alone, else one made from the staff number."""
    for contact in staff.contacts.filter(kind=ContactKind.EMAIL, is_active=True):
        email = contact.value.strip().lower()
        if "@" in email and contact.value_hash not in shared:
            return email
    local = "".join(c for c in staff.staff_number.lower() if c.isalnum() or c in "._-")
    return f"{local or f'staff{staff.pk}'}@{domain}"


class Command(BaseCommand):
    help = "Give imported staff (by default every current teacher without one) a login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("staff_numbers", nargs="*", help="Staff numbers (source ids).")
        parser.add_argument(
            "--all", action="store_true", help="Every current teacher who has no login yet."
        )
        parser.add_argument("--domain", default="example.org", help="For made-up emails.")
        parser.add_argument(
            "--password", default=None, help="An initial password (else they reset it by email)."
        )
        parser.add_argument(
            "--base-url",
            default=None,
            help="The site's address in enrolment links (else TRELLIS_BASE_URL).",
        )
        parser.add_argument("--json", action="store_true", help="One JSON line on stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["all"] == bool(options["staff_numbers"]):
            raise CommandError("Give either --all or staff numbers, not both.")
        staff = Staff.objects.filter(is_active=True)
        if options["all"]:
            teaching = SectionAssignment.objects.current().values("staff_id")
            staff = staff.filter(pk__in=teaching, user__isnull=True)
        else:
            staff = staff.filter(staff_number__in=options["staff_numbers"])
            missing = set(options["staff_numbers"]) - set(
                staff.values_list("staff_number", flat=True)
            )
            if missing:
                raise CommandError(f"No active staff with number(s): {', '.join(sorted(missing))}.")
        # Hashes of emails that more than one staff member has: never a login of its own.
        shared = set(
            ContactDetail.objects.filter(
                kind=ContactKind.EMAIL, staff__isnull=False, is_active=True
            )
            .values("value_hash")
            .annotate(owners=Count("staff", distinct=True))
            .filter(owners__gt=1)
            .values_list("value_hash", flat=True)
        )
        created: list[dict[str, Any]] = []
        for member in staff.order_by("last_name", "first_name"):
            email = staff_login_email(member, shared, options["domain"])
            started = timezone.now()
            user = staff_login_provision(
                staff=member,
                email=email,
                password=options["password"],
                base_url=options["base_url"],
            )
            enrolment = (
                MFAEnrolmentInvitation.objects.filter(user=user, created_at__gte=started)
                .order_by("-pk")
                .first()
            )
            created.append(
                {
                    "staff": member.staff_number,
                    "email": user.email,
                    "user": user.pk,
                    # The two-factor enrolment link emailed now, if any (None: none was needed).
                    "enrolment": None
                    if enrolment is None
                    else {
                        "invitation": enrolment.pk,
                        "sent": enrolment.sent_at is not None,
                        "expires_at": enrolment.expires_at.isoformat(),
                    },
                }
            )
        if options["json"]:
            self.stdout.write(json.dumps({"logins": created}, separators=(",", ":")))
            return
        for row in created:
            sent = row["enrolment"]["sent"] if row["enrolment"] else None
            if sent is None:
                self.stdout.write(f"{row['staff']}: {row['email']}")
            elif sent:
                self.stdout.write(
                    f"{row['staff']}: {row['email']} (two-factor enrolment link sent)"
                )
            else:
                self.stdout.write(
                    f"{row['staff']}: {row['email']} (two-factor enrolment link NOT sent: "
                    "check the email settings, then run invite_staff for this number again)"
                )
        self.stdout.write(f"{len(created)} login(s) given.")

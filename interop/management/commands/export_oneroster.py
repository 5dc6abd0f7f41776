"""`manage.py export_oneroster OUT.zip [--version 1.1|1.2] [--school ID] [--bom]`: a bulk export
that a strict validator accepts (interop.oneroster.exporter), UTF-8 without a byte order mark
unless --bom asks for one.

With `--recipient NAME --basis BASIS`, the file goes to someone outside the district's own
officials (a vendor, a researcher), so it is a disclosure (34 CFR 99.31-99.32): it goes through
rights.services.disclose, which refuses it without a lawful basis for every student in it (then
no file is left), and writes a disclosure record per student. Families' statements about values
in the file (99.21(c)) are written beside it, as OUT.statements.txt, to be sent with it."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.access import CommandAccess
from interop.oneroster.exporter import ExportError, oneroster_export
from privacy.services import StudentRef, log_shown
from rights.models import ConsentRequest, DisclosureBasis, Recipient
from rights.services import DisclosureRefused, DisclosureResult, disclose
from students.models import Student

# What a OneRoster file holds of a student, as data_inventory's categories name it: the user row
# and demographics, classes and enrollments, guardians as agents, emails and phones, results.
ONEROSTER_CATEGORIES = ["student", "enrollment", "guardians", "contacts", "assessments"]


class Command(BaseCommand):
    help = (
        "Export the district's (or one school's) records as a OneRoster bulk CSV zip; to an "
        "outside recipient, as a disclosure (--recipient and --basis)."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # The issue's `--version 1.1|1.2` replaces Django's own --version (the Django release).
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", type=Path)
        parser.add_argument("--version", dest="or_version", choices=["1.1", "1.2"], default="1.2")
        parser.add_argument("--school", type=int, help="Only this school (its id in Trellis).")
        parser.add_argument("--district", type=int, help="The district, when there are several.")
        parser.add_argument(
            "--recipient",
            help="The outside recipient, by name, as the privacy office recorded it: the export "
            "is then a disclosure, refused without a lawful basis.",
        )
        parser.add_argument(
            "--basis",
            choices=DisclosureBasis.values,
            help="The disclosure's lawful basis (with --recipient).",
        )
        parser.add_argument("--purpose", default="", help="Why the recipient receives it.")
        parser.add_argument(
            "--reference", default="", help="The contract, court order or subpoena number."
        )
        parser.add_argument(
            "--consent-request", type=int, help="The consent request (with --basis consent)."
        )
        parser.add_argument(
            "--bom",
            action="store_true",
            help="Start each file with a UTF-8 byte order mark (for spreadsheet programs that "
            "need one); without it, UTF-8 without one, as the standard's validators expect.",
        )
        parser.add_argument(
            "--json", action="store_true", help="One JSON object as the last line of stdout."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        out: Path = options["out"]
        recipient = self._recipient(options)
        grant = CommandAccess("export_oneroster")
        partial = out.with_name(out.name + ".partial")
        disclosed: list[DisclosureResult] = []

        def students_shown(students: list[StudentRef]) -> None:
            if recipient is not None:
                # Refused (DisclosureRefused) before any read is logged or the file is kept.
                disclosed.append(self._disclose(recipient, students, options))
            # Every student whose records the zip holds, as one read by district IT.
            log_shown(None, grant, what="OneRoster export", students=students, path=grant.path)

        try:
            with transaction.atomic():
                counts = oneroster_export(
                    out=partial,
                    version=options["or_version"],
                    school_id=options["school"],
                    district_id=options["district"],
                    students_shown=students_shown,
                    bom=options["bom"],
                )
        except (ExportError, DisclosureRefused) as exc:
            partial.unlink(missing_ok=True)
            message = exc.message if isinstance(exc, DisclosureRefused) else str(exc)
            if isinstance(exc, DisclosureRefused):
                message = f"The export is a disclosure, and it is refused: {message}"
            raise CommandError(message) from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(out)
        # The rows per file: the result on stdout, or (with --json) in the JSON, counted on stderr.
        rows_out = self.stderr if options["json"] else self.stdout
        for name, count in counts.items():
            rows_out.write(f"{name + '.csv':<36} {count:>10,} rows")
        summary: dict[str, Any] = {"out": str(out), "rows": counts}
        if disclosed:
            result = disclosed[0]
            statements_path = out.with_name(out.name + ".statements.txt")
            if result.statements:
                statements_path.write_text(
                    "\n\n".join(
                        f"{s.record_label}: “{s.contested_value}”. The family's statement "
                        f"({s.statement_at:%Y-%m-%d}): {s.statement}"
                        if s.statement_at
                        else f"{s.record_label}: “{s.contested_value}”. {s.statement}"
                        for s in result.statements
                    )
                    + "\n",
                    encoding="utf-8",
                )
                self.stderr.write(
                    f"{len(result.statements)} family statement(s) to send with it: "
                    f"{statements_path}"
                )
            summary["disclosure"] = {
                "recipient": recipient.name if recipient else "",
                "basis": options["basis"],
                "records": len(result.records),
                "statements": len(result.statements),
                "statements_file": str(statements_path) if result.statements else None,
            }
            self.stderr.write(
                f"Disclosed to {summary['disclosure']['recipient']}: "
                f"{len(result.records)} disclosure record(s) written"
            )
        if options["json"]:
            self.stdout.write(json.dumps(summary))
        else:
            self.stdout.write(f"Wrote {out}")

    def _recipient(self, options: dict[str, Any]) -> Recipient | None:
        name = options["recipient"]
        if name is None:
            if options["basis"] or options["consent_request"]:
                raise CommandError("--basis and --consent-request go with --recipient.")
            return None
        if not options["basis"]:
            raise CommandError("A disclosure names its lawful basis: add --basis.")
        found = list(Recipient.objects.filter(name__iexact=name.strip(), is_active=True)[:2])
        if len(found) != 1:
            raise CommandError(
                f"{'Several recipients are' if found else 'No recipient is'} named {name!r}: "
                "the privacy office records recipients (/privacy/consents/)."
            )
        return found[0]

    def _disclose(
        self, recipient: Recipient, students: list[StudentRef], options: dict[str, Any]
    ) -> DisclosureResult:
        consent_request = None
        if options["consent_request"] is not None:
            consent_request = ConsentRequest.objects.filter(
                pk=options["consent_request"], district=recipient.district
            ).first()
            if consent_request is None:
                raise CommandError(
                    f"No consent request {options['consent_request']} in the recipient's district."
                )
        return disclose(
            acting_user=None,
            students=Student.objects.filter(pk__in=[student.id for student in students]),
            recipient=recipient,
            categories=ONEROSTER_CATEGORIES,
            description=f"A OneRoster {options['or_version']} export: the student, classes and "
            "enrollments, guardians, contacts and results.",
            basis=options["basis"],
            purpose=options["purpose"],
            reference=options["reference"],
            consent_request=consent_request,
            actor_app="export_oneroster",
        )

"""`manage.py export_oneroster OUT.zip [--version 1.1|1.2] [--school ID]`: a bulk export."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.access import CommandAccess
from interop.oneroster.exporter import ExportError, oneroster_export
from privacy.services import log_shown


class Command(BaseCommand):
    help = "Export the district's (or one school's) records as a OneRoster bulk CSV zip."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # The issue's `--version 1.1|1.2` replaces Django's own --version (the Django release).
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", type=Path)
        parser.add_argument("--version", dest="or_version", choices=["1.1", "1.2"], default="1.2")
        parser.add_argument("--school", type=int, help="Only this school (its id in Trellis).")
        parser.add_argument("--district", type=int, help="The district, when there are several.")

    def handle(self, *args: Any, **options: Any) -> None:
        grant = CommandAccess("export_oneroster")
        try:
            counts = oneroster_export(
                out=options["out"],
                version=options["or_version"],
                school_id=options["school"],
                district_id=options["district"],
                # Every student whose records the zip holds, as one read by district IT.
                students_shown=lambda students: log_shown(
                    None, grant, what="OneRoster export", students=students, path=grant.path
                ),
            )
        except ExportError as exc:
            raise CommandError(str(exc)) from exc
        for name, count in counts.items():
            self.stdout.write(f"{name + '.csv':<36} {count:>10,} rows")
        self.stdout.write(f"Wrote {options['out']}")

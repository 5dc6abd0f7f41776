"""`manage.py import_oneroster PATH [--dry-run] [--json]`: import a OneRoster 1.1/1.2 CSV export.

All or nothing: any error and nothing is written, every error (up to --error-limit) is printed
with the total, and the command exits 1. A progress bar per file goes to stderr. With --json,
the last line on stdout is one JSON object: per entity created/updated/deactivated/unchanged,
and errors as [{file, line, column, message}].
"""

from typing import IO, Any, cast

import orjson
from django.core.management.base import BaseCommand, CommandError, CommandParser

from interop.progress import Progress, TerminalProgress
from interop.report import ImportReport
from interop.services import import_execute


def report_print(command: BaseCommand, report: ImportReport, *, as_json: bool) -> None:
    """The report for people on stdout (and the JSON line last, when asked for)."""
    out = command.stdout
    if not as_json:
        verb = "Would change" if report.dry_run and report.ok else "Changed"
        if report.ok:
            out.write(f"{verb} (created / updated / deactivated / unchanged):")
            for name, counts in report.counts.items():
                out.write(
                    f"  {name:<28} {counts.created:>9,} {counts.updated:>9,} "
                    f"{counts.deactivated:>9,} {counts.unchanged:>9,}"
                )
            for note in report.notes:
                out.write(f"  note: {note}")
    for issue in report.errors.kept:
        command.stderr.write(str(issue))
    if report.errors.total > len(report.errors.kept):
        command.stderr.write(
            f"... and {report.errors.total - len(report.errors.kept):,} more errors."
        )
    if report.errors:
        at_least = "at least " if report.errors.total_is_minimum else ""
        command.stderr.write(
            f"{at_least}{report.errors.total:,} errors in all: nothing was written."
        )
    if as_json:
        out.write(orjson.dumps(report.as_json()).decode())


class Command(BaseCommand):
    help = "Import a OneRoster 1.1 or 1.2 CSV export (a zip or a folder), all or nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="A zip file or a folder with manifest.csv.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and count; write nothing."
        )
        parser.add_argument("--json", action="store_true", help="End with a one-line JSON report.")
        parser.add_argument(
            "--error-limit",
            type=int,
            default=None,
            help="How many errors to keep and print (default: TRELLIS_IMPORT_ERROR_LIMIT, 200).",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bars.")

    def handle(self, *args: Any, **options: Any) -> None:
        progress = (
            Progress()
            if options["no_progress"]
            else TerminalProgress(cast(IO[str], self.stderr._out))
        )
        report = import_execute(
            format="oneroster",
            path=options["path"],
            dry_run=options["dry_run"],
            progress=progress,
            error_limit=options["error_limit"],
        )
        report_print(self, report, as_json=options["json"])
        if not report.ok:
            raise CommandError("The import failed; see the errors above.", returncode=1)

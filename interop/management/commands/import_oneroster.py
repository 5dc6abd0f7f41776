"""`manage.py import_oneroster PATH [--dry-run] [--json] [--district D]`: import a OneRoster 1.1/1.2
CSV export.

All or nothing: any error and nothing is written, every error (up to --error-limit) is printed
with the total, and the command exits 1. Warnings (accepted, but worth knowing) and the values
read as others (mappings, with counts) are printed too. A progress bar per file goes to stderr.
With --json, the last line on stdout is one JSON object: per entity
created/updated/deactivated/unchanged, errors as [{file, line, column, message}], warnings the
same, and mappings as [{file, column, from, to, count}]. --district (an id, or a district's exact
name) is the district to import into: an export with no `district` org needs it unless Trellis
holds a single OneRoster district, and an export with one must be that district's.
"""

from typing import IO, Any, cast

import orjson
from django.core.management.base import BaseCommand, CommandError, CommandParser

from interop.progress import Progress, TerminalProgress
from interop.report import ImportReport
from interop.services import import_execute
from students.models import District


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
        for mapping in report.mappings_json():
            out.write(
                f"  read as: {mapping['file']} [{mapping['column']}] {mapping['from']!r} as "
                f"{mapping['to']!r} ({mapping['count']:,})"
            )
        for warning in report.warnings.kept:
            out.write(f"  warning: {warning}")
        if report.warnings.total > len(report.warnings.kept):
            out.write(
                f"  ... and {report.warnings.total - len(report.warnings.kept):,} more warnings."
            )
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
        parser.add_argument(
            "--district",
            default=None,
            help="The district to import into (an id or its exact name): needed for an export "
            "with no district org when Trellis holds several districts.",
        )

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
            district_id=district_named(options["district"]),
            progress=progress,
            error_limit=options["error_limit"],
        )
        report_print(self, report, as_json=options["json"])
        if not report.ok:
            raise CommandError("The import failed; see the errors above.", returncode=1)


def district_named(given: str | None) -> int | None:
    """The id of the district --district names (an id or an exact name), or a CommandError."""
    if given is None:
        return None
    given = given.strip()
    found = list(
        District.objects.filter(pk=int(given)).values_list("pk", flat=True)
        if given.isdigit()
        else District.objects.filter(name__iexact=given).values_list("pk", flat=True)[:2]
    )
    if len(found) != 1:
        problem = "No district" if not found else "More than one district"
        raise CommandError(f"{problem} named {given!r} (give its id or its exact name).")
    return found[0]

"""`manage.py import_edfi PATH [--dry-run] [--json]`: import Ed-Fi XML interchange files.

PATH is a folder or a zip (Ed-Fi 1.x as inBloom used it, or Ed-Fi 5.2); MainControlFile.ctl sets
the order when present. All or nothing: any error and nothing is written, every error is printed
(file, line, element) with the total, and the command exits 1. A progress bar per file goes to
stderr. With --json, the last line on stdout is one JSON object: per entity created / updated /
deactivated / unchanged, notes (what was merged or not kept, and why) and errors.
"""

from typing import IO, Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser

from interop.edfi.service import FORMAT
from interop.management.commands.import_oneroster import report_print
from interop.progress import Progress, TerminalProgress
from interop.services import import_execute


class Command(BaseCommand):
    help = "Import Ed-Fi XML interchange files (a folder or a zip), all or nothing."
    # The system checks import every URL and view module before the first file is read (about
    # a third of a second, a fifth of a district like Daybreak's import): `manage.py check` and
    # the deploy run them, not each nightly import.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="A folder or a zip of interchange files.")
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
            format=FORMAT,
            path=options["path"],
            dry_run=options["dry_run"],
            progress=progress,
            error_limit=options["error_limit"],
        )
        report_print(self, report, as_json=options["json"])
        if not report.ok:
            raise CommandError("The import failed; see the errors above.", returncode=1)

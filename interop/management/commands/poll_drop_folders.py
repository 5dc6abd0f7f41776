"""`manage.py poll_drop_folders [--district ID] [--json]`: poll the districts' drop folders now.

What Celery beat does every two minutes (interop.dropfolder), once, with the imports run here
rather than queued: each entry's fate goes to stderr as the poll goes (waiting, importing, the
run's outcome). With --json, the last line on stdout is one JSON object: {"ok": bool,
"runs": [run ids], "folders": [{district_id, district, folder, error, entries: [{name, action,
detail, run_id, format, status}]}]}. Exits 1 when a folder could not be read or an import
failed (its report is emailed to district IT as well).
"""

from typing import Any

import orjson
from django.core.management.base import BaseCommand, CommandError, CommandParser

from interop.dropfolder import drop_folders_poll
from interop.models import ImportStatus
from students.models import District


class Command(BaseCommand):
    help = "Poll the districts' drop folders now, and import every new complete file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--district", type=int, default=None, help="Only this district (its id)."
        )
        parser.add_argument("--json", action="store_true", help="End with a one-line JSON report.")

    def handle(self, *args: Any, **options: Any) -> None:
        district_id = options["district"]
        if district_id is not None and not District.objects.filter(pk=district_id).exists():
            raise CommandError(f"No district with id {district_id}.")
        outcomes = drop_folders_poll(
            district_id=district_id, run_now=True, say=lambda text: self.stderr.write(text)
        )
        if not outcomes:
            self.stderr.write("No district has a drop folder (District.import_drop_folder).")
        runs = [
            entry for outcome in outcomes for entry in outcome.entries if entry.action == "queued"
        ]
        failed = [entry for entry in runs if entry.status == ImportStatus.FAILED]
        unreadable = [outcome for outcome in outcomes if outcome.error]
        for outcome in unreadable:
            self.stderr.write(f"{outcome.district}: {outcome.error}")
        ok = not failed and not unreadable
        if options["json"]:
            report = {
                "ok": ok,
                "runs": [entry.run_id for entry in runs],
                "folders": [outcome.as_json() for outcome in outcomes],
            }
            self.stdout.write(orjson.dumps(report).decode())
        else:
            self.stdout.write(
                f"{len(runs)} imports started, {len(failed)} failed, "
                f"{len(outcomes)} folders polled."
            )
        if not ok:
            raise CommandError("A drop folder could not be read or an import failed.", returncode=1)

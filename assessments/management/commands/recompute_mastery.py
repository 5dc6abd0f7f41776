import json
import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from assessments.engine import estimates_recompute
from assessments.models import MasteryEstimate
from students.models import Enrollment

BATCH = 500


class Command(BaseCommand):
    help = "Recompute mastery estimates from the scores alone, with a progress bar on stderr."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        scope = parser.add_mutually_exclusive_group(required=True)
        scope.add_argument("--all", action="store_true", help="Every estimate of every district.")
        scope.add_argument("--section", type=int, help="The current students of one section.")
        scope.add_argument("--student", type=int, help="One student.")
        parser.add_argument("--json", action="store_true", help="One JSON line on stdout.")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        estimates = MasteryEstimate.objects.all()
        if options["section"] is not None:
            student_ids = (
                Enrollment.objects.current()
                .filter(section_id=options["section"])
                .values("student_id")
            )
            estimates = estimates.filter(student_id__in=student_ids)
        elif options["student"] is not None:
            estimates = estimates.filter(student_id=options["student"])
        ids = list(estimates.order_by("pk").values_list("pk", flat=True))
        if not ids and not options["all"]:
            raise CommandError(
                "No mastery estimates in that scope (no scores aligned to standards yet)."
            )
        # A full recompute from the evidence, not the stored incremental state.
        for start in range(0, len(ids), 5000):
            MasteryEstimate.objects.filter(Q(pk__in=ids[start : start + 5000])).update(
                needs_full_recompute=True
            )
        started = time.monotonic()
        changed = 0
        for start in range(0, len(ids), BATCH):
            changed += estimates_recompute(ids[start : start + BATCH])
            done = min(start + BATCH, len(ids))
            rate = done / max(time.monotonic() - started, 1e-6)
            width = 30
            filled = int(width * done / len(ids))
            bar = "#" * filled + "." * (width - filled)
            sys.stderr.write(f"\r[{bar}] {done}/{len(ids)} estimates, {rate:,.0f}/s")
            sys.stderr.flush()
        sys.stderr.write("\n")
        elapsed = time.monotonic() - started
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {"estimates": len(ids), "changed": changed, "seconds": round(elapsed, 3)},
                    separators=(",", ":"),
                )
            )
        else:
            self.stdout.write(
                f"{len(ids)} estimates recomputed in {elapsed:.1f} s ({changed} written)."
            )

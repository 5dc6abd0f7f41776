import json
import multiprocessing
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, connections
from django.db.models import Q
from django.utils import timezone

from assessments.engine import estimates_recompute
from assessments.models import LearnerState, MasteryEstimate
from students.models import Enrollment

if TYPE_CHECKING:
    from multiprocessing.sharedctypes import Synchronized

BATCH = 500


def _progress_bar(done: int, total: int, started: float) -> None:
    rate = done / max(time.monotonic() - started, 1e-6)
    width = 30
    filled = int(width * done / max(total, 1))
    bar = "#" * filled + "." * (width - filled)
    sys.stderr.write(f"\r[{bar}] {done}/{total} estimates, {rate:,.0f}/s")
    sys.stderr.flush()


def _recompute(ids: Sequence[int], on_batch: Callable[[int, int], None]) -> None:
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        on_batch(len(batch), estimates_recompute(batch))


def _recompute_part(
    ids: list[int], done: "Synchronized[int]", changed: "Synchronized[int]"
) -> None:
    def count(batch_size: int, batch_changed: int) -> None:
        with done.get_lock():
            done.value += batch_size
        with changed.get_lock():
            changed.value += batch_changed

    # Fresh connection objects: a forked child must never use one it inherited (after threaded
    # code in the parent, the one it finds can be another thread's, open, and shared with its
    # siblings). The inherited ones stay referenced, so nothing closes the parent's session.
    for alias in connections:
        connections[alias] = connections.create_connection(alias)
    try:
        _recompute(ids, count)
    except BaseException:
        # The parent reports the exit code; the reason goes to this process's stderr.
        traceback.print_exc()
        raise
    finally:
        connections.close_all()


class Command(BaseCommand):
    help = "Recompute mastery estimates from the scores alone, with a progress bar on stderr."

    def add_arguments(self, parser: CommandParser) -> None:
        scope = parser.add_mutually_exclusive_group(required=True)
        scope.add_argument("--all", action="store_true", help="Every estimate of every district.")
        scope.add_argument("--section", type=int, help="The current students of one section.")
        scope.add_argument("--student", type=int, help="One student.")
        parser.add_argument(
            "--processes",
            type=int,
            default=1,
            help="Recompute in this many processes, each taking whole students (PostgreSQL).",
        )
        parser.add_argument("--json", action="store_true", help="One JSON line on stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        processes = options["processes"]
        if processes < 1:
            raise CommandError("--processes must be at least 1.")
        if processes > 1 and connection.vendor != "postgresql":
            raise CommandError("--processes above 1 needs PostgreSQL: SQLite allows one writer.")
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
        # Grouped by student: a student's learner state is read and written once per batch.
        rows = list(estimates.order_by("student_id", "pk").values_list("pk", "student_id"))
        ids = [pk for pk, _ in rows]
        if not ids and not options["all"]:
            raise CommandError(
                "No mastery estimates in that scope (no scores aligned to standards yet)."
            )
        # A full recompute from the evidence, not the stored incremental state: the pairs' states
        # and the students' learner states are rebuilt from the scores alone.
        # Marked pending too, so that the sweep finishes what an interrupted run leaves.
        now = timezone.now()
        for start in range(0, len(ids), 5000):
            MasteryEstimate.objects.filter(Q(pk__in=ids[start : start + 5000])).update(
                needs_full_recompute=True, pending_since=now
            )
        learner_states = LearnerState.objects.all()
        if not options["all"]:
            learner_states = learner_states.filter(student_id__in=estimates.values("student_id"))
        learner_states.update(counters={})

        started = time.monotonic()
        if processes == 1:
            progress = {"done": 0, "changed": 0}

            def count(batch_size: int, batch_changed: int) -> None:
                progress["done"] += batch_size
                progress["changed"] += batch_changed
                _progress_bar(progress["done"], len(ids), started)

            _recompute(ids, count)
            changed = progress["changed"]
        else:
            changed = self._recompute_in_processes(rows, processes, started)
        sys.stderr.write("\n")
        elapsed = time.monotonic() - started
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "estimates": len(ids),
                        "changed": changed,
                        "seconds": round(elapsed, 3),
                        "processes": processes,
                    },
                    separators=(",", ":"),
                )
            )
        else:
            self.stdout.write(
                f"{len(ids)} estimates recomputed in {elapsed:.1f} s ({changed} written)."
            )

    def _recompute_in_processes(
        self, rows: list[tuple[int, int]], processes: int, started: float
    ) -> int:
        # Each process takes whole students, so no two lock the same learner state.
        parts: list[list[int]] = [[] for _ in range(processes)]
        for pk, student_id in rows:
            parts[student_id % processes].append(pk)
        context = multiprocessing.get_context("fork")
        done, changed = context.Value("q", 0), context.Value("q", 0)
        connections.close_all()  # children open their own connections
        workers = [
            context.Process(target=_recompute_part, args=(part, done, changed))
            for part in parts
            if part
        ]
        for worker in workers:
            worker.start()
        while any(worker.is_alive() for worker in workers):
            _progress_bar(done.value, len(rows), started)
            time.sleep(0.25)
        for worker in workers:
            worker.join()
        _progress_bar(done.value, len(rows), started)
        failed = [worker.exitcode for worker in workers if worker.exitcode != 0]
        if failed:
            raise CommandError(
                f"{len(failed)} of {len(workers)} recompute processes failed "
                f"(exit codes {failed}); estimates they did not reach stay pending for the sweep."
            )
        return changed.value

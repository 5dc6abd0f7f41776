import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from privacy.services import encrypted_values_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field with the first key of TRELLIS_FIELD_KEYS. Put the new "
        "key first, keep the old ones after it, run this, then drop the old keys."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument("--json", action="store_true", help="One JSON line on stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(label: str, done: int) -> None:
            sys.stderr.write(f"\r{label}: {done} rows re-encrypted")
            sys.stderr.flush()

        rotated = encrypted_values_rotate(batch_size=options["batch_size"], progress=progress)
        sys.stderr.write("\n")
        if options["json"]:
            self.stdout.write(json.dumps({"rotated": rotated}, separators=(",", ":")))
        else:
            for label, count in rotated.items():
                self.stdout.write(f"{label}: {count} rows re-encrypted")

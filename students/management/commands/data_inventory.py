"""How many active records of each kind: `python manage.py data_inventory [--json]`."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from students.inventory import inventory_counts


class Command(BaseCommand):
    help = (
        "Count the active records of each kind (students, guardians, staff, sections, …) and "
        "every access-log row. Apps add their own kinds through students.inventory."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--json", action="store_true", help="One JSON object of counts, the last line."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = inventory_counts()
        if options["json"]:
            self.stdout.write(json.dumps(counts, separators=(",", ":")))
            return
        width = max(len("records"), *(len(key) for key in counts))
        numbers = {key: f"{count:,}" for key, count in counts.items()}
        number_width = max(len("count"), *(len(text) for text in numbers.values()))
        self.stdout.write(f"{'records':<{width}}  {'count':>{number_width}}")
        self.stdout.write(f"{'-' * width}  {'-' * number_width}")
        for key, text in numbers.items():
            self.stdout.write(f"{key:<{width}}  {text:>{number_width}}")

"""How many active records of each kind: `python manage.py data_inventory [--json]`; and what
each model holds about a student: `python manage.py data_inventory --registry [--json]`."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from students.inventory import inventory_counts, registered_records


class Command(BaseCommand):
    help = (
        "Count the active records of each kind (students, guardians, staff, sections, …) and "
        "every access-log row. Apps add their own kinds through students.inventory. With "
        "--registry: each model, whether it holds personal data about a student, its data "
        "category and how a student's rows are found."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="One JSON value, the last line.")
        parser.add_argument(
            "--registry",
            action="store_true",
            help="List the registry of records (model, personal, category, lookup) instead.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["registry"]:
            self._registry(as_json=options["json"])
            return
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

    def _registry(self, *, as_json: bool) -> None:
        # No student's data: the command says where it is, never what it holds (a read of a
        # student's records is a logged page, not a shell command).
        rows = [
            {
                "model": entry.label,
                "personal": entry.personal,
                "category": entry.category,
                "lookup": entry.lookup_text if entry.personal else None,
                "note": entry.note,
            }
            for entry in registered_records()
        ]
        if as_json:
            self.stdout.write(json.dumps(rows, separators=(",", ":"), ensure_ascii=False))
            return
        columns = ["model", "personal", "category", "lookup"]
        texts: list[dict[str, str]] = [
            {
                "model": entry.label,
                "personal": "yes" if entry.personal else "no",
                "category": entry.category,
                "lookup": entry.lookup_text if entry.personal else "-",
            }
            for entry in registered_records()
        ]
        widths = {name: max(len(name), *(len(text[name]) for text in texts)) for name in columns}
        self.stdout.write("  ".join(f"{name:<{widths[name]}}" for name in columns).rstrip())
        self.stdout.write("  ".join("-" * widths[name] for name in columns))
        for text in texts:
            self.stdout.write(
                "  ".join(f"{text[name]:<{widths[name]}}" for name in columns).rstrip()
            )

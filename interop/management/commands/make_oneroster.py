"""`manage.py make_oneroster OUT --students N`: write a realistic OneRoster 1.2 export."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from interop.oneroster.generator import oneroster_generate


class Command(BaseCommand):
    help = "Write a made-up district's OneRoster 1.2 bulk export (a folder, or a .zip)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", type=Path)
        parser.add_argument("--students", type=int, default=1000)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--no-results", action="store_true", help="Rosters only.")

    def handle(self, *args: Any, **options: Any) -> None:
        counts = oneroster_generate(
            out=options["out"],
            students=options["students"],
            seed=options["seed"],
            results=not options["no_results"],
        )
        for name, count in counts.items():
            self.stdout.write(f"{name + '.csv':<36} {count:>10,} rows")

"""Build the demo district: `python manage.py seed_demo [--students N] [--seed S] [--reset]`."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from demo.district import (
    DEFAULT_SEED,
    DEFAULT_STUDENTS,
    DEMO_PASSWORD,
    MIN_STUDENTS,
    build_demo_district,
    demo_district_delete,
    demo_district_get,
    demo_tables_analyze,
)


class Command(BaseCommand):
    help = (
        "Build a realistic synthetic district (schools, staff, sections, students, families, "
        "programs) and four demo logins. The same seed builds the same district. Does nothing "
        "if the demo district exists, unless --reset."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--students", type=int, default=DEFAULT_STUDENTS)
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo district (not the access log) and build it again.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["students"] < MIN_STUDENTS:
            raise CommandError(f"--students must be at least {MIN_STUDENTS}.")
        existing = demo_district_get()
        if existing is not None and not options["reset"]:
            self.stderr.write(
                f"The demo district ({existing.name}) already exists: nothing to do. "
                "Use --reset to build it again."
            )
            return
        try:
            with transaction.atomic():
                if existing is not None:
                    demo_district_delete(stderr=self.stderr)
                demo = build_demo_district(
                    students=options["students"],
                    seed=options["seed"],
                    stdout=self.stdout,
                    stderr=self.stderr,
                )
        except ValidationError as exc:
            raise CommandError(f"Could not create the demo logins: {exc}") from exc
        demo_tables_analyze(stderr=self.stderr)

        width = max(len(login.email) for login in demo.logins)
        self.stdout.write(f"Demo district: {demo.district.name}")
        self.stdout.write(f"Demo logins (password: {DEMO_PASSWORD}):")
        for login in demo.logins:
            self.stdout.write(f"  {login.email:<{width}}  {login.who}")

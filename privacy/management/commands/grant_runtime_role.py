from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, DatabaseError

from privacy.roles import (
    DEFAULT_RUNTIME_ROLE,
    RuntimeRoleError,
    runtime_role_drop,
    runtime_role_grant,
    runtime_role_problems,
    runtime_role_sql,
)


class Command(BaseCommand):
    help = (
        "The runtime database role that web processes and workers connect as (PostgreSQL): it "
        "owns nothing, reads and writes the application's tables, and only reads and appends to "
        "the access log. Prints the SQL by default; --apply runs it as the tables' owner (run "
        "it again after every migrate), --check says how the role could still change or erase "
        "the log (exit status 1 if it could). See docs/database-roles.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--role", default=DEFAULT_RUNTIME_ROLE, help="default: %(default)s")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)
        action = parser.add_mutually_exclusive_group()
        action.add_argument(
            "--apply",
            action="store_true",
            help="Create the role if missing and grant, in one transaction (as the owner).",
        )
        action.add_argument(
            "--check", action="store_true", help="Report how the role could change the log."
        )
        action.add_argument(
            "--drop", action="store_true", help="Take back the role's grants and drop it."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        role, using = options["role"], options["database"]
        try:
            if options["check"]:
                problems = runtime_role_problems(role=role, using=using)
                for problem in problems:
                    self.stdout.write(problem)
                if problems:
                    raise CommandError(f"{role} could change or erase the access log.")
                self.stdout.write(f"{role} cannot change or erase the access log.")
            elif options["drop"]:
                for statement in runtime_role_drop(role=role, using=using):
                    self.stdout.write(f"{statement};")
            elif options["apply"]:
                statements = runtime_role_grant(role=role, using=using)
                self.stdout.write(
                    f"{role}: {len(statements)} statements run; it cannot change or erase the "
                    "access log. Set its password with psql's \\password if it has none."
                )
            else:
                for statement in runtime_role_sql(role=role, using=using):
                    self.stdout.write(f"{statement};")
        except (RuntimeRoleError, DatabaseError) as error:
            raise CommandError(str(error)) from error

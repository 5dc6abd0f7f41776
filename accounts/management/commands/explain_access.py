"""`manage.py explain_access USER STUDENT [--json]`: why a user may see a student today.

USER is a login email or a user id; STUDENT a student id or, with `--number`, a student
number. Prints every basis that grants access (role, purpose, the rows behind it and the dates it
runs between), or says that none does. The answer is accounts.access's own.
"""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.access import CommandAccess, explain
from accounts.models import User
from privacy.services import log_shown
from students.models import Student


class Command(BaseCommand):
    help = "Explain every basis on which a user may see a student today, or say none does."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user", help="The user's login email or id.")
        parser.add_argument("student", help="The student's id (or number, with --number).")
        parser.add_argument(
            "--number", action="store_true", help="STUDENT is a student number, not an id."
        )
        parser.add_argument("--json", action="store_true", help="One JSON object on stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = self._user(options["user"])
        student = self._student(options["student"], by_number=options["number"])
        explanations = explain(user, student)
        grant = CommandAccess("explain_access")
        what = "why a user may see a student"
        log_shown(None, grant, what=what, students=[student], path=grant.path)
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "user": user.email,
                        "student": student.pk,
                        "may_see": bool(explanations),
                        "bases": [e.as_dict() for e in explanations],
                    }
                )
            )
            return
        who = f"{user.email} (user {user.pk})"
        whom = f"{student.display_name} (student {student.pk})"
        if not explanations:
            self.stdout.write(f"{who} may not see {whom} today: no basis grants it.")
            return
        self.stdout.write(f"{who} may see {whom} today, on {len(explanations)} basis(es):")
        for e in explanations:
            self.stdout.write(f"- {e.basis.label}, as {e.role}: {e.purpose}.")
            self.stdout.write(f"  via {e.via}, {e.period}.")

    def _user(self, value: str) -> User:
        user = (
            User.objects.filter(pk=int(value)).first()
            if value.isdigit()
            else User.objects.filter(email__iexact=value.strip()).first()
        )
        if user is None:
            raise CommandError(f"No user {value!r}: give a login email or a user id.")
        return user

    def _student(self, value: str, *, by_number: bool) -> Student:
        if by_number:
            matches = list(Student.objects.filter(student_number=value)[:2])
            if len(matches) > 1:
                raise CommandError(f"Several students have number {value!r}: give the id.")
            student = matches[0] if matches else None
        else:
            student = Student.objects.filter(pk=int(value)).first() if value.isdigit() else None
        if student is None:
            kind = "number" if by_number else "id (a whole number)"
            raise CommandError(f"No student with {kind} {value!r}.")
        return student

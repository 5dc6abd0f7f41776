"""Writes to the access log. One row per student shown, in one INSERT per response."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from privacy.crypto import pseudonymous_key
from privacy.models import AccessLogEntry


@dataclass(frozen=True)
class StudentRef:
    """What the log needs of a student: its id and its stable uuid."""

    id: int
    uuid: str


def student_log_key(student_uuid: object) -> str:
    return pseudonymous_key("student", str(student_uuid))


def access_log_record(
    *,
    actor: object,
    role: str,
    what: str,
    students: Iterable[object],
    path: str = "",
    purpose: str = "",
    actor_app: str = "",
) -> int:
    """Append one row per distinct student shown; returns how many rows were written.

    `students` holds Student instances or StudentRef values (anything with .id and .uuid).
    """
    now = timezone.now()
    actor_user = actor if getattr(actor, "is_authenticated", False) else None
    actor_label = actor_app or (str(getattr(actor_user, "email", "")) if actor_user else "")
    seen: set[int] = set()
    rows = []
    for student in students:
        student_id = student.id  # type: ignore[attr-defined]
        if student_id in seen:
            continue
        seen.add(student_id)
        rows.append(
            AccessLogEntry(
                at=now,
                actor_user=actor_user,
                actor_app=actor_app,
                actor_label=actor_label,
                role=role,
                what=what,
                path=path[:500],
                purpose=purpose,
                student_id=student_id,
                student_key=student_log_key(student.uuid),  # type: ignore[attr-defined]
            )
        )
    AccessLogEntry.objects.bulk_create(rows)
    return len(rows)

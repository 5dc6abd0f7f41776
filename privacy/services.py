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


def encrypted_values_rotate(*, batch_size: int = 2000, progress: object = None) -> dict[str, int]:
    """Re-encrypt every encrypted field under the first (newest) TRELLIS_FIELD_KEYS key.

    Values are read with any configured key and written back with the first, in batches, each
    batch in its own transaction, so a rotation can be resumed. Keyed hashes do not change.
    """
    from django.apps import apps
    from django.db import transaction

    from privacy.fields import encrypted_fields_of

    rotated: dict[str, int] = {}
    for model in apps.get_models():
        fields = encrypted_fields_of(model)
        if not fields:
            continue
        names = [field.name for field in fields]
        label = model._meta.label
        rotated[label] = 0
        last_pk = 0
        while True:
            batch = list(model._base_manager.filter(pk__gt=last_pk).order_by("pk")[:batch_size])
            if not batch:
                break
            with transaction.atomic():
                # Reading decrypted with any key; saving encrypts with the first.
                model._base_manager.bulk_update(batch, names)
            last_pk = batch[-1].pk
            rotated[label] += len(batch)
            if callable(progress):
                progress(label, rotated[label])
    return rotated

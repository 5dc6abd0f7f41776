"""Writes to the access log. One row per student shown, in one INSERT per response."""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from django.conf import settings
from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import BaseExpression
from django.db.models.functions import Coalesce, Concat, NullIf
from django.db.models.sql import Query
from django.utils import timezone

from privacy.crypto import pseudonymous_key
from privacy.middleware import SHOWS_STUDENT_DATA
from privacy.models import AccessLogEntry


class LoggedStudent(Protocol):
    """What the log needs of a student shown: its id and its stable uuid (a Student or a
    StudentRef)."""

    @property
    def id(self) -> int: ...

    @property
    def uuid(self) -> object: ...


@dataclass(frozen=True)
class StudentRef:
    """What the log needs of a student: its id and its stable uuid."""

    id: int
    uuid: str


def student_log_key(student_uuid: object) -> str:
    return pseudonymous_key("student", str(student_uuid))


class ReadGrant(Protocol):
    """What a read is logged under: the role the user acted in and the purpose, in the words a
    family reads (accounts.access gives every grant both)."""

    @property
    def role(self) -> str: ...

    @property
    def purpose(self) -> str: ...


# Set on a request by log_shown: the ids of the students its response has logged.
LOGGED_STUDENT_IDS = "_trellis_logged_student_ids"


def log_shown(
    request: object,
    grant: ReadGrant,
    *,
    what: str,
    students: Iterable[LoggedStudent],
    path: str | None = None,
) -> int:
    """The one way a response logs a read: one row per student whose data it shows (never those
    it only counted), with the actor, the grant's role and purpose, the page and what it was.
    The response is then marked never to be stored (privacy.middleware.NoStoreMiddleware), and
    the request remembers whom it logged (`students_logged_for`)."""
    students = list(students)
    if request is not None:
        setattr(request, SHOWS_STUDENT_DATA, True)
        logged: set[int] | None = getattr(request, LOGGED_STUDENT_IDS, None)
        if logged is None:
            logged = set()
            setattr(request, LOGGED_STUDENT_IDS, logged)
        logged.update(student.id for student in students)
    return access_log_record(
        actor=getattr(request, "user", None),
        role=grant.role,
        what=what,
        students=students,
        path=getattr(request, "path", "") if path is None else path,
        purpose=grant.purpose,
    )


def students_logged_for(request: object) -> frozenset[int]:
    """The ids of the students whose reads log_shown has logged for this request so far: a part
    of the page that shows one of them again (the top bar's children) need not log them twice."""
    return frozenset(getattr(request, LOGGED_STUDENT_IDS, ()))


def access_log_record(
    *,
    actor: object,
    role: str,
    what: str,
    students: Iterable[LoggedStudent],
    path: str = "",
    purpose: str = "",
    actor_app: str = "",
) -> int:
    """Append one row per distinct student shown; returns how many rows were written.

    `students` holds Student instances or StudentRef values (anything with .id and .uuid).
    Each row keeps the actor's email (or application) as its label and a snapshot of the name a
    family reads and of the role (`_actor_name`: resolved inside the same INSERT).
    On PostgreSQL one INSERT ... SELECT FROM unnest() of two arrays (no model instances: a page
    of 150 students spent more on them than on the rest of its write); elsewhere bulk_create.
    """
    actor_user = actor if getattr(actor, "is_authenticated", False) else None
    actor_label = actor_app or (str(getattr(actor_user, "email", "")) if actor_user else "")
    role = str(role)
    hmac_key = settings.TRELLIS_HMAC_KEY
    seen: set[int] = set()
    student_ids: list[int] = []
    student_keys: list[str] = []
    for student in students:
        student_id = student.id
        if student_id in seen:
            continue
        seen.add(student_id)
        student_ids.append(student_id)
        student_keys.append(_student_log_key_memo(hmac_key, student.uuid))
    if not student_ids:
        return 0
    # What every row shares, as the ORM would store it.
    shared: dict[str, Any] = {
        "at": timezone.now(),
        "actor_user_id": getattr(actor_user, "pk", None),
        "actor_app": _as_text(actor_app),
        "actor_label": actor_label,
        "actor_name": _actor_name(actor_user, role) if actor_user else actor_app,
        "role": role,
        "what": _as_text(what),
        "path": path[:500],
        "purpose": _as_text(purpose),
    }
    connection = connections[router.db_for_write(AccessLogEntry)]
    if connection.vendor == "postgresql":
        _access_log_insert_unnest(connection, shared, student_ids, student_keys)
    else:
        _access_log_bulk_create(shared, student_ids, student_keys)
    return len(student_ids)


# The records a person's name comes from, as the user model's (settings.AUTH_USER_MODEL) links to
# students.Staff and students.Guardian, in the order they are asked (privacy imports neither app).
NAME_RECORDS = ("staff_record", "guardian_record")
# accounts.models.Role.GUARDIAN: a guardian's own reads ask their guardian record first.
GUARDIAN_ROLE = "guardian"


def _record_name() -> Concat:
    """A staff or guardian record's display_name (students.PersonName), in SQL."""
    return Concat(
        Coalesce(NullIf("preferred_first_name", models.Value("")), "first_name"),
        models.Value(" "),
        "last_name",
        output_field=models.CharField(),
    )


def _actor_name(actor_user: Any, role: str) -> str | BaseExpression:
    """The name a family reads for a signed-in actor, as the row is written: their staff record's
    name (their guardian record's first when they read as a guardian), else the account's full
    name, else its email. Text when the linked record is already loaded (or there is none);
    otherwise an expression the row's INSERT evaluates, a sub-select of the record by its primary
    key, so that the snapshot costs no query of its own."""
    fallback = str(getattr(actor_user, "full_name", "") or getattr(actor_user, "email", ""))
    names: list[BaseExpression] = []
    for field_name in NAME_RECORDS[::-1] if role == GUARDIAN_ROLE else NAME_RECORDS:
        record_id = getattr(actor_user, f"{field_name}_id", None)
        if record_id is None:
            continue
        field = actor_user._meta.get_field(field_name)
        if field.is_cached(actor_user):
            record = field.get_cached_value(actor_user)
            if record is not None:
                names.append(models.Value(record.display_name))
            continue
        names.append(
            models.Subquery(
                field.related_model._base_manager.filter(pk=record_id)
                .order_by()
                .values(name=_record_name())[:1],
                output_field=models.CharField(),
            )
        )
    if not names:
        return fallback
    if isinstance(names[0], models.Value):
        return str(names[0].value)
    return Coalesce(*names, models.Value(fallback), output_field=models.CharField())


def _as_text(value: object) -> object:
    """What a CharField stores of a value: a TextChoices member or a lazy string as its text."""
    return value if value is None else str(value)


# Keyed hashes of the students most recently logged, per key material: a page shown again
# (or polled) hashes nobody twice. ~250 bytes an entry.
@lru_cache(maxsize=16_384)
def _student_log_key_memo(hmac_key: str, student_uuid: object) -> str:
    # `hmac_key` is part of the memo's key only: student_log_key reads the same setting.
    return student_log_key(student_uuid)


def _access_log_bulk_create(
    shared: dict[str, Any], student_ids: list[int], student_keys: list[str]
) -> None:
    AccessLogEntry.objects.bulk_create(
        [
            AccessLogEntry(student_id=student_id, student_key=student_key, **shared)
            for student_id, student_key in zip(student_ids, student_keys, strict=True)
        ]
    )


def _access_log_insert_unnest(
    connection: BaseDatabaseWrapper,
    shared: dict[str, Any],
    student_ids: list[int],
    student_keys: list[str],
) -> None:
    """The rows bulk_create would write, in the same order, in one statement (atomic alone, so
    no transaction of its own). Text goes in as text and is assigned to the varchar columns, so
    an over-long value fails as it would through the ORM instead of being cut."""
    meta = AccessLogEntry._meta
    quote = connection.ops.quote_name
    column_of = {field.attname: field.column for field in meta.concrete_fields}
    columns = [quote(column_of[attname]) for attname in [*shared, "student_id", "student_key"]]
    shared_values: list[str] = []
    params: list[Any] = []
    for attname, value in shared.items():
        cast = _SHARED_CASTS.get(attname, "text")
        if isinstance(value, BaseExpression):
            # The actor's name as a sub-select (_actor_name): compiled by Django, evaluated once.
            sql, expression_params = _compiled(connection, value)
            shared_values.append(f"({sql})::{cast}")
            params.extend(expression_params)
        else:
            shared_values.append(f"%s::{cast}")
            params.append(value)
    # Names come from the model's own metadata, quoted; every value is a parameter.
    statement = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(shared_values)}, shown.student_id, shown.student_key "
        "FROM unnest(%s::bigint[], %s::text[]) WITH ORDINALITY "
        "AS shown(student_id, student_key, n) ORDER BY shown.n"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, student_ids, student_keys])


def _compiled(connection: BaseDatabaseWrapper, expression: BaseExpression) -> tuple[str, list]:
    """An expression's SQL and parameters, as an INSERT of an access-log row would write it."""
    query = Query(AccessLogEntry)
    resolved = expression.resolve_expression(query, allow_joins=False, for_save=True)
    sql, params = query.get_compiler(connection=connection).compile(resolved)
    return sql, list(params)


_SHARED_CASTS = {"at": "timestamptz", "actor_user_id": "bigint"}


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

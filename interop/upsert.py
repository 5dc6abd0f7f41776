"""Set-based upserts of sourced records, keyed by (district, source_system, source_id).

PostgreSQL: the rows stream into a temporary staging table with COPY (psycopg 3
`cursor.copy`), then one `INSERT ... SELECT ... ON CONFLICT DO UPDATE ... WHERE <changed>` writes
only new and changed rows and reports which were created and which updated. Other databases
(SQLite in tests and the demo): the existing rows are read once and compared in Python; new rows
are written with `bulk_create`, changed ones with `bulk_update` (SQLite's ON CONFLICT needs a
full unique index, and the source-id constraints are partial).

Encrypted fields are compared through their keyed hash (the ciphertext differs on every write),
so an unchanged phone number is not rewritten. Rows are tuples in the order of `fields`; one of
the fields is "source_id". Callers reject duplicate source ids first (a statement cannot update
one row twice).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any, cast

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from privacy.crypto import keyed_hash
from privacy.fields import EncryptedTextField, KeyedHashField
from students.bulk_keys import ForeignKeysSetAside, IndexesSetAside

if TYPE_CHECKING:
    from students.models import SourcedRecord

SQLITE_BATCH = 500
UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE

# Callable defaults that PostgreSQL computes itself in the insert, rather than Python once per
# staged row (a million uuid4 calls are a second of a roster import). Elsewhere, the model's
# own constructor sets them.
SQL_DEFAULTS: dict[Callable[[], Any], str] = {uuid.uuid4: "gen_random_uuid()"}


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    staged: int = 0


@dataclass(frozen=True)
class UpsertPlan:
    """The columns of one upsert, worked out once per call."""

    model: type[models.Model]
    fields: tuple[str, ...]  # attnames the caller provides, source_id among them
    hash_of: dict[str, str]  # hash attname -> encrypted attname it is computed from
    insert_defaults: tuple[models.Field, ...]  # set only on insert, from a callable default
    insert_constants: tuple[models.Field, ...]  # set only on insert, to a constant default
    # Set only on insert, by PostgreSQL's own equivalent of their callable default (SQL_DEFAULTS).
    sql_defaults: tuple[models.Field, ...] = ()

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def written(self) -> tuple[str, ...]:
        return self.fields + tuple(self.hash_of)

    @property
    def compared(self) -> tuple[str, ...]:
        encrypted = set(self.hash_of.values())
        return tuple(name for name in self.written if name not in encrypted)


def _plan(model: type[models.Model], fields: Sequence[str]) -> UpsertPlan:
    if "source_id" not in fields:
        raise ValueError("An upsert needs source_id among its fields.")
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    unknown = [name for name in fields if name not in by_attname]
    if unknown:
        raise ValueError(f"{model.__name__} has no fields {unknown}.")
    hash_of = {
        f.attname: by_attname[f.source_field].attname
        for f in model._meta.concrete_fields
        if isinstance(f, KeyedHashField) and f.source_field in fields
    }
    managed = {"id", "district_id", "source_system", "created_at", "updated_at"}
    insert_only = [
        f
        for f in model._meta.concrete_fields
        if f.attname not in fields
        and f.attname not in managed
        and f.attname not in hash_of
        and not f.primary_key
    ]
    return UpsertPlan(
        model,
        tuple(fields),
        hash_of,
        tuple(f for f in insert_only if callable(f.default) and f.default not in SQL_DEFAULTS),
        tuple(f for f in insert_only if not callable(f.default)),
        tuple(f for f in insert_only if callable(f.default) and f.default in SQL_DEFAULTS),
    )


def _with_hashes(plan: UpsertPlan, row: Sequence[Any]) -> tuple[Any, ...]:
    if not plan.hash_of:
        return tuple(row)
    position = {name: index for index, name in enumerate(plan.fields)}
    return tuple(row) + tuple(keyed_hash(row[position[src]]) for src in plan.hash_of.values())


def sourced_upsert(
    model: type[models.Model],
    *,
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    district_id: int | None,
    source_system: str,
    deactivate_missing: bool = False,
) -> UpsertResult:
    """Create and update `model` rows from `rows`; with deactivate_missing, mark the district's
    active rows from this source that are not among them inactive (a bulk file's scope).

    `district_id` None is for District itself (unique per source, not per district).
    """
    plan = _plan(model, fields)
    if connection.vendor == "postgresql":
        return _upsert_postgresql(plan, rows, district_id, source_system, deactivate_missing)
    return _upsert_generic(plan, rows, district_id, source_system, deactivate_missing)


# --- PostgreSQL: COPY into staging, one INSERT ... ON CONFLICT.


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _converter(field: models.Field) -> Callable[[Any], Any] | None:
    """How a Python value becomes what COPY writes; None where psycopg adapts it as it is
    (text, numbers, dates, booleans, uuids): Django's per-value preparation is the slow part of
    a large import, so it runs only where it changes the value."""
    if isinstance(field, models.JSONField):
        # COPY's text format takes JSON text as it is: the text Django's preparation would
        # have its adapter write (json.dumps with the field's encoder), without the adapter.
        # Nearly every row of an export without vendor columns keeps source_extra {}.
        encoder = field.encoder
        return lambda value: (
            None if value is None else "{}" if value == {} else json.dumps(value, cls=encoder)
        )
    if isinstance(field, EncryptedTextField):
        return lambda value: None if value is None else field.get_db_prep_save(value, connection)
    return None


def _unchanged_secrets(plan: UpsertPlan, district_id: int | None, source_system: str) -> dict:
    """source_id -> stored hashes, so that a value whose hash is unchanged is not re-encrypted
    (its row is not updated, so its staged ciphertext is never read)."""
    if not plan.hash_of:
        return {}
    scope: dict[str, Any] = {"source_system": source_system}
    if district_id is not None:
        scope["district_id"] = district_id
    return {
        values[0]: values[1:]
        for values in plan.model._default_manager.filter(**scope)
        .exclude(source_id="")
        .values_list("source_id", *plan.hash_of)
        .iterator(chunk_size=10000)
    }


def _upsert_postgresql(
    plan: UpsertPlan,
    rows: Iterable[Sequence[Any]],
    district_id: int | None,
    source_system: str,
    deactivate_missing: bool,
) -> UpsertResult:
    meta_fields = {f.attname: f for f in plan.model._meta.concrete_fields}
    written = plan.written
    staged_columns = written + tuple(f.attname for f in plan.insert_defaults)
    prep_fields = [meta_fields[name] for name in staged_columns]
    staging = f"interop_stage_{plan.table}"
    result = UpsertResult()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {staging}")
        cursor.execute(
            f"CREATE TEMP TABLE {staging} ON COMMIT DROP AS SELECT "  # noqa: S608
            + ", ".join(_quote(c) for c in staged_columns)
            + f" FROM {_quote(plan.table)} WITH NO DATA"
        )
        copy_sql = f"COPY {staging} ({', '.join(_quote(c) for c in staged_columns)}) FROM STDIN"
        converters = [
            (index, convert)
            for index, field in enumerate(prep_fields)
            if (convert := _converter(field)) is not None
        ]
        stored_hashes = _unchanged_secrets(plan, district_id, source_system)
        source_at = plan.fields.index("source_id")
        secret_at = [
            (plan.fields.index(src), len(plan.fields) + n)
            for n, src in enumerate(plan.hash_of.values())
        ]
        defaults = plan.insert_defaults
        with cursor.cursor.copy(copy_sql) as copy:
            for row in rows:
                values = list(_with_hashes(plan, row))
                if defaults:
                    values.extend(field.get_default() for field in defaults)
                stored = stored_hashes.get(values[source_at])
                for n, (value_at, hash_at) in enumerate(secret_at):
                    if stored is not None and stored[n] == values[hash_at]:
                        values[value_at] = ""  # unchanged: never written, not worth encrypting
                for index, convert in converters:
                    values[index] = convert(values[index])
                copy.write_row(values)
                result.staged += 1
        _upsert_from_staging(
            cursor,
            plan,
            staging,
            staged_columns,
            district_id,
            source_system,
            deactivate_missing,
            result,
        )
    return result


def _scope(district_id: int | None, source_system: str) -> tuple[str, list[Any]]:
    if district_id is None:
        return "t.source_system = %s", [source_system]
    return "t.district_id = %s AND t.source_system = %s", [district_id, source_system]


# --- Any other database: compare in Python, bulk_create new rows, bulk_update changed ones.


def _comparable(field: models.Field, value: Any) -> Any:
    if value is None or isinstance(field, models.JSONField):
        return value
    return field.to_python(value)


def _upsert_generic(
    plan: UpsertPlan,
    rows: Iterable[Sequence[Any]],
    district_id: int | None,
    source_system: str,
    deactivate_missing: bool,
) -> UpsertResult:
    model = plan.model
    meta_fields = {f.attname: f for f in model._meta.concrete_fields}
    scope: dict[str, Any] = {"source_system": source_system}
    if district_id is not None:
        scope["district_id"] = district_id
    compared = plan.compared
    existing = {
        values[0]: (values[1], values[2:])
        for values in model._default_manager.filter(**scope)
        .exclude(source_id="")
        .values_list("source_id", "pk", *compared)
        .iterator(chunk_size=5000)
    }
    result = UpsertResult()
    seen: set[str] = set()
    now = timezone.now()
    iterator = iter(rows)
    update_fields = [meta_fields[c].name for c in plan.written if c != "source_id"]
    while batch := list(islice(iterator, SQLITE_BATCH)):
        to_create, to_update = [], []
        for row in batch:
            values = dict(zip(plan.written, _with_hashes(plan, row), strict=True))
            source_id = values["source_id"]
            seen.add(source_id)
            pk, current = existing.get(source_id, (None, None))
            incoming = tuple(_comparable(meta_fields[c], values[c]) for c in compared)
            if current is not None and tuple(current) == incoming:
                result.unchanged += 1
                continue
            # Sourced upserts are for sourced records: the timestamps set here are theirs.
            instance = cast("SourcedRecord", model(pk=pk, **scope, **values))
            instance.updated_at = now
            if pk is None:
                for field in (*plan.insert_defaults, *plan.insert_constants):
                    setattr(instance, field.attname, field.get_default())
                instance.created_at = now
                to_create.append(instance)
            else:
                to_update.append(instance)
        result.staged += len(batch)
        # The source-id constraints are partial (empty ids are not unique), and SQLite accepts
        # ON CONFLICT only on a full unique index: rows are split into inserts and updates here.
        model._default_manager.bulk_create(to_create)
        if to_update:
            model._default_manager.bulk_update(to_update, [*update_fields, "updated_at"])
        result.created += len(to_create)
        result.updated += len(to_update)
    if deactivate_missing:
        stale = [sid for sid in existing if sid not in seen]
        for start in range(0, len(stale), SQLITE_BATCH):
            result.deactivated += model._default_manager.filter(
                **scope, source_id__in=stale[start : start + SQLITE_BATCH], is_active=True
            ).update(is_active=False, updated_at=now)
    return result


def source_id_map(
    model: type[models.Model], *, district_id: int | None, source_system: str
) -> dict[str, int]:
    """source_id -> primary key of every row from this source (active or not)."""
    scope: dict[str, Any] = {"source_system": source_system}
    if district_id is not None:
        scope["district_id"] = district_id
    return dict(
        model._default_manager.filter(**scope)
        .exclude(source_id="")
        .values_list("source_id", "pk")
        .iterator(chunk_size=10000)
    )


# --- PostgreSQL: a sourced upsert fed in batches.


class StagedUpsert:
    """sourced_upsert fed in batches (PostgreSQL only): each write() is one COPY into a staging
    table, so that the caller holds one batch at a time and may run its own queries between
    batches (a reference checked in SQL), which one open COPY would not allow; finish() upserts
    everything staged, as sourced_upsert does. `extra_columns` (name, SQL type) are staged after
    the fields but never written to the model: keys the caller turns into row ids with
    resolve() (a person's source id into the person's id) before finish()."""

    _count = 0

    def __init__(
        self,
        model: type[models.Model],
        *,
        fields: Sequence[str],
        district_id: int | None,
        source_system: str,
        extra_columns: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.plan = _plan(model, fields)
        self.district_id = district_id
        self.source_system = source_system
        self.extra = tuple(name for name, _ in extra_columns)
        meta_fields = {f.attname: f for f in model._meta.concrete_fields}
        self.staged_columns = self.plan.written + tuple(
            f.attname for f in self.plan.insert_defaults
        )
        prep_fields = [meta_fields[name] for name in self.staged_columns]
        self.converters = [
            (index, convert)
            for index, field in enumerate(prep_fields)
            if (convert := _converter(field)) is not None
        ]
        StagedUpsert._count += 1
        self.staging = f"interop_batch_{self.plan.table}_{StagedUpsert._count}"
        # What finish() inserts from: the staging table, or after resolve() a query over it.
        self.source: tuple[str, list[Any]] | None = None
        self.result = UpsertResult()
        self.stored_hashes: dict[str, tuple] = {}  # of the batch at hand (_batch_secrets)
        self.source_at = self.plan.fields.index("source_id")
        self.secret_at = [
            (self.plan.fields.index(src), len(self.plan.fields) + n)
            for n, src in enumerate(self.plan.hash_of.values())
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE {self.staging} ON COMMIT DROP AS SELECT "  # noqa: S608
                + ", ".join(_quote(c) for c in self.staged_columns)
                + f" FROM {_quote(self.plan.table)} WITH NO DATA"
            )
            for name, sql_type in extra_columns:
                cursor.execute(f"ALTER TABLE {self.staging} ADD COLUMN {_quote(name)} {sql_type}")
            # The order rows came in, which resolve() keeps (rows are written in it).
            cursor.execute(f"ALTER TABLE {self.staging} ADD COLUMN staged_order bigserial")

    def write(self, rows: Iterable[Sequence[Any]]) -> None:
        """Stage `rows` (the fields in order, then the extra columns) with one COPY."""
        plan, width = self.plan, len(self.plan.fields)
        columns = (*self.staged_columns, *self.extra)
        copy_sql = f"COPY {self.staging} ({', '.join(_quote(c) for c in columns)}) FROM STDIN"
        defaults = plan.insert_defaults
        rows = list(rows)
        self._batch_secrets([row[self.source_at] for row in rows])
        with connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
            for row in rows:
                values = list(_with_hashes(plan, row[:width]))
                if defaults:
                    values.extend(field.get_default() for field in defaults)
                stored = self.stored_hashes.get(values[self.source_at])
                for n, (value_at, hash_at) in enumerate(self.secret_at):
                    if stored is not None and stored[n] == values[hash_at]:
                        values[value_at] = ""  # unchanged: never written, not worth encrypting
                for index, convert in self.converters:
                    values[index] = convert(values[index])
                values.extend(row[width:])
                copy.write_row(values)
                self.result.staged += 1

    def _batch_secrets(self, source_ids: list[str]) -> None:
        """_unchanged_secrets for the batch's rows only: memory stays bounded by the batch."""
        if not self.plan.hash_of:
            return
        scope, params = _scope(self.district_id, self.source_system)
        hashes = ", ".join(f"t.{_quote(name)}" for name in self.plan.hash_of)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT t.source_id, {hashes} FROM {_quote(self.plan.table)} t "  # noqa: S608
                f"WHERE {scope} AND t.source_id = ANY(%s) AND t.source_id <> ''",
                [*params, source_ids],
            )
            self.stored_hashes = {values[0]: tuple(values[1:]) for values in cursor.fetchall()}

    def resolve(
        self,
        targets: Sequence[tuple[str, type[models.Model], str, tuple[str, str] | None]],
        *,
        analysed: set[str] | None = None,
    ) -> None:
        """Set each target's field to the id of the `model` row (same district and source)
        whose source_id is the staged `key` column, on staged rows whose column where[0] is
        where[1] (all when where is None): (field, model, key, where). The joins run in
        finish()'s insert, over the staged rows in the order they came in (and so the ids the
        rows get): rewriting the staging table first wrote every row once more. `analysed`:
        the model tables the caller knows were analysed since they were last written (this
        adds the ones it analyses), so that resolves one after the other analyse each once."""
        scope_params: list[Any] | None = (
            [self.district_id, self.source_system] if self.district_id is not None else None
        )
        joins: list[str] = []
        params: list[Any] = []
        replaced: dict[str, str] = {}
        for n, (field, model, key, where) in enumerate(targets):
            alias = f"r{n}"
            condition = (
                f"{alias}.district_id = %s AND {alias}.source_system = %s"
                if scope_params
                else f"{alias}.source_system = %s"
            )
            params += scope_params or [self.source_system]
            if where is not None:
                condition += f" AND s.{_quote(where[0])} = %s"
                params.append(where[1])
            joins.append(
                f"LEFT JOIN {_quote(model._meta.db_table)} {alias} ON {condition} "
                f"AND {alias}.source_id = s.{_quote(key)}"
            )
            replaced[field] = f"{alias}.id"
        select = ", ".join(
            f"{replaced[c]} AS {_quote(c)}" if c in replaced else f"s.{_quote(c)}"
            for c in self.staged_columns
        )
        self.source = (
            f"(SELECT {select} FROM {self.staging} s {' '.join(joins)} "  # noqa: S608
            "ORDER BY s.staged_order)",
            params,
        )
        with connection.cursor() as cursor:
            # Both sides were just written: planned on empty statistics, the joins would probe
            # every staged row against every row of the model.
            cursor.execute(f"ANALYZE {self.staging}")
            analysed = set() if analysed is None else analysed
            for _, model, _, _ in targets:
                if model._meta.db_table not in analysed:
                    cursor.execute(f"ANALYZE {_quote(model._meta.db_table)}")
                    analysed.add(model._meta.db_table)

    def finish(self, *, deactivate_missing: bool = False) -> UpsertResult:
        """Upsert what was staged (as sourced_upsert), then drop the staging table."""
        with connection.cursor() as cursor:
            _upsert_from_staging(
                cursor,
                self.plan,
                self.staging,
                self.staged_columns,
                self.district_id,
                self.source_system,
                deactivate_missing,
                self.result,
                source=self.source,
            )
        return self.result


def _inserted_plainly(cursor: Any, insert: str, params: list[Any], result: UpsertResult) -> bool:
    """A first load's rows written by a plain insert, without the speculative insertion ON
    CONFLICT makes per row (staged ids are distinct, and none was held); False, and nothing
    written, when one meets a row another transaction wrote meanwhile (the unique index)."""
    try:
        with transaction.atomic():
            cursor.execute(insert, params)
            result.created, result.updated = cursor.rowcount, 0
    except IntegrityError as error:
        if getattr(error.__cause__, "sqlstate", None) != UNIQUE_VIOLATION:
            raise
        return False
    return True


def _upsert_from_staging(
    cursor: Any,
    plan: UpsertPlan,
    staging: str,
    staged_columns: tuple[str, ...],
    district_id: int | None,
    source_system: str,
    deactivate_missing: bool,
    result: UpsertResult,
    source: tuple[str, list[Any]] | None = None,
) -> None:
    """Upsert a staging table's rows into the plan's table (sourced_upsert after its COPY, and
    StagedUpsert after its batches), then drop the staging table. `source` (SQL and its
    parameters) is what to insert from instead of the staging table itself: a query over it
    with the staged columns (StagedUpsert.resolve)."""
    written = plan.written
    target = _quote(plan.table)
    scope, scope_params = _scope(district_id, source_system)

    def holds_none() -> bool:
        """Whether the table holds no sourced row of this district and source: a first load,
        every staged row new and none left to deactivate."""
        cursor.execute(
            f"SELECT NOT EXISTS (SELECT 1 FROM {target} t "  # noqa: S608
            f"WHERE {scope} AND t.source_id <> '')",
            scope_params,
        )
        return bool(cursor.fetchone()[0])

    def prepare_upsert() -> None:
        if deactivate_missing:
            # The anti-join below probes the staged ids once per existing row.
            cursor.execute(f"CREATE INDEX ON {staging} (source_id)")
        # For the upsert's and the deactivation's joins; a first load's plain insert reads
        # the staging table once, in order, and needs no statistics.
        cursor.execute(f"ANALYZE {staging}")

    asked_first = first_load = holds_none()
    if not first_load:
        prepare_upsert()
    key = (
        ["source_system", "source_id"]
        if district_id is None
        else ["district_id", "source_system", "source_id"]
    )
    constants = plan.insert_constants
    insert_columns = [
        "source_system",
        "created_at",
        "updated_at",
        *staged_columns,
        *(f.attname for f in constants),
        *(f.attname for f in plan.sql_defaults),
    ]
    select_values = [
        "%s",
        "%s",
        "%s",
        *(f"s.{_quote(c)}" for c in staged_columns),
        *("%s" for _ in constants),
        *(SQL_DEFAULTS[f.default] for f in plan.sql_defaults),
    ]
    params: list[Any] = [
        source_system,
        timezone.now(),
        timezone.now(),
        *(f.get_db_prep_save(f.get_default(), connection) for f in constants),
    ]
    if district_id is not None:
        insert_columns.insert(0, "district_id")
        select_values.insert(0, "%s")
        params.insert(0, district_id)
    updates = [c for c in written if c != "source_id"]
    set_clause = ", ".join(
        [f"{_quote(c)} = EXCLUDED.{_quote(c)}" for c in updates]
        + ['"updated_at" = EXCLUDED."updated_at"']
    )
    compared = [c for c in plan.compared if c != "source_id"]
    changed = (
        f"({', '.join(f'{target}.{_quote(c)}' for c in compared)}) IS DISTINCT FROM "
        f"({', '.join(f'EXCLUDED.{_quote(c)}' for c in compared)})"
    )
    if len(compared) == 1:  # a one-column row constructor is not a row in PostgreSQL
        changed = f"{target}.{_quote(compared[0])} IS DISTINCT FROM EXCLUDED.{_quote(compared[0])}"
    # A large load checks the table's foreign keys once, after the statement, instead of a
    # lookup per row queued for COMMIT (the 86,000-student roster's enrollments queued millions);
    # a large first load also builds the table's plain indexes once, after its rows are in.
    keys = ForeignKeysSetAside()
    keys.set_aside_if_it_pays(plan.table, result.staged, first_load=first_load)
    indexes = IndexesSetAside()
    # A first load writes by plain insert, so even its unique indexes can be built after it.
    if first_load and indexes.set_aside_if_it_pays(plan.table, result.staged, uniques=True):
        # Rows another transaction wrote since the question would meet no unique index now;
        # asked again under the table's exclusive lock, the answer holds until COMMIT.
        first_load = holds_none()
    insert = (
        f"INSERT INTO {target} ({', '.join(_quote(c) for c in insert_columns)}) "  # noqa: S608
        f"SELECT {', '.join(select_values)} FROM {source[0] if source else staging} s"
    )
    if source:
        params = [*params, *source[1]]
    if first_load:
        # False when the plain insert met rows another transaction wrote meanwhile.
        first_load = _inserted_plainly(cursor, insert, params, result)
    if asked_first and not first_load:
        # Two first imports at once: upsert against the other's rows, and deactivate as a
        # later load would.
        indexes.restore()  # the upsert's conflict arbiter among them
        prepare_upsert()
    deactivate = deactivate_missing and not first_load
    if not first_load:
        cursor.execute(
            f"WITH upserted AS ({insert} "  # noqa: S608
            f"ON CONFLICT ({', '.join(_quote(c) for c in key)}) WHERE NOT (source_id = '') "
            f"DO UPDATE SET {set_clause} WHERE {changed} "
            f"RETURNING (xmax = 0) AS inserted) "
            f"SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) "
            f"FROM upserted",
            params,
        )
        result.created, result.updated = cursor.fetchone()
    result.unchanged = result.staged - result.created - result.updated
    indexes.restore()
    keys.restore()
    if deactivate:
        cursor.execute(
            f"UPDATE {target} t SET is_active = false, updated_at = %s "  # noqa: S608
            f"WHERE {scope} AND t.is_active AND t.source_id <> '' AND NOT EXISTS "
            f"(SELECT 1 FROM {staging} s WHERE s.source_id = t.source_id)",
            [timezone.now(), *scope_params],
        )
        result.deactivated = cursor.rowcount
    cursor.execute(f"DROP TABLE {staging}")

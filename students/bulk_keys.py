"""Large loads check their foreign keys once: dropped inside the transaction, added back after
the load, so PostgreSQL checks each key with one join over the table instead of one lookup per
row written, queued until COMMIT. A first load into a table also builds its indexes once, after
the rows are in, instead of inserting every row into each. Shared by the score writes
(assessments) and the importers (interop), so it lives at the bottom of the layers."""

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import DatabaseError, transaction
from django.db.backends.utils import CursorWrapper

logger = logging.getLogger(__name__)

# From this many rows written on, a load checks the written tables' foreign keys once,
# set-based, instead of row by row at COMMIT (ForeignKeysSetAside.pays_for).
BULK_FOREIGN_KEY_ROWS = 100_000

# A first load (a table that holds no rows of the load's district and source yet) sets keys and
# indexes aside from this many rows on: every row it stages is new, so each would queue its key
# checks and enter every index one at a time.
FIRST_LOAD_ROWS = 10_000


# How long a bulk load waits for the written tables' readers before it keeps the row checks.
BULK_LOCK_WAIT = "5s"


class ForeignKeysSetAside:
    """Foreign keys of the tables a bulk load writes, dropped for the rest of the transaction and
    added back once (`restore`), so that PostgreSQL checks each with a single join over the
    table instead of one lookup per row written, queued until COMMIT (a million scores queued
    five million of those: a third of the import).

    The constraints come back exactly as they were (name and definition from pg_constraint); a
    row that breaks one fails the ADD, and with it the caller's transaction, as the row check
    at COMMIT would have. Dropping takes each table's ACCESS EXCLUSIVE lock until the
    transaction ends, so its readers wait for the load: callers set keys aside only for large
    loads, and only if the locks come within BULK_LOCK_WAIT (else, or without the right to
    alter the tables, the row-by-row checks stay and the table is not tried again).
    """

    def __init__(self) -> None:
        self.keys: list[tuple[str, str, str]] = []  # (table, constraint, definition)
        self.tried: set[str] = set()  # set aside, or refused: not tried again
        self.dropped: set[str] = set()
        # Rows each table held when last analysed, read once (a run asks again every batch).
        self.held: dict[str, float] = {}

    def pays_for(self, table: str, rows: int, *, first_load: bool = False) -> bool:
        """Whether setting `table`'s keys aside pays for writing `rows` rows into it: at least
        BULK_FOREIGN_KEY_ROWS of them (FIRST_LOAD_ROWS for a first load, whose rows are all
        new), and at least a tenth of what the table held when last analysed (adding a key back
        reads the whole table; a lookup per row reads little)."""
        least = min(FIRST_LOAD_ROWS, BULK_FOREIGN_KEY_ROWS) if first_load else BULK_FOREIGN_KEY_ROWS
        held = _rows_held(table, self.held)
        return held is not None and rows >= least and rows * 10 >= held

    def set_aside_if_it_pays(self, table: str, rows: int, *, first_load: bool = False) -> None:
        """set_aside([table]) when it pays for `rows` rows and was not tried yet."""
        if table not in self.tried and self.pays_for(table, rows, first_load=first_load):
            self.set_aside([table])

    def set_aside(self, tables: Sequence[str]) -> bool:
        """Drop the foreign keys of `tables` (those not tried before); whether all of them are
        now set aside."""
        from django.db import connection

        asked = tables
        tables = [table for table in asked if table not in self.tried]
        if not tables:
            return all(table in self.dropped for table in asked)
        self.tried.update(tables)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
                " FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])"
                " ORDER BY conrelid, conname",
                [tables],
            )
            keys = cursor.fetchall()
            quote = connection.ops.quote_name
            dropped = False
            try:
                with transaction.atomic(), local_setting(cursor, "lock_timeout", BULK_LOCK_WAIT):
                    # Checks still queued on these tables (rows written earlier in the
                    # transaction) would forbid the ALTER: run them now instead of at COMMIT.
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                    for table, name, _ in keys:
                        cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
                dropped = True
            except DatabaseError as error:
                logger.info("%s keep their row-by-row key checks: %s", ", ".join(tables), error)
            # Django creates every key DEFERRABLE INITIALLY DEFERRED: back to that.
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        if dropped:
            self.keys.extend(keys)
            self.dropped.update(tables)
        return dropped

    def restore(self) -> None:
        """Add every key set aside back, each checked once over its whole table."""
        from django.db import connection

        if not self.keys:
            return
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            for table, name, definition in self.keys:
                # Names and definitions are PostgreSQL's own, read in set_aside; nothing comes
                # from input.
                cursor.execute(
                    f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}"  # noqa: S608
                )
        self.keys = []
        self.tried -= self.dropped
        self.dropped.clear()


def _rows_held(table: str, held: dict[str, float]) -> float | None:
    """The rows `table` held when last analysed (read once into `held`; -1 if never analysed);
    None off PostgreSQL, where nothing is set aside."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    if table not in held:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
            (held[table],) = cursor.fetchone()
    return held[table]


class IndexesSetAside:
    """The indexes of a table a first load fills, dropped for the load and built again once
    after it (`restore`): a sorted build of the whole table, instead of one insertion per row
    into each index (the 400,000 enrollments of the benchmark's roster took 2.5 s in three
    such indexes, and 0.8 s to build them after).

    Plain indexes always; with `uniques`, unique indexes and constraints too, for a load that
    writes by plain insert (no conflict arbiter needed), so that uniqueness is checked once, by
    the build, which fails the load as a row would have. The primary key, and any unique index
    another table's foreign key depends on, stay. Everything comes back exactly as it was
    (pg_get_indexdef, pg_get_constraintdef). Dropping takes the table's ACCESS EXCLUSIVE lock
    until the transaction ends, within BULK_LOCK_WAIT or not at all, as ForeignKeysSetAside
    does; callers restore before anything reads the table again in the transaction.
    """

    def __init__(self) -> None:
        self.aside: list[tuple[str, str]] = []  # (how it was dropped, how it comes back)
        self.held: dict[str, float] = {}

    def pays_for(self, table: str, rows: int) -> bool:
        """Whether a first load of `rows` rows pays for building `table`'s indexes again: at
        least FIRST_LOAD_ROWS, and at least half of what the table held (a build reads every
        row; an insertion costs some three times as much a row)."""
        held = _rows_held(table, self.held)
        return held is not None and rows >= FIRST_LOAD_ROWS and rows * 2 >= held

    def set_aside_if_it_pays(self, table: str, rows: int, *, uniques: bool = False) -> bool:
        """Drop `table`'s plain indexes (with `uniques`, its unique ones too) when it pays for
        a first load of `rows` rows; whether they are now set aside."""
        from django.db import connection

        if not self.pays_for(table, rows):
            return False
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname, pg_get_indexdef(i.indexrelid)"
                " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                " WHERE i.indrelid = %s::regclass AND NOT i.indisprimary"
                " AND (%s OR NOT i.indisunique)"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
                " ORDER BY 1",
                [table, uniques],
            )
            # Names and definitions are PostgreSQL's own; nothing comes from input.
            aside = [
                (f"DROP INDEX {quote(name)}", definition) for name, definition in cursor.fetchall()
            ]
            if uniques:
                cursor.execute(
                    "SELECT k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k"
                    " WHERE k.conrelid = %s::regclass AND k.contype = 'u'"
                    " AND NOT EXISTS (SELECT 1 FROM pg_constraint f"
                    "  WHERE f.contype = 'f' AND f.conindid = k.conindid)"
                    " ORDER BY 1",
                    [table],
                )
                aside += [
                    (
                        f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}",
                        f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}",
                    )
                    for name, definition in cursor.fetchall()
                ]
            if not aside:
                return False
            try:
                with transaction.atomic(), local_setting(cursor, "lock_timeout", BULK_LOCK_WAIT):
                    for drop, _ in aside:
                        cursor.execute(drop)
            except DatabaseError as error:
                logger.info("%s keeps its indexes through the load: %s", table, error)
                return False
        self.aside.extend(aside)
        return True

    def restore(self) -> None:
        """Build every index set aside again (and so check every unique one)."""
        from django.db import connection

        if not self.aside:
            return
        with connection.cursor() as cursor:
            # Key checks still queued on the table (its keys were not set aside) would forbid
            # the build: run them now instead of at COMMIT.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            for _, build in self.aside:
                cursor.execute(build)
        self.aside = []


@contextmanager
def foreign_keys_checked_once(tables: Sequence[str]) -> Iterator[bool]:
    """ForeignKeysSetAside for the block: yields whether the keys were dropped."""
    keys = ForeignKeysSetAside()
    dropped = keys.set_aside(tables)
    yield dropped
    keys.restore()


@contextmanager
def local_setting(cursor: CursorWrapper, name: str, value: str) -> Iterator[None]:
    """A server setting changed for the block, within the transaction. An error in the block
    leaves it to the rollback (of the transaction or savepoint), which restores it anyway."""
    cursor.execute("SELECT current_setting(%s)", [name])
    (before,) = cursor.fetchone()
    cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
    yield
    cursor.execute("SELECT set_config(%s, %s, true)", [name, before])

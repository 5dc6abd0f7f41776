"""Large loads check their foreign keys once: dropped inside the transaction, added back after
the load, so PostgreSQL checks each key with one join over the table instead of one lookup per
row written, queued until COMMIT. Shared by the score writes (assessments) and the importers
(interop), so it lives at the bottom of the layers."""

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import DatabaseError, transaction
from django.db.backends.utils import CursorWrapper

logger = logging.getLogger(__name__)

# From this many rows written on, a load checks the written tables' foreign keys once,
# set-based, instead of row by row at COMMIT (ForeignKeysSetAside.pays_for).
BULK_FOREIGN_KEY_ROWS = 100_000


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

    def pays_for(self, table: str, rows: int) -> bool:
        """Whether setting `table`'s keys aside pays for writing `rows` rows into it: at least
        BULK_FOREIGN_KEY_ROWS of them, and at least a tenth of what the table held when last
        analysed (adding a key back reads the whole table; a lookup per row reads little)."""
        from django.db import connection

        if connection.vendor != "postgresql" or rows < BULK_FOREIGN_KEY_ROWS:
            return False
        if table not in self.held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
                (self.held[table],) = cursor.fetchone()
        return rows * 10 >= self.held[table]

    def set_aside_if_it_pays(self, table: str, rows: int) -> None:
        """set_aside([table]) when it pays for `rows` rows and was not tried yet."""
        if table not in self.tried and self.pays_for(table, rows):
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

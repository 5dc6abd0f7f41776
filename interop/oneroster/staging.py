"""What the OneRoster importer remembers across a file's rows, held so that memory stays bounded
by the batch on PostgreSQL: which sourcedIds came already (FirstLines), the row ids of the
people a batch names (SourceIds), roles.csv's entries by user (RoleStore), and the rows waiting
for their upsert (RowSink). On PostgreSQL each lives in a temporary table of the import's
transaction, read and written once per batch; elsewhere (SQLite: tests and the demo) in
dictionaries and lists, the same answers in memory.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import count, islice
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import connection, models

from interop.upsert import StagedUpsert, UpsertResult, source_id_map, sourced_upsert

if TYPE_CHECKING:
    import numpy as np

# Rows read, checked and staged at a time: what the import holds of a file.
BATCH = 5000
_names = count(1)
# What COPY's text format escapes in a value.
COPY_TEXT = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
T = TypeVar("T")


def streamed() -> bool:
    """Whether files are staged in the database as they are read (PostgreSQL)."""
    return connection.vendor == "postgresql"


def batched(items: Iterable[T], size: int | None = None) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size or BATCH)):
        yield batch


def copy_escaped(texts: list[str]) -> list[str]:
    """`texts` as COPY's text format reads them: as they are when none holds a character it
    escapes (sourcedIds nearly never do), each escaped otherwise (escaping every one cost a
    roster import of 1.3 million keys two seconds)."""
    joined = "\n".join(texts)
    if "\\" in joined or "\t" in joined or "\r" in joined or joined.count("\n") >= len(texts):
        return [text.translate(COPY_TEXT) for text in texts]
    return texts


def temp_table(prefix: str, columns: str) -> str:
    name = f"oneroster_{prefix}_{next(_names)}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE {name} ({columns}) ON COMMIT DROP")
    return name


class FirstLines:
    """The first line each key (a sourcedId, a person in a class) came on in a file.

    On PostgreSQL, 8 bytes a key in memory: each key's 64-bit hash, in sorted numpy arrays (a
    Python dict of the keys took a hundred bytes and more a key). The keys and their lines go
    to a temporary table, read only for a key whose hash came before: a repeated key (an
    error) or, never in practice, another with the same hash; so the answer is exact. An int
    key (int_keys: a person in a class, packed by the caller into 63 bits) is its own hash."""

    MERGE_EVERY = 8  # batches' arrays kept apart before they are merged into one

    def __init__(self, *, int_keys: bool = False) -> None:
        self.memory: dict[Any, int] = {}
        self.streamed = streamed()
        self.int_keys = int_keys
        self.table = ""
        if self.streamed:
            self.table = temp_table("seen", f"key {'bigint' if int_keys else 'text'}, line integer")
        self.hashes: list[np.ndarray] = []

    def _earlier(self, hashes: np.ndarray) -> np.ndarray:
        """Whether an earlier batch had each hash."""
        import numpy as np  # here, not at the top: every process loads this module, few use numpy

        found = np.zeros(len(hashes), dtype=bool)
        for known in self.hashes:
            at = np.minimum(np.searchsorted(known, hashes), len(known) - 1)
            found |= known[at] == hashes
        return found

    def _keep(self, hashes: np.ndarray) -> None:
        import numpy as np

        if not len(hashes):
            return  # every key of the batch came before
        hashes.sort()
        self.hashes.append(hashes)
        if len(self.hashes) > self.MERGE_EVERY:
            merged = np.concatenate(self.hashes)
            self.hashes = []  # the parts are freed before the merged array is sorted
            merged.sort()
            self.hashes = [merged]

    def firsts(self, items: Sequence[tuple[Any, int]]) -> dict[Any, int]:
        """The first line of each of the batch's keys, this batch's rows (in order) included:
        a row whose key's first line is not its own repeats an earlier one."""
        if not self.streamed:
            return {key: self.memory.setdefault(key, line) for key, line in items}
        batch: dict[Any, int] = {}
        for key, line in items:
            batch.setdefault(key, line)
        if not batch:
            return {}
        keys = list(batch)
        import numpy as np

        hashes = np.fromiter(
            (key if self.int_keys else hash(key) for key in keys), dtype=np.int64, count=len(keys)
        )
        found = self._earlier(hashes)
        new_keys = keys
        if found.any():
            hits = [keys[at] for at in np.flatnonzero(found)]
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT key, min(line) FROM {self.table} "  # noqa: S608
                    "WHERE key = ANY(%s) GROUP BY key",
                    [hits],
                )
                earlier = dict(cursor.fetchall())
            batch.update(earlier)
            new_keys = [key for key in keys if key not in earlier]
            hashes = hashes[~found]
        self._keep(hashes)
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {self.table} (key, line) FROM STDIN") as copy,
        ):
            texts = new_keys if self.int_keys else copy_escaped(new_keys)
            copy.write(
                "".join(
                    [f"{text}\t{batch[key]}\n" for text, key in zip(texts, new_keys, strict=True)]
                )
            )
        return batch

    def __contains__(self, key: str) -> bool:
        if not self.streamed:
            return key in self.memory
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {self.table} WHERE key = %s", [key])  # noqa: S608
            return cursor.fetchone() is not None


class SourceIds(dict[str, int]):
    """source_id -> row id of a model's rows from this import's source and district. Whole (read
    once) in memory; on PostgreSQL only the ids a batch names (OneRosterImport.people_prefetch
    fills it), so that a district's hundred thousand students are never all in memory."""

    def __init__(self, model: type[models.Model], *, district_id: int | None, source_system: str):
        super().__init__()
        self.model = model
        self.scope: dict[str, Any] = {"source_system": source_system}
        if district_id is not None:
            self.scope["district_id"] = district_id
        self.whole = not streamed()
        if self.whole:
            self.update(source_id_map(model, district_id=district_id, source_system=source_system))

    def load_all(self) -> None:
        """Every id, for a step that looks them up without batches (the gradebook)."""
        if not self.whole:
            self.whole = True
            self.clear()
            self.update(
                self.model._default_manager.filter(**self.scope)
                .exclude(source_id="")
                .values_list("source_id", "pk")
                .iterator(chunk_size=10000)
            )


@dataclass
class RoleEntry:
    role: str
    role_type: str
    org: str
    begin: date | None
    end: date | None
    active: bool
    # A roles.csv row's vendor columns, kept on the school membership or assignment it becomes.
    extra: dict = field(default_factory=dict)


class RoleStore:
    """roles.csv's entries by user (in the file's order), and the first line of each user it
    names, for users.csv to read."""

    def __init__(self) -> None:
        self.table = (
            temp_table(
                "roles",
                "user_id text, line integer, ok boolean, role text, role_type text, org text, "
                "begin_date date, end_date date, active boolean, extra text",
            )
            if streamed()
            else ""
        )
        self.entries: dict[str, list[RoleEntry]] = {}
        self.lines: dict[str, int] = {}

    def add(self, batch: Sequence[tuple[str, int, RoleEntry | None]]) -> None:
        """(user, line, entry) of a batch of rows; entry None for a row with errors."""
        if not self.table:
            for user, line, entry in batch:
                if entry is not None:
                    self.entries.setdefault(user, []).append(entry)
                self.lines.setdefault(user, line)
            return
        columns = "user_id, line, ok, role, role_type, org, begin_date, end_date, active, extra"
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {self.table} ({columns}) FROM STDIN") as copy,
        ):
            for user, line, entry in batch:
                if entry is None:
                    copy.write_row((user, line, False, None, None, None, None, None, None, None))
                else:
                    copy.write_row(
                        (
                            user,
                            line,
                            True,
                            entry.role,
                            entry.role_type,
                            entry.org,
                            entry.begin,
                            entry.end,
                            entry.active,
                            json.dumps(entry.extra) if entry.extra else None,
                        )
                    )

    def finished(self) -> None:
        if self.table:
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE INDEX ON {self.table} (user_id)")
                cursor.execute(f"ANALYZE {self.table}")

    def prefetch(self, users: Iterable[str]) -> None:
        """The entries of a batch's users (PostgreSQL; in memory they are all at hand)."""
        if not self.table:
            return
        self.entries = {}
        wanted = list({user for user in users if user})
        if not wanted:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT user_id, role, role_type, org, begin_date, end_date, active, extra "  # noqa: S608
                f"FROM {self.table} WHERE ok AND user_id = ANY(%s) ORDER BY line",
                [wanted],
            )
            for user, role, role_type, org, begin, end, active, extra in cursor.fetchall():
                self.entries.setdefault(user, []).append(
                    RoleEntry(
                        role, role_type, org, begin, end, active, json.loads(extra) if extra else {}
                    )
                )

    def of(self, user: str) -> list[RoleEntry]:
        return self.entries.get(user, [])

    def unknown_users(
        self,
        seen: FirstLines,
        people: Sequence[type[models.Model]],
        scope: dict[str, Any],
        held: Callable[[str], bool],
    ) -> Iterator[tuple[str, int]]:
        """(user, first line) of each user roles.csv names that users.csv does not (`seen`) and
        no model of `people` holds (in memory: that `held` does not), in the file's order."""
        if not self.table:
            for user, line in self.lines.items():
                if user not in seen.memory and not held(user):
                    yield user, line
            return
        absent = " ".join(
            f"AND NOT EXISTS (SELECT 1 FROM {model._meta.db_table} p "  # noqa: S608
            "WHERE p.district_id = %s "
            "AND p.source_system = %s AND p.source_id = r.user_id)"
            for model in people
        )
        params: list[Any] = []
        for _ in people:
            params += [scope["district_id"], scope["source_system"]]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT r.user_id, min(r.line) FROM {self.table} r "  # noqa: S608
                f"WHERE NOT EXISTS (SELECT 1 FROM {seen.table} s WHERE s.key = r.user_id) {absent} "
                "GROUP BY r.user_id ORDER BY min(r.line)",
                params,
            )
            yield from cursor.fetchall()


class RowSink:
    """Rows for one sourced upsert, written a batch at a time: staged in the database as they
    come on PostgreSQL (StagedUpsert), kept in a list elsewhere; finish() upserts them."""

    def __init__(
        self,
        model: type[models.Model],
        *,
        fields: Sequence[str],
        district_id: int | None,
        source_system: str,
        extra_columns: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.model = model
        self.fields = tuple(fields)
        self.district_id = district_id
        self.source_system = source_system
        self.rows: list[Sequence[Any]] = []
        self.staged = (
            StagedUpsert(
                model,
                fields=fields,
                district_id=district_id,
                source_system=source_system,
                extra_columns=extra_columns,
            )
            if streamed()
            else None
        )

    def write(self, rows: Sequence[Sequence[Any]]) -> None:
        if self.staged is not None:
            if rows:
                self.staged.write(rows)
        else:
            self.rows.extend(rows)

    def finish(self, *, deactivate_missing: bool) -> UpsertResult:
        if self.staged is not None:
            return self.staged.finish(deactivate_missing=deactivate_missing)
        width = len(self.fields)
        return sourced_upsert(
            self.model,
            fields=self.fields,
            rows=[row[:width] for row in self.rows],
            district_id=self.district_id,
            source_system=self.source_system,
            deactivate_missing=deactivate_missing,
        )

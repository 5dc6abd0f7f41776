"""What an import found: errors (file, line, column, message) and per-entity counts.

Importers add errors to an ErrorCollector as they read (never raise on the first one), and count
what they wrote in an ImportReport. The run service rolls everything back when any error was
collected, so an import is all or nothing.

One setting caps what an import keeps about errors, for every importer: TRELLIS_IMPORT_ERROR_LIMIT
(error_limit(), 200). The collector keeps that many errors and counts the rest, and an importer
that remembers records with errors (to report a reference to one only once) remembers no more
than that many either. Warnings (what an import accepted but the district should know: a value
kept as unknown, an optional reference dropped) are kept the same way, and mappings (an older or
differently written value read as the standard's) are counted per (file, column, from, to).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from django.conf import settings

DEFAULT_ERROR_LIMIT = 200
# The longest message and column an error keeps (both may quote the file).
MESSAGE_LENGTH = 500
COLUMN_LENGTH = 200


def error_limit() -> int:
    """How many errors an import keeps (TRELLIS_IMPORT_ERROR_LIMIT, by default 200)."""
    return int(getattr(settings, "TRELLIS_IMPORT_ERROR_LIMIT", DEFAULT_ERROR_LIMIT))


@dataclass(frozen=True)
class ImportIssue:
    """One problem in the input. `line` counts physical lines from 1 (the header is line 1);
    `column` is a CSV column name or an XML/JSON element path; `value` is echoed unless the
    field is sensitive."""

    file: str
    line: int | None
    column: str
    message: str
    value: str | None = None
    # What the value probably should be, when that is plain (a near-miss enumeration value).
    suggestion: str | None = None

    def as_json(self) -> dict[str, object]:
        data: dict[str, object] = {"file": self.file, "line": self.line, "column": self.column}
        data["message"] = self.message if self.value is None else f"{self.message}: {self.value!r}"
        if self.suggestion is not None:
            data["suggestion"] = self.suggestion
        return data

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        column = f" [{self.column}]" if self.column else ""
        hint = f" (did you mean {self.suggestion!r}?)" if self.suggestion is not None else ""
        return f"{where}{column}: {self.as_json()['message']}{hint}"


class ErrorCollector:
    """Keeps the first `limit` errors (error_limit() when not given) and counts all of them.

    `total_is_minimum` is set when an importer could no longer tell an error from the
    consequence of one it stopped remembering, and so did not count it: `total` is then a
    lower bound (and the report says "at least")."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = error_limit() if limit is None else limit
        self.kept: list[ImportIssue] = []
        self.total = 0
        self.total_is_minimum = False

    def add(
        self,
        *,
        file: str,
        line: int | None,
        column: str,
        message: str,
        value: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        self.total += 1
        if len(self.kept) < self.limit:
            # Long values (a whole quoted paragraph) are cut, so a report stays readable; so are
            # messages and columns, which may quote the file too (a report stays small).
            if value is not None and len(value) > 80:
                value = value[:77] + "..."
            if len(message) > MESSAGE_LENGTH:
                message = message[: MESSAGE_LENGTH - 3] + "..."
            if len(column) > COLUMN_LENGTH:
                column = column[: COLUMN_LENGTH - 3] + "..."
            self.kept.append(ImportIssue(file, line, column, message, value, suggestion))

    def __bool__(self) -> bool:
        return self.total > 0

    def __len__(self) -> int:
        return self.total

    def as_json(self) -> list[dict[str, object]]:
        return [issue.as_json() for issue in self.kept]


@dataclass
class EntityCounts:
    created: int = 0
    updated: int = 0
    deactivated: int = 0
    unchanged: int = 0

    def add(self, other: EntityCounts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.deactivated += other.deactivated
        self.unchanged += other.unchanged


@dataclass
class ImportReport:
    """Per-entity counts, in the order entities were first counted, plus the errors."""

    format: str = ""
    dry_run: bool = False
    counts: dict[str, EntityCounts] = field(default_factory=dict)
    errors: ErrorCollector = field(default_factory=ErrorCollector)
    # Facts for the reader that are not counts (version, skipped files, ignored columns).
    notes: list[str] = field(default_factory=list)
    # What was accepted but should be known (never a reason to roll back); capped like errors.
    warnings: ErrorCollector = field(default_factory=ErrorCollector)
    # Values read as another value: (file, column, found, read as) -> how many times.
    mappings: dict[tuple[str, str, str, str], int] = field(default_factory=dict)

    def mapped(self, file: str, column: str, found: str, read_as: str, times: int = 1) -> None:
        """Count a value read as another one (`Scheduled` as `scheduled`, `inactive` as
        `tobedeleted`). Distinct mappings are few; each row adds to a count."""
        key = (file, column, found[:80], read_as)
        self.mappings[key] = self.mappings.get(key, 0) + times

    def mappings_json(self) -> list[dict[str, object]]:
        return [
            {"file": file, "column": column, "from": found, "to": read_as, "count": count}
            for (file, column, found, read_as), count in sorted(self.mappings.items())
        ]

    def entity(self, name: str) -> EntityCounts:
        return self.counts.setdefault(name, EntityCounts())

    def count(
        self,
        name: str,
        *,
        created: int = 0,
        updated: int = 0,
        deactivated: int = 0,
        unchanged: int = 0,
    ) -> None:
        self.entity(name).add(EntityCounts(created, updated, deactivated, unchanged))

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_json(self) -> dict[str, object]:
        return {
            "format": self.format,
            "ok": self.ok,
            "dry_run": self.dry_run,
            "entities": {name: asdict(counts) for name, counts in self.counts.items()},
            "errors": self.errors.as_json(),
            "error_total": self.errors.total,
            "error_total_is_minimum": self.errors.total_is_minimum,
            "notes": self.notes,
            "warnings": self.warnings.as_json(),
            "warning_total": self.warnings.total,
            "mappings": self.mappings_json(),
        }

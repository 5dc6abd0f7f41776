"""Reading OneRoster CSV leniently and checking it strictly.

Lenient: a UTF-8 BOM, CRLF or LF, quoted fields with commas and newlines, columns in any order
and in any case, extra columns, empty optional fields, dates with or without a time, enumeration
values in any case (`Scheduled`), booleans as 1 and 0, 1.0-era values (status `inactive`), a
dateLastModified that is not ISO 8601 (kept as unknown, with a warning). Every value read as
another is counted in the report's mappings. Strict: a missing required column or value, a bad
date, number or enum value, a duplicate sourcedId: each is an error with the file, the line the
record starts on, the column, (unless sensitive) the value, and a suggestion where one is plain.
"""

from __future__ import annotations

import csv
import difflib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from interop.oneroster.schema import OLDER_STATUSES, STATUSES, FileSpec
from interop.oneroster.vendor import extra_of, vendor_positions
from interop.registry import ImportContext
from interop.sources import RecordTooLarge, max_field_chars, open_text

if TYPE_CHECKING:
    from _csv import _reader

# Values never echoed in an error message (they arrive in the import; they are not logged).
SENSITIVE_COLUMNS = {"email", "sms", "phone", "password", "birthDate", "username", "userIds"}
DATE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
# A flag's value by its lower-cased text; empty is no value. 1 and 0 are common in the field.
TRUE_VALUES = {"": None, "true": True, "false": False, "1": True, "0": False}
# The status values a bulk row may have without a message (empty: active).
PLAIN_STATUSES = frozenset(("", *STATUSES))
# Points fit numeric(9,3): below a million, kept to three decimal places.
POINTS_LIMIT = Decimal("1000000")
POINTS_STEP = Decimal("0.001")
PROGRESS_EVERY = 2000
# How the csv module words a field over csv.field_size_limit (CPython's _csv.c).
FIELD_LIMIT_ERROR = "field larger than field limit"


def csv_reader(text: Iterable[str], **options: Any) -> _reader:
    """csv.reader with fields bounded by max_field_chars() (csv's limit is per process; it is set
    from the setting for each file, so a test or a setting that changes it is followed)."""
    csv.field_size_limit(max_field_chars())
    return csv.reader(text, **options)


def read_failure(exc: Exception) -> str:
    """What an exception that stopped reading a CSV file (csv.Error, a bad byte, a record over
    the limit) means to the person who sent the file."""
    if isinstance(exc, RecordTooLarge):
        return f"A row {exc}: the rest of the file is not read"
    if isinstance(exc, csv.Error) and str(exc).startswith(FIELD_LIMIT_ERROR):
        return (
            f"A field longer than {max_field_chars():,} characters, the most one field may hold: "
            "the rest of the file is not read"
        )
    return str(exc)


# Exports repeat a few dates (dateLastModified, a line item's date) across millions of rows.
@lru_cache(maxsize=8192)
def parse_date(text: str) -> date | None:
    """A date, or a datetime whose date part is taken; None when it is neither."""
    match = DATE.match(text)
    if not match:
        return None
    try:
        parsed = date(int(match[1]), int(match[2]), int(match[3]))
        if match[4] is not None and (int(match[4]) > 23 or int(match[5]) > 59):
            return None
        return parsed
    except ValueError:
        return None


@lru_cache(maxsize=256)
def folded(allowed: tuple[str, ...]) -> dict[str, str]:
    """The allowed values by their lower-cased text (enumerations are matched in any case)."""
    return {value.lower(): value for value in allowed}


def suggestion(raw: str, allowed: Iterable[str]) -> str | None:
    """The allowed value `raw` is plainly a misspelling of, if any ("studnet" -> "student")."""
    choices = {value.lower(): value for value in allowed}
    close = difflib.get_close_matches(raw.lower(), list(choices), n=1, cutoff=0.75)
    return choices[close[0]] if close else None


@lru_cache(maxsize=65_536)
def plain_points(raw: str) -> Decimal | None:
    """Points from their text: a finite number below POINTS_LIMIT, to three places; None for
    anything else (Row.decimal says which). Exports repeat few distinct scores: cached."""
    try:
        number = Decimal(raw)
    except InvalidOperation:
        return None
    if not number.is_finite() or abs(number) >= POINTS_LIMIT:
        return None
    return number.quantize(POINTS_STEP)


@dataclass(slots=True)
class Row:
    """One record of a file, with helpers that read a column and record what is wrong with it."""

    file: CsvFile
    line: int
    values: dict[str, str]
    ok: bool = True
    # The row's vendor columns (`metadata.*` and others), shaped as source_extra keeps them.
    extra: dict[str, Any] = field(default_factory=dict)

    def error(
        self, column: str, message: str, value: str | None = None, *, hint: str | None = None
    ) -> None:
        self.ok = False
        if column in SENSITIVE_COLUMNS:
            value = hint = None
        self.file.context.report.errors.add(
            file=self.file.spec.filename,
            line=self.line,
            column=column,
            message=message,
            value=value,
            suggestion=hint,
        )

    def warn(self, column: str, message: str, value: str | None = None) -> None:
        """Something accepted that the district should know; the row stays valid."""
        if column in SENSITIVE_COLUMNS:
            value = None
        self.file.context.report.warnings.add(
            file=self.file.spec.filename,
            line=self.line,
            column=column,
            message=message,
            value=value,
        )

    def mapped(self, column: str, found: str, read_as: str) -> None:
        """`found` was read as `read_as`: counted in the report, and the row holds `read_as`."""
        self.values[column] = read_as
        self.file.context.report.mapped(self.file.spec.filename, column, found, read_as)

    def text(self, column: str) -> str:
        return self.values.get(column, "")  # stripped when the row was read

    def required(self, column: str) -> str:
        value = self.text(column)
        if not value:
            self.error(column, "A value is required")
        return value

    def list(self, column: str) -> list[str]:
        return [part.strip() for part in self.text(column).split(",") if part.strip()]

    def date(self, column: str, *, required: bool = False) -> date | None:
        raw = self.required(column) if required else self.text(column)
        if not raw:
            return None
        parsed = parse_date(raw)
        if parsed is None:
            self.error(column, "Not a date (YYYY-MM-DD, optionally with a time)", raw)
        return parsed

    def enum(
        self,
        column: str,
        allowed: tuple[str, ...] | dict,
        *,
        required: bool = False,
        older: dict[str, str] | None = None,
    ) -> str:
        """A value of `allowed`, matched in any case; `older` maps earlier versions' values (in
        lower case) to the standard's. A value read as another is counted (Row.mapped)."""
        raw = self.required(column) if required else self.text(column)
        if not raw or raw in allowed:
            return raw
        lowered = raw.lower()
        value = folded(tuple(allowed)).get(lowered)
        if value is None and older is not None:
            value = older.get(lowered)
        if value is None:
            self.error(
                column, f"Not one of {', '.join(allowed)}", raw, hint=suggestion(raw, allowed)
            )
            return ""
        self.mapped(column, raw, value)
        return value

    def boolean(self, column: str, *, required: bool = False) -> bool | None:
        raw = self.required(column) if required else self.values.get(column, "")
        if not raw:
            return None
        parsed = TRUE_VALUES.get(raw.lower())
        if parsed is None:
            self.error(column, "Not true or false", raw, hint=suggestion(raw, ("true", "false")))
        elif raw in ("1", "0"):
            self.mapped(column, raw, "true" if parsed else "false")
        return parsed

    def decimal(self, column: str, *, required: bool = False) -> Decimal | None:
        raw = self.required(column) if required else self.text(column)
        if not raw:
            return None
        number = plain_points(raw)
        if number is None:
            # A finite number that plain_points refused is too large.
            try:
                finite = Decimal(raw).is_finite()
            except InvalidOperation:
                finite = False
            if finite:
                self.error(column, "Out of range (at most 999,999.999)", raw)
            else:
                self.error(column, "Not a number", raw)
        return number

    def integer(self, column: str, *, required: bool = False) -> int | None:
        raw = self.required(column) if required else self.text(column)
        if not raw:
            return None
        if not raw.isdigit():
            self.error(column, "Not a whole number", raw)
            return None
        return int(raw)

    @property
    def sourced_id(self) -> str:
        return self.text("sourcedId")

    @property
    def is_active(self) -> bool:
        return self.text("status") != "tobedeleted"

    def fits(self, column: str, value: str, limit: int) -> str:
        if len(value) > limit:
            self.error(column, f"Longer than {limit} characters", value)
        return value


@dataclass
class CsvFile:
    """A declared file: its header checked once, then its rows streamed."""

    context: ImportContext
    spec: FileSpec
    mode: str  # bulk or delta
    header: list[str] = field(default_factory=list)
    usable: bool = True
    # False once a row stopped the reading (an unclosed quote, a bad byte): the rest is unread.
    complete: bool = True
    rows_read: int = 0
    # (position, name) of the header's vendor columns (interop.oneroster.vendor).
    vendor: tuple[tuple[int, str], ...] = ()

    @property
    def bulk(self) -> bool:
        return self.mode == "bulk"

    def check_header(self) -> None:
        source = self.context.source
        errors = self.context.report.errors
        if not source.has(self.spec.filename):
            errors.add(
                file="manifest.csv",
                line=None,
                column=f"file.{self.spec.name}",
                message=f"The manifest declares {self.spec.filename} ({self.mode}) but the "
                "export does not contain it",
            )
            self.usable = False
            return
        with open_text(source, self.spec.filename) as (text, _):
            try:
                header = next(csv_reader(text), [])
            except (csv.Error, UnicodeDecodeError, RecordTooLarge) as exc:
                errors.add(file=self.spec.filename, line=1, column="", message=read_failure(exc))
                self.usable = False
                return
        # Column names in any case: `SourcedId` is sourcedId (counted as a mapping).
        columns = self.spec.columns
        known = folded(columns)
        self.header = []
        for raw in header:
            name = raw.strip()
            standard = known.get(name.lower(), name)
            if standard != name:
                self.context.report.mapped(self.spec.filename, "(header)", name, standard)
            self.header.append(standard)
        seen: set[str] = set()
        for name in self.header:
            if name in seen and name:
                errors.add(file=self.spec.filename, line=1, column=name, message="Duplicate column")
                self.usable = False
            seen.add(name)
        self.vendor, dropped = vendor_positions(self.header, columns)
        for name in dropped:
            self.context.report.warnings.add(
                file=self.spec.filename,
                line=1,
                column=name,
                message="A column named metadata beside metadata.* columns: not kept",
            )
        for name in self.spec.required:
            if name not in seen:
                errors.add(
                    file=self.spec.filename,
                    line=1,
                    column=name,
                    message="Required column missing",
                    suggestion=suggestion(name, [n for n in self.header if n not in columns]),
                )
                self.usable = False
        if self.mode == "delta":
            for name in ("status", "dateLastModified"):
                if name in self.spec.columns and name not in seen:
                    errors.add(
                        file=self.spec.filename,
                        line=1,
                        column=name,
                        message="Required column missing (a delta file needs it)",
                    )
                    self.usable = False

    def rows(self) -> Iterator[Row]:
        """Every record, with the line it starts on; progress on the context as it goes."""
        if not self.usable:
            return
        progress = self.context.progress
        source = self.context.source
        known = set(self.spec.columns)
        positions = [(i, name) for i, name in enumerate(self.header) if name in known]
        width = len(self.header)
        vendor = self.vendor
        # When every column is the standard's, a full record maps onto the header in one zip.
        all_known = len(positions) == width
        # What _check_common checks, decided once per file rather than once per row.
        checks = (
            "sourcedId" in self.spec.required,
            "status" in self.spec.columns,
            "dateLastModified" in self.spec.columns,
            self.mode == "delta",
        )
        progress.file_started(self.spec.filename, source.size(self.spec.filename))
        with open_text(source, self.spec.filename) as (text, counter):
            reader = csv_reader(text, strict=True)
            line_end = 0
            try:
                next(reader, None)
                line_end = reader.line_num
                counter.record_start = counter.bytes_read
                for record in reader:
                    start, line_end = line_end + 1, reader.line_num
                    # A record ended: the next one is bounded from here (CountingReader).
                    counter.record_start = counter.bytes_read
                    if not record or (len(record) == 1 and not record[0].strip()):
                        continue  # a blank line (often the last one)
                    size = len(record)
                    if all_known and size == width:
                        values = dict(zip(self.header, map(str.strip, record), strict=True))
                    else:
                        values = {name: record[i].strip() for i, name in positions if i < size}
                    row = Row(self, start, values)
                    if vendor:
                        row.extra = extra_of(vendor, record)
                    if len(record) > width:
                        row.error("", f"{len(record)} fields where the header has {width}")
                    self._check_common(row, checks)
                    self.rows_read += 1
                    if self.rows_read % PROGRESS_EVERY == 0:
                        progress.advance(self.rows_read, counter.bytes_read)
                    yield row
            except (csv.Error, UnicodeDecodeError, RecordTooLarge) as exc:
                self.complete = False
                self.context.report.errors.add(
                    file=self.spec.filename,
                    line=line_end + 1,
                    column="",
                    message=read_failure(exc),
                )
        progress.advance(self.rows_read, counter.bytes_read)
        progress.file_finished()

    def _check_common(self, row: Row, checks: tuple[bool, bool, bool, bool]) -> None:
        """The columns every file shares; `checks` says which of them apply (see rows)."""
        if not self._plainly_valid(row, checks):
            self._check_common_fully(row, checks)

    @staticmethod
    def _plainly_valid(row: Row, checks: tuple[bool, bool, bool, bool]) -> bool:
        """Nearly every row of a bulk file: an id, a plain status and a date that need no
        message. True only where _check_common_fully would find nothing (a test holds them to
        that); any other row takes the full checks, which name what is wrong."""
        sourced, status, modified, delta = checks
        if delta:
            return False
        get = row.values.get
        sourced_id = get("sourcedId", "")
        modified_on = get("dateLastModified", "") if modified else ""
        return (
            (not sourced or 0 < len(sourced_id) <= 255)
            and (not status or get("status", "") in PLAIN_STATUSES)
            and (not modified_on or parse_date(modified_on) is not None)
        )

    @staticmethod
    def _check_common_fully(row: Row, checks: tuple[bool, bool, bool, bool]) -> None:
        sourced, status, modified, delta = checks
        if sourced:
            row.fits("sourcedId", row.required("sourcedId"), 255)
        if status:
            row.enum("status", STATUSES, required=delta, older=OLDER_STATUSES)
        if modified:
            raw = (
                row.required("dateLastModified")
                if delta
                else row.values.get("dateLastModified", "")
            )
            if raw and parse_date(raw) is None:
                # Trellis keeps no modification dates: an unreadable one is unknown, not wrong.
                row.warn("dateLastModified", "Not a date-time (ISO 8601): kept as unknown", raw)

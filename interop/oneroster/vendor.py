"""Vendor columns: what a OneRoster file holds beyond the standard's columns.

A file may carry `metadata.*` columns (the CSV binding's extension point) and columns of its own
(`ext_color`, a 1.1 column in a 1.2 file...). They are kept on the record the row becomes, in its
`source_extra` JSON field (students.models.VendorColumns), as the latest import said:

- a `metadata.<name>` column under "metadata", as `<name>` (the REST binding's metadata object):
  `metadata.sis_house` is `{"metadata": {"sis_house": "Blue"}}`, queried as
  `Student.objects.filter(source_extra__metadata__sis_house="Blue")`;
- any other column under its name as it is: `ext_color` is `{"ext_color": "red"}`;
- every vendor column of the file is kept for every row, an empty value as "" (so that a column
  every row leaves empty is still exported); a row of a file without vendor columns keeps {}: a
  re-import without a column clears it.

The exporter writes them back as the same columns, after the standard's, in name order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

METADATA = "metadata"
METADATA_PREFIX = "metadata."


def vendor_positions(
    header: Sequence[str], standard: Iterable[str]
) -> tuple[tuple[tuple[int, str], ...], list[str]]:
    """The (position, name) of each vendor column of a header whose standard columns have been
    named already, and the names that cannot be kept (a bare `metadata` column beside
    `metadata.*` ones, whose values would share the key)."""
    known = set(standard)
    found = [(at, name) for at, name in enumerate(header) if name and name not in known]
    if any(name.startswith(METADATA_PREFIX) for _, name in found):
        dropped = [name for _, name in found if name == METADATA]
        found = [(at, name) for at, name in found if name != METADATA]
        return tuple(found), dropped
    return tuple(found), []


def extra_of(positions: Sequence[tuple[int, str]], record: Sequence[str]) -> dict[str, Any]:
    """A row's vendor values, shaped as VendorColumns.source_extra holds them."""
    extra: dict[str, Any] = {}
    size = len(record)
    for at, name in positions:
        value = record[at].strip() if at < size else ""
        if name.startswith(METADATA_PREFIX):
            extra.setdefault(METADATA, {})[name[len(METADATA_PREFIX) :]] = value
        else:
            extra[name] = value
    return extra


def columns_of(extra: dict[str, Any] | None) -> dict[str, str]:
    """A record's source_extra as the columns it came from: {"metadata.sis_house": "Blue"}."""
    if not extra:
        return {}
    columns: dict[str, str] = {}
    for key, value in extra.items():
        if key == METADATA and isinstance(value, dict):
            for name, inner in value.items():
                columns[METADATA_PREFIX + name] = _text(inner)
        else:
            columns[key] = _text(value)
    return columns


def _text(value: Any) -> str:
    """A kept value is text; anything else (set by hand) is written as its JSON-ish text."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def column_names(extras: Iterable[dict[str, Any] | None], standard: Iterable[str]) -> list[str]:
    """The vendor columns a file is written with: every column its records' source_extra holds,
    in name order, less those that a reader would take for a standard column of the file (in
    any case, as the reader matches them: a 1.1 `role` kept from a 1.2 file is not written
    into a 1.1 users.csv, whose `role` is the standard's)."""
    taken = {name.lower() for name in standard}
    names: set[str] = set()
    for extra in extras:
        names.update(columns_of(extra))
    return sorted(name for name in names if name.lower() not in taken)

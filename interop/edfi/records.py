"""Neutral records: what an Ed-Fi element says, whatever the version of the file.

A `Rec` names its kind, its natural key (stored as source_id), plain field values, and references
to other records by their natural keys (`Ref`), resolved by the loader across files and against
what Trellis already holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

# Ed-Fi grade level names (1.x values and 5.2 descriptor values) to Trellis's codes.
_GRADE_WORDS = {
    "infant/toddler": "PK",
    "preschool/prekindergarten": "PK",
    "prekindergarten": "PK",
    "early education": "PK",
    "kindergarten": "KG",
    "transitional kindergarten": "KG",
    "first grade": "01",
    "second grade": "02",
    "third grade": "03",
    "fourth grade": "04",
    "fifth grade": "05",
    "sixth grade": "06",
    "seventh grade": "07",
    "eighth grade": "08",
    "ninth grade": "09",
    "tenth grade": "10",
    "eleventh grade": "11",
    "twelfth grade": "12",
}


def grade_code(value: str) -> str:
    """'Eleventh grade' → '11'; unknown values (Ungraded, Adult education) are kept as given,
    cut to the four characters a grade level holds."""
    code = _GRADE_WORDS.get(value.strip().lower())
    if code:
        return code
    return value[:4]


def school_year_end(value: str) -> int | None:
    """'2010-2011' (1.x) or '2011' (5.2) → 2011, the year the school year ends in."""
    value = value.strip()
    if not value:
        return None
    tail = value.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else None


@dataclass(frozen=True)
class Ref:
    """A reference by natural key. `create`: the values to create missing reference data from
    (the reference carries its full natural key); None means a missing target is an error."""

    kind: str
    key: str
    create: dict[str, Any] | None = None
    path: str = ""


@dataclass
class Rec:
    kind: str
    key: str
    line: int | None
    element: str
    values: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, Ref | None] = field(default_factory=dict)
    many: dict[str, list[Ref]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Contact:
    kind: str  # address, phone, email
    label: str
    value: str
    is_primary: bool = False


def fmt_date(value: date | None) -> str:
    return value.isoformat() if value else ""

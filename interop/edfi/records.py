"""Neutral records: what an Ed-Fi element says, whatever the version of the file.

A `Rec` names its kind, its natural key (stored as source_id), plain field values, and references
to other records by their natural keys (`Ref`), resolved by the loader across files and against
what Trellis already holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple


def school_year_end(value: str) -> int | None:
    """'2010-2011' (1.x) or '2011' (5.2) → 2011, the year the school year ends in."""
    value = value.strip()
    if not value:
        return None
    tail = value.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else None


# Common languages by their ISO 639 codes (639-1, 639-2/B and /T, and 639-3 where families
# name a variety): a code reads as the language's English name, as sources that name languages
# write them ("Spanish"). Ed-Fi recommends ISO 639-2 codes for its LanguageDescriptor values.
_LANGUAGES: dict[str, tuple[str, ...]] = {
    "Albanian": ("sq", "alb", "sqi"),
    "American Sign Language": ("ase",),
    "Amharic": ("am", "amh"),
    "Arabic": ("ar", "ara"),
    "Armenian": ("hy", "arm", "hye"),
    "Bengali": ("bn", "ben"),
    "Bosnian": ("bs", "bos"),
    "Burmese": ("my", "bur", "mya"),
    "Cantonese": ("yue",),
    "Cebuano": ("ceb",),
    "Chinese": ("zh", "chi", "zho"),
    "Chuukese": ("chk",),
    "Croatian": ("hr", "hrv"),
    "Czech": ("cs", "cze", "ces"),
    "Dari": ("prs",),
    "Dutch": ("nl", "dut", "nld"),
    "English": ("en", "eng"),
    "Filipino": ("fil",),
    "French": ("fr", "fre", "fra"),
    "German": ("de", "ger", "deu"),
    "Greek": ("el", "gre", "ell"),
    "Gujarati": ("gu", "guj"),
    "Haitian Creole": ("ht", "hat"),
    "Hebrew": ("he", "heb"),
    "Hindi": ("hi", "hin"),
    "Hmong": ("hmn",),
    "Hungarian": ("hu", "hun"),
    "Igbo": ("ig", "ibo"),
    "Ilocano": ("ilo",),
    "Indonesian": ("id", "ind"),
    "Italian": ("it", "ita"),
    "Japanese": ("ja", "jpn"),
    "Karen": ("kar",),
    "Khmer": ("km", "khm"),
    "Kinyarwanda": ("rw", "kin"),
    "Korean": ("ko", "kor"),
    "Kurdish": ("ku", "kur"),
    "Lao": ("lo", "lao"),
    "Malayalam": ("ml", "mal"),
    "Mandarin": ("cmn",),
    "Marathi": ("mr", "mar"),
    "Marshallese": ("mh", "mah"),
    "Navajo": ("nv", "nav"),
    "Nepali": ("ne", "nep"),
    "Pashto": ("ps", "pus"),
    "Persian": ("fa", "per", "fas"),
    "Polish": ("pl", "pol"),
    "Portuguese": ("pt", "por"),
    "Punjabi": ("pa", "pan"),
    "Romanian": ("ro", "rum", "ron"),
    "Russian": ("ru", "rus"),
    "Samoan": ("sm", "smo"),
    "Serbian": ("sr", "srp"),
    "Somali": ("so", "som"),
    "Spanish": ("es", "spa"),
    "Swahili": ("sw", "swa"),
    "Tagalog": ("tl", "tgl"),
    "Tamil": ("ta", "tam"),
    "Telugu": ("te", "tel"),
    "Thai": ("th", "tha"),
    "Tigrinya": ("ti", "tir"),
    "Tongan": ("to", "ton"),
    "Turkish": ("tr", "tur"),
    "Ukrainian": ("uk", "ukr"),
    "Urdu": ("ur", "urd"),
    "Uzbek": ("uz", "uzb"),
    "Vietnamese": ("vi", "vie"),
    "Yoruba": ("yo", "yor"),
}
_LANGUAGE_CODES = {code: name for name, codes in _LANGUAGES.items() for code in codes}


def language_name(value: str) -> str:
    """A language as sources name it: 'uri://ed-fi.org/LanguageDescriptor#spa' (or an http
    namespace), 'spa' or 'es' → 'Spanish'. A code not listed here (or a name) is kept as given,
    the descriptor's code value without its namespace."""
    value = value.strip()
    if "://" in value and "#" in value:
        value = value.rsplit("#", 1)[1].strip()
    return _LANGUAGE_CODES.get(value.lower(), value)


class Ref(NamedTuple):
    """A reference by natural key. `create`: the values to create missing reference data from
    (the reference carries its full natural key); None means a missing target is an error.
    A tuple (not a frozen dataclass): a million records make millions of these, and a tuple is
    built several times faster and crosses to the loader's process as it is (interop.edfi.relay)."""

    kind: str
    key: str
    create: dict[str, Any] | None = None
    path: str = ""


@dataclass(slots=True)
class Rec:
    kind: str
    key: str
    line: int | None
    element: str
    values: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, Ref | None] = field(default_factory=dict)
    many: dict[str, list[Ref]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    # fingerprint_of(self), when the reading process made it (the loader makes it otherwise).
    fingerprint: int | None = None


@dataclass(frozen=True)
class Contact:
    kind: str  # address, phone, email
    label: str
    value: str
    is_primary: bool = False


def fingerprint_of(rec: Rec) -> int:
    """What a record says, hashed: a repeat of its key with the same fingerprint is merged.
    Hashing the items (as sets: their order does not matter) is cheaper than hashing their
    repr; values that cannot be hashed (lists, a reference's create data) fall back to it."""
    try:
        return hash(
            (
                frozenset(rec.values.items()),
                frozenset(rec.refs.items()),
                frozenset((k, tuple(v)) for k, v in rec.many.items()),
                frozenset((k, v) for k, v in rec.extra.items() if k != "alias"),
            )
        )
    except TypeError:
        return hash(
            (
                repr(sorted(rec.values.items())),
                repr(sorted(rec.refs.items(), key=lambda item: item[0])),
                repr(sorted(rec.many.items())),
                repr(sorted((k, v) for k, v in rec.extra.items() if k != "alias")),
            )
        )


def fmt_date(value: date | None) -> str:
    return value.isoformat() if value else ""


# Records cross from the reading process to the loader (interop.edfi.relay) as plain tuples:
# pickle writes and reads a tuple of builtins several times faster than a dataclass or a
# NamedTuple, which it rebuilds by calling their classes. The reading process also hashes each
# record for the loader's repeat check (the loader is the busier of the two; a forked process
# hashes strings as its parent does).
_tuple_new = tuple.__new__


def encode_event(event: tuple[Any, ...]) -> tuple[Any, ...]:
    if event[0] != "rec":
        return event
    rec: Rec = event[1]
    return (
        "R",
        rec.kind,
        rec.key,
        rec.line,
        rec.element,
        rec.values,
        {name: None if ref is None else tuple(ref) for name, ref in rec.refs.items()},
        {name: [tuple(ref) for ref in refs] for name, refs in rec.many.items()}
        if rec.many
        else None,
        rec.extra or None,
        fingerprint_of(rec),
    )


def decode_event(event: tuple[Any, ...]) -> tuple[Any, ...]:
    if event[0] != "R":
        return event
    _, kind, key, line, element, values, refs, many, extra, fingerprint = event
    return (
        "rec",
        Rec(
            kind,
            key,
            line,
            element,
            values,
            {name: None if ref is None else _tuple_new(Ref, ref) for name, ref in refs.items()},
            {name: [_tuple_new(Ref, ref) for ref in found] for name, found in many.items()}
            if many
            else {},
            extra or {},
            fingerprint,
        ),
    )

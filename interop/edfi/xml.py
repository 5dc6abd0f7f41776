"""Streaming reads of Ed-Fi interchange files: one top-level element at a time, cleared after.

Element text is normalized (Daybreak's identifiers carry stray whitespace and line breaks inside
elements), and descriptor URIs (`uri://ed-fi.org/SexDescriptor#Female`) are read as their value;
Node.descriptor reads one as Trellis's value (interop.edfi.descriptors) and counts the mapping.
A top-level element is a record: one longer than interop.sources.max_record_bytes() stops the
read with RecordTooLarge (naming the line it began on), so one element never fills memory.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import IO, TYPE_CHECKING

from lxml import etree

from interop.edfi import descriptors
from interop.sources import CountingReader, RecordTooLarge, max_record_bytes

if TYPE_CHECKING:
    from interop.edfi.refs import IdMap

NS_V1 = "http://ed-fi.org/0100"
NS_V52 = "http://ed-fi.org/5.2.0"
NAMESPACES = {NS_V1: "1.x", NS_V52: "5.2"}

_SPACES = re.compile(r"\s+")


class RecordError(Exception):
    """A record that cannot be read (a required element missing, a value of the wrong form)."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.path = path


def clean(text: str | None) -> str:
    """Collapse inner whitespace and read a descriptor URI as its value: any `uri://`
    namespace, and an `http(s)://` one naming a descriptor (`.../GradeLevelDescriptor#4`)."""
    if not text:
        return ""
    # Most values hold no whitespace but single spaces (isprintable is False for every other
    # whitespace character): strip alone then does what the substitution would.
    if text.isprintable() and "  " not in text:
        value = text.strip()
    else:
        value = _SPACES.sub(" ", text).strip()
    if "#" in value and (
        value.startswith("uri://")
        or (value.startswith(("http://", "https://")) and "descriptor" in value.lower())
    ):
        value = value.rsplit("#", 1)[1].strip()
    return value


# The most distinct (kind, value as written, Trellis value) a report names per file column.
MAPPINGS_KEPT = 1000


class ReadContext:
    """What the reading of one load shares with every element it reads: the file being read,
    the load's id→identity map (refs.IdMap, when a file uses `ref`), and the descriptors read,
    as counts of (file, element, value as written, Trellis value)."""

    __slots__ = ("file", "ids", "mappings", "mappings_not_kept")

    def __init__(self, ids: IdMap | None = None) -> None:
        self.file = ""
        self.ids = ids
        self.mappings: dict[tuple[str, str, str, str], int] = {}
        self.mappings_not_kept = 0

    def mapped(self, column: str, found: str, read_as: str) -> None:
        key = (self.file, column, found[:80], read_as)
        if key in self.mappings:
            self.mappings[key] += 1
        elif len(self.mappings) < MAPPINGS_KEPT:
            self.mappings[key] = 1
        else:
            self.mappings_not_kept += 1


@lru_cache(maxsize=4096)
def _qualified(ns: str, path: str) -> str:
    """'Name/FirstName' → '{ns}Name/{ns}FirstName' (computed once per path and namespace)."""
    return "/".join(part if part == "." else f"{{{ns}}}{part}" for part in path.split("/"))


class _Index:
    """Each qualified path below an element ('{ns}A/{ns}B') -> its first element in document
    order, which is what `element.find(path)` returns: one walk of a record answers all of its
    readers' lookups (lxml's find parses and walks the path on every call). `repeated`: the
    paths more than one element has."""

    __slots__ = ("first", "repeated")

    def __init__(self, element: etree._Element) -> None:
        self.first: dict[str, etree._Element] = {}
        self.repeated: set[str] = set()
        _index_below(element, self.first, self.repeated)


def _index_below(
    element: etree._Element, first: dict[str, etree._Element], repeated: set[str]
) -> None:
    """Walk `element`'s descendants in document order. lxml walks (iterdescendants, elements
    only: no processing instruction or entity), so nesting as deep as a hostile file likes costs
    no recursion; each element's path is its parent's plus its own tag. Twice as fast as a walk
    by Python stack, and a record's index is built for every record read."""
    prefixes = {element: ""}
    for child in element.iterdescendants(etree.Element):
        key = prefixes[child.getparent()] + child.tag
        if key in first:
            repeated.add(key)
        else:
            first[key] = child
        if len(child):
            prefixes[child] = key + "/"


# Descriptors read so far, (kind, value as written) -> (code value, Trellis value) or the
# message of the error: a file repeats a handful of values thousands of times. Bounded.
_DESCRIPTORS_KEPT = 10_000
_descriptor_cache: dict[tuple[str, str], tuple[str, str] | str] = {}


class Node:
    """An element with namespace-free paths: `node.text("Name/FirstName")`."""

    __slots__ = ("_index", "_prefix", "_tag", "ctx", "element", "ns")

    def __init__(self, element: etree._Element, ns: str, ctx: ReadContext | None = None) -> None:
        self.element = element
        self.ns = ns
        self.ctx = ctx
        # The index this node reads its paths from, and its own path in that index: a node
        # found at a path no other element has shares its record's index.
        self._index: _Index | None = None
        self._prefix = ""
        self._tag: str | None = None

    def _path(self, path: str) -> str:
        return _qualified(self.ns, path)

    def _first(self, path: str) -> etree._Element | None:
        """element.find(path) for a path of element names, from an index of the element built
        at the first lookup (readers look up after any `ref` was expanded into the element)."""
        if "." in path:
            return self.element.find(self._path(path))
        index = self._index
        if index is None:
            index = self._index = _Index(self.element)
        return index.first.get(self._prefix + _qualified(self.ns, path))

    @property
    def tag(self) -> str:
        if self._tag is None:
            self._tag = etree.QName(self.element).localname
        return self._tag

    @property
    def line(self) -> int | None:
        return self.element.sourceline

    def find(self, path: str) -> Node | None:
        found = self._first(path)
        if found is None:
            return None
        node = Node(found, self.ns, self.ctx)
        index = self._index
        if index is not None and "." not in path:
            key = self._prefix + _qualified(self.ns, path)
            if key not in index.repeated:
                # The only element at this path: every path below it is below this one.
                node._index, node._prefix = index, key + "/"
        return node

    def child(self, path: str) -> Node:
        """The element at `path`, or a RecordError naming its first step ("X has no YReference")."""
        found = self.find(path)
        if found is None:
            first = path.split("/", 1)[0]
            raise RecordError(f"{self.tag} has no {first}", first)
        return found

    def findall(self, path: str) -> list[Node]:
        return [Node(found, self.ns, self.ctx) for found in self.element.findall(self._path(path))]

    def text(self, path: str = "") -> str:
        if not path:
            return clean(self.element.text)
        found = self._first(path)
        return clean(found.text) if found is not None else ""

    def texts(self, path: str) -> list[str]:
        return [
            value
            for found in self.element.findall(self._path(path))
            if (value := clean(found.text))
        ]

    def attr(self, name: str) -> str:
        return clean(self.element.get(name))

    def required(self, path: str) -> str:
        value = self.text(path)
        if not value:
            raise RecordError(f"{self.tag} has no {path}", path)
        return value

    def date(self, path: str, *, required: bool = False) -> date | None:
        value = self.required(path) if required else self.text(path)
        if not value:
            return None
        try:
            return date.fromisoformat(value[:10])
        except ValueError as exc:
            raise RecordError(f"{path} is not a date: {value!r}", path) from exc

    def time(self, path: str) -> time | None:
        value = self.text(path)
        if not value:
            return None
        try:
            return time.fromisoformat(value)
        except ValueError as exc:
            raise RecordError(f"{path} is not a time: {value!r}", path) from exc

    def decimal(self, path: str) -> Decimal | None:
        value = self.text(path)
        if not value:
            return None
        try:
            return Decimal(value)
        except InvalidOperation as exc:
            raise RecordError(f"{path} is not a number: {value!r}", path) from exc

    def descriptor(self, path: str, kind: str) -> str:
        """The Trellis value of the descriptor at `path` ('' when absent), counted in the run's
        mappings; a RecordError naming the value and what Trellis accepts if it maps to none."""
        return self._descriptor(self._raw(path), path, kind)[1]

    def descriptors(self, path: str, kind: str) -> list[str]:
        return [
            self._descriptor(raw, path, kind)[1]
            for found in self.element.findall(self._path(path))
            if (raw := _SPACES.sub(" ", found.text or "").strip())
        ]

    def descriptor_codes(self, path: str, kind: str) -> list[str]:
        return [
            self._descriptor(raw, path, kind)[0]
            for found in self.element.findall(self._path(path))
            if (raw := _SPACES.sub(" ", found.text or "").strip())
        ]

    def descriptor_code(self, path: str, kind: str) -> str:
        """The code value of the descriptor at `path`, for the loader to map (as `descriptor`
        would, and counted the same way)."""
        return self._descriptor(self._raw(path), path, kind)[0]

    def _raw(self, path: str) -> str:
        found = self._first(path) if path else self.element
        return _SPACES.sub(" ", found.text or "").strip() if found is not None else ""

    def _descriptor(self, raw: str, path: str, kind: str) -> tuple[str, str]:
        if not raw:
            return "", ""
        known = _descriptor_cache.get((kind, raw))
        if known is None:
            try:
                known = (descriptors.code_value(raw), descriptors.trellis_value(kind, raw))
            except descriptors.DescriptorError as exc:
                known = str(exc)
            if len(_descriptor_cache) < _DESCRIPTORS_KEPT:
                _descriptor_cache[(kind, raw)] = known
        if isinstance(known, str):
            raise RecordError(known, path)
        code, value = known
        if self.ctx is not None and value != raw:
            column = f"{self.tag}/{path}" if path else self.tag
            self.ctx.mapped(column, raw, value)
        return code, value

    def boolean(self, path: str) -> bool | None:
        value = self.text(path).lower()
        if value in {"true", "1", "yes"}:
            return True
        if value in {"false", "0", "no"}:
            return False
        return None


@dataclass(frozen=True)
class FileHead:
    root: str
    namespace: str


def read_head(stream: IO[bytes]) -> FileHead:
    """The root element's name and namespace, reading no further than the root's start tag (and
    no more than a record's worth of bytes to find it)."""
    limited = CountingReader(stream, record_limit=max_record_bytes())
    try:
        for _event, element in etree.iterparse(
            limited,
            events=("start",),
            huge_tree=True,
            resolve_entities=False,
            no_network=True,
        ):
            qname = etree.QName(element)
            return FileHead(root=qname.localname, namespace=qname.namespace or "")
    except RecordTooLarge as exc:
        exc.line = 1
        raise
    raise etree.XMLSyntaxError("The file holds no XML element", None, 1, 1)


def iter_top_elements(
    stream: IO[bytes],
    wanted: set[str] | None,
    ctx: ReadContext | None = None,
) -> Iterator[Node]:
    """Yield each top-level element whose local name is in `wanted` (every one when None), then
    free it and everything before it, so memory stays flat however large the file. XML errors
    propagate (with their line), and so does RecordTooLarge for an element longer than
    max_record_bytes() (with the line the element began on)."""
    root: etree._Element | None = None
    ns = ""
    depth = 0
    limited = CountingReader(stream, record_limit=max_record_bytes())
    try:
        # resolve_entities off and no network: interchange files need neither (no XXE).
        for event, element in etree.iterparse(
            limited,
            events=("start", "end"),
            huge_tree=True,
            resolve_entities=False,
            no_network=True,
            remove_comments=True,
        ):
            if event == "start":
                depth += 1
                if root is None:
                    root = element
                    ns = etree.QName(element).namespace or ""
                continue
            depth -= 1
            if depth != 1:
                continue
            # A record ended: the next one is bounded from here.
            limited.record_start = limited.bytes_read
            if wanted is None or etree.QName(element).localname in wanted:
                yield Node(element, ns, ctx)
            element.clear()
            while element.getprevious() is not None:
                del root[0]  # type: ignore[union-attr]  # root is set by the first "start" event
    except RecordTooLarge as exc:
        # The element being read is the root's last child (those before it were deleted).
        exc.line = root[-1].sourceline if root is not None and len(root) else 1
        raise

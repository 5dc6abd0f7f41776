"""Where an import reads from: a zip file or a folder, opened the same way.

Members are read as streams (never whole into memory). Zips are checked before anything is read:
a member that would unpack to more than MAX_UNPACKED_BYTES (a zip bomb) or that is not a zip at
all is refused with a clear message. What one record may hold is bounded too, whatever the file
says: a record (a CSV row, an XML interchange's top-level element, a line of a control file) is
at most max_record_bytes(), and a CSV field at most max_field_chars(); readers stop at the first
record past the limit (CountingReader raises RecordTooLarge before reading further), so a hostile
file costs at most about one record's worth of memory, however large it is.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from django.conf import settings

MAX_UNPACKED_BYTES = 20 * 1024 * 1024 * 1024
MAX_RATIO = 200  # a CSV compresses well, but not 200 to 1
# Defaults of TRELLIS_IMPORT_MAX_RECORD_BYTES and TRELLIS_IMPORT_MAX_FIELD_CHARS. The largest
# legitimate records are far smaller: a OneRoster row is well under 10 KiB, and Daybreak's
# largest Ed-Fi element (a ReportCard) is 48 KiB.
DEFAULT_MAX_RECORD_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_FIELD_CHARS = 1024 * 1024


def max_record_bytes() -> int:
    """The most bytes one record may take: a CSV row (line breaks inside quotes included), an
    XML interchange's top-level element, a line of an Ed-Fi control file."""
    return int(getattr(settings, "TRELLIS_IMPORT_MAX_RECORD_BYTES", DEFAULT_MAX_RECORD_BYTES))


def max_field_chars() -> int:
    """The most characters one CSV field may hold."""
    return int(getattr(settings, "TRELLIS_IMPORT_MAX_FIELD_CHARS", DEFAULT_MAX_FIELD_CHARS))


class SourceError(Exception):
    """The source itself cannot be read (not a zip, missing, too large)."""


class ImportSource:
    """A zip or a folder of files, by name (paths inside a zip's single top folder work too)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        self._members: dict[str, str] = {}
        if self.path.is_dir():
            self._members = {p.name: str(p) for p in sorted(self.path.iterdir()) if p.is_file()}
        elif self.path.is_file():
            try:
                self._zip = zipfile.ZipFile(self.path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise SourceError(f"{self.path.name} is not a zip file: {exc}") from exc
            total = 0
            for info in self._zip.infolist():
                if info.is_dir():
                    continue
                total += info.file_size
                if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
                    raise SourceError(
                        f"{info.filename} unpacks to {info.file_size:,} bytes from "
                        f"{info.compress_size:,}: refused as a possible zip bomb."
                    )
                self._members[Path(info.filename).name] = info.filename
            if total > MAX_UNPACKED_BYTES:
                raise SourceError(
                    f"The zip unpacks to {total:,} bytes, more than the limit of "
                    f"{MAX_UNPACKED_BYTES:,}."
                )
        else:
            raise SourceError(f"{self.path} does not exist.")

    @property
    def name(self) -> str:
        return self.path.name

    def names(self) -> list[str]:
        return list(self._members)

    def has(self, name: str) -> bool:
        return name in self._members

    def size(self, name: str) -> int:
        if self._zip is not None:
            return self._zip.getinfo(self._members[name]).file_size
        return Path(self._members[name]).stat().st_size

    @contextmanager
    def open_binary(self, name: str) -> Iterator[IO[bytes]]:
        if self._zip is not None:
            with self._zip.open(self._members[name]) as member:
                yield member
        else:
            with open(self._members[name], "rb") as handle:
                yield handle

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> ImportSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RecordTooLarge(Exception):
    """A record ran past max_record_bytes(): the reader stopped there and the rest of the file is
    not read. `line` is where the record began, when the reader that raised it knows."""

    def __init__(self, limit: int, line: int | None = None) -> None:
        super().__init__(f"longer than {limit:,} bytes, the most one record may take")
        self.limit = limit
        self.line = line


class CountingReader(io.RawIOBase):
    """Counts the bytes read through it, so progress can be reported as a share of a file.

    With a `record_limit`, it also bounds records: its reader sets `record_start` to
    `bytes_read` whenever a record ends, and a read that would go on once more than
    `record_limit` bytes were read since raises RecordTooLarge. The check costs nothing per
    record (it runs once per buffer refill, 8 KiB for text and 32 KiB for lxml); the text layers
    read up to 16 KiB ahead, so a record is refused within that much of the limit.
    """

    def __init__(self, raw: IO[bytes], *, record_limit: int | None = None) -> None:
        self.raw = raw
        self.bytes_read = 0
        self.record_limit = record_limit
        self.record_start = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if (
            self.record_limit is not None
            and self.bytes_read - self.record_start > self.record_limit
        ):
            raise RecordTooLarge(self.record_limit)
        data = self.raw.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.bytes_read += size
        return size


@contextmanager
def open_text(
    source: ImportSource, name: str, *, newline: str | None = ""
) -> Iterator[tuple[IO[str], CountingReader]]:
    """A member as text: UTF-8 with or without a BOM, newlines left to the csv module (or, with
    newline=None, read as lines). Records are bounded: whoever reads it sets
    `counter.record_start = counter.bytes_read` at the end of each record (see CountingReader)."""
    with source.open_binary(name) as raw:
        counter = CountingReader(raw, record_limit=max_record_bytes())
        text = io.TextIOWrapper(io.BufferedReader(counter), encoding="utf-8-sig", newline=newline)
        yield text, counter

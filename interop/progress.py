"""Progress of an import: a bar per file on a terminal, or rows on its ImportRun.

Importers call `progress.file_started(name, total_bytes)`, `progress.advance(rows, bytes_read)`
(cheap: reporters throttle themselves) and `progress.file_finished()`. The run reporter writes
through its own database connection, because the import's transaction is not committed until
the end and a page polling the run must see progress before that.
"""

from __future__ import annotations

import sys
import time
from typing import IO

from django.db import connections


class Progress:
    """Reports nothing (tests, dry runs in code)."""

    def overall(self, total_bytes: int) -> None:
        pass

    def file_started(self, name: str, total_bytes: int) -> None:
        pass

    def advance(self, rows: int, bytes_read: int) -> None:
        pass

    def file_finished(self) -> None:
        pass


class TerminalProgress(Progress):
    """`users.csv  [#########.......]  54%  40,000 rows  21,034 rows/s` on stderr."""

    WIDTH = 28

    def __init__(self, stream: IO[str] | None = None, interval: float = 0.2) -> None:
        self.stream = stream or sys.stderr
        self.interval = interval
        self.name = ""
        self.total = 0
        self.rows = 0
        self.bytes_read = 0
        self.started = 0.0
        self.last_drawn = 0.0

    def file_started(self, name: str, total_bytes: int) -> None:
        self.name, self.total, self.rows, self.bytes_read = name, total_bytes, 0, 0
        self.started = self.last_drawn = time.monotonic()
        self._draw()

    def advance(self, rows: int, bytes_read: int) -> None:
        self.rows, self.bytes_read = rows, bytes_read
        now = time.monotonic()
        if now - self.last_drawn >= self.interval:
            self.last_drawn = now
            self._draw()

    def file_finished(self) -> None:
        self.bytes_read = self.total
        self._draw(end="\n")

    def _draw(self, end: str = "") -> None:
        share = self.bytes_read / self.total if self.total else 1.0
        filled = int(self.WIDTH * share)
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.rows / elapsed
        self.stream.write(
            f"\r{self.name:<34} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {share:4.0%} "
            f"{self.rows:>10,} rows {rate:>9,.0f} rows/s{end}"
        )
        self.stream.flush()


class RunProgress(Progress):
    """Writes progress to an ImportRun row, at most every `interval` seconds, on a separate
    autocommit connection (PostgreSQL only: SQLite would wait on the import's own write lock)."""

    def __init__(self, run_id: int, interval: float = 0.5) -> None:
        self.run_id = run_id
        self.interval = interval
        self.total = 0
        self.done_before = 0
        self.current = 0
        self.name = ""
        self.rows = 0
        self.last_written = 0.0
        self.connection = None
        if connections["default"].vendor == "postgresql":
            self.connection = connections.create_connection("default")

    def overall(self, total_bytes: int) -> None:
        self.total = total_bytes
        self._write(force=True)

    def file_started(self, name: str, total_bytes: int) -> None:
        self.name, self.current, self.rows = name, 0, 0
        self._write(force=True)

    def advance(self, rows: int, bytes_read: int) -> None:
        self.rows, self.current = rows, bytes_read
        self._write()

    def file_finished(self) -> None:
        self.done_before += self.current
        self.current = 0
        self._write(force=True)

    def _write(self, force: bool = False) -> None:
        if self.connection is None:
            return
        now = time.monotonic()
        if not force and now - self.last_written < self.interval:
            return
        self.last_written = now
        label = f"{self.name}: {self.rows:,} rows" if self.name else ""
        with self.connection.cursor() as cursor:
            cursor.execute(
                "UPDATE interop_importrun SET progress_label = %s, progress_done = %s, "
                "progress_total = %s WHERE id = %s",
                [
                    label[:120],
                    min(self.done_before + self.current, self.total),
                    self.total,
                    self.run_id,
                ],
            )

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

"""Hostile import files: peak memory and wall time of each, one child process per case.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/trellis_hostile \
        .venv/bin/python bench/hostile_imports.py [--root DIR] [--only CASE ...] [--timeout S]

Not part of `make bench` (bench/run.py runs only bench_*.py) and asserts nothing: it prints one
Markdown table (case, input, what Trellis answered, peak RSS, wall time). Each import case is
`manage.py import_oneroster|import_edfi FOLDER --json --no-progress` under bench.settings into
the database of DATABASE_URL, which must be migrated already (`manage.py migrate`); every case
fails and writes nothing (before the limits, ctl-repeated-file imported its valid set, slowly).
The upload cases post to /imports/ through Django's test client in the child (a district staff
user is created and rolled back), with a request body produced as it is read, never held whole.
Peak RSS is the child's own (wait4); wall time is the child's from start to exit (interpreter and
Django start-up included: a bare `manage.py check` is the baseline case). `--root` runs another
checkout (e.g. `git archive HEAD` unpacked elsewhere) to measure before and after; the inputs are
generated once into `--work` (default $TMPDIR/hostile) and reused.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
ONEROSTER = REPO_ROOT / "tests" / "interop" / "fixtures" / "v12"
EDFI = REPO_ROOT / "tests" / "interop" / "edfi" / "files" / "base"
MIB = 1024 * 1024
BOUNDARY = "hostile-boundary-7f3a"

# --- inputs -------------------------------------------------------------------------------


def _oneroster(target: Path, files: dict[str, str]) -> None:
    """The hand-made OneRoster set with only `orgs` and the given files declared (bulk)."""
    target.mkdir(parents=True)
    shutil.copy(ONEROSTER / "orgs.csv", target / "orgs.csv")
    declared = {"orgs", *files}
    lines = ["propertyName,value", "manifest.version,1.0", "oneroster.version,1.2"]
    lines += [f"file.{name},bulk" for name in sorted(declared)]
    (target / "manifest.csv").write_text("\r\n".join(lines) + "\r\n")
    for name, source in files.items():
        shutil.copy(ONEROSTER / source, target / f"{name}.csv")


def _users_with(target: Path, write_body: Callable[[object], None]) -> None:
    """users.csv: the fixture's header, then what write_body writes (a binary file)."""
    _oneroster(target, {"users": "users.csv", "roles": "roles.csv"})
    header = (ONEROSTER / "users.csv").read_bytes().split(b"\n", 1)[0] + b"\n"
    with open(target / "users.csv", "wb") as handle:
        handle.write(header)
        write_body(handle)


def _repeat(handle: object, piece: bytes, total: int) -> None:
    block = piece * max(1, (4 * MIB) // len(piece))
    written = 0
    while written < total:
        handle.write(block)  # type: ignore[attr-defined]  # a binary file
        written += len(block)


def csv_field(target: Path) -> None:
    """One unquoted 200 MB field on one line."""

    def body(handle: object) -> None:
        handle.write(b"st9,active,2026-08-01,true,u,,")  # type: ignore[attr-defined]
        _repeat(handle, b"a", 200 * MIB)
        handle.write(b",Lovelace,,,,,,,04,,,,,,,s1,\n")  # type: ignore[attr-defined]

    _users_with(target, body)


def csv_field_2mib(target: Path) -> None:
    """One unquoted 2 MiB field on one line (within a row's limit, past a field's)."""

    def body(handle: object) -> None:
        handle.write(b"st9,active,2026-08-01,true,u,,")  # type: ignore[attr-defined]
        _repeat(handle, b"a", 2 * MIB)
        handle.write(b",Lovelace,,,,,,,04,,,,,,,s1,\n")  # type: ignore[attr-defined]

    _users_with(target, body)


def csv_quoted_field(target: Path) -> None:
    """One quoted 200 MB field whose text holds a line break every 80 characters."""

    def body(handle: object) -> None:
        handle.write(b'st9,active,2026-08-01,true,u,,"')  # type: ignore[attr-defined]
        _repeat(handle, b"a" * 79 + b"\n", 200 * MIB)
        handle.write(b'",Lovelace,,,,,,,04,,,,,,,s1,\n')  # type: ignore[attr-defined]

    _users_with(target, body)


def csv_row(target: Path) -> None:
    """One 200 MB line of 100 million one-character fields."""

    def body(handle: object) -> None:
        handle.write(b"st9,active,2026-08-01,true")  # type: ignore[attr-defined]
        _repeat(handle, b",a", 200 * MIB)
        handle.write(b"\n")  # type: ignore[attr-defined]

    _users_with(target, body)


def csv_multiline_row(target: Path) -> None:
    """One 200 MB record of short quoted fields, each ending in a line break (short lines)."""

    def body(handle: object) -> None:
        handle.write(b"st9,active,2026-08-01,true")  # type: ignore[attr-defined]
        _repeat(handle, b',"a\n"', 200 * MIB)
        handle.write(b"\n")  # type: ignore[attr-defined]

    _users_with(target, body)


def csv_invalid_rows(target: Path) -> None:
    """users.csv of 1,000,000 users, each with a 36-character id and no role (one error each)."""

    def body(handle: object) -> None:
        rows = []
        for number in range(1_000_000):
            rows.append(
                f"u{number:08d}-0000-4000-8000-000000000000,active,2026-08-01,true,u,,"
                f"Ada,Lovelace,,,,,,,04,,,,,,,s1,\n"
            )
            if len(rows) == 10_000:
                handle.write("".join(rows).encode())  # type: ignore[attr-defined]
                rows.clear()
        handle.write("".join(rows).encode())  # type: ignore[attr-defined]

    _oneroster(target, {"users": "users.csv"})
    header = (ONEROSTER / "users.csv").read_bytes().split(b"\n", 1)[0] + b"\n"
    with open(target / "users.csv", "wb") as handle:
        handle.write(header)
        body(handle)


def _edfi(target: Path) -> None:
    target.mkdir(parents=True)
    for path in EDFI.iterdir():
        shutil.copy(path, target / path.name)


def ctl_one_line(target: Path) -> None:
    """MainControlFile.ctl: one 27 MB line."""
    _edfi(target)
    with open(target / "MainControlFile.ctl", "wb") as handle:
        handle.write(b"edfi-xml,StudentParent,")
        _repeat(handle, b"x", 27 * MIB)
        handle.write(b"\n")


def ctl_short_lines(target: Path) -> None:
    """MainControlFile.ctl: 27 MB of short lines (3 bytes each: 9.4 million lines)."""
    _edfi(target)
    with open(target / "MainControlFile.ctl", "wb") as handle:
        _repeat(handle, b"ab\n", 27 * MIB)


def ctl_repeated_file(target: Path) -> None:
    """MainControlFile.ctl: 27 MB of valid lines that all name the same file (600,000 lines)."""
    _edfi(target)
    with open(target / "MainControlFile.ctl", "wb") as handle:
        _repeat(handle, b"edfi-xml,StudentParent,Interchange-Student.xml\n", 27 * MIB)


def ctl_1mib_one_line(target: Path) -> None:
    """MainControlFile.ctl just under the control file's 1 MiB: one line."""
    _edfi(target)
    with open(target / "MainControlFile.ctl", "wb") as handle:
        handle.write(b"edfi-xml,StudentParent," + b"x" * (MIB - 100) + b"\n")


def ctl_1mib_short_lines(target: Path) -> None:
    """MainControlFile.ctl just under 1 MiB of 3-byte lines (350,000 lines, an error each)."""
    _edfi(target)
    with open(target / "MainControlFile.ctl", "wb") as handle:
        handle.write(b"ab\n" * ((MIB - 100) // 3))


def ctl_backtracking(target: Path) -> None:
    """MainControlFile.ctl: one 100,000-character line that made CONTROL_LINE backtrack."""
    _edfi(target)
    line = "edfi-xml,StudentParent,x" + " " * 100_000 + "y"
    (target / "MainControlFile.ctl").write_text(line + "\n")


def _student_file(target: Path, write_student: Callable[[object], None]) -> None:
    _edfi(target)
    with open(target / "Interchange-Student.xml", "wb") as handle:
        handle.write(
            b'<?xml version="1.0" encoding="UTF-8"?>\n'
            b'<InterchangeStudentParent xmlns="http://ed-fi.org/0100">\n<Student>\n'
        )
        write_student(handle)
        handle.write(b"</Student>\n</InterchangeStudentParent>\n")


def xml_text(target: Path) -> None:
    """A Student whose FirstName is 200 MB of text."""

    def body(handle: object) -> None:
        handle.write(b"<StudentUniqueStateId>S-1</StudentUniqueStateId><Name><FirstName>")  # type: ignore[attr-defined]
        _repeat(handle, b"a", 200 * MIB)
        handle.write(b"</FirstName><LastSurname>L</LastSurname></Name>\n")  # type: ignore[attr-defined]

    _student_file(target, body)


def xml_children(target: Path) -> None:
    """A Student with 50 million empty child elements (200 MB)."""

    def body(handle: object) -> None:
        handle.write(b"<StudentUniqueStateId>S-1</StudentUniqueStateId>")  # type: ignore[attr-defined]
        _repeat(handle, b"<x/>", 200 * MIB)

    _student_file(target, body)


def xml_depth(target: Path) -> None:
    """A Student with a million nested elements (3 MB)."""

    def body(handle: object) -> None:
        handle.write(b"<a>" * 1_000_000)  # type: ignore[attr-defined]

    _student_file(target, body)


@dataclass(frozen=True)
class Case:
    name: str
    what: str
    command: str  # import_oneroster, import_edfi, upload or check
    make: Callable[[Path], None] | None = None
    upload_bytes: int = 0
    declared_bytes: int | None = None  # Content-Length sent; None: the body's real length
    chunked: bool = False  # sent chunked, without a Content-Length


CASES = [
    Case("baseline", "bare `manage.py check` (interpreter and Django)", "check"),
    Case("csv-field", csv_field.__doc__ or "", "import_oneroster", csv_field),
    Case("csv-field-2mib", csv_field_2mib.__doc__ or "", "import_oneroster", csv_field_2mib),
    Case("csv-quoted-field", csv_quoted_field.__doc__ or "", "import_oneroster", csv_quoted_field),
    Case("csv-row", csv_row.__doc__ or "", "import_oneroster", csv_row),
    Case(
        "csv-multiline-row", csv_multiline_row.__doc__ or "", "import_oneroster", csv_multiline_row
    ),
    Case("csv-invalid-rows", csv_invalid_rows.__doc__ or "", "import_oneroster", csv_invalid_rows),
    Case("ctl-one-line", ctl_one_line.__doc__ or "", "import_edfi", ctl_one_line),
    Case("ctl-short-lines", ctl_short_lines.__doc__ or "", "import_edfi", ctl_short_lines),
    Case("ctl-repeated-file", ctl_repeated_file.__doc__ or "", "import_edfi", ctl_repeated_file),
    Case("ctl-1mib-one-line", ctl_1mib_one_line.__doc__ or "", "import_edfi", ctl_1mib_one_line),
    Case(
        "ctl-1mib-short-lines",
        ctl_1mib_short_lines.__doc__ or "",
        "import_edfi",
        ctl_1mib_short_lines,
    ),
    Case("ctl-backtracking", ctl_backtracking.__doc__ or "", "import_edfi", ctl_backtracking),
    Case("xml-text", xml_text.__doc__ or "", "import_edfi", xml_text),
    Case("xml-children", xml_children.__doc__ or "", "import_edfi", xml_children),
    Case("xml-depth", xml_depth.__doc__ or "", "import_edfi", xml_depth),
    Case(
        "upload-declared-too-large",
        "an upload of 2 GiB (Content-Length says so) to a 512 MiB limit",
        "upload",
        upload_bytes=2048 * MIB,
    ),
    Case(
        "upload-streamed-past-limit",
        "an upload of 2 GiB sent with a Content-Length 32 KiB over the 512 MiB limit",
        "upload",
        upload_bytes=2048 * MIB,
        declared_bytes=512 * MIB + 32 * 1024,
    ),
    Case(
        "upload-chunked",
        "an upload of 2 GiB sent chunked, without a Content-Length",
        "upload",
        upload_bytes=2048 * MIB,
        chunked=True,
    ),
]

# --- the upload child ---------------------------------------------------------------------


class GeneratedBody:
    """A multipart body of one zip-looking file of `size` bytes, produced as it is read."""

    def __init__(self, district_id: int, size: int) -> None:
        fields = [("district", str(district_id)), ("format", "oneroster")]
        head = "".join(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in fields
        )
        head += (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="upload"; '
            f'filename="export.zip"\r\nContent-Type: application/zip\r\n\r\nPK'
        )
        self.parts: Iterator[bytes] = self._parts(head.encode(), size - 2)
        self.length = len(head) + size - 2 + len(f"\r\n--{BOUNDARY}--\r\n")
        self.buffer = b""
        self.read_bytes = 0

    @staticmethod
    def _parts(head: bytes, size: int) -> Iterator[bytes]:
        yield head
        block = b"\0" * MIB
        while size > 0:
            yield block[: min(size, len(block))]
            size -= len(block)
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self.buffer) < size:
            part = next(self.parts, None)
            if part is None:
                break
            self.buffer += part
        if size < 0:
            size = len(self.buffer)
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        self.read_bytes += len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


def upload_child(size: int, declared: int | None, chunked: bool) -> None:
    import django

    django.setup()
    from django.db import transaction
    from django.test import Client
    from django.urls import reverse

    from accounts.models import Role, User
    from accounts.services import role_grant
    from students.models import District

    with transaction.atomic():
        district = District.objects.create(name="Hostile upload district")
        user = User.objects.create_user(email="hostile-upload@example.org", password=None)
        role_grant(user=user, role=Role.DISTRICT_STAFF, district=district)
        client = Client()
        client.force_login(user)
        body = GeneratedBody(district.pk, size)
        started = time.perf_counter()
        environ: dict[str, Any] = {
            "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
            "wsgi.input": body,
        }
        if chunked:
            environ["HTTP_TRANSFER_ENCODING"] = "chunked"
        else:
            environ["CONTENT_LENGTH"] = str(body.length if declared is None else declared)
        response = client.generic("POST", reverse("interop:import_upload"), b"", **environ)
        elapsed = time.perf_counter() - started
        text = response.content.decode(errors="replace")
        # The page's first alert: the refusal, or the upload field's error.
        found = re.search(r'role="alert">(.*?)</div>', text, re.DOTALL)
        message = re.sub(r"<[^>]+>", " ", found.group(1)) if found else ""
        print(
            json.dumps(
                {
                    "status": response.status_code,
                    "message": " ".join(message.split())[:160],
                    "body_read_bytes": body.read_bytes,
                    "seconds": round(elapsed, 3),
                }
            )
        )
        transaction.set_rollback(True)


# --- running ------------------------------------------------------------------------------


@dataclass
class Result:
    case: Case
    returncode: int | None
    wall_s: float
    max_rss_bytes: int
    answer: str


def run(case: Case, root: Path, work: Path, timeout_s: float) -> Result:
    env = dict(os.environ)
    for name in ("CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        PYTHONPATH=str(root),
        PYTHONUNBUFFERED="1",
        CELERY_BROKER_URL="memory://",
    )
    manage = [sys.executable, str(root / "manage.py")]
    if case.command == "check":
        args = [*manage, "check"]
    elif case.command == "upload":
        args = [sys.executable, str(Path(__file__).resolve())]
        args += ["--upload-child", str(case.upload_bytes)]
        if case.declared_bytes is not None:
            args += ["--declared", str(case.declared_bytes)]
        if case.chunked:
            args += ["--chunked"]
    else:
        folder = work / case.name
        if not folder.exists() and case.make is not None:
            case.make(folder)
        args = [*manage, case.command, str(folder), "--json", "--no-progress"]
    log = work / f"{case.name}.log"
    started = time.perf_counter()
    with log.open("wb") as output:
        process = subprocess.Popen(args, cwd=root, env=env, stdout=output, stderr=subprocess.STDOUT)
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            process.kill()

        timer = threading.Timer(timeout_s, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
    wall_s = time.perf_counter() - started
    returncode = None if killed.is_set() else os.waitstatus_to_exitcode(status)
    return Result(case, returncode, wall_s, usage.ru_maxrss * 1024, _answer(log, killed.is_set()))


def _answer(log: Path, killed: bool) -> str:
    if killed:
        return "killed at the timeout"
    lines = log.read_text(errors="replace").strip().splitlines()
    for line in reversed(lines):
        if line.startswith("{"):
            data = json.loads(line)
            if "status" in data:
                return (
                    f"HTTP {data['status']}: {data['message']} "
                    f"(body read: {data['body_read_bytes']:,} bytes)"
                )
            errors = data.get("errors") or []
            first = errors[0] if errors else {}
            where = f"{first.get('file')}:{first.get('line')}" if first else ""
            message = str(first.get("message", ""))[:140]
            return f"{where} {message} ({data.get('error_total')} errors)"
    return (lines[-1] if lines else "")[:160]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="the checkout to run")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "hostile")
    parser.add_argument("--only", nargs="*", help="case names (default: all)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per case")
    parser.add_argument("--upload-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--declared", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--chunked", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.upload_child is not None:
        sys.path = [p for p in sys.path if Path(p or ".").resolve() != HERE]
        upload_child(options.upload_child, options.declared, options.chunked)
        return
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("Set DATABASE_URL to a migrated PostgreSQL database.")
    options.work.mkdir(parents=True, exist_ok=True)
    cases = [c for c in CASES if not options.only or c.name in options.only]
    print("| case | input | answer | peak RSS | wall time |")
    print("|---|---|---|---|---|")
    for case in cases:
        result = run(case, options.root.resolve(), options.work, options.timeout)
        print(
            f"| {case.name} | {case.what} | {result.answer} | "
            f"{result.max_rss_bytes / MIB:,.0f} MiB | {result.wall_s:.2f} s |",
            flush=True,
        )


if __name__ == "__main__":
    main()

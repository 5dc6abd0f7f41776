"""edfi: `manage.py import_edfi` of inBloom's Daybreak district and of a 10,000-student set made
from it, each into a freshly migrated PostgreSQL database.

The scaled set multiplies Daybreak's students with new ids: every element that names one student
(the student, their parent links, enrollments, assessments, grades, attendance…) is written once
per copy with `<id>-<copy>` for the student (and `<id>-<copy>` for each parent); everything else
(schools, sections, standards, assessments' metadata) once. Figures: wall time, records per
second and peak memory (the child's max RSS, from wait4). Baselines in the same run: a bare
streaming parse of the same files (lxml iterparse, elements cleared; no database); a COPY of
the same records (the same parse, each top-level element's values as text, streamed with COPY
into a plain table of a freshly migrated database, committed); and the peak memory of a bare
Django process (`manage.py check`).
"""

from __future__ import annotations

import math
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.common import (
    REPO_ROOT,
    BenchError,
    Context,
    Section,
    fmt_mib,
    fmt_s,
    log,
    manage,
    median,
    ratio,
    runs_label,
    table,
)

NAME = "edfi"
TITLE = "edfi: Ed-Fi XML import (`import_edfi`), Daybreak and 10,000 students, PostgreSQL"
ORDER = 40
DEFAULT_REPEAT = 1
DEFAULT_STUDENTS = 10_000
DAYBREAK = REPO_ROOT.parent / "shared" / "data" / "inbloom-daybreak"
IMPORT_TIMEOUT_S = 60 * 60

STUDENT_ID = re.compile(rb"(<StudentUniqueStateId>)\s*([^<]*?)\s*(</StudentUniqueStateId>)")
PARENT_ID = re.compile(rb"(<ParentUniqueStateId>)\s*([^<]*?)\s*(</ParentUniqueStateId>)")


def _top_elements(path: Path) -> Iterator[Any]:
    """(root tag, namespace map) then each top-level element's bytes, cleared after use."""
    from lxml import etree

    root: Any = None
    depth = 0
    for event, element in etree.iterparse(str(path), events=("start", "end"), remove_comments=True):
        if event == "start":
            depth += 1
            if root is None:
                root = element
                yield etree.QName(element).localname, element.nsmap
            continue
        depth -= 1
        if depth == 1:
            yield etree.tostring(element)
            element.clear()
            while element.getprevious() is not None:
                del root[0]


def scaled_set(source: Path, target: Path, students: int) -> int:
    """Write the scaled set into `target`; returns how many top-level records it holds."""
    student_ids: list[str] = []
    for item in list(_top_elements(source / "InterchangeStudent.xml"))[1:]:
        match = STUDENT_ID.search(item)
        if match:
            student_ids.append(match.group(2).decode())
    copies = math.ceil(students / len(student_ids))
    # Copy k of student i exists when k * len + i < students.
    index = {sid: i for i, sid in enumerate(student_ids)}
    total = 0
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.iterdir()):
        if path.suffix.lower() == ".ctl":
            shutil.copy(path, target / path.name)
            continue
        if path.suffix.lower() != ".xml":
            continue
        elements = _top_elements(path)
        root, nsmap = next(elements)
        namespace = nsmap.get(None, "")
        with open(target / path.name, "wb") as out:
            out.write(
                f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{namespace}">\n'.encode()
            )
            for item in elements:
                found = {m.group(2).decode() for m in STUDENT_ID.finditer(item)}
                is_parent = item.lstrip().startswith(b"<Parent")
                if len(found) == 1 and next(iter(found)) in index:
                    position = index[next(iter(found))]
                    wanted = [
                        k for k in range(copies) if k * len(student_ids) + position < students
                    ]
                elif is_parent:
                    wanted = list(range(copies))
                else:
                    wanted = [0]
                for k in wanted:
                    copy = item
                    if k:
                        suffix = f"-{k}".encode()
                        copy = STUDENT_ID.sub(rb"\1\2" + suffix + rb"\3", copy)
                        copy = PARENT_ID.sub(rb"\1\2" + suffix + rb"\3", copy)
                    out.write(copy)
                    out.write(b"\n")
                    total += 1
            out.write(f"</{root}>\n".encode())
    return total


def _records(folder: Path) -> Iterator[tuple[Path, Any]]:
    """Each top-level element of every interchange file, with its file, as a bare streaming
    parse reads them (lxml iterparse; each element cleared once the caller is done with it)."""
    from lxml import etree

    for path in sorted(folder.glob("*.xml")):
        depth = 0
        root: Any = None
        for event, element in etree.iterparse(str(path), events=("start", "end")):
            if event == "start":
                depth += 1
                root = root if root is not None else element
                continue
            depth -= 1
            if depth == 1:
                yield path, element
                element.clear()
                while element.getprevious() is not None:
                    del root[0]


def parse_only(folder: Path) -> tuple[float, int]:
    """Seconds and records of a bare streaming parse of every interchange file."""
    started = time.perf_counter()
    records = sum(1 for _ in _records(folder))
    return time.perf_counter() - started, records


def copy_baseline(database_url: str, folder: Path) -> tuple[float, int]:
    """Seconds and rows of the parse-only read that also COPYs each top-level element (file,
    element name, and its values as one text) into a plain table (no keys, no indexes, no
    checks), committed: what writing every record once costs beyond parsing it."""
    import psycopg
    from lxml import etree

    rows = 0
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE TABLE raw_edfi (file text, element text, fields text)")
        conn.commit()
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy("COPY raw_edfi (file, element, fields) FROM STDIN") as copy,
        ):
            for path, element in _records(folder):
                values = "|".join(filter(None, (t.strip() for t in element.itertext())))
                copy.write_row((path.name, etree.QName(element).localname, values))
                rows += 1
        conn.commit()
        return time.perf_counter() - started, rows


def _copy_seconds(context: Context, folder: Path) -> float:
    database = context.databases.migrated("edfi_copy")
    context.databases.checkpoint()
    seconds, _rows = copy_baseline(context.databases.url(database), folder)
    context.databases.release(database)
    return seconds


def _import(context: Context, what: str, folder: Path, attempt: int) -> tuple[float, int]:
    database = context.databases.migrated(f"edfi_{what}")
    context.databases.checkpoint()
    result = manage(
        ["import_edfi", str(folder), "--json", "--no-progress"],
        database_url=context.databases.url(database),
        log_path=context.workdir / f"edfi-{what}-{attempt}.log",
        timeout_s=IMPORT_TIMEOUT_S,
        # The work the import hands to the workers (mastery recompute, the rollups' recount) is
        # enqueued, not run in the child: as in the oneroster section; gradebook_mastery times
        # the workers' part.
        CELERY_BROKER_URL="memory://",
    )
    context.databases.release(database)
    result.check(f"import_edfi {what}")
    return result.wall_s, result.max_rss_bytes


def run(context: Context) -> Section:
    if not (DAYBREAK / "MainControlFile.ctl").exists():
        raise BenchError(f"the inBloom Daybreak sample is not at {DAYBREAK}")
    students = context.option("students", DEFAULT_STUDENTS)
    scaled = context.workdir / f"edfi-scaled-{students}"
    log(f"writing the scaled set of {students:,} students to {scaled}")
    scaled_records = scaled_set(DAYBREAK, scaled, students)
    sets = [
        ("daybreak", "Daybreak (78 students)", DAYBREAK),
        ("scaled", f"Scaled ({students:,} students)", scaled),
    ]
    bare = manage(
        ["check"],
        database_url=context.databases.url(context.databases.migrated("edfi_check")),
        log_path=context.workdir / "edfi-check.log",
    ).check("manage.py check")
    rows = []
    summary = []
    for key, label, folder in sets:
        parse_s, records = parse_only(folder)
        copy_s = _copy_seconds(context, folder)
        log(f"{key}: parse only {parse_s:.1f} s, parse and COPY {copy_s:.1f} s")
        walls, rss = [], []
        peak: float  # bytes of one run, then the median of the runs
        for attempt in range(1, context.repeat + 1):
            wall, peak = _import(context, key, folder, attempt)
            walls.append(wall)
            rss.append(peak)
            log(f"{key} run {attempt}: {wall:.1f} s, peak RSS {peak / 2**20:.0f} MiB")
        wall, peak = median(walls), median(rss)
        rows.append(
            [
                label,
                f"{records:,}",
                fmt_s(wall),
                f"{records / wall:,.0f}",
                f"{records / parse_s:,.0f}",
                ratio(records / wall, records / parse_s),
                f"{records / copy_s:,.0f}",
                ratio(records / wall, records / copy_s),
                fmt_mib(peak),
                ratio(peak, bare.max_rss_bytes),
            ]
        )
        summary.append(
            f"{key} {records / wall:,.0f} records/s ({ratio(copy_s, wall)} of COPY's speed), "
            f"{peak / 2**20:.0f} MiB"
        )
    body = "\n\n".join(
        [
            "`manage.py import_edfi <folder> --json --no-progress` under `bench.settings` into a "
            "freshly migrated database each (migrations not timed), "
            f"{runs_label(context.repeat)}. A record is one top-level element of an interchange "
            f"file (the scaled set holds {scaled_records:,}). The import reads each file in "
            "dependency passes (a load of 1 MiB of XML or more parses and maps in a forked "
            "second process, `interop.edfi.relay`, which hands its records over a pipe while "
            "the first process loads), resolves natural keys, upserts set-based in batches "
            "(COPY into a staging table, then one upsert statement, through `interop.upsert`; "
            "the ids that later batches reference are read back by source id), writes scores "
            "set-based through `scores_record_bulk` and "
            "re-derives access at the end, all in one transaction; the wall includes what "
            "runs on commit in the import's process (ANALYZE of the tables it wrote), while the "
            "mastery recompute and the rollups' recount are enqueued for the workers (an "
            "in-memory broker, as in the oneroster section; gradebook_mastery times them). Parse "
            "only: lxml iterparse of the same files with nothing else (the floor any streaming "
            "import stands on). Parse and COPY: the same parse, each record's values as one "
            "text streamed with COPY into a plain table (no keys, indexes or checks) of a "
            "freshly migrated database, committed (the floor of an import that writes each "
            "record once). Peak memory: the child's max RSS (from wait4: the larger of the "
            "import process and its reading child, not their sum); baseline a bare "
            "`manage.py check`.",
            table(
                [
                    "Set",
                    "Records",
                    "Import wall",
                    "Records/s",
                    "Parse-only records/s",
                    "Import vs parse",
                    "Parse+COPY records/s",
                    "Import vs COPY",
                    "Peak memory",
                    "vs bare Django",
                ],
                rows,
            ),
        ]
    )
    return Section(body=body, summary="; ".join(summary))

"""seed: `manage.py seed_demo --students 86000` into a fresh PostgreSQL database.

Figures: wall time and peak memory (the child's own max RSS, from wait4) of seed_demo. Baselines
in the same run: COPY of as many bare student rows into the same, freshly migrated table with
plain psycopg (what the database alone costs), and the peak memory of a bare Django process
(`manage.py check`). Slow, so one run by default (`--repeat N` for more).
"""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid

from bench.common import (
    BenchError,
    Context,
    Section,
    fmt_mib,
    fmt_s,
    log,
    manage,
    median,
    ratio_of_runs,
    runs_label,
    table,
)

NAME = "seed"
TITLE = "seed: `seed_demo --students 86000` on PostgreSQL"
ORDER = 10
DEFAULT_REPEAT = 1
DEFAULT_STUDENTS = 86_000
DEFAULT_SEED = 2026  # seed_demo's own default, passed explicitly so the doc records it
SEED_TIMEOUT_S = 2 * 60 * 60

STUDENT_COLUMNS = (
    "source_system",
    "source_id",
    "is_active",
    "created_at",
    "updated_at",
    "first_name",
    "middle_name",
    "last_name",
    "preferred_first_name",
    "district_id",
    "uuid",
    "student_number",
    "state_id",
    "birth_date",
    "sex",
    "home_language",
    "races",
    "hispanic_or_latino",
)
FIRST_NAMES = ["Ava", "Ben", "Chloe", "Diego", "Emma", "Finn", "Grace", "Hugo", "Isla", "Jonah"]
LAST_NAMES = ["Garcia", "Nguyen", "Smith", "Okafor", "Martin", "Kowalski", "Haddad", "Lee"]


def student_rows(count: int, district_id: int) -> list[tuple[object, ...]]:
    """Bare student rows, generated before the clock starts (only the database is timed)."""
    rng = random.Random(DEFAULT_SEED)  # names and dates, not secrets
    now = dt.datetime.now(dt.UTC)
    return [
        (
            "bench",
            f"raw-{index}",
            True,
            now,
            now,
            rng.choice(FIRST_NAMES),
            "",
            rng.choice(LAST_NAMES),
            "",
            district_id,
            uuid.UUID(int=rng.getrandbits(128), version=4),
            f"{100000 + index}",
            "",
            dt.date(2008, 1, 1) + dt.timedelta(days=rng.randrange(4000)),
            rng.choice(["female", "male", ""]),
            "",
            "[]",
            None,
        )
        for index in range(count)
    ]


def raw_insert_seconds(database_url: str, count: int) -> float:
    """COPY `count` bare rows into students_student (with its indexes), committed."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "INSERT INTO students_district (source_system, source_id, is_active, created_at,"
            " updated_at, name, state_code, nces_id, guardians_see_discipline,"
            " chronic_absence_percent)"
            " VALUES ('bench', 'raw', true, now(), now(), 'Raw insert district', '', '', false,"
            " 10)"
            " RETURNING id"
        ).fetchone()
        conn.commit()
        assert row is not None
        rows = student_rows(count, int(row[0]))
        started = time.perf_counter()
        with conn.cursor() as cursor:
            columns = ", ".join(STUDENT_COLUMNS)
            with cursor.copy(f"COPY students_student ({columns}) FROM STDIN") as copy:
                for values in rows:
                    copy.write_row(values)
        conn.commit()
        return time.perf_counter() - started


def database_contents(database_url: str) -> tuple[list[tuple[str, int]], int]:
    """Exact row counts of every table with rows, largest first, and the database's size."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        tables = [
            str(name)
            for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        counts = []
        for name in tables:
            row = conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()  # noqa: S608
            if row and row[0]:
                counts.append((name, int(row[0])))
        size_row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    counts.sort(key=lambda item: -item[1])
    return counts, int(size_row[0]) if size_row else 0


def run(context: Context) -> Section:
    students = context.option("students", DEFAULT_STUDENTS)
    seed = context.option("seed", DEFAULT_SEED)
    databases = context.databases
    seed_walls: list[float] = []
    seed_rss: list[int] = []
    raw_walls: list[float] = []
    bare_rss: list[int] = []
    contents: tuple[list[tuple[str, int]], int] = ([], 0)
    migrated_counts: dict[str, int] = {}

    for attempt in range(1, context.repeat + 1):
        # Baselines first: a bare Django process, and the raw COPY into a fresh migrated database.
        raw_db = databases.migrated("seed_raw")
        bare_check = manage(
            ["check"],
            database_url=databases.url(raw_db),
            log_path=context.workdir / f"seed-check-{attempt}.log",
        ).check("manage.py check")
        bare_rss.append(bare_check.max_rss_bytes)
        if attempt == 1:
            # What migrations alone put there (permissions, content types), not the seed's.
            migrated_counts = dict(database_contents(databases.url(raw_db))[0])
        databases.checkpoint()
        raw_walls.append(raw_insert_seconds(databases.url(raw_db), students))
        databases.release(raw_db)
        log(f"run {attempt}: raw COPY of {students:,} student rows {raw_walls[-1]:.2f} s")

        seed_db = databases.migrated("seed")
        databases.checkpoint()
        log(f"run {attempt}: seed_demo --students {students} --seed {seed} (takes minutes)")
        result = manage(
            ["seed_demo", "--students", str(students), "--seed", str(seed)],
            database_url=databases.url(seed_db),
            log_path=context.workdir / f"seed-{attempt}.log",
            timeout_s=SEED_TIMEOUT_S,
        )
        if result.returncode != 0:
            databases.release(seed_db)
        result.check("seed_demo")
        seed_walls.append(result.wall_s)
        seed_rss.append(result.max_rss_bytes)
        log(
            f"run {attempt}: seed_demo {result.wall_s:.1f} s, "
            f"peak RSS {result.max_rss_bytes / 2**20:.0f} MiB"
        )
        if attempt == 1:
            contents = database_contents(databases.url(seed_db))
        databases.release(seed_db)

    counts, size = contents
    counts = [(name, count - migrated_counts.get(name, 0)) for name, count in counts]
    counts = [(name, count) for name, count in counts if count > 0]
    if not counts:
        raise BenchError("seed_demo wrote no rows")
    total_rows = sum(count for _, count in counts)
    seed_wall, raw_wall = median(seed_walls), median(raw_walls)
    rss, bare = median(seed_rss), median(bare_rss)
    student_count = dict(counts).get("students_student", 0)
    body = "\n\n".join(
        [
            f"`manage.py seed_demo --students {students} --seed {seed}` under `bench.settings` "
            "(DEBUG off) into a freshly migrated database (migrations not timed). "
            "Raw COPY: the same number of bare rows into `students_student` of another freshly "
            "migrated database with psycopg's `cursor.copy`, rows generated before the clock "
            "starts, committed. Peak memory is the child's own max RSS (`wait4`); a bare Django "
            "process (`manage.py check`) is its baseline. Ratios are the median of each run's "
            "own ratio. The seed lives the school year up to the day it runs (scores replayed "
            "a fortnight at a time through the mastery engine, then attendance, grades and "
            "transcripts), so what it writes grows from August to June: this run's day is "
            f"{dt.datetime.now(tz=dt.UTC).date():%d %B %Y}.",
            table(
                ["figure", runs_label(len(seed_walls)), "baseline (same run)", "ratio"],
                [
                    (
                        "wall time",
                        fmt_s(seed_wall),
                        f"raw COPY of {students:,} student rows: {raw_wall:.2f} s",
                        ratio_of_runs(seed_walls, raw_walls),
                    ),
                    (
                        "rows written per second",
                        f"{total_rows / seed_wall:,.0f}",
                        f"raw COPY: {students / raw_wall:,.0f}",
                        ratio_of_runs(
                            [total_rows / w for w in seed_walls], [students / w for w in raw_walls]
                        ),
                    ),
                    (
                        "peak memory (max RSS)",
                        fmt_mib(rss),
                        f"bare Django process: {fmt_mib(bare)}",
                        ratio_of_runs(seed_rss, bare_rss),
                    ),
                ],
            ),
            f"All runs: seed {', '.join(f'{w:.1f} s' for w in seed_walls)}; raw COPY "
            f"{', '.join(f'{w:.2f} s' for w in raw_walls)}; peak RSS "
            f"{', '.join(fmt_mib(r) for r in seed_rss)}.",
            f"What the seed wrote (beyond what migrations write): {total_rows:,} rows in "
            f"{len(counts)} tables "
            f"({student_count:,} students), database {fmt_mib(size)}. Largest tables:",
            table(["table", "rows"], [(name, f"{count:,}") for name, count in counts[:12]]),
        ]
    )
    return Section(
        body=body,
        summary=(
            f"seed {fmt_s(seed_wall)} ({ratio_of_runs(seed_walls, raw_walls)} raw COPY), "
            f"peak {fmt_mib(rss)} ({ratio_of_runs(seed_rss, bare_rss)} bare Django)"
        ),
    )

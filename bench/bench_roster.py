"""roster: the section roster page (/sections/<id>/) at 8 concurrent clients against gunicorn.

A district seeded with `seed_demo --students 6000` on PostgreSQL, gunicorn with 2 sync workers
under bench.settings, the demo teacher signed in (a session made with the test client's
force_login, its cookie sent by every client). Targets: the teacher's largest section, and their
smallest other section of at least 25 students. Baseline in the same run: the bench-only plain
page (bench/views.py), which makes the same selector calls and access-log write and answers in
plain text, without templates. A second gunicorn with persistent database connections
(CONN_MAX_AGE=60, bench-only) serves the largest section's page too, to show what that setting
would change. The query count of each page is taken once, in process
(CaptureQueriesContext), by the probe below, which runs as a child under bench.settings:

    python -m bench.bench_roster probe <output.json>
"""

from __future__ import annotations

import contextlib
import http.client
import json
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    BenchError,
    Context,
    Section,
    Server,
    child_env,
    fmt_ms,
    fmt_s,
    free_port,
    log,
    manage,
    median,
    percentile,
    ratio,
    ratio_of_runs,
    run_child,
    runs_label,
    table,
)

NAME = "roster"
TITLE = "roster: section roster page, 8 clients, gunicorn (2 workers), PostgreSQL"
ORDER = 20
DEFAULT_REPEAT = 3
DEFAULT_STUDENTS = 6000
DEFAULT_SEED = 2026  # seed_demo's own default, passed explicitly so the doc records it
TEACHER_EMAIL = "teacher@example.org"
TYPICAL_MIN_STUDENTS = 25
CLIENTS = 8
WORKERS = 2
# Bounds of one measurement: this many timed requests, or this long, whichever comes first.
REQUESTS = 400
WARMUP_REQUESTS = 40
TIME_LIMIT_S = 60.0
SINGLE_CLIENT_REQUESTS = 60
# Each run measures every URL in this many interleaved rounds (requests split evenly).
ROUNDS = 4
PERSISTENT_CONN_MAX_AGE = 60


# --- the probe (a child process under bench.settings) -------------------------------------------


def probe(output: Path) -> None:
    """Pick the sections, make the teacher's session, count each page's queries: JSON out."""
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from accounts.access import sections_visible_to
    from accounts.models import Role, User
    from students import selectors

    teacher = User.objects.filter(email=TEACHER_EMAIL).first()
    if teacher is None:
        raise SystemExit(f"no user {TEACHER_EMAIL}: did seed_demo run?")
    sizes = sorted(
        (
            (len(selectors.section_roster(section)), section.pk, section.title)
            for section in sections_visible_to(teacher, role=Role.TEACHER)
        ),
        key=lambda size: (-size[0], size[1]),
    )
    if not sizes:
        raise SystemExit(f"{TEACHER_EMAIL} teaches no section")
    targets = [("largest section", *sizes[0])]
    typical = [s for s in sizes[1:] if s[0] >= TYPICAL_MIN_STUDENTS]
    if typical:
        targets.append((f"smallest other section of ≥ {TYPICAL_MIN_STUDENTS}", *typical[-1]))

    client = Client()
    client.force_login(teacher)
    found = []
    for label, students, section_id, title in targets:
        urls = {
            "page": reverse("students:section_detail", kwargs={"pk": section_id}),
            "plain": reverse("bench_plain_section_detail", kwargs={"pk": section_id}),
        }
        target: dict[str, object] = {
            "label": label,
            "section_id": section_id,
            "title": title,
            "students": students,
        }
        for kind, url in urls.items():
            client.get(url)  # warm the session, as the query-count tests do
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"GET {url} answered {response.status_code}")
            target[f"{kind}_url"] = url
            target[f"{kind}_queries"] = len(captured)
            target[f"{kind}_sql"] = [query["sql"] for query in captured.captured_queries]
            target[f"{kind}_bytes"] = len(response.content)
        found.append(target)
    output.write_text(
        json.dumps(
            {
                "sessionid": client.cookies["sessionid"].value,
                "teacher_sections": [[pk, n] for n, pk, _ in sizes],
                "targets": found,
            },
            indent=1,
        )
    )


# --- the load generator -------------------------------------------------------------------------


@dataclass
class Load:
    latencies: list[float]
    elapsed_s: float
    errors: int

    @classmethod
    def merge(cls, loads: list[Load]) -> Load:
        return cls(
            [latency for one in loads for latency in one.latencies],
            sum(one.elapsed_s for one in loads),
            sum(one.errors for one in loads),
        )

    @property
    def median_s(self) -> float:
        return median(self.latencies)

    @property
    def p95_s(self) -> float:
        return percentile(self.latencies, 95)

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.elapsed_s


def fetch(port: int, path: str, cookie: str) -> int:
    # A connection per request: gunicorn's sync workers close it after every response anyway.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Cookie": cookie, "Connection": "close"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def load(port: int, path: str, cookie: str, *, clients: int, requests: int) -> Load:
    """`clients` threads issue `requests` GETs in all (or stop at TIME_LIMIT_S); loopback only."""
    lock = threading.Lock()
    issued = 0
    errors = 0
    latencies: list[float] = []
    deadline = time.monotonic() + TIME_LIMIT_S

    def client() -> None:
        nonlocal issued, errors
        while True:
            with lock:
                if issued >= requests or time.monotonic() > deadline:
                    return
                issued += 1
            started = time.perf_counter()
            try:
                status = fetch(port, path, cookie)
            except OSError:
                status = 0
            took = time.perf_counter() - started
            with lock:
                if status == 200:
                    latencies.append(took)
                else:
                    errors += 1

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if not latencies:
        raise BenchError(f"GET {path}: no request succeeded ({errors} errors)")
    return Load(latencies, elapsed, errors)


def warm(port: int, path: str, cookie: str) -> None:
    """Untimed requests first: both workers import, compile templates and connect."""
    load(port, path, cookie, clients=CLIENTS, requests=WARMUP_REQUESTS)


# --- the benchmark ------------------------------------------------------------------------------


def run(context: Context) -> Section:
    students = context.option("students", DEFAULT_STUDENTS)
    seed = context.option("seed", DEFAULT_SEED)
    requests = context.option("requests", REQUESTS)
    databases = context.databases
    database = databases.migrated("roster")
    url = databases.url(database)
    log(f"seed_demo --students {students} --seed {seed}")
    seeded = manage(
        ["seed_demo", "--students", str(students), "--seed", str(seed)],
        database_url=url,
        log_path=context.workdir / "roster-seed.log",
    ).check("seed_demo")
    log(f"seeded in {seeded.wall_s:.1f} s")

    probe_path = context.workdir / "roster-probe.json"
    run_child(
        [sys.executable, "-m", "bench.bench_roster", "probe", str(probe_path)],
        env=child_env(url),
        log_path=context.workdir / "roster-probe.log",
    ).check("the roster probe")
    found = json.loads(probe_path.read_text())
    cookie = f"sessionid={found['sessionid']}"
    targets = found["targets"]
    for target in targets:
        log(
            f"{target['label']}: section {target['section_id']} with {target['students']} "
            f"students; {target['page_queries']} queries (plain {target['plain_queries']})"
        )

    databases.checkpoint()
    # The app's settings (persistent connections, CONN_MAX_AGE 60), and the same page with a new
    # PostgreSQL connection per request (CONN_MAX_AGE 0), to show what that setting is worth.
    servers = {
        "app": {"BENCH_CONN_MAX_AGE": str(PERSISTENT_CONN_MAX_AGE)},
        "persistent": {"BENCH_CONN_MAX_AGE": "0"},
    }
    # (target index, kind): kind is "page", "plain", or "page persistent" (largest section only).
    runs: dict[tuple[int, str], list[Load]] = {}
    single: dict[tuple[int, str], list[Load]] = {}
    with contextlib.ExitStack() as stack:
        ports = {}
        for server_name, extra_env in servers.items():
            ports[server_name] = port = free_port()
            server = stack.enter_context(
                Server(
                    gunicorn_args(port),
                    env=child_env(url, **extra_env),
                    log_path=context.workdir / f"roster-gunicorn-{server_name}.log",
                )
            )
            server.wait_until_listening(port)
        plan = [
            (index, kind, ports["app"], target[f"{kind}_url"])
            for index, target in enumerate(targets)
            for kind in ("page", "plain")
        ] + [(0, "page persistent", ports["persistent"], targets[0]["page_url"])]
        for _, _, port, path in plan:
            warm(port, path, cookie)
        for attempt in range(1, context.repeat + 1):
            # Each run interleaves the URLs in short rounds, the order reversed every round, so
            # that a burst of other work on the machine lands on page and baseline alike.
            chunks: dict[tuple[int, str], list[Load]] = {}
            ones: dict[tuple[int, str], list[Load]] = {}
            for round_number in range(ROUNDS):
                for index, kind, port, path in plan if round_number % 2 else reversed(plan):
                    key = (index, kind)
                    chunks.setdefault(key, []).append(
                        load(port, path, cookie, clients=CLIENTS, requests=requests // ROUNDS)
                    )
                    ones.setdefault(key, []).append(
                        load(
                            port, path, cookie, clients=1, requests=SINGLE_CLIENT_REQUESTS // ROUNDS
                        )
                    )
            for key in chunks:
                measured, one = Load.merge(chunks[key]), Load.merge(ones[key])
                runs.setdefault(key, []).append(measured)
                single.setdefault(key, []).append(one)
                log(
                    f"run {attempt} {targets[key[0]]['label']} {key[1]}: median "
                    f"{measured.median_s * 1000:.1f} ms, p95 {measured.p95_s * 1000:.1f} ms, "
                    f"{measured.rps:.1f} req/s, {measured.errors} errors; "
                    f"1 client {one.median_s * 1000:.1f} ms"
                )
    databases.release(database)

    def per_run(index: int, kind: str) -> dict[str, list[float]]:
        loads, ones = runs[(index, kind)], single[(index, kind)]
        return {
            "median latency": [r.median_s for r in loads],
            "p95 latency": [r.p95_s for r in loads],
            "requests per second": [r.rps for r in loads],
            "median latency, 1 client": [r.median_s for r in ones],
        }

    def fmt(figure: str, value: float) -> str:
        return f"{value:.1f}" if figure == "requests per second" else fmt_ms(value)

    def comparison(where: str, values: dict, baselines: dict) -> list[tuple[str, ...]]:
        return [
            (
                where,
                figure,
                fmt(figure, median(values[figure])),
                fmt(figure, median(baselines[figure])),
                ratio_of_runs(values[figure], baselines[figure]),
            )
            for figure in values
        ]

    rows: list[tuple[object, ...]] = []
    summary = []
    notes = []
    for index, target in enumerate(targets):
        where = f"{target['label']} ({target['students']} students)"
        page, plain = per_run(index, "page"), per_run(index, "plain")
        rows += comparison(where, page, plain)
        rows.append(
            (
                where,
                "queries per request",
                target["page_queries"],
                target["plain_queries"],
                ratio(target["page_queries"], target["plain_queries"]),
            )
        )
        errors = sum(r.errors for (i, _), loads in runs.items() if i == index for r in loads)
        timed = sum(len(r.latencies) for (i, _), loads in runs.items() if i == index for r in loads)
        notes.append(
            f"{target['label']}: section {target['section_id']} “{target['title']}”, "
            f"page {target['page_bytes']:,} bytes, plain {target['plain_bytes']:,} bytes; "
            f"{timed:,} timed requests to its URLs, {errors} errors. Median latency of each run: "
            f"page {', '.join(fmt_ms(v) for v in page['median latency'])}; plain "
            f"{', '.join(fmt_ms(v) for v in plain['median latency'])}."
        )
        summary.append(
            f"{target['students']} students: median {fmt_ms(median(page['median latency']))} "
            f"({ratio_of_runs(page['median latency'], plain['median latency'])} plain), "
            f"p95 {fmt_ms(median(page['p95 latency']))}, "
            f"{median(page['requests per second']):.0f} req/s"
        )
    persistent_rows = [
        row[1:] for row in comparison("", per_run(0, "page persistent"), per_run(0, "page"))
    ]
    body = "\n\n".join(
        [
            f"District from `seed_demo --students {students} --seed {seed}` (seeded in "
            f"{fmt_s(seeded.wall_s)}, not timed here). gunicorn, {WORKERS} sync workers, "
            f"`bench.settings` (DEBUG off; `CONN_MAX_AGE` 60, as in the app's settings), on "
            f"127.0.0.1. {CLIENTS} client threads (http.client, a connection per request) "
            f"share the teacher's session. Each run times, per URL, {requests} requests from "
            f"the {CLIENTS} clients and {SINGLE_CLIENT_REQUESTS} from 1 client (the service "
            f"time, without queueing), in {ROUNDS} rounds that interleave the URLs, after "
            f"{WARMUP_REQUESTS} untimed requests per URL at start. The load generator shares "
            f"the machine's {context.machine.cores} cores with gunicorn and PostgreSQL. "
            "Baseline: the bench-only plain page (`bench/views.py`: the same selectors and "
            "access-log write, answered in plain text, no templates), interleaved with the page "
            "in the same runs; a ratio is the median of each run's own ratio. p95 is "
            "nearest-rank. Queries per request: counted once, in "
            "process, with `CaptureQueriesContext` (session, user and transaction included).",
            table(
                [
                    "section",
                    "figure",
                    f"roster page ({runs_label(context.repeat)})",
                    "plain page (baseline)",
                    "ratio",
                ],
                rows,
            ),
            "\n".join(f"- {note}" for note in notes),
            "What persistent connections are worth (the app's `CONN_MAX_AGE` "
            f"{PERSISTENT_CONN_MAX_AGE} against 0, a new connection per request): the roster "
            f"page of the {targets[0]['label']}, from a second gunicorn measured in the same runs.",
            table(
                [
                    "figure",
                    f"`CONN_MAX_AGE=0` ({runs_label(context.repeat)})",
                    f"`CONN_MAX_AGE={PERSISTENT_CONN_MAX_AGE}`, the app's (baseline)",
                    "ratio",
                ],
                persistent_rows,
            ),
        ]
    )
    return Section(body=body, summary="; ".join(summary))


def gunicorn_args(port: int, app: str = "config.wsgi:application") -> list[str]:
    """gunicorn serving `app` as every page benchmark serves it: sync workers, loopback."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(WORKERS),
        "--worker-class",
        "sync",
        "--timeout",
        "60",
    ]


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "probe":
        probe(Path(sys.argv[2]))
    else:
        raise SystemExit("usage: python -m bench.bench_roster probe <output.json>")

"""school_rollup: the school report and district page of `seed_demo --students 86000` (issue 19).

The district comes from `manage.py seed_demo --students 86000` in a fresh PostgreSQL database (not
timed), then `VACUUM (ANALYZE)`, as bench_demo_dashboard does. Three measurements:

1. Pages under load. The demo principal's (principal@example.org) largest school, by current
   memberships: its report `/schools/<id>/` and the page of its largest grade (`?grade=`). The
   district staff's (district@example.org) page of the district's schools
   `/districts/<id>/schools/`, and the district's largest school (its report and largest grade,
   as the staff open them) when that is not the principal's: the demo principal runs a middle
   school, the district's largest is a high school of about 2,000. Each page from 1 client (the
   server time) and from 8, against gunicorn with 2 sync workers serving
   `bench.bench_dashboard:application` (bench_dashboard's `measure_served`, the staff MFA check
   on, both users enrolled). Baseline in the same runs: a plain page making the same access
   check and answering plain text (bench/views.py), and a second plain page that adds the
   rollups selectors' reads, which shows how much of the page's time is the rollups' (the rest:
   the dashboard's selectors, suppression, charts, template).
2. Queries. The probe child counts each page's queries, and profiles each page in process: its
   time, its SQL time by the function that queried, its slowest queries and where the time goes
   by function (cProfile). That the counts do not grow with students and schools is tested in
   tests/dashboard/test_rollup_query_counts.py.
3. A new score to the school's rollup row, through a real Celery worker (2 processes, queues
   mastery and default, Redis at redis://127.0.0.1:6379/<the first empty db of 12-15>): for each
   school measured, N scores recorded one at a time through `scores_record`, each in the
   school's largest grade and chosen to move the student's level (full marks below mastery,
   nothing at or above it). A poller sees the estimate recomputed, then the
   `SchoolStandardMonth` row of (school, this month, all students, grade, standard) holding the
   counts the new level gives. Latency is from the score's COMMIT to that row seen.

The children, under bench.settings:

    python -m bench.bench_school_rollup probe <output.json>
    python -m bench.bench_school_rollup latency <probe.json> <output.json> <scores>

A quick check of the whole path: `bench/run.py --only school_rollup --opt
school_rollup.students=2500 --repeat 1 --output /tmp/sr.md` (a few minutes).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.bench_dashboard import (
    REQUESTS,
    SINGLE_CLIENT_REQUESTS,
    URLCONF,
    Measured,
    measure_served,
    page_figures,
)
from bench.bench_demo_dashboard import (
    DEFAULT_SEED,
    _cell,
    seeded_demo_database,
    vacuum_analyze,
)
from bench.bench_roster import CLIENTS, WORKERS
from bench.common import (
    BenchError,
    Context,
    Section,
    Server,
    celery_worker_args,
    celery_worker_wait,
    child_env,
    fmt_ms,
    fmt_s,
    load_average,
    log,
    median,
    percentile,
    ratio_of_runs,
    redis_db_clear,
    run_child,
    runs_label,
    table,
)

NAME = "school_rollup"
TITLE = (
    "school_rollup: the principal's school report and the district page of `seed_demo "
    "--students 86000`, 1 and 8 clients, gunicorn (2 workers), PostgreSQL; a score to the "
    "rollups through a real worker"
)
ORDER = 28
DEFAULT_REPEAT = 2
DEFAULT_STUDENTS = 86_000
DEFAULT_SCORES = 20
PRINCIPAL_EMAIL = "principal@example.org"
DISTRICT_EMAIL = "district@example.org"
# The goals: p95 under 200 ms at 8 clients; a score in the rollups within 5 s (p95).
P95_GOAL_S = 0.200
LATENCY_GOAL_S = 5.0
# A Redis database of its own: the first empty one of these (bench_latency uses 11).
BROKER_DBS = (12, 13, 14, 15)
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
WORKER_QUEUES = "mastery,default"
WORKER_PROCESSES = 2
# A score whose row has not changed this long after its commit counts as missed.
LATENCY_TIMEOUT_S = 60.0
POLL_S = 0.01
# Each page's profile in the probe: the median of this many timed requests, then one profiled.
PROFILE_RUNS = 3
SLOWEST_QUERIES = 3
# Where a page's time goes: (what, file the function is in, function), as cProfile names them.
PARTS = (
    ("school_report", "dashboard/selectors/school.py", "school_report"),
    ("school_rollup", "rollups/selectors.py", "school_rollup"),
    ("school_engagement", "dashboard/selectors/school.py", "school_engagement"),
    ("attendance_rates", "students/attendance.py", "attendance_rates"),
    ("school_overview", "dashboard/selectors/school.py", "school_overview"),
    ("district_report", "dashboard/selectors/district.py", "district_report"),
    ("district_rollup", "rollups/selectors.py", "district_rollup"),
    ("suppress_tables", "rollups/suppression.py", "suppress_tables"),
    ("template", "django/shortcuts.py", "render"),
)


# --- the probe (a child under bench.settings) ---------------------------------------------------


def _signed_in(email: str) -> Any:
    """A test client signed in as the demo user, enrolled in MFA so that the staff MFA check runs
    on every page as in production (force_login signs in; nobody signs in with this secret)."""
    from allauth.mfa.models import Authenticator
    from django.test import Client

    from accounts.models import User

    user = User.objects.filter(email=email).first()
    if user is None:
        raise SystemExit(f"no user {email}: did seed_demo run?")
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        Authenticator.objects.create(
            user=user, type=Authenticator.Type.TOTP, data={"secret": "bench-only-not-a-secret"}
        )
    client = Client()
    client.force_login(user)
    return client


class _QueryLog:
    """A connection's execute wrapper: each query's time, SQL and the project function that
    issued it (the innermost frame in the repository's own code, outside bench/)."""

    def __init__(self) -> None:
        self.queries: list[tuple[float, str, str]] = []

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append((time.perf_counter() - started, sql, _caller()))


def _caller() -> str:
    import traceback

    root = str(Path(__file__).resolve().parent.parent)
    for frame in reversed(traceback.extract_stack()):
        name = frame.filename
        if name.startswith(root) and "/.venv/" not in name and "/bench/" not in name:
            return f"{Path(name).relative_to(root)}:{frame.name}"
    return "Django (session, user)"


def _sql_head(sql: str) -> str:
    """A query as the doc shows it, on one line: its start and its outermost FROM."""
    text = " ".join(sql.split()).replace('"', "")
    depth, outer_from = 0, -1
    for at, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth <= 0 and text.startswith(" FROM ", at):
            outer_from = at
            break
    if outer_from < 0:
        return text[:90] + " …"
    gap = " … " if outer_from > 32 else " "
    return text[: min(32, outer_from)] + gap + text[outer_from + 1 : outer_from + 60] + " …"


def profile_page(
    client: Any, url: str, parts_of: tuple[tuple[str, str, str], ...] = PARTS
) -> dict[str, Any]:
    """A page in process, without load: its time and SQL time (medians of PROFILE_RUNS), its
    slowest queries and the SQL time of each function that queries (of the last request), then
    one profiled request's time by function (`parts_of`: label, file suffix, function; the
    portal's benchmark passes its own)."""
    import cProfile
    import pstats

    from django.db import connection

    walls, sqls = [], []
    queries: list[tuple[float, str, str]] = []
    for _ in range(PROFILE_RUNS):
        query_log = _QueryLog()
        with connection.execute_wrapper(query_log):
            started = time.perf_counter()
            client.get(url)
            walls.append(time.perf_counter() - started)
        queries = query_log.queries
        sqls.append(sum(seconds for seconds, _, _ in queries))
    by_caller: dict[str, list[float]] = {}
    for seconds, _, caller in queries:
        by_caller.setdefault(caller, []).append(seconds)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.runcall(client.get, url)
    profiled_s = time.perf_counter() - started
    stats: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]  # pstats keeps its table here
    parts = {}
    for label, file_suffix, function in parts_of:
        cumulative = sum(
            entry[3]
            for (filename, _, name), entry in stats.items()
            if name == function and filename.endswith(file_suffix)
        )
        if cumulative:
            parts[label] = cumulative / profiled_s
    slowest = sorted(queries, key=lambda query: -query[0])[:SLOWEST_QUERIES]
    return {
        "wall_s": median(walls),
        "sql_s": median(sqls),
        "slowest": [
            {"s": seconds, "sql": _sql_head(sql), "caller": caller}
            for seconds, sql, caller in slowest
        ],
        "sql_by_caller": {
            caller: {"s": sum(times), "queries": len(times)} for caller, times in by_caller.items()
        },
        "parts": parts,
    }


def _largest(memberships: Any, field: str) -> tuple[Any, int]:
    """The value of `field` with the most students among these memberships (ties: the lowest
    value), and how many."""
    from django.db.models import Count

    row = (
        memberships.values(field)
        .annotate(students=Count("student_id", distinct=True))
        .order_by("-students", field)
        .first()
    )
    if row is None:
        raise SystemExit("no current students where the benchmark expected some")
    return row[field], row["students"]


def _school_facts(memberships: Any, school_id: int) -> dict[str, Any]:
    """A school's name, current students and grades, and its largest grade."""
    from students.models import School

    in_school = memberships.filter(school_id=school_id)
    grade, grade_students = _largest(in_school, "grade_level")
    return {
        "id": school_id,
        "name": School.objects.values_list("name", flat=True).get(pk=school_id),
        "students": in_school.values("student_id").distinct().count(),
        "grades": in_school.values("grade_level").distinct().count(),
        "grade": grade,
        "grade_students": grade_students,
    }


def _school_pages(school: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """A school's report (with its access-check baseline) and its largest grade's page."""
    base, plain = f"/schools/{school['id']}/", f"/bench/plain/schools/{school['id']}/"
    name, grade = school["name"], school["grade"]
    return [
        (f"{name} ({school['students']:,} students): report", base, plain),
        (
            f"{name}: grade {grade} ({school['grade_students']:,} students)",
            f"{base}?grade={grade}",
            None,
        ),
    ]


def probe(output: Path) -> None:
    """The principal's largest school and its largest grade; the district staff's district page
    and the district's largest school with its largest grade (when it is not the principal's);
    the two users' sessions; each page's queries, sizes and profile. JSON out."""
    import django

    django.setup()
    from django.test.utils import override_settings, setup_test_environment

    from accounts.access import districts_administered_by, schools_visible_to
    from accounts.models import Role, User
    from rollups.models import SchoolStandardMonth, SchoolSubjectMonth
    from students.models import School, StudentSchoolMembership, in_force

    setup_test_environment()
    clients = {"principal": _signed_in(PRINCIPAL_EMAIL), "district": _signed_in(DISTRICT_EMAIL)}
    principal = User.objects.get(email=PRINCIPAL_EMAIL)
    district = districts_administered_by(User.objects.get(email=DISTRICT_EMAIL)).order_by("pk")
    if not district.exists():
        raise SystemExit(f"{DISTRICT_EMAIL} is staff of no district")
    district_id = district.values_list("pk", flat=True)[0]
    current = StudentSchoolMembership.objects.filter(in_force(), student__is_active=True)
    runs = schools_visible_to(principal, role=Role.PRINCIPAL).values("pk")
    principal_school, _ = _largest(current.filter(school__in=runs), "school_id")
    largest_school, _ = _largest(current.filter(school__district_id=district_id), "school_id")
    schools = {"principal": _school_facts(current, principal_school)}
    if largest_school != principal_school:
        schools["largest"] = _school_facts(current, largest_school)

    plain_school = f"/bench/plain/schools/{principal_school}/"
    district_base = f"/districts/{district_id}/schools/"
    plain_district = f"/bench/plain/districts/{district_id}/"
    # A page without a plain page of its own is compared with the group's last one before it.
    pages = {
        "principal": [
            *_school_pages(schools["principal"]),
            (
                f"{schools['principal']['name']}: access check and rollups reads (plain)",
                f"{plain_school}rollups/",
                None,
            ),
        ],
        "district": [
            ("district page", district_base, plain_district),
            ("district: access check and rollups reads (plain)", f"{plain_district}rollups/", None),
            *(_school_pages(schools["largest"]) if "largest" in schools else []),
        ],
    }
    groups: dict[str, list[dict[str, Any]]] = {}
    with override_settings(ROOT_URLCONF=URLCONF):
        for who, group_pages in pages.items():
            found = []
            for label, url, plain_url in group_pages:
                target = page_figures(clients[who], label, url, plain_url)
                target["profile"] = profile_page(clients[who], url)
                if plain_url:
                    target["plain_profile"] = profile_page(clients[who], plain_url)
                found.append(target)
            groups[who] = found
    output.write_text(
        json.dumps(
            {
                "sessions": {
                    who: client.cookies["sessionid"].value for who, client in clients.items()
                },
                "groups": groups,
                "schools": schools,
                "principal_schools": runs.count(),
                "district": {
                    "id": district_id,
                    "name": district.values_list("name", flat=True)[0],
                    "schools": School.objects.filter(
                        district_id=district_id, is_active=True
                    ).count(),
                    "students": current.filter(school__district_id=district_id)
                    .values("student_id")
                    .distinct()
                    .count(),
                    "rollup_rows": SchoolStandardMonth.objects.filter(
                        district_id=district_id
                    ).count()
                    + SchoolSubjectMonth.objects.filter(district_id=district_id).count(),
                },
            },
            indent=1,
        )
    )


# --- the score-to-rollup latency (a child under bench.settings, with a broker) -----------------


def _score_candidates(school_id: int, grade: str) -> list[tuple[int, int, int, Any]]:
    """(student, assessment, standard, max points): for each current student of the school's
    grade, the latest active assessment aligned to one standard in a section they are enrolled
    in at the school, where no override holds their level (so that the estimate is what the
    rollup counts)."""
    from django.db.models import Count

    from assessments.models import Assessment, MasteryOverride
    from students.models import Enrollment, StudentSchoolMembership, in_force

    members = sorted(
        set(
            StudentSchoolMembership.objects.filter(
                in_force(), school_id=school_id, grade_level=grade, student__is_active=True
            ).values_list("student_id", flat=True)
        )
    )
    sections_of: dict[int, list[int]] = {}
    for student_id, section_id in (
        Enrollment.objects.current()
        .filter(student_id__in=members, section__school_id=school_id, section__is_active=True)
        .order_by("student_id", "section_id")
        .values_list("student_id", "section_id")
    ):
        sections_of.setdefault(student_id, []).append(section_id)
    latest: dict[int, tuple[int, Any]] = {}
    for assessment_id, section_id, max_points in (
        Assessment.objects.filter(
            section_id__in={pk for ids in sections_of.values() for pk in ids},
            is_active=True,
            max_points__gt=0,
        )
        .annotate(aligned=Count("standards"))
        .filter(aligned=1)
        .order_by("section_id", "-due_on", "-pk")
        .values_list("pk", "section_id", "max_points")
    ):
        latest.setdefault(section_id, (assessment_id, max_points))
    standard_of = dict(
        Assessment.standards.through.objects.filter(
            assessment_id__in=[assessment_id for assessment_id, _ in latest.values()]
        ).values_list("assessment_id", "standard_id")
    )
    overridden = set(
        MasteryOverride.objects.filter(student_id__in=members, cleared_at__isnull=True).values_list(
            "student_id", "standard_id"
        )
    )
    candidates = []
    for student_id, section_ids in sorted(sections_of.items()):
        for section_id in section_ids:
            if section_id not in latest:
                continue
            assessment_id, max_points = latest[section_id]
            standard_id = standard_of[assessment_id]
            if (student_id, standard_id) not in overridden:
                candidates.append((student_id, assessment_id, standard_id, max_points))
                break
    return candidates


def _rollup_row(school_id: int, month: Any, grade: str, standard_id: int) -> tuple[int, ...]:
    """The counts of (school, month, all students, grade, standard): measured, proficient and
    levels 1-4 (all 0 when no row: nobody measured)."""
    from rollups.models import SchoolStandardMonth
    from rollups.selectors import LEVEL_FIELDS
    from rollups.subgroups import ALL

    row = (
        SchoolStandardMonth.objects.filter(
            school_id=school_id,
            month=month,
            subgroup=ALL,
            grade_level=grade,
            standard_id=standard_id,
        )
        .values_list("students_measured", "students_proficient", *LEVEL_FIELDS)
        .first()
    )
    return tuple(row) if row else (0, 0, 0, 0, 0, 0)


def _moved(row: tuple[int, ...], old: int, new: int, mastery: int) -> tuple[int, ...]:
    """The row's counts once one student's level goes from `old` to `new` (0: not measured)."""
    measured, proficient, *levels = row
    for level, step in ((old, -1), (new, 1)):
        if level > 0:
            measured += step
            proficient += step if level >= mastery else 0
            if level <= len(levels):
                levels[level - 1] += step
    return (measured, proficient, *levels)


def _stamper(stamps: list[float]) -> Callable[[], None]:
    """A commit callback that notes when it ran."""
    return lambda: stamps.append(time.perf_counter())


def _score_once(
    school_id: int, grade: str, candidate: tuple[int, int, int, Any], mastery: int
) -> dict[str, Any]:
    """Record one score and poll (every POLL_S, on this connection outside any transaction) for
    the estimate's recompute, then for the rollup row's new counts: seconds from the commit to
    each (None: not within LATENCY_TIMEOUT_S), and the levels before and after."""
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from assessments.models import MasteryEstimate
    from assessments.services import ScoreInput, scores_record
    from rollups.counting import month_first

    student_id, assessment_id, standard_id, max_points = candidate
    today = timezone.localdate()
    month = month_first(today)
    old = (
        MasteryEstimate.objects.filter(student_id=student_id, standard_id=standard_id)
        .values_list("level", flat=True)
        .first()
    ) or 0
    points = Decimal(0) if old >= mastery else Decimal(max_points)
    before = _rollup_row(school_id, month, grade, standard_id)
    commits: list[float] = []
    with transaction.atomic():
        # Registered before the service's own callbacks (the enqueue), so it runs first.
        transaction.on_commit(_stamper(commits))
        recorded = scores_record(
            scores=[
                ScoreInput(
                    student_id=student_id,
                    assessment_id=assessment_id,
                    scored_on=today,
                    points=points,
                )
            ]
        )
    committed = commits[0]
    (estimate_id,) = recorded.estimate_ids
    trial: dict[str, Any] = {"old": old, "new": None, "estimate_s": None, "rollup_s": None}
    expected = None
    while time.perf_counter() - committed < LATENCY_TIMEOUT_S:
        if expected is None:
            pending, level = MasteryEstimate.objects.values_list("pending_since", "level").get(
                pk=estimate_id
            )
            if pending is None:
                trial["estimate_s"] = time.perf_counter() - committed
                trial["new"] = level
                if level == old:
                    break  # the level held: nothing for the rollups to change
                expected = _moved(before, old, level, mastery)
        if expected is not None and _rollup_row(school_id, month, grade, standard_id) == expected:
            trial["rollup_s"] = time.perf_counter() - committed
            break
        time.sleep(POLL_S)
    return trial


def latency(probe_path: Path, output: Path, scores: int) -> None:
    """For each school the probe measured: record `scores` scores that move a level, one at a
    time through scores_record, each followed to the school's rollup row (_score_once). JSON
    out, by school: each score's latencies from its commit."""
    import random

    import django

    django.setup()
    from assessments.methods import policy_for_district
    from config.celery_app import app
    from students.models import School

    if not app.control.ping(timeout=5.0):
        raise SystemExit("the Celery worker does not answer")
    found = json.loads(probe_path.read_text())
    results: dict[str, Any] = {}
    for key, school in found["schools"].items():
        district_id = School.objects.values_list("district_id", flat=True).get(pk=school["id"])
        mastery = policy_for_district(district_id, with_fit=False).mastery_level
        candidates = _score_candidates(school["id"], school["grade"])
        random.Random(2026).shuffle(candidates)
        trials: list[dict[str, Any]] = []
        unchanged = 0
        for candidate in candidates:
            if len(trials) >= scores or len(trials) + unchanged >= 3 * scores:
                break
            trial = _score_once(school["id"], school["grade"], candidate, mastery)
            if trial["new"] == trial["old"]:
                unchanged += 1
                continue
            trials.append(trial)
            print(f"{school['name']}, score {len(trials)}: {trial}", file=sys.stderr, flush=True)
        results[key] = {"trials": trials, "unchanged": unchanged, "candidates": len(candidates)}
    output.write_text(json.dumps(results, indent=1))


# --- the benchmark ------------------------------------------------------------------------------


def _broker_url() -> str:
    """The first empty Redis database of BROKER_DBS, or a BenchError that says why not."""
    import redis

    for db in BROKER_DBS:
        client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db, socket_connect_timeout=2)
        try:
            if client.dbsize() == 0:
                return f"redis://{REDIS_HOST}:{REDIS_PORT}/{db}"
        except redis.RedisError as error:
            raise BenchError(
                f"Redis is not reachable on {REDIS_HOST}:{REDIS_PORT} ({error})."
            ) from error
        finally:
            client.close()
    raise BenchError(f"Redis databases {BROKER_DBS} all hold keys: none is free for the worker.")


def run(context: Context) -> Section:
    broker_url = _broker_url()  # before the seed: a missing Redis fails in seconds, not minutes
    students = context.option("students", DEFAULT_STUDENTS)
    seed = context.option("seed", DEFAULT_SEED)
    requests = context.option("requests", REQUESTS)
    scores = context.option("scores", DEFAULT_SCORES)
    databases = context.databases
    database, url, seed_wall_s = seeded_demo_database(context, "school_rollup", students, seed)
    vacuum_s = vacuum_analyze(url)
    log(f"VACUUM (ANALYZE) in {vacuum_s:.1f} s")

    probe_path = context.workdir / "school-rollup-probe.json"
    run_child(
        [sys.executable, "-m", "bench.bench_school_rollup", "probe", str(probe_path)],
        env=child_env(url, BENCH_REQUIRE_STAFF_MFA="1"),
        log_path=context.workdir / "school-rollup-probe.log",
    ).check("the school rollup probe")
    found = json.loads(probe_path.read_text())
    for group in found["groups"].values():
        for target in group:
            log(
                f"{target['label']}: {target['page_queries']} queries, in process "
                f"{fmt_ms(target['profile']['wall_s'])} (SQL {fmt_ms(target['profile']['sql_s'])})"
            )

    databases.checkpoint()
    measured: dict[str, Measured] = {}
    for who, targets in found["groups"].items():
        measured[who] = measure_served(
            url,
            context.workdir / f"school-rollup-gunicorn-{who}.log",
            targets,
            f"sessionid={found['sessions'][who]}",
            repeat=context.repeat,
            requests=requests,
        )
    # Other work on the machine moves every figure: the load after the pages were measured.
    load_after = load_average()

    log(f"{scores} scores to the rollups through a Celery worker on {broker_url}")
    latency_path = context.workdir / "school-rollup-latency.json"
    worker_env = child_env(url, CELERY_BROKER_URL=broker_url)
    try:
        with Server(
            celery_worker_args(WORKER_QUEUES, WORKER_PROCESSES),
            env=worker_env,
            log_path=context.workdir / "school-rollup-worker.log",
        ) as worker:
            celery_worker_wait(worker)
            run_child(
                [
                    sys.executable,
                    "-m",
                    "bench.bench_school_rollup",
                    "latency",
                    str(probe_path),
                    str(latency_path),
                    str(scores),
                ],
                env=worker_env,
                log_path=context.workdir / "school-rollup-latency.log",
                timeout_s=2 * scores * 3 * (LATENCY_TIMEOUT_S + 5) + 120,
            ).check("the score latency child")
    finally:
        redis_db_clear(broker_url)
    latencies = json.loads(latency_path.read_text())
    if not os.environ.get("BENCH_SEEDED_DATABASE"):  # a reused database stays
        databases.release(database)
    return _section(
        context,
        found,
        measured,
        latencies,
        Setup(students, seed, seed_wall_s, vacuum_s, requests, load_after),
    )


# --- the section --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """What the section says of how the run was made."""

    students: int
    seed: int
    seed_s: float
    vacuum_s: float
    requests: int
    load_after: str


def _page_rows(
    found: dict[str, Any], measured: dict[str, Measured]
) -> tuple[list[tuple[object, ...]], list[tuple[str, int, dict[str, Any]]], list[str], list[str]]:
    """The load table's rows (each page, then its baseline), the profiled pages, and the goals'
    and summary's words."""
    rows: list[tuple[object, ...]] = []
    profiles: list[tuple[str, int, dict[str, Any]]] = []
    goals: list[str] = []
    summary: list[str] = []
    who_label = {"principal": "principal", "district": "district staff"}
    for who, targets in found["groups"].items():
        result = measured[who]
        baseline: list[float] = []
        for index, target in enumerate(targets):
            if target["plain_url"]:
                baseline = result.figure(index, "plain", "1 client median")
            one = result.figure(index, "page", "1 client median")
            p95 = median(result.figure(index, "page", "p95 latency"))
            verdict = ""
            if not target["url"].startswith("/bench/"):
                met = p95 < P95_GOAL_S
                verdict = "met" if met else f"missed (p95 ≥ {fmt_ms(P95_GOAL_S)})"
                goals.append(f"{target['label']} {fmt_ms(p95)} ({'met' if met else 'missed'})")
                summary.append(f"{target['label']} p95 {fmt_ms(p95)}")
            rows.append(
                (
                    _cell(target["label"]),
                    who_label[who],
                    fmt_ms(median(one)),
                    fmt_ms(median(result.figure(index, "page", "1 client p95"))),
                    ratio_of_runs(one, baseline),
                    fmt_ms(median(result.figure(index, "page", "median latency"))),
                    fmt_ms(p95),
                    target["page_queries"],
                    f"{target['page_gzip_bytes']:,}",
                    verdict,
                )
            )
            profiles.append((target["label"], target["page_queries"], target["profile"]))
            if not target["plain_url"]:
                continue
            plain_label = f"{target['label']}: access check only (plain, baseline)"
            rows.append(
                (
                    _cell(plain_label),
                    who_label[who],
                    fmt_ms(median(baseline)),
                    fmt_ms(median(result.figure(index, "plain", "1 client p95"))),
                    "1.00×",
                    fmt_ms(median(result.figure(index, "plain", "median latency"))),
                    fmt_ms(median(result.figure(index, "plain", "p95 latency"))),
                    target["plain_queries"],
                    f"{target['plain_gzip_bytes']:,}",
                    "",
                )
            )
            profiles.append((plain_label, target["plain_queries"], target["plain_profile"]))
    return rows, profiles, goals, summary


def sql_by_caller(profile: dict[str, Any]) -> str:
    """The functions whose queries took the most SQL time, most first."""
    ranked = sorted(profile["sql_by_caller"].items(), key=lambda item: -item[1]["s"])
    return "; ".join(
        f"`{caller}` {fmt_ms(spent['s'])} ({spent['queries']})"
        for caller, spent in ranked[:SLOWEST_QUERIES]
    )


def _profile_tables(profiles: list[tuple[str, int, dict[str, Any]]]) -> tuple[str, str]:
    """Where each page's time goes, and each page's slowest queries."""
    part_names = [label for label, _, _ in PARTS]
    profile_rows = [
        (
            _cell(label),
            queries,
            fmt_ms(profile["wall_s"]),
            fmt_ms(profile["sql_s"]),
            sql_by_caller(profile),
            "; ".join(
                f"`{name}` {profile['parts'][name]:.0%}"
                for name in part_names
                if profile["parts"].get(name, 0) >= 0.01
            )
            or "—",
        )
        for label, queries, profile in profiles
    ]
    slow_rows = [
        (
            _cell(label),
            fmt_ms(query["s"]),
            f"`{query['caller']}`",
            "`" + _cell(query["sql"]).replace("`", "'") + "`",
        )
        for label, _, profile in profiles
        if not label.endswith("(plain, baseline)")
        for query in profile["slowest"]
    ]
    return (
        table(
            ["page", "queries", "time", "SQL", "SQL by function", "share of the profiled request"],
            profile_rows,
        ),
        table(["page", "time", "issued by", "query"], slow_rows),
    )


def _latency_parts(
    found: dict[str, Any], latencies: dict[str, Any]
) -> tuple[str, list[str], list[str], list[str]]:
    """The latency table (a column pair per school), the schools' words, the goals' words and
    the summary's."""
    header = ["figure"]
    columns: list[list[str]] = []
    described, goals, summary = [], [], []
    for key, school in found["schools"].items():
        result = latencies[key]
        trials = result["trials"]
        reached = [t["rollup_s"] for t in trials if t["rollup_s"] is not None]
        estimated = [t["estimate_s"] for t in trials if t["estimate_s"] is not None]
        missed = len(trials) - len(reached)
        name = _cell(school["name"])
        header += [f"{name}: score → estimate", f"{name}: score → rollup row"]
        for values in (estimated, reached):
            columns.append(
                [
                    fmt_ms(statistic(values)) if values else "—"
                    for statistic in (median, lambda v: percentile(v, 95), max)
                ]
            )
        p95 = percentile(reached, 95) if reached else float("inf")
        met = bool(reached) and not missed and p95 < LATENCY_GOAL_S
        goals.append(
            f"{name} "
            + (f"{fmt_s(p95)} ({'met' if met else 'missed'})" if reached else "none (missed)")
            + (
                f", {missed} of {len(trials)} not within {LATENCY_TIMEOUT_S:.0f} s"
                if missed
                else ""
            )
        )
        summary.append(f"{school['name']}: score to rollup p95 {fmt_s(p95) if reached else '—'}")
        moved = ", ".join(f"{t['old']}→{t['new']}" for t in trials)
        described.append(
            f"{len(trials)} in grade {school['grade']} of {name} (levels moved {moved}"
            + (
                f"; {result['unchanged']} more left the level as it was and are not counted"
                if result["unchanged"]
                else ""
            )
            + ")"
        )
    rows = [
        [label, *(column[position] for column in columns)]
        for position, label in enumerate(("median", "p95", "max"))
    ]
    return table(header, rows), described, goals, summary


def _section(
    context: Context,
    found: dict[str, Any],
    measured: dict[str, Measured],
    latencies: dict[str, Any],
    setup: Setup,
) -> Section:
    principal_school, district = found["schools"]["principal"], found["district"]
    largest = found["schools"].get("largest")
    rows, profiles, page_goals, summary = _page_rows(found, measured)
    profile_table, slow_table = _profile_tables(profiles)
    latency_table, latency_schools, latency_goals, latency_summary = _latency_parts(
        found, latencies
    )
    body = "\n\n".join(
        [
            f"District from `seed_demo --students {setup.students} --seed {setup.seed}` ("
            + (
                f"seeded in {fmt_s(setup.seed_s)}"
                if setup.seed_s
                else "seeded by an earlier run, kept, and migrated to this commit"
            )
            + f", then `VACUUM (ANALYZE)` in {fmt_s(setup.vacuum_s)}; "
            f"neither timed here): {_cell(district['name'])}, {district['schools']} schools, "
            f"{district['students']:,} current students, {district['rollup_rows']:,} school "
            f"rollup rows. The principal (`{PRINCIPAL_EMAIL}`) runs "
            f"{found['principal_schools']} school(s); the largest, "
            f"{_cell(principal_school['name'])}, has {principal_school['students']:,} current "
            f"students in {principal_school['grades']} grades. "
            + (
                f"The district's largest school, {_cell(largest['name'])} "
                f"({largest['students']:,} students in {largest['grades']} grades), is measured "
                f"too, as the district staff (`{DISTRICT_EMAIL}`) open it. "
                if largest
                else ""
            )
            + "Each school's report and the page of its largest grade; the district page is "
            "the district staff's. Both users enrolled in MFA, the staff MFA check on as in "
            f"production. gunicorn, {WORKERS} sync workers, `bench.settings` (DEBUG off, "
            "`CONN_MAX_AGE` 60), serving `bench.bench_dashboard:application` on 127.0.0.1. Per "
            f"URL and run: {setup.requests} requests from {CLIENTS} client threads and "
            f"{SINGLE_CLIENT_REQUESTS} from 1 client (the server time, without queueing), in "
            "interleaved rounds after untimed warm-up requests; the load generator shares the "
            f"machine's {context.machine.cores} cores with gunicorn and PostgreSQL (load "
            f"average after the pages' runs: {setup.load_after}). Baseline: a plain page "
            "(bench/views.py) making the same access check and answering plain text, measured "
            "in the same runs; the ratio is the median of each run's own ratio of 1-client "
            "medians (a page without a baseline row of its own is compared with the one above "
            "it). The plain rollups pages add the rollups selectors' reads for this month "
            "(`rollup_months`, `rollup_subjects`, `school_rollup` or `district_rollup`) to the "
            "access check: what the rollups cost of a page. p95 is nearest-rank. Queries "
            "counted once in process (session, user and MFA check included); "
            "tests/dashboard/test_rollup_query_counts.py asserts that the pages make as many "
            "for a large district as for a small one.",
            f"Goals: p95 < {fmt_ms(P95_GOAL_S)} at {CLIENTS} clients: {'; '.join(page_goals)}. "
            f"A new score in the school's rollup within p95 < {LATENCY_GOAL_S:.0f} s: "
            f"{'; '.join(latency_goals)}.",
            table(
                [
                    "page",
                    "user",
                    f"1 client p50 ({runs_label(context.repeat)})",
                    "1 client p95",
                    "ratio to plain",
                    f"{CLIENTS} clients p50",
                    f"{CLIENTS} clients p95",
                    "queries",
                    "gzipped bytes",
                    "goal",
                ],
                rows,
            ),
            "Where each page's time goes, in the probe (in process, one client, no load of its "
            f"own): the median of {PROFILE_RUNS} requests and of their SQL time; the functions "
            "whose queries took the most SQL time in the last of them (the innermost function "
            "of the repository on the query's stack; queries in brackets); then one request "
            "under cProfile, its time shared out by function (cumulative, so nested parts "
            "overlap: `school_rollup` and `suppress_tables` within `school_report`, "
            "`attendance_rates` within `school_engagement`; the profiler inflates Python's "
            "share).",
            profile_table,
            f"The slowest {SLOWEST_QUERIES} queries of each page (one request):",
            slow_table,
            "A new score to the school's rollup, per school: scores recorded one at a time "
            "through `scores_record` (each its own transaction), "
            + "; ".join(latency_schools)
            + ". Each on the latest assessment of one of the student's sections aligned to a "
            "single standard, chosen to move the level (full marks below mastery, nothing at or "
            f"above it). A real `celery worker` (prefork, {WORKER_PROCESSES} processes, queues "
            f"{WORKER_QUEUES}) on Redis recomputes the estimate (`mastery_recompute`), whose "
            "notice queues the student, and flushes the queue (`rollups_flush`: the grade's "
            "and sections' recount). A poller on its own connection, every "
            f"{POLL_S * 1000:.0f} ms, sees the estimate recomputed and then the "
            "`SchoolStandardMonth` row (school, this month, all students, the grade, the "
            "standard) hold the counts the new level gives. Latency from the score's COMMIT.",
            latency_table,
        ]
    )
    return Section(body=body, summary="; ".join(summary + latency_summary))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "probe":
        probe(Path(sys.argv[2]))
    elif len(sys.argv) == 5 and sys.argv[1] == "latency":
        latency(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
    else:
        raise SystemExit(
            "usage: python -m bench.bench_school_rollup probe <output.json> | "
            "latency <probe.json> <output.json> <scores>"
        )

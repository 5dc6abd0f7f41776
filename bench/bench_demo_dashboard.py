"""demo_dashboard: the demo teacher's own sections of `seed_demo --students 86000`, 1 and 8 clients.

The dashboard benchmark (bench_dashboard) measures a teacher it seeds itself; this one measures the
same pages where the demo year puts them: `manage.py seed_demo --students 86000` into a fresh
PostgreSQL database (not timed), then `VACUUM (ANALYZE)`, as autovacuum leaves a district's
database. For each of the demo teacher's sections (teacher@example.org; the largest N with
`--opt demo_dashboard.sections=N`): the section overview, its standard with the most evidence,
the student with the most evidence on it (their history on that standard), and that student's
profile with its assessments, attendance and grades tabs. Each page is loaded from 1 client (the
server time, without queueing) and from 8, against gunicorn with 2 sync workers serving
`bench.bench_dashboard:application` (the app's URLs plus bench_dashboard's plain pages, which make
the same selector calls and access-log write and answer in plain text: the baseline, measured in
the same runs). The probe child enrolls the teacher in MFA (so that the staff MFA check runs as
in production), signs them in and counts each page's queries:

    python -m bench.bench_demo_dashboard probe <output.json> <sections>

A quick check of the whole path: `bench/run.py --only demo_dashboard --opt
demo_dashboard.students=2500 --repeat 1 --output /tmp/demo-dashboard.md` (a few minutes).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from bench.bench_dashboard import (
    REQUESTS,
    SINGLE_CLIENT_REQUESTS,
    URLCONF,
    Measured,
    measure_served,
    page_figures,
    section_pages,
)
from bench.bench_roster import CLIENTS, WORKERS
from bench.common import (
    DATABASE_PREFIX,
    BenchError,
    Context,
    Section,
    child_env,
    database_url,
    fmt_ms,
    fmt_s,
    log,
    manage,
    median,
    ratio_of_runs,
    run_child,
    runs_label,
    table,
)

NAME = "demo_dashboard"
TITLE = (
    "demo_dashboard: the demo teacher's sections of `seed_demo --students 86000`, "
    "1 and 8 clients, gunicorn (2 workers), PostgreSQL"
)
ORDER = 26
DEFAULT_REPEAT = 2
DEFAULT_STUDENTS = 86_000
DEFAULT_SEED = 2026  # seed_demo's own default, passed explicitly so the doc records it
SEED_TIMEOUT_S = 2 * 60 * 60
TEACHER_EMAIL = "teacher@example.org"
# The goals: p95 under 150 ms at 8 clients; at most 1.3 times the plain page's server
# time (1 client, median) where a page has one.
P95_GOAL_S = 0.150
PLAIN_RATIO_GOAL = 1.3


# --- the probe (a child under bench.settings) ---------------------------------------------------


def section_focus(section_id: int, roster: list[int]) -> dict[str, int] | None:
    """What to show of a section (under Django): its standard with the most evidence from its
    current students, and the student with the most evidence on it; None before any evidence.
    With the section's counts of standards with evidence, assessments and evidence rows."""
    from django.db.models import Count

    from assessments.models import Assessment, MasteryEvidence

    evidence = MasteryEvidence.objects.filter(
        score__student_assessment__assessment__section_id=section_id, student_id__in=roster
    )
    by_standard = (
        evidence.values("standard_id")
        .annotate(rows=Count("id"))
        .order_by("-rows", "standard_id")
        .first()
    )
    if by_standard is None:
        return None
    by_student = (
        evidence.filter(standard_id=by_standard["standard_id"])
        .values("student_id")
        .annotate(rows=Count("id"))
        .order_by("-rows", "student_id")
        .first()
    )
    if by_student is None:  # the standard has evidence, so some student has it
        return None
    return {
        "standard_id": by_standard["standard_id"],
        "student_id": by_student["student_id"],
        "student_evidence": by_student["rows"],
        "standards": evidence.values("standard_id").distinct().count(),
        "assessments": Assessment.objects.filter(section_id=section_id).count(),
        "evidence": evidence.count(),
    }


def probe(output: Path, max_sections: int) -> None:
    """The teacher's sections, largest first, each with its standard and student; the teacher's
    session; each page's queries and sizes. JSON out."""
    import django

    django.setup()
    from allauth.mfa.models import Authenticator
    from django.test import Client
    from django.test.utils import override_settings, setup_test_environment

    from accounts.access import sections_visible_to
    from accounts.models import Role, User
    from students import selectors

    setup_test_environment()
    teacher = User.objects.filter(email=TEACHER_EMAIL).first()
    if teacher is None:
        raise SystemExit(f"no user {TEACHER_EMAIL}: did seed_demo run?")
    # Enrolled, so that the staff MFA check runs on every page as in production (force_login
    # below signs in; nobody signs in with this secret).
    if not Authenticator.objects.filter(user=teacher, type=Authenticator.Type.TOTP).exists():
        Authenticator.objects.create(
            user=teacher, type=Authenticator.Type.TOTP, data={"secret": "bench-only-not-a-secret"}
        )
    taught = list(sections_visible_to(teacher, role=Role.TEACHER))
    rosters = {
        section.pk: [enrollment.student_id for enrollment in selectors.section_roster(section)]
        for section in taught
    }
    sections = sorted(
        ((len(rosters[section.pk]), section.pk, section.title) for section in taught),
        key=lambda size: (-size[0], size[1]),
    )
    if not sections:
        raise SystemExit(f"{TEACHER_EMAIL} teaches no section")
    client = Client()
    client.force_login(teacher)
    measured_sections: list[dict[str, Any]] = []
    skipped: list[str] = []
    targets: list[dict[str, Any]] = []
    for students, section_id, title in sections:
        if max_sections and len(measured_sections) >= max_sections:
            break
        focus = section_focus(section_id, rosters[section_id])
        if focus is None:
            skipped.append(f"{title} ({students} students, no evidence yet)")
            continue
        section_label = f"{title} ({students} students)"
        measured_sections.append(
            {
                "label": section_label,
                "section_id": section_id,
                "students": students,
                **focus,
            }
        )
        with override_settings(ROOT_URLCONF=URLCONF):
            for label, url, plain_url in section_pages(
                section_id, focus["student_id"], focus["standard_id"]
            ):
                target = page_figures(client, f"{section_label}: {label}", url, plain_url)
                target["section"] = section_label
                target["page"] = label
                targets.append(target)
    if not targets:
        raise SystemExit(f"none of {TEACHER_EMAIL}'s sections has evidence to show")
    output.write_text(
        json.dumps(
            {
                "sessionid": client.cookies["sessionid"].value,
                "teacher_sections": len(sections),
                "sections": measured_sections,
                "skipped": skipped,
                "targets": targets,
            },
            indent=1,
        )
    )


# --- the benchmark ------------------------------------------------------------------------------


def seeded_demo_database(
    context: Context, name: str, students: int, seed: int
) -> tuple[str, str, float]:
    """The demo district's database to measure (name, URL), and how long `seed_demo` took (0 when
    reused): seeded in a fresh bench database, or BENCH_SEEDED_DATABASE, a bench database an
    earlier run kept (`--keep`), migrated to this commit (an 86,000-student seed takes minutes)."""
    databases = context.databases
    reused = os.environ.get("BENCH_SEEDED_DATABASE", "")
    if reused:
        if not reused.startswith(DATABASE_PREFIX):
            raise BenchError(f"BENCH_SEEDED_DATABASE={reused}: not a bench database")
        url = database_url(databases.admin_url, reused)
        log(f"reusing the seeded database {reused}: migrating it to this commit")
        manage(
            ["migrate", "--no-input"],
            database_url=url,
            log_path=context.workdir / f"{name}-migrate.log",
            timeout_s=SEED_TIMEOUT_S,
        ).check("migrate")
        return reused, url, 0.0
    database = databases.migrated(name)
    url = databases.url(database)
    log(f"seed_demo --students {students} --seed {seed} (minutes at 86,000)")
    seeded = manage(
        ["seed_demo", "--students", str(students), "--seed", str(seed)],
        database_url=url,
        log_path=context.workdir / f"{name}-seed.log",
        timeout_s=SEED_TIMEOUT_S,
    ).check("seed_demo")
    log(f"seeded in {seeded.wall_s:.1f} s")
    return database, url, seeded.wall_s


def vacuum_analyze(database_url: str) -> float:
    """`VACUUM (ANALYZE)` of the whole database: statistics and the visibility map, as
    autovacuum leaves a district's database. Seconds taken."""
    import time

    import psycopg

    started = time.perf_counter()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    return time.perf_counter() - started


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def run(context: Context) -> Section:
    students = context.option("students", DEFAULT_STUDENTS)
    seed = context.option("seed", DEFAULT_SEED)
    max_sections = context.option("sections", 0)
    requests = context.option("requests", REQUESTS)
    databases = context.databases
    database = databases.migrated("demo_dashboard")
    url = databases.url(database)
    log(f"seed_demo --students {students} --seed {seed} (minutes at 86,000)")
    seeded = manage(
        ["seed_demo", "--students", str(students), "--seed", str(seed)],
        database_url=url,
        log_path=context.workdir / "demo-dashboard-seed.log",
        timeout_s=SEED_TIMEOUT_S,
    ).check("seed_demo")
    log(f"seeded in {seeded.wall_s:.1f} s")
    vacuum_s = vacuum_analyze(url)
    log(f"VACUUM (ANALYZE) in {vacuum_s:.1f} s")

    probe_path = context.workdir / "demo-dashboard-probe.json"
    run_child(
        [
            sys.executable,
            "-m",
            "bench.bench_demo_dashboard",
            "probe",
            str(probe_path),
            str(max_sections),
        ],
        env=child_env(url, BENCH_REQUIRE_STAFF_MFA="1"),
        log_path=context.workdir / "demo-dashboard-probe.log",
    ).check("the demo dashboard probe")
    found = json.loads(probe_path.read_text())
    cookie = f"sessionid={found['sessionid']}"
    targets: list[dict[str, Any]] = found["targets"]
    for section in found["sections"]:
        log(
            f"{section['label']}: {section['standards']} standards, "
            f"{section['evidence']:,} evidence rows"
        )

    databases.checkpoint()
    measured = measure_served(
        url,
        context.workdir / "demo-dashboard-gunicorn.log",
        targets,
        cookie,
        repeat=context.repeat,
        requests=requests,
    )
    databases.release(database)
    return _section(context, found, measured, students, seed, seeded.wall_s, vacuum_s, requests)


def _section(
    context: Context,
    found: dict[str, Any],
    measured: Measured,
    students: int,
    seed: int,
    seed_s: float,
    vacuum_s: float,
    requests: int,
) -> Section:
    targets: list[dict[str, Any]] = found["targets"]
    rows = []
    p95_met = ratio_met = with_plain = 0
    worst_p95: tuple[float, str] = (0.0, "")
    worst_ratio: tuple[float, str] = (0.0, "")
    for index, target in enumerate(targets):
        one_median = measured.figure(index, "page", "1 client median")
        one_p95 = measured.figure(index, "page", "1 client p95")
        at_load = measured.figure(index, "page", "median latency")
        at_load_p95 = measured.figure(index, "page", "p95 latency")
        p95 = median(at_load_p95)
        misses = []
        if p95 < P95_GOAL_S:
            p95_met += 1
        else:
            misses.append(f"p95 ≥ {fmt_ms(P95_GOAL_S)}")
        if p95 > worst_p95[0]:
            worst_p95 = (p95, target["label"])
        plain_shown = ratio_shown = "—"
        queries = f"{target['page_queries']}"
        if measured.has(index, "plain"):
            with_plain += 1
            plain_median = measured.figure(index, "plain", "1 client median")
            plain_shown = fmt_ms(median(plain_median))
            ratio_shown = ratio_of_runs(one_median, plain_median)
            page_ratio = median(v / b for v, b in zip(one_median, plain_median, strict=True))
            if page_ratio <= PLAIN_RATIO_GOAL:
                ratio_met += 1
            else:
                misses.append(f"ratio > {PLAIN_RATIO_GOAL}×")
            if page_ratio > worst_ratio[0]:
                worst_ratio = (page_ratio, target["label"])
            queries += f" ({target['plain_queries']})"
        rows.append(
            (
                _cell(target["section"]),
                target["page"],
                fmt_ms(median(one_median)),
                fmt_ms(median(one_p95)),
                plain_shown,
                ratio_shown,
                fmt_ms(median(at_load)),
                fmt_ms(p95),
                queries,
                f"{target['page_gzip_bytes']:,}",
                "met" if not misses else "missed: " + ", ".join(misses),
            )
        )
    sections = [
        (
            _cell(section["label"]),
            section["standards"],
            section["assessments"],
            f"{section['evidence']:,}",
            f"{section['student_evidence']} on the standard measured",
        )
        for section in found["sections"]
    ]
    measured_count = len(found["sections"])
    which = (
        f"all {measured_count} of the teacher's sections"
        if measured_count == found["teacher_sections"]
        else f"the largest {measured_count} of the teacher's {found['teacher_sections']} sections"
    )
    skipped = found["skipped"]
    goals = (
        f"Goals: p95 < {fmt_ms(P95_GOAL_S)} at {CLIENTS} clients on {p95_met} of "
        f"{len(targets)} pages (highest: {fmt_ms(worst_p95[0])}, {_cell(worst_p95[1])}); "
        f"at most {PLAIN_RATIO_GOAL}× the plain page at 1 client on {ratio_met} of {with_plain} "
        f"pages that have one (highest: {worst_ratio[0]:.2f}×, {_cell(worst_ratio[1])})."
    )
    body = "\n\n".join(
        [
            f"District from `seed_demo --students {students} --seed {seed}` (seeded in "
            f"{fmt_s(seed_s)}, then `VACUUM (ANALYZE)` in {fmt_s(vacuum_s)}; neither timed here). "
            f"Teacher `{TEACHER_EMAIL}` (enrolled in MFA; the staff MFA check on as in "
            f"production), {which}"
            + (f" (skipped, nothing to show yet: {'; '.join(skipped)})" if skipped else "")
            + ". Per section: the overview, its standard with the most evidence, the student with "
            "the most evidence on it (their history on that standard), and that student's "
            f"profile with its tabs. gunicorn, {WORKERS} sync workers, `bench.settings` (DEBUG "
            "off, `CONN_MAX_AGE` 60), serving `bench.bench_dashboard:application` on 127.0.0.1. "
            f"Per URL and run: {requests} requests from {CLIENTS} client threads and "
            f"{SINGLE_CLIENT_REQUESTS} from 1 client (the server time, without queueing), in "
            "interleaved rounds after untimed warm-up requests; the load generator shares the "
            f"machine's {context.machine.cores} cores with gunicorn and PostgreSQL. Baseline: "
            "bench_dashboard's plain page (the same selector calls and access-log write, answered "
            "in plain text without templates or charts), measured in the same runs; the ratio is "
            "the median of each run's own ratio of 1-client medians. p95 is nearest-rank. "
            "Queries counted once in process (session and user included), the plain page's in "
            "brackets; gzipped bytes at level 9, one response.",
            goals,
            table(
                [
                    "section",
                    "page",
                    f"1 client p50 ({runs_label(context.repeat)})",
                    "1 client p95",
                    "plain page, 1 client p50 (baseline)",
                    "ratio to plain",
                    f"{CLIENTS} clients p50",
                    f"{CLIENTS} clients p95",
                    "queries (plain)",
                    "gzipped bytes",
                    "goals",
                ],
                rows,
            ),
            "The sections measured:",
            table(
                [
                    "section",
                    "standards with evidence",
                    "assessments",
                    "evidence rows",
                    "student measured",
                ],
                sections,
            ),
        ]
    )
    return Section(
        body=body,
        summary=(
            f"{measured_count} sections, {len(targets)} pages; highest p95 at {CLIENTS} clients "
            f"{fmt_ms(worst_p95[0])}, highest ratio to plain {worst_ratio[0]:.2f}×"
        ),
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "probe":
        probe(Path(sys.argv[2]), int(sys.argv[3]))
    else:
        raise SystemExit(
            "usage: python -m bench.bench_demo_dashboard probe <output.json> <sections>"
        )

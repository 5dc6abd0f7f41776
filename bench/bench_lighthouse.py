"""lighthouse: Lighthouse scores of the teacher's pages (and each demo user's first pages).

Reported, never asserted. The default demo (`seed_demo --seed 2026`, 1,800 students) goes into a
fresh PostgreSQL database; `collectstatic` into the run's own STATIC_ROOT; gunicorn (2 sync
workers) serves `config.wsgi:application` under `bench.settings` with DEBUG off and static files as
production serves them (whitenoise's compressed manifest storage: hashed names, gzipped, and Brotli
too where the brotli package is installed). Each demo user signs in through the real sign-in form
(`/accounts/login/`, with the published demo password) and Lighthouse
(bench/lighthouse/package.json pins it; `npm ci` installs it there when it is missing) sends that
session's cookie with every request (`--extra-headers`). Debian's Chromium runs it headless
(CHROME_PATH, default /usr/bin/chromium), once with the desktop preset at 1366 × 768 and once as a
phone at 360 px wide (Lighthouse's mobile emulation and simulated throttling). The staff MFA check
is off (bench.settings' default for the demo's users, who have no authenticator); it only
redirects, and changes no page.

The teacher's pages, in their largest section: home, section overview, standard, a student on
that standard, the student's profile (and with its assessments tab open, `?tab=assessments`),
the section's assessments with the new-assessment form, and the score grid of its assessment with
the most results. The principal, district staff and parent: their home and one page each.
Baseline in the same run: the sign-in page, the lightest page we serve.

    python -m bench.bench_lighthouse probe <output.json>   # the pages (a child, under Django)
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from bench.bench_demo_dashboard import section_focus
from bench.bench_roster import gunicorn_args
from bench.common import (
    REPO_ROOT,
    BenchError,
    Context,
    Section,
    Server,
    child_env,
    fmt_s,
    free_port,
    log,
    manage,
    median,
    run_child,
    table,
)

NAME = "lighthouse"
TITLE = "lighthouse: Lighthouse scores of the teacher's pages (desktop 1366 px and phone 360 px)"
ORDER = 27
DEFAULT_REPEAT = 1
DEFAULT_SEED = 2026
LIGHTHOUSE_DIR = REPO_ROOT / "bench" / "lighthouse"
LIGHTHOUSE_BIN = LIGHTHOUSE_DIR / "node_modules" / ".bin" / "lighthouse"
DEFAULT_CHROME = "/usr/bin/chromium"
CATEGORIES = ("performance", "accessibility", "best-practices")
CHROME_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# Each form factor: a label and Lighthouse's flags.
FORM_FACTORS = {
    "desktop": (
        "desktop 1366 × 768",
        [
            "--preset=desktop",
            "--screenEmulation.width=1366",
            "--screenEmulation.height=768",
        ],
    ),
    "phone": (
        "phone 360 × 800",
        ["--screenEmulation.width=360", "--screenEmulation.height=800"],
    ),
}
LIGHTHOUSE_TIMEOUT_S = 240
LIGHTHOUSE_ATTEMPTS = 3
BASELINE_LABEL = "sign-in page (baseline)"
# Timings reported per page (ms), by the audit that measures each.
TIMINGS = (
    ("server response", "server-response-time"),
    ("FCP", "first-contentful-paint"),
    ("SI", "speed-index"),
    ("LCP", "largest-contentful-paint"),
    ("TBT", "total-blocking-time"),
)


# --- the probe (a child under bench.settings) ---------------------------------------------------


def probe(output: Path) -> None:
    """Each demo user's pages (addresses only): JSON out."""
    import django

    django.setup()
    from django.db.models import Count
    from django.urls import reverse

    from accounts.access import schools_visible_to, sections_visible_to, students_visible_to
    from accounts.models import Role, User
    from assessments.models import Assessment
    from demo.district import DEMO_LOGINS, DEMO_PASSWORD
    from students import selectors

    def user(role: str) -> User:
        found = User.objects.filter(email=DEMO_LOGINS[role]).first()
        if found is None:
            raise SystemExit(f"no user {DEMO_LOGINS[role]}: did seed_demo run?")
        return found

    teacher = user("teacher")
    rosters = {
        section.pk: [enrollment.student_id for enrollment in selectors.section_roster(section)]
        for section in sections_visible_to(teacher, role=Role.TEACHER)
    }
    # The largest section with something to show.
    focus: dict[str, int] | None = None
    for section_id in sorted(rosters, key=lambda pk: (-len(rosters[pk]), pk)):
        focus = section_focus(section_id, rosters[section_id])
        if focus is not None:
            break
    if focus is None:
        raise SystemExit(f"none of {teacher.email}'s sections has evidence to show")
    section, student, standard = section_id, focus["student_id"], focus["standard_id"]
    assessment = (
        Assessment.objects.filter(section_id=section)
        .annotate(scored=Count("results"))
        .order_by("-scored", "-due_on", "pk")
        .first()
    )
    if assessment is None:
        raise SystemExit(f"section {section} has no assessment")
    profile = reverse("students:student_detail", kwargs={"pk": student})
    teacher_pages = [
        ("home", reverse("home")),
        ("section overview", reverse("students:section_detail", kwargs={"pk": section})),
        (
            "standard",
            reverse("dashboard:standard_detail", kwargs={"pk": section, "standard_id": standard}),
        ),
        (
            "student on a standard",
            reverse(
                "dashboard:student_standard",
                kwargs={"pk": section, "student_id": student, "standard_id": standard},
            ),
        ),
        ("student profile", profile),
        ("student profile, assessments tab open", f"{profile}?tab=assessments"),
        (
            "section assessments and the new-assessment form",
            reverse("assessments:section_assessments", kwargs={"pk": section}),
        ),
        (
            "score grid",
            reverse(
                "assessments:score_grid", kwargs={"pk": section, "assessment_id": assessment.pk}
            ),
        ),
    ]
    principal_school = schools_visible_to(user("principal"), role=Role.PRINCIPAL).first()
    child = students_visible_to(user("parent"), role=Role.GUARDIAN).order_by("pk").first()
    if principal_school is None or child is None:
        raise SystemExit("the demo's principal has no school or its parent no child")
    users = {
        "teacher": teacher_pages,
        "principal": [
            ("home", reverse("home")),
            ("school", reverse("students:school_detail", kwargs={"pk": principal_school.pk})),
        ],
        "district": [
            ("home", reverse("home")),
            ("imports", reverse("interop:import_upload")),
        ],
        "parent": [
            ("home", reverse("home")),
            ("child's profile", reverse("students:student_detail", kwargs={"pk": child.pk})),
        ],
    }
    output.write_text(
        json.dumps(
            {
                "password": DEMO_PASSWORD,
                "login_url": reverse("account_login"),
                "users": {
                    role: {"email": DEMO_LOGINS[role], "pages": pages}
                    for role, pages in users.items()
                },
            },
            indent=1,
        )
    )


# --- Lighthouse ---------------------------------------------------------------------------------


def lighthouse_install(workdir: Path) -> str:
    """The pinned Lighthouse, installed with `npm ci` when missing; its version."""
    npm = shutil.which("npm")
    node = shutil.which("node")
    if node is None or npm is None:
        raise BenchError("node and npm are needed (Debian: apt-get install nodejs npm).")
    installed = LIGHTHOUSE_DIR / "node_modules" / ".package-lock.json"
    lock = LIGHTHOUSE_DIR / "package-lock.json"
    # npm ci writes node_modules/.package-lock.json: older than the lock, the lock has changed.
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        log("npm ci in bench/lighthouse")
        run_child(
            [npm, "ci", "--no-audit", "--no-fund"],
            env=dict(os.environ),
            log_path=workdir / "lighthouse-npm.log",
            cwd=LIGHTHOUSE_DIR,
        ).check("npm ci")
    version = subprocess.run(  # noqa: S603 - our pinned binary, fixed arguments
        [str(LIGHTHOUSE_BIN), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return version


def lighthouse_run(
    url: str, form_factor: str, *, cookie: str | None, chrome: str, workdir: Path, name: str
) -> tuple[dict[str, Any], int]:
    """One Lighthouse report (LHR) as a dict, and how many failed attempts came before it:
    Lighthouse now and then loses the trace of a load (NO_NAVSTART) and asks to be run again."""
    report = workdir / f"lighthouse-{name}.json"
    args = [
        str(LIGHTHOUSE_BIN),
        url,
        "--output=json",
        f"--output-path={report}",
        "--quiet",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={' '.join(CHROME_FLAGS)}",
        "--max-wait-for-load=60000",
        *FORM_FACTORS[form_factor][1],
    ]
    if cookie:
        headers = workdir / f"lighthouse-{name}-headers.json"
        headers.write_text(json.dumps({"Cookie": cookie}))
        args.append(f"--extra-headers={headers}")
    problem = ""
    for attempt in range(LIGHTHOUSE_ATTEMPTS):
        report.unlink(missing_ok=True)
        result = run_child(
            args,
            env={**os.environ, "CHROME_PATH": chrome},
            log_path=workdir / f"lighthouse-{name}-{attempt + 1}.log",
            timeout_s=LIGHTHOUSE_TIMEOUT_S,
        )
        lhr: dict[str, Any] = json.loads(report.read_text()) if report.exists() else {}
        if result.returncode == 0 and lhr and not lhr.get("runtimeError"):
            return lhr, attempt
        problem = (
            str(lhr.get("runtimeError") or "")
            or result.log_path.read_text(errors="replace").strip()[-500:]
        )
        log(f"lighthouse {url} ({form_factor}) attempt {attempt + 1} failed: {problem}")
    raise BenchError(
        f"lighthouse {url} ({form_factor}) failed {LIGHTHOUSE_ATTEMPTS} times; last: {problem}"
    )


def lhr_figures(lhr: dict[str, Any], requested: str) -> dict[str, Any]:
    """Scores (0-100), total byte weight, CLS and LCP, and the audits each category failed."""
    final = lhr.get("finalDisplayedUrl") or lhr.get("finalUrl") or ""
    if urllib.parse.urlsplit(final).path != urllib.parse.urlsplit(requested).path:
        raise BenchError(f"lighthouse asked for {requested} but measured {final}: not signed in?")
    audits = lhr["audits"]
    figures: dict[str, Any] = {
        category: round(100 * (lhr["categories"][category]["score"] or 0))
        for category in CATEGORIES
    }
    figures["bytes"] = audits["total-byte-weight"]["numericValue"]
    figures["cls"] = audits["cumulative-layout-shift"]["numericValue"]
    # The metrics the performance score weighs, and the server's response time under them.
    for name, audit in TIMINGS:
        figures[name] = audits[audit]["numericValue"]
    failed = {}
    for category in ("accessibility", "best-practices"):
        failed[category] = sorted(
            ref["id"]
            for ref in lhr["categories"][category]["auditRefs"]
            if ref.get("weight")
            and audits[ref["id"]].get("score") is not None
            and audits[ref["id"]]["score"] < 1
        )
    figures["failed"] = failed
    return figures


def sign_in(base_url: str, login_path: str, email: str, password: str) -> str:
    """A real sign-in through the form: the session's Cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login_url = base_url + login_path
    with opener.open(login_url, timeout=30) as response:
        form = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    if token is None:
        raise BenchError(f"no CSRF token in {login_url}")
    data = urllib.parse.urlencode(
        {"login": email, "password": password, "csrfmiddlewaretoken": token[1]}
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - http, to our own server on loopback
        login_url, data=data, headers={"Referer": login_url}
    )
    with opener.open(request, timeout=30) as response:  # follows the redirect to the home page
        landed = urllib.parse.urlsplit(response.geturl()).path
    session = next((cookie.value for cookie in jar if cookie.name == "sessionid"), None)
    if session is None or landed == login_path:
        raise BenchError(f"signing in as {email} failed (landed on {landed})")
    return f"sessionid={session}"


# --- the benchmark ------------------------------------------------------------------------------


def run(context: Context) -> Section:
    seed = context.option("seed", DEFAULT_SEED)
    students = context.option("students", 0)  # 0: the demo's default size
    chrome = os.environ.get("CHROME_PATH", DEFAULT_CHROME)
    if not Path(chrome).exists():
        raise BenchError(f"no Chromium at {chrome} (apt-get install chromium, or set CHROME_PATH)")
    workdir = context.workdir
    version = lighthouse_install(workdir)
    log(f"Lighthouse {version}")

    databases = context.databases
    database = databases.migrated("lighthouse")
    url = databases.url(database)
    seed_args = ["seed_demo", "--seed", str(seed)]
    if students:
        seed_args += ["--students", str(students)]
    log(" ".join(seed_args))
    seeded = manage(seed_args, database_url=url, log_path=workdir / "lighthouse-seed.log").check(
        "seed_demo"
    )
    log(f"seeded in {seeded.wall_s:.1f} s")
    static_root = workdir / "lighthouse-static"
    manage(
        ["collectstatic", "--no-input", "--verbosity", "0"],
        database_url=url,
        log_path=workdir / "lighthouse-collectstatic.log",
        BENCH_STATIC_ROOT=str(static_root),
    ).check("collectstatic")
    probe_path = workdir / "lighthouse-probe.json"
    run_child(
        [sys.executable, "-m", "bench.bench_lighthouse", "probe", str(probe_path)],
        env=child_env(url),
        log_path=workdir / "lighthouse-probe.log",
    ).check("the lighthouse probe")
    found = json.loads(probe_path.read_text())

    # (role, page label, form factor) -> each run's figures
    results: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    paths: dict[tuple[str, str], str] = {}
    started = time.perf_counter()
    port = free_port()
    with Server(
        gunicorn_args(port),
        env=child_env(url, BENCH_CONN_MAX_AGE="60", BENCH_STATIC_ROOT=str(static_root)),
        log_path=workdir / "lighthouse-gunicorn.log",
    ) as server:
        server.wait_until_listening(port)
        base_url = f"http://localhost:{port}"
        pages: list[tuple[str, str, str, str | None]] = [
            ("anonymous", BASELINE_LABEL, found["login_url"], None)
        ]
        for role, account in found["users"].items():
            session = sign_in(base_url, found["login_url"], account["email"], found["password"])
            log(f"signed in as {account['email']}")
            pages += [(role, label, path, session) for label, path in account["pages"]]
        count = retries = 0
        for attempt in range(1, context.repeat + 1):
            for role, label, path, cookie in pages:
                paths[(role, label)] = path
                for form_factor in FORM_FACTORS:
                    count += 1
                    lhr, failed_attempts = lighthouse_run(
                        base_url + path,
                        form_factor,
                        cookie=cookie,
                        chrome=chrome,
                        workdir=workdir,
                        name=f"{role}-{count}-{form_factor}",
                    )
                    retries += failed_attempts
                    figures = lhr_figures(lhr, base_url + path)
                    results.setdefault((role, label, form_factor), []).append(figures)
                    log(
                        f"run {attempt} {role} {label} {form_factor}: "
                        + ", ".join(f"{c} {figures[c]}" for c in CATEGORIES)
                        + f", {figures['bytes'] / 1024:,.0f} KiB, CLS {figures['cls']:.3f}"
                    )
    elapsed = time.perf_counter() - started
    databases.release(database)
    return _section(
        context, version, seed, students, seeded.wall_s, elapsed, retries, results, paths
    )


def _section(
    context: Context,
    version: str,
    seed: int,
    students: int,
    seed_s: float,
    elapsed_s: float,
    retries: int,
    results: dict[tuple[str, str, str], list[dict[str, Any]]],
    paths: dict[tuple[str, str], str],
) -> Section:
    def value(key: tuple[str, str, str], name: str) -> float:
        return median(figures[name] for figures in results[key])

    failures: dict[str, set[str]] = {}
    tables = []
    lowest: dict[str, tuple[float, str]] = {}
    for form_factor, (form_label, _) in FORM_FACTORS.items():
        base_bytes = value(("anonymous", BASELINE_LABEL, form_factor), "bytes")
        rows = []
        for role, label, factor in results:
            if factor != form_factor:
                continue
            key = (role, label, factor)
            page_bytes = value(key, "bytes")
            rows.append(
                (
                    label if role == "anonymous" else f"{role}: {label}",
                    f"`{paths[(role, label)]}`",
                    *(f"{value(key, c):.0f}" for c in CATEGORIES),
                    f"{page_bytes / 1024:,.0f} KiB",
                    f"{page_bytes / base_bytes:.2f}×",
                    *(f"{value(key, name):,.0f} ms" for name, _ in TIMINGS),
                    f"{value(key, 'cls'):.3f}",
                )
            )
            for category in CATEGORIES:
                score = value(key, category)
                if score < lowest.get(category, (101.0, ""))[0]:
                    lowest[category] = (score, f"{role} {label}, {form_factor}")
            for audits in results[key][0]["failed"].values():
                for audit in audits:
                    failures.setdefault(audit, set()).add(f"{role} {label} ({form_factor})")
        tables.append(
            f"{form_label.capitalize()}:\n\n"
            + table(
                [
                    "page",
                    "address",
                    "performance",
                    "accessibility",
                    "best practices",
                    "total byte weight",
                    "bytes ÷ sign-in page",
                    *(heading for heading, _ in TIMINGS),
                    "CLS",
                ],
                rows,
            )
        )
    failed_rows = [
        (f"`{audit}`", "; ".join(sorted(where))) for audit, where in sorted(failures.items())
    ]
    seeded_with = f"`seed_demo --seed {seed}" + (f" --students {students}`" if students else "`")
    body = "\n\n".join(
        [
            f"Lighthouse {version} (bench/lighthouse/package-lock.json), Debian's Chromium "
            "headless, one page at a time. District from "
            f"{seeded_with} (seeded in {fmt_s(seed_s)}, not timed) on PostgreSQL; gunicorn, 2 "
            "sync workers, `bench.settings` with DEBUG off and the collected static files served "
            "by whitenoise's compressed manifest storage, as in production (over plain HTTP on "
            "localhost: no TLS, no HTTP/2, no proxy). Each user signed in through the sign-in "
            "form; Lighthouse sent the session cookie with every request. Desktop: Lighthouse's "
            "desktop preset at 1366 × 768; phone: its mobile emulation and simulated slow-4G "
            "throttling at 360 × 800. Scores 0-100; total byte weight as transferred "
            "(compressed); the server's response time to the page's request as observed; FCP "
            "(first contentful paint), SI (speed index), LCP (largest contentful paint), TBT "
            "(total blocking time) and CLS (cumulative layout shift) as Lighthouse computed them "
            "under its simulated throttling (the desktop preset's fast link and CPU, the phone's "
            "slow 4G and 4× slower CPU). Baseline in the "
            "same run: the sign-in page, signed out. "
            f"{len(results) * context.repeat} Lighthouse reports in {fmt_s(elapsed_s)}"
            + (f", median of {context.repeat} runs each" if context.repeat > 1 else "")
            + (
                f" ({retries} attempt(s) that lost the trace of the load run again)"
                if retries
                else ""
            )
            + ". Reported, not asserted.",
            "Lowest scores: "
            + "; ".join(
                f"{c} {score:.0f} ({where})" if score < 100 else f"{c} 100 on every page"
                for c, (score, where) in lowest.items()
            )
            + ".",
            *tables,
            "Audits that did not pass (accessibility and best practices; first run):"
            if failed_rows
            else "Every accessibility and best-practices audit passed on every page.",
            *([table(["audit", "pages"], failed_rows)] if failed_rows else []),
        ]
    )
    return Section(
        body=body,
        summary="lowest: " + ", ".join(f"{c} {s:.0f}" for c, (s, _) in lowest.items()),
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "probe":
        probe(Path(sys.argv[2]))
    else:
        raise SystemExit("usage: python -m bench.bench_lighthouse probe <output.json>")

"""dashboard: the teacher dashboard's pages at 8 concurrent clients against gunicorn.

A teacher with seven sections and 1,000 students in all; the largest section has 150 students and
40 standards, each measured by five quizzes scored in five rounds with a recompute after each
round (so that every pair has a history to draw and an "as of" date to read). Seeded by this
module's own child (`python -m bench.bench_dashboard seed <out.json>`, under bench.settings) through
scores_record and estimates_recompute, the app's only write paths. Pages, all of the largest
section: the overview (current levels, and "as of" a past date, which reads the history), one
standard, one student's history on one standard, the student's profile (whose teacher has 1,000
students: the page with its record tab) and its assessments tab (mastery, trends, tests, scores:
fetched when opened) with its attendance and grades tabs (the profiled student has a school
year's attendance, quarter grades in seven classes and two years of transcripts), the live
"changed since" check and the levels CSV. And the overview once more in a busy district: while it
is loaded, a writer child saves a score in another section four times a second, each through
scores_record and its recompute, on a standard this section measures too.

Baseline in the same run: a plain page per page, served by the same gunicorn, that makes the same
selector calls and access-log write and answers in plain text, without templates or charts (the
views below, mounted only in this benchmark's URL configuration: gunicorn loads
`bench.bench_dashboard:application`, a Django handler that resolves against this module's
`urlpatterns`, which add the plain pages to bench.urls). Query counts, chart JSON bytes and
gzipped page sizes are taken once, in process, by the probe child.
"""

from __future__ import annotations

import contextlib
import gc
import gzip
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from bench.bench_roster import CLIENTS, WORKERS, Load, gunicorn_args, load, warm
from bench.common import (
    Context,
    Section,
    Server,
    child_env,
    fmt_ms,
    free_port,
    log,
    median,
    ratio,
    ratio_of_runs,
    run_child,
    runs_label,
    table,
)

if TYPE_CHECKING:
    import datetime as dt
    import random

    from django.http import HttpRequest

    from students.models import District, School, Student
    from students.models import Section as SchoolSection

NAME = "dashboard"
TITLE = "dashboard: teacher dashboard pages, 8 clients, gunicorn (2 workers), PostgreSQL"
ORDER = 25
DEFAULT_REPEAT = 2
SECTION_STUDENTS = 150
SECTION_STANDARDS = 40
TEACHER_STUDENTS = 1000
TEACHER_SECTIONS = 7
QUIZZES_PER_STANDARD = 5
REQUESTS = 160
SINGLE_CLIENT_REQUESTS = 30
ROUNDS = 2
TEACHER_EMAIL = "dashboard-bench-teacher@example.org"
# This module is also the URL configuration of the server it measures (see `application`).
URLCONF = "bench.bench_dashboard"
CHART_GOAL_BYTES = 100_000
PAGE_GOAL_GZIP_BYTES = 500_000
P95_GOAL_S = 0.150
# The busy district's writer: a score saved in another section this often (seconds).
WRITE_INTERVAL_S = 0.25
BUSY_LABEL = "section overview, another section saving 4 scores a second"


# --- the data (a child under bench.settings) ----------------------------------------------------


def seed(output: Path) -> None:
    """A district, a teacher of 1,000 students in seven sections, and the largest section's 40
    standards with five rounds of quizzes, scores and recomputes. JSON of the ids out."""
    import datetime as dt
    import random
    from decimal import Decimal

    import django

    django.setup()
    from allauth.mfa.models import Authenticator
    from django.utils import timezone

    from accounts.models import User
    from accounts.services import derived_access_sync
    from assessments.engine import estimates_recompute
    from assessments.models import Assessment, Standard, StandardKind
    from assessments.services import ScoreInput, scores_record
    from students import models

    rng = random.Random(2026)  # noqa: S311 - synthetic data
    today = timezone.localdate()
    district = models.District.objects.create(
        name="Bench District", source_system="bench", source_id="d"
    )
    school = models.School.objects.create(
        district=district, name="Bench Middle School", source_system="bench", source_id="s"
    )
    staff = models.Staff.objects.create(
        district=district,
        first_name="Dana",
        last_name="Bench",
        source_system="bench",
        source_id="t",
    )
    # No password: the probe signs the teacher in with force_login. Enrolled in MFA, so that the
    # staff MFA check runs on every page as in production (nobody signs in with this secret).
    teacher = User.objects.create_user(
        email=TEACHER_EMAIL, password=None, staff_record=staff, full_name="Dana Bench"
    )
    Authenticator.objects.create(
        user=teacher, type=Authenticator.Type.TOTP, data={"secret": "bench-only-not-a-secret"}
    )
    sizes = [SECTION_STUDENTS] + [
        (TEACHER_STUDENTS - SECTION_STUDENTS) // (TEACHER_SECTIONS - 1)
        + (1 if i < (TEACHER_STUDENTS - SECTION_STUDENTS) % (TEACHER_SECTIONS - 1) else 0)
        for i in range(TEACHER_SECTIONS - 1)
    ]
    sections = []
    students_by_section = []
    next_student = 0
    for index, size in enumerate(sizes):
        section = models.Section.objects.create(
            district=district,
            school=school,
            title=f"Math 7 · Period {index + 1}",
            period=str(index + 1),
            subject="Mathematics",
            source_system="bench",
            source_id=f"sec{index}",
        )
        models.SectionAssignment.objects.create(district=district, staff=staff, section=section)
        students = models.Student.objects.bulk_create(
            [
                models.Student(
                    district=district,
                    first_name=f"First{next_student + i}",
                    last_name=f"Last{(next_student + i) * 7919 % 10007:05d}",
                    student_number=f"B{next_student + i:05d}",
                    source_system="bench",
                    source_id=f"st{next_student + i}",
                )
                for i in range(size)
            ]
        )
        next_student += size
        models.Enrollment.objects.bulk_create(
            [models.Enrollment(district=district, student=s, section=section) for s in students]
        )
        models.StudentSchoolMembership.objects.bulk_create(
            [
                models.StudentSchoolMembership(
                    district=district, student=s, school=school, grade_level="07"
                )
                for s in students
            ]
        )
        sections.append(section)
        students_by_section.append(students)
    derived_access_sync()

    big, roster = sections[0], students_by_section[0]
    clusters = [
        Standard.objects.create(
            district=district,
            code=f"BENCH.7.C{c}",
            kind=StandardKind.CLUSTER,
            description=f"Cluster {c}",
            subject="Mathematics",
        )
        for c in range(8)
    ]
    standards = [
        Standard.objects.create(
            district=district,
            code=f"BENCH.7.C{n // 5}.{n % 5 + 1}",
            description=f"Standard {n + 1} of the benchmark",
            subject="Mathematics",
            parent=clusters[n // 5],
        )
        for n in range(SECTION_STANDARDS)
    ]
    ability = {s.pk: rng.gauss(0.0, 1.0) for s in roster}
    first_day = today - dt.timedelta(days=7 * QUIZZES_PER_STANDARD * 2)
    estimate_ids: set[int] = set()
    scores = 0
    for round_number in range(QUIZZES_PER_STANDARD):
        inputs = []
        for n, standard in enumerate(standards):
            day = first_day + dt.timedelta(days=14 * round_number + n % 10)
            quiz = Assessment.objects.create(
                district=district,
                section=big,
                title=f"Quiz {round_number + 1}: {standard.code}",
                kind="quiz" if round_number < QUIZZES_PER_STANDARD - 1 else "test",
                max_points=10,
                due_on=day,
                source_system="bench",
                source_id=f"q{round_number}-{n}",
            )
            quiz.standards.add(standard)
            for student in roster:
                chance = 1 / (1 + 2.718 ** -(ability[student.pk] + 0.4 * round_number - 0.8))
                missing = rng.random() < 0.03
                inputs.append(
                    ScoreInput(
                        student_id=student.pk,
                        assessment_id=quiz.pk,
                        scored_on=day,
                        points=None
                        if missing
                        else Decimal(round(10 * chance + rng.gauss(0, 1.5)))
                        .max(Decimal(0))
                        .min(Decimal(10)),
                        status="missing" if missing else "scored",
                    )
                )
        result = scores_record(scores=inputs, enqueue=False)
        estimate_ids.update(result.estimate_ids)
        ordered = sorted(result.estimate_ids)
        for start in range(0, len(ordered), 500):
            estimates_recompute(ordered[start : start + 500])
        scores += len(inputs)
        print(f"round {round_number + 1}: {len(inputs)} scores", file=sys.stderr, flush=True)
    _profile_records(district, school, roster[0], sections, today, rng)
    # A quiz in another section, whose scores the writer saves during the "busy district" load,
    # on a standard the largest section measures too.
    busy_quiz = Assessment.objects.create(
        district=district,
        section=sections[1],
        title="Quiz in period 2",
        kind="quiz",
        max_points=10,
        due_on=today,
        source_system="bench",
        source_id="busy",
    )
    busy_quiz.standards.add(standards[0])
    # Statistics, as a district's database has them (autovacuum gathers them within minutes):
    # without them the planner guesses one row per table and picks poor plans for the pages.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    output.write_text(
        json.dumps(
            {
                "section_id": big.pk,
                "student_id": roster[0].pk,
                "standard_id": standards[0].pk,
                "teacher_students": next_student,
                "scores": scores,
                "estimates": len(estimate_ids),
                "as_of": (today - dt.timedelta(days=30)).isoformat(),
                "busy_assessment_id": busy_quiz.pk,
                "busy_student_ids": [s.pk for s in students_by_section[1]],
            }
        )
    )


def _profile_records(
    district: District,
    school: School,
    student: Student,
    sections: list[SchoolSection],
    today: dt.date,
    rng: random.Random,
) -> None:
    """What an Ed-Fi import brings for the profiled student, so that the profile's attendance
    and grades tabs read a full record: this school year's attendance to date (a day each
    weekday, a few absences and tardies), quarter grades in seven classes with four report
    cards, and two earlier years' transcripts."""
    import datetime as dt
    from decimal import Decimal

    from students import models

    ends = today.year + 1 if today.month >= 8 else today.year
    first_day = dt.date(ends - 1, 8, 20)
    categories = ["present"] * 94 + ["excused_absence"] * 2 + ["unexcused_absence"] * 2
    categories += ["tardy"] * 2
    day, events = first_day, []
    while day <= today:
        if day.weekday() < 5:
            events.append(
                models.AttendanceEvent(
                    district=district,
                    student=student,
                    school=school,
                    event_date=day,
                    category=rng.choice(categories),
                    school_year=ends,
                )
            )
        day += dt.timedelta(days=1)
    models.AttendanceEvent.objects.bulk_create(events)
    periods = [
        models.AcademicSession.objects.create(
            district=district,
            school=school,
            title=f"Quarter {q + 1}",
            kind=models.SessionKind.GRADING_PERIOD,
            school_year=ends,
            start_date=first_day + dt.timedelta(days=63 * q),
            end_date=first_day + dt.timedelta(days=63 * q + 60),
        )
        for q in range(4)
    ]
    for period in periods:
        grades = models.Grade.objects.bulk_create(
            [
                models.Grade(
                    district=district,
                    student=student,
                    section=section,
                    grading_period=period,
                    school_year=ends,
                    grade_type="Grading Period",
                    letter_grade=rng.choice("ABBBCCD"),
                    numeric_grade=Decimal(rng.randint(62, 99)),
                )
                for section in sections
            ]
        )
        card = models.ReportCard.objects.create(
            district=district,
            student=student,
            grading_period=period,
            school_year=ends,
            gpa_grading_period=Decimal("3.10"),
            days_absent=Decimal(2),
            days_in_attendance=Decimal(43),
            days_tardy=1,
        )
        card.grades.set(grades)
    courses = [
        models.Course.objects.create(
            district=district, school=school, title=f"Course {c + 1}", course_code=f"C{c + 1}"
        )
        for c in range(7)
    ]
    for years_ago in (1, 2):
        record = models.AcademicRecord.objects.create(
            district=district,
            student=student,
            school_year=ends - years_ago,
            cumulative_gpa=Decimal("3.05"),
        )
        models.CourseTranscript.objects.bulk_create(
            [
                models.CourseTranscript(
                    district=district,
                    student=student,
                    academic_record=record,
                    course=course,
                    school=school,
                    attempt_result="Pass",
                    credits_earned=Decimal(1),
                    final_letter_grade=rng.choice("ABBC"),
                )
                for course in courses
            ]
        )


# --- plain pages and the URL configuration gunicorn serves --------------------------------------


def _plain_views() -> list[Any]:
    from django.contrib.auth.decorators import login_required
    from django.http import HttpResponse
    from django.urls import path

    from accounts.access import section_for_user, student_for_user
    from assessments.methods import policy_for_district
    from dashboard import selectors
    from dashboard.forms import OverviewFilterForm
    from privacy.services import log_shown
    from students.selectors import (
        section_teachers,
        student_cohorts_programs,
        student_record,
        student_sections,
    )

    def text(message: str) -> HttpResponse:
        return HttpResponse(message + "\n", content_type="text/plain")

    @login_required
    def overview(request: HttpRequest, pk: int) -> HttpResponse:
        """section_overview's reads and write, without the figure, tables or template."""
        access = section_for_user(request.user, pk)
        filters = OverviewFilterForm(request.GET).filters()
        mastery = selectors.section_mastery(access.section, filters)
        log_shown(
            request,
            access,
            what="section roster",
            students=mastery.students,
        )
        flags = selectors.attention_list(
            mastery,
            selectors.missing_work(access.section, [s.pk for s in mastery.students], filters),
        )
        teachers = section_teachers(access.section)
        return text(
            f"{len(mastery.students)} students, {len(mastery.columns)} standards, "
            f"{len(mastery.cells)} cells, {len(flags)} flags, {len(teachers)} teachers"
        )

    @login_required
    def standard(request: HttpRequest, pk: int, standard_id: int) -> HttpResponse:
        access = section_for_user(request.user, pk)
        view = selectors.standard_in_section(access.section, standard_id)
        log_shown(
            request,
            access,
            what="standard in section",
            students=[e.student for e in view.roster],
        )
        groups = selectors.level_groups(view)
        return text(f"{len(view.roster)} students, {len(groups)} groups")

    @login_required
    def student_standard(
        request: HttpRequest, pk: int, student_id: int, standard_id: int
    ) -> HttpResponse:
        access = section_for_user(request.user, pk)
        student = selectors.enrolled_student(access.section, student_id)
        history = selectors.student_standard_history(access.section, student, standard_id)
        log_shown(
            request,
            access,
            what="student history on a standard",
            students=[student],
        )
        return text(f"{len(history.history)} estimates, {len(history.evidence)} scores")

    @login_required
    def profile(request: HttpRequest, pk: int) -> HttpResponse:
        """The profile page's reads (its header and record tab) and write, as text."""
        access = student_for_user(request.user, pk)
        record = student_record(request.user, access)
        cohorts = student_cohorts_programs(access, record)
        policy_for_district(access.student.district_id, with_fit=False)
        log_shown(
            request,
            access,
            what="student record",
            students=[access.student],
        )
        return text(f"{len(record.enrollments)} classes, {len(cohorts.cohorts)} cohorts")

    @login_required
    def assessments_tab(request: HttpRequest, pk: int) -> HttpResponse:
        """The profile's assessments tab: its reads and write, as text."""
        access = student_for_user(request.user, pk)
        sections = student_sections(access.student)
        mastery = selectors.student_mastery(
            access.student, [s.pk for s in sections], {s.pk: s.title for s in sections}
        )
        log_shown(
            request,
            access,
            what="student mastery and scores",
            students=[access.student],
        )
        return text(f"{len(mastery.standards)} standards, {len(mastery.scores)} scores")

    prefix = "bench/plain/dashboard/"
    return [
        path(f"{prefix}sections/<int:pk>/", overview, name="plain_overview"),
        path(
            f"{prefix}sections/<int:pk>/standards/<int:standard_id>/",
            standard,
            name="plain_standard",
        ),
        path(
            f"{prefix}sections/<int:pk>/students/<int:student_id>/standards/<int:standard_id>/",
            student_standard,
            name="plain_student_standard",
        ),
        path(f"{prefix}students/<int:pk>/", profile, name="plain_profile"),
        path(
            f"{prefix}students/<int:pk>/tabs/assessments/",
            assessments_tab,
            name="plain_assessments_tab",
        ),
    ]


def __getattr__(name: str) -> Any:
    # Django reads `urlpatterns` only when it resolves a request of this benchmark's handler:
    # built lazily, so that discovering the benchmark (bench/run.py) needs no Django setup.
    if name == "urlpatterns":
        from bench.urls import urlpatterns as bench_urlpatterns

        patterns = [*_plain_views(), *bench_urlpatterns]
        globals()["urlpatterns"] = patterns
        return patterns
    raise AttributeError(name)


_handler = None


def application(environ: dict, start_response: Any) -> Any:
    """The app's WSGI handler, resolving against this module's URLs (the app's and the plain
    pages): gunicorn serves `bench.bench_dashboard:application` under bench.settings."""
    global _handler
    if _handler is None:
        import django
        from django.core.handlers.wsgi import WSGIHandler

        django.setup(set_prefix=False)

        class Handler(WSGIHandler):
            def get_response(self, request):
                request.urlconf = URLCONF
                return super().get_response(request)

        _handler = Handler()
        gc.freeze()  # as config/wsgi.py does after loading
    return _handler(environ, start_response)


# --- what the dashboard benchmarks share (bench_demo_dashboard measures the demo's sections) ----


def section_pages(
    section_id: int, student_id: int, standard_id: int
) -> list[tuple[str, str, str | None]]:
    """A section's teacher pages, each (label, URL, its plain page's URL or None): the overview,
    one standard, one student's history on it, and that student's profile with its tabs."""
    base = f"/sections/{section_id}/"
    plain = f"/bench/plain/dashboard/sections/{section_id}/"
    profile = f"/students/{student_id}/"
    plain_profile = f"/bench/plain/dashboard/students/{student_id}/"
    return [
        ("section overview", base, plain),
        ("standard view", f"{base}standards/{standard_id}/", f"{plain}standards/{standard_id}/"),
        (
            "student on a standard",
            f"{base}students/{student_id}/standards/{standard_id}/",
            f"{plain}students/{student_id}/standards/{standard_id}/",
        ),
        ("student profile", profile, plain_profile),
        (
            "profile's assessments tab",
            f"{profile}tabs/assessments/",
            f"{plain_profile}tabs/assessments/",
        ),
        ("profile's attendance tab", f"{profile}tabs/attendance/", None),
        ("profile's grades tab", f"{profile}tabs/grades/", None),
    ]


def page_figures(client: Any, label: str, url: str, plain_url: str | None) -> dict[str, Any]:
    """One page and its plain page, fetched in process by a signed-in test client (under
    `override_settings(ROOT_URLCONF=URLCONF)`): queries, bytes, gzipped bytes, chart JSON bytes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    target: dict[str, Any] = {"label": label, "url": url, "plain_url": plain_url}
    for kind, address in (("page", url), ("plain", plain_url)):
        if address is None:
            continue
        address = address.replace("NOW", "2099-01-01T00:00:00%2B00:00")
        client.get(address)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(address)
        if response.status_code != 200:
            raise SystemExit(f"GET {address} answered {response.status_code}")
        target[f"{kind}_queries"] = len(captured)
        target[f"{kind}_bytes"] = len(response.content)
        target[f"{kind}_gzip_bytes"] = len(gzip.compress(response.content))
        if kind == "page" and response.context and "figure_json" in response.context:
            target["chart_bytes"] = len(response.context["figure_json"])
        if kind == "page" and response.context and "trend_figures" in response.context:
            target["chart_bytes"] = sum(len(f) for _, _, f in response.context["trend_figures"])
    return target


@dataclass
class Measured:
    """Each URL's loads, one per run: at CLIENTS clients (`runs`) and at 1 client (`single`),
    keyed by (target index, "page" or "plain")."""

    runs: dict[tuple[int, str], list[Load]] = field(default_factory=dict)
    single: dict[tuple[int, str], list[Load]] = field(default_factory=dict)

    def has(self, index: int, kind: str) -> bool:
        return (index, kind) in self.runs

    def figure(self, index: int, kind: str, name: str) -> list[float]:
        """One figure of each run: "1 client median ...", "1 client p95", "median latency",
        "p95 latency" or "requests per second"."""
        if name.startswith("1 client"):
            loads = self.single[(index, kind)]
            return [r.median_s if "median" in name else r.p95_s for r in loads]
        loads = self.runs[(index, kind)]
        return {
            "median latency": [r.median_s for r in loads],
            "p95 latency": [r.p95_s for r in loads],
            "requests per second": [r.rps for r in loads],
        }[name]


def measure_served(
    database_url: str,
    log_path: Path,
    targets: list[dict[str, Any]],
    cookie: str,
    *,
    repeat: int,
    requests: int,
    around: Callable[[dict[str, Any]], AbstractContextManager[object]] | None = None,
) -> Measured:
    """`measure` against this module's application under gunicorn (the staff MFA check on, as in
    production), started on a free port for the measurement and stopped after it."""
    port = free_port()
    with Server(
        gunicorn_args(port, "bench.bench_dashboard:application"),
        env=child_env(database_url, BENCH_CONN_MAX_AGE="60", BENCH_REQUIRE_STAFF_MFA="1"),
        log_path=log_path,
    ) as server:
        server.wait_until_listening(port)
        return measure(port, targets, cookie, repeat=repeat, requests=requests, around=around)


def measure(
    port: int,
    targets: list[dict[str, Any]],
    cookie: str,
    *,
    repeat: int,
    requests: int,
    single_requests: int = SINGLE_CLIENT_REQUESTS,
    around: Callable[[dict[str, Any]], AbstractContextManager[object]] | None = None,
) -> Measured:
    """Warm every target's page and plain page, then per run load each at CLIENTS clients and at
    1 client, in ROUNDS rounds whose order is reversed every round (so that a burst of other work
    lands on page and baseline alike). `around(target)` wraps each of a target's loads."""
    plan = []
    for index, target in enumerate(targets):
        # The client's last check a moment ago: what an open page asks every 4 s.
        plan.append((index, "page", target["url"].replace("NOW", "2099-01-01T00:00:00%2B00:00")))
        if target["plain_url"]:
            plan.append((index, "plain", target["plain_url"]))
    for _, _, path in plan:
        warm(port, path, cookie)
    measured = Measured()
    for attempt in range(1, repeat + 1):
        chunks: dict[tuple[int, str], list[Load]] = {}
        ones: dict[tuple[int, str], list[Load]] = {}
        for round_number in range(ROUNDS):
            for index, kind, path in plan if round_number % 2 else list(reversed(plan)):
                key = (index, kind)
                with around(targets[index]) if around else nullcontext():
                    chunks.setdefault(key, []).append(
                        load(port, path, cookie, clients=CLIENTS, requests=requests // ROUNDS)
                    )
                    ones.setdefault(key, []).append(
                        load(port, path, cookie, clients=1, requests=single_requests // ROUNDS)
                    )
        for key in chunks:
            at_load, one = Load.merge(chunks[key]), Load.merge(ones[key])
            measured.runs.setdefault(key, []).append(at_load)
            measured.single.setdefault(key, []).append(one)
            log(
                f"run {attempt} {targets[key[0]]['label']} {key[1]}: 1 client median "
                f"{one.median_s * 1000:.1f} ms p95 {one.p95_s * 1000:.1f} ms; {CLIENTS} clients "
                f"p95 {at_load.p95_s * 1000:.1f} ms, {at_load.rps:.1f} req/s"
            )
    return measured


# --- the probe ----------------------------------------------------------------------------------


def probe(seeded_path: Path, output: Path) -> None:
    """Sign the teacher in; per page: queries, bytes, gzipped bytes and chart JSON bytes."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.staticfiles import finders
    from django.test import Client
    from django.test.utils import override_settings, setup_test_environment

    from accounts.models import User

    setup_test_environment()
    seeded = json.loads(seeded_path.read_text())
    section, student, standard = seeded["section_id"], seeded["student_id"], seeded["standard_id"]
    teacher = User.objects.get(email=TEACHER_EMAIL)
    client = Client()
    client.force_login(teacher)
    base = f"/sections/{section}/"
    pages = section_pages(section, student, standard)
    # Pages only this benchmark measures: the overview as of a past date and in a busy district
    # (after the overview), the live check and the CSV (at the end).
    pages[1:1] = [
        ("section overview, as of a past date", f"{base}?as_of={seeded['as_of']}", None),
        (BUSY_LABEL, base, None),
    ]
    pages += [
        ("live check (nothing changed)", f"{base}changes.json?since=NOW", None),
        ("levels CSV", f"{base}mastery.csv", None),
    ]
    with override_settings(ROOT_URLCONF=URLCONF):
        found = [page_figures(client, label, url, plain_url) for label, url, plain_url in pages]
    statics = {}
    for name in ("css/trellis.css", "css/dashboard.css", "js/dashboard.js"):
        statics[name] = len(gzip.compress(Path(cast(str, finders.find(name))).read_bytes()))
    plotly = Path(cast(str, finders.find("vendor/plotly/plotly-basic-4.1.1.min.js"))).read_bytes()
    output.write_text(
        json.dumps(
            {
                "sessionid": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "targets": found,
                "static_gzip": statics,
                "plotly_bytes": len(plotly),
                "plotly_gzip_bytes": len(gzip.compress(plotly)),
                "seeded": seeded,
            }
        )
    )


# --- the benchmark ------------------------------------------------------------------------------


@contextlib.contextmanager
def writing(
    database_url: str, seeded_path: Path, workdir: Path, saved: list[int]
) -> Iterator[None]:
    """The busy district's writer (`write`) running for the duration of the block; how many
    scores it saved is appended to `saved`."""
    import subprocess
    import time

    count_path = workdir / "dashboard-writer-count.txt"
    count_path.unlink(missing_ok=True)
    with open(workdir / "dashboard-writer.log", "ab") as log_file:
        writer = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            [
                sys.executable,
                "-m",
                "bench.bench_dashboard",
                "write",
                str(seeded_path),
                str(count_path),
            ],
            env=child_env(database_url),
            stdout=log_file,
            stderr=log_file,
        )
        time.sleep(3)  # Django set up and the first scores saved before the load starts
        try:
            yield
        finally:
            writer.terminate()
            writer.wait(timeout=30)
            if not count_path.exists():
                raise SystemExit("the busy district's writer failed: see dashboard-writer.log")
            saved.append(int(count_path.read_text()))


def run(context: Context) -> Section:
    requests = context.option("requests", REQUESTS)
    databases = context.databases
    database = databases.migrated("dashboard")
    url = databases.url(database)
    seeded_path = context.workdir / "dashboard-seed.json"
    log("seeding 1,000 students, 150 × 40 in the largest section, 5 rounds of scores")
    seeded_run = run_child(
        [sys.executable, "-m", "bench.bench_dashboard", "seed", str(seeded_path)],
        env=child_env(url),
        log_path=context.workdir / "dashboard-seed.log",
    ).check("the dashboard seed")
    log(f"seeded in {seeded_run.wall_s:.1f} s")
    probe_path = context.workdir / "dashboard-probe.json"
    run_child(
        [sys.executable, "-m", "bench.bench_dashboard", "probe", str(seeded_path), str(probe_path)],
        env=child_env(url, BENCH_REQUIRE_STAFF_MFA="1"),
        log_path=context.workdir / "dashboard-probe.log",
    ).check("the dashboard probe")
    found = json.loads(probe_path.read_text())
    cookie = f"sessionid={found['sessionid']}"
    targets = found["targets"]
    seeded = found["seeded"]

    databases.checkpoint()
    scores_saved: list[int] = []

    def busy_writer(target: dict[str, Any]) -> AbstractContextManager[object]:
        if target["label"] == BUSY_LABEL:
            return writing(url, seeded_path, context.workdir, scores_saved)
        return nullcontext()

    measured = measure_served(
        url,
        context.workdir / "dashboard-gunicorn.log",
        targets,
        cookie,
        repeat=context.repeat,
        requests=requests,
        around=busy_writer,
    )
    databases.release(database)

    figure = measured.figure

    names = [
        "1 client median (server time)",
        "1 client p95",
        "median latency",
        "p95 latency",
        "requests per second",
    ]
    rows = []
    sizes = []
    summary = []
    for index, target in enumerate(targets):
        has_plain = measured.has(index, "plain")
        for name in names:
            values = figure(index, "page", name)
            shown = (
                f"{median(values):.1f}" if name == "requests per second" else fmt_ms(median(values))
            )
            if has_plain:
                base = figure(index, "plain", name)
                base_shown = (
                    f"{median(base):.1f}" if name == "requests per second" else fmt_ms(median(base))
                )
                rows.append((target["label"], name, shown, base_shown, ratio_of_runs(values, base)))
            else:
                rows.append((target["label"], name, shown, "", ""))
        rows.append(
            (
                target["label"],
                "queries per request",
                target["page_queries"],
                target.get("plain_queries", ""),
                ratio(target["page_queries"], target["plain_queries"]) if has_plain else "",
            )
        )
        sizes.append(
            (
                target["label"],
                f"{target['page_bytes']:,}",
                f"{target['page_gzip_bytes']:,}",
                f"{target['chart_bytes']:,}" if "chart_bytes" in target else "—",
            )
        )
        p95_8 = median(figure(index, "page", "p95 latency"))
        summary.append(f"{target['label']}: p95 {fmt_ms(p95_8)} at 8 clients")
    static_gzip = found["static_gzip"]
    own_static = sum(static_gzip.values())
    overview = targets[0]
    page_total = overview["page_gzip_bytes"] + own_static
    overview_p95 = median(figure(0, "page", "p95 latency"))
    overview_single_p95 = median(figure(0, "page", "1 client p95"))
    busy_index = next(i for i, t in enumerate(targets) if t["label"] == BUSY_LABEL)
    busy_p95 = median(figure(busy_index, "page", "p95 latency"))
    body = "\n\n".join(
        [
            f"A teacher of {seeded['teacher_students']:,} students in {TEACHER_SECTIONS} sections; "
            f"the largest has {SECTION_STUDENTS} students × {SECTION_STANDARDS} standards "
            f"({seeded['scores']:,} scores in {QUIZZES_PER_STANDARD} rounds, each followed by a "
            f"recompute: {seeded['estimates']:,} estimates with their history), seeded through "
            "`scores_record` and `estimates_recompute` (not timed). The profiled student also has "
            "what an Ed-Fi import brings: this school year's attendance to date, quarter grades in "
            "7 classes with 4 report cards, and 2 earlier years' transcripts. gunicorn, "
            f"{WORKERS} sync workers, `bench.settings` (DEBUG off, `CONN_MAX_AGE` 60, the staff "
            "MFA check on as in production, the teacher enrolled), serving "
            "`bench.bench_dashboard:application` (the app's URLs plus the plain pages) on "
            f"127.0.0.1. Per URL and run: {requests} requests from {CLIENTS} client threads and "
            f"{SINGLE_CLIENT_REQUESTS} from 1 client (its latency is the server time without "
            f"queueing), in {ROUNDS} interleaved rounds, after untimed warm-up requests. The load "
            f"generator shares the machine's {context.machine.cores} cores with gunicorn and "
            "PostgreSQL. Baseline: a plain page making the same selector calls and access-log "
            "write, answered in plain text without templates or charts; a ratio is the median of "
            "each run's own ratio. p95 is nearest-rank. Queries counted once in process "
            "(session and user included).",
            table(
                [
                    "page",
                    "figure",
                    f"dashboard page ({runs_label(context.repeat)})",
                    "plain page (baseline)",
                    "ratio",
                ],
                rows,
            ),
            "Sizes (one response each; gzip level 9 in process, as a compressing proxy would "
            "send it):",
            table(["page", "bytes", "gzipped", "chart JSON bytes"], sizes),
            f"- The overview's own requests with plotly.js cached: page "
            f"{overview['page_gzip_bytes']:,} + our CSS and script {own_static:,} = "
            f"{page_total:,} bytes gzipped (goal ≤ {PAGE_GOAL_GZIP_BYTES:,}). plotly.js "
            f"(basic bundle, cached a year by whitenoise's hashed names in production): "
            f"{found['plotly_bytes']:,} bytes, {found['plotly_gzip_bytes']:,} gzipped, once.\n"
            f"- Chart JSON of the 150 × 40 overview: {overview.get('chart_bytes', 0):,} bytes "
            f"(goal ≤ {CHART_GOAL_BYTES:,}).\n"
            f"- Overview p95: {fmt_ms(overview_single_p95)} from 1 client, "
            f"{fmt_ms(overview_p95)} at {CLIENTS} clients (goal < {fmt_ms(P95_GOAL_S)} at that "
            "load; at 8 clients on 2 shared cores most of it is queueing).",
            f"- In a busy district (another section saving a score every {WRITE_INTERVAL_S} s, "
            f"{sum(scores_saved):,} scores saved through `scores_record` and their recompute "
            f"over the {len(scores_saved)} busy loads): overview p95 {fmt_ms(busy_p95)} at "
            f"{CLIENTS} clients, {ratio(busy_p95, overview_p95)} the quiet district's. Each "
            "write retires the cached grids of the sections it touches only.",
        ]
    )
    return Section(body=body, summary="; ".join(summary))


def write(seeded_path: Path, count_path: Path) -> None:
    """Save a score in another section of the district every WRITE_INTERVAL_S, each through
    scores_record with its recompute (eager here, as in the demo), until terminated: a district
    where teachers are entering scores while this one reads the section page."""
    import random
    import signal
    import time
    from decimal import Decimal

    import django

    django.setup()
    from django.utils import timezone

    from assessments.services import ScoreInput, scores_record

    seeded = json.loads(seeded_path.read_text())
    rng = random.Random(7)  # noqa: S311 - synthetic data
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    saved = 0
    while not stop:
        scores_record(
            scores=[
                ScoreInput(
                    student_id=rng.choice(seeded["busy_student_ids"]),
                    assessment_id=seeded["busy_assessment_id"],
                    scored_on=timezone.localdate(),
                    points=Decimal(rng.randint(0, 10)),
                )
            ]
        )
        saved += 1
        time.sleep(WRITE_INTERVAL_S)
    count_path.write_text(str(saved))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "seed":
        seed(Path(sys.argv[2]))
    elif len(sys.argv) == 4 and sys.argv[1] == "write":
        write(Path(sys.argv[2]), Path(sys.argv[3]))
    elif len(sys.argv) == 4 and sys.argv[1] == "probe":
        probe(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        raise SystemExit(
            "usage: python -m bench.bench_dashboard seed <out.json> | probe <seed.json> <out.json>"
        )

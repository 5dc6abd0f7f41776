"""lessons: the plan page and the calendars of a teacher with 150 students in 6 sections (issue 22).

The district comes from `manage.py seed_demo --students 1800` in a fresh PostgreSQL database (not
timed; `--opt lessons.students=N`). Then this module's seed child (`python -m bench.bench_lessons
seed <out.json>`, under bench.settings) gives a new teacher, in the school of the demo teacher's
section that measures the most standards, 6 sections of that section's course with 30, 26, 25,
24, 23 and 22 new students (150), and a second teacher one section of 10 (the small setup the
query counts are compared with). Each section is measured on up to 8 standards of the template
section's grade (those it measures, then their siblings; the demo's sixth grade has 6), three
quizzes each over the last three months (scores_record and estimates_recompute: the app's own
write paths), then planned every school day of those three months and the next
week through the lessons services, as the planner writes plans: plan_create on two of the
standards, groups_build on every other day's first standard, an exit ticket every fourth day
(exit_ticket_create, its scores through scores_record and a recompute), plan_mark_taught for
every day gone. The small teacher has five plans, all in the measured month. Then `VACUUM
(ANALYZE)`.

Pages, as the teacher (enrolled in MFA: the staff MFA check runs as in production): the plan page
(`lessons:plan_detail`, with its groups, who would move, the exit ticket's results and
suggestions) of the 30-student section's plan in the middle of the measured week, the section's
calendar (`lessons:section_calendar`) and the teacher's (`lessons:teacher_calendar`) for that week
and for the month before this one. Each from 1 client (the server time) and from 8, against
gunicorn with 2 sync workers serving `bench.bench_dashboard:application` (bench_dashboard's
`measure_served`). Baseline in the same runs: a plain page (bench/views.py `plain_plan`) that does
what every plan page does first: the plan's access check and the read's log of its section's
students.

The probe child counts each page's queries for the large setup and for the small one (the
10-student section's plan and calendars, the teacher with 5 plans): the run fails when they
differ, or when a page does not answer 200 (a page still a stub answers 404: the message names
it). It profiles each page in process (bench_school_rollup.profile_page), and times groups_build
in process for the 30-student section's next plan on 5 standards: each call committed, each
replacing the groups the last one built, as the planner's "make groups" does.

    python -m bench.bench_lessons seed <output.json>
    python -m bench.bench_lessons probe <seed.json> <output.json>

A quick check of the whole path: `bench/run.py --only lessons --opt lessons.students=600
--repeat 1 --output /tmp/lessons.md`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    SEED_TIMEOUT_S,
    _cell,
    seeded_demo_database,
    vacuum_analyze,
)
from bench.bench_roster import CLIENTS, WORKERS
from bench.bench_school_rollup import PROFILE_RUNS, profile_page, sql_by_caller
from bench.common import (
    BenchError,
    Context,
    Section,
    child_env,
    fmt_ms,
    fmt_s,
    load_average,
    log,
    median,
    percentile,
    ratio_of_runs,
    run_child,
    runs_label,
    table,
)

if TYPE_CHECKING:
    import random

    from accounts.models import User
    from assessments.models import Standard
    from lessons.models import LessonPlan
    from students.models import Section as SchoolSection
    from students.models import Student

NAME = "lessons"
TITLE = (
    "lessons: the plan page and the calendars of a teacher with 150 students in 6 sections "
    "(`seed_demo --students 1800`), 1 and 8 clients, gunicorn (2 workers), PostgreSQL; "
    "building groups"
)
ORDER = 30
DEFAULT_REPEAT = 2
DEFAULT_STUDENTS = 1800
DEMO_TEACHER_EMAIL = "teacher@example.org"
TEACHER_EMAIL = "lessons-bench-teacher@example.org"
SMALL_TEACHER_EMAIL = "lessons-bench-small@example.org"
# The teacher's sections (150 students; the first is the 30-student section the issue names) and
# the small teacher's one.
SECTION_SIZES = (30, 26, 25, 24, 23, 22)
SMALL_SECTION_SIZE = 10
SMALL_PLANS = 5
STANDARDS = 8  # at most: as many as the template's grade has, and at least GROUPS_STANDARDS
QUIZZES_PER_STANDARD = 3
PLAN_WEEKS = 13
GROUPS_EVERY = 2  # groups built on every other school day's plan
EXIT_TICKET_EVERY = 4  # an exit ticket every fourth school day
EXIT_TICKET_POINTS = 5
# The goals: p95 under 150 ms at 8 clients; groups for a 30-student section on 5
# standards in under 50 ms of server time.
P95_GOAL_S = 0.150
GROUPS_STANDARDS = 5
GROUPS_GOAL_S = 0.050
GROUPS_REPETITIONS = 20
PLAIN_LABEL = "access check and the read's log (plain, baseline)"
# Where a page's time goes: (what, a part of the file's path, function), as cProfile names them.
PARTS = (
    ("plan_for_user", "lessons/selectors.py", "plan_for_user"),
    ("plan_detail", "lessons/selectors.py", "plan_detail"),
    ("planner_panels", "dashboard/views/planner/groups.py", "planner_panels"),
    ("group_moves_proposed", "lessons/selectors.py", "group_moves_proposed"),
    ("exit_ticket_results", "lessons/selectors.py", "exit_ticket_results"),
    ("suggestions", "lessons/selectors.py", "suggestions"),
    ("plans_of_section", "lessons/selectors.py", "plans_of_section"),
    ("plans_of_teacher", "lessons/selectors.py", "plans_of_teacher"),
    ("log_shown", "privacy/services.py", "log_shown"),
    ("template", "django/shortcuts.py", "render"),
)
FIRST_NAMES = (
    "Amara", "Ben", "Chloe", "Diego", "Elif", "Farah", "Gabriel", "Hana", "Isaac", "Jada",
    "Kofi", "Lucia", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Samir", "Tessa",
)  # fmt: skip
LAST_NAMES = (
    "Abbott", "Baptiste", "Castillo", "Dubois", "Eriksen", "Fujimoto", "Garcia", "Haddad",
    "Ivanova", "Johnson", "Kowalski", "Lindqvist", "Mensah", "Nguyen", "Okafor", "Petrov",
    "Quintero", "Rahman", "Schmidt", "Tanaka", "Usman", "Vasquez", "Whitfield", "Yilmaz",
)  # fmt: skip


# --- the days measured ---------------------------------------------------------------------------


def school_days(first: dt.date, last: dt.date) -> list[dt.date]:
    days = (first + dt.timedelta(days=n) for n in range((last - first).days + 1))
    return [day for day in days if day.weekday() < 5]


def measured_days(today: dt.date) -> dict[str, dt.date]:
    """The month measured (the one before today's, every school day of it planned), the week (its
    last full Monday-to-Friday week) and the plan shown (that week's Wednesday)."""
    month_last = today.replace(day=1) - dt.timedelta(days=1)
    month_first = month_last.replace(day=1)
    monday = month_last - dt.timedelta(days=month_last.weekday())
    if monday + dt.timedelta(days=4) > month_last:
        monday -= dt.timedelta(days=7)
    return {
        "month_first": month_first,
        "month_last": month_last,
        "week_first": monday,
        "week_last": monday + dt.timedelta(days=4),
        "plan_day": monday + dt.timedelta(days=2),
    }


# --- the data (a child under bench.settings) ----------------------------------------------------


def _teacher(district: Any, email: str, first: str, last: str, key: str) -> User:
    """A teacher with a login provisioned by the product's service, enrolled in MFA so that the
    staff MFA check runs on every page as in production (force_login signs in; nobody signs in
    with this secret)."""
    from allauth.mfa.models import Authenticator

    from accounts.services import staff_login_provision
    from students.models import Staff

    staff = Staff.objects.create(
        district=district, first_name=first, last_name=last, source_system="bench", source_id=key
    )
    user = staff_login_provision(staff=staff, email=email)
    Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": "bench-only-not-a-secret"}
    )
    return user


def _sections(
    template: SchoolSection, user: User, sizes: tuple[int, ...], key: str, first_number: int
) -> list[tuple[SchoolSection, list[Student]]]:
    """New sections of the template's course, taught by the user, each with new students."""
    from students import models

    district, school = template.district, template.school
    staff = models.Staff.objects.get(user=user)
    grade = (
        models.StudentSchoolMembership.objects.filter(
            student__enrollments__section=template, school=school
        )
        .values_list("grade_level", flat=True)
        .first()
        or "07"
    )
    made = []
    number = first_number
    for index, size in enumerate(sizes):
        section = models.Section.objects.create(
            district=district,
            school=school,
            course=template.course,
            session=template.session,
            title=f"{template.title.split(' · ')[0]} · Lessons bench {key}{index + 1}",
            period=str(index + 1),
            subject=template.subject,
            grade_levels=template.grade_levels,
            source_system="bench",
            source_id=f"lessons-{key}{index}",
        )
        models.SectionAssignment.objects.create(
            district=district, staff=staff, section=section, is_primary=True
        )
        students = models.Student.objects.bulk_create(
            [
                models.Student(
                    district=district,
                    first_name=FIRST_NAMES[(number + i) % len(FIRST_NAMES)],
                    last_name=LAST_NAMES[(number + i) * 7 % len(LAST_NAMES)]
                    + f"-{(number + i) % 97:02d}",
                    student_number=f"LB{number + i:05d}",
                    source_system="bench",
                    source_id=f"lessons-st{number + i}",
                )
                for i in range(size)
            ]
        )
        number += size
        models.Enrollment.objects.bulk_create(
            [models.Enrollment(district=district, student=s, section=section) for s in students]
        )
        models.StudentSchoolMembership.objects.bulk_create(
            [
                models.StudentSchoolMembership(
                    district=district, student=s, school=school, grade_level=grade
                )
                for s in students
            ]
        )
        made.append((section, students))
    return made


def _template_and_standards() -> tuple[SchoolSection, list[Standard]]:
    """The demo teacher's section that measures the most standards, and STANDARDS standards of
    its subject and grade: those it measures, then their siblings (the same parent, so that the
    planner has related standards to suggest), then others of the grade, by code."""
    from django.db.models import Q

    from accounts.access import sections_visible_to
    from accounts.models import Role, User
    from assessments.models import Standard, StandardKind

    teacher = User.objects.filter(email=DEMO_TEACHER_EMAIL).first()
    if teacher is None:
        raise SystemExit(f"no user {DEMO_TEACHER_EMAIL}: did seed_demo run?")
    leaves = Standard.objects.filter(is_active=True, parent__isnull=False).exclude(
        kind__in=(StandardKind.FRAMEWORK, StandardKind.DOMAIN, StandardKind.CLUSTER)
    )
    best: tuple[int, Any, list[Standard]] = (-1, None, [])
    for section in sections_visible_to(teacher, role=Role.TEACHER).select_related(
        "district", "school", "course", "session"
    ):
        measured = list(
            leaves.filter(Q(assessments__section=section) | Q(items__assessment__section=section))
            .distinct()
            .order_by("code")
        )
        if len(measured) > best[0]:
            best = (len(measured), section, measured)
    _, template, measured = best
    if template is None:
        raise SystemExit(f"{DEMO_TEACHER_EMAIL} teaches no section")
    grade = leaves.filter(district=template.district, subject=template.subject)
    if template.grade_levels:
        grade = grade.filter(grade_levels__contains=template.grade_levels[:1])
    siblings = grade.filter(parent_id__in={s.parent_id for s in measured}).order_by("code")
    chosen = {s.pk: s for s in [*measured, *siblings, *grade.order_by("code")]}
    if len(chosen) < GROUPS_STANDARDS:
        raise SystemExit(f"{template.title}'s grade has {len(chosen)} standards")
    return template, sorted(list(chosen.values())[:STANDARDS], key=lambda s: s.code)


def _chance(ability: float, difficulty: float, growth: float) -> float:
    return 1 / (1 + 2.718281828 ** -(ability - difficulty + growth))


def _points(chance: float, top: int, rng: random.Random) -> Any:
    from decimal import Decimal

    return Decimal(max(0, min(top, round(top * chance + rng.gauss(0, top * 0.15)))))


def _recompute(estimate_ids: set[int]) -> None:
    from assessments.engine import estimates_recompute

    ordered = sorted(estimate_ids)
    for start in range(0, len(ordered), 500):
        estimates_recompute(ordered[start : start + 500])


def _quizzes(
    user: User,
    rosters: list[tuple[SchoolSection, list[Student]]],
    standards: list[Standard],
    first_day: dt.date,
    today: dt.date,
    ability: dict[int, float],
    difficulty: dict[int, float],
    rng: random.Random,
) -> int:
    """QUIZZES_PER_STANDARD quizzes per standard and section, spread over first_day..today and
    scored round by round (each round recomputed). Scores written."""
    from decimal import Decimal

    from assessments.models import AssessmentKind, AssessmentPurpose
    from assessments.services import ScoreInput, assessment_create, scores_record

    span = (today - first_day).days
    written = 0
    for round_number in range(QUIZZES_PER_STANDARD):
        inputs = []
        for section, students in rosters:
            for n, standard in enumerate(standards):
                day = first_day + dt.timedelta(
                    days=(span * round_number) // QUIZZES_PER_STANDARD + (n * 3) % 20
                )
                day = min(day, today - dt.timedelta(days=1))
                quiz = assessment_create(
                    section=section,
                    title=f"Quiz {round_number + 1}: {standard.code}",
                    kind=AssessmentKind.QUIZ,
                    purpose=AssessmentPurpose.FORMATIVE,
                    due_on=day,
                    max_points=Decimal(10),
                    standards=[standard],
                    acting_user=user,
                )
                for student in students:
                    chance = _chance(
                        ability[student.pk], difficulty[standard.pk], 0.4 * round_number
                    )
                    missing = rng.random() < 0.03
                    inputs.append(
                        ScoreInput(
                            student_id=student.pk,
                            assessment_id=quiz.pk,
                            scored_on=day,
                            points=None if missing else _points(chance, 10, rng),
                            status="missing" if missing else "scored",
                        )
                    )
        result = scores_record(scores=inputs, acting_user=user, enqueue=False)
        _recompute(set(result.estimate_ids))
        written += len(inputs)
        print(f"quizzes, round {round_number + 1}: {len(inputs)} scores", file=sys.stderr)
    return written


@dataclass
class Planned:
    plans: int = 0
    taught: int = 0
    grouped: int = 0
    exit_tickets: int = 0
    exit_scores: int = 0


def _plan_day(
    user: User,
    section: SchoolSection,
    students: list[Student],
    day: dt.date,
    standards: list[Standard],
    *,
    today: dt.date,
    grouped: bool,
    exit_ticket: bool,
    ability: dict[int, float],
    difficulty: dict[int, float],
    rng: random.Random,
    done: Planned,
) -> LessonPlan:
    """One plan as the planner writes it: created, grouped on its first standard, given an exit
    ticket with everyone's scores, marked taught (once its day has passed)."""
    from decimal import Decimal

    from assessments.services import ScoreInput, scores_record
    from lessons import services

    plan = services.plan_create(
        acting_user=user,
        section=section,
        first_day=day,
        objective=f"Work on {', '.join(s.code for s in standards)}.",
        notes="Warm-up, mini-lesson, groups, exit ticket.",
        standards=standards,
    )
    done.plans += 1
    if day >= today:
        return plan
    if grouped:
        services.groups_build(acting_user=user, plan=plan, standard=standards[0])
        done.grouped += 1
    if exit_ticket:
        ticket = services.exit_ticket_create(
            acting_user=user,
            plan=plan,
            title=f"Exit ticket {day:%b %d}",
            max_points=Decimal(EXIT_TICKET_POINTS),
        )
        growth = 0.4 * QUIZZES_PER_STANDARD
        inputs = [
            ScoreInput(
                student_id=student.pk,
                assessment_id=ticket.pk,
                scored_on=day,
                points=_points(
                    _chance(ability[student.pk], difficulty[standards[0].pk], growth),
                    EXIT_TICKET_POINTS,
                    rng,
                ),
            )
            for student in students
            if rng.random() > 0.05  # absent
        ]
        _recompute(set(scores_record(scores=inputs, acting_user=user, enqueue=False).estimate_ids))
        done.exit_tickets += 1
        done.exit_scores += len(inputs)
    services.plan_mark_taught(acting_user=user, plan=plan)
    done.taught += 1
    return plan


def seed(output: Path) -> None:
    """The teacher's 6 sections and the small teacher's one, their quizzes and plans (see the
    module's docstring). JSON of the ids and counts out."""
    import random

    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from accounts.services import derived_access_sync

    started = time.perf_counter()
    if User.objects.filter(email=TEACHER_EMAIL).exists():
        raise SystemExit(f"{TEACHER_EMAIL} exists: this database was seeded by an earlier run")
    rng = random.Random(2026)  # noqa: S311 - synthetic data
    today = timezone.localdate()
    days = measured_days(today)
    template, standards = _template_and_standards()
    district = template.district
    teacher = _teacher(district, TEACHER_EMAIL, "Robin", "Planner", "lessons-t")
    small_teacher = _teacher(district, SMALL_TEACHER_EMAIL, "Sasha", "Small", "lessons-s")
    rosters = _sections(template, teacher, SECTION_SIZES, "", 0)
    small = _sections(template, small_teacher, (SMALL_SECTION_SIZE,), "s", sum(SECTION_SIZES))
    derived_access_sync()
    # Fresh users: their grants are read once the sections are theirs.
    teacher = User.objects.get(pk=teacher.pk)
    small_teacher = User.objects.get(pk=small_teacher.pk)
    everyone = [s for _, students in rosters + small for s in students]
    ability = {s.pk: rng.gauss(0.0, 1.0) for s in everyone}
    difficulty = {s.pk: rng.gauss(0.0, 0.7) for s in standards}

    week_monday = today - dt.timedelta(days=today.weekday())
    first_day = week_monday - dt.timedelta(weeks=PLAN_WEEKS)
    scores = _quizzes(teacher, rosters, standards, first_day, today, ability, difficulty, rng)
    scores += _quizzes(small_teacher, small, standards, first_day, today, ability, difficulty, rng)

    plan_days = school_days(first_day, today + dt.timedelta(days=7))
    done = Planned()
    shown: dict[str, int] = {}
    next_plan = 0
    for number, day in enumerate(plan_days):
        pair = [standards[number % len(standards)], standards[(number + 1) % len(standards)]]
        for index, (section, students) in enumerate(rosters):
            chosen = pair
            is_next = index == 0 and day > today and not next_plan
            if is_next:
                # The 30-student section's next plan: on five standards (groups_build is timed
                # on each).
                chosen = [standards[(number + k) % len(standards)] for k in range(GROUPS_STANDARDS)]
            plan = _plan_day(
                teacher,
                section,
                students,
                day,
                chosen,
                today=today,
                grouped=number % GROUPS_EVERY == 0 or day == days["plan_day"],
                exit_ticket=number % EXIT_TICKET_EVERY == 0 or day == days["plan_day"],
                ability=ability,
                difficulty=difficulty,
                rng=rng,
                done=done,
            )
            if is_next:
                next_plan = plan.pk
            if index == 0 and day == days["plan_day"]:
                shown["large"] = plan.pk
        if number % 10 == 0:
            print(f"plans: {day} ({done.plans} so far)", file=sys.stderr, flush=True)
    # The small teacher's five plans, all in the month measured: two in the week measured (the
    # shown one, on its Wednesday, as the large section's), three in its other weeks.
    month = school_days(days["month_first"], days["month_last"])
    others = [d for d in month if not days["week_first"] <= d <= days["week_last"]]
    small_days = sorted(
        {days["week_first"], days["plan_day"]}
        | {others[i * len(others) // (SMALL_PLANS - 2)] for i in range(SMALL_PLANS - 2)}
    )
    small_section, small_students = small[0]
    for number, day in enumerate(small_days):
        pair = [standards[number % len(standards)], standards[(number + 1) % len(standards)]]
        plan = _plan_day(
            small_teacher,
            small_section,
            small_students,
            day,
            pair,
            today=today,
            grouped=True,
            exit_ticket=day == days["plan_day"],
            ability=ability,
            difficulty=difficulty,
            rng=rng,
            done=done,
        )
        if day == days["plan_day"]:
            shown["small"] = plan.pk
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    output.write_text(
        json.dumps(
            {
                "template": {"id": template.pk, "title": template.title},
                "school": template.school.name,
                "standards": [s.code for s in standards],
                "sections": [[section.pk, len(students)] for section, students in rosters],
                "small_section": [small_section.pk, len(small_students)],
                "plan_ids": shown,
                "next_plan_id": next_plan,
                "days": {key: day.isoformat() for key, day in days.items()},
                "first_day": first_day.isoformat(),
                "planned": done.__dict__,
                "quiz_scores": scores,
                "seed_s": time.perf_counter() - started,
            },
            indent=1,
        )
    )


# --- the probe (a child under bench.settings) ---------------------------------------------------


def _pages(section_id: int, plan_id: int, days: dict[str, str]) -> list[tuple[str, str, str]]:
    """(label, URL name, URL) of the pages measured, for one setup."""
    from django.urls import reverse

    section = reverse("lessons:section_calendar", kwargs={"pk": section_id})
    teacher = reverse("lessons:teacher_calendar")
    plan = reverse("lessons:plan_detail", kwargs={"pk": plan_id})
    week, month = f"day={days['week_first']}", f"day={days['month_first']}"
    return [
        ("plan page", "lessons:plan_detail", plan),
        ("section calendar, week", "lessons:section_calendar", f"{section}?view=week&{week}"),
        ("section calendar, month", "lessons:section_calendar", f"{section}?view=month&{month}"),
        ("teacher calendar, week", "lessons:teacher_calendar", f"{teacher}?view=week&{week}"),
        ("teacher calendar, month", "lessons:teacher_calendar", f"{teacher}?view=month&{month}"),
    ]


def _signed_in(email: str) -> Any:
    from django.test import Client

    from accounts.models import User

    client = Client()
    client.force_login(User.objects.get(email=email))
    return client


def _unanswered(client: Any, pages: list[tuple[str, str, str]]) -> list[str]:
    """The pages that do not answer 200, each named (a stub answers 404)."""
    wrong = []
    for label, name, url in pages:
        response = client.get(url)
        if response.status_code != 200:
            wrong.append(f"{name} ({label}, GET {url}) answered {response.status_code}")
    return wrong


def _plan_shown(client: Any, url: str) -> dict[str, int]:
    """What the plan page shows (from its context), and a check that it names its groups'
    students: a page whose groups are not built yet would be measured doing less."""
    from django.utils.html import escape

    response = client.get(url)
    detail = response.context["detail"]
    missing = [
        s.display_name for s in detail.students if escape(s.display_name) not in response.text
    ]
    if not detail.groups or missing:
        raise SystemExit(
            f"the plan page {url} shows {len(detail.groups)} groups and names "
            f"{len(detail.students) - len(missing)} of their {len(detail.students)} students: "
            "are its panels (templates/dashboard/planner/_groups.html) still stubs?"
        )
    context = response.context
    return {
        "groups": len(detail.groups),
        "students": len(detail.students),
        "results": sum(g.scored for g in context.get("results") or []),
        "moves": len(getattr(context.get("proposals"), "moves", []) or []),
        "lowest": len(context.get("suggested_lowest") or []),
        "for_groups": sum(len(found) for _, found in context.get("suggested_for_groups") or []),
    }


def _groups_timed(plan_id: int, small_plan_id: int) -> dict[str, Any]:
    """groups_build on each of the plan's standards (GROUPS_STANDARDS), GROUPS_REPETITIONS times
    after one untimed pass: each call committed, replacing the groups the last one built. Each
    call's and each pass's seconds; one call's queries for this plan and for the small one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from lessons.models import LessonPlan
    from lessons.services import groups_build

    plan = LessonPlan.objects.select_related("section").get(pk=plan_id)
    user = User.objects.get(email=TEACHER_EMAIL)
    standards = list(plan.standards.order_by("code"))
    if len(standards) != GROUPS_STANDARDS:
        raise SystemExit(f"plan {plan_id} has {len(standards)} standards")
    calls: list[float] = []
    passes: list[float] = []
    load_before = load_average()
    for repetition in range(GROUPS_REPETITIONS + 1):
        times = []
        for standard in standards:
            started = time.perf_counter()
            groups_build(acting_user=user, plan=plan, standard=standard)
            times.append(time.perf_counter() - started)
        if repetition:
            calls += times
            passes.append(sum(times))
    load_after = load_average()
    queries = {}
    for key, pk, email in (
        ("large", plan_id, TEACHER_EMAIL),
        ("small", small_plan_id, SMALL_TEACHER_EMAIL),
    ):
        one = LessonPlan.objects.select_related("section").get(pk=pk)
        who = User.objects.get(email=email)
        standard = one.standards.order_by("code")[0]
        with CaptureQueriesContext(connection) as captured:
            built = groups_build(acting_user=who, plan=one, standard=standard)
        queries[key] = {"queries": len(captured), "groups": len(built)}
    members = plan.groups.values_list("members", flat=True).exclude(members=None).count()
    return {
        "calls": calls,
        "passes": passes,
        "students": members,
        "standards": [s.code for s in standards],
        "queries": queries,
        "load": [load_before, load_after],
    }


def probe(seed_path: Path, output: Path) -> None:
    """Sign both teachers in; check every page answers and the plan page shows its groups; each
    page's queries, sizes and profile for the large setup, its queries for the small one; then
    groups_build timed. JSON out."""
    import django

    django.setup()
    from django.test.utils import override_settings, setup_test_environment

    from lessons.models import LessonPlan

    setup_test_environment()
    seeded = json.loads(seed_path.read_text())
    days = seeded["days"]
    client = _signed_in(TEACHER_EMAIL)
    small_client = _signed_in(SMALL_TEACHER_EMAIL)
    large_plan, small_plan = seeded["plan_ids"]["large"], seeded["plan_ids"]["small"]
    with override_settings(ROOT_URLCONF=URLCONF):
        pages = _pages(seeded["sections"][0][0], large_plan, days)
        small_pages = _pages(seeded["small_section"][0], small_plan, days)
        wrong = _unanswered(client, pages) + [
            f"for the small teacher: {w}" for w in _unanswered(small_client, small_pages)
        ]
        if wrong:
            raise SystemExit(
                "pages that do not answer 200 (a page still a stub answers 404: "
                "`grep -n 'stub: to build' dashboard/views/planner/*.py`):\n  " + "\n  ".join(wrong)
            )
        shown = {
            "large": _plan_shown(client, pages[0][2]),
            "small": _plan_shown(small_client, small_pages[0][2]),
        }
        plain = f"/bench/plain/plans/{large_plan}/"
        targets = []
        for label, name, url in [(PLAIN_LABEL, "", plain), *pages]:
            target = page_figures(client, label, url, None)
            target["name"] = name
            target["profile"] = profile_page(client, url, PARTS)
            targets.append(target)
        small_queries = {
            large_url: page_figures(small_client, label, url, None)["page_queries"]
            for (label, _, url), (_, _, large_url) in zip(small_pages, pages, strict=True)
        }

    def running(section_ids: list[int], first: str, last: str) -> int:
        return LessonPlan.objects.filter(
            section_id__in=section_ids, first_day__lte=last, last_day__gte=first
        ).count()

    large_ids = [pk for pk, _ in seeded["sections"]]
    small_ids = [seeded["small_section"][0]]
    month, week = (days["month_first"], days["month_last"]), (days["week_first"], days["week_last"])
    plans = {
        "section_week": (running(large_ids[:1], *week), running(small_ids, *week)),
        "section_month": (running(large_ids[:1], *month), running(small_ids, *month)),
        "teacher_week": (running(large_ids, *week), running(small_ids, *week)),
        "teacher_month": (running(large_ids, *month), running(small_ids, *month)),
    }
    groups = _groups_timed(seeded["next_plan_id"], small_plan)
    output.write_text(
        json.dumps(
            {
                "sessionid": client.cookies["sessionid"].value,
                "targets": targets,
                "small_queries": small_queries,
                "shown": shown,
                "plans": plans,
                "groups": groups,
            },
            indent=1,
        )
    )


# --- the benchmark ------------------------------------------------------------------------------


def queries_differ(found: dict[str, Any]) -> list[str]:
    """The pages whose queries differ between the large setup and the small one."""
    return [
        f"{target['label']} ({target['name']}): {target['page_queries']} queries, "
        f"{found['small_queries'][target['url']]} for the small setup"
        for target in found["targets"]
        if target["url"] in found["small_queries"]
        and found["small_queries"][target["url"]] != target["page_queries"]
    ]


def run(context: Context) -> Section:
    students = context.option("students", DEFAULT_STUDENTS)
    seed_number = context.option("seed", DEFAULT_SEED)
    requests = context.option("requests", REQUESTS)
    database, url, seed_s = seeded_demo_database(context, "lessons", students, seed_number)

    log(f"lessons: 6 sections of {sum(SECTION_SIZES)} students, plans over {PLAN_WEEKS} weeks")
    seed_path = context.workdir / "lessons-seed.json"
    run_child(
        [sys.executable, "-m", "bench.bench_lessons", "seed", str(seed_path)],
        env=child_env(url),
        log_path=context.workdir / "lessons-seed.log",
        timeout_s=SEED_TIMEOUT_S,
    ).check("the lessons seed")
    seeded = json.loads(seed_path.read_text())
    log(f"plans written in {seeded['seed_s']:.1f} s: {seeded['planned']}")
    vacuum_s = vacuum_analyze(url)
    log(f"VACUUM (ANALYZE) in {vacuum_s:.1f} s")

    probe_path = context.workdir / "lessons-probe.json"
    run_child(
        [sys.executable, "-m", "bench.bench_lessons", "probe", str(seed_path), str(probe_path)],
        env=child_env(url, BENCH_REQUIRE_STAFF_MFA="1"),
        log_path=context.workdir / "lessons-probe.log",
    ).check("the lessons probe")
    found = json.loads(probe_path.read_text())
    found["seeded"] = seeded
    targets: list[dict[str, Any]] = found["targets"]
    for target in targets:
        log(
            f"{target['label']}: {target['page_queries']} queries, in process "
            f"{fmt_ms(target['profile']['wall_s'])} (SQL {fmt_ms(target['profile']['sql_s'])})"
        )
    groups = found["groups"]
    log(
        f"groups_build: {fmt_ms(median(groups['calls']))} a call, "
        f"{fmt_ms(median(groups['passes']))} for {GROUPS_STANDARDS} standards (medians)"
    )
    # The "queries constant in the number of students and plans": every page of the
    # 30-student section and the teacher with 150 students makes as many as the same page of the
    # 10-student section and the teacher with 5 plans.
    differ = queries_differ(found)
    if differ:
        raise BenchError(
            "pages make more queries for more students or plans: "
            + "; ".join(differ)
            + f" (probe {probe_path})"
        )

    context.databases.checkpoint()
    load_before = load_average()
    measured = measure_served(
        url,
        context.workdir / "lessons-gunicorn.log",
        targets,
        f"sessionid={found['sessionid']}",
        repeat=context.repeat,
        requests=requests,
    )
    load_after = load_average()
    if not os.environ.get("BENCH_SEEDED_DATABASE"):
        context.databases.release(database)
    return _section(
        context,
        found,
        measured,
        Setup(students, seed_number, seed_s, vacuum_s, requests, load_before, load_after),
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
    load_before: str
    load_after: str


PLANS_KEY = {
    "plan page": "",
    "section calendar, week": "section_week",
    "section calendar, month": "section_month",
    "teacher calendar, week": "teacher_week",
    "teacher calendar, month": "teacher_month",
}


def _page_rows(
    context: Context, found: dict[str, Any], measured: Measured
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], str, list[str]]:
    """The pages' table, their profile table, the goal's sentence, the console summary."""
    targets: list[dict[str, Any]] = found["targets"]
    shown = found["shown"]
    baseline = measured.figure(0, "page", "1 client median")
    rows: list[tuple[object, ...]] = []
    profile_rows: list[tuple[object, ...]] = []
    summary: list[str] = []
    met = 0
    worst = (0.0, "")
    for index, target in enumerate(targets):
        one = measured.figure(index, "page", "1 client median")
        p95 = median(measured.figure(index, "page", "p95 latency"))
        is_plain = index == 0
        verdict = ""
        if not is_plain:
            ok = p95 < P95_GOAL_S
            met += ok
            verdict = "met" if ok else f"missed (p95 ≥ {fmt_ms(P95_GOAL_S)})"
            if p95 > worst[0]:
                worst = (p95, target["label"])
            summary.append(f"{target['label']} p95 {fmt_ms(p95)}")
        key = PLANS_KEY.get(target["label"])
        if key:
            large, small = found["plans"][key]
            shows = f"{large} plans / {small}"
        elif key == "":
            shows = (
                f"{shown['large']['students']} students in {shown['large']['groups']} groups / "
                f"{shown['small']['students']}"
            )
        else:
            shows = f"{shown['large']['students']} students logged"
        small_queries = found["small_queries"].get(target["url"])
        rows.append(
            (
                _cell(target["label"]),
                shows,
                fmt_ms(median(one)),
                fmt_ms(median(measured.figure(index, "page", "1 client p95"))),
                "1.00×" if is_plain else ratio_of_runs(one, baseline),
                fmt_ms(median(measured.figure(index, "page", "median latency"))),
                fmt_ms(p95),
                str(target["page_queries"])
                + (f" / {small_queries}" if small_queries is not None else ""),
                f"{target['page_gzip_bytes']:,}",
                verdict,
            )
        )
        profile = target["profile"]
        profile_rows.append(
            (
                _cell(target["label"]),
                fmt_ms(profile["wall_s"]),
                fmt_ms(profile["sql_s"]),
                sql_by_caller(profile),
                "; ".join(
                    f"`{name}` {profile['parts'][name]:.0%}"
                    for name, _, _ in PARTS
                    if profile["parts"].get(name, 0) >= 0.01
                )
                or "—",
            )
        )
    pages = len(targets) - 1
    goal = (
        f"Goal: p95 < {fmt_ms(P95_GOAL_S)} at {CLIENTS} clients on the plan page and the "
        f"calendars: **{'met' if met == pages else 'not met'}** ({met} of {pages} pages; "
        f"highest {fmt_ms(worst[0])}, {_cell(worst[1])}); the plain page has a p95 of "
        f"{fmt_ms(median(measured.figure(0, 'page', 'p95 latency')))} at that load. "
        "Queries constant in students and plans: **met** (each page makes as many queries for "
        "the large setup as for the small one, checked by this run, which fails otherwise)."
    )
    return rows, profile_rows, goal, summary


def _groups_part(found: dict[str, Any]) -> tuple[str, str, str]:
    """The groups' sentence, table and console summary."""
    groups = found["groups"]
    calls, passes = groups["calls"], groups["passes"]
    all_five = median(passes)
    ok = all_five < GROUPS_GOAL_S
    queries = groups["queries"]
    sentence = (
        f"Goal: groups for a {groups['students']}-student section on {GROUPS_STANDARDS} "
        f"standards in < {fmt_ms(GROUPS_GOAL_S)} of server time: **{'met' if ok else 'not met'}**"
        f" ({fmt_ms(all_five)} for all {GROUPS_STANDARDS}, median of {len(passes)} passes; "
        f"p95 {fmt_ms(percentile(passes, 95))}; {fmt_ms(median(calls))} a call). Timed in "
        f"process (the probe, one client, `time.perf_counter` around each "
        f"`lessons.services.groups_build` call, commit included) on the section's next plan, "
        f"which targets {', '.join(f'`{code}`' for code in groups['standards'])}: one untimed "
        f"pass, then {len(passes)} passes over the {GROUPS_STANDARDS} standards, each call "
        'replacing the groups the one before built, as the planner\'s "make groups" does. '
        f"Queries of one call: {queries['large']['queries']} for the {groups['students']}-"
        f"student section, {queries['small']['queries']} for the "
        f"{found['seeded']['small_section'][1]}-student one. Load average before the "
        f"passes {groups['load'][0]}, after {groups['load'][1]}."
    )
    rows = [
        (
            "one call (one standard)",
            len(calls),
            fmt_ms(median(calls)),
            fmt_ms(percentile(calls, 95)),
            fmt_ms(max(calls)),
        ),
        (
            f"all {GROUPS_STANDARDS} standards",
            len(passes),
            fmt_ms(all_five),
            fmt_ms(percentile(passes, 95)),
            fmt_ms(max(passes)),
        ),
    ]
    summary = f"groups for {GROUPS_STANDARDS} standards {fmt_ms(all_five)}"
    return sentence, table(["groups_build", "timed", "median", "p95", "max"], rows), summary


def _section(context: Context, found: dict[str, Any], measured: Measured, setup: Setup) -> Section:
    seeded = found["seeded"]
    planned = seeded["planned"]
    days = seeded["days"]
    shown = found["shown"]["large"]
    rows, profile_rows, goal, summary = _page_rows(context, found, measured)
    groups_sentence, groups_table, groups_summary = _groups_part(found)
    sizes = ", ".join(str(size) for _, size in seeded["sections"])
    body = "\n\n".join(
        [
            f"District from `seed_demo --students {setup.students} --seed {setup.seed}` ("
            + (
                f"seeded in {fmt_s(setup.seed_s)}"
                if setup.seed_s
                else "seeded by an earlier run, kept, and migrated to this commit"
            )
            + f"; not timed). In {_cell(seeded['school'])}, a new teacher (enrolled in MFA, the "
            "staff MFA check on as in production) teaches 6 sections of the course of the demo "
            f"teacher's {_cell(seeded['template']['title'])}, with {sizes} new students "
            f"({sum(size for _, size in seeded['sections'])}); a second teacher one section of "
            f"{seeded['small_section'][1]} (the small setup). Each section is measured on "
            f"{len(seeded['standards'])} of the demo's standards of its grade ("
            + ", ".join(f"`{code}`" for code in seeded["standards"])
            + f"): {QUIZZES_PER_STANDARD} quizzes each since {seeded['first_day']} "
            f"({seeded['quiz_scores']:,} scores through `scores_record`, recomputed by "
            "`estimates_recompute` round by round). The teacher's sections are planned every "
            f"school day from {seeded['first_day']} through next week through the lessons "
            f"services, as the planner writes plans: {planned['plans']:,} plans (`plan_create`, "
            f"two standards each), {planned['grouped']} grouped (`groups_build`), "
            f"{planned['exit_tickets']} with an exit ticket (`exit_ticket_create`, "
            f"{planned['exit_scores']:,} scores through `scores_record` and a recompute), "
            f"{planned['taught']} marked taught (`plan_mark_taught`); the small teacher has "
            f"{SMALL_PLANS} plans, all in the month measured. Written in "
            f"{fmt_s(seeded['seed_s'])}, then `VACUUM (ANALYZE)` in {fmt_s(setup.vacuum_s)}.",
            f"Pages, as the teacher: the plan page of the {seeded['sections'][0][1]}-student "
            f"section's plan of {days['plan_day']} ({shown['groups']} groups naming "
            f"{shown['students']} students, {shown['results']} exit-ticket scores shown by "
            f"group, {shown['moves']} proposed moves, {shown['lowest']} lowest-standard and "
            f"{shown['for_groups']} group suggestions), the section's calendar and the "
            f"teacher's, for the week of {days['week_first']} and the month of "
            f"{days['month_first'][:7]}. Small setup, for the queries only: the 10-student "
            "section's plan of the same day (grouped, with an exit ticket) and calendars, and "
            f"the teacher with {SMALL_PLANS} plans. gunicorn, {WORKERS} sync workers, "
            "`bench.settings` (DEBUG off, `CONN_MAX_AGE` 60), serving "
            "`bench.bench_dashboard:application` on 127.0.0.1. Per URL and run: "
            f"{setup.requests} requests from {CLIENTS} client threads and "
            f"{SINGLE_CLIENT_REQUESTS} from 1 client (the server time, without queueing), in "
            "interleaved rounds after untimed warm-up requests; the load generator shares the "
            f"machine's {context.machine.cores} cores with gunicorn and PostgreSQL (load "
            f"average before the pages' runs {setup.load_before}, after {setup.load_after}; "
            "other work on the machine moves these figures). Baseline: a plain page "
            "(bench/views.py `plain_plan`) doing what every plan page does first: the plan's "
            "access check (`lessons.selectors.plan_for_user`) and the read's log of the "
            "section's students, in plain text; the ratio is the median of each run's own "
            "ratio of 1-client medians. p95 is nearest-rank. Queries counted once in process "
            "(session, user and MFA check included): the large setup / the small one.",
            goal,
            table(
                [
                    "page",
                    "shows (large / small)",
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
            groups_sentence,
            groups_table,
            "Where each page's time goes, in the probe (in process, one client, no load of its "
            f"own): the median of {PROFILE_RUNS} requests and of their SQL time; the functions "
            "whose queries took the most SQL time in the last of them (queries in brackets); "
            "then one request under cProfile, its time shared out by function (cumulative, so "
            "nested parts overlap; the profiler inflates Python's share).",
            table(
                ["page", "time", "SQL", "SQL by function", "share of the profiled request"],
                profile_rows,
            ),
        ]
    )
    return Section(body=body, summary="; ".join([*summary, groups_summary]))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "seed":
        seed(Path(sys.argv[2]))
    elif len(sys.argv) == 4 and sys.argv[1] == "probe":
        probe(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        raise SystemExit(
            "usage: python -m bench.bench_lessons seed <output.json> | "
            "probe <seed.json> <output.json>"
        )

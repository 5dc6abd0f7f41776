"""The dashboard's pages for each role, both ways: filters, CSV, live changes, overrides and
query counts."""

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser

import orjson
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.services import derived_access_sync
from assessments.engine import estimates_recompute
from assessments.models import (
    Assessment,
    AssessmentKind,
    AssessmentPurpose,
    MasteryEstimate,
    MasteryEstimateHistory,
    MasteryOverride,
    PerformanceLevel,
    Score,
    ScoreStatus,
    Standard,
    StandardKind,
    StudentAssessment,
)
from assessments.services import ScoreInput, scores_record
from privacy.models import AccessLogEntry
from students.models import Enrollment, ProgramParticipation, StudentSchoolMembership
from tests import factories
from tests.conftest import World

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def score(world: World, student, points: str, days_ago: int, *, assessment=None, status="scored"):
    return ScoreInput(
        student_id=student.pk,
        assessment_id=(assessment or world.assessment).pk,
        points=Decimal(points) if points else None,
        status=status,
        scored_on=TODAY - dt.timedelta(days=days_ago),
    )


def record(inputs: list[ScoreInput]) -> None:
    estimates_recompute(scores_record(scores=inputs, enqueue=False).estimate_ids)


def second_standard(
    world: World, *, kind: str = AssessmentKind.TEST
) -> tuple[Standard, Assessment]:
    cluster = Standard.objects.create(
        district=world.district,
        code="CCSS.MATH.CONTENT.4.OA.A",
        kind=StandardKind.CLUSTER,
        description="Use the four operations",
        subject="Mathematics",
    )
    standard = Standard.objects.create(
        district=world.district,
        code="CCSS.MATH.CONTENT.4.OA.A.3",
        subject="Mathematics",
        parent=cluster,
        description="Solve multistep word problems",
    )
    assessment = Assessment.objects.create(
        district=world.district,
        section=world.section,
        title="Word problems test",
        kind=kind,
        max_points=10,
        due_on=TODAY - dt.timedelta(days=40),
    )
    assessment.standards.add(standard)
    return standard, assessment


def overview_url(world: World, query: str = "") -> str:
    url = reverse("students:section_detail", kwargs={"pk": world.section.pk})
    return f"{url}?{query}" if query else url


def student_standard_url(world: World, student=None, standard=None, section=None) -> str:
    return reverse(
        "dashboard:student_standard",
        kwargs={
            "pk": (section or world.section).pk,
            "student_id": (student or world.student).pk,
            "standard_id": (standard or world.standard).pk,
        },
    )


def profile_tab_url(student, tab: str) -> str:
    return reverse("dashboard:student_profile_tab", kwargs={"pk": student.pk, "tab": tab})


def figure_of(response) -> dict:
    return orjson.loads(response.context["figure_json"])


@dataclass
class Heatmap:
    """The section page's levels grid as a reader meets it: per row a student, per column a
    standard, per cell its level (from its colour class), symbol and spoken label."""

    role: str = ""
    codes: list[str] = field(default_factory=list)
    standard_ids: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    student_ids: list[int] = field(default_factory=list)
    levels: list[list[int]] = field(default_factory=list)
    symbols: list[list[str]] = field(default_factory=list)
    labels: list[list[str]] = field(default_factory=list)
    tab_stops: list[str] = field(default_factory=list)  # what has tabindex="0"

    def cell(self, student_id: int, standard_id: int) -> tuple[int, str, str]:
        row = self.student_ids.index(student_id)
        column = self.standard_ids.index(standard_id)
        return self.levels[row][column], self.symbols[row][column], self.labels[row][column]


class _HeatmapParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.heatmap = Heatmap()
        self.inside = False
        self.part = ""
        self.text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "table" and found.get("id") == "heatmap":
            self.inside = True
            self.heatmap.role = found.get("role", "")
        if not self.inside:
            return
        if found.get("tabindex") == "0":
            self.heatmap.tab_stops.append(tag)
        heatmap = self.heatmap
        if tag in ("thead", "tbody"):
            self.part = tag
        elif tag == "tr" and self.part == "tbody":
            heatmap.student_ids.append(int(found["data-student"]))
            heatmap.levels.append([])
            heatmap.symbols.append([])
            heatmap.labels.append([])
        elif tag == "th" and self.part == "thead" and "data-standard" in found:
            heatmap.standard_ids.append(int(found["data-standard"]))
            heatmap.codes.append("")
            self.text = []
        elif tag == "th" and self.part == "tbody":
            self.text = []
        elif tag == "td":
            level = next(c for c in found["class"].split() if c.startswith("lv-"))
            heatmap.levels[-1].append(int(level.removeprefix("lv-")))
            heatmap.labels[-1].append(found["aria-label"])
            self.text = []

    def handle_data(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if not self.inside:
            return
        if tag == "table":
            self.inside = False
        elif tag in ("th", "td") and self.text is not None:
            text = "".join(self.text).strip()
            if tag == "td":
                self.heatmap.symbols[-1].append(text)
            elif self.part == "thead":
                self.heatmap.codes[-1] = text
            else:
                self.heatmap.names.append(text)
            self.text = None


def heatmap_of(response) -> Heatmap:
    parser = _HeatmapParser()
    parser.feed(response.content.decode())
    return parser.heatmap


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


# --- the section overview -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["teacher", "principal", "district_staff"])
def test_overview_draws_a_row_per_student_for_those_who_see_the_section(
    client, world: World, role: str
) -> None:
    record([score(world, world.student, "9", 3), score(world, world.classmate, "2", 3)])
    client.force_login(world.users_by_role()[role])
    response = client.get(overview_url(world))
    assert response.status_code == 200
    heatmap = heatmap_of(response)
    assert heatmap.names == sorted([world.student.sort_name, world.classmate.sort_name])
    assert heatmap.role == "grid"
    levels = dict(zip(heatmap.student_ids, [row[0] for row in heatmap.levels], strict=True))
    assert levels[world.student.pk] == 4 and levels[world.classmate.pk] == 1
    # Each cell says its level in words (a screen reader adds the row's and column's headers);
    # the symbol shows it without colour.
    assert heatmap.cell(world.student.pk, world.standard.pk) == (4, "★", "Exceeds Mastery")
    # The grid is one stop for the Tab key: its first level cell; its links are reached by arrows.
    assert heatmap.tab_stops == ["td"]
    page = response.content.decode()
    assert 'id="overview-figure" type="application/json"' in page
    # The figure is the class's bars only: each student's level is in the grid alone.
    assert {trace["type"] for trace in figure_of(response)["data"]} == {"bar"}
    assert "plotly-basic-4.1.1.min.js" in page and "cdn" not in page.lower()
    assert "<script>" not in page  # no inline script: CSP script-src 'self'
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp


def test_other_teachers_and_guardians_get_404_on_every_section_page(client, world: World) -> None:
    urls = [
        overview_url(world),
        reverse("dashboard:section_csv", kwargs={"pk": world.section.pk}),
        reverse("dashboard:section_changes", kwargs={"pk": world.section.pk}),
        reverse(
            "dashboard:standard_detail",
            kwargs={"pk": world.section.pk, "standard_id": world.standard.pk},
        ),
        student_standard_url(world),
    ]
    for user in (world.other_teacher, world.parent, world.other_principal, world.outsider):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 404, (user, url)


def test_a_student_who_left_the_section_is_404_there_but_keeps_their_profile(
    client, world: World
) -> None:
    record([score(world, world.student, "9", 3)])
    Enrollment.objects.filter(student=world.student, section=world.section).update(
        end_date=TODAY - dt.timedelta(days=1)
    )
    client.force_login(world.principal)
    assert client.get(student_standard_url(world)).status_code == 404
    assert world.student.sort_name not in heatmap_of(client.get(overview_url(world))).names
    # Their history stays visible to those still allowed (the principal of their school).
    profile = client.get(reverse("students:student_detail", kwargs={"pk": world.student.pk}))
    assert profile.status_code == 200
    assessments = client.get(profile_tab_url(world.student, "assessments"))
    assert assessments.status_code == 200
    assert "4.NF.A.1" in assessments.content.decode()


def test_a_standard_the_section_never_measured_is_404(client, world: World) -> None:
    unmeasured = Standard.objects.create(district=world.district, code="CCSS.MATH.CONTENT.4.G.A.1")
    client.force_login(world.teacher)
    url = reverse(
        "dashboard:standard_detail", kwargs={"pk": world.section.pk, "standard_id": unmeasured.pk}
    )
    assert client.get(url).status_code == 404
    assert client.get(student_standard_url(world, standard=unmeasured)).status_code == 404


def test_filters_subject_cluster_kind_and_dates_choose_the_columns(client, world: World) -> None:
    standard2, test = second_standard(world)
    record(
        [score(world, world.student, "9", 3), score(world, world.student, "5", 40, assessment=test)]
    )
    client.force_login(world.teacher)

    def columns(query: str) -> list[str]:
        # The bars' codes: the grid itself is left out when no column has a level yet.
        return figure_of(client.get(overview_url(world, query)))["layout"]["xaxis"]["ticktext"]

    assert columns("") == ["4.NF.A.1", "4.OA.A.3"]
    assert columns(f"cluster={standard2.parent_id}") == ["4.OA.A.3"]
    assert columns("kind=test") == ["4.OA.A.3"]
    assert columns("kind=quiz") == ["4.NF.A.1"]
    assert columns("subject=Mathematics") == ["4.NF.A.1", "4.OA.A.3"]
    Standard.objects.filter(pk=world.standard.pk).update(subject="Number sense")
    assert columns("subject=Number+sense") == ["4.NF.A.1"]
    # The world's quiz was due on 2026-10-01, the test 40 days ago.
    Assessment.objects.filter(pk=world.assessment.pk).update(due_on=TODAY - dt.timedelta(days=60))
    since = (TODAY - dt.timedelta(days=50)).isoformat()
    assert columns(f"date_from={since}") == ["4.OA.A.3"]
    until = (TODAY - dt.timedelta(days=45)).isoformat()
    assert columns(f"as_of={until}") == ["4.NF.A.1"]


def test_a_subject_or_cluster_the_section_lacks_falls_back_to_all_and_says_so(
    client, world: World
) -> None:
    """A forged or stale link: the page shows every standard, names the wrong filter, keeps the
    valid ones, and the CSV link and the CSV hold what is shown."""
    second_standard(world)
    record([score(world, world.student, "9", 3)])
    client.force_login(world.teacher)
    response = client.get(overview_url(world, "subject=Astrology&cluster=999999&kind=quiz"))
    page = response.content.decode()
    assert response.status_code == 200
    assert heatmap_of(response).codes == ["4.NF.A.1"]  # the quiz's standard only
    assert "Some filters were not applied" in page
    assert "Subject: Select a valid choice. Astrology is not one of the available choices." in page
    assert "Cluster: Select a valid choice. 999999 is not one of the available choices." in page
    assert 'mastery.csv?kind=quiz"' in page
    rows = csv_rows(
        client.get(
            reverse("dashboard:section_csv", kwargs={"pk": world.section.pk}),
            {"subject": "Astrology", "kind": "quiz"},
        )
    )
    assert rows[0][2:] == [world.standard.code]


def test_levels_as_of_a_date_come_from_the_estimate_history(client, world: World) -> None:
    record([score(world, world.student, "2", 30)])
    record([score(world, world.student, "10", 2), score(world, world.student, "10", 1)])
    history = list(MasteryEstimateHistory.objects.filter(student=world.student).order_by("as_of"))
    assert history[0].level < history[-1].level
    client.force_login(world.teacher)
    as_of = (TODAY - dt.timedelta(days=20)).isoformat()
    response = client.get(overview_url(world, f"as_of={as_of}"))
    assert heatmap_of(response).cell(world.student.pk, world.standard.pk)[0] == history[0].level
    assert response.context["poll_ms"] == 0  # a past date is not live
    now = heatmap_of(client.get(overview_url(world))).cell(world.student.pk, world.standard.pk)
    assert now[0] == MasteryEstimate.objects.get(student=world.student).level


def test_bad_filters_are_named_and_the_page_still_shows(client, world: World) -> None:
    client.force_login(world.teacher)
    future = (TODAY + dt.timedelta(days=5)).isoformat()
    response = client.get(overview_url(world, f"as_of={future}&kind=bogus"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "cannot be in the future" in page
    assert "Select a valid choice" in page


def test_sort_students_by_need_puts_the_lowest_first(client, world: World) -> None:
    record([score(world, world.student, "10", 3), score(world, world.classmate, "1", 3)])
    client.force_login(world.teacher)
    by_name = heatmap_of(client.get(overview_url(world))).student_ids
    by_need = heatmap_of(client.get(overview_url(world, "students=need"))).student_ids
    assert by_need[0] == world.classmate.pk
    assert sorted(by_name) == sorted(by_need)


def test_needs_attention_says_why_in_words(client, world: World) -> None:
    # Classmate: below mastery on a standard measured 3 days ago, falling, and a missing quiz.
    Assessment.objects.filter(pk=world.assessment.pk).update(due_on=TODAY - dt.timedelta(days=3))
    record(
        [
            score(world, world.classmate, "9", 12),
            score(world, world.classmate, "6", 9),
            score(world, world.classmate, "3", 6),
            score(world, world.classmate, "1", 3),
            score(world, world.student, "", 3, status=ScoreStatus.MISSING),
        ]
    )
    client.force_login(world.teacher)
    attention = dict(client.get(overview_url(world)).context["attention"])
    classmate = " ".join(attention[world.classmate.pk])
    assert "Below Mastery on 1 standard taught in the last 3 weeks: 4.NF.A.1" in classmate
    assert "Falling trend in recent scores on 4.NF.A.1" in classmate
    assert attention[world.student.pk] == (
        f"Missing work (1 assessment): Fractions quiz ({(TODAY - dt.timedelta(days=3)):%b} "
        f"{(TODAY - dt.timedelta(days=3)).day})",
    )


def test_csv_is_exactly_what_is_shown_with_the_filters(client, world: World) -> None:
    _, test = second_standard(world)
    record(
        [
            score(world, world.student, "9", 3),
            score(world, world.classmate, "2", 40, assessment=test),
        ]
    )
    client.force_login(world.teacher)
    page = client.get(overview_url(world, "kind=test&students=need"))
    assert 'mastery.csv?kind=test&amp;students=need"' in page.content.decode()
    response = client.get(
        reverse("dashboard:section_csv", kwargs={"pk": world.section.pk})
        + "?kind=test&students=need"
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = csv_rows(response)
    assert rows[0] == ["Student", "Student number", "CCSS.MATH.CONTENT.4.OA.A.3"]
    assert [r[0] for r in rows[1:]] == heatmap_of(page).names
    by_name = {r[0]: r[2] for r in rows[1:]}
    assert by_name[world.classmate.sort_name] == "Below Mastery"
    assert by_name[world.student.sort_name] == "No Evidence"
    distribution = csv_rows(
        client.get(
            reverse("dashboard:section_distribution_csv", kwargs={"pk": world.section.pk})
            + "?kind=test"
        )
    )
    assert distribution[0][-1] == "At or above mastery"
    assert distribution[1][:2] == ["CCSS.MATH.CONTENT.4.OA.A.3", "Solve multistep word problems"]
    assert distribution[1][2:] == ["1", "1", "0", "0", "0", "0%"]


def test_overview_logs_who_saw_which_students(client, world: World) -> None:
    client.force_login(world.teacher)
    client.get(overview_url(world))
    logged = set(
        AccessLogEntry.objects.filter(actor_user=world.teacher).values_list("student_id", flat=True)
    )
    assert logged == {world.student.pk, world.classmate.pk}


def _grow(world: World, students: int, standards: int) -> None:
    for index in range(standards):
        standard = Standard.objects.create(
            district=world.district, code=f"CCSS.MATH.CONTENT.4.MD.A.{index}", subject="Mathematics"
        )
        assessment = Assessment.objects.create(
            district=world.district,
            section=world.section,
            title=f"Quiz {index}",
            max_points=10,
            due_on=TODAY - dt.timedelta(days=index),
        )
        assessment.standards.add(standard)
    for _ in range(students):
        student = factories.StudentFactory.create(district=world.district)
        Enrollment.objects.create(district=world.district, student=student, section=world.section)
        StudentSchoolMembership.objects.create(
            district=world.district, student=student, school=world.school, grade_level="04"
        )
    derived_access_sync()
    record(
        [
            score(world, e.student, "7", 2, assessment=a)
            for e in Enrollment.objects.filter(section=world.section)
            for a in Assessment.objects.filter(section=world.section)
        ]
    )


OVERVIEW_QUERIES = 18


def test_overview_queries_do_not_grow_with_roster_or_standards(
    client, world: World, django_assert_max_num_queries
) -> None:
    client.force_login(world.teacher)
    client.get(overview_url(world))
    with django_assert_max_num_queries(OVERVIEW_QUERIES):
        client.get(overview_url(world, "as_of=" + (TODAY - dt.timedelta(days=1)).isoformat()))
    _grow(world, students=30, standards=12)
    with django_assert_max_num_queries(OVERVIEW_QUERIES):
        response = client.get(overview_url(world))
    heatmap = heatmap_of(response)
    assert len(heatmap.names) == 32 and len(heatmap.codes) == 13
    assert len(heatmap.levels) == 32 and {len(row) for row in heatmap.levels} == {13}
    with django_assert_max_num_queries(OVERVIEW_QUERIES):
        client.get(overview_url(world, "students=need&standards=mastery&kind=quiz"))
    with django_assert_max_num_queries(15):
        client.get(reverse("dashboard:section_csv", kwargs={"pk": world.section.pk}))
    with django_assert_max_num_queries(14):
        client.get(
            reverse(
                "dashboard:standard_detail",
                kwargs={"pk": world.section.pk, "standard_id": world.standard.pk},
            )
        )
    with django_assert_max_num_queries(18):
        client.get(student_standard_url(world))
    # The profile: its header and record tab (classes, guardians, contacts, cohorts and
    # programs); each other tab is its own request (discipline is not the teacher's to see).
    with django_assert_max_num_queries(16):
        client.get(reverse("students:student_detail", kwargs={"pk": world.student.pk}))
    for tab, most in (("assessments", 16), ("attendance", 8), ("grades", 10)):
        with django_assert_max_num_queries(most):
            assert client.get(profile_tab_url(world.student, tab)).status_code == 200
    # A page that shows the assessments tab reads the student's classes once, for both tabs.
    # (The access check's look-up of the student's enrollments in the teacher's sections, inside
    # the student's own fetch, reads no class.)
    with CaptureQueriesContext(connection) as captured:
        client.get(
            reverse("students:student_detail", kwargs={"pk": world.student.pk}),
            {"tab": "assessments"},
        )
    class_reads = [
        q
        for q in captured
        if 'FROM "students_enrollment"' in q["sql"] and 'FROM "students_student"' not in q["sql"]
    ]
    assert len(class_reads) == 1
    changes_url = reverse("dashboard:section_changes", kwargs={"pk": world.section.pk})
    since = (timezone.now() - dt.timedelta(minutes=5)).isoformat()
    with django_assert_max_num_queries(16):
        response = client.get(
            reverse("dashboard:section_changes", kwargs={"pk": world.section.pk}),
            {"since": since},
        )
    assert len(response.json()["changes"]) == 32 * 13
    # The poll an open page makes every few seconds, when nothing changed: ten queries at most.
    MasteryEstimate.objects.update(computed_at=timezone.now() - dt.timedelta(hours=1))
    with django_assert_max_num_queries(10):
        quiet = client.get(changes_url, {"since": timezone.now().isoformat()})
    assert quiet.json()["changes"] == []


# --- live ---------------------------------------------------------------------------------------


def test_the_changes_endpoint_reports_a_saved_score(
    client, world: World, eager_celery, django_capture_on_commit_callbacks
) -> None:
    client.force_login(world.teacher)
    url = reverse("dashboard:section_changes", kwargs={"pk": world.section.pk})
    first = client.get(url).json()
    assert first["changes"] == [] and first["pending"] == 0
    since = dt.datetime.fromisoformat(first["checked_at"])
    assert client.get(url, {"since": first["checked_at"]}).json()["changes"] == []
    # A teacher saves a score; the recompute task runs on commit and updates the estimate.
    with django_capture_on_commit_callbacks(execute=True):
        scores_record(scores=[score(world, world.student, "10", 0)], acting_user=world.teacher)
    estimate = MasteryEstimate.objects.get(student=world.student, standard=world.standard)
    assert estimate.computed_at is not None
    assert estimate.computed_at >= since and estimate.pending_since is None
    answer = client.get(url, {"since": first["checked_at"]}).json()
    assert answer["changes"] == [
        {
            "student": world.student.pk,
            "standard": world.standard.pk,
            "level": estimate.level,
            "overridden": False,
        }
    ]
    assert answer["checked_at"] > first["checked_at"]


def test_the_changes_endpoint_counts_pending_estimates_and_rejects_bad_input(
    client, world: World
) -> None:
    scores_record(scores=[score(world, world.student, "4", 0)], enqueue=False)
    client.force_login(world.teacher)
    url = reverse("dashboard:section_changes", kwargs={"pk": world.section.pk})
    assert client.get(url).json()["pending"] == 1
    bad = client.get(url, {"since": "yesterday"})
    assert bad.status_code == 400
    assert "is not an ISO date-time" in bad.json()["error"]


# --- standard view ------------------------------------------------------------------------------


def test_standard_view_groups_students_and_lists_what_measured_it(client, world: World) -> None:
    record([score(world, world.student, "10", 3), score(world, world.classmate, "1", 3)])
    client.force_login(world.principal)
    response = client.get(
        reverse(
            "dashboard:standard_detail",
            kwargs={"pk": world.section.pk, "standard_id": world.standard.pk},
        )
    )
    groups = {g.key: [s.pk for s in g.students] for g, _ in response.context["groups"]}
    assert groups == {
        "reteach": [world.classmate.pk],
        "practice": [],
        "extend": [world.student.pk],
        "none": [],
    }
    page = response.content.decode()
    assert "Fractions quiz" in page and "Reteach" in page and "Extend" in page
    figure = orjson.loads(response.context["figure_json"])
    assert figure["data"][0]["y"] == [0, 1, 0, 0, 1]
    rows = csv_rows(
        client.get(
            reverse(
                "dashboard:standard_csv",
                kwargs={"pk": world.section.pk, "standard_id": world.standard.pk},
            )
        )
    )
    assert {r[0]: r[2] for r in rows[1:]} == {
        world.student.sort_name: "Exceeds Mastery",
        world.classmate.sort_name: "Below Mastery",
    }


# --- overrides ----------------------------------------------------------------------------------


def test_teacher_overrides_a_level_with_a_note_and_it_shows_everywhere(
    client, world: World
) -> None:
    record([score(world, world.student, "2", 3)])
    client.force_login(world.teacher)
    url = student_standard_url(world)
    response = client.post(
        url,
        {
            "action": "set",
            "level": "3",
            "note": "Explained it well in class",
            "clear_on_new_score": "on",
        },
    )
    assert response.status_code == 302
    override = MasteryOverride.objects.get(student=world.student, cleared_at__isnull=True)
    assert (override.level, override.set_by, override.clear_on_new_score) == (
        3,
        world.teacher,
        True,
    )
    page = client.get(url).content.decode()
    assert "Overridden by a teacher" in page and "Explained it well in class" in page
    overview = client.get(overview_url(world))
    assert heatmap_of(overview).cell(world.student.pk, world.standard.pk) == (
        3,
        "✓✎",
        "Mastery (overridden)",
    )
    csv_by_name = {
        r[0]: r[2]
        for r in csv_rows(
            client.get(reverse("dashboard:section_csv", kwargs={"pk": world.section.pk}))
        )[1:]
    }
    assert csv_by_name[world.student.sort_name] == "Mastery (overridden)"
    profile = client.get(profile_tab_url(world.student, "assessments"))
    assert "✎ overridden" in profile.content.decode()
    # Clearing shows the estimate again.
    assert client.post(url, {"action": "clear"}).status_code == 302
    assert not MasteryOverride.objects.filter(cleared_at__isnull=True).exists()
    assert "Mastery (overridden)" not in client.get(overview_url(world)).content.decode()


def test_an_override_without_a_note_is_refused_and_nothing_is_saved(client, world: World) -> None:
    client.force_login(world.teacher)
    response = client.post(
        student_standard_url(world), {"action": "set", "level": "4", "note": "  "}
    )
    assert response.status_code == 400
    assert (
        "An override needs a note saying why" in response.content.decode()
        or "This field is required" in response.content.decode()
    )
    assert not MasteryOverride.objects.exists()
    bad_level = client.post(
        student_standard_url(world), {"action": "set", "level": "9", "note": "x"}
    )
    assert bad_level.status_code == 400 and not MasteryOverride.objects.exists()


def test_principals_see_overrides_read_only_and_others_cannot_post(client, world: World) -> None:
    client.force_login(world.principal)
    page = client.get(student_standard_url(world))
    assert (
        page.status_code == 200
        and '<form method="post" class="override-form"' not in page.content.decode()
    )
    assert (
        client.post(
            student_standard_url(world), {"action": "set", "level": "4", "note": "x"}
        ).status_code
        == 403
    )
    assert client.post(student_standard_url(world), {"action": "clear"}).status_code == 403
    client.force_login(world.other_teacher)
    assert (
        client.post(
            student_standard_url(world), {"action": "set", "level": "4", "note": "x"}
        ).status_code
        == 404
    )
    assert not MasteryOverride.objects.exists()


def test_a_forged_override_post_without_the_csrf_token_is_rejected(world: World) -> None:
    forged = Client(enforce_csrf_checks=True)
    forged.force_login(world.teacher)
    response = forged.post(
        student_standard_url(world), {"action": "set", "level": "4", "note": "x"}
    )
    assert response.status_code == 403
    assert not MasteryOverride.objects.exists()


def test_student_standard_page_shows_trend_and_evidence_and_logs_access(
    client, world: World
) -> None:
    record([score(world, world.student, "3", 10), score(world, world.student, "8", 3)])
    client.force_login(world.teacher)
    response = client.get(student_standard_url(world))
    figure = orjson.loads(response.context["figure_json"])
    assert (
        len(figure["data"][0]["x"])
        == MasteryEstimateHistory.objects.filter(student=world.student).count()
    )
    assert figure["data"][1]["y"] == [80.0, 30.0]
    assert AccessLogEntry.objects.filter(
        actor_user=world.teacher, student_id=world.student.pk, what="student history on a standard"
    ).exists()
    # The breadcrumb's student opens their profile on its assessments tab.
    profile = reverse("students:student_detail", kwargs={"pk": world.student.pk})
    assert f'<a href="{profile}#assessments">{world.student.display_name}</a>' in (
        response.content.decode()
    )
    rows = csv_rows(
        client.get(
            reverse(
                "dashboard:student_standard_csv",
                kwargs={
                    "pk": world.section.pk,
                    "student_id": world.student.pk,
                    "standard_id": world.standard.pk,
                },
            )
        )
    )
    assert [r[0] for r in rows[1:]].count("score") == 2


# --- the student profile ------------------------------------------------------------------------


def test_profile_has_tabs_mastery_scores_and_test_results(client, world: World) -> None:
    interim = Assessment.objects.create(
        district=world.district,
        title="Fall Interim: Mathematics, grade 4",
        kind=AssessmentKind.TEST,
        purpose=AssessmentPurpose.INTERIM,
        family="District interim",
        max_points=40,
        due_on=TODAY - dt.timedelta(days=20),
    )
    proficient = PerformanceLevel.objects.create(
        assessment=interim, code="P", name="Proficient", min_score=25, max_score=34, rank=3
    )
    record(
        [
            score(world, world.student, "8", 3),
            score(world, world.student, "30", 20, assessment=interim),
        ]
    )
    StudentAssessment.objects.filter(assessment=interim).update(performance_level=proficient)
    ProgramParticipation.objects.create(
        district=world.district, student=world.student, program="iep"
    )
    client.force_login(world.teacher)
    response = client.get(reverse("students:student_detail", kwargs={"pk": world.student.pk}))
    page = response.content.decode()
    for tab_label in ("Record", "Attendance &amp; discipline", "Assessments", "Grades"):
        assert f">{tab_label}</a>" in page
    assert ">IEP<" in page  # the header's program badges, and the record tab
    assert 'id="record-heading"' in page and world.section.title in page
    # The other tabs come when opened: each says where it is fetched from, and without the
    # script each is a link to the page that shows it.
    for tab_name in ("attendance", "assessments", "grades"):
        assert f'data-src="{profile_tab_url(world.student, tab_name)}"' in page
        assert f'href="?tab={tab_name}#{tab_name}"' in page
    assert "Fall Interim" not in page and "No grades recorded." not in page

    def tab(name: str) -> str:
        fetched = client.get(profile_tab_url(world.student, name))
        assert fetched.status_code == 200
        # The address that names the tab shows the same panel on the page itself.
        shown = client.get(
            reverse("students:student_detail", kwargs={"pk": world.student.pk}), {"tab": name}
        ).content.decode()
        assert fetched.content.decode() in shown
        assert 'data-shown="' + name + '"' in shown
        return fetched.content.decode()

    # Nothing imported from the student information system yet: each tab says so plainly.
    attendance = tab("attendance")
    assert "No attendance recorded." in attendance
    assert 'id="discipline-heading"' not in attendance  # not the teacher's to see
    assert "No grades recorded." in tab("grades")
    assessments = tab("assessments")
    assert "Proficient" in assessments and "Fall Interim" in assessments
    assert "Fractions quiz" in assessments
    assert student_standard_url(world) in assessments  # the teacher may open the history
    assert "trend-figure-0" in assessments
    rows = csv_rows(
        client.get(reverse("dashboard:student_mastery_csv", kwargs={"pk": world.student.pk}))
    )
    assert rows[1][0] == world.standard.code and rows[1][2] == "Mastery"


def test_each_profile_tab_is_its_own_logged_read(client, world: World) -> None:
    record([score(world, world.student, "8", 3)])
    client.force_login(world.principal)
    page_url = reverse("students:student_detail", kwargs={"pk": world.student.pk})

    def logged(url: str, query: dict | None = None) -> list[tuple[str, str]]:
        # The log is append-only: what this request added is what came after the last row.
        last = AccessLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        assert client.get(url, query or {}).status_code == 200
        return sorted(
            AccessLogEntry.objects.filter(pk__gt=last, student_id=world.student.pk).values_list(
                "what", "path"
            )
        )

    assert logged(page_url) == [("student record", page_url)]
    for tab, what in (
        ("attendance", "student attendance and discipline"),
        ("assessments", "student mastery and scores"),
        ("grades", "student grades"),
    ):
        assert logged(profile_tab_url(world.student, tab)) == [
            (what, profile_tab_url(world.student, tab))
        ]
        # A page that shows the tab logs it beside the record its header and first tab show.
        assert logged(page_url, {"tab": tab}) == sorted(
            [("student record", f"{page_url}?tab={tab}"), (what, f"{page_url}?tab={tab}")]
        )


def test_profile_tabs_are_404_to_everyone_who_may_not_see_the_student(client, world: World) -> None:
    tabs = ("record", "attendance", "assessments", "grades")
    for user in (world.teacher, world.principal, world.district_staff, world.parent):
        client.force_login(user)
        for tab in tabs:
            assert client.get(profile_tab_url(world.student, tab)).status_code == 200, (user, tab)
    for user in (world.other_teacher, world.other_principal, world.other_parent, world.outsider):
        client.force_login(user)
        for tab in tabs:
            assert client.get(profile_tab_url(world.student, tab)).status_code == 404, (user, tab)
    assert not AccessLogEntry.objects.filter(
        actor_user_id__in=[world.other_teacher.pk, world.other_parent.pk, world.outsider.pk]
    ).exists()
    # A browser that opens the panel's own address (a copied link) gets the page showing it.
    client.force_login(world.parent)
    opened = client.get(
        profile_tab_url(world.student, "grades"), headers={"Sec-Fetch-Mode": "navigate"}
    )
    assert opened.status_code == 302
    assert opened["Location"] == f"/students/{world.student.pk}/?tab=grades#grades"
    # A tab that does not exist is a 404 that names the tabs there are.
    client.force_login(world.teacher)
    response = client.get(profile_tab_url(world.student, "medical"))
    assert response.status_code == 404
    page = reverse("students:student_detail", kwargs={"pk": world.student.pk})
    assert client.get(page, {"tab": "medical"}).status_code == 404


def test_guardian_sees_the_profile_without_links_into_the_section(client, world: World) -> None:
    record([score(world, world.student, "8", 3)])
    client.force_login(world.parent)
    # The tab on its own: the profile's address sends a guardian to the family portal.
    response = client.get(profile_tab_url(world.student, "assessments"))
    page = response.content.decode()
    assert response.status_code == 200 and "4.NF.A.1" in page
    assert f"/sections/{world.section.pk}/" not in page
    assert (
        client.get(
            reverse("students:student_detail", kwargs={"pk": world.classmate.pk})
        ).status_code
        == 404
    )


def test_pages_that_show_levels_never_read_the_learned_models_fit(client, world: World) -> None:
    """A fit's parameters can run to megabytes: the engine reads them, no page does."""
    record([score(world, world.student, "9", 3)])
    client.force_login(world.teacher)
    urls = [
        overview_url(world),
        reverse(
            "dashboard:standard_detail",
            kwargs={"pk": world.section.pk, "standard_id": world.standard.pk},
        ),
        reverse("students:student_detail", kwargs={"pk": world.student.pk}),
        profile_tab_url(world.student, "assessments"),
    ]
    for url in urls:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        policy_reads = [q["sql"] for q in captured if "assessments_masterypolicy" in q["sql"]]
        assert policy_reads, url  # the scale is read…
        assert not [q["sql"] for q in captured if "assessments_masterymodelfit" in q["sql"]], url


def test_the_roster_counts_current_programs_and_shows_when_each_student_joined(
    client, world: World
) -> None:
    ProgramParticipation.objects.create(
        district=world.district, student=world.student, program="iep"
    )
    ProgramParticipation.objects.create(
        district=world.district, student=world.student, program="ell", end_date=dt.date(2020, 1, 1)
    )
    ProgramParticipation.objects.create(
        district=world.district, student=world.classmate, program="504", is_active=False
    )
    Enrollment.objects.filter(student=world.student, section=world.section).update(
        begin_date=dt.date(2026, 8, 20)
    )
    client.force_login(world.teacher)
    roster = {e.student_id: e for e in client.get(overview_url(world)).context["roster"]}
    assert roster[world.student.pk].program_count == 1  # the ended one does not count
    assert roster[world.classmate.pk].program_count == 0  # nor an inactive one
    assert roster[world.student.pk].begin_date == dt.date(2026, 8, 20)


def test_only_the_sections_teachers_are_offered_score_entry(client, world: World) -> None:
    """Principals and district staff see the section's assessments, read-only: the page offers
    them no score entry (which would answer 403), and the assessments list no "Enter scores"."""
    url = overview_url(world)
    assessments_url = reverse("assessments:section_assessments", kwargs={"pk": world.section.pk})
    grid_url = reverse(
        "assessments:score_grid",
        kwargs={"pk": world.section.pk, "assessment_id": world.assessment.pk},
    )
    for user, teaches in (
        (world.teacher, True),
        (world.principal, False),
        (world.district_staff, False),
    ):
        client.force_login(user)
        page = client.get(url).content.decode()
        assert ("Assessments and score entry" in page) is teaches, user
        assert assessments_url in page, user
        listing = client.get(assessments_url)
        assert listing.status_code == 200, user
        assert (grid_url in listing.content.decode()) is teaches, user
        assert client.get(grid_url).status_code == (200 if teaches else 403), user


@pytest.mark.parametrize(
    ("recent_days", "missing_days", "flagged"), [(21, 42, True), (2, 1, False)]
)
def test_needs_attention_follows_the_districts_thresholds(
    client, world: World, recent_days: int, missing_days: int, flagged: bool
) -> None:
    """The district's mastery policy says what counts as recently taught and how far back
    missing work is listed: the same scores flag a student under one and not the other."""
    from assessments.models import MasteryPolicy

    MasteryPolicy.objects.update_or_create(
        district=world.district,
        defaults={"attention_recent_days": recent_days, "attention_missing_days": missing_days},
    )
    Assessment.objects.filter(pk=world.assessment.pk).update(due_on=TODAY - dt.timedelta(days=3))
    record(
        [
            score(world, world.classmate, "1", 3),
            score(world, world.student, "", 3, status=ScoreStatus.MISSING),
        ]
    )
    client.force_login(world.teacher)
    response = client.get(overview_url(world))
    attention = dict(response.context["attention"])
    assert (world.classmate.pk in attention) is flagged
    assert (world.student.pk in attention) is flagged
    assert f"measured in the last {recent_days} days" in response.content.decode()


def test_a_section_without_scores_says_what_to_do_next(client, world: World) -> None:
    assert not Score.objects.filter(student_assessment__assessment__section=world.section).exists()
    create = (
        reverse("assessments:section_assessments", kwargs={"pk": world.section.pk})
        + "#new-assessment"
    )
    client.force_login(world.teacher)
    page = client.get(overview_url(world)).content.decode()
    assert "No scores yet." in page and create in page
    assert 'id="overview-chart"' not in page and 'id="heatmap"' not in page  # no blank grid
    filtered = client.get(overview_url(world, "kind=quiz")).content.decode()
    assert "No levels in this section with these filters" in filtered
    assert "Show every standard" in filtered
    client.force_login(world.principal)
    page = client.get(overview_url(world)).content.decode()
    assert "No scores yet." not in page and create not in page
    assert "once its teachers score an assessment" in page

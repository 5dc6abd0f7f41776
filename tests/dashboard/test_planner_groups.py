"""The plan's page (the planner hub) and its group, move, exit-ticket and suggestion endpoints:
each one's happy path, its refusals (readers, locked groups, forged ids: 400 or 404, never a
500), the live "would move" JSON after a score changes a level, and the hub's query count."""

import datetime as dt
import html
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assessments.models import Assessment, MasteryEstimate, Standard, StandardKind
from assessments.services import ScoreInput, scores_record
from lessons import selectors, services
from lessons.models import GroupKind, LessonPlan, PlanGroup, PlanGroupMember
from privacy.models import AccessLogEntry
from students import models
from tests.conftest import World
from tests.lessons.conftest import enrolled_student, estimate_at

pytestmark = pytest.mark.django_db

DAY = timezone.localdate() + dt.timedelta(days=1)


@pytest.fixture
def plan(world: World) -> LessonPlan:
    return services.plan_create(
        acting_user=world.teacher, section=world.section, first_day=DAY, standards=[world.standard]
    )


@pytest.fixture
def grouped(world: World, plan: LessonPlan) -> LessonPlan:
    """Ada near (practice), the classmate below (reteach), grouped by the world's standard."""
    estimate_at(world.student, world.standard, 2)
    estimate_at(world.classmate, world.standard, 1)
    services.groups_build(acting_user=world.teacher, plan=plan, standard=world.standard)
    return plan


def _text(response: object) -> str:
    """The page as read (entities such as &#x27; decoded)."""
    return html.unescape(response.content.decode())  # type: ignore[attr-defined]


def _teacher(client: Client, world: World) -> Client:
    client.force_login(world.teacher)
    return client


def _url(name: str, plan: LessonPlan, **kwargs: int) -> str:
    return reverse(f"lessons:{name}", kwargs={"pk": plan.pk, **kwargs})


def _group(plan: LessonPlan, kind: str) -> PlanGroup:
    return PlanGroup.objects.get(plan=plan, kind=kind)


def _group_of(plan: LessonPlan, student: models.Student) -> str:
    return PlanGroupMember.objects.get(plan=plan, student=student).group.name


# --- The page


def test_the_hub_shows_groups_levels_and_controls_to_the_teacher(
    client: Client, world: World, grouped: LessonPlan
) -> None:
    response = _teacher(client, world).get(_url("plan_detail", grouped))
    assert response.status_code == 200
    page = _text(response)
    assert "Reteach" in page and "Practice" in page and "Extend" in page
    assert world.student.display_name in page
    # Levels by name and symbol, never colour alone.
    assert "Near mastery" in page or "Near" in page
    assert f'id="move-{world.student.pk}"' in page
    assert "Lock the groups for the lesson" in page
    assert "<strong>Unlocked</strong>" in page
    assert 'data-moves-url="' in page and "js/plan-groups.js" in page
    logged = set(
        AccessLogEntry.objects.filter(what="lesson plan").values_list("student_id", flat=True)
    )
    assert {world.student.pk, world.classmate.pk} <= logged


def test_a_principal_reads_the_hub_without_controls(
    client: Client, world: World, grouped: LessonPlan
) -> None:
    client.force_login(world.principal)
    page = _text(client.get(_url("plan_detail", grouped)))
    assert world.student.display_name in page
    assert "Build groups" not in page and 'name="to_group"' not in page
    assert "Accept these moves" not in page


# --- Build, move, add, edit, lock


def test_build_groups_for_a_standard(client: Client, world: World, plan: LessonPlan) -> None:
    estimate_at(world.student, world.standard, 4)
    response = _teacher(client, world).post(
        _url("plan_groups_build", plan), {"standard": world.standard.pk}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(_url("plan_detail", plan))
    assert _group_of(plan, world.student) == "Extend"


@pytest.mark.parametrize("standard", ["", "abc", "999999", "-1", "9" * 40])
def test_build_groups_refuses_a_standard_not_the_plans(
    client: Client, world: World, plan: LessonPlan, standard: str
) -> None:
    response = _teacher(client, world).post(_url("plan_groups_build", plan), {"standard": standard})
    assert response.status_code == 400
    assert "Choose one of the plan's standards" in _text(response)
    assert not PlanGroup.objects.filter(plan=plan).exists()


def test_move_a_student(client: Client, world: World, grouped: LessonPlan) -> None:
    extend = _group(grouped, GroupKind.EXTEND)
    response = _teacher(client, world).post(
        _url("plan_group_move", grouped), {"student": world.student.pk, "to_group": extend.pk}
    )
    assert response.status_code == 302
    assert _group_of(grouped, world.student) == "Extend"


def test_moves_refuse_forged_ids(
    client: Client, world: World, grouped: LessonPlan, plan: LessonPlan
) -> None:
    _teacher(client, world)
    extend = _group(grouped, GroupKind.EXTEND)
    move = _url("plan_group_move", grouped)
    # A student of another section, and one who does not exist.
    response = client.post(move, {"student": world.other_section_student.pk, "to_group": extend.pk})
    assert response.status_code == 400
    assert "not in this section" in _text(response)
    assert client.post(move, {"student": 999_999, "to_group": extend.pk}).status_code == 400
    # A group of another plan.
    other = services.plan_create(
        acting_user=world.teacher, section=world.section, first_day=DAY + dt.timedelta(days=1)
    )
    foreign = services.group_add(acting_user=world.teacher, plan=other, name="Elsewhere")
    response = client.post(move, {"student": world.student.pk, "to_group": foreign.pk})
    assert response.status_code == 400
    assert "Choose one of this plan's groups" in _text(response)
    assert client.post(move, {"student": "x", "to_group": "\x00"}).status_code == 400
    # Editing a group of another plan through this plan's address: 404.
    edit = reverse("lessons:plan_group_edit", kwargs={"pk": grouped.pk, "group_id": foreign.pk})
    assert client.post(edit, {"name": "Mine now"}).status_code == 404
    assert PlanGroup.objects.get(pk=foreign.pk).name == "Elsewhere"


def test_add_rename_and_set_activities(client: Client, world: World, grouped: LessonPlan) -> None:
    _teacher(client, world)
    response = client.post(_url("plan_group_add", grouped), {"name": "  Table four "})
    assert response.status_code == 302
    added = PlanGroup.objects.get(plan=grouped, name="Table four")
    assert added.kind == GroupKind.CUSTOM
    reteach = _group(grouped, GroupKind.RETEACH)
    edit = reverse("lessons:plan_group_edit", kwargs={"pk": grouped.pk, "group_id": reteach.pk})
    response = client.post(
        edit, {"name": "Fractions again", "activities": "Fraction strips\r\n\r\nNumber line"}
    )
    assert response.status_code == 302
    reteach.refresh_from_db()
    assert reteach.name == "Fractions again"
    assert [a.text for a in reteach.activities.order_by("position")] == [
        "Fraction strips",
        "Number line",
    ]
    assert client.post(edit, {"name": "   "}).status_code == 400
    assert client.post(edit, {}).status_code == 400
    assert client.post(_url("plan_group_add", grouped), {"name": ""}).status_code == 400
    assert client.post(_url("plan_group_add", grouped), {"name": "x" * 121}).status_code == 400


def test_a_locked_plan_refuses_changes_but_renames(
    client: Client, world: World, grouped: LessonPlan
) -> None:
    _teacher(client, world)
    assert client.post(_url("plan_groups_lock", grouped), {"action": "lock"}).status_code == 302
    grouped.refresh_from_db()
    assert grouped.groups_locked
    page = _text(client.get(_url("plan_detail", grouped)))
    assert "<strong>Locked</strong>" in page and "Unlock the groups" in page
    assert 'name="to_group"' not in page
    extend = _group(grouped, GroupKind.EXTEND)
    refused = client.post(
        _url("plan_group_move", grouped), {"student": world.student.pk, "to_group": extend.pk}
    )
    assert refused.status_code == 400
    assert "locked" in _text(refused)
    assert _group_of(grouped, world.student) == "Practice"
    build = client.post(_url("plan_groups_build", grouped), {"standard": world.standard.pk})
    assert build.status_code == 400
    assert client.post(_url("plan_group_add", grouped), {"name": "New"}).status_code == 400
    edit = reverse("lessons:plan_group_edit", kwargs={"pk": grouped.pk, "group_id": extend.pk})
    assert client.post(edit, {"name": "Stretch", "activities": "Puzzles"}).status_code == 302
    assert client.post(_url("plan_groups_lock", grouped), {"action": "open"}).status_code == 400
    assert client.post(_url("plan_groups_lock", grouped), {"action": "unlock"}).status_code == 302
    grouped.refresh_from_db()
    assert not grouped.groups_locked


NAMES = [
    "plan_groups_build",
    "plan_group_move",
    "plan_group_add",
    "plan_groups_lock",
    "plan_moves_accept",
    "plan_exit_ticket",
]


@pytest.mark.parametrize("name", NAMES)
def test_only_editors_post(client: Client, world: World, grouped: LessonPlan, name: str) -> None:
    """A reader (the principal) and anyone else: 404; the teacher's GET: 405."""
    url = _url(name, grouped)
    for user in (world.principal, world.other_teacher, world.parent, world.outsider):
        client.force_login(user)
        assert client.post(url, {"action": "lock", "name": "X"}).status_code == 404
    client.force_login(world.teacher)
    assert client.get(url).status_code == 405


# --- Live moves


def test_moves_json_after_a_score_changes_a_level(
    client: Client,
    world: World,
    grouped: LessonPlan,
    eager_celery: object,
    django_capture_on_commit_callbacks: object,
) -> None:
    _teacher(client, world)
    url = _url("plan_moves", grouped)
    assert client.get(url).json() == {"locked": False, "may_edit": True, "moves": []}
    # The classmate (below, in Reteach) scores full marks: their level rises.
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        scores_record(
            scores=[
                ScoreInput(
                    student_id=world.classmate.pk,
                    assessment_id=world.assessment.pk,
                    points=Decimal("10"),
                    scored_on=timezone.localdate(),
                )
            ]
            * 1,
            acting_user=world.teacher,
        )
    level = MasteryEstimate.objects.get(student=world.classmate, standard=world.standard).level
    assert level > 1
    answer = client.get(url).json()
    assert answer["locked"] is False
    [move] = answer["moves"]
    assert move["student"] == world.classmate.pk
    assert move["from_name"] == "Reteach" and move["level_now"] == level
    assert world.classmate.display_name in move["why"] and "fits better" in move["why"]
    logged = AccessLogEntry.objects.filter(what="lesson plan live groups")
    assert list(logged.values_list("student_id", flat=True)) == [world.classmate.pk]
    # The page lists it too, with the form to accept.
    page = _text(client.get(_url("plan_detail", grouped)))
    assert move["why"] in page and "Accept these moves" in page
    # Locked: reported, never applied.
    services.groups_lock(acting_user=world.teacher, plan=grouped)
    assert client.get(url).json()["locked"] is True
    refused = client.post(_url("plan_moves_accept", grouped), {"move": move["key"]})
    assert refused.status_code == 400
    assert _group_of(grouped, world.classmate) == "Reteach"
    services.groups_unlock(acting_user=world.teacher, plan=grouped)
    accepted = client.post(_url("plan_moves_accept", grouped), {"move": move["key"]})
    assert accepted.status_code == 302
    assert _group_of(grouped, world.classmate) == move["to_name"]
    assert client.get(url).json()["moves"] == []


def test_keep_the_groups_dismisses_the_listed_moves(
    client: Client, world: World, grouped: LessonPlan
) -> None:
    _teacher(client, world)
    estimate_at(world.classmate, world.standard, 4)
    url = _url("plan_moves", grouped)
    [move] = client.get(url).json()["moves"]
    kept = client.post(_url("plan_moves_accept", grouped), {"action": "keep", "move": move["key"]})
    assert kept.status_code == 302
    assert client.get(url).json()["moves"] == []
    assert _group_of(grouped, world.classmate) == "Reteach"
    # A later change is a new proposal: it shows again.
    estimate_at(world.classmate, world.standard, 2)
    assert len(client.get(url).json()["moves"]) == 1


def test_accept_refuses_nothing_and_skips_stale_moves(
    client: Client, world: World, grouped: LessonPlan
) -> None:
    _teacher(client, world)
    assert client.post(_url("plan_moves_accept", grouped), {}).status_code == 400
    response = client.post(_url("plan_moves_accept", grouped), {"move": "1:2:3:4"}, follow=True)
    assert response.status_code == 200
    assert "0 moves made. 1 no longer proposed" in _text(response)


# --- Exit ticket


def test_create_an_exit_ticket_then_see_results(
    client: Client, world: World, grouped: LessonPlan
) -> None:
    _teacher(client, world)
    response = client.post(
        _url("plan_exit_ticket", grouped),
        {"action": "create", "title": "Exit: fractions", "max_points": "4"},
    )
    assert response.status_code == 302
    grouped.refresh_from_db()
    ticket = grouped.exit_ticket
    assert ticket is not None and ticket.title == "Exit: fractions"
    assert list(ticket.standards.all()) == [world.standard] and ticket.due_on == grouped.last_day
    scores_record(
        scores=[
            ScoreInput(
                student_id=world.student.pk,
                assessment_id=ticket.pk,
                points=Decimal("3"),
                scored_on=DAY,
            )
        ],
        enqueue=False,
    )
    page = _text(client.get(_url("plan_detail", grouped)))
    grid = reverse(
        "assessments:score_grid", kwargs={"pk": world.section.pk, "assessment_id": ticket.pk}
    )
    assert grid in page
    assert "1 of 1" in page and "75%" in page
    # The score grid leads back to the plan, where the results show by group.
    assert _url("plan_detail", grouped) in _text(client.get(grid))
    other = client.get(
        reverse(
            "assessments:score_grid",
            kwargs={"pk": world.section.pk, "assessment_id": world.assessment.pk},
        )
    )
    assert _url("plan_detail", grouped) not in _text(other)


def test_attach_and_detach_an_exit_ticket(
    client: Client, world: World, grouped: LessonPlan
) -> None:
    _teacher(client, world)
    url = _url("plan_exit_ticket", grouped)
    page = _text(client.get(_url("plan_detail", grouped)))
    assert f'<option value="{world.assessment.pk}">' in page
    assert (
        client.post(url, {"action": "attach", "assessment": world.assessment.pk}).status_code == 302
    )
    grouped.refresh_from_db()
    assert grouped.exit_ticket_id == world.assessment.pk
    assert client.post(url, {"action": "detach"}).status_code == 302
    grouped.refresh_from_db()
    assert grouped.exit_ticket_id is None


@pytest.mark.parametrize(
    "form",
    [
        {"action": "attach", "assessment": "other"},
        {"action": "attach", "assessment": "999999"},
        {"action": "create", "title": "", "max_points": "4"},
        {"action": "create", "title": "T", "max_points": "NaN"},
        {"action": "create", "title": "T", "max_points": "1e999"},
        {"action": "create", "title": "T", "max_points": "0"},
        {"action": "throw"},
    ],
)
def test_exit_ticket_refusals(
    client: Client, world: World, grouped: LessonPlan, form: dict[str, str]
) -> None:
    if form.get("assessment") == "other":
        form = {**form, "assessment": str(world.other_assessment.pk)}
    response = _teacher(client, world).post(_url("plan_exit_ticket", grouped), form)
    assert response.status_code == 400
    assert 'id="exit-problem"' in _text(response)
    grouped.refresh_from_db()
    assert grouped.exit_ticket_id is None


def test_an_assessment_on_other_standards_is_refused(
    client: Client, world: World, grouped: LessonPlan
) -> None:
    other = Standard.objects.create(district=world.district, code="CCSS.MATH.CONTENT.4.OA.A.1")
    quiz = Assessment.objects.create(
        district=world.district, section=world.section, title="Other", max_points=4
    )
    quiz.standards.add(other)
    response = _teacher(client, world).post(
        _url("plan_exit_ticket", grouped), {"action": "attach", "assessment": quiz.pk}
    )
    assert response.status_code == 400
    assert "measures the plan's standards" in _text(response)


# --- Suggestions


def test_suggestions_offer_a_sibling_and_add_it_to_the_plan(
    client: Client, world: World, plan: LessonPlan
) -> None:
    cluster = Standard.objects.create(
        district=world.district, code="CCSS.MATH.CONTENT.4.NF.A", kind=StandardKind.CLUSTER
    )
    Standard.objects.filter(pk=world.standard.pk).update(parent=cluster)
    sibling = Standard.objects.create(
        district=world.district, code="CCSS.MATH.CONTENT.4.NF.A.2", parent=cluster
    )
    estimate_at(world.student, world.standard, 1)
    estimate_at(world.classmate, world.standard, 1)
    estimate_at(world.student, sibling, 1)
    world.standard.refresh_from_db()
    services.groups_build(acting_user=world.teacher, plan=plan, standard=world.standard)
    page = _text(_teacher(client, world).get(_url("plan_detail", plan)))
    assert "For the Reteach group" in page
    assert f'name="add_standard" value="{sibling.pk}"' in page
    assert "a sibling standard" in page and "would help 1 student" in page
    response = client.post(_url("plan_group_add", plan), {"add_standard": sibling.pk})
    assert response.status_code == 302
    assert set(plan.standards.values_list("pk", flat=True)) == {world.standard.pk, sibling.pk}
    # Another district's standard, or nonsense: 400.
    far = Standard.objects.create(district=world.other_district, code="FAR.1")
    assert client.post(_url("plan_group_add", plan), {"add_standard": far.pk}).status_code == 400
    assert client.post(_url("plan_group_add", plan), {"add_standard": "x"}).status_code == 400


# --- Queries


def _class_of(world: World, plan: LessonPlan, size: int) -> None:
    for index in range(size - 2):
        student = enrolled_student(world, f"Student{index:03d}")
        estimate_at(student, world.standard, 1 + index % 4)
    estimate_at(world.student, world.standard, 2)
    services.groups_build(acting_user=world.teacher, plan=plan, standard=world.standard)
    for index in range(size // 5):
        services.group_add(acting_user=world.teacher, plan=plan, name=f"Table {index}")


def _hub_queries(client: Client, plan: LessonPlan) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(_url("plan_detail", plan))
    assert response.status_code == 200
    return len(captured)


def test_the_hub_queries_are_constant_in_students_and_groups(
    client: Client, world: World, django_assert_max_num_queries: object
) -> None:
    _teacher(client, world)
    small = services.plan_create(
        acting_user=world.teacher, section=world.section, first_day=DAY, standards=[world.standard]
    )
    _class_of(world, small, 5)
    services.exit_ticket_attach(acting_user=world.teacher, plan=small, assessment=world.assessment)
    few = _hub_queries(client, small)
    # The plan, its groups, levels, moves, suggestions and results, each read once for the page
    # (the moves, results and suggestions take the groups, levels and policy the plan's detail
    # read): under thirty, whatever the size.
    assert few <= 30
    large = services.plan_create(
        acting_user=world.teacher,
        section=world.section,
        first_day=DAY + dt.timedelta(days=1),
        standards=[world.standard],
    )
    _class_of(world, large, 25)
    services.exit_ticket_attach(acting_user=world.teacher, plan=large, assessment=world.assessment)
    with django_assert_max_num_queries(few):  # type: ignore[operator]
        assert client.get(_url("plan_detail", large)).status_code == 200
    assert len(selectors.plan_detail(selectors.plan_for_user(world.teacher, large.pk)).groups) > 5

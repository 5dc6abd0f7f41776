"""Groups by need from crafted estimates, moves, the lock and proposed moves."""

import datetime as dt

import pytest

from assessments.models import MasteryOverride
from lessons import selectors, services
from lessons.models import GroupKind, PlanGroupMember
from tests.conftest import World
from tests.lessons.conftest import enrolled_student, estimate_at

DAY = dt.date(2027, 2, 3)


@pytest.fixture
def plan(world: World):
    plan = services.plan_create(
        acting_user=world.teacher,
        section=world.section,
        first_day=DAY,
        standards=[world.standard],
    )
    return plan


def _membership(plan) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    for member in PlanGroupMember.objects.filter(plan=plan).select_related("group"):
        found.setdefault(member.group.name, set()).add(member.student_id)
    return found


def test_groups_follow_the_policys_thresholds(world: World, plan) -> None:
    below, near, at, above = (
        enrolled_student(world, name) for name in ("Below", "Near", "At", "Above")
    )
    for student, level in ((below, 1), (near, 2), (at, 3), (above, 4)):
        estimate_at(student, world.standard, level)
    # Ada: an override to Near wins over her estimate at Mastery; the classmate has no evidence.
    estimate_at(world.student, world.standard, 3)
    MasteryOverride.objects.create(
        student=world.student, standard=world.standard, level=2, note="Guessing"
    )
    groups = services.groups_build(acting_user=world.teacher, plan=plan, standard=world.standard)
    assert [g.kind for g in groups] == ["reteach", "practice", "extend", "custom"]
    assert _membership(plan) == {
        "Reteach": {below.pk},
        "Practice": {near.pk, world.student.pk},
        "Extend": {at.pk, above.pk},
        selectors.NOT_MEASURED_NAME: {world.classmate.pk},
    }
    levels = dict(
        PlanGroupMember.objects.filter(plan=plan).values_list("student", "level_at_placement")
    )
    assert (
        levels[below.pk] == 1 and levels[world.student.pk] == 2 and levels[world.classmate.pk] == 0
    )


def test_a_higher_mastery_level_moves_the_thresholds(world: World, plan) -> None:
    from assessments.models import MasteryPolicy

    MasteryPolicy.objects.create(district=world.district, mastery_level=4)
    at = enrolled_student(world, "At")
    estimate_at(at, world.standard, 3)
    estimate_at(world.student, world.standard, 2)
    services.groups_build(acting_user=world.teacher, plan=plan, standard=world.standard)
    groups = _membership(plan)
    assert at.pk in groups["Practice"] and world.student.pk in groups["Reteach"]


def test_moves_renames_added_groups_and_activities(world: World, plan) -> None:
    estimate_at(world.student, world.standard, 1)
    estimate_at(world.classmate, world.standard, 4)
    services.groups_build(acting_user=world.teacher, plan=plan, standard=world.standard)
    extend = plan.groups.get(kind=GroupKind.EXTEND)
    services.group_move_student(
        acting_user=world.teacher, plan=plan, student=world.student, to_group=extend
    )
    assert _membership(plan)["Extend"] == {world.student.pk, world.classmate.pk}
    services.group_rename(acting_user=world.teacher, group=extend, name="Challenge")
    mine = services.group_add(acting_user=world.teacher, plan=plan, name="Table 3")
    assert mine.position == 3
    services.group_activities_set(
        acting_user=world.teacher, group=mine, texts=["Fraction strips", " ", "Exit slip"]
    )
    assert [a.text for a in mine.activities.all()] == ["Fraction strips", "Exit slip"]
    with pytest.raises(services.ValidationError, match="not in this section"):
        services.group_move_student(
            acting_user=world.teacher,
            plan=plan,
            student=world.other_section_student,
            to_group=extend,
        )


def test_a_locked_plan_stays_as_it_is_and_still_reports(world: World, plan) -> None:
    estimate_at(world.student, world.standard, 1)
    estimate_at(world.classmate, world.standard, 3)
    services.groups_build(acting_user=world.teacher, plan=plan, standard=world.standard)
    services.groups_lock(acting_user=world.teacher, plan=plan)
    before = _membership(plan)
    estimate_at(world.student, world.standard, 4)  # a new score raised her
    proposals = selectors.group_moves_proposed(plan)
    assert proposals.locked
    [move] = proposals.moves
    assert (move.student, move.from_group.name, move.to_group.name) == (
        world.student,
        "Reteach",
        "Extend",
    )
    for refused in (
        lambda: services.group_moves_accept(acting_user=world.teacher, plan=plan, moves=[move]),
        lambda: services.groups_build(
            acting_user=world.teacher, plan=plan, standard=world.standard
        ),
        lambda: services.group_move_student(
            acting_user=world.teacher, plan=plan, student=world.student, to_group=move.to_group
        ),
        lambda: services.group_add(acting_user=world.teacher, plan=plan, name="More"),
    ):
        with pytest.raises(services.GroupsLocked):
            refused()
    assert _membership(plan) == before
    services.groups_unlock(acting_user=world.teacher, plan=plan)
    assert services.group_moves_accept(acting_user=world.teacher, plan=plan, moves=[move]) == [move]
    assert world.student.pk in _membership(plan)["Extend"]
    assert selectors.group_moves_proposed(plan).moves == []


def test_proposed_moves_say_who_and_why(world: World, plan) -> None:
    estimate_at(world.student, world.standard, 2)
    services.groups_build(acting_user=world.teacher, plan=plan, standard=world.standard)
    assert selectors.group_moves_proposed(plan).moves == []
    estimate_at(world.student, world.standard, 1)
    estimate_at(world.classmate, world.standard, 3)  # was not measured
    moves = {m.student.pk: m for m in selectors.group_moves_proposed(plan).moves}
    assert moves[world.student.pk].to_group.name == "Reteach"
    assert "now at Below Mastery" in moves[world.student.pk].why
    assert "was Near Mastery" in moves[world.student.pk].why
    assert moves[world.classmate.pk].from_group.name == selectors.NOT_MEASURED_NAME
    assert moves[world.classmate.pk].to_group.name == "Extend"
    # Only what is still proposed is applied: a forged move is ignored.
    forged = selectors.ProposedMove(
        world.student,
        moves[world.student.pk].from_group,
        moves[world.classmate.pk].to_group,
        2,
        1,
        "",
    )
    assert services.group_moves_accept(acting_user=world.teacher, plan=plan, moves=[forged]) == []


def test_a_plan_marked_taught_proposes_no_moves(world: World, plan) -> None:
    """Its groups are the record of the lesson given: a later score moves no one out of them."""
    estimate_at(world.student, world.standard, 2)
    services.groups_build(acting_user=world.teacher, plan=plan, standard=world.standard)
    estimate_at(world.student, world.standard, 1)
    assert [m.student for m in selectors.group_moves_proposed(plan).moves] == [world.student]
    services.plan_mark_taught(acting_user=world.teacher, plan=plan)
    assert selectors.group_moves_proposed(plan).moves == []
    services.plan_unmark_taught(acting_user=world.teacher, plan=plan)
    assert [m.student for m in selectors.group_moves_proposed(plan).moves] == [world.student]


def test_groups_are_built_for_the_plans_standards_only(world: World, plan) -> None:
    from assessments.models import Standard

    other = Standard.objects.create(district=world.district, code="OTHER.1")
    with pytest.raises(services.ValidationError, match="plan's standards"):
        services.groups_build(acting_user=world.teacher, plan=plan, standard=other)

"""Who reads and who edits a lesson plan: both ways, every role."""

import datetime as dt

import pytest
import time_machine
from django.http import Http404

from accounts import access
from accounts.models import User
from accounts.services import substitute_grant
from lessons import selectors, services
from tests import factories
from tests.conftest import World

DAY = dt.date(2027, 2, 3)


def _fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)  # no grants cached from before a time travel


@pytest.fixture
def plan(world: World):
    with time_machine.travel(dt.datetime.combine(dt.date(2027, 2, 1), dt.time(9)), tick=False):
        return services.plan_create(
            acting_user=world.teacher, section=world.section, first_day=DAY, objective="Fractions"
        )


def test_the_teacher_and_a_co_teacher_edit_the_plan(world: World, plan, co_teacher) -> None:
    for user in (world.teacher, co_teacher):
        found = selectors.plan_for_user(_fresh(user), plan.pk)
        assert found.plan == plan
        assert found.may_edit
        assert found.basis == access.Basis.SECTION_TEACHER
        assert selectors.may_edit_plan(_fresh(user), plan)
    services.plan_update(acting_user=co_teacher, plan=plan, notes="Bring fraction strips")
    plan.refresh_from_db()
    assert plan.notes == "Bring fraction strips"


def test_the_principal_reads_and_may_not_edit(world: World, plan) -> None:
    found = selectors.plan_for_user(_fresh(world.principal), plan.pk)
    assert found.basis == access.Basis.PRINCIPAL
    assert not found.may_edit
    assert found.purpose == "Leading the student's school"
    with pytest.raises(services.PermissionDenied):
        services.plan_update(acting_user=world.principal, plan=plan, notes="x")
    with pytest.raises(Http404):
        selectors.plan_for_user(_fresh(world.other_principal), plan.pk)


@pytest.mark.parametrize(
    "role", ["other_teacher", "district_staff", "parent", "other_parent", "outsider"]
)
def test_everyone_else_gets_404(world: World, plan, role: str) -> None:
    user = _fresh(getattr(world, role))
    with pytest.raises(Http404):
        selectors.plan_for_user(user, plan.pk)
    assert not selectors.may_edit_plan(user, plan)
    with pytest.raises(services.PermissionDenied):
        services.plan_update(acting_user=user, plan=plan, notes="x")


def test_a_missing_plan_is_404(world: World) -> None:
    with pytest.raises(Http404):
        selectors.plan_for_user(world.teacher, 10**9)


def test_a_substitute_reads_the_plans_of_the_days_they_cover_only(world: World, plan) -> None:
    substitute = factories.UserFactory.create(full_name="Sam Substitute")
    substitute_grant(
        acting_user=world.principal,
        substitute=substitute,
        section=world.section,
        begin_date=DAY,
        end_date=DAY,
    )
    day_after = services.plan_create(
        acting_user=world.teacher,
        section=world.section,
        first_day=DAY + dt.timedelta(days=1),
    )
    with time_machine.travel(dt.datetime.combine(DAY, dt.time(8)), tick=False):
        found = selectors.plan_for_user(_fresh(substitute), plan.pk)
        assert found.basis == access.Basis.SUBSTITUTE
        assert not found.may_edit
        with pytest.raises(Http404):
            selectors.plan_for_user(_fresh(substitute), day_after.pk)
        section_access = access.section_plans_for_user(_fresh(substitute), world.section.pk)
        shown = selectors.plans_of_section(section_access, DAY, DAY + dt.timedelta(days=7))
        assert shown == [plan]
        with pytest.raises(services.PermissionDenied):
            services.plan_update(acting_user=_fresh(substitute), plan=plan, notes="x")
    # The day after the access ends, not even that day's plan.
    with time_machine.travel(dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(8))):
        with pytest.raises(Http404):
            selectors.plan_for_user(_fresh(substitute), plan.pk)


def test_sections_plannable_are_the_teachers_own(world: World, co_teacher) -> None:
    assert list(access.sections_plannable_by(world.teacher)) == [world.section]
    assert list(access.sections_plannable_by(co_teacher)) == [world.section]
    for user in (world.principal, world.district_staff, world.parent, world.outsider):
        assert not access.sections_plannable_by(user).exists()
    with pytest.raises(services.PermissionDenied):
        services.plan_create(acting_user=world.teacher, section=world.other_section, first_day=DAY)


def test_section_calendar_access_both_ways(world: World) -> None:
    assert access.section_plans_for_user(world.teacher, world.section.pk).may_edit
    assert not access.section_plans_for_user(world.principal, world.section.pk).may_edit
    for user in (world.other_teacher, world.district_staff, world.parent, world.outsider):
        with pytest.raises(Http404):
            access.section_plans_for_user(user, world.section.pk)

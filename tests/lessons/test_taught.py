"""Plans marked taught: the standards they taught in a window (lessons.selectors.standards_taught),
and the section's cached pages retired when one is marked or unmarked (dashboard.cache)."""

import datetime as dt
from collections.abc import Iterator

import pytest
from django.core.cache import caches
from django.test import override_settings

from dashboard import cache as dashboard_cache
from lessons import selectors, services
from tests.conftest import World
from tests.dashboard.test_cache import CACHED

DAY = dt.date(2027, 2, 3)


def test_standards_taught_are_those_of_plans_marked_taught_in_the_window(world: World) -> None:
    taught = services.plan_create(
        acting_user=world.teacher,
        section=world.section,
        first_day=DAY - dt.timedelta(days=3),
        last_day=DAY - dt.timedelta(days=2),
        standards=[world.standard],
    )
    services.plan_create(  # planned, not taught
        acting_user=world.teacher, section=world.section, first_day=DAY, standards=[world.standard]
    )
    since, until = DAY - dt.timedelta(days=21), DAY
    assert selectors.standards_taught(world.section, since=since, until=until) == {}
    services.plan_mark_taught(acting_user=world.teacher, plan=taught)
    assert selectors.standards_taught(world.section, since=since, until=until) == {
        world.standard.pk: DAY - dt.timedelta(days=2)
    }
    # By the plan's last day: out of a window that ends before it, or begins after it.
    assert selectors.standards_taught(world.section, since=since, until=DAY - dt.timedelta(3)) == {}
    assert selectors.standards_taught(world.section, since=DAY, until=DAY) == {}
    assert selectors.standards_taught(world.other_section, since=since, until=until) == {}


@pytest.fixture
def versions_cached() -> Iterator[None]:
    with override_settings(CACHES=CACHED):
        caches["dashboard_versions"].clear()
        yield
        caches["dashboard_versions"].clear()


def test_marking_a_plan_taught_retires_the_sections_cached_pages_after_commit(
    world: World, versions_cached: None, django_capture_on_commit_callbacks
) -> None:
    plan = services.plan_create(acting_user=world.teacher, section=world.section, first_day=DAY)
    version = dashboard_cache.section_versions(world.section)
    other = dashboard_cache.section_versions(world.other_section)
    with django_capture_on_commit_callbacks(execute=True):
        services.plan_mark_taught(acting_user=world.teacher, plan=plan)
    marked = dashboard_cache.section_versions(world.section)
    assert marked != version
    assert dashboard_cache.section_versions(world.other_section) == other
    with django_capture_on_commit_callbacks(execute=True):
        services.plan_unmark_taught(acting_user=world.teacher, plan=plan)
    assert dashboard_cache.section_versions(world.section) != marked

"""The school and district reports are kept, rendered, until their district's rollups change
(dashboard.cache.report_versions): a write of rollup rows sends rollups.signals.rollups_changed
once it commits, which retires them, so the next load shows the new counts; anything else (a
row changed behind the services' back) is not seen until then. The kept HTML holds nothing of
the user's: a principal and district staff read the same report."""

import pytest
import time_machine
from django.core.cache import caches
from django.test import Client, override_settings
from django.urls import reverse

from rollups.models import SchoolSubjectMonth
from rollups.services import rollups_rebuild
from rollups.signals import rollups_changed
from tests import factories
from tests.conftest import World
from tests.dashboard.test_cache import CACHED
from tests.dashboard.test_school_report import NOW, _measured, _row, _standard

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _caches():
    with override_settings(CACHES=CACHED):
        caches["dashboard"].clear()
        caches["dashboard_versions"].clear()
        yield
        caches["dashboard"].clear()
        caches["dashboard_versions"].clear()


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(NOW, tick=False):
        yield


def _school_page(client: Client, world: World, user=None) -> str:
    client.force_login(user or world.principal)
    response = client.get(reverse("students:school_detail", args=[world.school.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _district_page(client: Client, world: World) -> str:
    client.force_login(world.district_staff)
    response = client.get(reverse("dashboard:district_schools", args=[world.district.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_rollup_write_retires_the_kept_reports(
    client: Client, world: World, django_capture_on_commit_callbacks
) -> None:
    standard = _standard(world, "ART.1", "Art")
    _measured(world, "04", 12, standard)
    with django_capture_on_commit_callbacks(execute=True):
        rollups_rebuild(world.district.pk, today=NOW.date())
    assert ">12<" in _row(_school_page(client, world), "Art")
    assert ">12<" in _district_page(client, world)

    # Changed behind the services' back: the kept reports do not see it.
    SchoolSubjectMonth.objects.filter(school=world.school).update(students_measured=40)
    assert ">12<" in _row(_school_page(client, world), "Art")
    assert ">12<" in _row(_school_page(client, world, world.district_staff), "Art")
    assert ">12<" in _district_page(client, world)

    # Three more measured, and the rows recounted: the signal retires both reports.
    _measured(world, "04", 3, standard)
    sent = []

    def receiver(sender: object, *, district_ids: list[int], **kwargs: object) -> None:
        sent.append(list(district_ids))

    rollups_changed.connect(receiver, dispatch_uid="test-report-cache")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            rollups_rebuild(world.district.pk, today=NOW.date())
    finally:
        rollups_changed.disconnect(dispatch_uid="test-report-cache")
    assert sent and all(ids == [world.district.pk] for ids in sent)
    assert ">15<" in _row(_school_page(client, world), "Art")
    assert ">15<" in _district_page(client, world)


def test_a_recount_that_changes_nothing_keeps_the_reports(
    world: World, django_capture_on_commit_callbacks
) -> None:
    _measured(world, "04", 12, _standard(world, "ART.1", "Art"))
    with django_capture_on_commit_callbacks(execute=True):
        rollups_rebuild(world.district.pk, today=NOW.date())
    sent = []
    rollups_changed.connect(
        lambda sender, **kwargs: sent.append(kwargs), weak=False, dispatch_uid="test-no-change"
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            rollups_rebuild(world.district.pk, today=NOW.date())
    finally:
        rollups_changed.disconnect(dispatch_uid="test-no-change")
    assert sent == []


def test_another_district_keeps_its_reports(
    client: Client, world: World, django_capture_on_commit_callbacks
) -> None:
    standard = _standard(world, "ART.1", "Art")
    _measured(world, "04", 12, standard)
    with django_capture_on_commit_callbacks(execute=True):
        rollups_rebuild(world.district.pk, today=NOW.date())
    assert ">12<" in _row(_school_page(client, world), "Art")
    SchoolSubjectMonth.objects.filter(school=world.school).update(students_measured=40)
    # A write in another district retires only that district's reports.
    other_school = factories.SchoolFactory.create(district=world.other_district)
    assert other_school.pk
    rollups_changed.send(sender=None, district_ids=[world.other_district.pk])
    assert ">12<" in _row(_school_page(client, world), "Art")
    rollups_changed.send(sender=None, district_ids=[world.district.pk])
    assert ">40<" in _row(_school_page(client, world), "Art")


def test_a_change_of_the_districts_minimum_group_size_retires_the_reports(
    client: Client, world: World, django_capture_on_commit_callbacks
) -> None:
    _measured(world, "04", 12, _standard(world, "ART.1", "Art"))
    with django_capture_on_commit_callbacks(execute=True):
        rollups_rebuild(world.district.pk, today=NOW.date())
    assert ">12<" in _row(_school_page(client, world), "Art")
    world.district.min_group_size = 15
    with django_capture_on_commit_callbacks(execute=True):
        world.district.save()
    art = _row(_school_page(client, world), "Art")
    assert "fewer than 15" in art and ">12<" not in art

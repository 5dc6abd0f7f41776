"""The section page's cached grid: served again while nothing changed, never after a change to
what it shows (a recomputed score, an override set or cleared, a student who left, a renamed
student), and never in place of the access check or the access log."""

import datetime as dt
from collections.abc import Iterator

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessments.models import ScoreStatus
from assessments.services import mastery_override_clear, mastery_override_set, scores_record
from dashboard import cache as dashboard_cache
from privacy.models import AccessLogEntry
from students.models import Enrollment, Student
from tests.conftest import World
from tests.dashboard.test_pages import heatmap_of, overview_url, record, score

pytestmark = pytest.mark.django_db

CACHED = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "dashboard": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "test-dashboard",
    },
    "dashboard_versions": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "test-dashboard-versions",
    },
}


@pytest.fixture(autouse=True)
def grid_cache() -> Iterator[None]:
    with override_settings(CACHES=CACHED):
        from django.core.cache import caches

        caches["dashboard"].clear()
        caches["dashboard_versions"].clear()
        yield
        caches["dashboard"].clear()
        caches["dashboard_versions"].clear()


def levels_shown(client, world: World) -> dict[int, tuple[int, str]]:
    """Per student id: the level and symbol of their cell on world.standard, as drawn."""
    response = client.get(overview_url(world))
    assert response.status_code == 200
    heatmap = heatmap_of(response)
    return {
        student_id: heatmap.cell(student_id, world.standard.pk)[:2]
        for student_id in heatmap.student_ids
    }


def page_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_a_second_request_reuses_the_grid_but_checks_access_and_logs_again(
    client, world: World
) -> None:
    record([score(world, world.student, "9", 3), score(world, world.classmate, "2", 3)])
    client.force_login(world.teacher)
    url = overview_url(world)
    client.get(url)  # warm the session
    dashboard_cache.versions_retire([world.district.pk])
    built = page_queries(client, url)
    logged = AccessLogEntry.objects.count()
    reused = page_queries(client, url)
    # The estimates, overrides, missing work (two queries) and the standards of lesson plans
    # marked taught are not read again; the access check, roster and the rest are.
    assert reused == built - 5
    assert AccessLogEntry.objects.count() == logged + 2
    # Someone who may not see the section still gets a 404, cached grid or not.
    client.force_login(world.other_teacher)
    assert client.get(url).status_code == 404


def test_a_score_saved_and_recomputed_shows_on_the_next_request(
    client, world: World, django_capture_on_commit_callbacks
) -> None:
    record([score(world, world.student, "9", 3)])
    client.force_login(world.teacher)
    before = levels_shown(client, world)[world.student.pk]
    assert levels_shown(client, world)[world.student.pk] == before  # served from the cache
    with django_capture_on_commit_callbacks(execute=True):
        record([score(world, world.student, "0", 2), score(world, world.student, "0", 1)])
    after = levels_shown(client, world)[world.student.pk]
    assert after[0] < before[0]


def test_work_marked_missing_shows_on_the_next_request_before_any_recompute(
    client, world: World, django_capture_on_commit_callbacks
) -> None:
    record([score(world, world.student, "9", 3)])
    client.force_login(world.teacher)
    assert world.student.pk not in dict(client.get(overview_url(world)).context["attention"])
    with django_capture_on_commit_callbacks(execute=True):
        # The score write alone (no recompute is enqueued or run) retires the cached page.
        scores_record(
            scores=[score(world, world.student, "", 1, status=ScoreStatus.MISSING)],
            enqueue=False,
        )
    reasons = dict(client.get(overview_url(world)).context["attention"])[world.student.pk]
    assert reasons[0].startswith("Missing work (1 assessment): Fractions quiz")


def test_an_override_set_and_cleared_shows_on_the_next_request(
    client, world: World, django_capture_on_commit_callbacks
) -> None:
    record([score(world, world.student, "2", 3)])
    client.force_login(world.teacher)
    level, symbol = levels_shown(client, world)[world.student.pk]
    assert "✎" not in symbol
    with django_capture_on_commit_callbacks(execute=True):
        mastery_override_set(
            student_id=world.student.pk,
            standard_id=world.standard.pk,
            level=4,
            note="Showed it in class",
            acting_user=world.teacher,
            clear_on_new_score=False,
        )
    overridden_level, overridden_symbol = levels_shown(client, world)[world.student.pk]
    assert overridden_level == 4 and overridden_symbol.endswith("✎")
    with django_capture_on_commit_callbacks(execute=True):
        mastery_override_clear(
            student_id=world.student.pk, standard_id=world.standard.pk, acting_user=world.teacher
        )
    assert levels_shown(client, world)[world.student.pk] == (level, symbol)


def test_a_student_who_left_the_section_is_gone_from_the_next_request(client, world: World) -> None:
    record([score(world, world.student, "9", 3), score(world, world.classmate, "2", 3)])
    client.force_login(world.teacher)
    assert set(levels_shown(client, world)) == {world.student.pk, world.classmate.pk}
    # No version changes here: the roster, read on every request, is part of the key.
    Enrollment.objects.filter(student=world.classmate).update(end_date=dt.date(2020, 1, 1))
    assert set(levels_shown(client, world)) == {world.student.pk}
    page = client.get(overview_url(world)).content.decode()
    assert world.classmate.sort_name not in page


def test_a_renamed_student_shows_under_the_new_name(client, world: World) -> None:
    record([score(world, world.student, "9", 3)])
    client.force_login(world.teacher)
    client.get(overview_url(world))
    student = Student.objects.get(pk=world.student.pk)
    student.last_name = "Renamedson"
    student.save()
    response = client.get(overview_url(world))
    assert any(name.startswith("Renamedson,") for name in heatmap_of(response).names)


def test_a_recompute_retires_the_version_only_after_commit(
    world: World, django_capture_on_commit_callbacks
) -> None:
    version = dashboard_cache.section_versions(world.section)
    assert dashboard_cache.section_versions(world.section) == version
    other = dashboard_cache.section_versions(world.other_section)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        record([score(world, world.student, "9", 3)])
        assert dashboard_cache.section_versions(world.section) == version
    for callback in callbacks:
        callback()
    assert dashboard_cache.section_versions(world.section) != version
    # The district's other sections (none of these students) keep theirs.
    assert dashboard_cache.section_versions(world.other_section) == other
    # A bulk write retires a whole district, and only that one.
    elsewhere = dashboard_cache.mastery_version(world.other_district.pk)
    before = dashboard_cache.section_versions(world.other_section)
    dashboard_cache.versions_retire([world.district.pk])
    assert dashboard_cache.section_versions(world.other_section) != before
    assert dashboard_cache.mastery_version(world.other_district.pk) == elsewhere


def test_a_write_in_another_section_keeps_this_sections_grid(
    client, world: World, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # committed before the page is read
        record([score(world, world.student, "9", 3)])
    client.force_login(world.teacher)
    url = overview_url(world)
    client.get(url)
    client.get(url)
    cached = page_queries(client, url)
    # Scores and their recompute for a student of another section of the district.
    with django_capture_on_commit_callbacks(execute=True):
        record(
            [score(world, world.other_section_student, "4", 1, assessment=world.other_assessment)]
        )
    assert page_queries(client, url) == cached
    # The same for one of this section's students: the grid is built again, with the change.
    before = levels_shown(client, world)[world.classmate.pk]
    with django_capture_on_commit_callbacks(execute=True):
        record([score(world, world.classmate, "9", 1)])
    assert page_queries(client, url) > cached
    assert levels_shown(client, world)[world.classmate.pk] != before


def test_a_past_date_and_a_filter_are_cached_apart(client, world: World) -> None:
    record([score(world, world.student, "9", 3)])
    client.force_login(world.teacher)
    today = client.get(overview_url(world))
    past = client.get(
        overview_url(world, "as_of=" + (timezone.localdate() - dt.timedelta(days=30)).isoformat())
    )
    assert today.context["grid"] != past.context["grid"]
    assert reverse("dashboard:section_changes", kwargs={"pk": world.section.pk}) in (
        today.content.decode()
    )


def test_the_filter_fields_are_cached_under_what_they_show(client, world: World) -> None:
    client.force_login(world.teacher)
    future = (timezone.localdate() + dt.timedelta(days=5)).isoformat()
    bad = overview_url(world, f"as_of={future}&kind=bogus")
    for _ in range(2):  # built, then served from the cache: the errors still show
        page = client.get(bad).content.decode()
        assert "cannot be in the future" in page and "Select a valid choice" in page
        assert f'value="{future}"' in page
    page = client.get(overview_url(world, "kind=test")).content.decode()
    assert "Some filters were not applied" not in page
    assert '<option value="test" selected>' in page
    # A new subject among the section's standards is a new choice: another key.
    assert '<option value="Number sense">' not in page
    world.standard.subject = "Number sense"
    world.standard.save()
    page = client.get(overview_url(world, "kind=test")).content.decode()
    assert '<option value="Number sense">Number sense</option>' in page


@pytest.mark.parametrize("name", ["section_csv", "section_distribution_csv"])
def test_the_section_exports_are_cached_like_the_page_and_follow_a_recompute(
    client, world: World, django_capture_on_commit_callbacks, name: str
) -> None:
    record([score(world, world.student, "9", 3)])
    client.force_login(world.teacher)
    url = reverse(f"dashboard:{name}", kwargs={"pk": world.section.pk})
    before = client.get(url).content
    logged = AccessLogEntry.objects.count()
    assert client.get(url).content == before  # served from the cache, and logged again
    assert AccessLogEntry.objects.count() == logged + 2
    with django_capture_on_commit_callbacks(execute=True):
        record([score(world, world.student, "0", 2), score(world, world.student, "0", 1)])
    assert client.get(url).content != before
    client.force_login(world.other_teacher)
    assert client.get(url).status_code == 404


def test_a_write_that_cannot_read_its_sections_after_commit_still_succeeds(
    world: World, django_capture_on_commit_callbacks
) -> None:
    from unittest import mock

    from django.db import DatabaseError

    version = dashboard_cache.section_versions(world.section)
    with (
        mock.patch.object(Enrollment.objects, "current", side_effect=DatabaseError("gone")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        # The score's own assessment is in world.section: that section is retired regardless.
        scores_record(scores=[score(world, world.student, "5", 1)], enqueue=False)
    assert dashboard_cache.section_versions(world.section)[1] != version[1]


def test_a_transactions_writes_retire_their_sections_once(
    world: World, django_capture_on_commit_callbacks
) -> None:
    """Many recompute batches in one transaction (a bulk load) send one mastery_changed for the
    union of their sections, not one per batch."""
    from assessments.signals import mastery_changed, mastery_changed_for_students_on_commit

    sent: list[set[int]] = []

    def receiver(section_ids: set[int], **_: object) -> None:
        sent.append(set(section_ids))

    mastery_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            mastery_changed_for_students_on_commit([world.student.pk])
            mastery_changed_for_students_on_commit([world.other_section_student.pk])
            mastery_changed_for_students_on_commit([], [world.section.pk])
    finally:
        mastery_changed.disconnect(receiver)
    assert len(callbacks) == 3
    assert sent == [{world.section.pk, world.other_section.pk}]

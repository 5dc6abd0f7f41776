"""How access_log_record writes: one row per distinct student, the same columns and values on
PostgreSQL (one INSERT ... SELECT FROM unnest()) as through bulk_create (SQLite), one query."""

import datetime as dt
from unittest import mock

import pytest
from django.db import DataError, connection, connections, transaction
from django.test import override_settings

from accounts.models import Role
from privacy import services
from privacy.models import AccessLogEntry
from privacy.services import StudentRef, access_log_record, student_log_key
from tests.conftest import World

pytestmark = pytest.mark.django_db

COLUMNS = [
    "at",
    "actor_user_id",
    "actor_app",
    "actor_label",
    "actor_name",
    "role",
    "what",
    "path",
    "purpose",
    "student_id",
    "student_key",
]
AT = dt.datetime(2026, 11, 2, 9, 30, 15, 123456, tzinfo=dt.UTC)


def rows_after(last_pk: int) -> list[dict]:
    return list(AccessLogEntry.objects.filter(pk__gt=last_pk).order_by("pk").values(*COLUMNS))


def last_pk() -> int:
    return AccessLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_one_row_per_distinct_student_in_the_order_shown(
    world: World, django_assert_num_queries
) -> None:
    shown = [world.classmate, world.student, world.classmate, world.student]
    with django_assert_num_queries(1), mock.patch("privacy.services.timezone.now", return_value=AT):
        written = access_log_record(
            actor=world.teacher,
            role=Role.TEACHER,
            what="section roster",
            students=shown,
            path="/sections/1/",
            purpose="teaching",
        )
    assert written == 2
    assert rows_after(0) == [
        {
            "at": AT,
            "actor_user_id": world.teacher.pk,
            "actor_app": "",
            "actor_label": world.teacher.email,
            "actor_name": getattr(world.teacher.staff_record, "display_name", None),
            "role": "teacher",  # the choice's value, not its name
            "what": "section roster",
            "path": "/sections/1/",
            "purpose": "teaching",
            "student_id": student.pk,
            "student_key": student_log_key(student.uuid),
        }
        for student in (world.classmate, world.student)
    ]


def test_nobody_shown_writes_nothing(world: World, django_assert_num_queries) -> None:
    with django_assert_num_queries(0):
        assert access_log_record(actor=world.teacher, role="teacher", what="x", students=[]) == 0


def test_an_application_actor_and_a_student_ref_are_logged_as_before(world: World) -> None:
    ref = StudentRef(id=world.student.pk, uuid=str(world.student.uuid))
    access_log_record(
        actor=None, role="app", what="export", students=[ref], actor_app="SIS sync", path="/x" * 400
    )
    row = AccessLogEntry.objects.get()
    assert row.actor_user_id is None
    assert (row.actor_app, row.actor_label) == ("SIS sync", "SIS sync")
    assert row.path == ("/x" * 400)[:500]
    assert row.student_key == student_log_key(world.student.uuid)


def test_the_student_key_follows_the_configured_key(world: World) -> None:
    access_log_record(actor=world.teacher, role="teacher", what="x", students=[world.student])
    other_key = "b3RoZXItdGVzdC1obWFjLWtleS1ub3Qtc2VjcmV0LTA="
    with override_settings(TRELLIS_HMAC_KEY=other_key):
        access_log_record(actor=world.teacher, role="teacher", what="y", students=[world.student])
        rekeyed = student_log_key(world.student.uuid)
    first, second = (AccessLogEntry.objects.get(what=what).student_key for what in ("x", "y"))
    assert second == rekeyed != first == student_log_key(world.student.uuid)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the unnest INSERT is PostgreSQL's")
def test_postgresql_writes_the_rows_bulk_create_writes(
    world: World, django_assert_num_queries
) -> None:
    with django_assert_num_queries(1) as captured:
        access_log_record(actor=world.teacher, role="teacher", what="x", students=[world.student])
    assert "unnest(" in captured.captured_queries[0]["sql"]
    shown = [world.classmate, world.other_section_student, world.student]
    ids = [student.pk for student in shown]
    keys = [student_log_key(student.uuid) for student in shown]
    for actor_user_id, actor_app, label in (
        (world.principal.pk, "", "p@example.org"),
        (None, "app", "app"),
    ):
        shared: dict[str, object] = {
            "at": AT,
            "actor_user_id": actor_user_id,
            "actor_app": actor_app,
            "actor_label": label,
            "role": "principal",
            "what": "standard in section",
            "path": "/sections/1/standards/2/",
            "purpose": "review",
        }
        before = last_pk()
        services._access_log_insert_unnest(connections["default"], shared, ids, keys)
        unnested = rows_after(before)
        before = last_pk()
        services._access_log_bulk_create(shared, ids, keys)
        created = rows_after(before)
        assert [row["student_id"] for row in unnested] == ids
        assert unnested == created


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite does not check lengths")
def test_postgresql_refuses_an_over_long_value_instead_of_cutting_it(world: World) -> None:
    with pytest.raises(DataError), transaction.atomic():
        access_log_record(
            actor=None, role="app", what="x", students=[world.student], actor_app="a" * 201
        )
    assert not AccessLogEntry.objects.exists()

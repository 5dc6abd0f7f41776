"""The name a family reads in the access log: resolved through the actor's staff (or guardian)
record as the row is written, kept in the row (a snapshot that outlives a renamed or deleted
account), and costing no query beyond the one INSERT."""

import pytest
from django.db import connection, connections

from accounts.models import Role, User
from privacy import services
from privacy.models import AccessLogEntry
from privacy.services import access_log_record, student_log_key
from students.models import Staff
from tests import factories
from tests.conftest import World

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    """The user as a request loads it: no linked record read yet."""
    return User.objects.get(pk=user.pk)


def staff_of(user: User) -> Staff:
    assert user.staff_record is not None
    return user.staff_record


def written_name(actor: object, role: str, world: World) -> str:
    access_log_record(actor=actor, role=role, what="x", students=[world.student])
    return AccessLogEntry.objects.order_by("-pk").values_list("actor_name", flat=True)[0]


def test_a_teacher_is_named_by_their_staff_record_in_the_insert_alone(
    world: World, django_assert_num_queries
) -> None:
    staff = staff_of(world.teacher)
    staff.preferred_first_name = "Sunny"
    staff.save()
    # The account's own name disagrees: the staff record wins.
    User.objects.filter(pk=world.teacher.pk).update(full_name="Account Name")
    teacher = fresh(world.teacher)
    with django_assert_num_queries(1):
        access_log_record(
            actor=teacher,
            role=Role.TEACHER,
            what="section roster",
            students=[world.student, world.classmate],
        )
    rows = list(AccessLogEntry.objects.values_list("actor_name", "actor_label", "role"))
    assert rows == [(f"Sunny {staff.last_name}", teacher.email, "teacher")] * 2


def test_a_loaded_staff_record_is_named_without_a_sub_select(
    world: World, django_assert_num_queries
) -> None:
    teacher = fresh(world.teacher)
    staff = staff_of(teacher)  # loaded, as a page that showed it would have
    with django_assert_num_queries(1) as captured:
        access_log_record(actor=teacher, role="teacher", what="x", students=[world.student])
    assert "students_staff" not in captured.captured_queries[0]["sql"]
    assert AccessLogEntry.objects.get().actor_name == staff.display_name


def test_a_guardian_is_named_by_their_guardian_record(world: World) -> None:
    User.objects.filter(pk=world.parent.pk).update(full_name="")
    assert written_name(fresh(world.parent), "guardian", world) == world.guardian.display_name


def test_someone_both_staff_and_guardian_is_named_by_the_record_of_the_role_they_read_in(
    world: World,
) -> None:
    staff = factories.StaffFactory.create(district=world.district, first_name="Staffname")
    guardian = factories.GuardianFactory.create(district=world.district, first_name="Homename")
    both = factories.UserFactory.create(staff_record=staff, guardian_record=guardian)
    assert written_name(fresh(both), "teacher", world) == staff.display_name
    assert written_name(fresh(both), "guardian", world) == guardian.display_name


def test_without_a_record_the_account_name_then_the_email(world: World) -> None:
    assert written_name(fresh(world.principal), "principal", world) == "Pat Principal"
    nameless = factories.UserFactory.create(full_name="")
    assert written_name(fresh(nameless), "principal", world) == nameless.email


def test_an_application_is_named_as_itself_and_a_command_by_nobody(world: World) -> None:
    assert written_name(None, "app", world) == ""  # a command: its role says who
    access_log_record(
        actor=None, role="app", what="x", students=[world.student], actor_app="SIS sync"
    )
    assert AccessLogEntry.objects.order_by("-pk")[0].actor_name == "SIS sync"


def test_the_name_is_a_snapshot_that_outlives_a_rename_and_the_account(world: World) -> None:
    staff = staff_of(world.teacher)
    named = staff.display_name
    access_log_record(
        actor=fresh(world.teacher), role="teacher", what="x", students=[world.student]
    )
    staff.first_name, staff.preferred_first_name = "Renamed", ""
    staff.save()
    teacher_pk, email = world.teacher.pk, world.teacher.email
    User.objects.filter(pk=teacher_pk).delete()
    row = AccessLogEntry.objects.get()
    assert (row.actor_user_id, row.actor_name, row.actor_label, row.role) == (
        teacher_pk,
        named,
        email,
        "teacher",
    )


def test_a_staff_record_deleted_since_the_account_was_read_falls_back_to_the_account(
    world: World,
) -> None:
    teacher = fresh(world.teacher)
    Staff.objects.filter(user__pk=teacher.pk).delete()  # not loaded on `teacher`
    assert written_name(teacher, "teacher", world) == teacher.full_name


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the unnest INSERT is PostgreSQL's")
def test_postgresql_writes_the_name_bulk_create_writes(world: World) -> None:
    students = [world.student, world.classmate]
    ids = [student.pk for student in students]
    keys = [student_log_key(student.uuid) for student in students]
    shared = {
        "at": services.timezone.now(),
        "actor_user_id": world.teacher.pk,
        "actor_app": "",
        "actor_label": world.teacher.email,
        "actor_name": services._actor_name(fresh(world.teacher), "teacher"),
        "role": "teacher",
        "what": "x",
        "path": "",
        "purpose": "",
    }
    services._access_log_insert_unnest(connections["default"], shared, ids, keys)
    services._access_log_bulk_create(shared, ids, keys)
    names = list(AccessLogEntry.objects.order_by("pk").values_list("actor_name", flat=True))
    assert names == [staff_of(world.teacher).display_name] * 4

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from privacy.models import AccessLogEntry, AppendOnlyError
from privacy.services import access_log_record, student_log_key
from tests.conftest import World

pytestmark = pytest.mark.django_db


def test_student_page_writes_one_row(client, world: World) -> None:
    client.force_login(world.teacher)
    client.get(reverse("students:student_detail", kwargs={"pk": world.student.pk}))
    entry = AccessLogEntry.objects.get(what="student record")
    assert entry.actor_user_id == world.teacher.pk
    assert entry.role == "teacher"
    assert entry.student_id == world.student.pk
    assert entry.student_key == student_log_key(world.student.uuid)
    assert entry.path == f"/students/{world.student.pk}/"


def test_roster_writes_one_row_per_student_in_one_query(
    client, world: World, django_assert_num_queries
) -> None:
    client.force_login(world.teacher)
    client.get(reverse("students:section_detail", kwargs={"pk": world.section.pk}))
    rows = AccessLogEntry.objects.filter(what="section roster")
    assert {row.student_id for row in rows} == {world.student.pk, world.classmate.pk}
    assert {row.role for row in rows} == {"teacher"}
    with django_assert_num_queries(1):
        access_log_record(
            actor=world.teacher, role="teacher", what="x", students=[world.student, world.classmate]
        )


def test_denied_page_writes_nothing(client, world: World) -> None:
    client.force_login(world.other_teacher)
    response = client.get(reverse("students:student_detail", kwargs={"pk": world.student.pk}))
    assert response.status_code == 404
    assert not AccessLogEntry.objects.exists()


def test_guardian_home_logs_the_children_shown(client, world: World) -> None:
    client.force_login(world.parent)
    # A guardian's home is the family portal's list of their children.
    client.get(reverse("portal:children"))
    assert list(AccessLogEntry.objects.values_list("student_id", flat=True)) == [world.student.pk]


def test_admin_pages_log_students_shown(client, world: World) -> None:
    world.district_staff.is_staff = True
    world.district_staff.is_superuser = True
    world.district_staff.save()
    client.force_login(world.district_staff)
    assert client.get(reverse("admin:students_student_changelist")).status_code == 200
    assert AccessLogEntry.objects.filter(what__startswith="admin:").count() == 5
    client.get(reverse("admin:students_student_change", args=[world.student.pk]))
    assert (
        AccessLogEntry.objects.filter(what="admin: student", student_id=world.student.pk).count()
        == 1
    )


def test_rows_cannot_be_changed_or_deleted_by_the_application(world: World) -> None:
    access_log_record(actor=world.teacher, role="teacher", what="x", students=[world.student])
    entry = AccessLogEntry.objects.get()
    entry.what = "rewritten"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AccessLogEntry.objects.filter(pk=entry.pk).update(what="rewritten")
    with pytest.raises(AppendOnlyError):
        AccessLogEntry.objects.all().delete()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only"
)
def test_database_trigger_refuses_update_and_delete(world: World) -> None:
    access_log_record(actor=world.teacher, role="teacher", what="x", students=[world.student])
    for statement in (
        "UPDATE privacy_accesslogentry SET what = 'rewritten'",
        "DELETE FROM privacy_accesslogentry",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement)
    assert AccessLogEntry.objects.get().what == "x"


def test_rows_survive_the_students_deletion(world: World) -> None:
    access_log_record(actor=world.teacher, role="teacher", what="x", students=[world.student])
    key = student_log_key(world.student.uuid)
    world.student.delete()
    assert AccessLogEntry.objects.filter(student_key=key).count() == 1

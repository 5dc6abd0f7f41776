"""Web processes and workers connect as a runtime role that owns nothing (privacy.roles,
`manage.py grant_runtime_role`, docs/database-roles.md). Connected as it, every way we know to
erase or rewrite the access log is refused, while the same statements run for the owner, which is
how the application connected before; and the application still works: pages and their log rows,
sessions, imports, and bulk scores, which keep their row-by-row key checks.

The role is cluster-wide: each test makes its own (a unique name), grants it with the function the
docs give, and drops it. Transactional tests, so that the role's own connection sees the rows and
the grants."""

import datetime as dt
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from io import StringIO

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from assessments.models import MasteryEstimate, Score
from assessments.services import ScoreInput, bulk_sql, scores_record_bulk
from privacy.models import AccessLogEntry
from privacy.roles import (
    RuntimeRoleUnsafe,
    runtime_role_drop,
    runtime_role_grant,
    runtime_role_problems,
)
from privacy.services import access_log_record
from students import bulk_keys
from tests.conftest import PASSWORD, World

pytestmark = pytest.mark.django_db(transaction=True)
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="database roles are PostgreSQL's (SQLite, the demo's database, has none)",
)

LOG = AccessLogEntry._meta.db_table
TRIGGER = "privacy_access_log_append_only"
LOG_COLUMNS = "at, actor_app, actor_label, role, what, path, purpose, student_key"
TRUNCATE = f"TRUNCATE {LOG}"
DISABLE_TRIGGER = f"ALTER TABLE {LOG} DISABLE TRIGGER {TRIGGER}"
REPLICA = "SET session_replication_role = replica"
REPLICA_BY_FUNCTION = "SELECT set_config('session_replication_role', 'replica', false)"
UPDATE = f"UPDATE {LOG} SET what = 'rewritten'"
DELETE = f"DELETE FROM {LOG}"
UPSERT = (
    f"INSERT INTO {LOG} (id, {LOG_COLUMNS}) SELECT id, {LOG_COLUMNS} FROM {LOG}"
    " ON CONFLICT (id) DO UPDATE SET what = 'rewritten'"
)
DROP_TABLE = f"DROP TABLE {LOG}"
# Each way tried to change or erase the log's rows, or to switch off what guards them.
TRIED = [
    TRUNCATE,
    DISABLE_TRIGGER,
    f"ALTER TABLE {LOG} DISABLE TRIGGER ALL",
    REPLICA,
    REPLICA_BY_FUNCTION,
    UPDATE,
    DELETE,
    UPSERT,
    f"SELECT id FROM {LOG} FOR UPDATE",
    DROP_TABLE,
    f"ALTER TABLE {LOG} RENAME TO {LOG}_old",
    f"DROP TRIGGER {TRIGGER} ON {LOG}",
    f"CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql"
    " AS $$ BEGIN RETURN OLD; END $$",
    f"DROP FUNCTION {TRIGGER}() CASCADE",
    "CREATE TABLE trellis_planted (id int)",
]
# Too heavy to try as the owner, even rolled back.
TRIED_AS_RUNTIME_ONLY = ["DROP SCHEMA public CASCADE"]
# What the trigger refuses the owner; the owner's way around it, and a superuser's.
ROW_CHANGES = {UPDATE, DELETE, UPSERT}
OWNER_ERASES = f"{DISABLE_TRIGGER}; {DELETE}"
SUPERUSER_ERASES = f"{REPLICA}; {DELETE}"
SUPERUSER_ONLY = {REPLICA, REPLICA_BY_FUNCTION, SUPERUSER_ERASES}


@pytest.fixture
def runtime_role() -> Iterator[str]:
    """A runtime role granted as documented, with a password (for servers that ask for one)."""
    role = f"trellis_app_test_{os.getpid()}_{secrets.token_hex(4)}"
    runtime_role_grant(role=role)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER ROLE "{role}" PASSWORD %s', [role])
        yield role
    finally:
        connection.close()  # a session of the role's own would stop DROP ROLE
        runtime_role_drop(role=role)


def owner() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = %s::regclass", [LOG]
        )
        return cursor.fetchone()[0]


@contextmanager
def connected(user: str, password: str | None) -> Iterator[psycopg.Connection]:
    settings = connection.settings_dict
    session = psycopg.connect(
        dbname=settings["NAME"],
        user=user,
        password=password,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        autocommit=True,
    )
    try:
        yield session
    finally:
        session.close()


def outcome(session: psycopg.Connection, statement: str) -> str:
    """`ran`, or why PostgreSQL refused the statements (privileges or the trigger); rolled back
    either way. Any other error (a mistyped statement) fails the test."""
    try:
        with session.transaction(force_rollback=True):
            session.execute(statement)
    except psycopg.errors.InsufficientPrivilege as error:
        return f"refused: {error.diag.message_primary}"
    except psycopg.errors.RaiseException as error:
        return f"refused by the trigger: {error.diag.message_primary}"
    return "ran"


@contextmanager
def django_connected_as(role: str) -> Iterator[None]:
    """This process's own database connection logged in as `role` for the block, so that
    services, views and commands run as web processes and workers would."""
    settings = connection.settings_dict
    saved = settings["USER"], settings["PASSWORD"]
    connection.close()
    settings["USER"], settings["PASSWORD"] = role, role
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] == role
        yield
    finally:
        connection.close()
        settings["USER"], settings["PASSWORD"] = saved


def log_rows() -> list[tuple]:
    return list(AccessLogEntry.objects.order_by("pk").values_list("pk", "what"))


@postgresql_only
def test_the_runtime_role_cannot_erase_or_rewrite_the_log(world: World, runtime_role: str) -> None:
    access_log_record(actor=world.teacher, role="teacher", what="x", students=[world.student])
    with connected(runtime_role, runtime_role) as session:
        session.execute(
            f"INSERT INTO {LOG} ({LOG_COLUMNS}) VALUES"
            " (now(), '', 'probe', 'teacher', 'appended', '', '', 'k')"
        )
        assert session.execute(f"SELECT count(*) FROM {LOG}").fetchone() == (2,)
        before = log_rows()
        tried = [*TRIED, *TRIED_AS_RUNTIME_ONLY, OWNER_ERASES, SUPERUSER_ERASES]
        outcomes = {s: outcome(session, s) for s in [*tried, f"SET ROLE {owner()}"]}
        # Granting itself more runs (with a warning) and gives nothing.
        session.execute(f"GRANT UPDATE, DELETE, TRUNCATE ON {LOG} TO CURRENT_USER")
        outcomes["UPDATE after GRANT ... TO CURRENT_USER"] = outcome(session, UPDATE)
    # Every one refused for want of a privilege, before the trigger is reached.
    allowed = {s: result for s, result in outcomes.items() if not result.startswith("refused: ")}
    assert not allowed, allowed
    assert (
        outcomes[TRUNCATE]
        == outcomes[UPDATE]
        == outcomes[DELETE]
        == outcomes[UPSERT]
        == f"refused: permission denied for table {LOG}"
    )
    assert (
        outcomes[DISABLE_TRIGGER]
        == outcomes[DROP_TABLE]
        == f"refused: must be owner of table {LOG}"
    )
    assert (
        outcomes[REPLICA]
        == outcomes[REPLICA_BY_FUNCTION]
        == 'refused: permission denied to set parameter "session_replication_role"'
    )
    assert log_rows() == before and [what for _, what in before] == ["x", "appended"]
    assert runtime_role_problems(role=runtime_role) == []


@postgresql_only
def test_the_owner_could_do_all_of_it(world: World) -> None:
    """The same statements as the owner (the test database's user, as the application connected
    before): they are real ways to erase the log, not mistakes refused for another reason."""
    access_log_record(actor=world.teacher, role="teacher", what="x", students=[world.student])
    settings = connection.settings_dict
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        (superuser,) = cursor.fetchone()
    tried = [*TRIED, OWNER_ERASES, SUPERUSER_ERASES]
    with connected(settings["USER"], settings["PASSWORD"] or None) as session:
        outcomes = {statement: outcome(session, statement) for statement in tried}
    expected = set(tried) - ROW_CHANGES - (set() if superuser else SUPERUSER_ONLY)
    assert {s for s, result in outcomes.items() if result == "ran"} == expected
    assert {outcomes[s] for s in ROW_CHANGES} == {
        f"refused by the trigger: {LOG} is append-only: {op} refused"
        for op in ("UPDATE", "DELETE", "UPDATE")
    }
    assert [what for _, what in log_rows()] == ["x"]  # every attempt was rolled back


@postgresql_only
def test_the_app_works_under_the_runtime_role(client, world: World, runtime_role: str) -> None:
    """Sign-in (allauth, the session table), a page and its log row, an import (temporary
    tables) and sign-out, connected as the runtime role."""
    from tests.interop.conftest import FIXTURES, run_import

    with django_connected_as(runtime_role):
        response = client.post(
            "/accounts/login/", {"login": world.teacher.email, "password": PASSWORD}
        )
        assert response.status_code == 302
        page = client.get(reverse("students:student_detail", kwargs={"pk": world.student.pk}))
        assert page.status_code == 200
        imported = run_import(FIXTURES / "v12")
        assert imported.exit_code == 0, imported.stderr
        assert client.post("/accounts/logout/").status_code == 302
    assert (
        AccessLogEntry.objects.filter(what="student record", actor_user=world.teacher).count() == 1
    )


def foreign_keys() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
            " FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])"
            " ORDER BY 1, 2",
            [list(bulk_sql.BULK_TABLES)],
        )
        return cursor.fetchall()


@postgresql_only
def test_bulk_scores_under_the_runtime_role_keep_the_row_checks(
    world: World,
    runtime_role: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A large batch tries to drop the score tables' foreign keys (ALTER TABLE, the owner's):
    refused, it keeps the row-by-row checks, writes the scores, and a dangling reference still
    fails the whole batch."""
    monkeypatch.setattr(bulk_keys, "BULK_FOREIGN_KEY_ROWS", 1)
    keys = foreign_keys()
    day = dt.date(2026, 10, 1)
    assessment = world.assessment
    scores = [
        ScoreInput(
            student_id=student.pk,
            assessment_id=assessment.pk,
            scored_on=day,
            points=Decimal(points),
        )
        for student, points in ((world.student, "8"), (world.classmate, "6"))
    ]
    dangling = ScoreInput(
        student_id=world.student.pk + 10_000,
        assessment_id=assessment.pk,
        scored_on=day,
        points=Decimal("5"),
    )
    with django_connected_as(runtime_role):
        with caplog.at_level("INFO", logger="students.bulk_keys"):
            result = scores_record_bulk(scores=scores)
        with pytest.raises(IntegrityError, match="student"), transaction.atomic():
            scores_record_bulk(scores=[dangling._replace(scored_on=day + dt.timedelta(days=1))])
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    assert "row-by-row key checks" in caplog.text and "must be owner of table" in caplog.text
    assert foreign_keys() == keys
    assert Score.objects.filter(student_assessment__assessment=assessment).count() == 2
    assert MasteryEstimate.objects.filter(pending_since__isnull=False).count() == 2


@postgresql_only
def test_a_first_import_under_the_runtime_role_keeps_its_indexes_and_keys(
    runtime_role: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A first load large enough tries to drop its tables' plain indexes and foreign keys (the
    owner's right): refused at once under the runtime role, the import writes the same records
    with every index and key in place."""
    from tests.interop.conftest import FIXTURES, run_import, statistics_of_an_empty_district
    from tests.interop.test_first_load import indexes

    monkeypatch.setattr(bulk_keys, "FIRST_LOAD_ROWS", 1)
    statistics_of_an_empty_district()
    before = indexes()
    with django_connected_as(runtime_role), caplog.at_level("INFO", logger="students.bulk_keys"):
        imported = run_import(FIXTURES / "v12")
    assert imported.exit_code == 0, imported.stderr
    assert imported.report["entities"]["enrollments"]["created"] > 0
    assert "keeps its indexes through the load" in caplog.text
    assert "must be owner of" in caplog.text
    assert indexes() == before


@postgresql_only
def test_a_role_that_is_or_may_become_the_owner_is_refused(runtime_role: str) -> None:
    """The owner's own role, or one that may SET ROLE to it, cannot be made a runtime role:
    grants do not take ownership or membership away."""
    with pytest.raises(RuntimeRoleUnsafe, match="superuser|owns"):
        runtime_role_grant(role=owner())
    with connection.cursor() as cursor:
        cursor.execute(f'GRANT "{owner()}" TO "{runtime_role}"')
    try:
        with pytest.raises(RuntimeRoleUnsafe, match=f"member of {owner()}"):
            runtime_role_grant(role=runtime_role)
        assert runtime_role_problems(role=runtime_role)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'REVOKE "{owner()}" FROM "{runtime_role}"')
    assert runtime_role_problems(role=runtime_role) == []


@postgresql_only
def test_granting_again_takes_back_what_was_given_by_hand(runtime_role: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'GRANT UPDATE (what), DELETE, TRUNCATE ON {LOG} TO "{runtime_role}"')
        cursor.execute(f'GRANT CREATE ON SCHEMA public TO "{runtime_role}"')
    assert runtime_role_problems(role=runtime_role) == [
        f"{runtime_role} holds UPDATE, DELETE, TRUNCATE on {LOG}",
        f"{runtime_role} may create objects in schema public",
    ]
    runtime_role_grant(role=runtime_role)
    assert runtime_role_problems(role=runtime_role) == []


@postgresql_only
def test_the_command_prints_applies_and_checks(runtime_role: str) -> None:
    printed = StringIO()
    call_command("grant_runtime_role", "--role", runtime_role, stdout=printed)
    sql = printed.getvalue()
    assert (
        f'GRANT SELECT, INSERT ON\n    "{LOG}",\n    "rights_rightsevent"\nTO "{runtime_role}";'
        in sql
    )
    assert "CREATE ROLE" not in sql  # it exists
    call_command("grant_runtime_role", "--role", runtime_role, "--apply", stdout=StringIO())
    checked = StringIO()
    call_command("grant_runtime_role", "--role", runtime_role, "--check", stdout=checked)
    assert "cannot change or erase the access log" in checked.getvalue()
    with pytest.raises(CommandError, match="could change or erase"):
        call_command("grant_runtime_role", "--role", owner(), "--check", stdout=StringIO())


@pytest.mark.skipif(connection.vendor == "postgresql", reason="about databases without roles")
def test_the_command_says_there_are_no_roles_without_postgresql() -> None:
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("grant_runtime_role", "--apply", stdout=StringIO())


def test_the_rights_trail_is_append_only_for_the_runtime_role() -> None:
    """Apps register their own append-only tables (privacy.roles.append_only_register): the rights
    trail is granted SELECT and INSERT only, with its trigger checked; a disclosure record, which
    goes with its student's row, stays deletable."""
    from privacy.roles import APPEND_ONLY, APPEND_ONLY_TRIGGERS, runtime_table_privileges
    from rights.models import DisclosureRecord, RightsEvent

    privileges = runtime_table_privileges()
    assert privileges[RightsEvent._meta.db_table] == APPEND_ONLY
    assert APPEND_ONLY_TRIGGERS[RightsEvent._meta.db_table] == "rights_event_append_only"
    assert "DELETE" in privileges[DisclosureRecord._meta.db_table]


@postgresql_only
def test_the_runtime_role_cannot_erase_the_rights_trail(world: World, runtime_role: str) -> None:
    table = "rights_rightsevent"
    with connected(runtime_role, runtime_role) as session:
        refused = {
            statement: outcome(session, statement)
            for statement in (f"DELETE FROM {table}", f"UPDATE {table} SET action = 'x'")
        }
    assert all(
        result == f"refused: permission denied for table {table}" for result in refused.values()
    ), refused
    assert runtime_role_problems(role=runtime_role) == []

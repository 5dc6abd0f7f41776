"""The database roles on PostgreSQL, and the privileges that keep the access log append-only
against the application itself (docs/database-roles.md).

- The owner role owns the tables, the append-only trigger and its function: `manage.py migrate`
  runs as it, and so may the test suite (pytest-django empties tables with TRUNCATE).
- The runtime role is what web processes and Celery workers connect as. It owns nothing and may
  read and write every table the models use, but only read and append to the access log. Not
  being the owner, it cannot TRUNCATE the log, disable, drop or replace its trigger, or drop the
  table; not being a superuser, it cannot set session_replication_role.

`runtime_role_grant` (`manage.py grant_runtime_role --apply`) creates the runtime role if it is
missing and gives it exactly those privileges, in one transaction, then refuses (rolling it all
back) if the role could still change or erase the log; `runtime_role_problems` says how it could.
Tables come from Django's app registry, so that this module imports no other app.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, replace

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

from privacy.models import AccessLogEntry

DEFAULT_RUNTIME_ROLE = "trellis_app"

READ_WRITE = ("SELECT", "INSERT", "UPDATE", "DELETE")
APPEND_ONLY = ("SELECT", "INSERT")
READ_ONLY = ("SELECT",)
# Tables whose rows the application adds and reads, and never changes or deletes: the access log
# first, then those other apps register from their AppConfig.ready() (append_only_register).
APPEND_ONLY_TABLES: list[str] = [AccessLogEntry._meta.db_table]
# What the runtime role must hold on none of them, directly or through PUBLIC or a membership.
APPEND_ONLY_REFUSED = ("UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
# The trigger that refuses UPDATE and DELETE whoever asks (privacy/migrations/0003).
APPEND_ONLY_TRIGGERS = {AccessLogEntry._meta.db_table: "privacy_access_log_append_only"}


def append_only_register(table: str, *, trigger: str) -> None:
    """Another app's append-only table, with the trigger that refuses UPDATE and DELETE on it:
    the runtime role is granted SELECT and INSERT on it only, and the check requires the
    trigger (privacy itself imports no app, so they come to it)."""
    if table not in APPEND_ONLY_TABLES:
        APPEND_ONLY_TABLES.append(table)
    APPEND_ONLY_TRIGGERS[table] = trigger


# Written by `migrate`, which runs as the owner; web processes only read it.
READ_ONLY_TABLES = ("django_migrations",)

ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class RuntimeRoleError(Exception):
    """The runtime role cannot be granted as asked (not PostgreSQL, no tables yet, a bad name)."""


class RuntimeRoleUnsafe(RuntimeRoleError):
    """After the grants, the role could still change or erase the log: nothing was granted."""

    def __init__(self, role: str, problems: list[str]) -> None:
        self.role = role
        self.problems = problems
        super().__init__(
            f"{role} could still change or erase the access log: {'; '.join(problems)}"
        )


def runtime_table_privileges() -> dict[str, tuple[str, ...]]:
    """Every table of the installed models (many-to-many tables included) with what the runtime
    role may do to it: read and write, except append-only and read-only tables."""
    tables: dict[str, tuple[str, ...]] = {
        model._meta.db_table: READ_WRITE
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }
    tables.update(dict.fromkeys(APPEND_ONLY_TABLES, APPEND_ONLY))
    tables.update(dict.fromkeys(READ_ONLY_TABLES, READ_ONLY))
    return dict(sorted(tables.items()))


@dataclass(frozen=True)
class _Database:
    """Where the grants go: the schema holding the access log, its owner and its tables."""

    role: str
    role_exists: bool
    owner: str
    schema: str
    database: str
    tables: frozenset[str]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _postgresql(using: str) -> BaseDatabaseWrapper:
    connection = connections[using]
    if connection.vendor != "postgresql":
        raise RuntimeRoleError(
            f"Database roles are PostgreSQL's; {connection.vendor} has none (the SQLite demo "
            "runs as one user and needs none)."
        )
    return connection


def _database(cursor: CursorWrapper, role: str) -> _Database:
    if not ROLE_NAME.fullmatch(role):
        raise RuntimeRoleError(
            f"{role!r} is not a plain role name (lower-case letters, digits and _, at most 63)."
        )
    cursor.execute(
        "SELECT pg_get_userbyid(c.relowner), n.nspname, current_database()"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.oid = to_regclass(%s)",
        [APPEND_ONLY_TABLES[0]],
    )
    row = cursor.fetchone()
    if row is None:
        raise RuntimeRoleError(
            f"No table {APPEND_ONLY_TABLES[0]}: run manage.py migrate (as the owner) first."
        )
    owner, schema, database = row
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
    tables = frozenset(name for (name,) in cursor.fetchall())
    cursor.execute("SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = %s)", [role])
    (role_exists,) = cursor.fetchone()
    return _Database(role, role_exists, owner, schema, database, tables)


def _grant_statements(db: _Database) -> list[str]:
    role, schema, owner = _quoted(db.role), _quoted(db.schema), _quoted(db.owner)
    statements = []
    if not db.role_exists:
        # No attribute that reaches past the grants: a superuser may do anything, a role with
        # CREATEROLE may make itself a member of the owner.
        statements.append(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")
    statements += [
        # From nothing, so that running this again also takes back what was given before (one
        # transaction: the application never sees the role without its grants).
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}",
        f"REVOKE ALL ON SCHEMA {schema} FROM {role}",
        f"REVOKE ALL ON DATABASE {_quoted(db.database)} FROM {role}",
        # PostgreSQL 15's default, not that of databases made before it: whoever may create
        # objects in the schema may plant a function that a migration run by the owner calls.
        f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC",
        # TEMPORARY: bulk imports stage rows in temporary tables.
        f"GRANT CONNECT, TEMPORARY ON DATABASE {_quoted(db.database)} TO {role}",
        f"GRANT USAGE ON SCHEMA {schema} TO {role}",
    ]
    by_privileges: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for table, privileges in runtime_table_privileges().items():
        if table in db.tables:
            by_privileges[privileges].append(table)
    for privileges, tables in by_privileges.items():
        listed = ",\n    ".join(map(_quoted, tables))
        statements.append(f"GRANT {', '.join(privileges)} ON\n    {listed}\nTO {role}")
    statements += [
        f"REVOKE {', '.join(APPEND_ONLY_REFUSED)} ON {_quoted(table)} FROM PUBLIC"
        for table in APPEND_ONLY_TABLES
    ]
    statements += [
        # Identity columns need none; a serial column of a third-party app would.
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
        # Tables and sequences that later migrations create (as the owner) are usable at once;
        # run the grants again after migrating all the same, for a new append-only table.
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema}"
        f" GRANT {', '.join(READ_WRITE)} ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema}"
        f" GRANT USAGE ON SEQUENCES TO {role}",
    ]
    return statements


def _standing_problems(cursor: CursorWrapper, db: _Database) -> list[str]:
    """What no grant or revoke takes away: the role's attributes, and what it owns."""
    cursor.execute("SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = %s", [db.role])
    row = cursor.fetchone()
    if row is None:
        return [f"there is no role {db.role}"]
    superuser, createrole = row
    if superuser:
        return [f"{db.role} is a superuser: it may do anything, set session_replication_role too"]
    problems = []
    if createrole:
        problems.append(f"{db.role} has CREATEROLE: it may make itself a member of the owner")
    # A role it may SET ROLE to: a superuser, one with CREATEROLE, or one of those that run
    # programs or read and write files on the server as the operating system's postgres user.
    cursor.execute(
        """
        SELECT rolname, CASE WHEN rolsuper THEN 'a superuser'
            WHEN rolcreaterole THEN 'a role with CREATEROLE'
            ELSE 'allowed programs or files on the server' END
        FROM pg_roles
        WHERE rolname <> %(role)s AND pg_has_role(%(role)s, oid, 'MEMBER')
          AND (rolsuper OR rolcreaterole OR rolname IN (
              'pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files'))
        ORDER BY 1
        """,
        {"role": db.role},
    )
    for member_of, which in cursor.fetchall():
        problems.append(f"{db.role} is a member of {member_of}, {which}")
    # Whoever owns (or is a member of the owner of) a table or function of the schema, the
    # schema or the database may alter, disable or drop them: DROP SCHEMA ... CASCADE drops
    # even the tables that the schema's owner does not own.
    cursor.execute(
        """
        SELECT pg_get_userbyid(owner), string_agg(DISTINCT kind, ', ' ORDER BY kind)
        FROM (
            SELECT 'tables' AS kind, relowner AS owner FROM pg_class
            WHERE relnamespace = %(schema)s::regnamespace
            UNION ALL SELECT 'functions', proowner FROM pg_proc
            WHERE pronamespace = %(schema)s::regnamespace
            UNION ALL SELECT 'the schema', nspowner FROM pg_namespace WHERE nspname = %(schema)s
            UNION ALL SELECT 'the database', datdba FROM pg_database
            WHERE datname = current_database()
        ) owned
        WHERE pg_has_role(%(role)s, owner, 'MEMBER')
        GROUP BY owner ORDER BY 1
        """,
        {"schema": db.schema, "role": db.role},
    )
    for owner, kinds in cursor.fetchall():
        who = "is" if owner == db.role else "is a member of"
        problems.append(f"{db.role} {who} {owner}, which owns {kinds}")
    return problems


def _problems(cursor: CursorWrapper, db: _Database) -> list[str]:
    """How the role could change or erase the access log, in words; empty when it cannot."""
    problems = _standing_problems(cursor, db)
    if not db.role_exists:
        return problems
    for table in APPEND_ONLY_TABLES:
        qualified = f"{_quoted(db.schema)}.{_quoted(table)}"
        held = []
        for privilege in APPEND_ONLY_REFUSED:
            # Column grants count too (UPDATE of one column, REFERENCES).
            check = (
                "has_any_column_privilege"
                if privilege in ("UPDATE", "REFERENCES")
                else "has_table_privilege"
            )
            cursor.execute(f"SELECT {check}(%s, %s, %s)", [db.role, qualified, privilege])
            if cursor.fetchone()[0]:
                held.append(privilege)
        if held:
            problems.append(f"{db.role} holds {', '.join(held)} on {table}")
    cursor.execute(
        "SELECT has_schema_privilege(%s, %s, 'CREATE'),"
        " has_database_privilege(%s, current_database(), 'CREATE'),"
        " current_setting('server_version_num')::int",
        [db.role, db.schema, db.role],
    )
    schema_create, database_create, version = cursor.fetchone()
    if schema_create:
        problems.append(f"{db.role} may create objects in schema {db.schema}")
    if database_create:
        problems.append(f"{db.role} may create schemas (and trusted extensions) in {db.database}")
    if version >= 150000:  # GRANT SET ON PARAMETER; before 15, superusers only (checked above)
        cursor.execute(
            "SELECT has_parameter_privilege(%s, 'session_replication_role', 'SET')", [db.role]
        )
        if cursor.fetchone()[0]:
            problems.append(f"{db.role} may set session_replication_role (triggers off)")
    for table, trigger in APPEND_ONLY_TRIGGERS.items():
        cursor.execute(
            "SELECT tgenabled FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND tgname = %s",
            [f"{_quoted(db.schema)}.{_quoted(table)}", trigger],
        )
        enabled = cursor.fetchone()
        # O fires unless session_replication_role = replica, A always; D never, R only then.
        if enabled is None or enabled[0] not in ("O", "A"):
            state = "missing" if enabled is None else "disabled"
            problems.append(f"the trigger {trigger} on {table} is {state}")
    return problems


def runtime_role_sql(
    *, role: str = DEFAULT_RUNTIME_ROLE, using: str = DEFAULT_DB_ALIAS
) -> list[str]:
    """The statements runtime_role_grant would run in this database, without running them."""
    with _postgresql(using).cursor() as cursor:
        return _grant_statements(_database(cursor, role))


def runtime_role_grant(
    *, role: str = DEFAULT_RUNTIME_ROLE, using: str = DEFAULT_DB_ALIAS
) -> list[str]:
    """Create the runtime role if it is missing and give it exactly the runtime privileges, as
    the tables' owner (or a superuser), in one transaction. Raises RuntimeRoleUnsafe, having
    rolled everything back, if the role could still change or erase the log. Returns the
    statements run. Set the role's password apart (psql's \\password)."""
    connection = _postgresql(using)
    with transaction.atomic(using=using), connection.cursor() as cursor:
        db = _database(cursor, role)
        standing = _standing_problems(cursor, db) if db.role_exists else []
        if standing:
            # Nothing is run: not even the revokes, for the owner's own role.
            raise RuntimeRoleUnsafe(role, standing)
        statements = _grant_statements(db)
        for statement in statements:
            cursor.execute(statement)
        problems = _problems(cursor, replace(db, role_exists=True))
        if problems:
            raise RuntimeRoleUnsafe(role, problems)
    return statements


def runtime_role_problems(
    *, role: str = DEFAULT_RUNTIME_ROLE, using: str = DEFAULT_DB_ALIAS
) -> list[str]:
    """How `role` could change or erase the access log (empty: it cannot). Any role may ask."""
    with _postgresql(using).cursor() as cursor:
        return _problems(cursor, _database(cursor, role))


def runtime_role_drop(*, role: str, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Take back the role's privileges in this database and drop it. Refuses a role that owns
    anything (DROP OWNED BY would drop it: the owner's tables) or is a superuser."""
    connection = _postgresql(using)
    with transaction.atomic(using=using), connection.cursor() as cursor:
        db = _database(cursor, role)
        if not db.role_exists:
            return []
        cursor.execute(
            "SELECT r.rolsuper OR EXISTS (SELECT FROM pg_shdepend d"
            " WHERE d.refclassid = 'pg_authid'::regclass AND d.refobjid = r.oid"
            " AND d.deptype = 'o')"
            " FROM pg_roles r WHERE r.rolname = %s",
            [role],
        )
        if cursor.fetchone()[0]:
            raise RuntimeRoleError(f"{role} owns objects or is a superuser: not dropping it.")
        statements = [f"DROP OWNED BY {_quoted(role)}", f"DROP ROLE {_quoted(role)}"]
        for statement in statements:
            cursor.execute(statement)
    return statements

"""On PostgreSQL, a trigger refuses UPDATE and DELETE of access-log rows, whatever the client.

TRUNCATE (a database owner's maintenance, and how the test runner empties tables) stays possible;
the application never issues it.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION privacy_access_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'privacy_accesslogentry is append-only: %% refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS privacy_access_log_append_only ON privacy_accesslogentry;
CREATE TRIGGER privacy_access_log_append_only
    BEFORE UPDATE OR DELETE ON privacy_accesslogentry
    FOR EACH ROW EXECUTE FUNCTION privacy_access_log_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS privacy_access_log_append_only ON privacy_accesslogentry;
DROP FUNCTION IF EXISTS privacy_access_log_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("privacy", "0002_initial")]
    operations = [migrations.RunPython(create_trigger, drop_trigger)]

"""On PostgreSQL, triggers hold what the models hold, whatever the client: the rights log refuses
UPDATE and DELETE, and a disclosure record refuses UPDATE. A disclosure record's DELETE stays
possible: it goes with its student's row (the ORM deletes it just before the student's), and
the model and queryset refuse it otherwise.

TRUNCATE (a database owner's maintenance, and how the test runner empties tables) stays possible;
the application never issues it.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION rights_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '%% is append-only: %% refused', TG_TABLE_NAME, TG_OP;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS rights_event_append_only ON rights_rightsevent;
CREATE TRIGGER rights_event_append_only
    BEFORE UPDATE OR DELETE ON rights_rightsevent
    FOR EACH ROW EXECUTE FUNCTION rights_refuse_change();
DROP TRIGGER IF EXISTS rights_disclosure_unchanged ON rights_disclosurerecord;
CREATE TRIGGER rights_disclosure_unchanged
    BEFORE UPDATE ON rights_disclosurerecord
    FOR EACH ROW EXECUTE FUNCTION rights_refuse_change();
"""

DROP = """
DROP TRIGGER IF EXISTS rights_event_append_only ON rights_rightsevent;
DROP TRIGGER IF EXISTS rights_disclosure_unchanged ON rights_disclosurerecord;
DROP FUNCTION IF EXISTS rights_refuse_change();
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("rights", "0001_initial")]
    operations = [migrations.RunPython(create_triggers, drop_triggers)]

"""Every foreign key leads an index: where a composite index already leads with the key's
column, the key's own index is dropped (students migrations 0010 and 0011), never the lookup
by it. A delete of the row a key names, and every join by the key, can use an index."""

import pytest
from django.db import connection

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="reads PostgreSQL's catalogue of indexes"
    ),
]


def test_every_foreign_key_column_leads_an_index() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conrelid::regclass::text, a.attname
            FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            WHERE c.contype = 'f' AND array_length(c.conkey, 1) = 1
              AND NOT EXISTS (
                SELECT 1 FROM pg_index i
                WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1]
              )
            ORDER BY 1, 2
            """
        )
        unindexed = cursor.fetchall()
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"
            " AND conrelid::regclass::text LIKE 'students_%%'"
        )
        (student_keys,) = cursor.fetchone()
    assert student_keys > 20  # the catalogue was read
    assert unindexed == []


def test_a_contacts_value_hash_has_one_plain_index_and_no_pattern_copy() -> None:
    """Staff invitations look contacts up by the hash of their value: one btree serves that.
    A CharField's db_index would add a varchar_pattern_ops copy for LIKE, which a hash never
    sees and every contact written pays for (migration students 0012)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'students_contactdetail'"
            " AND indexdef LIKE '%%value_hash%%'"
        )
        definitions = [definition for (definition,) in cursor.fetchall()]
    assert len(definitions) == 1, definitions
    assert "pattern_ops" not in definitions[0]

import json

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from privacy.crypto import DecryptionError, keyed_hash
from students.models import ContactDetail, ContactKind
from tests import factories

pytestmark = pytest.mark.django_db


def _raw_values(table: str, column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} ORDER BY id")  # noqa: S608 (constants)
        return [row[0] for row in cursor.fetchall()]


def _guardian_email(value: str = "Rosa.Parks@Example.org") -> ContactDetail:
    guardian = factories.GuardianFactory.create()
    return ContactDetail.objects.create(
        district=guardian.district, guardian=guardian, kind=ContactKind.EMAIL, value=value
    )


def test_round_trip_and_no_plaintext_in_raw_columns() -> None:
    contact = _guardian_email()
    student = factories.StudentFactory.create()
    ContactDetail.objects.create(
        district=student.district,
        student=student,
        kind=ContactKind.ADDRESS,
        value="1200 Elm Street\nLakewood, CO 80226",
    )
    assert ContactDetail.objects.get(pk=contact.pk).value == "Rosa.Parks@Example.org"
    raw = _raw_values("students_contactdetail", "value")
    assert len(raw) == 2
    for stored in raw:
        assert "Rosa" not in stored and "Elm" not in stored and "@" not in stored
        assert stored.startswith("gAAAA")  # a Fernet token
    hashes = _raw_values("students_contactdetail", "value_hash")
    assert all(len(h) == 64 and "rosa" not in h for h in hashes)


def test_keyed_hash_finds_a_guardian_by_email_whatever_the_case() -> None:
    contact = _guardian_email()
    _guardian_email("someone.else@example.org")
    found = ContactDetail.objects.filter(value_hash=keyed_hash("  rosa.parks@example.ORG "))
    assert list(found) == [contact]


def test_bulk_create_hashes_and_encrypts_too() -> None:
    guardian = factories.GuardianFactory.create()
    ContactDetail.objects.bulk_create(
        [
            ContactDetail(
                district=guardian.district, guardian=guardian, kind="phone", value="303-555-0101"
            ),
            ContactDetail(
                district=guardian.district, guardian=guardian, kind="phone", value="303-555-0102"
            ),
        ]
    )
    assert ContactDetail.objects.filter(value_hash=keyed_hash("303-555-0102")).count() == 1
    # The whole number, not "555": a base64 token holds any three characters now and then.
    assert all("303-555-010" not in raw for raw in _raw_values("students_contactdetail", "value"))
    assert all(raw.startswith("gAAAA") for raw in _raw_values("students_contactdetail", "value"))


def test_filtering_on_the_ciphertext_is_refused() -> None:
    with pytest.raises(Exception, match="Unsupported lookup"):
        list(ContactDetail.objects.filter(value="x"))


def test_wrong_key_raises_never_returns_ciphertext(settings) -> None:
    contact = _guardian_email()
    settings.TRELLIS_FIELD_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(DecryptionError):
        ContactDetail.objects.get(pk=contact.pk)


def test_rotation_with_two_keys(settings, capsys) -> None:
    old_key = settings.TRELLIS_FIELD_KEYS[0]
    contact = _guardian_email()
    before = _raw_values("students_contactdetail", "value")
    new_key = Fernet.generate_key().decode()
    settings.TRELLIS_FIELD_KEYS = [new_key, old_key]
    # Readable with the old key still listed second.
    assert ContactDetail.objects.get(pk=contact.pk).value == "Rosa.Parks@Example.org"
    call_command("rotate_encryption_keys", "--json")
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["rotated"]["students.ContactDetail"] == 1
    after = _raw_values("students_contactdetail", "value")
    assert after != before
    # Now the new key alone reads it; the old key alone does not.
    settings.TRELLIS_FIELD_KEYS = [new_key]
    assert ContactDetail.objects.get(pk=contact.pk).value == "Rosa.Parks@Example.org"
    settings.TRELLIS_FIELD_KEYS = [old_key]
    with pytest.raises(DecryptionError):
        ContactDetail.objects.get(pk=contact.pk)
    # The keyed hash did not change, so lookups still work.
    settings.TRELLIS_FIELD_KEYS = [new_key]
    assert ContactDetail.objects.filter(value_hash=keyed_hash("rosa.parks@example.org")).exists()


def test_keyed_hash_is_hmac_sha256_of_the_normalized_value(settings) -> None:
    """Stored hashes stay comparable whatever computes them: HMAC-SHA256, hex, of the value
    with its spaces collapsed and its case folded, under TRELLIS_HMAC_KEY (base64)."""
    import base64
    import hashlib
    import hmac

    key = b"a test key of thirty-two bytes!!"
    settings.TRELLIS_HMAC_KEY = base64.urlsafe_b64encode(key).decode()
    expected = hmac.new(key, b"rosa parks@example.org", hashlib.sha256).hexdigest()
    assert keyed_hash("  Rosa   PARKS@example.org ") == expected
    assert keyed_hash("") == ""

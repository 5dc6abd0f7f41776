"""Guardians' language default (interop.guardians), and the OneRoster importer, whose users.csv
names no language for parents, guardians or relatives: once linked, a guardian with no language
gets the home language of their first child (lowest student id with one)."""

from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from interop.guardians import guardian_language_default
from students import models as sm
from tests import factories
from tests.interop.conftest import FIXTURES, edit_rows, run_import

pytestmark = pytest.mark.django_db

V11, V12 = FIXTURES / "v11", FIXTURES / "v12"


def _link(guardian: sm.Guardian, student: sm.Student, *, active: bool = True) -> None:
    sm.GuardianRelationship.objects.create(
        district=guardian.district,
        guardian=guardian,
        student=student,
        relationship=sm.Relationship.GUARDIAN,
        is_active=active,
        source_system="test",
        source_id=f"{guardian.source_id}:{student.source_id}",
    )


def test_the_default_is_one_update_for_any_number_of_guardians() -> None:
    district = factories.DistrictFactory.create()
    guardians = []
    for n in range(12):
        child = factories.StudentFactory.create(district=district, home_language=f"Language {n}")
        guardian = factories.GuardianFactory.create(district=district)
        _link(guardian, child)
        guardians.append(guardian)
    with CaptureQueriesContext(connection) as queries:
        given = guardian_language_default(
            district_id=district.pk, guardian_ids=[g.pk for g in guardians]
        )
    assert given == 12
    assert len(queries) == 1
    assert [g.language for g in sm.Guardian.objects.order_by("pk")] == [
        f"Language {n}" for n in range(12)
    ]


def test_the_default_takes_the_lowest_student_id_with_a_language_and_an_active_link() -> None:
    district = factories.DistrictFactory.create()
    # Created in this order, so by rising id: the ended link's child has the lowest.
    unlinked, none, first, second = (
        factories.StudentFactory.create(district=district, home_language=language)
        for language in ("Somali", "", "Arabic", "Spanish")
    )
    guardian = factories.GuardianFactory.create(district=district)
    _link(guardian, second)
    _link(guardian, none)
    _link(guardian, first)
    _link(guardian, unlinked, active=False)  # an ended link is no longer their child's
    assert guardian_language_default(district_id=district.pk, guardian_ids=[guardian.pk]) == 1
    guardian.refresh_from_db()
    assert guardian.language == "Arabic"


def test_the_default_never_replaces_a_language_and_stays_in_its_scope() -> None:
    district = factories.DistrictFactory.create()
    child = factories.StudentFactory.create(district=district, home_language="Spanish")
    held = factories.GuardianFactory.create(district=district, language="French")
    other = factories.GuardianFactory.create(district=district)
    _link(held, child)
    _link(other, child)
    assert guardian_language_default(district_id=district.pk, guardian_ids=[held.pk]) == 0
    held.refresh_from_db()
    other.refresh_from_db()
    assert (held.language, other.language) == ("French", "")  # other was not named
    elsewhere = factories.DistrictFactory.create()
    assert guardian_language_default(district_id=elsewhere.pk, source_system="test") == 0
    assert guardian_language_default(district_id=district.pk, source_system="oneroster") == 0
    assert guardian_language_default(district_id=district.pk, source_system="test") == 1
    other.refresh_from_db()
    assert other.language == "Spanish"


# --- OneRoster ------------------------------------------------------------------------------


def _guardians() -> dict[str, str]:
    return dict(
        sm.Guardian.objects.filter(source_system="oneroster").values_list("source_id", "language")
    )


@pytest.mark.parametrize("fixture", [V11, V12], ids=["v11", "v12"])
def test_oneroster_guardians_get_their_childs_home_language(fixture: Path) -> None:
    outcome = run_import(fixture)
    assert outcome.exit_code == 0, outcome.stderr
    # OneRoster names no home language either: nothing to give yet.
    assert _guardians() == {"g1": "", "r1": ""}
    # The district's SIS (or a person) names Ada's home language; the next import links again.
    sm.Student.objects.filter(source_system="oneroster", source_id="st1").update(
        home_language="Spanish"
    )
    again = run_import(fixture)
    assert again.exit_code == 0, again.stderr
    assert _guardians() == {"g1": "Spanish", "r1": ""}  # Rita's child (st2) names none
    assert (
        "guardians: 1 with no language of their own given their first child's home language"
        in again.report["notes"]
    )


def test_oneroster_keeps_a_guardians_language(fixture_copy: Callable[[str], Path]) -> None:
    folder = fixture_copy("v12")
    assert run_import(folder).exit_code == 0
    sm.Guardian.objects.filter(source_id="g1").update(language="French")
    sm.Student.objects.filter(source_id="st1").update(home_language="Spanish")

    # A changed name updates the guardian; users.csv never writes (or blanks) the language.
    def rename(rows: list[dict]) -> list[dict]:
        for row in rows:
            if row["sourcedId"] == "g1":
                row["givenName"] = "Gwendolyn"
        return rows

    edit_rows(folder, "users.csv", rename)
    outcome = run_import(folder)
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.counts("guardians")["updated"] == 1
    gwen = sm.Guardian.objects.get(source_id="g1")
    assert (gwen.first_name, gwen.language) == ("Gwendolyn", "French")

"""Every kind of error: reported with file, line, column and value, the command exits 1, and
the database is exactly as it was (each test imports the valid set first, then a broken one)."""

import zipfile
from pathlib import Path

import pytest

from tests.interop.conftest import FIXTURES, db_snapshot, edit_rows, run_import, set_manifest

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported() -> dict:
    assert run_import(FIXTURES / "v12").exit_code == 0
    return db_snapshot()


def assert_rejected(folder: Path, imported: dict, *expected: tuple) -> list[dict]:
    outcome = run_import(folder)
    assert outcome.exit_code == 1
    assert not outcome.report["ok"]
    errors = outcome.report["errors"]
    found = {(e["file"], e["line"], e["column"]) for e in errors}
    for where in expected:
        assert where in found, f"{where} not in {errors}"
    assert db_snapshot() == imported, "a failed import changed the database"
    assert "nothing was written" in outcome.stderr
    return errors


def test_a_missing_required_column(fixture_copy, imported) -> None:
    folder = fixture_copy()
    path = folder / "users.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    at = header.index("givenName")
    rows = [",".join(c for i, c in enumerate(line.split(",")) if i != at) for line in lines]
    path.write_text("\n".join(rows) + "\n")
    errors = assert_rejected(folder, imported, ("users.csv", 1, "givenName"))
    assert errors[0]["message"] == "Required column missing"


def test_a_duplicate_sourced_id(fixture_copy, imported) -> None:
    folder = fixture_copy()
    edit_rows(folder, "classes.csv", lambda rows: [*rows, dict(rows[0], title="Copy")])
    errors = assert_rejected(folder, imported, ("classes.csv", 5, "sourcedId"))
    assert "Duplicate sourcedId (first on line 2)" in errors[0]["message"]
    assert "'cl1'" in errors[0]["message"]


def test_a_reference_to_nothing(fixture_copy, imported) -> None:
    folder = fixture_copy()
    edit_rows(
        folder, "enrollments.csv", lambda rows: [dict(rows[0], classSourcedId="cl-nope"), *rows[1:]]
    )
    errors = assert_rejected(folder, imported, ("enrollments.csv", 2, "classSourcedId"))
    assert "No class with this sourcedId in the export or in Trellis: 'cl-nope'" in [
        e["message"] for e in errors
    ]


def test_a_reference_to_a_record_already_in_trellis_is_fine(fixture_copy, imported) -> None:
    folder = fixture_copy()
    set_manifest(folder, **{name: "absent" for name in ("classes", "courses")})
    assert run_import(folder).exit_code == 0


def test_an_invalid_date(fixture_copy, imported) -> None:
    folder = fixture_copy()
    edit_rows(
        folder,
        "academicSessions.csv",
        lambda rows: [rows[0], dict(rows[1], startDate="2026-13-01"), rows[2]],
    )
    errors = assert_rejected(folder, imported, ("academicSessions.csv", 3, "startDate"))
    assert errors[0]["message"].endswith("'2026-13-01'")


def test_an_invalid_enum_value(fixture_copy, imported) -> None:
    folder = fixture_copy()
    edit_rows(
        folder, "classes.csv", lambda rows: [rows[0], rows[1], dict(rows[2], classType="lecture")]
    )
    errors = assert_rejected(folder, imported, ("classes.csv", 4, "classType"))
    assert errors[0]["message"] == "Not one of homeroom, scheduled: 'lecture'"


def test_invalid_numbers_booleans_and_status(fixture_copy, imported) -> None:
    folder = fixture_copy()
    edit_rows(
        folder,
        "results.csv",
        lambda rows: [dict(rows[0], score="eight", late="yes", status="gone"), *rows[1:]],
    )
    assert_rejected(
        folder,
        imported,
        ("results.csv", 2, "score"),
        ("results.csv", 2, "late"),
        ("results.csv", 2, "status"),
    )


def test_sensitive_values_are_not_echoed(fixture_copy, imported) -> None:
    folder = fixture_copy()
    edit_rows(
        folder, "demographics.csv", lambda rows: [dict(rows[0], birthDate="10/12/2016"), *rows[1:]]
    )
    errors = assert_rejected(folder, imported, ("demographics.csv", 2, "birthDate"))
    assert "10/12/2016" not in str(errors)


def test_every_error_is_reported_up_to_the_limit_with_the_total(fixture_copy, imported) -> None:
    folder = fixture_copy()
    edit_rows(
        folder,
        "enrollments.csv",
        lambda rows: [
            dict(rows[0], sourcedId=f"bad{n}", classSourcedId=f"nope{n}") for n in range(30)
        ],
    )
    outcome = run_import(folder, "--error-limit", "5")
    assert outcome.exit_code == 1
    assert len(outcome.report["errors"]) == 5 and outcome.report["error_total"] == 30
    assert "... and 25 more errors." in outcome.stderr
    assert "30 errors in all" in outcome.stderr
    assert db_snapshot() == imported


def test_manifest_problems(fixture_copy, imported) -> None:
    folder = fixture_copy()
    edit_rows(
        folder,
        "manifest.csv",
        lambda rows: [
            dict(r, value="2.0") if r["propertyName"] == "oneroster.version" else r for r in rows
        ],
    )
    assert_rejected(folder, imported, ("manifest.csv", 3, "oneroster.version"))
    folder = fixture_copy("v11")
    set_manifest(folder, users="sometimes")
    assert_rejected(folder, imported, ("manifest.csv", 16, "file.users"))


def test_a_declared_file_that_is_not_there(fixture_copy, imported) -> None:
    folder = fixture_copy()
    (folder / "categories.csv").unlink()
    assert_rejected(folder, imported, ("manifest.csv", None, "file.categories"))


def test_a_file_that_is_not_a_zip(tmp_path, imported) -> None:
    path = tmp_path / "export.zip"
    path.write_text("sourcedId,name\n")
    errors = assert_rejected(path, imported, ("export.zip", None, ""))
    assert "is not a zip file" in errors[0]["message"]


def test_a_zip_without_a_manifest(tmp_path, imported) -> None:
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("users.csv", "sourcedId\n")
    assert_rejected(path, imported, ("manifest.csv", None, ""))


def test_a_row_with_too_many_fields_and_an_unclosed_quote(fixture_copy, imported) -> None:
    folder = fixture_copy()
    with open(folder / "courses.csv", "a") as handle:
        handle.write('c9,active,,y2027,"Unclosed,X,04,s1,Math,\n')
    errors = assert_rejected(folder, imported)
    assert errors[0]["file"] == "courses.csv"


def test_an_enrollment_of_a_guardian_or_a_student_as_the_wrong_role(fixture_copy, imported) -> None:
    """A user who is in Trellis, but not as the enrollment's role, is named as what they are
    not: a guardian (looked up only when no student or staff member has the id) as a student,
    and a student as a teacher. Without userProfiles.csv, which reads every person's id at
    once, the enrollments' batches look people up as they go."""
    folder = fixture_copy()
    set_manifest(folder, userProfiles="absent")
    (folder / "userProfiles.csv").unlink()
    edit_rows(
        folder,
        "enrollments.csv",
        lambda rows: [
            dict(rows[0], userSourcedId="g1"),
            dict(rows[1], sourcedId="e-wrong-role", userSourcedId="st1", role="teacher"),
            *rows[2:],
        ],
    )
    errors = assert_rejected(
        folder,
        imported,
        ("enrollments.csv", 2, "userSourcedId"),
        ("enrollments.csv", 3, "userSourcedId"),
    )
    messages = {(e["line"], e["message"].split(":")[0]) for e in errors}
    assert (2, "The user is not a student") in messages
    assert (3, "The user is not a staff member") in messages

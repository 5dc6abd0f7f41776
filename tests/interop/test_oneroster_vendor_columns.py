"""Vendor columns, a conformant export and round trips (issue 23).

- `metadata.*` and other vendor columns of each roster file are kept on the record the row
  becomes (source_extra; a demographics row's on the student's demographics_extra), can be
  queried with JSON lookups, are exported again as the same columns, and a re-import without a
  column clears it.
- export_oneroster writes, per version, the standard's columns in the standard's order and then
  the vendor columns, a complete manifest, UTF-8 without a BOM unless --bom; the importer reads
  it back with no warning and no mapping (a 1.1 export's `administrator` aside: 1.1's own name,
  read as 1.2's district or site administrator and counted).
- A roster with vendor columns and every optional field filled survives import → export →
  import into an empty database field by field, and the second export is byte for byte the
  first.
- 1.1's `administrator` in users.csv is a district or site administrator by the user's org.

The rosters are built here (tests/interop/oneroster_roster.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any, cast

import orjson
import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Model

from interop.oneroster import schema
from students import models as sm
from tests.interop.conftest import ImportOutcome, edit_rows, read_csv, run_import, write_csv
from tests.interop.oneroster_roster import ROW, SPECS, clean_roster, write_roster
from tests.interop.test_roundtrip import wipe

pytestmark = pytest.mark.django_db

FROZEN = dt.datetime(2026, 9, 1, 12, 0, tzinfo=dt.UTC)
VENDOR = ["ext_color", "metadata.sis_house"]
# Every record an import of a roster writes, compared field by field (foreign keys by the
# related record's source_id; primary keys, timestamps and uuids left out).
RECORD_MODELS: list[type[Model]] = [
    sm.District,
    sm.School,
    sm.AcademicSession,
    sm.Course,
    sm.Section,
    sm.Student,
    sm.Staff,
    sm.Guardian,
    sm.StudentSchoolMembership,
    sm.StaffSchoolAssignment,
    sm.GuardianRelationship,
    sm.ContactDetail,
    sm.Enrollment,
    sm.SectionAssignment,
]


def mappings(outcome: ImportOutcome) -> dict[tuple[str, str, str, str], int]:
    return {
        (m["file"], m["column"], m["from"], m["to"]): m["count"] for m in outcome.report["mappings"]
    }


def imported(path: Path, *args: str) -> ImportOutcome:
    outcome = run_import(path, *args)
    assert outcome.exit_code == 0, outcome.report["errors"]
    return outcome


def export(out: Path, *args: str) -> dict[str, Any]:
    """export_oneroster OUT --json ...: the JSON object of its last stdout line."""
    stdout = io.StringIO()
    call_command("export_oneroster", str(out), "--json", *args, stdout=stdout, stderr=io.StringIO())
    return orjson.loads(stdout.getvalue().strip().splitlines()[-1])


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def read_member(path: Path, name: str) -> list[list[str]]:
    with zipfile.ZipFile(path) as archive:
        return list(csv.reader(io.TextIOWrapper(archive.open(name), encoding="utf-8")))


def with_vendor(roster: dict[str, list[ROW]], **values: str) -> dict[str, list[ROW]]:
    """Every row of every file gets the vendor columns (`ext_color`, `metadata.sis_house`)."""
    for name, rows in roster.items():
        for at, row in enumerate(rows):
            row["ext_color"] = values.get("ext_color", f"{name}-{at}")
            row["metadata.sis_house"] = values.get("sis_house", "Blue" if at % 2 else "Gold")
    return roster


def vendor_headers(roster: dict[str, list[ROW]]) -> dict[str, list[str]]:
    return {name: [*SPECS[name].columns, *VENDOR] for name in roster}


def full_roster() -> dict[str, list[ROW]]:
    """The clean roster with every optional field filled, demographics and a guardian, and the
    vendor columns in every file."""
    roster = clean_roster()
    orgs = {row["sourcedId"]: row for row in roster["orgs"]}
    del roster["orgs"][3]  # the department: kept as a reference only, no record to compare
    assert orgs["d1"]["type"] == "district"
    roster["courses"][0].update(
        schoolYearSourcedId="y1", courseCode="M4", subjects="Math", subjectCodes="MA"
    )
    roster["courses"][1].update(
        schoolYearSourcedId="y1", courseCode="S7", subjects="Science", subjectCodes="SC"
    )
    for klass, code, room, period in (
        (roster["classes"][0], "M4-A", "101", "1"),
        (roster["classes"][1], "S7-H", "Lab 2", "3"),
    ):
        klass.update(
            classCode=code, location=room, subjects="Math", subjectCodes="MA", periods=period
        )
    roster["classes"][1]["grades"] = "07"
    for user in roster["users"]:
        user.update(
            middleName="Q",
            email=f"{user['sourcedId']}@example.test",
            phone="555-0100",
            sms="555-0101",
            userIds="{SIS:1}",
            password="",
            userMasterIdentifier=user["sourcedId"],
            preferredGivenName=user["givenName"][:2],
            pronouns="they/them",
            primaryOrgSourcedId="s1",
        )
    roster["users"][0]["agentSourcedIds"] = "g1"
    roster["users"].append(
        {
            **roster["users"][0],
            "sourcedId": "g1",
            "username": "g1",
            "givenName": "Gwen",
            "familyName": "Guardian",
            "identifier": "",
            "agentSourcedIds": "st1",
            "grades": "",
            "preferredGivenName": "",
        }
    )
    roster["roles"].append(
        {
            **roster["roles"][5],
            "sourcedId": "r7",
            "userSourcedId": "g1",
            "role": "parent",
            "orgSourcedId": "d1",
        }
    )
    for role in roster["roles"]:
        if role["orgSourcedId"] != "d1":
            role.update(beginDate="2026-08-20", endDate="2027-06-30")
    for enrollment in roster["enrollments"]:
        enrollment.update(beginDate="2026-08-20", endDate="2026-12-18")
        enrollment.setdefault("primary", "false")
    roster["demographics"] = [
        {
            "sourcedId": "st1",
            "status": "active",
            "dateLastModified": "2026-08-01T00:00:00Z",
            "birthDate": "2016-03-04",
            "sex": "female",
            "americanIndianOrAlaskaNative": "false",
            "asian": "true",
            "blackOrAfricanAmerican": "false",
            "nativeHawaiianOrOtherPacificIslander": "false",
            "white": "true",
            "demographicRaceTwoOrMoreRaces": "true",
            "hispanicOrLatinoEthnicity": "false",
            "countryOfBirthCode": "US",
            "stateOfBirthAbbreviation": "TX",
            "cityOfBirth": "Austin",
            "publicSchoolResidenceStatus": "01652",
        },
        {
            "sourcedId": "st2",
            "status": "active",
            "dateLastModified": "2026-08-01T00:00:00Z",
            "birthDate": "2016-05-06",
            "sex": "male",
            "americanIndianOrAlaskaNative": "false",
            "asian": "false",
            "blackOrAfricanAmerican": "true",
            "nativeHawaiianOrOtherPacificIslander": "false",
            "white": "false",
            "demographicRaceTwoOrMoreRaces": "false",
            "hispanicOrLatinoEthnicity": "true",
        },
    ]
    return with_vendor(roster)


def write_full(folder: Path, roster: dict[str, list[ROW]] | None = None) -> Path:
    roster = roster or full_roster()
    return write_roster(folder, roster, headers=vendor_headers(roster))


def records() -> dict[str, list[bytes]]:
    """Every field of every record the roster import writes, by model (see RECORD_MODELS)."""
    found: dict[str, list[bytes]] = {}
    source_ids: dict[type[Model], dict[int, str]] = {}
    for model in RECORD_MODELS:
        relations: dict[str, type[Model]] = {
            field.attname: cast("type[Model]", field.related_model)
            for field in model._meta.concrete_fields
            if field.is_relation
        }
        rows = []
        for row in model._default_manager.values():
            for name in ("id", "created_at", "updated_at", "uuid"):
                row.pop(name, None)
            for attname, related in relations.items():
                if not any(f.name == "source_id" for f in related._meta.concrete_fields):
                    row[attname] = row[attname] is not None  # a link, not a sourced record
                    continue
                if related not in source_ids:
                    source_ids[related] = dict(
                        related._default_manager.values_list("pk", "source_id")
                    )
                row[attname] = source_ids[related].get(row[attname])
            rows.append(orjson.dumps(row, option=orjson.OPT_SORT_KEYS, default=str))
        found[model.__name__] = sorted(rows)
    return found


# --- vendor columns on the records


def test_vendor_columns_are_kept_on_each_record_and_queryable(tmp_path) -> None:
    imported(write_full(tmp_path / "x"))
    houses = sm.Student.objects.filter(source_extra__metadata__sis_house="Blue")
    assert set(houses.values_list("source_id", flat=True)) == {"st2"}  # the users.csv row 1
    assert sm.Student.objects.get(source_id="st1").source_extra == {
        "ext_color": "users-0",
        "metadata": {"sis_house": "Gold"},
    }
    assert sm.Staff.objects.filter(source_extra__ext_color="users-3").get().source_id == "tc1"
    assert sm.Guardian.objects.get(source_id="g1").source_extra["ext_color"] == "users-6"
    assert sm.District.objects.get().source_extra == {
        "ext_color": "orgs-0",
        "metadata": {"sis_house": "Gold"},
    }
    kept: dict[Any, tuple[str, str]] = {
        sm.School: ("s2", "orgs-2"),
        sm.AcademicSession: ("term1", "academicSessions-1"),
        sm.Course: ("c2", "courses-1"),
        sm.Section: ("cl2", "classes-1"),
        sm.Enrollment: ("e3", "enrollments-2"),
        sm.SectionAssignment: ("e5", "enrollments-4"),
    }
    for model, (source_id, color) in kept.items():
        extra = (
            model._default_manager.filter(source_id=source_id)
            .values_list("source_extra", flat=True)
            .get()
        )
        assert extra["ext_color"] == color, model.__name__
    # roles.csv's on the school membership or assignment the role becomes.
    membership = sm.StudentSchoolMembership.objects.get(source_id="st3:s2")
    assert membership.source_extra == {"ext_color": "roles-2", "metadata": {"sis_house": "Gold"}}
    assignment = sm.StaffSchoolAssignment.objects.get(source_id="tc1:s1")
    assert assignment.source_extra["metadata"] == {"sis_house": "Blue"}
    # demographics.csv's on the student's demographics_extra, beside users.csv's.
    assert sm.Student.objects.get(source_id="st2").demographics_extra == {
        "ext_color": "demographics-1",
        "metadata": {"sis_house": "Blue"},
    }


def test_an_empty_vendor_value_is_kept_and_a_reimport_without_the_column_clears_it(
    tmp_path,
) -> None:
    roster = full_roster()
    roster["users"][0]["ext_color"] = ""
    imported(write_full(tmp_path / "x", roster))
    assert sm.Student.objects.get(source_id="st1").source_extra == {
        "ext_color": "",
        "metadata": {"sis_house": "Gold"},
    }
    # The next export drops ext_color from users.csv: the records keep what it says.
    headers = vendor_headers(roster)
    headers["users"] = [*SPECS["users"].columns, "metadata.sis_house"]
    outcome = imported(write_roster(tmp_path / "y", roster, headers=headers))
    assert outcome.counts("students")["updated"] == 3
    assert sm.Student.objects.get(source_id="st1").source_extra == {
        "metadata": {"sis_house": "Gold"}
    }
    headers["users"] = list(SPECS["users"].columns)
    imported(write_roster(tmp_path / "z", roster, headers=headers))
    assert all(extra == {} for extra in sm.Student.objects.values_list("source_extra", flat=True))
    # Other files keep theirs.
    assert sm.Section.objects.get(source_id="cl1").source_extra["ext_color"] == "classes-0"


def test_a_second_import_of_the_same_vendor_values_changes_nothing(tmp_path) -> None:
    imported(write_full(tmp_path / "x"))
    again = imported(write_full(tmp_path / "y"))
    assert again.totals()["updated"] == 0


def test_a_bare_metadata_column_beside_metadata_columns_is_not_kept_with_a_warning(
    tmp_path,
) -> None:
    roster = full_roster()
    for row in roster["courses"]:
        row["metadata"] = "plain"
    headers = vendor_headers(roster)
    headers["courses"].append("metadata")
    outcome = imported(write_roster(tmp_path / "x", roster, headers=headers))
    assert [(w["file"], w["column"]) for w in outcome.report["warnings"]] == [
        ("courses.csv", "metadata")
    ]
    assert sm.Course.objects.get(source_id="c1").source_extra == {
        "ext_color": "courses-0",
        "metadata": {"sis_house": "Gold"},
    }


def _with_column(path, column: str, value_of) -> None:
    """Add a vendor column to a file of a OneRoster folder, its value per row from value_of."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*header, column])
        writer.writeheader()
        writer.writerows({**row, column: value_of(at, row)} for at, row in enumerate(rows))


def test_line_item_vendor_columns_are_kept_queried_and_exported(fixture_copy, tmp_path) -> None:
    from assessments.models import Assessment

    folder = fixture_copy("v12")
    _with_column(folder / "lineItems.csv", "metadata.weight", lambda at, row: str(at + 1))
    _with_column(folder / "lineItems.csv", "ext_unit", lambda at, row: f"unit-{at}")
    outcome = imported(folder)
    assert not any("lineItems.csv" in note for note in outcome.report["notes"])
    source = {row["sourcedId"]: row for row in read_csv(folder / "lineItems.csv")}
    kept = dict(Assessment.objects.values_list("source_id", "source_extra"))
    assert kept == {
        sid: {"metadata": {"weight": row["metadata.weight"]}, "ext_unit": row["ext_unit"]}
        for sid, row in source.items()
    }
    first = next(iter(source))
    assert list(
        Assessment.objects.filter(source_extra__metadata__weight="1").values_list(
            "source_id", flat=True
        )
    ) == [first]
    out = tmp_path / "out.zip"
    export(out)
    rows = read_member(out, "lineItems.csv")
    assert rows[0] == [*SPECS["lineItems"].columns, "ext_unit", "metadata.weight"]
    exported = {row[0]: row[-2:] for row in rows[1:]}
    assert exported == {
        sid: [row["ext_unit"], row["metadata.weight"]] for sid, row in source.items()
    }


def test_result_vendor_columns_are_kept_on_the_score_queried_exported_and_cleared(
    fixture_copy, tmp_path
) -> None:
    from assessments.models import Score

    folder = fixture_copy("v12")
    _with_column(folder / "results.csv", "metadata.attempt", lambda at, row: str(at + 1))
    _with_column(folder / "results.csv", "ext_rubric", lambda at, row: f"R{at}")
    _with_column(
        folder / "resultLearningObjectiveIds.csv", "ext_note", lambda at, row: f"note-{at}"
    )
    _with_column(folder / "categories.csv", "ext_color", lambda at, row: "blue")
    outcome = imported(folder)
    assert outcome.report["ok"]
    # Only the gradebook files whose rows become no record of their own keep none, and say so.
    assert [note for note in outcome.report["notes"] if "vendor columns not kept" in note] == [
        "categories.csv: vendor columns not kept (ext_color); Trellis keeps them for roster "
        "records, line items, results and their objectives only."
    ]
    source = {row["sourcedId"]: row for row in read_csv(folder / "results.csv")}
    whole_scores = Score.objects.filter(item__isnull=True)
    assert dict(whole_scores.values_list("source_id", "source_extra")) == {
        sid: {"metadata": {"attempt": row["metadata.attempt"]}, "ext_rubric": row["ext_rubric"]}
        for sid, row in source.items()
    }
    # A result's learning objective row keeps its own on its objective score.
    links = read_csv(folder / "resultLearningObjectiveIds.csv")
    objective_scores = Score.objects.filter(item__isnull=False)
    assert dict(objective_scores.values_list("source_id", "source_extra")) == {
        f"{row['resultSourcedId']}:{row['learningObjectiveId']}": {"ext_note": row["ext_note"]}
        for row in links
    }
    second = list(source)[1]
    assert list(
        Score.objects.filter(source_extra__metadata__attempt="2").values_list(
            "source_id", flat=True
        )
    ) == [second]

    out = tmp_path / "out.zip"
    export(out)
    rows = read_member(out, "results.csv")
    assert rows[0] == [*SPECS["results"].columns, "ext_rubric", "metadata.attempt"]
    exported = {row[0]: row[-2:] for row in rows[1:]}
    assert exported == {
        sid: [row["ext_rubric"], row["metadata.attempt"]] for sid, row in source.items()
    }
    objective_rows = read_member(out, "resultLearningObjectiveIds.csv")
    assert objective_rows[0] == [*SPECS["resultLearningObjectiveIds"].columns, "ext_note"]
    assert sorted((row[2], row[-1]) for row in objective_rows[1:]) == sorted(
        (row["learningObjectiveId"], row["ext_note"]) for row in links
    )

    # The same values again change nothing; a re-import without the columns clears them.
    again = imported(folder)
    assert again.report["entities"]["scores"]["updated"] == 0
    result_rows = read_csv(folder / "results.csv")
    columns = [c for c in result_rows[0] if c not in ("metadata.attempt", "ext_rubric")]
    write_csv(folder / "results.csv", result_rows, columns)
    cleared = imported(folder)
    assert cleared.report["entities"]["scores"]["updated"] == len(source)
    assert list(whole_scores.values_list("source_extra", flat=True)) == [{}] * len(source)


# --- the export


def test_the_export_writes_vendor_columns_after_the_standards_in_name_order(tmp_path) -> None:
    imported(write_full(tmp_path / "x"))
    out = tmp_path / "out.zip"
    export(out)
    for name in ("orgs", "academicSessions", "courses", "classes", "users", "roles"):
        rows = read_member(out, f"{name}.csv")
        assert rows[0] == [*SPECS[name].columns, *VENDOR], name
    users = {row[0]: row for row in read_member(out, "users.csv")[1:]}
    width = len(SPECS["users"].columns)
    assert users["st2"][width:] == ["users-1", "Blue"]
    demographics = read_member(out, "demographics.csv")
    assert demographics[0] == [*SPECS["demographics"].columns, *VENDOR]
    assert demographics[1][-2:] == ["demographics-0", "Gold"]
    enrollments = {row[0]: row for row in read_member(out, "enrollments.csv")[1:]}
    assert enrollments["e5"][-2:] == ["enrollments-4", "Gold"]


def test_a_vendor_column_named_like_a_standard_column_of_the_version_is_not_written(
    tmp_path,
) -> None:
    """A 1.2 users.csv with a `Role` column of its own keeps it; a 1.1 export, whose users.csv
    has the standard's `role`, leaves it out (a reader would take it for that column)."""
    roster = full_roster()
    for row in roster["users"]:
        row["Role"] = "legacy"
    headers = vendor_headers(roster)
    headers["users"].append("Role")
    imported(write_roster(tmp_path / "x", roster, headers=headers))
    assert sm.Student.objects.get(source_id="st1").source_extra["Role"] == "legacy"
    out = tmp_path / "out11.zip"
    export(out, "--version", "1.1")
    header = read_member(out, "users.csv")[0]
    assert header == [*schema.USERS_11.columns, *VENDOR]
    out12 = tmp_path / "out12.zip"
    export(out12)
    assert read_member(out12, "users.csv")[0] == [*SPECS["users"].columns, "Role", *VENDOR]


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_the_export_is_what_a_strict_reader_accepts(tmp_path, version) -> None:
    imported(write_full(tmp_path / "x"))
    out = tmp_path / f"out-{version}.zip"
    summary = export(out, "--version", version)
    assert summary["out"] == str(out)
    files = members(out)
    for name, data in files.items():
        assert not data.startswith(b"\xef\xbb\xbf"), name  # UTF-8 without a BOM
        data.decode("utf-8")
        assert b"\n" not in data.replace(b"\r\n", b""), name  # CRLF line ends
    manifest = read_member(out, "manifest.csv")
    assert manifest[0] == ["propertyName", "value"]
    lines = [tuple(row) for row in manifest[1:]]
    written = {spec.name for spec in schema.FILES[version] if f"{spec.filename}" in files}
    assert lines == [
        ("manifest.version", "1.0"),
        ("oneroster.version", version),
        *(
            (f"file.{name}", "bulk" if name in written else "absent")
            for name in schema.MANIFEST_FILES[version]
        ),
        ("source.systemName", "Trellis"),
        ("source.systemCode", "trellis"),
    ]
    assert set(files) == {"manifest.csv", *(f"{name}.csv" for name in written)}
    assert set(summary["rows"]) == written
    for spec in schema.FILES[version]:
        if spec.filename in files:
            header = read_member(out, spec.filename)[0]
            assert tuple(header[: len(spec.columns)]) == spec.columns, spec.name
    # Read back by the importer: no error, no warning, no value read as another (but 1.1's
    # own `administrator`, which Trellis reads as 1.2's district administrator).
    reread = imported(out, "--dry-run")
    assert reread.report["warnings"] == []
    expected = (
        {("users.csv", "role", "administrator", "districtAdministrator"): 1}
        if version == "1.1"
        else {}
    )
    assert mappings(reread) == expected
    assert not any("not kept" in note for note in reread.report["notes"])


def test_bom_asks_for_a_byte_order_mark_on_every_file(tmp_path) -> None:
    imported(write_full(tmp_path / "x"))
    out = tmp_path / "bom.zip"
    export(out, "--bom")
    files = members(out)
    assert files["users.csv"].startswith(b"\xef\xbb\xbfsourcedId,")
    assert all(data.startswith(b"\xef\xbb\xbf") for data in files.values()), list(files)
    assert files["manifest.csv"].startswith(b"\xef\xbb\xbfpropertyName,value\r\n")
    assert not files["users.csv"][3:].count(b"\xef\xbb\xbf")
    reread = imported(out, "--dry-run")
    assert reread.report["warnings"] == [] and mappings(reread) == {}


# --- round trip


def test_round_trip_keeps_every_value_and_the_second_export_is_the_first(tmp_path) -> None:
    with time_machine.travel(FROZEN, tick=False):
        imported(write_full(tmp_path / "x"))
        before = records()
        first = tmp_path / "first.zip"
        export(first)
        wipe()
        assert sm.Student.objects.count() == 0
        outcome = imported(first)
        assert outcome.report["warnings"] == [] and mappings(outcome) == {}
        after = records()
        second = tmp_path / "second.zip"
        export(second)
    assert after == before
    extras = [
        extra
        for model in RECORD_MODELS
        if any(f.name == "source_extra" for f in model._meta.concrete_fields)
        for extra in model._default_manager.values_list("source_extra", flat=True)
    ]
    assert sum(1 for extra in extras if extra) > 20  # the vendor values were compared too
    assert first.read_bytes() == second.read_bytes()


def test_round_trip_of_a_1_1_roster_with_vendor_columns(tmp_path, fixture_copy) -> None:
    folder = fixture_copy("v11")
    with open(folder / "users.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
        columns = [*schema.USERS_11.columns, "metadata.sis_house"]
    for at, row in enumerate(rows):
        row["metadata.sis_house"] = "Blue" if at % 2 else ""
    with open(folder / "users.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    with time_machine.travel(FROZEN, tick=False):
        imported(folder)
        before = records()
        first = tmp_path / "first.zip"
        export(first, "--version", "1.1")
        wipe()
        imported(first)
        after = records()
        second = tmp_path / "second.zip"
        export(second, "--version", "1.1")
    assert after == before
    assert sm.Student.objects.get(source_id="st2").source_extra == {
        "metadata": {"sis_house": "Blue"}
    }
    assert first.read_bytes() == second.read_bytes()


# --- 1.1 role names


def test_1_1_administrator_is_a_district_or_site_administrator_by_its_org(fixture_copy) -> None:
    """Changed on purpose (issue 23): a 1.1 `administrator` was kind "administrator" wherever it
    was held; now one at the district is a district administrator (kind "district"), one at a
    school a site administrator (kind "administrator"), each counted as a mapping."""
    folder = fixture_copy("v11")

    def add_admins(rows: list[dict]) -> list[dict]:
        admin = next(row for row in rows if row["sourcedId"] == "a1")
        return [
            *rows,
            {**admin, "sourcedId": "a2", "username": "a2", "orgSourcedIds": "s1"},
            {
                **admin,
                "sourcedId": "a3",
                "username": "a3",
                "orgSourcedIds": "s2",
                "role": "Administrator",
            },
        ]

    edit_rows(folder, "users.csv", add_admins)
    outcome = imported(folder)
    kinds = dict(sm.Staff.objects.values_list("source_id", "kind"))
    assert (kinds["a1"], kinds["a2"], kinds["a3"]) == (
        sm.StaffKind.DISTRICT,
        sm.StaffKind.ADMINISTRATOR,
        sm.StaffKind.ADMINISTRATOR,
    )
    positions = dict(sm.StaffSchoolAssignment.objects.values_list("source_id", "position"))
    assert positions["a2:s1"] == "siteAdministrator"
    found = {key: count for key, count in mappings(outcome).items() if key[1] == "role"}
    assert found == {
        ("users.csv", "role", "administrator", "districtAdministrator"): 1,
        ("users.csv", "role", "administrator", "siteAdministrator"): 1,
        ("users.csv", "role", "Administrator", "siteAdministrator"): 1,
    }


@pytest.mark.parametrize("path", ["scores_record", "scores_record_bulk"])
def test_a_correction_without_vendor_columns_keeps_the_results(fixture_copy, path: str) -> None:
    """A teacher's correction of an imported score (a ScoreInput without source_extra) changes
    its points and keeps the vendor columns its result came with, on either write path."""
    from decimal import Decimal

    from assessments import services
    from assessments.models import Score
    from assessments.services import ScoreInput

    folder = fixture_copy("v12")
    _with_column(folder / "results.csv", "ext_rubric", lambda at, row: f"R{at}")
    assert imported(folder).report["ok"]
    score = Score.objects.filter(item__isnull=True, points__isnull=False).first()
    assert score is not None and score.points is not None
    assert score.source_extra["ext_rubric"].startswith("R")
    correction = ScoreInput(
        student_id=score.student_id,
        assessment_id=score.student_assessment.assessment_id,
        scored_on=score.scored_on,
        points=score.points + Decimal(1),
        status=score.status,
    )
    recorded = getattr(services, path)(scores=[correction])
    assert recorded.updated == 1
    kept = Score.objects.get(pk=score.pk)
    assert (kept.points, kept.source_extra) == (score.points + 1, score.source_extra)

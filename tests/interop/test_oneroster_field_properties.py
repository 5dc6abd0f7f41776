"""Property tests (hypothesis) of the OneRoster importer on rosters built in the test: a roster
with random quirks (case changes, older values, blank optional fields, digits for booleans)
imports to the same records as the clean roster; a roster with random broken references is
refused with every one of them reported (up to the cap, with the total) and writes nothing."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from students import models as sm
from tests.interop.conftest import ImportOutcome, db_snapshot, run_import
from tests.interop.oneroster_roster import SPECS, clean_roster, write_roster
from tests.interop.test_roundtrip import records, wipe

pytestmark = pytest.mark.django_db

PROPERTY_SETTINGS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Columns whose values are enumerations (matched in any case).
ENUM_COLUMNS = {"type", "classType", "role", "roleType", "status"}


def base_roster() -> dict[str, list[dict[str, str]]]:
    """The clean roster with a record no longer in use, so that 1.0's `inactive` has a value to
    stand for."""
    roster = clean_roster()
    roster["enrollments"][1]["status"] = "tobedeleted"
    roster["enrollments"][3]["primary"] = "true"
    return roster


def state() -> dict[str, Any]:
    """What the district holds, by natural keys, with what records() leaves out."""
    found: dict[str, Any] = records(gradebook=False)
    for model in (sm.School, sm.Section, sm.Student, sm.Staff, sm.Enrollment):
        found[f"{model.__name__}.active"] = set(model.objects.values_list("source_id", "is_active"))
    found["staff kinds"] = set(sm.Staff.objects.values_list("source_id", "kind"))
    found["primary"] = set(sm.SectionAssignment.objects.values_list("source_id", "is_primary"))
    return found


def import_folder(roster: dict, headers: dict | None = None, *args: str) -> ImportOutcome:
    with tempfile.TemporaryDirectory() as folder:
        return run_import(write_roster(Path(folder) / "x", roster, headers=headers), *args)


@st.composite
def quirky(draw: st.DrawFn) -> tuple[dict, dict]:
    """The base roster with random quirks, each one the standard reads as the clean value, and
    random column names in other cases."""
    roster = base_roster()
    for name, rows in roster.items():
        for row in rows:
            for column in list(row):
                value = row[column]
                if column in ENUM_COLUMNS and value and draw(st.booleans()):
                    row[column] = draw(
                        st.sampled_from([value.upper(), value.title(), value.lower()])
                    )
                if column == "status" and value == "active" and draw(st.booleans()):
                    row[column] = ""
                if column == "status" and value == "tobedeleted" and draw(st.booleans()):
                    row[column] = draw(st.sampled_from(["inactive", "Inactive", "INACTIVE"]))
                if column == "dateLastModified" and draw(st.booleans()):
                    row[column] = draw(st.sampled_from(["", "08/01/2026", "last Tuesday"]))
                if column in {"enabledUser", "primary"} and draw(st.booleans()):
                    row[column] = {"true": "1", "false": "0"}[value]
                if name == "roles" and column == "role" and value == "districtAdministrator":
                    if draw(st.booleans()):
                        row[column] = draw(st.sampled_from(["administrator", "Administrator"]))
    headers = {}
    for name in roster:
        if draw(st.booleans()):
            columns = list(SPECS[name].columns)
            renamed = [draw(st.sampled_from([c, c.lower(), c.upper()])) for c in columns]
            headers[name] = renamed
            for row in roster[name]:
                for old, new in zip(columns, renamed, strict=True):
                    if old in row and old != new:
                        row[new] = row.pop(old)
    return roster, headers


@PROPERTY_SETTINGS
@given(case=quirky())
def test_a_roster_with_random_quirks_imports_to_the_clean_records(case) -> None:
    roster, headers = case
    wipe()
    outcome = import_folder(base_roster())
    assert outcome.exit_code == 0, outcome.report["errors"]
    clean = state()
    wipe()
    outcome = import_folder(roster, headers)
    assert outcome.exit_code == 0, outcome.report["errors"]
    assert state() == clean
    # Every value read as another is in the report, with a count.
    assert all(m["count"] >= 1 for m in outcome.report["mappings"])


@st.composite
def broken(draw: st.DrawFn) -> tuple[dict, set[tuple[str, int, str]]]:
    """The base roster with random references to records that exist nowhere, and where each
    must be reported."""
    roster = base_roster()
    expected: set[tuple[str, int, str]] = set()
    template = roster["enrollments"][0]
    extra = draw(st.integers(min_value=0, max_value=30))
    # More enrollments, of users that exist nowhere.
    roster["enrollments"] += [
        dict(template, sourcedId=f"more{n}", userSourcedId=f"ghost-more-{n}") for n in range(extra)
    ]
    for at, row in enumerate(roster["enrollments"]):
        line = at + 2
        if row["userSourcedId"].startswith("ghost"):
            expected.add(("enrollments.csv", line, "userSourcedId"))
        elif draw(st.booleans()):
            row["userSourcedId"] = f"ghost-user-{at}"
            expected.add(("enrollments.csv", line, "userSourcedId"))
        if draw(st.integers(0, 3)) == 0:
            row["classSourcedId"] = f"ghost-class-{at}"
            expected.add(("enrollments.csv", line, "classSourcedId"))
    for at, row in enumerate(roster["classes"]):
        if draw(st.integers(0, 3)) == 0:
            row["courseSourcedId"] = "ghost-course"
            expected.add(("classes.csv", at + 2, "courseSourcedId"))
    if not expected:
        roster["enrollments"][0]["userSourcedId"] = "ghost-user-0"
        expected.add(("enrollments.csv", 2, "userSourcedId"))
    return roster, expected


@PROPERTY_SETTINGS
@given(case=broken(), limit=st.sampled_from([None, 5]))
def test_random_broken_references_are_all_reported_and_nothing_is_written(case, limit) -> None:
    roster, expected = case
    before = db_snapshot()
    outcome = import_folder(roster, None, *(("--error-limit", str(limit)) if limit else ()))
    assert outcome.exit_code == 1
    assert db_snapshot() == before
    errors = outcome.report["errors"]
    assert outcome.report["error_total"] == len(expected)
    if limit is None:
        assert {(e["file"], e["line"], e["column"]) for e in errors} == expected
    else:
        assert len(errors) == min(limit, len(expected))
        assert {(e["file"], e["line"], e["column"]) for e in errors} <= expected

"""The OneRoster importer reads each file in batches (interop.oneroster.staging.BATCH rows): on
PostgreSQL what it remembers across them lives in temporary tables and hash arrays. An import
read a few rows at a time gives the same records and the same report as one read whole, with
duplicates and references that cross batch boundaries."""

from __future__ import annotations

from pathlib import Path

import pytest
import time_machine

from interop.oneroster import staging
from tests.interop.conftest import edit_rows, run_import
from tests.interop.test_oneroster_vendor_columns import FROZEN
from tests.interop.test_roundtrip import records, wipe

pytestmark = pytest.mark.django_db


def outcome_in_batches(
    folder: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> tuple[dict, dict]:
    monkeypatch.setattr(staging, "BATCH", size)
    with time_machine.travel(FROZEN, tick=False):
        outcome = run_import(folder)
    found = records()
    wipe()
    report = dict(outcome.report)
    # Within a batch a repeated person in a class is reported after the batch's other errors.
    report["errors"] = sorted(
        report["errors"], key=lambda e: (e["file"], e["line"] or 0, e["column"])
    )
    return report, found


def test_small_batches_import_the_same_records(fixture_copy, monkeypatch) -> None:
    folder = fixture_copy()
    whole = outcome_in_batches(folder, monkeypatch, 5000)
    assert whole[0]["ok"]
    assert outcome_in_batches(folder, monkeypatch, 2) == whole
    assert outcome_in_batches(folder, monkeypatch, 1) == whole


def test_errors_across_batches_are_the_same(fixture_copy, monkeypatch) -> None:
    folder = fixture_copy()
    # A sourcedId repeated far from its first line, and a person twice in one class.
    edit_rows(folder, "users.csv", lambda rows: [*rows, dict(rows[0], givenName="Again")])
    edit_rows(
        folder,
        "enrollments.csv",
        lambda rows: [
            *rows,
            dict(rows[0]),
            dict(rows[-1], sourcedId="enr-again"),
            dict(rows[0], sourcedId="enr-ghost", userSourcedId="ghost"),
        ],
    )
    whole = outcome_in_batches(folder, monkeypatch, 5000)
    messages = {(e["file"], e["column"], e["message"].split(" (")[0]) for e in whole[0]["errors"]}
    assert ("users.csv", "sourcedId", "Duplicate sourcedId") in messages
    assert ("enrollments.csv", "sourcedId", "Duplicate sourcedId") in messages
    assert ("enrollments.csv", "userSourcedId", "The user is already in this class") in messages
    assert any("'ghost'" in e["message"] for e in whole[0]["errors"])
    assert outcome_in_batches(folder, monkeypatch, 2) == whole
    assert outcome_in_batches(folder, monkeypatch, 1) == whole

"""The OneRoster importer reads each file in batches (interop.oneroster.staging.BATCH rows): on
PostgreSQL what it remembers across them lives in temporary tables and hash arrays. An import
read a few rows at a time gives the same records and the same report as one read whole, with
duplicates and references that cross batch boundaries."""

from __future__ import annotations

from pathlib import Path

import pytest
import time_machine
from django.db import connection

from interop.oneroster import staging
from tests.interop.conftest import edit_rows, run_import, set_manifest
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


def test_results_in_batches_give_the_same_scores_and_errors(fixture_copy, monkeypatch) -> None:
    """results.csv read a few rows at a time, with each batch's students fetched with it (no
    userProfiles.csv, which would load every person): the same scores, and the same errors for
    a repeated sourcedId, a second result of one administration and an unknown student, each
    far from the row it repeats."""
    folder = fixture_copy()
    (folder / "userProfiles.csv").unlink()
    set_manifest(folder, userProfiles="absent")

    def more_results(rows: list[dict]) -> list[dict]:
        extra = [
            dict(rows[0], sourcedId=f"res-{n}", lineItemSourcedId="li2", scoreDate=f"2026-09-{n}")
            for n in range(12, 20)
        ]
        again = [
            dict(rows[1], score="3"),  # res2 again
            dict(rows[0], sourcedId="res-twice"),  # res1's student, line item and date
            dict(rows[0], sourcedId="res-ghost", studentSourcedId="ghost"),
        ]
        return [*rows, *extra, *again]

    edit_rows(folder, "results.csv", more_results)
    whole = outcome_in_batches(folder, monkeypatch, 5000)
    messages = {(e["file"], e["column"], e["message"].split(" (")[0]) for e in whole[0]["errors"]}
    assert ("results.csv", "sourcedId", "Duplicate sourcedId") in messages
    assert (
        "results.csv",
        "studentSourcedId",
        "A second result for this student, line item and scoreDate",
    ) in messages
    assert any("'ghost'" in e["message"] for e in whole[0]["errors"])
    assert outcome_in_batches(folder, monkeypatch, 2) == whole
    assert outcome_in_batches(folder, monkeypatch, 1) == whole

    # Without the errors, the same scores whole and in batches.
    edit_rows(folder, "results.csv", lambda rows: rows[:-3])
    whole = outcome_in_batches(folder, monkeypatch, 5000)
    assert whole[0]["ok"] and whole[0]["entities"]["scores"]["created"] == 3 + 8 + 1
    assert outcome_in_batches(folder, monkeypatch, 2) == whole
    assert outcome_in_batches(folder, monkeypatch, 1) == whole


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="FirstLines keeps its keys in memory elsewhere"
)
def test_keys_are_remembered_exactly_with_or_without_copy_escapes() -> None:
    """A batch's keys go to the database by COPY as they are when none needs escaping, escaped
    when one does: either way a key repeated in a later batch finds its first line."""
    plain = ["stu-1", "stu-2"]
    odd = ["tab\there", "back\\slash", "new\nline", "carriage\rreturn"]
    assert staging.copy_escaped(plain) is plain
    assert staging.copy_escaped(odd) == [
        "tab\\there",
        "back\\\\slash",
        "new\\nline",
        "carriage\\rreturn",
    ]
    seen = staging.FirstLines()
    first = {key: line for line, key in enumerate([*plain, *odd], start=2)}
    assert seen.firsts(list(first.items())) == first
    for batch in (plain, odd):
        assert seen.firsts([(key, 99) for key in batch]) == {key: first[key] for key in batch}

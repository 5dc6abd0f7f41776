"""A file export to an outside recipient is a disclosure (99.31, 99.32): `export_oneroster
--recipient --basis` goes through the one disclosure service, which refuses it without a lawful
basis for every student in the file (then no file is left, and nothing is logged as read), and
writes a disclosure record per student; the families' statements about values in it go beside
it. Without --recipient it is the district's own export, as before."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from privacy.models import AccessLogEntry
from rights.models import DisclosureRecord, Recipient
from rights.services import (
    amendment_decide,
    amendment_request_create,
    amendment_statement_add,
    directory_opt_out_set,
)
from tests.conftest import World

pytestmark = pytest.mark.django_db


def export(tmp_path: Path, world: World, *args: str) -> tuple[Path, dict]:
    out = tmp_path / "vendor.zip"
    stdout = io.StringIO()
    call_command(
        "export_oneroster",
        str(out),
        "--district",
        str(world.district.pk),
        *args,
        "--json",
        stdout=stdout,
        stderr=io.StringIO(),
    )
    return out, json.loads(stdout.getvalue().strip().splitlines()[-1])


def test_99_32_an_export_to_a_school_official_under_contract_records_each_student(
    tmp_path: Path, world: World, vendor: Recipient
) -> None:
    # An opt-out of directory information does not stop a school official under contract.
    directory_opt_out_set(acting_user=world.parent, student=world.student)
    out, summary = export(
        tmp_path,
        world,
        "--recipient",
        "northwind learning",
        "--basis",
        "school_official_under_contract",
        "--purpose",
        "Rostering the reading app",
        "--reference",
        "Contract 2026-14",
    )
    assert out.exists() and not Path(f"{out}.partial").exists()
    records = DisclosureRecord.objects.filter(recipient=vendor)
    in_file = set(records.values_list("student_id", flat=True))
    assert world.student.pk in in_file and world.classmate.pk in in_file
    assert world.other_district_student.pk not in in_file
    record = records.get(student=world.student)
    assert record.basis == "school_official_under_contract"
    assert record.reference == "Contract 2026-14" and "OneRoster" in record.description
    assert summary["disclosure"]["records"] == records.count()


def test_99_30_an_export_to_a_recipient_without_a_basis_is_refused_and_leaves_no_file(
    tmp_path: Path, world: World, vendor: Recipient
) -> None:
    out = tmp_path / "vendor.zip"
    with pytest.raises(CommandError, match="refused"):
        call_command(
            "export_oneroster",
            str(out),
            "--district",
            str(world.district.pk),
            "--recipient",
            "Northwind Learning",
            "--basis",
            "consent",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    assert not out.exists() and not Path(f"{out}.partial").exists()
    assert not DisclosureRecord.objects.exists()
    assert not AccessLogEntry.objects.filter(what="OneRoster export").exists()


def test_99_37_directory_information_cannot_carry_a_whole_oneroster_file(
    tmp_path: Path, world: World, yearbook: Recipient
) -> None:
    with pytest.raises(CommandError, match="refused"):
        export(tmp_path, world, "--recipient", "Yearbook Press", "--basis", "directory_information")
    assert not DisclosureRecord.objects.exists()


def test_99_21_statements_go_beside_the_file(
    tmp_path: Path, world: World, vendor: Recipient, officer: User
) -> None:
    request = amendment_request_create(
        acting_user=world.parent,
        student=world.student,
        category="contacts",
        record_label="Home phone",
        contested_value="555-0100",
        reason="Not our number.",
    )
    amendment_decide(
        acting_user=officer, request=request, decision="refused", hearing_notice="You may ask."
    )
    amendment_statement_add(
        acting_user=world.parent, request=request, statement="We never had this number."
    )
    out, summary = export(
        tmp_path,
        world,
        "--recipient",
        "Northwind Learning",
        "--basis",
        "school_official_under_contract",
        "--purpose",
        "Rostering",
    )
    statements = Path(summary["disclosure"]["statements_file"]).read_text(encoding="utf-8")
    assert "We never had this number." in statements and "Home phone" in statements


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--recipient", "Nobody Inc", "--basis", "consent"], "No recipient is named"),
        (["--recipient", "Northwind Learning"], "add --basis"),
        (["--basis", "consent"], "go with --recipient"),
    ],
)
def test_a_wrong_disclosure_option_is_named(
    tmp_path: Path, world: World, vendor: Recipient, args: list[str], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        export(tmp_path, world, *args)


def test_without_a_recipient_it_is_the_districts_own_export(tmp_path: Path, world: World) -> None:
    out, summary = export(tmp_path, world)
    assert out.exists() and "disclosure" not in summary and summary["rows"]["users"] > 0
    assert not DisclosureRecord.objects.exists()

"""Exports meant for a spreadsheet never carry a live formula (OWASP's CSV injection advice);
OneRoster exports are machine interchange and keep every value byte for byte."""

import csv
import io
import zipfile

from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from students.models import Student
from tests.conftest import World

FORMULA = '=HYPERLINK("http://x.test","y")'


def _rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode())))


def test_a_student_named_like_a_formula_is_exported_as_text(client: Client, world: World) -> None:
    Student.objects.filter(pk=world.student.pk).update(last_name=FORMULA, first_name="-1+1")
    client.force_login(world.teacher)
    urls = [
        reverse("dashboard:section_csv", kwargs={"pk": world.section.pk}),
        reverse(
            "dashboard:standard_csv",
            kwargs={"pk": world.section.pk, "standard_id": world.standard.pk},
        ),
    ]
    for url in urls:
        cells = [cell for row in _rows(client.get(url).content) for cell in row]
        names = [cell for cell in cells if "HYPERLINK" in cell]
        assert names, url
        assert all(not cell.startswith(("=", "+", "-", "@")) for cell in names), (url, names)
        assert all(cell.startswith("'") for cell in names), (url, names)


def test_oneroster_exports_keep_the_value_byte_for_byte(tmp_path, world: World) -> None:
    Student.objects.filter(pk=world.student.pk).update(last_name=FORMULA)
    out = tmp_path / "export.zip"
    call_command(
        "export_oneroster", str(out), "--district", str(world.district.pk), stdout=io.StringIO()
    )
    with zipfile.ZipFile(out) as archive:
        users = list(csv.DictReader(io.TextIOWrapper(archive.open("users.csv"), "utf-8")))
    assert FORMULA in {user["familyName"] for user in users}

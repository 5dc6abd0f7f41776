"""Every aria-describedby on the pages with forms names an element that exists: a broken
reference leaves a screen-reader user without the help text or the error it was meant to read."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from tests.conftest import World

pytestmark = pytest.mark.django_db


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.described_by: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        if values.get("aria-describedby"):
            self.described_by.extend((values["aria-describedby"] or "").split())


def assert_references_resolve(html: str) -> int:
    parser = _Ids()
    parser.feed(html)
    missing = [ref for ref in parser.described_by if ref not in parser.ids]
    assert not missing, missing
    return len(parser.described_by)


def test_form_help_and_errors_are_referenced_by_ids_that_exist(client, world: World) -> None:
    section = world.section
    client.force_login(world.teacher)
    override = reverse(
        "dashboard:student_standard",
        kwargs={"pk": section.pk, "student_id": world.student.pk, "standard_id": world.standard.pk},
    )
    assessments = reverse("assessments:section_assessments", kwargs={"pk": section.pk})
    grid = reverse(
        "assessments:score_grid", kwargs={"pk": section.pk, "assessment_id": world.assessment.pk}
    )
    counted = 0
    for url in (override, assessments):
        counted += assert_references_resolve(client.get(url).content.decode())
    # A refused save: the grid comes back with its errors, each cell pointing at its message.
    refused = client.post(
        grid, {f"score-{world.student.pk}-0": "eleven", f"status-{world.student.pk}": "bogus"}
    )
    page = refused.content.decode()
    assert 'aria-invalid="true"' in page
    counted += assert_references_resolve(page)
    client.force_login(world.district_staff)
    counted += assert_references_resolve(
        client.get(reverse("interop:import_upload")).content.decode()
    )
    client.force_login(world.principal)
    substitutes = reverse("students:school_substitutes", kwargs={"pk": world.school.pk})
    counted += assert_references_resolve(client.get(substitutes).content.decode())
    assert counted >= 4  # the help texts and errors above are referenced at all

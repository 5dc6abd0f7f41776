"""plan_delete as a function (editors only, files gone once it commits) and the template
selectors (a template is its owner's alone)."""

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404

from lessons import selectors, services
from lessons.models import LessonPlan, PlanGroup, PlanMaterial, PlanTemplate
from lessons.signals import plans_taught
from tests.conftest import World

DAY = dt.date(2027, 2, 3)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture
def plan(world: World) -> LessonPlan:
    return services.plan_create(
        acting_user=world.teacher,
        section=world.section,
        first_day=DAY,
        objective="Compare fractions",
        standards=[world.standard],
    )


def test_plan_delete_removes_the_plan_its_groups_materials_and_files(
    world: World, plan, co_teacher, django_capture_on_commit_callbacks
) -> None:
    services.groups_build(acting_user=world.teacher, plan=plan, standard=world.standard)
    material = services.material_add_file(
        acting_user=world.teacher, plan=plan, upload=ContentFile(PDF, name="slides.pdf")
    )
    services.material_add_link(acting_user=world.teacher, plan=plan, url="https://example.org")
    template = services.template_save_from_plan(acting_user=world.teacher, plan=plan, name="T")
    stored = material.file.name
    for reader in (world.principal, world.other_teacher, world.outsider):
        with pytest.raises(services.PermissionDenied):
            services.plan_delete(acting_user=reader, plan=plan)
    assert default_storage.exists(stored)
    with django_capture_on_commit_callbacks(execute=True):
        services.plan_delete(acting_user=co_teacher, plan=plan)
    assert not LessonPlan.objects.exists()
    assert not PlanGroup.objects.exists() and not PlanMaterial.objects.exists()
    assert not default_storage.exists(stored)
    assert PlanTemplate.objects.filter(pk=template.pk).exists()


def test_deleting_a_taught_plan_retires_the_sections_pages(
    world: World, plan, django_capture_on_commit_callbacks
) -> None:
    received: list[frozenset[int]] = []

    def receiver(sender, *, section_ids, **kwargs):
        received.append(section_ids)

    plans_taught.connect(receiver, dispatch_uid="test_delete_receiver")
    try:
        services.plan_mark_taught(acting_user=world.teacher, plan=plan)
        with django_capture_on_commit_callbacks(execute=True):
            services.plan_delete(acting_user=world.teacher, plan=plan)
        assert received == [frozenset({world.section.pk})]
    finally:
        plans_taught.disconnect(dispatch_uid="test_delete_receiver")


def test_templates_are_their_owners_alone(world: World, plan) -> None:
    later = services.template_save_from_plan(acting_user=world.teacher, plan=plan, name="Zeta")
    first = services.template_save_from_plan(acting_user=world.teacher, plan=plan, name="Alpha")
    other_plan = services.plan_create(
        acting_user=world.other_teacher, section=world.other_section, first_day=DAY
    )
    theirs = services.template_save_from_plan(
        acting_user=world.other_teacher, plan=other_plan, name="Theirs"
    )
    mine = selectors.templates_of_user(user=world.teacher)
    assert mine == [first, later]
    assert list(mine[0].standards.all()) == [world.standard]
    assert selectors.template_for_user(user=world.teacher, pk=first.pk) == first
    with pytest.raises(Http404):
        selectors.template_for_user(user=world.teacher, pk=theirs.pk)
    with pytest.raises(Http404):
        selectors.template_for_user(user=world.teacher, pk=10**9)
    assert selectors.templates_of_user(user=world.principal) == []

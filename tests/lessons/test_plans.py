"""Plans as functions: create, calendars, copy, templates, materials, taught, exit tickets,
suggestions."""

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from accounts.access import forget_viewer, section_plans_for_user
from assessments.models import (
    Assessment,
    MasteryEstimate,
    Score,
    Standard,
    StandardKind,
    StudentAssessment,
)
from lessons import selectors, services
from lessons.models import GroupKind, LessonPlan, PlanGroupMember, StandardPrerequisite
from lessons.signals import plans_taught
from students import models
from tests import factories
from tests.conftest import World
from tests.lessons.conftest import co_teacher_of

DAY = dt.date(2027, 2, 3)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200


def _estimate(student, standard, level: int) -> None:
    MasteryEstimate.objects.update_or_create(
        student=student,
        standard=standard,
        defaults={"level": level, "probability": {4: 0.9, 3: 0.7, 2: 0.5, 1: 0.2}[level]},
    )


def _assign(world: World, section: models.Section) -> None:
    """The teacher teaches this section too (from the next access check)."""
    staff = world.teacher.staff_record
    assert staff is not None
    models.SectionAssignment.objects.create(district=world.district, staff=staff, section=section)
    forget_viewer(world.teacher)


@pytest.fixture
def plan(world: World) -> LessonPlan:
    return services.plan_create(
        acting_user=world.teacher,
        section=world.section,
        first_day=DAY,
        last_day=DAY + dt.timedelta(days=1),
        objective="Compare fractions",
        standards=[world.standard],
    )


def test_a_plan_ends_on_or_after_it_begins_and_targets_its_districts_standards(
    world: World,
) -> None:
    with pytest.raises(services.ValidationError, match="ends on or after"):
        services.plan_create(
            acting_user=world.teacher,
            section=world.section,
            first_day=DAY,
            last_day=DAY - dt.timedelta(days=1),
        )
    foreign = Standard.objects.create(district=world.other_district, code="FAR.1")
    with pytest.raises(services.ValidationError, match="FAR.1"):
        services.plan_create(
            acting_user=world.teacher, section=world.section, first_day=DAY, standards=[foreign]
        )


def test_calendars_of_a_section_and_of_a_teacher(world: World, plan) -> None:
    second = factories.SectionFactory.create(school=world.school, title="Grade 4 Math B")
    _assign(world, second)
    other = services.plan_create(
        acting_user=world.teacher, section=second, first_day=DAY + dt.timedelta(days=7)
    )
    services.plan_create(
        acting_user=world.other_teacher, section=world.other_section, first_day=DAY
    )
    section_access = section_plans_for_user(world.teacher, world.section.pk)
    week_before = (DAY - dt.timedelta(days=7), DAY - dt.timedelta(days=1))
    assert selectors.plans_of_section(section_access, *week_before) == []
    assert selectors.plans_of_section(
        section_access, DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=1)
    ) == [plan]
    assert selectors.plans_of_teacher(world.teacher, DAY, DAY + dt.timedelta(days=30)) == [
        plan,
        other,
    ]
    assert selectors.plans_of_teacher(world.principal, DAY, DAY + dt.timedelta(days=30)) == []


def test_plan_detail_names_students_only_in_groups_with_levels(
    world: World, plan, django_assert_max_num_queries
) -> None:
    _estimate(world.student, world.standard, 1)
    services.groups_build(acting_user=world.teacher, plan=plan, standard=world.standard)
    services.material_add_link(
        acting_user=world.teacher, plan=plan, url="https://example.org/strips", title="Strips"
    )
    found = selectors.plan_for_user(world.teacher, plan.pk)
    with django_assert_max_num_queries(8):
        detail = selectors.plan_detail(found)
    assert {s.pk for s in detail.students} == {world.student.pk, world.classmate.pk}
    reteach = next(g for g in detail.groups if g.group.kind == GroupKind.RETEACH)
    [member] = reteach.members
    assert (member.student, member.level_at_placement, member.level_now) == (world.student, 1, 1)
    assert [m.original_name for m in detail.materials] == ["Strips"]
    assert detail.standards == [world.standard] and detail.may_edit


def test_copy_rebuilds_groups_for_the_other_sections_students(world: World, plan) -> None:
    _estimate(world.student, world.standard, 1)
    services.groups_build(acting_user=world.teacher, plan=plan, standard=world.standard)
    reteach = plan.groups.get(kind=GroupKind.RETEACH)
    services.group_activities_set(acting_user=world.teacher, group=reteach, texts=["Number line"])
    own = services.group_add(acting_user=world.teacher, plan=plan, name="Table 3")
    services.group_move_student(
        acting_user=world.teacher, plan=plan, student=world.classmate, to_group=own
    )
    services.material_add_file(
        acting_user=world.teacher, plan=plan, upload=ContentFile(PDF, name="slides.pdf")
    )
    # The teacher also teaches the other section now.
    _assign(world, world.other_section)
    copy = services.plan_copy(
        acting_user=world.teacher, plan=plan, to_section=world.other_section, to_day=DAY
    )
    assert copy.copied_from == plan and copy.section == world.other_section
    assert (copy.first_day, copy.last_day) == (plan.first_day, plan.last_day)
    assert list(copy.standards.all()) == [world.standard]
    members = set(PlanGroupMember.objects.filter(plan=copy).values_list("student", flat=True))
    assert members == {world.other_section_student.pk}
    assert [a.text for a in copy.groups.get(kind=GroupKind.RETEACH).activities.all()] == [
        "Number line"
    ]
    assert not copy.groups.get(name="Table 3").members.exists()
    [material] = copy.materials.all()
    assert material.file.read() == PDF and material.file.name != plan.materials.get().file.name


def test_templates_are_personal_and_start_plans(world: World, plan, co_teacher) -> None:
    _estimate(world.student, world.standard, 4)
    services.groups_build(acting_user=world.teacher, plan=plan, standard=world.standard)
    extend = plan.groups.get(kind=GroupKind.EXTEND)
    services.group_activities_set(acting_user=world.teacher, group=extend, texts=["Puzzles"])
    template = services.template_save_from_plan(
        acting_user=world.teacher, plan=plan, name="Fractions day"
    )
    assert template.owner == world.teacher and template.activities == {"extend": ["Puzzles"]}
    with pytest.raises(services.PermissionDenied):
        services.plan_create_from_template(
            acting_user=co_teacher, template=template, section=world.section, first_day=DAY
        )
    started = services.plan_create_from_template(
        acting_user=world.teacher,
        template=template,
        section=world.section,
        first_day=DAY + dt.timedelta(days=7),
    )
    assert started.template == template and started.objective == "Compare fractions"
    extend_group = started.groups.get(kind=GroupKind.EXTEND)
    assert [a.text for a in extend_group.activities.all()] == ["Puzzles"]
    assert set(extend_group.members.values_list("student", flat=True)) == {world.student.pk}


def test_uploads_refused_by_size_before_reading(world: World, plan, settings) -> None:
    settings.TRELLIS_LESSON_UPLOAD_MAX_BYTES = 1024 * 1024

    class Unreadable(ContentFile):
        def read(self, *args, **kwargs):
            raise AssertionError("read before the size was checked")

    big = Unreadable(b"", name="big.pdf")
    big.size = 1024 * 1024 + 1
    with pytest.raises(services.MaterialRefused, match="1 MB at most"):
        services.material_add_file(acting_user=world.teacher, plan=plan, upload=big)
    assert not plan.materials.exists()


@pytest.mark.parametrize(
    ("content", "name", "problem"),
    [
        (ELF, "worksheet.pdf", "ELF content"),
        (b"MZ\x90\x00" + b"\x00" * 300, "notes.txt", "EXE content"),
        (b"\xff\xfe\x00\x01binary\x00", "notes.txt", "not of a kind"),
        (b"", "empty.txt", "not of a kind"),
    ],
)
def test_uploads_refused_by_content_whatever_their_name(
    world: World, plan, content: bytes, name: str, problem: str
) -> None:
    with pytest.raises(services.MaterialRefused, match=problem):
        services.material_add_file(
            acting_user=world.teacher, plan=plan, upload=ContentFile(content, name=name)
        )
    assert not plan.materials.exists()


def test_materials_are_stored_through_the_storage_api(
    world: World, plan, django_capture_on_commit_callbacks
) -> None:
    pdf = services.material_add_file(
        acting_user=world.teacher, plan=plan, upload=ContentFile(PDF, name="../../slides.pdf")
    )
    text = services.material_add_file(
        acting_user=world.teacher,
        plan=plan,
        upload=ContentFile("Números 1–10\n".encode(), name="words.txt"),
    )
    assert (pdf.content_type, pdf.original_name, pdf.size) == (
        "application/pdf",
        "slides.pdf",
        len(PDF),
    )
    assert text.content_type == "text/plain"
    assert pdf.file.name.startswith(f"lesson-materials/{world.district.pk}/{plan.pk}/")
    assert "slides" not in pdf.file.name
    assert default_storage.exists(pdf.file.name)
    with default_storage.open(pdf.file.name) as stored:
        assert stored.read() == PDF
    name = pdf.file.name
    with django_capture_on_commit_callbacks(execute=True):
        services.material_remove(acting_user=world.teacher, material=pdf)
    assert not default_storage.exists(name)


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "ftp://example.org/x", "file:///etc/passwd", "nope"]
)
def test_links_are_http_or_https_only(world: World, plan, url: str) -> None:
    with pytest.raises(services.MaterialRefused, match="http:// or https://"):
        services.material_add_link(acting_user=world.teacher, plan=plan, url=url)
    link = services.material_add_link(
        acting_user=world.teacher, plan=plan, url="http://example.org"
    )
    assert link.is_link


def test_marking_taught_sends_the_signal_and_counts_as_recently_taught(
    world: World, plan, django_capture_on_commit_callbacks
) -> None:
    received: list[frozenset[int]] = []

    def receiver(sender, *, section_ids, **kwargs):
        received.append(section_ids)

    plans_taught.connect(receiver, dispatch_uid="test_receiver")
    try:
        taught_only = Standard.objects.create(district=world.district, code="TAUGHT.1")
        services.plan_update(
            acting_user=world.teacher, plan=plan, standards=[world.standard, taught_only]
        )
        today = plan.last_day + dt.timedelta(days=2)
        assert selectors.recently_taught(world.section, today=today) == []
        with django_capture_on_commit_callbacks(execute=True):
            services.plan_mark_taught(acting_user=world.teacher, plan=plan)
        assert received == [frozenset({world.section.pk})]
        assert set(selectors.recently_taught(world.section, today=today)) == {
            world.standard.pk,
            taught_only.pk,
        }
        # The fractions quiz (due 2026-10-01) counts the same way, from assessments.
        quiz_day = dt.date(2026, 10, 2)
        assert selectors.recently_taught(world.section, today=quiz_day) == [world.standard.pk]
        with django_capture_on_commit_callbacks(execute=True):
            services.plan_unmark_taught(acting_user=world.teacher, plan=plan)
        assert len(received) == 2
        assert selectors.recently_taught(world.section, today=today) == []
    finally:
        plans_taught.disconnect(dispatch_uid="test_receiver")


def test_exit_ticket_of_the_section_on_the_plans_standards(world: World, plan) -> None:
    with pytest.raises(services.ValidationError, match="of this section"):
        services.exit_ticket_attach(
            acting_user=world.teacher, plan=plan, assessment=world.other_assessment
        )
    off_target = Assessment.objects.create(
        district=world.district, section=world.section, title="Other", due_on=DAY
    )
    off_target.standards.add(Standard.objects.create(district=world.district, code="OFF.1"))
    with pytest.raises(services.ValidationError, match="plan's standards"):
        services.exit_ticket_attach(acting_user=world.teacher, plan=plan, assessment=off_target)
    _estimate(world.student, world.standard, 1)
    _estimate(world.classmate, world.standard, 4)
    services.groups_build(acting_user=world.teacher, plan=plan, standard=world.standard)
    services.exit_ticket_attach(acting_user=world.teacher, plan=plan, assessment=world.assessment)
    result = StudentAssessment.objects.create(
        district=world.district,
        student=world.student,
        assessment=world.assessment,
        administered_on=DAY,
    )
    Score.objects.create(
        district=world.district,
        student_assessment=result,
        student=world.student,
        normalized=0.4,
        scored_on=DAY,
    )
    by_group = {r.group.name: r for r in selectors.exit_ticket_results(plan)}
    assert by_group["Reteach"].average == pytest.approx(0.4) and by_group["Reteach"].scored == 1
    assert by_group["Extend"].average is None and by_group["Extend"].scored == 0


def test_suggestions_lowest_recently_taught_and_related_standards(world: World, plan) -> None:
    cluster = Standard.objects.create(
        district=world.district, code="4.NF.A", kind=StandardKind.CLUSTER
    )
    world.standard.parent = cluster
    world.standard.save()
    sibling = Standard.objects.create(district=world.district, code="4.NF.A.2", parent=cluster)
    earlier = Standard.objects.create(district=world.district, code="3.NF.A.1")
    StandardPrerequisite.objects.create(standard=world.standard, prerequisite=earlier)
    _estimate(world.student, world.standard, 1)
    _estimate(world.classmate, world.standard, 3)
    _estimate(world.student, sibling, 1)
    _estimate(world.student, earlier, 4)
    services.groups_build(acting_user=world.teacher, plan=plan, standard=world.standard)
    found = selectors.suggestions(world.section, plan=plan, today=dt.date(2026, 10, 2))
    [lowest] = found.lowest
    assert lowest.standard == world.standard and lowest.students == [world.student]
    assert "1 of 2 measured students are below Mastery" in lowest.why
    reteach = plan.groups.get(kind=GroupKind.RETEACH)
    related = {(s.relation, s.standard.code): s for s in found.for_groups[reteach.pk]}
    # The prerequisite is mastered already: it would help no one, so it is not suggested.
    assert set(related) == {("parent", "4.NF.A"), ("sibling", "4.NF.A.2")}
    assert related[("sibling", "4.NF.A.2")].count == 1
    assert "below Mastery on it too" in related[("sibling", "4.NF.A.2")].why
    assert world.student.display_name in related[("parent", "4.NF.A")].why


def test_a_co_teacher_of_another_section_is_not_a_teacher_here(world: World, plan) -> None:
    stranger = co_teacher_of(world.other_section)
    with pytest.raises(services.PermissionDenied):
        services.plan_mark_taught(acting_user=stranger, plan=plan)

"""The plan pages (dashboard/views/planner/plans.py): new, edit, print, copy, delete, taught,
templates and materials. Each form's way through and its refusals; forged posts (someone else's
section or plan, a reader posting to an edit endpoint) are 404; uploads are refused by size
before the body is read and by content whatever their name; files go out as downloads."""

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.access import forget_viewer
from accounts.models import User
from accounts.services import substitute_grant
from assessments.models import MasteryEstimate, Standard
from lessons import services
from lessons.models import GroupKind, LessonPlan, PlanMaterial, PlanTemplate
from privacy.models import AccessLogEntry
from students import models
from tests import factories
from tests.conftest import World
from tests.interop.test_upload_limits import Body

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 300
BOUNDARY = "plan-materials-boundary"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture
def plan(world: World, today: dt.date) -> LessonPlan:
    return services.plan_create(
        acting_user=world.teacher,
        section=world.section,
        first_day=today,
        objective="Compare fractions with unlike denominators",
        notes="Bring fraction strips",
        standards=[world.standard],
    )


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _url(name: str, **kwargs: object) -> str:
    return reverse(f"lessons:{name}", kwargs=kwargs)


def _substitute(world: World, today: dt.date) -> User:
    substitute = factories.UserFactory.create(full_name="Sam Substitute")
    substitute_grant(
        acting_user=world.principal,
        substitute=substitute,
        section=world.section,
        begin_date=today,
        end_date=today + dt.timedelta(days=1),
    )
    return substitute


def _also_teaches(world: World, section: models.Section) -> None:
    staff = world.teacher.staff_record
    assert staff is not None
    models.SectionAssignment.objects.create(district=world.district, staff=staff, section=section)
    forget_viewer(world.teacher)


def _grouped(world: World, plan: LessonPlan) -> None:
    MasteryEstimate.objects.create(
        student=world.student, standard=world.standard, level=1, probability=0.2
    )
    services.groups_build(acting_user=world.teacher, plan=plan, standard=world.standard)
    reteach = plan.groups.get(kind=GroupKind.RETEACH)
    services.group_activities_set(
        acting_user=world.teacher, group=reteach, texts=["Fraction strips with the teacher"]
    )


# --- New


def test_the_new_plan_form_takes_the_day_and_standards_from_a_link_and_creates(
    world: World,
) -> None:
    other = Standard.objects.create(
        district=world.district, code="CCSS.MATH.CONTENT.4.NF.A.2", subject="Mathematics"
    )
    client = _client(world.teacher)
    url = _url("plan_new", pk=world.section.pk)
    response = client.get(url, {"day": "2027-03-04", "standard": [str(world.standard.pk)]})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="2027-03-04"' in html
    assert f'value="{world.standard.pk}" id="id_standards_{world.standard.pk}" ' in html
    assert f'id="id_standards_{world.standard.pk}" data-code="4.NF.A.1" checked' in html
    assert f'id="id_standards_{other.pk}" data-code="4.NF.A.2">' in html
    response = client.post(
        url,
        {
            "first_day": "2027-03-04",
            "last_day": "2027-03-05",
            "standards": [world.standard.pk, other.pk],
            "objective": "Order fractions",
            "notes": "",
        },
    )
    plan = LessonPlan.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _url("plan_detail", pk=plan.pk)
    assert (plan.first_day, plan.last_day) == (dt.date(2027, 3, 4), dt.date(2027, 3, 5))
    assert set(plan.standards.all()) == {world.standard, other}
    assert plan.objective == "Order fractions" and plan.created_by == world.teacher


def test_the_new_plan_form_refuses_what_it_cannot_use_next_to_the_field(world: World) -> None:
    foreign = Standard.objects.create(district=world.other_district, code="FAR.1")
    client = _client(world.teacher)
    url = _url("plan_new", pk=world.section.pk)
    response = client.post(url, {"first_day": "2027-03-04", "last_day": "2027-03-01"})
    assert response.status_code == 400
    assert "The last day is on or after the first day." in response.content.decode()
    response = client.post(url, {"first_day": "2027-03-04", "standards": [foreign.pk]})
    assert response.status_code == 400
    assert f"Standard {foreign.pk} is not one of the standards offered here." in (
        response.content.decode()
    )
    response = client.post(url, {"first_day": "2024-02-30"})
    assert response.status_code == 400
    assert "Enter a real date (YYYY-MM-DD)." in response.content.decode()
    assert not LessonPlan.objects.exists()


def test_odd_links_to_the_new_plan_form_answer_400_naming_the_parameter(world: World) -> None:
    client = _client(world.teacher)
    url = _url("plan_new", pk=world.section.pk)
    response = client.get(url, {"day": "2024-02-30"})
    assert response.status_code == 400
    assert "day: Enter a real date (YYYY-MM-DD)." in response.content.decode()
    response = client.get(url, {"standard": "abc"})
    assert response.status_code == 400
    assert "standard: “abc” is not the id of a standard." in response.content.decode()
    # A standard that is not this section's (a stale link) is simply not chosen.
    response = client.get(url, {"standard": "999999"})
    assert response.status_code == 200


@pytest.mark.parametrize("role", ["principal", "other_teacher", "district_staff", "outsider"])
def test_only_the_sections_teachers_plan_its_lessons(world: World, role: str) -> None:
    client = _client(getattr(world, role))
    url = _url("plan_new", pk=world.section.pk)
    assert client.get(url).status_code == 404
    assert client.post(url, {"first_day": "2027-03-04"}).status_code == 404
    assert not LessonPlan.objects.exists()


def test_the_new_plan_form_offers_the_teachers_templates(world: World, plan) -> None:
    services.template_save_from_plan(acting_user=world.teacher, plan=plan, name="Fractions day")
    services.template_save_from_plan(acting_user=world.teacher, plan=plan, name="Second")
    html = (
        _client(world.teacher)
        .get(_url("plan_new", pk=world.section.pk), {"day": "2027-03-04"})
        .content.decode()
    )
    assert "Start from one of your templates" in html
    template = PlanTemplate.objects.get(name="Fractions day")
    link = _url("plan_from_template", pk=template.pk)
    assert f"{link}?section={world.section.pk}&amp;day=2027-03-04" in html


# --- Edit


def test_the_edit_form_shows_the_plan_and_saves_it(world: World, plan) -> None:
    client = _client(world.teacher)
    url = _url("plan_edit", pk=plan.pk)
    response = client.get(url)
    assert response.status_code == 200
    assert "Compare fractions with unlike denominators" in response.content.decode()
    response = client.post(
        url,
        {
            "first_day": plan.first_day.isoformat(),
            "last_day": (plan.first_day + dt.timedelta(days=1)).isoformat(),
            "objective": "New objective",
            "notes": "",
        },
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.objective == "New objective" and plan.notes == ""
    assert plan.last_day == plan.first_day + dt.timedelta(days=1)
    assert not plan.standards.exists()


def test_readers_and_strangers_cannot_edit(world: World, plan, today) -> None:
    substitute = _substitute(world, today)
    for user in (world.principal, substitute, world.other_teacher, world.outsider):
        client = _client(user)
        assert client.get(_url("plan_edit", pk=plan.pk)).status_code == 404
        response = client.post(
            _url("plan_edit", pk=plan.pk), {"first_day": "2027-01-01", "objective": "Forged"}
        )
        assert response.status_code == 404
    plan.refresh_from_db()
    assert plan.objective == "Compare fractions with unlike denominators"


# --- Print


def test_the_print_view_shows_the_whole_plan_and_logs_its_students(
    world: World, plan, django_assert_max_num_queries
) -> None:
    _grouped(world, plan)
    services.material_add_link(
        acting_user=world.teacher, plan=plan, url="https://example.org/strips", title="Strips"
    )
    services.material_add_file(
        acting_user=world.teacher, plan=plan, upload=ContentFile(PDF, name="slides.pdf")
    )
    client = _client(world.teacher)
    client.get(_url("plan_print", pk=plan.pk))  # the session and grants, read once
    with django_assert_max_num_queries(15):
        response = client.get(_url("plan_print", pk=plan.pk))
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        world.section.title,
        "4.NF.A.1",  # the code as teachers know it
        "Compare fractions with unlike denominators",
        "Reteach",
        world.student.display_name,
        world.classmate.display_name,
        "Fraction strips with the teacher",
        "Strips",
        "https://example.org/strips",
        "slides.pdf",
        "PDF",
        "Bring fraction strips",
        "css/lesson-plans.css",
        # A button prints it (static/js/print-button.js: no inline script under the CSP).
        "data-print>Print this plan</button>",
        "js/print-button.js",
    ):
        assert text in html, text
    logged = AccessLogEntry.objects.filter(what="lesson plan (print)")
    assert set(logged.values_list("student_id", flat=True)) == {
        world.student.pk,
        world.classmate.pk,
    }


def test_the_print_views_queries_do_not_grow_with_students_and_groups(
    world: World, plan, django_assert_max_num_queries
) -> None:
    for _ in range(12):
        student = factories.StudentFactory.create(district=world.district)
        models.Enrollment.objects.create(
            district=world.district,
            student=student,
            section=world.section,
            begin_date=dt.date(2026, 8, 20),
        )
    _grouped(world, plan)
    for name in ("Table 1", "Table 2", "Table 3"):
        services.group_add(acting_user=world.teacher, plan=plan, name=name)
    client = _client(world.teacher)
    client.get(_url("plan_print", pk=plan.pk))
    with django_assert_max_num_queries(15):
        assert client.get(_url("plan_print", pk=plan.pk)).status_code == 200


def test_readers_print_and_strangers_get_404(world: World, plan, today) -> None:
    substitute = _substitute(world, today)
    for user in (world.teacher, world.principal, substitute):
        assert _client(user).get(_url("plan_print", pk=plan.pk)).status_code == 200
    for user in (world.other_teacher, world.other_principal, world.district_staff, world.parent):
        assert _client(user).get(_url("plan_print", pk=plan.pk)).status_code == 404


# --- Copy


def test_copy_to_another_of_the_teachers_sections(world: World, plan) -> None:
    second = factories.SectionFactory.create(school=world.school, title="Grade 4 Math B")
    _also_teaches(world, second)
    client = _client(world.teacher)
    response = client.get(_url("plan_copy", pk=plan.pk))
    assert response.status_code == 200
    assert "Grade 4 Math B" in response.content.decode()
    assert "Grade 4 Reading" not in response.content.decode()
    response = client.post(
        _url("plan_copy", pk=plan.pk), {"section": second.pk, "day": "2027-04-01"}
    )
    copy = LessonPlan.objects.get(copied_from=plan)
    assert response.status_code == 302
    assert response["Location"] == _url("plan_detail", pk=copy.pk)
    assert (copy.section, copy.first_day) == (second, dt.date(2027, 4, 1))


def test_a_forged_copy_is_refused(world: World, plan) -> None:
    client = _client(world.teacher)
    # Someone else's section: not a choice; an id too big for the database: the same answer.
    for section_id in (world.other_section.pk, "9" * 40, "abc"):
        response = client.post(
            _url("plan_copy", pk=plan.pk), {"section": section_id, "day": "2027-04-01"}
        )
        assert response.status_code == 400
        assert "Choose one of the sections you teach." in response.content.decode()
    # Someone else's plan, or a reader copying: 404.
    other = services.plan_create(
        acting_user=world.other_teacher, section=world.other_section, first_day=plan.first_day
    )
    response = client.post(
        _url("plan_copy", pk=other.pk), {"section": world.section.pk, "day": "2027-04-01"}
    )
    assert response.status_code == 404
    response = _client(world.principal).post(
        _url("plan_copy", pk=plan.pk), {"section": world.section.pk, "day": "2027-04-01"}
    )
    assert response.status_code == 404
    assert LessonPlan.objects.count() == 2


# --- Delete, taught, save as template


def test_delete_asks_first_then_deletes_with_the_files(
    world: World, plan, django_capture_on_commit_callbacks
) -> None:
    material = services.material_add_file(
        acting_user=world.teacher, plan=plan, upload=ContentFile(PDF, name="slides.pdf")
    )
    stored = material.file.name
    client = _client(world.teacher)
    response = client.get(_url("plan_delete", pk=plan.pk))
    assert response.status_code == 200 and "Delete the plan?" in response.content.decode()
    assert _client(world.principal).post(_url("plan_delete", pk=plan.pk)).status_code == 404
    assert LessonPlan.objects.filter(pk=plan.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("plan_delete", pk=plan.pk))
    assert response.status_code == 302
    assert response["Location"] == _url("section_calendar", pk=world.section.pk)
    assert not LessonPlan.objects.filter(pk=plan.pk).exists()
    assert not default_storage.exists(stored)


def test_mark_and_unmark_taught(world: World, plan, today) -> None:
    client = _client(world.teacher)
    url = _url("plan_taught", pk=plan.pk)
    assert client.get(url).status_code == 200
    assert client.post(url, {"taught": "yes"}).status_code == 302
    plan.refresh_from_db()
    assert plan.is_taught
    assert client.post(url, {"taught": "no"}).status_code == 302
    plan.refresh_from_db()
    assert not plan.is_taught
    response = client.post(url, {"taught": "maybe"})
    assert response.status_code == 400
    assert "Say whether the plan was taught" in response.content.decode()
    for user in (world.principal, _substitute(world, today), world.other_teacher):
        assert _client(user).post(url, {"taught": "yes"}).status_code == 404
    plan.refresh_from_db()
    assert not plan.is_taught


def test_save_as_template(world: World, plan) -> None:
    client = _client(world.teacher)
    url = _url("plan_save_template", pk=plan.pk)
    response = client.post(url, {"name": "   "})
    assert response.status_code == 400
    assert "Give the template a name." in response.content.decode()
    response = client.post(url, {"name": "Fractions day"}, follow=True)
    assert response.redirect_chain == [(_url("plan_detail", pk=plan.pk), 302)]
    assert "Saved as your template “Fractions day”" in response.content.decode()
    template = PlanTemplate.objects.get()
    assert (template.owner, template.name) == (world.teacher, "Fractions day")
    assert _client(world.principal).post(url, {"name": "Mine"}).status_code == 404
    assert PlanTemplate.objects.count() == 1


# --- Templates


def test_templates_are_the_users_own_and_start_plans(world: World, plan) -> None:
    _grouped(world, plan)
    mine = services.template_save_from_plan(acting_user=world.teacher, plan=plan, name="Mine")
    other_plan = services.plan_create(
        acting_user=world.other_teacher, section=world.other_section, first_day=plan.first_day
    )
    theirs = services.template_save_from_plan(
        acting_user=world.other_teacher, plan=other_plan, name="Theirs"
    )
    client = _client(world.teacher)
    html = client.get(_url("plan_templates")).content.decode()
    assert "Mine" in html and "Theirs" not in html
    assert _url("plan_from_template", pk=mine.pk) in html
    assert client.get(_url("plan_from_template", pk=theirs.pk)).status_code == 404
    response = client.post(
        _url("plan_from_template", pk=theirs.pk),
        {"section": world.section.pk, "day": "2027-05-03"},
    )
    assert response.status_code == 404
    response = client.get(
        _url("plan_from_template", pk=mine.pk),
        {"section": str(world.section.pk), "day": "2027-05-03"},
    )
    assert response.status_code == 200 and 'value="2027-05-03"' in response.content.decode()
    response = client.post(
        _url("plan_from_template", pk=mine.pk),
        {"section": world.other_section.pk, "day": "2027-05-03"},
    )
    assert response.status_code == 400
    response = client.post(
        _url("plan_from_template", pk=mine.pk), {"section": world.section.pk, "day": "2027-05-03"}
    )
    started = LessonPlan.objects.get(template=mine)
    assert response["Location"] == _url("plan_detail", pk=started.pk)
    assert started.first_day == dt.date(2027, 5, 3)
    reteach = started.groups.get(kind=GroupKind.RETEACH)
    assert [a.text for a in reteach.activities.all()] == ["Fraction strips with the teacher"]


def test_the_templates_pages_queries_do_not_grow_with_templates(world: World, plan) -> None:
    services.template_save_from_plan(acting_user=world.teacher, plan=plan, name="First")
    client = _client(world.teacher)
    client.get(_url("plan_templates"))
    with CaptureQueriesContext(connection) as one:
        assert client.get(_url("plan_templates")).status_code == 200
    for number in range(5):
        services.template_save_from_plan(
            acting_user=world.teacher, plan=plan, name=f"Template {number}"
        )
    with CaptureQueriesContext(connection) as six:
        html = client.get(_url("plan_templates")).content.decode()
    assert html.count("Start a plan<span") == 6
    assert len(six.captured_queries) == len(one.captured_queries)


def test_the_templates_page_is_for_teachers(world: World) -> None:
    for user in (world.principal, world.district_staff, world.parent, world.outsider):
        assert _client(user).get(_url("plan_templates")).status_code == 404
    response = _client(world.teacher).get(_url("plan_templates"))
    assert response.status_code == 200
    assert "You have no templates yet." in response.content.decode()


# --- Materials


def test_a_pdf_a_png_and_a_link_are_added(world: World, plan) -> None:
    client = _client(world.teacher)
    url = _url("plan_materials", pk=plan.pk)
    for name, content in (("slides.pdf", PDF), ("board.png", PNG)):
        response = client.post(url, {"kind": "file", "file": SimpleUploadedFile(name, content)})
        assert response.status_code == 302
        assert response["Location"] == _url("plan_detail", pk=plan.pk) + "#materials"
    response = client.post(
        url, {"kind": "link", "url": "https://example.org/strips", "title": "Strips"}
    )
    assert response.status_code == 302
    kinds = {m.original_name: m.content_type for m in plan.materials.all()}
    assert kinds == {"slides.pdf": "application/pdf", "board.png": "image/png", "Strips": ""}
    assert client.get(url).status_code == 200


def test_an_exe_named_pdf_and_a_bad_link_are_refused_on_the_form(world: World, plan) -> None:
    client = _client(world.teacher)
    url = _url("plan_materials", pk=plan.pk)
    response = client.post(
        url, {"kind": "file", "file": SimpleUploadedFile("worksheet.pdf", EXE, "application/pdf")}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "This file holds EXE content" in html and 'id="material-file-error"' in html
    response = client.post(url, {"kind": "file"})
    assert response.status_code == 400
    assert "Choose a file to add." in response.content.decode()
    response = client.post(url, {"kind": "link", "url": "javascript:alert(1)", "title": "x"})
    assert response.status_code == 400
    assert "A link starts with http:// or https://" in response.content.decode()
    assert not plan.materials.exists()


def _multipart(file_bytes: bytes, name: str = "big.pdf") -> bytes:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nfile\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    )
    return head.encode() + file_bytes + f"\r\n--{BOUNDARY}--\r\n".encode()


def _post_body(client: Client, url: str, body: Body, length: int):
    environ: dict[str, Any] = {
        "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
        "CONTENT_LENGTH": str(length),
        "wsgi.input": body,
    }
    return client.generic("POST", url, b"", **environ)


def test_an_upload_declared_too_large_is_refused_before_its_body_is_read(
    world: World, plan, settings
) -> None:
    settings.TRELLIS_LESSON_UPLOAD_MAX_BYTES = 1_000_000
    # CSRF checks on, as in production: the middleware, which reads the body to find the token,
    # must not read this one.
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.teacher)
    url = _url("plan_materials", pk=plan.pk)
    client.get(url)
    body = Body(b"", readable=False)
    response = _post_body(client, url, body, 50 * 1024 * 1024 * 1024)
    assert response.status_code == 413
    assert (
        "The upload is 53,687,091,200 bytes; the largest lesson material accepted is "
        "1,000,000 bytes." in response.content.decode()
    )
    assert body.read_bytes == 0
    # A reader is not told about sizes: the plan is not theirs to change.
    reader = Client(enforce_csrf_checks=True)
    reader.force_login(world.principal)
    assert _post_body(reader, url, Body(b"", readable=False), 10**12).status_code == 404
    # An upload the page reads still needs its CSRF token.
    data = _multipart(PDF)
    assert _post_body(client, url, Body(data), len(data)).status_code == 403
    assert not PlanMaterial.objects.exists()


def test_an_upload_past_the_limit_is_cut_as_it_streams(world: World, plan, settings) -> None:
    settings.TRELLIS_LESSON_UPLOAD_MAX_BYTES = 100_000
    # Within the Content-Length allowance for the form's other fields: only the count sees it.
    data = _multipart(PDF + b"\0" * 155_000)
    body = Body(data)
    response = _post_body(
        _client(world.teacher), _url("plan_materials", pk=plan.pk), body, len(data)
    )
    assert response.status_code == 413
    assert "the largest lesson material accepted is 100,000 bytes" in response.content.decode()
    assert body.read_bytes < len(data)
    assert not PlanMaterial.objects.exists()


def test_a_file_downloads_as_an_attachment_to_its_readers(world: World, plan, today) -> None:
    material = services.material_add_file(
        acting_user=world.teacher,
        plan=plan,
        upload=ContentFile(PDF, name='Fractions "día" 1.pdf'),
    )
    url = _url("plan_material", pk=plan.pk, material_id=material.pk)
    for user in (world.teacher, world.principal, _substitute(world, today)):
        response = _client(user).get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF  # type: ignore[attr-defined]  # a FileResponse
        assert response["Content-Type"] == "application/pdf"
        assert response["X-Content-Type-Options"] == "nosniff"
        disposition = response["Content-Disposition"]
        assert disposition.startswith("attachment; filename*=utf-8''")
        assert "Fractions%20%22d%C3%ADa%22%201.pdf" in disposition
        assert "no-store" in response["Cache-Control"]
    for user in (world.other_teacher, world.other_principal, world.district_staff, world.parent):
        assert _client(user).get(url).status_code == 404


def test_links_and_other_plans_materials_are_not_served(world: World, plan) -> None:
    link = services.material_add_link(
        acting_user=world.teacher, plan=plan, url="https://example.org/strips"
    )
    other = services.plan_create(
        acting_user=world.teacher, section=world.section, first_day=plan.first_day
    )
    elsewhere = services.material_add_file(
        acting_user=world.teacher, plan=other, upload=ContentFile(PDF, name="x.pdf")
    )
    client = _client(world.teacher)
    for material_id in (link.pk, elsewhere.pk, 999_999):
        url = _url("plan_material", pk=plan.pk, material_id=material_id)
        assert client.get(url).status_code == 404
    default_storage.delete(elsewhere.file.name)
    missing = _url("plan_material", pk=other.pk, material_id=elsewhere.pk)
    assert client.get(missing).status_code == 404


def test_remove_a_material_editors_only(
    world: World, plan, django_capture_on_commit_callbacks
) -> None:
    material = services.material_add_file(
        acting_user=world.teacher, plan=plan, upload=ContentFile(PDF, name="x.pdf")
    )
    url = _url("plan_material_remove", pk=plan.pk, material_id=material.pk)
    assert _client(world.principal).post(url).status_code == 404
    assert _client(world.teacher).get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(world.teacher).post(url)
    assert response.status_code == 302
    assert not plan.materials.exists()
    assert not default_storage.exists(material.file.name)


def test_the_plan_page_shows_actions_and_materials_by_role(world: World, plan) -> None:
    services.material_add_file(
        acting_user=world.teacher, plan=plan, upload=ContentFile(PDF, name="slides.pdf")
    )
    services.material_add_link(
        acting_user=world.teacher, plan=plan, url="https://example.org/strips", title="Strips"
    )
    html = _client(world.teacher).get(_url("plan_detail", pk=plan.pk)).content.decode()
    for action in ("plan_edit", "plan_print", "plan_copy", "plan_delete", "plan_taught"):
        assert _url(action, pk=plan.pk) in html, action
    assert 'name="name"' in html and "Mark taught" in html
    assert "slides.pdf" in html and f"PDF, {len(PDF)}\xa0bytes" in html
    assert 'href="https://example.org/strips"' in html
    assert 'enctype="multipart/form-data"' in html and "Up to 10.0\xa0MB" in html
    html = _client(world.principal).get(_url("plan_detail", pk=plan.pk)).content.decode()
    assert _url("plan_print", pk=plan.pk) in html
    for action in ("plan_edit", "plan_copy", "plan_delete", "plan_taught", "plan_save_template"):
        assert _url(action, pk=plan.pk) not in html, action
    assert f'action="{_url("plan_materials", pk=plan.pk)}"' not in html
    assert "slides.pdf" in html and "Remove" not in html


def test_a_substitute_opens_that_days_plan_read_only_and_no_other_day(
    world: World, plan: LessonPlan, today: dt.date
) -> None:
    """The substitute's view: the plan of a day they cover, with its groups, and nothing to
    change; a plan of a day they do not cover is a 404; their read is logged as theirs."""
    _grouped(world, plan)
    later = services.plan_create(
        acting_user=world.teacher,
        section=world.section,
        first_day=today + dt.timedelta(days=7),
        objective="After the cover",
    )
    substitute = _substitute(world, today)
    client = _client(substitute)
    response = client.get(_url("plan_detail", pk=plan.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Compare fractions with unlike denominators" in html
    assert "Fraction strips with the teacher" in html
    assert world.student.display_name in html
    # Read-only: no form posts to any of the plan's changes.
    for name in ("plan_edit", "plan_groups_build", "plan_group_move", "plan_taught"):
        assert _url(name, pk=plan.pk) not in html
    logged = AccessLogEntry.objects.filter(actor_user=substitute, what="lesson plan")
    assert set(logged.values_list("student_id", flat=True)) >= {world.student.pk}
    assert client.get(_url("plan_detail", pk=later.pk)).status_code == 404


def test_the_new_plan_form_starts_on_the_next_weekday_and_offers_the_lowest_standards(
    world: World,
) -> None:
    """Tomorrow's lesson by default; the class's lowest recently taught standards, counted (no
    names), each a link that starts the plan on it."""
    # The section measured the standard today: it counts as taught lately.
    world.assessment.due_on = timezone.localdate()
    world.assessment.save(update_fields=["due_on"])
    MasteryEstimate.objects.create(
        student=world.student, standard=world.standard, level=1, probability=0.2
    )
    response = _client(world.teacher).get(_url("plan_new", pk=world.section.pk))
    assert response.status_code == 200
    html = response.content.decode()
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    while tomorrow.weekday() >= 5:
        tomorrow += dt.timedelta(days=1)
    assert f'value="{tomorrow:%Y-%m-%d}"' in html
    assert "Where the class is lowest" in html
    assert f'href="?standard={world.standard.pk}"' in html
    assert "1 student below mastery" in html
    assert world.student.display_name not in html

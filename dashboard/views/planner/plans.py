"""The plan pages: new, edit, print, copy, delete, taught, templates and materials (the plan's
page itself is hub.py).

Who may do what comes from lessons.selectors.plan_for_user (a plan) and
accounts.access.section_plans_for_user (a section): a section's teachers edit its plans; a
substitute covering the plan's days and the school's principal read them (print, download a
material); anyone else, and a reader who posts to an edit endpoint, gets 404. An endpoint that
changes something answers a GET with a page that asks first (its form), so every action works
without the plan page's script and from the keyboard."""

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import SignedInRequest, section_plans_for_user
from assessments.models import Standard
from assessments.selectors import standards_for_section
from dashboard.forms import malformed_values
from dashboard.views.planner.forms import (
    MaterialFileForm,
    MaterialLinkForm,
    PlanForm,
    PlanPrefillForm,
    SectionDayForm,
    TaughtForm,
    TemplateNameForm,
    section_options,
)
from dashboard.views.planner.groups import lowest_taught_kept
from dashboard.views.teacher.common import bad_parameters
from interop.uploads import LimitedUploadHandler, refused_before_reading
from lessons import services
from lessons.models import LessonPlan, PlanMaterial
from lessons.selectors import (
    PlanAccess,
    plan_detail,
    plan_for_editor,
    plan_for_user,
    recently_taught,
    sections_plannable_by,
    template_for_user,
    templates_of_user,
)
from privacy.services import log_shown
from students.models import Section

MATERIAL_NOUN = "lesson material"


# --- Shared


def _refusal_on_form(form: Any, refused: ValidationError) -> None:
    """A service's refusal shown next to the field it names (or above the form)."""
    if hasattr(refused, "error_dict"):
        for name, errors in refused.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, refused.messages)


def _offered_standards(section: Section, plan: LessonPlan | None = None) -> list[Standard]:
    """The section's standards, and those the plan targets already (kept if the catalogue
    moved on)."""
    offered = standards_for_section(section)
    if plan is not None:
        known = {s.pk for s in offered}
        offered += [s for s in plan.standards.select_related("parent__parent") if s.pk not in known]
    return offered


def _posted(request: SignedInRequest) -> Any:
    """The form's data on a POST (even an empty one, which is then refused), None on a GET."""
    return request.POST if request.method == "POST" else None


def _page_of_plan(
    request: SignedInRequest, access: PlanAccess, template: str, form: Any = None
) -> HttpResponse:
    """One of the plan's "ask first" pages: its form, 400 when a posted one was refused."""
    return render(
        request,
        f"dashboard/planner/{template}",
        {"plan": access.plan, "section": access.section, "form": form},
        status=400 if form is not None and form.is_bound else 200,
    )


def _plan_url(plan: LessonPlan, anchor: str = "") -> str:
    return reverse("lessons:plan_detail", kwargs={"pk": plan.pk}) + anchor


# --- New and edit


def next_weekday(day: date) -> date:
    """The weekday after `day` (Friday → Monday)."""
    following = day + timedelta(days=1)
    while following.weekday() >= 5:
        following += timedelta(days=1)
    return following


@login_required
@require_http_methods(["GET", "POST"])
def plan_new(request: SignedInRequest, pk: int) -> HttpResponse:
    """A new plan of the section, for its teachers: on ?day= with ?standard= chosen, when a link
    says so ("Plan a lesson on this standard", "plan this day")."""
    access = section_plans_for_user(request.user, pk)
    if not access.may_edit:
        raise Http404("No such section.")
    section = access.section
    standards = _offered_standards(section)
    recent_ids = recently_taught(section)
    day = None
    if request.method == "POST":
        form = PlanForm(request.POST, standards=standards, recent_ids=recent_ids)
        if form.is_valid():
            try:
                plan = services.plan_create(
                    acting_user=request.user, section=section, **form.plan_values()
                )
            except ValidationError as refused:
                _refusal_on_form(form, refused)
            else:
                messages.success(request, "Plan saved. Build its groups and add materials here.")
                return redirect("lessons:plan_detail", pk=plan.pk)
    else:
        prefill = PlanPrefillForm(request.GET)
        problems = malformed_values(prefill)
        if problems:
            return bad_parameters(problems)
        offered = {s.pk for s in standards}
        day = prefill.cleaned_data.get("day")
        form = PlanForm(
            initial={
                # A plan is most often tomorrow's lesson: the next weekday, unless a link says.
                "first_day": day or next_weekday(timezone.localdate()),
                "standards": [
                    i for i in prefill.cleaned_data.get("standard") or [] if i in offered
                ],
            },
            standards=standards,
            recent_ids=recent_ids,
        )
    return render(
        request,
        "dashboard/planner/plan_form.html",
        {
            "section": section,
            "form": form,
            "plan": None,
            "templates": templates_of_user(user=request.user),
            "day": day,
            # Where the class is lowest among what it was taught lately: counted, not named.
            "lowest": lowest_taught_kept(section) if not form.is_bound else [],
        },
        status=400 if form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: SignedInRequest, pk: int) -> HttpResponse:
    access = plan_for_editor(request.user, pk)
    plan = access.plan
    standards = _offered_standards(access.section, plan)
    recent_ids = recently_taught(access.section)
    if request.method == "POST":
        form = PlanForm(request.POST, standards=standards, recent_ids=recent_ids)
        if form.is_valid():
            try:
                services.plan_update(acting_user=request.user, plan=plan, **form.plan_values())
            except ValidationError as refused:
                _refusal_on_form(form, refused)
            else:
                messages.success(request, "Plan saved.")
                return redirect("lessons:plan_detail", pk=plan.pk)
    else:
        form = PlanForm(
            initial={
                "first_day": plan.first_day,
                "last_day": plan.last_day if plan.last_day != plan.first_day else None,
                "standards": [s.pk for s in plan.standards.all()],
                "objective": plan.objective,
                "notes": plan.notes,
            },
            standards=standards,
            recent_ids=recent_ids,
        )
    return render(
        request,
        "dashboard/planner/plan_form.html",
        {"section": access.section, "form": form, "plan": plan, "templates": []},
        status=400 if form.is_bound else 200,
    )


# --- Print


@login_required
@require_GET
def plan_print(request: SignedInRequest, pk: int) -> HttpResponse:
    """The plan on one page where it fits: for everyone who may read it."""
    access = plan_for_user(request.user, pk)
    detail = plan_detail(access)
    log_shown(request, access, what="lesson plan (print)", students=detail.students)
    return render(
        request,
        "dashboard/planner/plan_print.html",
        {"plan": access.plan, "section": access.section, "detail": detail},
    )


# --- Copy, delete, taught, templates


@login_required
@require_http_methods(["GET", "POST"])
def plan_copy(request: SignedInRequest, pk: int) -> HttpResponse:
    access = plan_for_editor(request.user, pk)
    plan = access.plan
    sections = sections_plannable_by(request.user)
    form = SectionDayForm(
        _posted(request),
        sections=sections,
        initial={"section": plan.section_id, "day": plan.first_day},
    )
    if request.method == "POST" and form.is_valid():
        try:
            copy = services.plan_copy(
                acting_user=request.user,
                plan=plan,
                to_section=form.cleaned_data["section"],
                to_day=form.cleaned_data["day"],
            )
        except ValidationError as refused:
            _refusal_on_form(form, refused)
        else:
            messages.success(request, "Plan copied. This is the copy: change what differs.")
            return redirect("lessons:plan_detail", pk=copy.pk)
    return _page_of_plan(request, access, "plan_copy.html", form)


@login_required
@require_http_methods(["GET", "POST"])
def plan_delete(request: SignedInRequest, pk: int) -> HttpResponse:
    access = plan_for_editor(request.user, pk)
    plan = access.plan
    if request.method == "POST":
        services.plan_delete(acting_user=request.user, plan=plan)
        messages.success(
            request, f"The plan for {plan.first_day:%A, %B} {plan.first_day.day} is deleted."
        )
        return redirect("lessons:section_calendar", pk=access.section.pk)
    return _page_of_plan(request, access, "plan_delete.html")


@login_required
@require_http_methods(["GET", "POST"])
def plan_taught(request: SignedInRequest, pk: int) -> HttpResponse:
    access = plan_for_editor(request.user, pk)
    plan = access.plan
    form = TaughtForm(
        _posted(request),
        initial={"taught": "no" if plan.is_taught else "yes"},
    )
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["taught"] == "yes":
            services.plan_mark_taught(acting_user=request.user, plan=plan)
            messages.success(request, "Marked taught: its standards count as recently taught.")
        else:
            services.plan_unmark_taught(acting_user=request.user, plan=plan)
            messages.success(request, "No longer marked taught.")
        return redirect("lessons:plan_detail", pk=plan.pk)
    return _page_of_plan(request, access, "plan_taught.html", form)


@login_required
@require_http_methods(["GET", "POST"])
def plan_save_template(request: SignedInRequest, pk: int) -> HttpResponse:
    access = plan_for_editor(request.user, pk)
    plan = access.plan
    form = TemplateNameForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            template = services.template_save_from_plan(
                acting_user=request.user, plan=plan, name=form.cleaned_data["name"]
            )
        except ValidationError as refused:
            _refusal_on_form(form, refused)
        else:
            messages.success(
                request,
                f"Saved as your template “{template.name}”: start a plan from it on any day.",
            )
            return redirect("lessons:plan_detail", pk=plan.pk)
    return _page_of_plan(request, access, "plan_save_template.html", form)


@login_required
@require_GET
def plan_templates(request: SignedInRequest) -> HttpResponse:
    """The user's own templates, each with a form to start a plan from it; for people who plan
    lessons (a section's teachers), 404 to anyone else."""
    sections = sections_plannable_by(request.user)
    options = section_options(sections)
    if not options:
        raise Http404("Only teachers of a section plan lessons.")
    forms = [
        (
            template,
            SectionDayForm(sections=sections, options=options, auto_id=f"t{template.pk}_%s"),
        )
        for template in templates_of_user(user=request.user)
    ]
    return render(request, "dashboard/planner/plan_templates.html", {"forms": forms})


@login_required
@require_http_methods(["GET", "POST"])
def plan_from_template(request: SignedInRequest, pk: int) -> HttpResponse:
    """A new plan from one of the user's templates, on a section they plan and a day; 404, as
    the templates page, for someone who plans no section (their templates wait for them)."""
    template = template_for_user(user=request.user, pk=pk)
    sections = sections_plannable_by(request.user)
    if not sections.exists():
        raise Http404("Only teachers of a section plan lessons.")
    if request.method == "POST":
        form = SectionDayForm(request.POST, sections=sections)
        if form.is_valid():
            try:
                plan = services.plan_create_from_template(
                    acting_user=request.user,
                    template=template,
                    section=form.cleaned_data["section"],
                    first_day=form.cleaned_data["day"],
                )
            except ValidationError as refused:
                _refusal_on_form(form, refused)
            else:
                messages.success(request, f"Plan started from “{template.name}”.")
                return redirect("lessons:plan_detail", pk=plan.pk)
    else:
        # ?section= and ?day= from the new-plan page: the form starts there (or not at all).
        prefill = SectionDayForm(
            {"section": request.GET.get("section"), "day": request.GET.get("day")},
            sections=sections,
        )
        prefill.is_valid()
        form = SectionDayForm(
            sections=sections,
            initial={k: v for k, v in prefill.cleaned_data.items() if v is not None},
        )
    return render(
        request,
        "dashboard/planner/plan_from_template.html",
        {"template": template, "form": form},
        status=400 if form.is_bound else 200,
    )


# --- Materials


def _materials_page(
    request: SignedInRequest,
    access: PlanAccess,
    *,
    file_form: MaterialFileForm | None = None,
    link_form: MaterialLinkForm | None = None,
    refused: str = "",
    status: int = 200,
) -> HttpResponse:
    """The plan's materials on a page of their own: where a refused upload or link is shown,
    next to its field, and where the forms work without the plan's page."""
    return render(
        request,
        "dashboard/planner/plan_materials.html",
        {
            "plan": access.plan,
            "section": access.section,
            # What the partial reads of the plan page's PlanDetail.
            "detail": {"materials": list(access.plan.materials.order_by("added_at", "pk"))},
            "may_edit": True,
            "file_form": file_form,
            "link_form": link_form,
            "refused": refused,
        },
        status=status,
    )


# Exempt from the CSRF middleware only so that the size limit comes first: the middleware reads
# the whole body to find the token. _material_add checks the token (csrf_protect) once the body
# is read through LimitedUploadHandler, as the import upload page does (dashboard/views/district).
@csrf_exempt
@login_required
@require_http_methods(["GET", "POST"])
def plan_materials(request: SignedInRequest, pk: int) -> HttpResponse:
    access = plan_for_editor(request.user, pk)
    if request.method != "POST":
        return _materials_page(request, access)
    limit = settings.TRELLIS_LESSON_UPLOAD_MAX_BYTES
    refused = refused_before_reading(request, limit=limit, accepted=MATERIAL_NOUN)
    if refused is not None:
        status, message = refused
        return _materials_page(request, access, refused=message, status=status)  # body unread
    limited = LimitedUploadHandler(request, limit=limit, accepted=MATERIAL_NOUN)
    request.upload_handlers = [limited, *request.upload_handlers]
    return _material_add(request, access, limited)


@csrf_protect
def _material_add(
    request: SignedInRequest, access: PlanAccess, limited: LimitedUploadHandler
) -> HttpResponse:
    # Reading FILES parses the body through LimitedUploadHandler.
    files = request.FILES
    if limited.exceeded:
        return _materials_page(request, access, refused=limited.message, status=413)
    plan = access.plan
    if request.POST.get("kind") == "link":
        link_form = MaterialLinkForm(request.POST)
        if link_form.is_valid():
            try:
                services.material_add_link(
                    acting_user=request.user,
                    plan=plan,
                    url=link_form.cleaned_data["url"],
                    title=link_form.cleaned_data["title"],
                )
            except services.MaterialRefused as refusal:
                link_form.add_error("url", refusal.messages)
            else:
                messages.success(request, "Link added.")
                return redirect(_plan_url(plan, "#materials"))
        return _materials_page(request, access, link_form=link_form, status=400)
    file_form = MaterialFileForm(request.POST, files)
    if file_form.is_valid():
        upload = file_form.cleaned_data["file"]
        try:
            material = services.material_add_file(
                acting_user=request.user, plan=plan, upload=upload
            )
        except services.MaterialRefused as refusal:
            file_form.add_error("file", refusal.messages)
        else:
            messages.success(request, f"“{material.original_name}” added.")
            return redirect(_plan_url(plan, "#materials"))
    return _materials_page(request, access, file_form=file_form, status=400)


def _material_of(access: PlanAccess, material_id: int) -> PlanMaterial:
    material = PlanMaterial.objects.filter(pk=material_id, plan=access.plan).first()
    if material is None:
        raise Http404("No such material in this plan.")
    material.plan = access.plan
    return material


@login_required
@require_GET
def plan_material(request: SignedInRequest, pk: int, material_id: int) -> FileResponse:
    """A file of the plan, for whoever may read the plan: as a download (attachment) of the
    type its content was found to be, never sniffed into another by the browser. A link is
    not served here (the plan's page links to it)."""
    access = plan_for_user(request.user, pk)
    material = _material_of(access, material_id)
    if material.is_link or not material.file:
        raise Http404("This material is a link, not a file.")
    try:
        handle = material.file.open("rb")
    except FileNotFoundError as missing:
        raise Http404("The file of this material is missing from the storage.") from missing
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=material.original_name or "material",
        content_type=material.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def plan_material_remove(request: SignedInRequest, pk: int, material_id: int) -> HttpResponse:
    access = plan_for_editor(request.user, pk)
    material = _material_of(access, material_id)
    if request.method == "POST":
        services.material_remove(acting_user=request.user, material=material)
        messages.success(request, f"“{material}” removed.")
        return redirect(_plan_url(access.plan, "#materials"))
    return render(
        request,
        "dashboard/planner/plan_material_remove.html",
        {"plan": access.plan, "section": access.section, "material": material},
    )

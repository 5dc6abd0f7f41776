"""The annual notice of rights (34 CFR 99.7) and its directory-information designations
(99.37(a)): drafts written and changed here, published when ready (a published notice is never
changed: a correction is a new notice), and who acknowledged it, when."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import SignedInRequest
from dashboard.selectors.privacy import (
    acknowledgements_page,
    district_id_of,
    notice_of_district,
    notices_for_office,
)
from dashboard.views.privacy.common import (
    Office,
    answers_bad_parameters,
    office_for_district,
    office_for_request,
    page_context,
    problem_text,
)
from dashboard.views.privacy.forms import NoticeForm, PageForm
from privacy.services import log_shown
from rights.models import AnnualNotice, DirectoryItem
from rights.selectors import current_notice
from rights.services import notice_draft_publish, notice_draft_save


def _designations(notice: AnnualNotice) -> list[str]:
    labels = dict(DirectoryItem.choices)
    return [str(labels.get(item, item)) for item in notice.directory_information]


@login_required
@require_GET
@answers_bad_parameters
def privacy_notices(request: SignedInRequest) -> HttpResponse:
    """The district's notices: drafts, the one in force, earlier ones; each with its
    acknowledgements counted."""
    office = office_for_request(request)
    in_force = current_notice(office.district)
    notices = [(notice, _designations(notice)) for notice in notices_for_office(office.district)]
    return render(
        request,
        "dashboard/privacy/notices.html",
        page_context(office, "notices", notices=notices, in_force=in_force),
    )


def _save(
    request: SignedInRequest, office: Office, form: NoticeForm, draft: AnnualNotice | None
) -> AnnualNotice:
    data = form.cleaned_data
    # "Publish" publishes what the form holds: saved and published together, or neither.
    with transaction.atomic():
        saved = notice_draft_save(
            acting_user=request.user,
            district=office.district,
            school_year=data["school_year"],
            title=data["title"],
            body=data["body"],
            directory_information=data["directory_information"],
            opt_out_by=data["opt_out_by"],
            notice=draft,
        )
        if data["action"] == "publish":
            saved = notice_draft_publish(acting_user=request.user, notice=saved)
    if saved.published_at is not None:
        messages.success(
            request, "Published: it is the notice in force; families are asked to acknowledge it."
        )
    else:
        messages.success(request, "Draft saved. Families see nothing of it until it is published.")
    return saved


def _form_page(
    request: SignedInRequest,
    office: Office,
    form: NoticeForm,
    draft: AnnualNotice | None,
    *,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "dashboard/privacy/notice_form.html",
        page_context(office, "notices", form=form, draft=draft, problem=problem),
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
@answers_bad_parameters
def privacy_notice_new(request: SignedInRequest) -> HttpResponse:
    """A new draft, starting from the notice in force (next school year's) when there is one."""
    office = office_for_request(request)
    if request.method != "POST":
        in_force = current_notice(office.district)
        initial = (
            {
                "school_year": in_force.school_year + 1,
                "title": in_force.title,
                "body": in_force.body,
                "directory_information": list(in_force.directory_information),
            }
            if in_force is not None
            else {}
        )
        return _form_page(request, office, NoticeForm(initial=initial), None)
    form = NoticeForm(request.POST)
    if not form.is_valid():
        return _form_page(request, office, form, None, problem=problem_text(form), status=400)
    try:
        saved = _save(request, office, form, None)
    except ValidationError as refused:
        problem = " ".join(str(m) for m in refused.messages)
        return _form_page(request, office, form, None, problem=problem, status=400)
    return redirect(office.url("privacy_notice", pk=saved.pk))


@login_required
@require_http_methods(["GET", "POST"])
@answers_bad_parameters
def privacy_notice(request: SignedInRequest, pk: int) -> HttpResponse:
    """A draft (its form: save or publish), or a published notice with who acknowledged it,
    when (?page= for more)."""
    office = office_for_district(request, district_id_of(AnnualNotice, pk))
    notice = notice_of_district(office.district, pk)
    if notice is None:
        raise Http404("No such notice.")
    if notice.published_at is None:
        return _draft(request, office, notice)
    if request.method == "POST":
        return _form_page(
            request,
            office,
            NoticeForm(),
            None,
            problem="A published notice is not changed: write a new one.",
            status=400,
        )
    paging = PageForm(request.GET)
    if not paging.is_valid():
        return render(
            request,
            "dashboard/privacy/bad_parameter.html",
            {"problem": problem_text(paging)},
            status=400,
        )
    page = acknowledgements_page(office.district, notice, paging.cleaned_data["page"] or 1)
    acknowledgements = list(page.object_list)
    log_shown(
        request,
        office.access,
        what="privacy office: notice acknowledgements",
        students=[a.student for a in acknowledgements if a.student is not None],
    )
    in_force = current_notice(office.district)
    return render(
        request,
        "dashboard/privacy/notice.html",
        page_context(
            office,
            "notices",
            notice=notice,
            designations=_designations(notice),
            in_force=in_force is not None and in_force.pk == notice.pk,
            page=page,
            acknowledgements=acknowledgements,
        ),
    )


def _draft(request: SignedInRequest, office: Office, draft: AnnualNotice) -> HttpResponse:
    if request.method != "POST":
        form = NoticeForm(
            initial={
                "school_year": draft.school_year,
                "title": draft.title,
                "body": draft.body,
                "directory_information": list(draft.directory_information),
                "opt_out_by": draft.opt_out_by,
            }
        )
        return _form_page(request, office, form, draft)
    form = NoticeForm(request.POST)
    if not form.is_valid():
        return _form_page(request, office, form, draft, problem=problem_text(form), status=400)
    try:
        saved = _save(request, office, form, draft)
    except ValidationError as refused:
        problem = " ".join(str(m) for m in refused.messages)
        return _form_page(request, office, form, draft, problem=problem, status=400)
    return redirect(office.url("privacy_notice", pk=saved.pk))

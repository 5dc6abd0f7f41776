"""The privacy office's overview and families' requests: inspection requests with their due
dates (overdue first, flagged in words and with a symbol) and the one action that prepares and
delivers the package; amendment requests with the decision form and the family's statement."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import SignedInRequest
from dashboard.selectors.privacy import (
    amendment_request_of_district,
    amendment_requests_decided,
    amendment_requests_to_decide,
    district_id_of,
    inspection_request_of_district,
    inspection_requests_answered,
    inspection_requests_to_answer,
    office_overview,
)
from dashboard.views.privacy.common import (
    Office,
    answers_bad_parameters,
    office_for_district,
    office_for_request,
    page_context,
    problem_text,
)
from dashboard.views.privacy.forms import AmendmentDecisionForm, InspectionActionForm
from privacy.services import log_shown
from rights.models import AmendmentRequest, InspectionRequest
from rights.services import (
    RightsRefused,
    amendment_decide,
    inspection_request_fulfil,
    inspection_request_withdraw,
)
from students.inventory import category_of


def _validation_text(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


@login_required
@require_GET
@answers_bad_parameters
def privacy_overview(request: SignedInRequest) -> HttpResponse:
    """What waits for the office (overdue inspection requests first) and where its records
    stand, with a link to each page."""
    office = office_for_request(request)
    overview = office_overview(office.district)
    log_shown(
        request, office.access, what="privacy office: overview", students=overview.students_shown
    )
    return render(
        request,
        "dashboard/privacy/overview.html",
        page_context(office, "overview", overview=overview, today=timezone.localdate()),
    )


@login_required
@require_GET
@answers_bad_parameters
def privacy_requests(request: SignedInRequest) -> HttpResponse:
    """Inspection requests (open ones overdue first, then by due date; the latest answered)
    and amendment requests (awaiting a decision; the latest decided)."""
    office = office_for_request(request)
    district = office.district
    inspections = list(inspection_requests_to_answer(district))
    answered = list(inspection_requests_answered(district))
    amendments = list(amendment_requests_to_decide(district))
    decided = list(amendment_requests_decided(district))
    shown = [r.student for r in inspections + answered] + [r.student for r in amendments + decided]
    log_shown(request, office.access, what="privacy office: requests", students=shown)
    return render(
        request,
        "dashboard/privacy/requests.html",
        page_context(
            office,
            "requests",
            inspections=inspections,
            answered=answered,
            amendments=amendments,
            decided=decided,
            today=timezone.localdate(),
        ),
    )


def _inspection_page(
    request: SignedInRequest,
    office: Office,
    inspection: InspectionRequest,
    *,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    log_shown(
        request,
        office.access,
        what="privacy office: inspection request",
        students=[inspection.student],
    )
    return render(
        request,
        "dashboard/privacy/inspection.html",
        page_context(
            office,
            "requests",
            inspection=inspection,
            student=inspection.student,
            problem=problem,
            today=timezone.localdate(),
        ),
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def privacy_inspection(request: SignedInRequest, pk: int) -> HttpResponse:
    """One inspection request; POST "fulfil" prepares the package (every category of the
    child's records as JSON and as a PDF, the access log and the disclosure records) and
    delivers it in the portal (rights.services.inspection_request_fulfil), or records that the
    family withdrew it."""
    office = office_for_district(request, district_id_of(InspectionRequest, pk))
    inspection = inspection_request_of_district(office.district, pk)
    if inspection is None:
        raise Http404("No such request.")
    if request.method != "POST":
        return _inspection_page(request, office, inspection)
    form = InspectionActionForm(request.POST)
    if not form.is_valid():
        return _inspection_page(request, office, inspection, problem=problem_text(form), status=400)
    try:
        if form.cleaned_data["action"] == "fulfil":
            inspection_request_fulfil(acting_user=request.user, request=inspection)
            messages.success(
                request,
                f"The package of {inspection.student.display_name}'s records is prepared and "
                "delivered in the family portal.",
            )
        else:
            inspection_request_withdraw(acting_user=request.user, request=inspection)
            messages.success(request, "Recorded: the family withdrew the request.")
    except ValidationError as refused:
        return _inspection_page(
            request, office, inspection, problem=_validation_text(refused), status=400
        )
    except RightsRefused as refused:
        return _inspection_page(request, office, inspection, problem=refused.message, status=403)
    return redirect(office.url("privacy_inspection", pk=inspection.pk))


def _amendment_page(
    request: SignedInRequest,
    office: Office,
    amendment: AmendmentRequest,
    form: AmendmentDecisionForm | None = None,
    *,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    log_shown(
        request,
        office.access,
        what="privacy office: amendment request",
        students=[amendment.student],
    )
    return render(
        request,
        "dashboard/privacy/amendment.html",
        page_context(
            office,
            "requests",
            amendment=amendment,
            student=amendment.student,
            category=category_of(amendment.category),
            form=form or (AmendmentDecisionForm() if not amendment.decision else None),
            problem=problem,
        ),
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def privacy_amendment(request: SignedInRequest, pk: int) -> HttpResponse:
    """One amendment request, the family's statement after a refusal; POST records the decision
    (a refusal carries the notice of the right to a hearing, prefilled)."""
    office = office_for_district(request, district_id_of(AmendmentRequest, pk))
    amendment = amendment_request_of_district(office.district, pk)
    if amendment is None:
        raise Http404("No such request.")
    if request.method != "POST":
        return _amendment_page(request, office, amendment)
    form = AmendmentDecisionForm(request.POST)
    if not form.is_valid():
        return _amendment_page(
            request, office, amendment, form, problem=problem_text(form), status=400
        )
    try:
        amendment_decide(
            acting_user=request.user,
            request=amendment,
            decision=form.cleaned_data["decision"],
            decision_reason=form.cleaned_data["decision_reason"],
            hearing_notice=form.cleaned_data["hearing_notice"]
            if form.cleaned_data["decision"] == "refused"
            else "",
        )
    except ValidationError as refused:
        return _amendment_page(
            request, office, amendment, form, problem=_validation_text(refused), status=400
        )
    messages.success(request, "Decision recorded; the family reads it in the portal.")
    return redirect(office.url("privacy_amendment", pk=amendment.pk))

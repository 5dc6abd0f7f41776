"""Consent requests (34 CFR 99.30): the district's list, a new request (a recipient picked or
named, the purpose, the records, the students: named, a school's or all), and each request with
its signatures and revocations."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import SignedInRequest, students_for_privacy_officer
from dashboard.selectors.privacy import (
    consent_request_of_district,
    consent_requests_for_office,
    consents_for_office,
    district_id_of,
    schools_of_district,
    students_named_by,
)
from dashboard.views.privacy.common import (
    Office,
    answers_bad_parameters,
    office_for_district,
    office_for_request,
    page_context,
    problem_text,
)
from dashboard.views.privacy.forms import ConsentRequestActionForm, ConsentRequestForm
from privacy.services import log_shown
from rights.models import ConsentRequest, RecipientKind
from rights.selectors import recipients_of_district
from rights.services import (
    RightsRefused,
    consent_request_close,
    consent_request_create,
    consent_revoke,
    recipient_save,
)
from students.inventory import category_of


def _categories(keys: list[str]) -> list[str]:
    return [str(category_of(key).title) for key in keys]


@login_required
@require_GET
@answers_bad_parameters
def privacy_consents(request: SignedInRequest) -> HttpResponse:
    """The district's consent requests, open ones first, with their consents counted (no
    student is named here: each request's page names them)."""
    office = office_for_request(request)
    consent_requests = [
        (row, _categories(row.categories)) for row in consent_requests_for_office(office.district)
    ]
    return render(
        request,
        "dashboard/privacy/consents.html",
        page_context(office, "consents", consent_requests=consent_requests),
    )


def _consent_form(
    office: Office, request: SignedInRequest, data: object = None
) -> ConsentRequestForm:
    district = office.district
    return ConsentRequestForm(
        data,
        recipients=recipients_of_district(district),
        schools=schools_of_district(district),
        students=students_for_privacy_officer(request.user).filter(district=district),
    )


@login_required
@require_http_methods(["GET", "POST"])
@answers_bad_parameters
def privacy_consent_new(request: SignedInRequest) -> HttpResponse:
    """A new consent request; families who hold the rights of a student it concerns see it in
    the portal."""
    office = office_for_request(request)
    if request.method != "POST":
        form = _consent_form(office, request)
        return render(
            request,
            "dashboard/privacy/consent_form.html",
            page_context(office, "consents", form=form),
        )
    form = _consent_form(office, request, request.POST)
    problem = ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            # A new recipient goes with the request, or not at all.
            with transaction.atomic():
                recipient = data["recipient"] or recipient_save(
                    acting_user=request.user,
                    district=office.district,
                    name=data["new_recipient_name"],
                    kind=data["new_recipient_kind"] or RecipientKind.ORGANIZATION,
                    contact=data["new_recipient_contact"],
                )
                created = consent_request_create(
                    acting_user=request.user,
                    recipient=recipient,
                    purpose=data["purpose"],
                    categories=data["categories"],
                    records_description=data["records_description"],
                    students=data["student_rows"] if data["scope"] == "students" else (),
                    for_all_students=data["scope"] != "students",
                    school=data["school"] if data["scope"] == "school" else None,
                    expires_on=data["expires_on"],
                )
        except ValidationError as refused:
            problem = " ".join(str(m) for m in refused.messages)
        else:
            messages.success(request, "Consent request created: families see it in the portal.")
            return redirect(office.url("privacy_consent", pk=created.pk))
    return render(
        request,
        "dashboard/privacy/consent_form.html",
        page_context(office, "consents", form=form, problem=problem or problem_text(form)),
        status=400,
    )


def _consent_page(
    request: SignedInRequest,
    office: Office,
    consent_request: ConsentRequest,
    *,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    consents = list(consents_for_office(consent_request))
    named = students_named_by(consent_request)
    log_shown(
        request,
        office.access,
        what="privacy office: consent request",
        students=[c.student for c in consents] + named,
    )
    return render(
        request,
        "dashboard/privacy/consent.html",
        page_context(
            office,
            "consents",
            consent_request=consent_request,
            categories=_categories(consent_request.categories),
            consents=consents,
            named=named,
            problem=problem,
        ),
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def privacy_consent(request: SignedInRequest, pk: int) -> HttpResponse:
    """A consent request, the consents given under it (who signed, when, how) and their
    revocations; POST closes the request, or records a revocation the family made on paper."""
    office = office_for_district(request, district_id_of(ConsentRequest, pk))
    consent_request = consent_request_of_district(office.district, pk)
    if consent_request is None:
        raise Http404("No such consent request.")
    if request.method != "POST":
        return _consent_page(request, office, consent_request)
    form = ConsentRequestActionForm(request.POST)
    if not form.is_valid():
        return _consent_page(
            request, office, consent_request, problem=problem_text(form), status=400
        )
    if form.cleaned_data["action"] == "close":
        consent_request_close(acting_user=request.user, request=consent_request)
        messages.success(request, "The request is closed: families no longer see it.")
        return redirect(office.url("privacy_consent", pk=consent_request.pk))
    consent = consents_for_office(consent_request).filter(pk=form.cleaned_data["consent"]).first()
    if consent is None:
        return _consent_page(
            request,
            office,
            consent_request,
            problem="consent: not a consent given under this request.",
            status=400,
        )
    try:
        consent_revoke(acting_user=request.user, consent=consent)
    except RightsRefused as refused:
        return _consent_page(request, office, consent_request, problem=refused.message, status=403)
    messages.success(
        request,
        f"Recorded: the consent for {consent.student.display_name} is revoked; no disclosure "
        "under it from now on.",
    )
    return redirect(office.url("privacy_consent", pk=consent_request.pk))

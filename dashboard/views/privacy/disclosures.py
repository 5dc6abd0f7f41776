"""Disclosure records (34 CFR 99.32): the district's, filtered by student and by day, and the
form that records a disclosure through THE one disclosure service (rights.services.disclose),
whose refusal (no lawful basis) is shown on the form, naming why."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import SignedInRequest, students_for_privacy_officer
from dashboard.selectors.privacy import (
    consent_request_of_district,
    disclosures_page,
    students_with_consent,
)
from dashboard.views.privacy.common import (
    BadParameter,
    Office,
    answers_bad_parameters,
    office_for_request,
    page_context,
    problem_text,
)
from dashboard.views.privacy.forms import (
    DisclosureFilterForm,
    DisclosureForm,
    directory_item_choices,
    record_category_choices,
)
from privacy.services import log_shown
from rights.models import DisclosureBasis
from rights.selectors import consent_requests_of_district, recipients_of_district
from rights.services import DisclosureRefused, disclose


@login_required
@require_GET
@answers_bad_parameters
def privacy_disclosures(request: SignedInRequest) -> HttpResponse:
    """The district's disclosure records, newest first, a page at a time; ?student= (a student
    number), ?date_from=, ?date_to= narrow them. One student's can be exported from here."""
    office = office_for_request(request)
    district = office.district
    students = students_for_privacy_officer(request.user).filter(district=district)
    form = DisclosureFilterForm(request.GET, students=students)
    status = 200
    if form.is_valid():
        data = form.cleaned_data
        page = disclosures_page(
            district,
            students=data["student"],
            date_from=data["date_from"],
            date_to=data["date_to"],
            page=data["page"] or 1,
        )
        chosen = data["student"] or []
    else:
        status = 400
        page = disclosures_page(district)
        chosen = []
    records = list(page.object_list)
    log_shown(
        request,
        office.access,
        what="privacy office: disclosure records",
        students=[r.student for r in records] + chosen,
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "dashboard/privacy/disclosures.html",
        page_context(
            office,
            "disclosures",
            form=form,
            problem=problem_text(form) if status == 400 else "",
            page=page,
            records=records,
            chosen=chosen,
            page_query=query.urlencode(),
        ),
        status=status,
    )


def _disclosure_form(
    office: Office,
    request: SignedInRequest,
    data: QueryDict | None = None,
    initial: dict[str, object] | None = None,
) -> DisclosureForm:
    district = office.district
    return DisclosureForm(
        data,
        initial=initial or {},
        recipients=recipients_of_district(district),
        consent_requests=consent_requests_of_district(district),
        students=students_for_privacy_officer(request.user).filter(district=district),
    )


def _prefilled(office: Office, request: SignedInRequest) -> tuple[dict[str, object], list]:
    """?consent_request=<id>: a disclosure under that request, its students those with a
    consent in force (returned too: the form shows their numbers)."""
    raw = (request.GET.get("consent_request") or "").strip()
    if not raw:
        return {}, []
    if not raw.isdigit() or len(raw) > 18:
        raise BadParameter(f"consent_request: {raw[:40]!r} is not a consent request's number.")
    consent_request = consent_request_of_district(office.district, int(raw))
    if consent_request is None:
        raise BadParameter("consent_request: the district has no such consent request.")
    students = students_with_consent(consent_request)
    record_categories = {key for key, _label in record_category_choices()}
    directory_items = {key for key, _label in directory_item_choices()}
    initial = {
        "consent_request": consent_request.pk,
        "recipient": consent_request.recipient_id,
        "basis": DisclosureBasis.CONSENT,
        "categories": [c for c in consent_request.categories if c in record_categories],
        "directory_items": [c for c in consent_request.categories if c in directory_items],
        "purpose": consent_request.purpose,
        "students": "\n".join(s.student_number for s in students if s.student_number),
    }
    return initial, students


@login_required
@require_http_methods(["GET", "POST"])
@answers_bad_parameters
def privacy_disclosure_new(request: SignedInRequest) -> HttpResponse:
    """Record a disclosure of students' records to someone outside the school officials,
    through rights.services.disclose: refused (and shown on the form, naming why) without a
    lawful basis for every student named."""
    office = office_for_request(request)
    if request.method != "POST":
        initial, students = _prefilled(office, request)
        log_shown(request, office.access, what="privacy office: disclosure form", students=students)
        form = _disclosure_form(office, request, initial=initial)
        return render(
            request,
            "dashboard/privacy/disclosure_form.html",
            page_context(office, "disclosures", form=form),
        )
    form = _disclosure_form(office, request, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            result = disclose(
                acting_user=request.user,
                students=data["student_rows"],
                recipient=data["recipient"],
                categories=data["all_categories"],
                description=data["description"],
                basis=data["basis"],
                purpose=data["purpose"],
                reference=data["reference"],
                consent_request=data["consent_request"],
            )
        except DisclosureRefused as refused:
            form.add_error(None, f"The disclosure is refused: {refused.message}")
            # The form shows them again, by number.
            log_shown(
                request,
                office.access,
                what="privacy office: disclosure form",
                students=data["student_rows"],
            )
        else:
            count = len(result.records)
            statements = len(result.statements)
            messages.success(
                request,
                f"Recorded {count} disclosure{'s' if count != 1 else ''} to "
                f"{data['recipient'].name}."
                + (
                    f" Send the family statement{'s' if statements != 1 else ''} listed with "
                    "the record below with the records (34 CFR 99.21(c))."
                    if statements
                    else ""
                ),
            )
            return redirect(office.url("privacy_disclosures"))
    return render(
        request,
        "dashboard/privacy/disclosure_form.html",
        page_context(office, "disclosures", form=form, problem=problem_text(form)),
        status=400,
    )

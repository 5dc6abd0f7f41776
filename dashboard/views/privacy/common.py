"""What the privacy office's pages share: which district's office a page acts for (asked of
accounts.access: anyone who is not that district's privacy officer gets 404), the links between
the pages, and how a form's problems are named."""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps

from django import forms
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from accounts.access import (
    PrivacyOfficeAccess,
    SignedInRequest,
    districts_with_privacy_office,
    holds_privacy_office,
)
from students.models import District


class BadParameter(Exception):
    """A parameter the page cannot use, named ("district: ..."): a 400."""


@dataclass(frozen=True)
class Office:
    """The privacy office a page acts for, and every district the user holds it for (a user who
    holds more than one picks with ?district=, which the office's links then carry)."""

    access: PrivacyOfficeAccess
    districts: list[District] = field(default_factory=list)

    @property
    def district(self) -> District:
        return self.access.district

    @property
    def query(self) -> str:
        """What the office's links add to keep to this district ("" for a single district)."""
        return f"?district={self.district.pk}" if len(self.districts) > 1 else ""

    def url(self, name: str, **kwargs: object) -> str:
        return reverse(f"dashboard:{name}", kwargs=kwargs or None) + self.query


def _offices(request: SignedInRequest) -> list[District]:
    # No query for anyone without the role once their grants are read (the top bar reads them).
    if not holds_privacy_office(request.user):
        raise Http404("No such page.")
    districts = list(districts_with_privacy_office(request.user).order_by("name", "pk"))
    if not districts:
        raise Http404("No such page.")
    return districts


def office_for_request(request: SignedInRequest) -> Office:
    """The office of ?district= (one the user holds it for; 404 otherwise), or of the user's
    first district; 404 for anyone who is no district's privacy officer."""
    districts = _offices(request)
    raw = (request.GET.get("district") or "").strip()
    if not raw:
        return Office(PrivacyOfficeAccess(district=districts[0]), districts)
    if not raw.isdigit() or len(raw) > 18:
        raise BadParameter(f"district: {raw[:40]!r} is not a district's number.")
    chosen = next((d for d in districts if d.pk == int(raw)), None)
    if chosen is None:
        raise Http404("No such district.")
    return Office(PrivacyOfficeAccess(district=chosen), districts)


def office_for_district(request: SignedInRequest, district_id: int | None) -> Office:
    """The office of the district a record belongs to (None: no such record); 404 unless the
    user is its privacy officer, so that another district's ids are not confirmed."""
    districts = _offices(request)
    chosen = next((d for d in districts if d.pk == district_id), None)
    if chosen is None:
        raise Http404("No such record.")
    return Office(PrivacyOfficeAccess(district=chosen), districts)


def problem_text(form: forms.Form) -> str:
    """The form's errors in one line, each naming its field."""
    labels = {name: str(f.label or name) for name, f in form.fields.items()}
    return " ".join(
        " ".join(str(e) for e in errors)
        if name == "__all__"
        else f"{labels.get(name, name)}: {' '.join(str(e) for e in errors)}"
        for name, errors in form.errors.items()
    )


def bad_parameter(request: SignedInRequest, problem: BadParameter) -> HttpResponse:
    return render(
        request,
        "dashboard/privacy/bad_parameter.html",
        {"problem": str(problem)},
        status=400,
    )


def page_context(office: Office, section: str, **context: object) -> dict[str, object]:
    """What every page of the office's renders with: its district, the sub-navigation."""
    return {
        "office": office,
        "district": office.district,
        "section": section,
        "nav": [
            ("overview", "Overview", office.url("privacy_overview")),
            ("requests", "Requests", office.url("privacy_requests")),
            ("consents", "Consents", office.url("privacy_consents")),
            ("disclosures", "Disclosures", office.url("privacy_disclosures")),
            ("notices", "Annual notice", office.url("privacy_notices")),
        ],
        **context,
    }


def answers_bad_parameters(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A BadParameter raised by the page is its 400, naming the parameter."""

    @wraps(view)
    def wrapped(request: SignedInRequest, *args: object, **kwargs: object) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except BadParameter as problem:
            return bad_parameter(request, problem)

    return wrapped

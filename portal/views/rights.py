"""The families' side of their rights under FERPA (issue 21): the district's annual notice and
its acknowledgement, and for each child a "Your rights" tab: directory information and the
opt-out, consent requests (consent signed with the password, and revoked), asking to see the
records (and downloading the package once delivered), and asking to correct a record (and, after
a refusal, adding a statement).

Each page fetches the child through accounts.access.child_for_guardian (404 for any child the
user does not follow as their guardian) and logs what it shows; each change is the guardian's
own, made through a rights service as the acting user. A guardian who sees the child but does
not hold the child's educational rights reads the pages without their forms, and a POST from
them is refused (403). A value the page did not offer is a named 400."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import caches
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import (
    SignedInRequest,
    StudentAccess,
    child_for_guardian,
    may_exercise_rights_for,
    viewer_for,
)
from accounts.models import Role, User
from portal.forms_rights import (
    OPT_OUT,
    AcknowledgeForm,
    AmendmentForm,
    ConsentForm,
    DirectoryForm,
    InspectionForm,
    RevokeForm,
    StatementForm,
)
from portal.selectors_rights import (
    amendment_shown,
    categories_words,
    child_directory,
    child_rights,
    family_notices,
    inspection_shown,
    my_amendment_request,
    my_consent_for_child,
    my_consent_in_force,
    my_inspection_request,
    my_open_inspection_request,
    notice_to_acknowledge,
    open_consent_request_for_child,
)
from portal.views.common import child_page, child_page_context
from privacy.services import log_shown
from rights.models import AmendmentDecision
from rights.selectors import eligibility_of, rights_policy_of
from rights.services import (
    RightsRefused,
    WrongPassword,
    amendment_request_create,
    amendment_statement_add,
    consent_give,
    consent_revoke,
    directory_opt_out_set,
    directory_opt_out_withdraw,
    inspection_request_create,
    notice_acknowledge,
)

# The rights services' refusals and errors (their `code`), in the page's language.
SERVICE_WORDS: dict[str, Any] = {
    "not_permitted": gettext_lazy(
        "Only a parent or guardian who holds your child's educational rights can do this. If "
        "you think you hold them, please contact your child's school."
    ),
    "student_holds_rights": gettext_lazy(
        "Your child now holds these rights themself (from age 18, or while at college): their "
        "own consent is needed. Nothing was recorded."
    ),
    "request_closed": gettext_lazy(
        "The school district no longer asks for consent to this request. Nothing was recorded."
    ),
    "not_concerned": gettext_lazy("This request is not about this child. Nothing was recorded."),
    "not_published": gettext_lazy("This notice is not published. Nothing was recorded."),
    "other_district": gettext_lazy(
        "This notice is another school district's. Nothing was recorded."
    ),
    "not_open": gettext_lazy("This request is not open any more. Nothing was changed."),
    "not_refused": gettext_lazy(
        "You can add a statement only after the school district refuses to change the record."
    ),
    "empty": gettext_lazy("Write your statement."),
}
NOT_DONE = gettext_lazy(
    "This could not be done, and nothing was changed. Please try again, or contact your "
    "child's school."
)
WRONG_PASSWORD = gettext_lazy(
    "That is not your password. Nothing was recorded: enter the password you sign in with."
)
TOO_MANY_TRIES = gettext_lazy(
    "Too many wrong passwords. Nothing was recorded: wait 15 minutes before you try again."
)

# Wrong passwords on the consent page, counted per account in the shared cache: the page must
# not become a way to guess a signed-in account's password.
PASSWORD_TRIES = 5
PASSWORD_TRIES_WINDOW_S = 15 * 60

DOWNLOADS = {
    "json": ("package_json", "application/json", "family portal: inspection package (JSON)"),
    "pdf": ("package_pdf", "application/pdf", "family portal: inspection package (PDF)"),
}


def _code(error: Exception) -> str:
    """A service error's code (a ValidationError's first one, whatever its shape)."""
    code = getattr(error, "code", None)
    if code:
        return str(code)
    if isinstance(error, ValidationError):
        nested = error.error_dict.values() if hasattr(error, "error_dict") else [error.error_list]
        for errors in nested:
            for item in errors:
                if getattr(item, "code", None):
                    return str(item.code)
    return ""


def service_words(error: Exception) -> str:
    return str(SERVICE_WORDS.get(_code(error), NOT_DONE))


def _day(value: date | datetime) -> str:
    """A day as the page's language writes it (a time's local day)."""
    if isinstance(value, datetime):
        value = timezone.localdate(value)
    return formats.date_format(value, "DATE_FORMAT")


def _rights_url(access: StudentAccess, anchor: str = "") -> str:
    url = reverse("portal:child_rights", kwargs={"pk": access.student.pk})
    return f"{url}#{anchor}" if anchor else url


def _status(form: Any, status: int) -> int:
    """The response's status: the one set by a refusal, else 400 for a form with errors."""
    if status != 200:
        return status
    return 400 if form.is_bound and form.errors else 200


class _Refusals:
    """Runs a rights service for a form: a refusal (RightsRefused, 403; a ValidationError, the
    form's 400) lands on the form in the family's words instead of propagating.

        with _Refusals(form) as attempt:
            done = some_service(...)
        if not attempt.refused:
            ...  # the message, the redirect
    """

    def __init__(self, form: Any) -> None:
        self.form = form
        self.refused = False
        self.status = 200

    def __enter__(self) -> _Refusals:
        return self

    def __exit__(self, kind: object, error: BaseException | None, trace: object) -> bool:
        if isinstance(error, RightsRefused | ValidationError):
            self.form.add_error(None, service_words(error))
            self.refused = True
            if isinstance(error, RightsRefused):
                self.status = 403
            return True
        return False


# --- The annual notice (99.7), for the guardian.


def _guardian(request: SignedInRequest) -> User:
    """The signed-in guardian (one who follows a child today); 404 for anyone else."""
    if Role.GUARDIAN not in viewer_for(request.user).roles:
        raise Http404("No notice here.")
    return request.user


@login_required
@require_http_methods(["GET", "POST"])
def notice(request: SignedInRequest) -> HttpResponse:
    """The annual notice of rights of each district of the guardian's children, and the "I have
    read this notice" button; its date once pressed. No child's data: nothing to log."""
    user = _guardian(request)
    form = AcknowledgeForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        to_acknowledge = notice_to_acknowledge(user, form.cleaned_data["notice"])
        if to_acknowledge is None:
            form.add_error("notice", form.fields["notice"].error_messages["invalid"])
        else:
            with _Refusals(form) as attempt:
                acknowledgement = notice_acknowledge(acting_user=user, notice=to_acknowledge)
            status = attempt.status
            if not attempt.refused:
                messages.success(
                    request,
                    _("Thank you. You acknowledged the notice on %(day)s.")
                    % {"day": _day(acknowledgement.acknowledged_at)},
                )
                return redirect("portal:rights_notice")
    notices, without_notice = family_notices(user)
    return render(
        request,
        "portal/rights_notice.html",
        {"notices": notices, "without_notice": without_notice, "form": form},
        status=_status(form, status),
    )


# --- A child's "Your rights" tab.


@login_required
@require_GET
def rights(request: SignedInRequest, pk: int) -> HttpResponse:
    """Directory information, consent requests and consents, inspection and amendment requests
    for the child, with what the guardian may do about each."""
    access, context = child_page(request, pk, what="family portal: rights")
    page = child_rights(access, request.user)
    return render(request, "portal/child_rights.html", {**context, "rights": page})


@login_required
@require_http_methods(["GET", "POST"])
def directory(request: SignedInRequest, pk: int) -> HttpResponse:
    """The directory-information switch: opt the child out, or withdraw the opt-out."""
    access = child_for_guardian(request.user, pk)
    user = request.user
    may_act = may_exercise_rights_for(user, access.student)
    form = DirectoryForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if not may_act:
            form.add_error(None, SERVICE_WORDS["not_permitted"])
            status = 403
        elif form.is_valid():
            name = access.student.display_name
            with _Refusals(form) as attempt:
                if form.cleaned_data["choice"] == OPT_OUT:
                    directory_opt_out_set(acting_user=user, student=access.student)
                    done = _(
                        "%(name)s is opted out of directory information. The school district "
                        "will leave %(name)s out when it shares directory information."
                    ) % {"name": name}
                else:
                    withdrawn = directory_opt_out_withdraw(acting_user=user, student=access.student)
                    done = (
                        _(
                            "The opt-out is withdrawn: the directory information of %(name)s "
                            "may be shared again."
                        )
                        if withdrawn is not None
                        else _("%(name)s was not opted out: nothing changed.")
                    ) % {"name": name}
            status = attempt.status
            if not attempt.refused:
                messages.success(request, done)
                return redirect(_rights_url(access, "directory"))
    context = child_page_context(request, access, what="family portal: directory information")
    return render(
        request,
        "portal/rights_directory.html",
        {**context, "directory": child_directory(access), "may_act": may_act, "form": form},
        status=_status(form, status),
    )


# --- Consent (99.30).


def _password_tries_key(user: User) -> str:
    # By account and email, not the id alone: an id may come back (a test database, a backup).
    digest = hashlib.sha256(f"{user.pk}:{user.email}".encode()).hexdigest()[:24]
    return f"portal-consent-password-tries:{digest}"


def _too_many_tries(user: User) -> bool:
    return int(caches["default"].get(_password_tries_key(user), 0)) >= PASSWORD_TRIES


def _count_wrong_password(user: User) -> None:
    cache = caches["default"]
    key = _password_tries_key(user)
    cache.add(key, 0, PASSWORD_TRIES_WINDOW_S)
    try:
        cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, PASSWORD_TRIES_WINDOW_S)


@login_required
@require_http_methods(["GET", "POST"])
def consent(request: SignedInRequest, pk: int, request_id: int) -> HttpResponse:
    """An open consent request about the child: to whom, for what, which records; consent is
    signed by re-entering the password (a wrong one records nothing)."""
    access = child_for_guardian(request.user, pk)
    user = request.user
    consent_request = open_consent_request_for_child(access, request_id)
    if consent_request is None:
        raise Http404("No such consent request for this child.")
    may_act = may_exercise_rights_for(user, access.student)
    holds_own_rights = eligibility_of(access.student) is not None
    form = ConsentForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if not may_act:
            form.add_error(None, SERVICE_WORDS["not_permitted"])
            status = 403
        elif _too_many_tries(user):
            form.add_error("password", TOO_MANY_TRIES)
            status = 429
        elif form.is_valid():
            try:
                given = consent_give(
                    acting_user=user,
                    request=consent_request,
                    student=access.student,
                    password=form.cleaned_data["password"],
                )
            except WrongPassword:
                _count_wrong_password(user)
                form.add_error("password", WRONG_PASSWORD)
            except RightsRefused as error:
                form.add_error(None, service_words(error))
                status = 403
            except ValidationError as error:
                form.add_error(None, service_words(error))
            else:
                caches["default"].delete(_password_tries_key(user))
                messages.success(
                    request,
                    _(
                        "You gave your consent on %(day)s for %(recipient)s. You can revoke it "
                        "at any time on this page."
                    )
                    % {"day": _day(given.signed_at), "recipient": consent_request.recipient.name},
                )
                return redirect(_rights_url(access, "consent"))
    context = child_page_context(request, access, what="family portal: consent request")
    return render(
        request,
        "portal/rights_consent.html",
        {
            **context,
            "consent_request": consent_request,
            "categories": categories_words(consent_request.categories),
            "my_consent": my_consent_in_force(access, user, consent_request),
            "may_act": may_act,
            "holds_own_rights": holds_own_rights,
            "form": form,
        },
        status=_status(form, status),
    )


@login_required
@require_http_methods(["GET", "POST"])
def revoke(request: SignedInRequest, pk: int, consent_id: int) -> HttpResponse:
    """A consent the guardian gave for the child: revoking it asks once more, and says what it
    does (stops every later sharing under it) and does not (what was shared stays shared)."""
    access = child_for_guardian(request.user, pk)
    user = request.user
    given = my_consent_for_child(access, user, consent_id)
    if given is None:
        raise Http404("No such consent of yours for this child.")
    form = RevokeForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        if given.revoked_at is not None:
            messages.info(
                request,
                _("You had already revoked this consent, on %(day)s.")
                % {"day": _day(given.revoked_at)},
            )
            return redirect(_rights_url(access, "consent"))
        with _Refusals(form) as attempt:
            revoked = consent_revoke(acting_user=user, consent=given)
        status = attempt.status
        if not attempt.refused:
            messages.success(
                request,
                _(
                    "Your consent for %(recipient)s is revoked, from %(day)s: the school "
                    "district may no longer share records with them on the basis of it."
                )
                % {
                    "recipient": given.request.recipient.name,
                    "day": _day(revoked.revoked_at or timezone.now()),
                },
            )
            return redirect(_rights_url(access, "consent"))
    context = child_page_context(request, access, what="family portal: consent")
    return render(
        request,
        "portal/rights_revoke.html",
        {
            **context,
            "consent": given,
            "categories": categories_words(given.request.categories),
            "form": form,
        },
        status=_status(form, status),
    )


# --- Inspection (99.10).


@login_required
@require_http_methods(["GET", "POST"])
def inspection(request: SignedInRequest, pk: int) -> HttpResponse:
    """Ask to see the child's records, with an optional note; an open request is shown
    instead of a second one."""
    access = child_for_guardian(request.user, pk)
    user = request.user
    may_act = may_exercise_rights_for(user, access.student)
    form = InspectionForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if not may_act:
            form.add_error(None, SERVICE_WORDS["not_permitted"])
            status = 403
        elif form.is_valid():
            already = my_open_inspection_request(access, user)
            with _Refusals(form) as attempt:
                asked = inspection_request_create(
                    acting_user=user, student=access.student, note=form.cleaned_data["note"]
                )
            status = attempt.status
            if not attempt.refused:
                if already is not None and already.pk == asked.pk:
                    done = _(
                        "You already asked on %(asked)s. The school district will let you see "
                        "the records by %(due)s."
                    )
                else:
                    done = _(
                        "Your request is sent. The school district will let you see the records "
                        "by %(due)s, here on this page."
                    )
                messages.success(
                    request, done % {"asked": _day(asked.requested_at), "due": _day(asked.due_on)}
                )
                return redirect(_rights_url(access, "inspection"))
    context = child_page_context(request, access, what="family portal: inspection request")
    open_request = my_open_inspection_request(access, user)
    return render(
        request,
        "portal/rights_inspection.html",
        {
            **context,
            "open_request": inspection_shown(open_request) if open_request else None,
            "inspection_days": rights_policy_of(access.student.district).inspection_days,
            "may_act": may_act,
            "form": form,
        },
        status=_status(form, status),
    )


@login_required
@require_GET
def download(request: SignedInRequest, pk: int, request_id: int, fmt: str) -> FileResponse:
    """The package delivered for the guardian's inspection request, as JSON or PDF: an
    attachment, never sniffed or stored, and logged as a read of the whole record."""
    if fmt not in DOWNLOADS:
        raise Http404("No such format.")
    access = child_for_guardian(request.user, pk)
    asked = my_inspection_request(access, request.user, request_id)
    if asked is None or not inspection_shown(asked).delivered:
        raise Http404("No package delivered for this request.")
    field_name, content_type, what = DOWNLOADS[fmt]
    package = getattr(asked, field_name)
    if not package or not package.storage.exists(package.name):
        raise Http404("This package has no such file.")
    if not may_exercise_rights_for(request.user, access.student):
        raise PermissionDenied(str(SERVICE_WORDS["not_permitted"]))
    log_shown(request, access, what=what, students=[access.student])
    delivered_on = timezone.localdate(asked.delivered_at) if asked.delivered_at else asked.due_on
    filename = f"{slugify(access.student.display_name) or 'child'}-records-{delivered_on}.{fmt}"
    response = FileResponse(
        package.open("rb"), as_attachment=True, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Amendment (99.20-99.22).


@login_required
@require_http_methods(["GET", "POST"])
def amendment(request: SignedInRequest, pk: int) -> HttpResponse:
    """Ask to correct a value in the child's record: which record, what it says, what it
    should say and why."""
    access = child_for_guardian(request.user, pk)
    user = request.user
    may_act = may_exercise_rights_for(user, access.student)
    form = AmendmentForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if not may_act:
            form.add_error(None, SERVICE_WORDS["not_permitted"])
            status = 403
        elif form.is_valid():
            data = form.cleaned_data
            with _Refusals(form) as attempt:
                amendment_request_create(
                    acting_user=user,
                    student=access.student,
                    category=data["category"],
                    record_label=data["record_label"],
                    contested_value=data["contested_value"],
                    proposed_value=data["proposed_value"],
                    reason=data["reason"],
                )
            status = attempt.status
            if not attempt.refused:
                messages.success(
                    request,
                    _(
                        "Your request to correct the record is sent. The school district will "
                        "answer here, on this page."
                    ),
                )
                return redirect(_rights_url(access, "amendment"))
    context = child_page_context(request, access, what="family portal: amendment request")
    return render(
        request,
        "portal/rights_amendment.html",
        {**context, "may_act": may_act, "form": form},
        status=_status(form, status),
    )


@login_required
@require_http_methods(["GET", "POST"])
def statement(request: SignedInRequest, pk: int, request_id: int) -> HttpResponse:
    """After a refusal: the decision, the notice of the right to a hearing, and the form to
    place a statement in the record (a later one replaces it)."""
    access = child_for_guardian(request.user, pk)
    user = request.user
    asked = my_amendment_request(access, user, request_id)
    if asked is None:
        raise Http404("No such request of yours for this child.")
    may_act = may_exercise_rights_for(user, access.student)
    refused = asked.decision == AmendmentDecision.REFUSED
    form = StatementForm(
        request.POST if request.method == "POST" else None,
        initial={"statement": asked.statement},
    )
    status = 200
    if request.method == "POST":
        if not may_act:
            form.add_error(None, SERVICE_WORDS["not_permitted"])
            status = 403
        elif not refused:
            form.add_error(None, SERVICE_WORDS["not_refused"])
        elif form.is_valid():
            with _Refusals(form) as attempt:
                amendment_statement_add(
                    acting_user=user, request=asked, statement=form.cleaned_data["statement"]
                )
            status = attempt.status
            if not attempt.refused:
                messages.success(
                    request,
                    _(
                        "Your statement is in the record. Staff see it beside the record, and "
                        "it is sent with the record whenever the record is shared."
                    ),
                )
                return redirect(_rights_url(access, "amendment"))
    context = child_page_context(request, access, what="family portal: amendment statement")
    return render(
        request,
        "portal/rights_statement.html",
        {
            **context,
            "amendment": amendment_shown(asked),
            "may_act": may_act,
            "form": form,
        },
        status=_status(form, status),
    )

"""Writes of families' rights under FERPA (34 CFR Part 99). Each function is atomic, takes
keyword arguments and the acting user, validates the rows it saves (full_clean) and logs the
change in rights.models.RightsEvent (append-only). Each checks who acts, through accounts.access:
the district's privacy officer (`may_act_as_privacy_officer`) or a parent or guardian who holds
the child's educational rights (`may_exercise_rights_for`); anyone else gets RightsRefused.
A page still fetches what it shows through accounts.access first (404 for what the user may not
see) and catches these errors to show them.

Errors (each has a stable `code`, so that the portal can show its own translated words):
    RightsRefused(PermissionDenied)   the acting user may not do this (code "not_permitted",
                                      "student_holds_rights", ...)
    WrongPassword(RightsRefused)      consent_give: the password re-entered is wrong
    DisclosureRefused(Exception)      disclose: no lawful basis; `.code`, `.message`,
                                      `.student_ids` (the students it is about)
    django ValidationError            bad input or a state that forbids it (code on each)

The district's settings and notice (99.7)
    rights_policy_set(*, acting_user, district, parents_access_at_eligibility=None,
                      inspection_days=None) -> RightsPolicy
    notice_publish(*, acting_user, district, school_year, title, body, directory_information,
                   opt_out_by=None) -> AnnualNotice
    notice_draft_save(*, acting_user, district, school_year, title, body, directory_information,
                      opt_out_by=None, notice=None) -> AnnualNotice      (a new draft, or edits)
    notice_draft_publish(*, acting_user, notice) -> AnnualNotice
    notice_acknowledge(*, acting_user, notice, student=None) -> NoticeAcknowledgement

Directory information (99.37)
    directory_opt_out_set(*, acting_user, student) -> DirectoryOptOut
    directory_opt_out_withdraw(*, acting_user, student) -> DirectoryOptOut | None

Consent and disclosure (99.30-99.32)
    recipient_save(*, acting_user, district, name, kind=..., contact="", recipient=None)
        -> Recipient
    consent_request_create(*, acting_user, recipient, purpose, categories, records_description,
                           students=(), for_all_students=False, school=None, expires_on=None)
        -> ConsentRequest
    consent_request_close(*, acting_user, request) -> ConsentRequest
    consent_give(*, acting_user, request, student, password) -> Consent
    consent_revoke(*, acting_user, consent) -> Consent
    disclose(*, acting_user, students, recipient, categories, description, basis, purpose="",
             reference="", consent_request=None, actor_app="") -> DisclosureResult

Inspection (99.10)
    inspection_request_create(*, acting_user, student, note="") -> InspectionRequest
    inspection_request_fulfil(*, acting_user, request, package_builder=None,
                              pdf_renderer=None) -> InspectionRequest
    inspection_request_withdraw(*, acting_user, request) -> InspectionRequest

Amendment (99.20-99.22)
    amendment_request_create(*, acting_user, student, category, record_label, contested_value,
                             reason, proposed_value="", record_model="", record_id=None,
                             field_name="") -> AmendmentRequest
    amendment_decide(*, acting_user, request, decision, decision_reason="", hearing_notice="")
        -> AmendmentRequest
    amendment_statement_add(*, acting_user, request, statement) -> AmendmentRequest

Eligible students (99.5)
    eligible_students_flag(*, today=None) -> int         (the daily task's work; idempotent)
    eligible_student_postsecondary_set(*, acting_user, student, since=None) -> EligibleStudent
    eligible_student_parents_access_set(*, acting_user, eligible, ended, note) -> EligibleStudent
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone

from accounts.access import (
    PRIVACY_OFFICE_PURPOSE,
    Basis,
    may_act_as_privacy_officer,
    may_exercise_rights_for,
    students_visible_to,
    viewer_for,
)
from accounts.models import Role, User
from privacy.services import access_log_record
from rights.models import (
    AmendmentDecision,
    AmendmentRequest,
    AnnualNotice,
    Consent,
    ConsentRequest,
    DirectoryOptOut,
    DisclosureBasis,
    DisclosureRecord,
    EligibilityReason,
    EligibleStudent,
    InspectionRequest,
    InspectionStatus,
    NoticeAcknowledgement,
    ParentsAccessAtEligibility,
    Recipient,
    RecipientKind,
    RightsAction,
    RightsEvent,
    RightsPolicy,
)
from rights.selectors import (
    StatementShown,
    consent_request_concerns,
    current_notice,
    eligibility_of,
    opted_out_student_ids,
    rights_policy_of,
    statements_for_students,
)
from students.models import District, GuardianRelationship, School, Student

logger = logging.getLogger(__name__)

# The daily task acts as no user; its rows and events name it.
TASK_LABEL = "task: rights.eligible_students_flag"
ELIGIBLE_AGE = 18


class RightsRefused(PermissionDenied):
    """The acting user may not do this (not the district's privacy officer, not a parent or
    guardian holding the child's rights, or the child holds their own rights now)."""

    def __init__(self, message: str, code: str = "not_permitted") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class WrongPassword(RightsRefused):
    """consent_give: the password re-entered as the signature is not the user's."""

    def __init__(self) -> None:
        super().__init__(
            "The password is not right: consent is signed by re-entering your password.",
            code="wrong_password",
        )


class DisclosureRefused(Exception):  # noqa: N818  (the name the callers know)
    """disclose refused: no lawful basis for these students' records to this recipient."""

    def __init__(self, code: str, message: str, student_ids: Iterable[int] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.student_ids = sorted(set(student_ids))


def _label(user: Any) -> str:
    """Who acted, as the rows keep them (their account may go): the account's email."""
    return str(getattr(user, "email", "") or "")


def _log(
    *,
    district_id: int,
    actor: Any,
    action: RightsAction,
    subject: Model | None = None,
    student_id: int | None = None,
    detail: dict[str, Any] | None = None,
    actor_label: str = "",
) -> RightsEvent:
    event = RightsEvent(
        district_id=district_id,
        actor_user=actor if isinstance(actor, User) else None,
        actor_label=actor_label or _label(actor),
        action=action,
        student_id=student_id,
        subject_model=subject._meta.label if subject is not None else "",
        subject_id=subject.pk if subject is not None else None,
        detail=json.loads(json.dumps(detail or {}, cls=DjangoJSONEncoder)),
    )
    event.full_clean(exclude=["district", "actor_user", "student"])
    event.save()
    return event


def _require_privacy_officer(user: Any, district_id: int) -> User:
    if not isinstance(user, User) or not may_act_as_privacy_officer(user, district_id):
        raise RightsRefused("Only the district's privacy officer may do this.")
    return user


def _require_rights_holder(user: Any, student: Student) -> User:
    """A parent or guardian who holds the child's educational rights today."""
    if not isinstance(user, User) or not may_exercise_rights_for(user, student):
        raise RightsRefused(
            "Only a parent or guardian who holds the child's educational rights may do this."
        )
    return user


def _require_family_or_office(user: Any, student: Student) -> User:
    """A rights holder acting in the portal, or the privacy office on the family's behalf (a
    request made on paper or by phone)."""
    if isinstance(user, User) and (
        may_act_as_privacy_officer(user, student.district_id)
        or may_exercise_rights_for(user, student)
    ):
        return user
    raise RightsRefused(
        "Only a parent or guardian who holds the child's rights, or the district's privacy "
        "officer, may do this."
    )


def _guardian_of(user: User, student: Student) -> int | None:
    return (
        GuardianRelationship.objects.filter(guardian_id=user.guardian_record_id, student=student)
        .values_list("guardian_id", flat=True)
        .first()
        if user.guardian_record_id is not None
        else None
    )


# --- The district's settings and notice (99.7).


@transaction.atomic
def rights_policy_set(
    *,
    acting_user: User,
    district: District,
    parents_access_at_eligibility: str | None = None,
    inspection_days: int | None = None,
) -> RightsPolicy:
    """Change the district's rights settings (what is not given stays). A new setting for
    parents' access applies to students who hold their rights from then on; the privacy office
    changes it for one student with eligible_student_parents_access_set."""
    _require_privacy_officer(acting_user, district.pk)
    policy = RightsPolicy.objects.select_for_update().filter(district=district).first()
    policy = policy or RightsPolicy(district=district)
    before = {
        "parents_access_at_eligibility": policy.parents_access_at_eligibility,
        "inspection_days": policy.inspection_days,
    }
    if parents_access_at_eligibility is not None:
        policy.parents_access_at_eligibility = parents_access_at_eligibility
    if inspection_days is not None:
        policy.inspection_days = inspection_days
    policy.updated_by = acting_user
    policy.full_clean()
    policy.save()
    _log(
        district_id=district.pk,
        actor=acting_user,
        action=RightsAction.POLICY_SET,
        subject=policy,
        detail={
            "before": before,
            "after": {
                "parents_access_at_eligibility": policy.parents_access_at_eligibility,
                "inspection_days": policy.inspection_days,
            },
        },
    )
    return policy


@transaction.atomic
def notice_publish(
    *,
    acting_user: User,
    district: District,
    school_year: int,
    title: str,
    body: str,
    directory_information: Sequence[str],
    opt_out_by: date | None = None,
) -> AnnualNotice:
    """Publish the district's annual notice of rights (99.7): it is in force from now (the
    latest published is), and guardians are asked to acknowledge it. A correction is a new
    notice, to be acknowledged again."""
    _require_privacy_officer(acting_user, district.pk)
    now = timezone.now()
    notice = AnnualNotice(
        district=district,
        school_year=school_year,
        title=title.strip(),
        body=body.strip(),
        directory_information=list(directory_information),
        opt_out_by=opt_out_by,
        published_at=now,
        published_by=acting_user,
    )
    notice.full_clean()
    notice.save()
    _log(
        district_id=district.pk,
        actor=acting_user,
        action=RightsAction.NOTICE_PUBLISHED,
        subject=notice,
        detail={"school_year": school_year, "directory_information": notice.directory_information},
    )
    return notice


@transaction.atomic
def notice_draft_save(
    *,
    acting_user: User,
    district: District,
    school_year: int,
    title: str,
    body: str,
    directory_information: Sequence[str],
    opt_out_by: date | None = None,
    notice: AnnualNotice | None = None,
) -> AnnualNotice:
    """Write a draft of the annual notice (or change the draft `notice`): families see nothing
    of it until notice_draft_publish. A published notice is never changed: a correction is a
    new draft."""
    _require_privacy_officer(acting_user, district.pk)
    if notice is not None:
        notice = AnnualNotice.objects.select_for_update().get(pk=notice.pk)
        if notice.district_id != district.pk:
            raise ValidationError("The notice is another district's.", code="other_district")
        if notice.published_at is not None:
            raise ValidationError(
                "A published notice is not changed: write a new one.", code="published"
            )
    draft = notice or AnnualNotice(district=district)
    draft.school_year = school_year
    draft.title = title.strip()
    draft.body = body.strip()
    draft.directory_information = list(directory_information)
    draft.opt_out_by = opt_out_by
    draft.full_clean()
    draft.save()
    _log(
        district_id=district.pk,
        actor=acting_user,
        action=RightsAction.NOTICE_DRAFTED,
        subject=draft,
        detail={
            "school_year": school_year,
            "directory_information": draft.directory_information,
            "new": notice is None,
        },
    )
    return draft


@transaction.atomic
def notice_draft_publish(*, acting_user: User, notice: AnnualNotice) -> AnnualNotice:
    """Publish a draft as it was last saved: the notice in force from now, which guardians are
    asked to acknowledge (as notice_publish)."""
    _require_privacy_officer(acting_user, notice.district_id)
    notice = AnnualNotice.objects.select_for_update().get(pk=notice.pk)
    if notice.published_at is not None:
        raise ValidationError("This notice is published already.", code="already_published")
    notice.published_at = timezone.now()
    notice.published_by = acting_user
    notice.full_clean()
    notice.save(update_fields=["published_at", "published_by", "updated_at"])
    _log(
        district_id=notice.district_id,
        actor=acting_user,
        action=RightsAction.NOTICE_PUBLISHED,
        subject=notice,
        detail={
            "school_year": notice.school_year,
            "directory_information": notice.directory_information,
        },
    )
    return notice


@transaction.atomic
def notice_acknowledge(
    *, acting_user: User, notice: AnnualNotice, student: Student | None = None
) -> NoticeAcknowledgement:
    """A guardian acknowledges the notice (for one child, if given), dated now; a second
    acknowledgement returns the first, with its date."""
    if notice.published_at is None:
        raise ValidationError("This notice has not been published.", code="not_published")
    if student is not None:
        if student.district_id != notice.district_id:
            raise ValidationError("The notice is another district's.", code="other_district")
        if student.pk not in viewer_for(acting_user).ids(Basis.GUARDIAN):
            raise RightsRefused("Only the child's parent or guardian may do this.")
    elif not _follows_a_child_in(acting_user, notice.district_id):
        raise RightsRefused("Only a parent or guardian of a child in the district may do this.")
    existing = NoticeAcknowledgement.objects.filter(
        notice=notice, user=acting_user, student=student
    ).first()
    if existing is not None:
        return existing
    acknowledgement = NoticeAcknowledgement(
        district_id=notice.district_id,
        notice=notice,
        user=acting_user,
        user_label=_label(acting_user),
        student=student,
        acknowledged_at=timezone.now(),
    )
    acknowledgement.full_clean()
    acknowledgement.save()
    _log(
        district_id=notice.district_id,
        actor=acting_user,
        action=RightsAction.NOTICE_ACKNOWLEDGED,
        subject=acknowledgement,
        student_id=student.pk if student is not None else None,
        detail={"notice": notice.pk},
    )
    return acknowledgement


def _follows_a_child_in(user: Any, district_id: int) -> bool:
    return (
        isinstance(user, User)
        and students_visible_to(user, role=Role.GUARDIAN).filter(district_id=district_id).exists()
    )


# --- Directory information (99.37).


@transaction.atomic
def directory_opt_out_set(*, acting_user: User, student: Student) -> DirectoryOptOut:
    """Opt the child out of directory information from now on: a disclosure under the
    directory-information exception leaves them out (school officials under contract still get
    their names). Setting it again returns the opt-out in force."""
    _require_family_or_office(acting_user, student)
    # Locks the student's row: two clicks at once make one opt-out.
    Student.objects.select_for_update().filter(pk=student.pk).first()
    existing = DirectoryOptOut.objects.filter(student=student, withdrawn_at__isnull=True).first()
    if existing is not None:
        return existing
    opt_out = DirectoryOptOut(
        district_id=student.district_id,
        student=student,
        set_by=acting_user,
        set_by_label=_label(acting_user),
        set_at=timezone.now(),
    )
    opt_out.full_clean()
    opt_out.save()
    _log(
        district_id=student.district_id,
        actor=acting_user,
        action=RightsAction.OPT_OUT_SET,
        subject=opt_out,
        student_id=student.pk,
    )
    return opt_out


@transaction.atomic
def directory_opt_out_withdraw(*, acting_user: User, student: Student) -> DirectoryOptOut | None:
    """Withdraw the child's opt-out in force (None: there was none)."""
    _require_family_or_office(acting_user, student)
    opt_out = (
        DirectoryOptOut.objects.select_for_update()
        .filter(student=student, withdrawn_at__isnull=True)
        .first()
    )
    if opt_out is None:
        return None
    opt_out.withdrawn_at = timezone.now()
    opt_out.withdrawn_by = acting_user
    opt_out.full_clean()
    opt_out.save(update_fields=["withdrawn_at", "withdrawn_by"])
    _log(
        district_id=student.district_id,
        actor=acting_user,
        action=RightsAction.OPT_OUT_WITHDRAWN,
        subject=opt_out,
        student_id=student.pk,
    )
    return opt_out


# --- Consent (99.30).


@transaction.atomic
def recipient_save(
    *,
    acting_user: User,
    district: District,
    name: str,
    kind: str = RecipientKind.ORGANIZATION,
    contact: str = "",
    recipient: Recipient | None = None,
) -> Recipient:
    """Name a recipient (or change one): a vendor, a college, a court."""
    _require_privacy_officer(acting_user, district.pk)
    if recipient is not None and recipient.district_id != district.pk:
        raise ValidationError("The recipient is another district's.", code="other_district")
    row = recipient or Recipient(district=district, created_by=acting_user)
    row.name = " ".join(name.split())
    row.kind = kind
    row.contact = contact.strip()
    row.full_clean()
    row.save()
    _log(
        district_id=district.pk,
        actor=acting_user,
        action=RightsAction.RECIPIENT_SAVED,
        subject=row,
        detail={"name": row.name, "kind": row.kind},
    )
    return row


@transaction.atomic
def consent_request_create(
    *,
    acting_user: User,
    recipient: Recipient,
    purpose: str,
    categories: Sequence[str],
    records_description: str,
    students: Iterable[Student] = (),
    for_all_students: bool = False,
    school: School | None = None,
    expires_on: date | None = None,
) -> ConsentRequest:
    """Ask families' consent to disclose these records to the recipient for this purpose: of the
    students named, or of every student of the district (of the school, if given). Guardians
    who hold the rights of a student it concerns see it in the portal."""
    district_id = recipient.district_id
    _require_privacy_officer(acting_user, district_id)
    named = list({student.pk: student for student in students}.values())
    if bool(named) == for_all_students:
        raise ValidationError(
            "Name the students the request concerns, or make it for every student.",
            code="scope",
        )
    if any(student.district_id != district_id for student in named):
        raise ValidationError("A student named is another district's.", code="other_district")
    if school is not None and school.district_id != district_id:
        raise ValidationError("The school is another district's.", code="other_district")
    request = ConsentRequest(
        district_id=district_id,
        recipient=recipient,
        purpose=" ".join(purpose.split()),
        categories=list(categories),
        records_description=records_description.strip(),
        for_all_students=for_all_students,
        school=school,
        expires_on=expires_on,
        created_by=acting_user,
    )
    request.full_clean()
    request.save()
    if named:
        request.students.set(named)
    _log(
        district_id=district_id,
        actor=acting_user,
        action=RightsAction.CONSENT_REQUESTED,
        subject=request,
        detail={
            "recipient": recipient.name,
            "purpose": request.purpose,
            "categories": request.categories,
            "students": [student.pk for student in named] if named else "all",
            "school": school.pk if school is not None else None,
        },
    )
    return request


@transaction.atomic
def consent_request_close(*, acting_user: User, request: ConsentRequest) -> ConsentRequest:
    """Stop asking: families no longer see it or give consent under it. Consents given stand
    until revoked or the request expires."""
    _require_privacy_officer(acting_user, request.district_id)
    request = ConsentRequest.objects.select_for_update().get(pk=request.pk)
    if request.closed_at is None:
        request.closed_at = timezone.now()
        request.closed_by = acting_user
        request.save(update_fields=["closed_at", "closed_by", "updated_at"])
        _log(
            district_id=request.district_id,
            actor=acting_user,
            action=RightsAction.CONSENT_REQUEST_CLOSED,
            subject=request,
        )
    return request


def consent_give(
    *, acting_user: User, request: ConsentRequest, student: Student, password: str
) -> Consent:
    """A guardian who holds the child's rights consents, signing by re-entering their password
    (99.30(d)): the time, the user and the request are kept as the signature. Refused with
    WrongPassword when the password is not theirs, and the refusal is logged (committed on its
    own, so that the refusal's error does not undo it); a second consent in force returns the
    first. A student who holds their own rights (99.5) consents for themself."""
    _require_rights_holder(acting_user, student)
    if not password or not acting_user.check_password(password):
        with transaction.atomic():
            _log(
                district_id=request.district_id,
                actor=acting_user,
                action=RightsAction.CONSENT_REFUSED,
                subject=request,
                student_id=student.pk,
            )
        raise WrongPassword()
    return _consent_record(acting_user=acting_user, request=request, student=student)


@transaction.atomic
def _consent_record(*, acting_user: User, request: ConsentRequest, student: Student) -> Consent:
    """consent_give's write, once the password is checked."""
    if eligibility_of(student) is not None:
        raise RightsRefused(
            "The student holds their own rights now: their own consent is needed.",
            code="student_holds_rights",
        )
    request = ConsentRequest.objects.select_for_update().get(pk=request.pk)
    if not request.is_open:
        raise ValidationError("This request no longer takes consent.", code="request_closed")
    if not consent_request_concerns(request, student):
        raise ValidationError("This request is not about this child.", code="not_concerned")
    existing = Consent.objects.filter(
        request=request, student=student, user=acting_user, revoked_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    consent = Consent(
        district_id=request.district_id,
        request=request,
        student=student,
        user=acting_user,
        user_label=_label(acting_user),
        guardian_id=_guardian_of(acting_user, student),
        signed_at=timezone.now(),
    )
    consent.full_clean()
    consent.save()
    _log(
        district_id=request.district_id,
        actor=acting_user,
        action=RightsAction.CONSENT_GIVEN,
        subject=consent,
        student_id=student.pk,
        detail={"request": request.pk, "signature": consent.signature_method},
    )
    return consent


@transaction.atomic
def consent_revoke(*, acting_user: User, consent: Consent) -> Consent:
    """Revoke a consent, from now: the next disclosure under it is refused. By a guardian who
    holds the child's rights, or the privacy office for the family (a revocation on paper).
    Revoking again changes nothing."""
    _require_family_or_office(acting_user, consent.student)
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    if consent.revoked_at is not None:
        return consent
    consent.revoked_at = timezone.now()
    consent.revoked_by = acting_user
    consent.save(update_fields=["revoked_at", "revoked_by"])
    _log(
        district_id=consent.district_id,
        actor=acting_user,
        action=RightsAction.CONSENT_REVOKED,
        subject=consent,
        student_id=consent.student_id,
        detail={"request": consent.request_id},
    )
    return consent


# --- Disclosure (99.31, 99.32): the one way records leave for anyone outside the officials.


@dataclass(frozen=True)
class DisclosureResult:
    """What disclose wrote, and the family statements the caller must send with the records
    (99.21(c)): each about a value in a category disclosed."""

    records: list[DisclosureRecord]
    statements: list[StatementShown] = field(default_factory=list)


# The purpose recorded for directory information when none is given (99.32(d)(4) asks none).
DIRECTORY_PURPOSE = "Directory information"


def _refuse(code: str, message: str, student_ids: Iterable[int] = ()) -> DisclosureRefused:
    return DisclosureRefused(code, message, student_ids)


def _names(students: Iterable[Student]) -> str:
    return ", ".join(f"{s.first_name} {s.last_name} ({s.pk})" for s in students)


def _consents_for(
    request: ConsentRequest | None,
    students: list[Student],
    recipient: Recipient,
    categories: list[str],
    purpose: str,
) -> tuple[dict[int, Consent], str]:
    """The consent in force for each student under the request, and the purpose to record;
    DisclosureRefused naming what is missing."""
    if request is None:
        raise _refuse(
            "consent_missing",
            "Consent is the basis, but no consent request was named.",
            [s.pk for s in students],
        )
    if request.district_id != recipient.district_id:
        raise _refuse("consent_other_district", "The consent request is another district's.")
    if request.recipient_id != recipient.pk:
        raise _refuse(
            "consent_wrong_recipient",
            f"The consent names another recipient ({request.recipient}), not {recipient}.",
        )
    beyond = [category for category in categories if category not in request.categories]
    if beyond:
        raise _refuse(
            "consent_wrong_records",
            f"The consent does not name these records: {', '.join(beyond)}.",
        )
    if purpose and purpose != request.purpose:
        raise _refuse(
            "consent_wrong_purpose",
            f"The consent was given for another purpose ({request.purpose!r}).",
        )
    if request.expired():
        raise _refuse(
            "consent_expired",
            f"The consent request expired on {request.expires_on:%Y-%m-%d}.",
            [s.pk for s in students],
        )
    ids = [s.pk for s in students]
    # Locked: a revocation at the same moment waits for this disclosure, or is seen by it.
    rows = list(
        Consent.objects.select_for_update()
        .filter(request=request, student_id__in=ids)
        .order_by("signed_at", "id")
    )
    in_force: dict[int, Consent] = {}
    revoked: set[int] = set()
    for row in rows:
        if row.revoked_at is None:
            in_force.setdefault(row.student_id, row)
        else:
            revoked.add(row.student_id)
    missing = [s for s in students if s.pk not in in_force]
    if missing:
        was_revoked = [s for s in missing if s.pk in revoked]
        if was_revoked:
            raise _refuse(
                "consent_revoked",
                f"Consent was revoked for: {_names(was_revoked)}.",
                [s.pk for s in missing],
            )
        raise _refuse(
            "consent_missing",
            f"No consent in force for: {_names(missing)}.",
            [s.pk for s in missing],
        )
    return in_force, request.purpose


def _check_directory(students: list[Student], categories: list[str], district_id: int) -> None:
    notice = current_notice(district_id)
    if notice is None:
        raise _refuse(
            "no_directory_notice",
            "No annual notice designating directory information has been published.",
        )
    beyond = [c for c in categories if c not in notice.directory_information]
    if beyond:
        raise _refuse(
            "not_directory_information",
            f"Not designated directory information in the notice: {', '.join(beyond)}.",
        )
    opted_out = opted_out_student_ids(s.pk for s in students)
    if opted_out:
        raise _refuse(
            "opted_out",
            "These students are opted out of directory information: "
            f"{_names(s for s in students if s.pk in opted_out)}. Leave them out "
            "(rights.selectors.without_directory_opt_out).",
            opted_out,
        )


def disclose(
    *,
    acting_user: User | None,
    students: Iterable[Student],
    recipient: Recipient,
    categories: Sequence[str],
    description: str,
    basis: str,
    purpose: str = "",
    reference: str = "",
    consent_request: ConsentRequest | None = None,
    actor_app: str = "",
) -> DisclosureResult:
    """Disclose students' records to a recipient outside the school officials: THE one way,
    whether a file export to a third party, a transcript to a college or (later) a read through
    the app API. Refused with DisclosureRefused, naming why and which students, unless there is
    a lawful basis for every student:

    - "consent": `consent_request` naming this recipient, every category disclosed and this
      purpose (when one is given), with a consent in force (not revoked, not expired) for each
      student;
    - "school_official_under_contract": a purpose (and the contract as `reference`, if any);
      directory opt-outs do not apply;
    - "directory_information": only categories the notice in force designates, and no student
      opted out (leave them out first: rights.selectors.without_directory_opt_out);
    - "court_order" or "subpoena": its `reference` (a docket or subpoena number).

    Writes one DisclosureRecord per student, all or none. The result holds the family
    statements (99.21(c)) about values in the categories disclosed: the caller sends them with
    the records."""
    with transaction.atomic():
        return _disclose(
            acting_user=acting_user,
            students=students,
            recipient=recipient,
            categories=categories,
            description=description,
            basis=basis,
            purpose=purpose,
            reference=reference,
            consent_request=consent_request,
            actor_app=actor_app,
        )


def _disclose(
    *,
    acting_user: User | None,
    students: Iterable[Student],
    recipient: Recipient,
    categories: Sequence[str],
    description: str,
    basis: str,
    purpose: str,
    reference: str,
    consent_request: ConsentRequest | None,
    actor_app: str,
) -> DisclosureResult:
    chosen = list({student.pk: student for student in students}.values())
    categories = list(dict.fromkeys(categories))
    purpose = " ".join(purpose.split())
    reference = reference.strip()
    if basis not in DisclosureBasis.values:
        raise _refuse(
            "no_basis",
            "A disclosure needs a basis: consent, a school official under contract, directory "
            "information, a court order or a subpoena.",
            [s.pk for s in chosen],
        )
    if not chosen:
        raise _refuse("no_students", "No student was named.")
    if not categories or not description.strip():
        raise _refuse("nothing_described", "Say which records are disclosed, and describe them.")
    if acting_user is None and not actor_app:
        raise _refuse("no_actor", "A disclosure is made by a user or an application.")
    outside = [s for s in chosen if s.district_id != recipient.district_id]
    if outside:
        raise _refuse(
            "other_district",
            f"Not students of the recipient's district: {_names(outside)}.",
            [s.pk for s in outside],
        )
    consents: dict[int, Consent] = {}
    if basis == DisclosureBasis.CONSENT:
        consents, purpose = _consents_for(consent_request, chosen, recipient, categories, purpose)
    elif consent_request is not None:
        raise _refuse("consent_not_basis", "A consent request was named, but not as the basis.")
    elif basis == DisclosureBasis.SCHOOL_OFFICIAL_UNDER_CONTRACT:
        if not purpose:
            raise _refuse(
                "purpose_missing",
                "A school official under contract receives records for a stated purpose.",
            )
    elif basis == DisclosureBasis.DIRECTORY_INFORMATION:
        _check_directory(chosen, categories, recipient.district_id)
        purpose = purpose or DIRECTORY_PURPOSE
    elif not reference:
        raise _refuse(
            "reference_missing",
            f"A disclosure under a {DisclosureBasis(basis).label.lower()} needs its reference.",
        )
    if not purpose:
        purpose = DisclosureBasis(basis).label
    statements = statements_for_students([s.pk for s in chosen], categories)
    statements_by_student: dict[int, list[StatementShown]] = {}
    for statement in statements:
        statements_by_student.setdefault(statement.student_id, []).append(statement)
    now = timezone.now()
    records = []
    for student in chosen:
        record = DisclosureRecord(
            district_id=student.district_id,
            student=student,
            recipient=recipient,
            recipient_name=recipient.name,
            categories=categories,
            description=description.strip(),
            disclosed_at=now,
            basis=basis,
            consent=consents.get(student.pk),
            purpose=purpose[:500],
            reference=reference,
            statements_sent=[s.as_dict() for s in statements_by_student.get(student.pk, [])],
            acting_user=acting_user,
            acting_label=_label(acting_user),
            actor_app=actor_app,
        )
        # The relations are the ones checked above: no query per student to check them again.
        record.full_clean(exclude=["district", "student", "recipient", "consent", "acting_user"])
        records.append(record)
    DisclosureRecord.objects.bulk_create(records)
    _log(
        district_id=recipient.district_id,
        actor=acting_user,
        actor_label=_label(acting_user) or actor_app,
        action=RightsAction.DISCLOSED,
        subject=recipient,
        detail={
            "basis": basis,
            "students": [s.pk for s in chosen],
            "categories": categories,
            "purpose": purpose,
            "reference": reference,
            "consent_request": consent_request.pk if consent_request is not None else None,
            "statements": [s.amendment_request_id for s in statements],
        },
    )
    return DisclosureResult(records=records, statements=statements)


# --- Inspection (99.10).

# (student) -> {category: [row, ...]}: students.inventory.records_of_student by default.
PackageBuilder = Callable[[Student], dict[str, list[dict[str, Any]]]]
# (student name, records, generated_at=, language=) -> PDF bytes: students.record_pdf's.
PdfRenderer = Callable[..., bytes]


@transaction.atomic
def inspection_request_create(
    *, acting_user: User, student: Student, note: str = ""
) -> InspectionRequest:
    """A guardian who holds the child's rights asks to inspect the child's records: due within
    the district's days (45 at most, 99.10(b)) of today. Asking again while one is open returns
    the open one."""
    _require_rights_holder(acting_user, student)
    Student.objects.select_for_update().filter(pk=student.pk).first()
    existing = InspectionRequest.objects.filter(
        student=student, user=acting_user, status=InspectionStatus.OPEN
    ).first()
    if existing is not None:
        return existing
    now = timezone.now()
    days = rights_policy_of(student.district).inspection_days
    request = InspectionRequest(
        district_id=student.district_id,
        student=student,
        user=acting_user,
        user_label=_label(acting_user),
        note=note.strip(),
        requested_at=now,
        due_on=InspectionRequest.due_on_for(now, days),
    )
    request.full_clean()
    request.save()
    _log(
        district_id=student.district_id,
        actor=acting_user,
        action=RightsAction.INSPECTION_REQUESTED,
        subject=request,
        student_id=student.pk,
        detail={"due_on": request.due_on},
    )
    return request


def _default_builder() -> PackageBuilder:
    from students.inventory import records_of_student

    return records_of_student


def _default_pdf_renderer() -> PdfRenderer | None:
    try:
        from students.record_pdf import records_pdf
    except ImportError:
        logger.warning("students.record_pdf is missing: inspection packages carry no PDF")
        return None
    return records_pdf


def inspection_request_fulfil(
    *,
    acting_user: User,
    request: InspectionRequest,
    package_builder: PackageBuilder | None = None,
    pdf_renderer: PdfRenderer | None = None,
) -> InspectionRequest:
    """The privacy office's one action: build the complete package of the child's records
    (every data category of the inventory, the access log and the disclosure records) as JSON
    and as a readable PDF, store both (never served directly), deliver it in the portal and log
    the read (access log) and the delivery (rights log). `package_builder` defaults to
    students.inventory.records_of_student, `pdf_renderer` to students.record_pdf.records_pdf."""
    _require_privacy_officer(acting_user, request.district_id)
    if request.status != InspectionStatus.OPEN:
        raise ValidationError(
            f"This request is {request.get_status_display().lower()} already.", code="not_open"
        )
    student = request.student
    builder = package_builder or _default_builder()
    renderer = pdf_renderer or _default_pdf_renderer()
    generated_at = timezone.now()
    records = builder(student)
    name = f"{student.first_name} {student.last_name}".strip()
    package = {
        "student": {"id": student.pk, "name": name, "student_number": student.student_number},
        "inspection_request": request.pk,
        "generated_at": generated_at.isoformat(),
        "records": records,
    }
    package_json = json.dumps(package, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1)
    language = getattr(request.user, "language", "") or "en"
    package_pdf = (
        renderer(name, records, generated_at=generated_at, language=language)
        if renderer is not None
        else None
    )
    with transaction.atomic():
        locked = InspectionRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status != InspectionStatus.OPEN:
            raise ValidationError("This request is not open any more.", code="not_open")
        stamp = generated_at.strftime("%Y%m%dT%H%M%S")
        locked.package_json.save(
            f"records-{stamp}.json", ContentFile(package_json.encode("utf-8")), save=False
        )
        if package_pdf is not None:
            locked.package_pdf.save(f"records-{stamp}.pdf", ContentFile(package_pdf), save=False)
        locked.status = InspectionStatus.DELIVERED
        locked.fulfilled_at = generated_at
        locked.fulfilled_by = acting_user
        locked.delivered_at = timezone.now()
        locked.full_clean()
        locked.save()
        access_log_record(
            actor=acting_user,
            role=Role.PRIVACY_OFFICER,
            what="inspection package",
            students=[student],
            purpose=PRIVACY_OFFICE_PURPOSE,
        )
        _log(
            district_id=locked.district_id,
            actor=acting_user,
            action=RightsAction.INSPECTION_DELIVERED,
            subject=locked,
            student_id=student.pk,
            detail={
                "categories": {category: len(rows) for category, rows in records.items()},
                "pdf": package_pdf is not None,
                "due_on": locked.due_on,
                "late": locked.delivered_at.date() > locked.due_on,
            },
        )
    return locked


@transaction.atomic
def inspection_request_withdraw(
    *, acting_user: User, request: InspectionRequest
) -> InspectionRequest:
    """The family withdraws an open request (or the office records that they did)."""
    _require_family_or_office(acting_user, request.student)
    request = InspectionRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != InspectionStatus.OPEN:
        raise ValidationError("Only an open request can be withdrawn.", code="not_open")
    request.status = InspectionStatus.WITHDRAWN
    request.withdrawn_at = timezone.now()
    request.save(update_fields=["status", "withdrawn_at"])
    _log(
        district_id=request.district_id,
        actor=acting_user,
        action=RightsAction.INSPECTION_WITHDRAWN,
        subject=request,
        student_id=request.student_id,
    )
    return request


# --- Amendment (99.20-99.22).


@transaction.atomic
def amendment_request_create(
    *,
    acting_user: User,
    student: Student,
    category: str,
    record_label: str,
    contested_value: str,
    reason: str,
    proposed_value: str = "",
    record_model: str = "",
    record_id: int | None = None,
    field_name: str = "",
) -> AmendmentRequest:
    """A guardian who holds the child's rights contests a value as inaccurate, misleading or in
    violation of the child's privacy (99.20(a)): the record (its category, in words, and where
    the page knows it the row and field), the value, and why."""
    _require_rights_holder(acting_user, student)
    request = AmendmentRequest(
        district_id=student.district_id,
        student=student,
        user=acting_user,
        user_label=_label(acting_user),
        category=category,
        record_label=record_label.strip(),
        record_model=record_model,
        record_id=record_id,
        field_name=field_name,
        contested_value=contested_value.strip(),
        proposed_value=proposed_value.strip(),
        reason=reason.strip(),
        requested_at=timezone.now(),
    )
    request.full_clean()
    request.save()
    _log(
        district_id=student.district_id,
        actor=acting_user,
        action=RightsAction.AMENDMENT_REQUESTED,
        subject=request,
        student_id=student.pk,
        detail={"category": category, "record": request.record_label},
    )
    return request


@transaction.atomic
def amendment_decide(
    *,
    acting_user: User,
    request: AmendmentRequest,
    decision: str,
    decision_reason: str = "",
    hearing_notice: str = "",
) -> AmendmentRequest:
    """The privacy office decides (99.20(b)): granted (the district amends the record where it
    keeps it and tells the family) or refused, which carries the notice of the right to a
    hearing (99.20(c)); the family may then add a statement. Decided once."""
    _require_privacy_officer(acting_user, request.district_id)
    request = AmendmentRequest.objects.select_for_update().get(pk=request.pk)
    if request.decision:
        raise ValidationError("This request is decided already.", code="already_decided")
    if decision not in AmendmentDecision.values:
        raise ValidationError(f"Not a decision: {decision!r}.", code="bad_decision")
    if decision == AmendmentDecision.REFUSED and not hearing_notice.strip():
        raise ValidationError(
            {"hearing_notice": "A refusal carries the notice of the right to a hearing."},
            code="hearing_notice_required",
        )
    request.decision = decision
    request.decision_reason = decision_reason.strip()
    request.hearing_notice = hearing_notice.strip()
    request.decided_by = acting_user
    request.decided_at = timezone.now()
    request.full_clean()
    request.save(
        update_fields=[
            "decision",
            "decision_reason",
            "hearing_notice",
            "decided_by",
            "decided_at",
        ]
    )
    _log(
        district_id=request.district_id,
        actor=acting_user,
        action=RightsAction.AMENDMENT_DECIDED,
        subject=request,
        student_id=request.student_id,
        detail={"decision": decision},
    )
    return request


@transaction.atomic
def amendment_statement_add(
    *, acting_user: User, request: AmendmentRequest, statement: str
) -> AmendmentRequest:
    """After a refusal, the family places a statement in the record commenting on the value or
    saying why they disagree (99.21(b)(2)); a later one replaces it (the log keeps both). It is
    shown beside the value to staff (rights.selectors.statements_for) and sent with every later
    disclosure of it (disclose)."""
    _require_rights_holder(acting_user, request.student)
    request = AmendmentRequest.objects.select_for_update().get(pk=request.pk)
    if request.decision != AmendmentDecision.REFUSED:
        raise ValidationError(
            "A statement is added to the record only after a refusal.", code="not_refused"
        )
    text = statement.strip()
    if not text:
        raise ValidationError({"statement": "Write the statement."}, code="empty")
    previous = request.statement
    request.statement = text
    request.statement_at = timezone.now()
    request.statement_by = acting_user
    request.full_clean()
    request.save(update_fields=["statement", "statement_at", "statement_by"])
    _log(
        district_id=request.district_id,
        actor=acting_user,
        action=RightsAction.STATEMENT_ADDED,
        subject=request,
        student_id=request.student_id,
        detail={"statement": text, "replaces": previous},
    )
    return request


# --- Eligible students (99.5).


def eighteenth_birthday(birth_date: date) -> date:
    """The day a student turns 18 (born on 29 February: the 28th in a common year)."""
    year = birth_date.year + ELIGIBLE_AGE
    try:
        return birth_date.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def _ends_parents_access(district_id: int) -> bool:
    policy = RightsPolicy.objects.filter(district_id=district_id).first()
    return (
        policy is not None
        and policy.parents_access_at_eligibility == ParentsAccessAtEligibility.END_PORTAL_ACCESS
    )


@transaction.atomic
def eligible_students_flag(*, today: date | None = None) -> int:
    """Flag every active student who has turned 18 by today (and is not flagged yet) as holding
    their own rights from their birthday; parents' portal access follows the district's
    setting. Returns how many were flagged; a second run the same day flags none."""
    today = today or timezone.localdate()
    try:
        born_by = today.replace(year=today.year - ELIGIBLE_AGE)
    except ValueError:  # today is 29 February
        born_by = date(today.year - ELIGIBLE_AGE, 2, 28)
    # A day's slack for those born on 29 February: each is checked below.
    candidates = (
        Student.objects.filter(
            is_active=True,
            birth_date__isnull=False,
            birth_date__lte=born_by + timedelta(days=1),
            rights_eligibility__isnull=True,
        )
        .order_by("pk")
        .only("pk", "district_id", "birth_date")
    )
    ends_access: dict[int, bool] = {}
    flagged = 0
    now = timezone.now()
    for student in candidates:
        assert student.birth_date is not None  # noqa: S101  (filtered above)
        birthday = eighteenth_birthday(student.birth_date)
        if birthday > today:
            continue
        if student.district_id not in ends_access:
            ends_access[student.district_id] = _ends_parents_access(student.district_id)
        eligible = EligibleStudent(
            district_id=student.district_id,
            student=student,
            eligible_since=birthday,
            reason=EligibilityReason.AGE_18,
            flagged_at=now,
            parents_portal_access_ended=ends_access[student.district_id],
        )
        eligible.full_clean(exclude=["student", "district"])
        try:
            with transaction.atomic():
                eligible.save()
        except IntegrityError:  # flagged meanwhile by another run
            continue
        _log(
            district_id=student.district_id,
            actor=None,
            actor_label=TASK_LABEL,
            action=RightsAction.ELIGIBLE_FLAGGED,
            subject=eligible,
            student_id=student.pk,
            detail={
                "reason": eligible.reason,
                "since": birthday,
                "parents_portal_access_ended": eligible.parents_portal_access_ended,
            },
        )
        flagged += 1
    return flagged


@transaction.atomic
def eligible_student_postsecondary_set(
    *, acting_user: User, student: Student, since: date | None = None
) -> EligibleStudent:
    """The privacy office records that a student attends a postsecondary institution (a
    manual flag): they hold their own rights from `since` (today by default). A student
    flagged already keeps their first date and reason."""
    _require_privacy_officer(acting_user, student.district_id)
    Student.objects.select_for_update().filter(pk=student.pk).first()
    existing = eligibility_of(student)
    if existing is not None:
        return existing
    eligible = EligibleStudent(
        district_id=student.district_id,
        student=student,
        eligible_since=since or timezone.localdate(),
        reason=EligibilityReason.POSTSECONDARY,
        flagged_by=acting_user,
        flagged_at=timezone.now(),
        parents_portal_access_ended=_ends_parents_access(student.district_id),
    )
    eligible.full_clean()
    eligible.save()
    _log(
        district_id=student.district_id,
        actor=acting_user,
        action=RightsAction.ELIGIBLE_FLAGGED,
        subject=eligible,
        student_id=student.pk,
        detail={
            "reason": eligible.reason,
            "since": eligible.eligible_since,
            "parents_portal_access_ended": eligible.parents_portal_access_ended,
        },
    )
    return eligible


@transaction.atomic
def eligible_student_parents_access_set(
    *, acting_user: User, eligible: EligibleStudent, ended: bool, note: str
) -> EligibleStudent:
    """The privacy office ends or keeps parents' portal access for one student who holds their
    own rights, saying why (a dependant for tax purposes, 99.31(a)(8); the student's consent)."""
    _require_privacy_officer(acting_user, eligible.district_id)
    if not note.strip():
        raise ValidationError({"note": "Say why."}, code="note_required")
    eligible = EligibleStudent.objects.select_for_update().get(pk=eligible.pk)
    eligible.parents_portal_access_ended = ended
    eligible.parents_access_note = note.strip()
    eligible.full_clean()
    eligible.save(
        update_fields=["parents_portal_access_ended", "parents_access_note", "updated_at"]
    )
    _log(
        district_id=eligible.district_id,
        actor=acting_user,
        action=RightsAction.PARENTS_ACCESS_SET,
        subject=eligible,
        student_id=eligible.student_id,
        detail={"ended": ended, "note": eligible.parents_access_note},
    )
    return eligible

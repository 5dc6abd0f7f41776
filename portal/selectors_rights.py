"""Reads for the families' side of their rights in the portal (issue 21): the district's annual
notice, and for one child the access module let the guardian see (accounts.access.
child_for_guardian) its directory information, consent requests and consents, the guardian's own
inspection and amendment requests, and the disclosures of its records. The rows come from
rights.selectors; what is added here is what a family reads: each category, directory item and
basis in words, in the page's language, and which rows are the guardian's own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy, pgettext_lazy

from accounts.access import AnyUser, StudentAccess, may_exercise_rights_for, students_visible_to
from accounts.models import Role, User
from rights.models import (
    AmendmentRequest,
    AnnualNotice,
    Consent,
    ConsentRequest,
    DirectoryItem,
    DirectoryOptOut,
    DisclosureBasis,
    DisclosureRecord,
    EligibleStudent,
    InspectionRequest,
    InspectionStatus,
    NoticeAcknowledgement,
)
from rights.selectors import (
    acknowledgement_of,
    amendment_requests_of_student,
    consent_requests_for_student,
    consents_of_student,
    current_notice,
    directory_opt_out_of,
    disclosures_of_student,
    eligibility_of,
    inspection_requests_of_student,
    rights_policy_of,
)
from rights.services import DIRECTORY_PURPOSE
from students.inventory import category_of, personal_categories
from students.models import District

# What a district may designate as directory information (rights.models.DirectoryItem), as a
# family reads it.
DIRECTORY_WORDS: dict[str, Promise] = {
    DirectoryItem.NAME: pgettext_lazy("directory information", "Name"),
    DirectoryItem.ADDRESS: pgettext_lazy("directory information", "Address"),
    DirectoryItem.TELEPHONE: pgettext_lazy("directory information", "Telephone number"),
    DirectoryItem.EMAIL: pgettext_lazy("directory information", "Email address"),
    DirectoryItem.PHOTOGRAPH: pgettext_lazy("directory information", "Photograph"),
    DirectoryItem.DATE_OF_BIRTH: pgettext_lazy("directory information", "Date and place of birth"),
    DirectoryItem.GRADE_LEVEL: pgettext_lazy("directory information", "Grade level"),
    DirectoryItem.ENROLLMENT_STATUS: pgettext_lazy(
        "directory information", "Enrollment status (full-time or part-time)"
    ),
    DirectoryItem.DATES_OF_ATTENDANCE: pgettext_lazy(
        "directory information", "Dates of attendance"
    ),
    DirectoryItem.ACTIVITIES: pgettext_lazy(
        "directory information", "Taking part in school activities and sports"
    ),
    DirectoryItem.ATHLETES: pgettext_lazy(
        "directory information", "Weight and height of members of sports teams"
    ),
    DirectoryItem.HONORS: pgettext_lazy("directory information", "Diplomas, honors and awards"),
    DirectoryItem.MOST_RECENT_SCHOOL: pgettext_lazy(
        "directory information", "The school attended most recently"
    ),
}

# Data categories the rights app names in plain English (rights.apps.register_inventory): their
# words for families. The inventory's own categories carry translated titles.
CATEGORY_WORDS: dict[str, Promise] = {
    "disclosures": pgettext_lazy("data category", "Disclosures"),
    "family_rights": pgettext_lazy("data category", "Your requests and choices"),
}
# The amendment form's last choice: a value the family cannot place in a category.
OTHER_CATEGORY = "other"
OTHER_CATEGORY_WORDS = pgettext_lazy("data category", "Something else")

# Why a disclosure was lawful (rights.models.DisclosureBasis), as a family reads it.
BASIS_WORDS: dict[str, Promise] = {
    DisclosureBasis.CONSENT: gettext_lazy("With the written consent of a parent or guardian"),
    DisclosureBasis.SCHOOL_OFFICIAL_UNDER_CONTRACT: gettext_lazy(
        "A company or person working for the school district under contract, for the "
        "district's own work"
    ),
    DisclosureBasis.DIRECTORY_INFORMATION: gettext_lazy(
        "Directory information, which the district may share unless you opt out"
    ),
    DisclosureBasis.COURT_ORDER: gettext_lazy("A court order"),
    DisclosureBasis.SUBPOENA: gettext_lazy("A subpoena (a legal order to hand over records)"),
}


def directory_item_words(item: str) -> str:
    words = DIRECTORY_WORDS.get(item)
    return str(words) if words is not None else item


def category_words(key: str) -> str:
    """A category a consent, a disclosure or an amendment names, in the page's language: a
    directory item, a category of the records' inventory, or "something else"."""
    if key == OTHER_CATEGORY:
        return str(OTHER_CATEGORY_WORDS)
    words = DIRECTORY_WORDS.get(key) or CATEGORY_WORDS.get(key)
    if words is not None:
        return str(words)
    return str(category_of(key).title)


def categories_words(keys: list[str]) -> list[str]:
    return [category_words(key) for key in keys]


def amendment_category_choices() -> list[tuple[str, str]]:
    """What a family may say a contested value is part of: each personal category of the
    records' inventory, then "something else"."""
    return [(key, category_words(key)) for key in personal_categories()] + [
        (OTHER_CATEGORY, str(OTHER_CATEGORY_WORDS))
    ]


def basis_words(basis: str) -> str:
    words = BASIS_WORDS.get(basis)
    return str(words) if words is not None else basis


# --- The annual notice, for the guardian.


@dataclass(frozen=True)
class NoticeShown:
    """A district's notice in force for a guardian: the notice, the guardian's acknowledgement
    (None until they give it), its directory information in words, and how many days the
    district has to let families see the records."""

    district: District
    notice: AnnualNotice
    acknowledgement: NoticeAcknowledgement | None
    directory_items: list[str]
    inspection_days: int


def _children_district_ids(user: AnyUser) -> list[int]:
    return sorted(
        set(
            students_visible_to(user, role=Role.GUARDIAN)
            .order_by()
            .values_list("district_id", flat=True)
        )
    )


def family_notices(user: User) -> tuple[list[NoticeShown], list[District]]:
    """The notices in force of the districts of the guardian's children, each with the
    guardian's acknowledgement; and the districts that have published none yet. A query for the
    districts, then three per district (a family rarely has more than one)."""
    shown: list[NoticeShown] = []
    without: list[District] = []
    for district in District.objects.filter(pk__in=_children_district_ids(user)).order_by("name"):
        notice = current_notice(district)
        if notice is None:
            without.append(district)
            continue
        shown.append(
            NoticeShown(
                district=district,
                notice=notice,
                acknowledgement=acknowledgement_of(user, notice),
                directory_items=[directory_item_words(i) for i in notice.directory_information],
                inspection_days=rights_policy_of(district).inspection_days,
            )
        )
    return shown, without


def notice_to_acknowledge(user: User, notice_id: int) -> AnnualNotice | None:
    """The notice with this id if it is one in force of a district of the guardian's children
    (the only ones the notice page offers to acknowledge)."""
    for district_id in _children_district_ids(user):
        notice = current_notice(district_id)
        if notice is not None and notice.pk == notice_id:
            return notice
    return None


# --- A child's rights page.


@dataclass(frozen=True)
class ConsentRequestShown:
    """An open request for the child's records: the guardian's consent in force under it, if
    they gave one."""

    request: ConsentRequest
    categories: list[str]
    my_consent: Consent | None


@dataclass(frozen=True)
class ConsentShown:
    """A consent given for the child (revoked ones too): the guardian's own, or another parent's
    or guardian's (shown without their name, and not theirs to revoke)."""

    consent: Consent
    mine: bool
    categories: list[str]

    @property
    def in_force(self) -> bool:
        return self.consent.in_force

    @property
    def expired(self) -> bool:
        return self.consent.revoked_at is None and self.consent.request.expired()


@dataclass(frozen=True)
class InspectionShown:
    request: InspectionRequest
    open: bool
    delivered: bool
    has_json: bool
    has_pdf: bool


@dataclass(frozen=True)
class AmendmentShown:
    request: AmendmentRequest
    category: str
    refused: bool
    granted: bool


@dataclass(frozen=True)
class DirectoryState:
    """The child's directory information: what the notice in force designates (in words) and
    the opt-out in force, if any."""

    notice: AnnualNotice | None
    directory_items: list[str]
    opt_out: DirectoryOptOut | None
    opt_out_by: date | None


def child_directory(access: StudentAccess) -> DirectoryState:
    """Two queries: the notice in force, the opt-out in force."""
    notice = current_notice(access.student.district_id)
    return DirectoryState(
        notice=notice,
        directory_items=(
            [directory_item_words(item) for item in notice.directory_information]
            if notice is not None
            else []
        ),
        opt_out=directory_opt_out_of(access.student),
        opt_out_by=notice.opt_out_by if notice is not None else None,
    )


@dataclass(frozen=True)
class ChildRights:
    """Everything the child's "Your rights" tab shows."""

    may_act: bool  # the guardian holds the child's educational rights
    eligibility: EligibleStudent | None  # the child holds their own rights
    notice: AnnualNotice | None
    acknowledgement: NoticeAcknowledgement | None
    directory: DirectoryState
    inspection_days: int
    open_requests: list[ConsentRequestShown]
    consents: list[ConsentShown]
    inspections: list[InspectionShown]
    amendments: list[AmendmentShown]
    has_open_inspection: bool


def inspection_shown(request: InspectionRequest) -> InspectionShown:
    delivered = request.status == InspectionStatus.DELIVERED
    return InspectionShown(
        request=request,
        open=request.status == InspectionStatus.OPEN,
        delivered=delivered,
        has_json=delivered and bool(request.package_json),
        has_pdf=delivered and bool(request.package_pdf),
    )


def amendment_shown(request: AmendmentRequest) -> AmendmentShown:
    return AmendmentShown(
        request=request,
        category=category_words(request.category),
        refused=request.decision == "refused",
        granted=request.decision == "granted",
    )


def child_rights(access: StudentAccess, user: User) -> ChildRights:
    """The child's rights page: a fixed number of queries (about a dozen), whatever the number
    of requests, consents and answers."""
    student = access.student
    directory = child_directory(access)
    notice = directory.notice
    acknowledgement = acknowledgement_of(user, notice) if notice is not None else None
    consents = list(consents_of_student(student))
    mine_in_force = {
        consent.request_id: consent
        for consent in consents
        if consent.user_id == user.pk and consent.revoked_at is None
    }
    open_requests = [
        ConsentRequestShown(
            request=request,
            categories=categories_words(request.categories),
            my_consent=mine_in_force.get(request.pk),
        )
        for request in consent_requests_for_student(student).order_by("-created_at", "-id")
    ]
    inspections = [
        inspection_shown(request)
        for request in inspection_requests_of_student(student).filter(user=user)
    ]
    return ChildRights(
        may_act=may_exercise_rights_for(user, student),
        eligibility=eligibility_of(student),
        notice=notice,
        acknowledgement=acknowledgement,
        directory=directory,
        inspection_days=rights_policy_of(student.district).inspection_days,
        open_requests=open_requests,
        consents=[
            ConsentShown(
                consent=consent,
                mine=consent.user_id == user.pk,
                categories=categories_words(consent.request.categories),
            )
            for consent in consents
        ],
        inspections=inspections,
        amendments=[
            amendment_shown(request)
            for request in amendment_requests_of_student(student).filter(user=user)
        ],
        has_open_inspection=any(shown.open for shown in inspections),
    )


def open_consent_request_for_child(access: StudentAccess, request_id: int) -> ConsentRequest | None:
    """An open consent request about the child (None for any other: closed, expired, about
    other children or another district's)."""
    return consent_requests_for_student(access.student).filter(pk=request_id).first()


def my_consent_in_force(
    access: StudentAccess, user: User, request: ConsentRequest
) -> Consent | None:
    return (
        consents_of_student(access.student, user=user)
        .filter(request=request, revoked_at__isnull=True)
        .first()
    )


def my_consent_for_child(access: StudentAccess, user: User, consent_id: int) -> Consent | None:
    """A consent the guardian gave for the child (revoked or not); None for anyone else's."""
    return consents_of_student(access.student, user=user).filter(pk=consent_id).first()


def my_inspection_request(
    access: StudentAccess, user: User, request_id: int
) -> InspectionRequest | None:
    """An inspection request the guardian made for the child; None for anyone else's."""
    return inspection_requests_of_student(access.student).filter(user=user, pk=request_id).first()


def my_open_inspection_request(access: StudentAccess, user: User) -> InspectionRequest | None:
    return (
        inspection_requests_of_student(access.student)
        .filter(user=user, status=InspectionStatus.OPEN)
        .first()
    )


def my_amendment_request(
    access: StudentAccess, user: User, request_id: int
) -> AmendmentRequest | None:
    """An amendment request the guardian made for the child; None for anyone else's."""
    return amendment_requests_of_student(access.student).filter(user=user, pk=request_id).first()


# --- Who has seen: the disclosures to outside parties.


@dataclass(frozen=True)
class DisclosureShown:
    record: DisclosureRecord
    categories: list[str]
    basis: str
    # The purpose, unless it only repeats the basis (the service's default words for it).
    purpose: str
    # The family's statements sent with it (99.21(c)): the records they were about.
    statements_about: list[str]


def _purpose_shown(record: DisclosureRecord) -> str:
    defaults = {DIRECTORY_PURPOSE, DisclosureBasis(record.basis).label}
    return "" if record.purpose in defaults else record.purpose


def child_disclosures(access: StudentAccess) -> list[DisclosureShown]:
    """Every disclosure of the child's records, newest first, in words (one query)."""
    return [
        DisclosureShown(
            record=record,
            categories=categories_words(list(record.categories)),
            basis=basis_words(record.basis),
            purpose=_purpose_shown(record),
            statements_about=[
                str(statement.get("record") or "") for statement in record.statements_sent
            ],
        )
        for record in disclosures_of_student(access.student)
    ]

"""Reads of families' rights, for the privacy office's pages and the portal (rights.services
writes). None of these checks who asks: a page first asks accounts.access (the privacy office:
`privacy_office_for_user(user, district_pk)`, `student_for_privacy_officer(user, pk)`; a family:
`child_for_guardian(user, pk)`, then `may_exercise_rights_for(user, student)` before offering an
action), then reads here with what that returned, and logs what it shows of a student
(privacy.services.log_shown, with the access object as the grant).

The district's settings and notice
    rights_policy_of(district) -> RightsPolicy          (unsaved defaults when none is kept)
    current_notice(district) -> AnnualNotice | None      (the latest published)
    notices_of_district(district) -> QuerySet[AnnualNotice]
    acknowledgement_of(user, notice, student=None) -> NoticeAcknowledgement | None
    notices_to_acknowledge(user, students) -> list[AnnualNotice]
    acknowledgements_of_district(district, notice=None) -> QuerySet[NoticeAcknowledgement]

Directory information
    directory_opt_out_of(student) -> DirectoryOptOut | None          (the one in force)
    without_directory_opt_out(students: QuerySet[Student]) -> QuerySet[Student]
    opted_out_student_ids(student_ids) -> set[int]
    directory_opt_outs_of_district(district) -> QuerySet[DirectoryOptOut]

Consent and disclosure
    recipients_of_district(district) -> QuerySet[Recipient]
    consent_request_concerns(request, student) -> bool
    consent_requests_for_student(student) -> QuerySet[ConsentRequest]   (open, concerning it)
    consents_of_student(student, user=None) -> QuerySet[Consent]
    consent_requests_of_district(district) -> QuerySet[ConsentRequest]  (with counts)
    consents_of_request(request) -> QuerySet[Consent]
    disclosures_of_student(student) -> QuerySet[DisclosureRecord]
    disclosures_of_district(district) -> QuerySet[DisclosureRecord]
    access_log_rows_of_student(student) -> Iterator[dict]     (the office's export, a row at a
    disclosure_rows_of_student(student) -> Iterator[dict]      time, read in chunks: bounded
    export_csv_rows_of_student(student) -> Iterator[tuple]     memory for a streamed download)

Inspection and amendment
    inspection_requests_of_district(district, status=None) -> QuerySet   (annotated is_overdue)
    inspection_requests_of_student(student) -> QuerySet[InspectionRequest]
    amendment_requests_of_district(district, undecided_only=False) -> QuerySet
    amendment_requests_of_student(student) -> QuerySet[AmendmentRequest]
    statements_for(student) -> list[StatementShown]   (beside the contested value, for staff)

Eligible students
    eligibility_of(student) -> EligibleStudent | None
    eligible_students_of_district(district) -> QuerySet[EligibleStudent]
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import BooleanField as BooleanOutput
from django.db.models import Case, Count, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from accounts.models import User
from privacy.models import AccessLogEntry
from rights.models import (
    AmendmentDecision,
    AmendmentRequest,
    AnnualNotice,
    Consent,
    ConsentRequest,
    DirectoryOptOut,
    DisclosureRecord,
    EligibleStudent,
    InspectionRequest,
    InspectionStatus,
    NoticeAcknowledgement,
    Recipient,
    RightsPolicy,
)
from students.models import District, Student, StudentSchoolMembership, in_force

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _Overdue(TypedDict):
    is_overdue: bool


class _ConsentCounts(TypedDict):
    consents_in_force: int
    consents_revoked: int


# --- The district's settings and notice.


def rights_policy_of(district: District) -> RightsPolicy:
    """The district's rights settings: its row, or the defaults (unsaved) when it keeps none."""
    return RightsPolicy.objects.filter(district=district).first() or RightsPolicy(district=district)


def current_notice(district: District | int) -> AnnualNotice | None:
    """The annual notice in force: the district's latest published one."""
    district_id = district if isinstance(district, int) else district.pk
    return (
        AnnualNotice.objects.filter(district_id=district_id, published_at__isnull=False)
        .order_by("-published_at", "-id")
        .first()
    )


def notices_of_district(district: District) -> QuerySet[AnnualNotice]:
    """Every notice of the district, newest first, each with its acknowledgements counted."""
    return AnnualNotice.objects.filter(district=district).annotate(
        acknowledgement_count=Count("acknowledgements")
    )


def acknowledgement_of(
    user: User, notice: AnnualNotice, student: Student | None = None
) -> NoticeAcknowledgement | None:
    """The user's acknowledgement of the notice (for the child, when given), if any."""
    return NoticeAcknowledgement.objects.filter(notice=notice, user=user, student=student).first()


def notices_to_acknowledge(user: User, students: Iterable[Student]) -> list[AnnualNotice]:
    """The notices in force of the districts of these children (those the portal shows the
    user) that the user has not acknowledged yet, once per district."""
    district_ids = sorted({student.district_id for student in students})
    notices = [n for n in (current_notice(pk) for pk in district_ids) if n is not None]
    acknowledged = set(
        NoticeAcknowledgement.objects.filter(notice__in=notices, user=user).values_list(
            "notice_id", flat=True
        )
    )
    return [notice for notice in notices if notice.pk not in acknowledged]


def acknowledgements_of_district(
    district: District, notice: AnnualNotice | None = None
) -> QuerySet[NoticeAcknowledgement]:
    """Acknowledgements of the district's notices (of one, if given), newest first."""
    rows = NoticeAcknowledgement.objects.filter(district=district).select_related(
        "notice", "student"
    )
    return rows.filter(notice=notice) if notice is not None else rows


# --- Directory information.


def directory_opt_out_of(student: Student) -> DirectoryOptOut | None:
    """The child's directory-information opt-out in force, if any."""
    return DirectoryOptOut.objects.filter(student=student, withdrawn_at__isnull=True).first()


def without_directory_opt_out(students: QuerySet[Student]) -> QuerySet[Student]:
    """The students with no opt-out in force: those a directory-information disclosure (a
    yearbook roster) may name."""
    return students.exclude(
        Exists(DirectoryOptOut.objects.filter(student_id=OuterRef("pk"), withdrawn_at__isnull=True))
    )


def opted_out_student_ids(student_ids: Iterable[int]) -> set[int]:
    """Which of these students have a directory-information opt-out in force."""
    return set(
        DirectoryOptOut.objects.filter(
            student_id__in=list(student_ids), withdrawn_at__isnull=True
        ).values_list("student_id", flat=True)
    )


def directory_opt_outs_of_district(district: District) -> QuerySet[DirectoryOptOut]:
    """Every opt-out of the district, in force or withdrawn, newest first."""
    return DirectoryOptOut.objects.filter(district=district).select_related("student")


# --- Consent and disclosure.


def recipients_of_district(district: District) -> QuerySet[Recipient]:
    """The district's active recipients, by name."""
    return Recipient.objects.filter(district=district, is_active=True)


def _concerning(student: Student) -> Q:
    """A filter on ConsentRequest: the requests whose scope includes the student."""
    schools = StudentSchoolMembership.objects.filter(in_force(), student=student).values(
        "school_id"
    )
    return Q(district_id=student.district_id) & (
        Q(students=student)
        | Q(for_all_students=True, school__isnull=True)
        | Q(for_all_students=True, school_id__in=schools)
    )


def consent_request_concerns(request: ConsentRequest, student: Student) -> bool:
    """Whether the request asks about this student (named, or in its district or school)."""
    return ConsentRequest.objects.filter(_concerning(student), pk=request.pk).exists()


def consent_requests_for_student(student: Student) -> QuerySet[ConsentRequest]:
    """The open requests (not closed, not expired) that concern the child: what the portal asks
    the family about."""
    today = timezone.localdate()
    return (
        ConsentRequest.objects.filter(_concerning(student), closed_at__isnull=True)
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))
        .select_related("recipient")
        .distinct()
    )


def consents_of_student(student: Student, user: User | None = None) -> QuerySet[Consent]:
    """Every consent given for the child (by this user, if given), revoked ones too, newest
    first."""
    rows = Consent.objects.filter(student=student).select_related("request__recipient")
    return rows.filter(user=user) if user is not None else rows


def consent_requests_of_district(
    district: District,
) -> QuerySet[WithAnnotations[ConsentRequest, _ConsentCounts]]:
    """The district's requests, newest first, each with `consents_in_force` and
    `consents_revoked` counted."""
    return (
        ConsentRequest.objects.filter(district=district)
        .select_related("recipient")
        .annotate(
            consents_in_force=Count("consents", filter=Q(consents__revoked_at__isnull=True)),
            consents_revoked=Count("consents", filter=Q(consents__revoked_at__isnull=False)),
        )
    )


def consents_of_request(request: ConsentRequest) -> QuerySet[Consent]:
    return Consent.objects.filter(request=request).select_related("student")


def disclosures_of_student(student: Student) -> QuerySet[DisclosureRecord]:
    """Every disclosure of the child's records, newest first (the portal's "who has seen")."""
    return DisclosureRecord.objects.filter(student=student).select_related("consent")


def disclosures_of_district(district: District) -> QuerySet[DisclosureRecord]:
    return DisclosureRecord.objects.filter(district=district).select_related("student")


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


# Rows read per query by the export's iterators: a student may have tens of thousands of reads.
EXPORT_CHUNK_ROWS = 2000


def _access_log_row(row: AccessLogEntry) -> dict[str, Any]:
    return {
        "at": _iso(row.at),
        "who": row.actor_name or row.actor_label,
        "account": row.actor_label,
        "role": row.role,
        "what": row.what,
        "purpose": row.purpose,
        "path": row.path,
    }


def _disclosure_row(row: DisclosureRecord) -> dict[str, Any]:
    return {
        "at": _iso(row.disclosed_at),
        "recipient": row.recipient_name,
        "categories": list(row.categories),
        "description": row.description,
        "basis": row.basis,
        "basis_label": row.get_basis_display(),
        "purpose": row.purpose,
        "reference": row.reference,
        "consent": row.consent_id,
        "disclosed_by": row.acting_label or row.actor_app,
        "statements_sent": list(row.statements_sent),
    }


def _access_log_of(student: Student) -> Iterator[AccessLogEntry]:
    return (
        AccessLogEntry.objects.filter(student_id=student.pk)
        .order_by("at", "id")
        .iterator(chunk_size=EXPORT_CHUNK_ROWS)
    )


def _disclosures_of(student: Student) -> Iterator[DisclosureRecord]:
    return (
        DisclosureRecord.objects.filter(student=student)
        .order_by("disclosed_at", "id")
        .iterator(chunk_size=EXPORT_CHUNK_ROWS)
    )


def access_log_rows_of_student(student: Student) -> Iterator[dict[str, Any]]:
    """The student's access log as the office's export has it, oldest first, one query read in
    chunks (bounded memory, whatever its length)."""
    return (_access_log_row(row) for row in _access_log_of(student))


def disclosure_rows_of_student(student: Student) -> Iterator[dict[str, Any]]:
    """The student's disclosure records as the office's export has them, oldest first, one
    query read in chunks."""
    return (_disclosure_row(row) for row in _disclosures_of(student))


EXPORT_CSV_COLUMNS = (
    "kind",
    "at",
    "who",
    "role_or_basis",
    "what",
    "purpose",
    "reference",
)


def _access_csv_row(row: dict[str, Any]) -> tuple[Any, ...]:
    return ("access", row["at"], row["who"], row["role"], row["what"], row["purpose"], "")


def _disclosure_csv_row(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        "disclosure",
        row["at"],
        f"{row['disclosed_by']} to {row['recipient']}",
        row["basis"],
        f"{', '.join(row['categories'])}: {row['description']}",
        row["purpose"],
        row["reference"],
    )


def export_csv_rows_of_student(student: Student) -> Iterator[tuple[Any, ...]]:
    """The office's CSV export's rows (EXPORT_CSV_COLUMNS, no header) for one student: a row per
    read or disclosure, by time, merged from
    the two chunked reads as they stream: bounded memory, two queries whatever the length."""
    reads = ((row.at, _access_csv_row(_access_log_row(row))) for row in _access_log_of(student))
    disclosures = (
        (row.disclosed_at, _disclosure_csv_row(_disclosure_row(row)))
        for row in _disclosures_of(student)
    )
    for _at, row in heapq.merge(reads, disclosures, key=lambda pair: pair[0]):
        yield row


# --- Inspection and amendment.


def inspection_requests_of_district(
    district: District, status: str | None = None
) -> QuerySet[WithAnnotations[InspectionRequest, _Overdue]]:
    """The district's inspection requests by due date, each annotated `is_overdue` (open and
    past its due date today)."""
    rows = InspectionRequest.objects.filter(district=district).select_related("student")
    if status is not None:
        rows = rows.filter(status=status)
    return rows.annotate(
        is_overdue=Case(
            When(status=InspectionStatus.OPEN, due_on__lt=timezone.localdate(), then=Value(True)),
            default=Value(False),
            output_field=BooleanOutput(),
        )
    )


def inspection_requests_of_student(student: Student) -> QuerySet[InspectionRequest]:
    return InspectionRequest.objects.filter(student=student).order_by("-requested_at", "-id")


def amendment_requests_of_district(
    district: District, undecided_only: bool = False
) -> QuerySet[AmendmentRequest]:
    rows = AmendmentRequest.objects.filter(district=district).select_related("student")
    return rows.filter(decision="") if undecided_only else rows


def amendment_requests_of_student(student: Student) -> QuerySet[AmendmentRequest]:
    return AmendmentRequest.objects.filter(student=student)


@dataclass(frozen=True)
class StatementShown:
    """A family's statement about a contested value, shown beside it wherever staff see it and
    sent with every later disclosure of it (99.21(b)(2), (c))."""

    amendment_request_id: int
    student_id: int
    category: str
    record_label: str
    record_model: str
    record_id: int | None
    field_name: str
    contested_value: str
    statement: str
    statement_at: datetime | None

    def about(self, record_model: str, record_id: int, field_name: str = "") -> bool:
        """Whether it is about this row (and field, if given): a page showing the row asks."""
        return (
            self.record_model.lower() == record_model.lower()
            and self.record_id == record_id
            and (not field_name or not self.field_name or self.field_name == field_name)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "amendment_request": self.amendment_request_id,
            "category": self.category,
            "record": self.record_label,
            "record_model": self.record_model,
            "record_id": self.record_id,
            "field": self.field_name,
            "contested_value": self.contested_value,
            "statement": self.statement,
            "statement_at": _iso(self.statement_at),
        }


def _statements(rows: QuerySet[AmendmentRequest]) -> list[StatementShown]:
    return [
        StatementShown(
            amendment_request_id=row.pk,
            student_id=row.student_id,
            category=row.category,
            record_label=row.record_label,
            record_model=row.record_model,
            record_id=row.record_id,
            field_name=row.field_name,
            contested_value=row.contested_value,
            statement=row.statement,
            statement_at=row.statement_at,
        )
        for row in rows.filter(decision=AmendmentDecision.REFUSED)
        .exclude(statement="")
        .order_by("requested_at", "id")
    ]


def statements_for(student: Student) -> list[StatementShown]:
    """The family's statements in the child's record, oldest first (one query)."""
    return _statements(AmendmentRequest.objects.filter(student=student))


def statements_for_students(
    student_ids: Iterable[int], categories: Iterable[str] | None = None
) -> list[StatementShown]:
    """The statements of several students (in these categories, if given): what a disclosure of
    their records carries."""
    rows = AmendmentRequest.objects.filter(student_id__in=list(student_ids))
    if categories is not None:
        rows = rows.filter(category__in=list(categories))
    return _statements(rows)


# --- Eligible students and the log.


def eligibility_of(student: Student) -> EligibleStudent | None:
    """Whether (and since when) the student holds their own rights."""
    return EligibleStudent.objects.filter(student=student).first()


def eligible_students_of_district(district: District) -> QuerySet[EligibleStudent]:
    return EligibleStudent.objects.filter(district=district).select_related("student")

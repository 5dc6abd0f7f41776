"""Reads behind the privacy office's pages (dashboard.views.privacy), over rights.selectors: the
overview's counts, the requests in the order an officer answers them (overdue first), a page of
disclosure records, a page of a notice's acknowledgements. accounts.access has let the user act
for the district (privacy_office_for_user, student_for_privacy_officer) before any of these."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from rights.models import (
    AmendmentRequest,
    AnnualNotice,
    Consent,
    ConsentRequest,
    DisclosureRecord,
    InspectionRequest,
    InspectionStatus,
    NoticeAcknowledgement,
)
from rights.selectors import (
    acknowledgements_of_district,
    amendment_requests_of_district,
    consent_requests_of_district,
    consents_of_request,
    current_notice,
    disclosures_of_district,
    inspection_requests_of_district,
    notices_of_district,
)
from students.models import District, School, Student

# Rows on one page of the disclosure records and of a notice's acknowledgements.
DISCLOSURES_PER_PAGE = 50
ACKNOWLEDGEMENTS_PER_PAGE = 100
# Requests answered already, listed under the open ones (the latest).
ANSWERED_SHOWN = 25
# The overview's lists of what waits: the first few, the rest on the requests page.
OVERVIEW_SHOWN = 10
# "Recent" disclosures on the overview.
RECENT_DAYS = 30


def inspection_requests_to_answer(district: District) -> QuerySet[InspectionRequest]:
    """The district's open inspection requests, overdue first, then by due date (annotated
    is_overdue)."""
    return inspection_requests_of_district(district, status=InspectionStatus.OPEN).order_by(
        "-is_overdue", "due_on", "requested_at", "id"
    )


def inspection_requests_answered(district: District) -> QuerySet[InspectionRequest]:
    """The latest requests delivered or withdrawn."""
    return (
        inspection_requests_of_district(district)
        .exclude(status=InspectionStatus.OPEN)
        .select_related("fulfilled_by")
        .order_by("-requested_at", "-id")[:ANSWERED_SHOWN]
    )


def amendment_requests_to_decide(district: District) -> QuerySet[AmendmentRequest]:
    """Amendment requests awaiting a decision, oldest first (the first asked is answered first)."""
    return amendment_requests_of_district(district, undecided_only=True).order_by(
        "requested_at", "id"
    )


def amendment_requests_decided(district: District) -> QuerySet[AmendmentRequest]:
    return (
        amendment_requests_of_district(district)
        .exclude(decision="")
        .order_by("-decided_at", "-id")[:ANSWERED_SHOWN]
    )


def inspection_request_of_district(district: District, pk: int) -> InspectionRequest | None:
    return (
        inspection_requests_of_district(district)
        .select_related("student", "fulfilled_by")
        .filter(pk=pk)
        .first()
    )


def amendment_request_of_district(district: District, pk: int) -> AmendmentRequest | None:
    return (
        amendment_requests_of_district(district).select_related("decided_by").filter(pk=pk).first()
    )


def district_id_of(
    model: type[InspectionRequest | AmendmentRequest | ConsentRequest | AnnualNotice], pk: int
) -> int | None:
    """Which district a rights row belongs to (None: no such row), so that the page can ask
    accounts.access whether the user acts for it."""
    return model.objects.filter(pk=pk).values_list("district_id", flat=True).first()


@dataclass(frozen=True)
class OfficeOverview:
    """What waits for the privacy office, and where its records stand."""

    inspections_open: int
    inspections_overdue: int
    amendments_undecided: int
    consent_requests_open: int
    consents_in_force: int
    disclosures_recent: int
    disclosures_all: int
    notice: AnnualNotice | None
    notice_acknowledgements: int
    drafts: int
    inspections: list[InspectionRequest]
    amendments: list[AmendmentRequest]

    @property
    def students_shown(self) -> list[Student]:
        return [r.student for r in self.inspections] + [r.student for r in self.amendments]


def office_overview(district: District) -> OfficeOverview:
    """The overview's counts (one query per kind of record) and the first requests waiting."""
    today = timezone.localdate()
    inspections = InspectionRequest.objects.filter(district=district).aggregate(
        open=Count("id", filter=Q(status=InspectionStatus.OPEN)),
        overdue=Count("id", filter=Q(status=InspectionStatus.OPEN, due_on__lt=today)),
    )
    amendments_undecided = AmendmentRequest.objects.filter(district=district, decision="").count()
    requests = ConsentRequest.objects.filter(district=district).aggregate(
        open=Count(
            "id",
            filter=Q(closed_at__isnull=True)
            & (Q(expires_on__isnull=True) | Q(expires_on__gte=today)),
        )
    )
    consents_in_force = Consent.objects.filter(
        Q(request__expires_on__isnull=True) | Q(request__expires_on__gte=today),
        district=district,
        revoked_at__isnull=True,
    ).count()
    since = timezone.now() - timedelta(days=RECENT_DAYS)
    disclosures = DisclosureRecord.objects.filter(district=district).aggregate(
        all=Count("id"), recent=Count("id", filter=Q(disclosed_at__gte=since))
    )
    notice = current_notice(district)
    acknowledgements = (
        NoticeAcknowledgement.objects.filter(notice=notice).count() if notice is not None else 0
    )
    drafts = AnnualNotice.objects.filter(district=district, published_at__isnull=True).count()
    return OfficeOverview(
        inspections_open=inspections["open"],
        inspections_overdue=inspections["overdue"],
        amendments_undecided=amendments_undecided,
        consent_requests_open=requests["open"],
        consents_in_force=consents_in_force,
        disclosures_recent=disclosures["recent"],
        disclosures_all=disclosures["all"],
        notice=notice,
        notice_acknowledgements=acknowledgements,
        drafts=drafts,
        inspections=list(inspection_requests_to_answer(district)[:OVERVIEW_SHOWN]),
        amendments=list(amendment_requests_to_decide(district)[:OVERVIEW_SHOWN]),
    )


# --- Consents.


def consent_requests_for_office(district: District) -> QuerySet[ConsentRequest]:
    """The district's consent requests, open ones first, each with its consents counted
    (consents_in_force, consents_revoked), the students it names counted (students_named) and
    open_now (1: families may still consent)."""
    today = timezone.localdate()
    # A subquery: a join on the named students would multiply the consents counted.
    named = (
        ConsentRequest.students.through.objects.filter(consentrequest_id=OuterRef("pk"))
        .order_by()
        .values("consentrequest_id")
        .annotate(named_count=Count("*"))
        .values("named_count")  # type: ignore[misc]  # the stubs miss a through model's annotation
    )
    return (
        consent_requests_of_district(district)
        .select_related("school")
        .annotate(
            students_named=Coalesce(Subquery(named, output_field=IntegerField()), 0),
            open_now=Case(
                When(
                    Q(closed_at__isnull=True)
                    & (Q(expires_on__isnull=True) | Q(expires_on__gte=today)),
                    then=Value(1),
                ),
                default=Value(0),
                output_field=IntegerField(),
            ),
        )
        .order_by("-open_now", "-created_at", "-id")
    )


def consent_request_of_district(district: District, pk: int) -> ConsentRequest | None:
    return (
        ConsentRequest.objects.filter(district=district, pk=pk)
        .select_related("recipient", "school", "created_by", "closed_by")
        .first()
    )


def consents_for_office(request: ConsentRequest) -> QuerySet[Consent]:
    """The consents given under the request, signatures and revocations, newest first."""
    return consents_of_request(request).select_related("revoked_by").order_by("-signed_at", "-id")


def students_named_by(request: ConsentRequest) -> list[Student]:
    return list(request.students.order_by("last_name", "first_name", "pk"))


def students_with_consent(request: ConsentRequest) -> list[Student]:
    """The students with a consent in force under the request: those a disclosure under it may
    name."""
    return list(
        Student.objects.filter(consents__request=request, consents__revoked_at__isnull=True)
        .distinct()
        .order_by("student_number", "pk")
    )


def schools_of_district(district: District) -> QuerySet[School]:
    return School.objects.filter(district=district, is_active=True).order_by("name", "pk")


def students_by_number(
    students: QuerySet[Student], numbers: Iterable[str]
) -> dict[str, list[Student]]:
    """The students (of those given: accounts.access's for the office) with each number."""
    found: dict[str, list[Student]] = {}
    for student in students.filter(student_number__in=list(numbers)).order_by("pk"):
        found.setdefault(student.student_number, []).append(student)
    return found


# --- Disclosures.


def disclosures_page(
    district: District,
    *,
    students: list[Student] | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    page: int = 1,
) -> Page:
    """One page of the district's disclosure records, newest first: of these students, between
    these days (local), if given."""
    rows = disclosures_of_district(district).select_related("consent")
    if students is not None:
        rows = rows.filter(student__in=students)
    if date_from is not None:
        rows = rows.filter(disclosed_at__date__gte=date_from)
    if date_to is not None:
        rows = rows.filter(disclosed_at__date__lte=date_to)
    paginator = Paginator(rows.order_by("-disclosed_at", "-id"), DISCLOSURES_PER_PAGE)
    return paginator.get_page(page)


# --- Notices.


def notices_for_office(district: District) -> QuerySet[AnnualNotice]:
    """Drafts first, then the published notices, newest first, with acknowledgements counted."""
    return notices_of_district(district).order_by(
        Case(When(published_at__isnull=True, then=Value(0)), default=Value(1)),
        "-published_at",
        "-id",
    )


def notice_of_district(district: District, pk: int) -> AnnualNotice | None:
    return (
        AnnualNotice.objects.filter(district=district, pk=pk).select_related("published_by").first()
    )


def acknowledgements_page(district: District, notice: AnnualNotice, page: int = 1) -> Page:
    rows = acknowledgements_of_district(district, notice).order_by("-acknowledged_at", "-id")
    return Paginator(rows, ACKNOWLEDGEMENTS_PER_PAGE).get_page(page)

"""Families' rights records for the portal's tests, made through the rights services as the
district's privacy officer and the parent would make them: the annual notice, a consent request,
a delivered inspection package, a refused amendment, disclosures. Shared by tests/portal,
tests/test_url_permissions.py and the browser tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.models import Role, User
from accounts.services import role_grant
from rights.models import (
    AmendmentDecision,
    AmendmentRequest,
    AnnualNotice,
    Consent,
    ConsentRequest,
    DirectoryItem,
    DisclosureBasis,
    InspectionRequest,
    InspectionStatus,
    Recipient,
)
from rights.selectors import current_notice
from rights.services import (
    amendment_decide,
    amendment_request_create,
    consent_give,
    consent_request_create,
    disclose,
    inspection_request_create,
    inspection_request_fulfil,
    notice_publish,
    recipient_save,
)
from students.models import District, Student
from tests import factories
from tests.conftest import PASSWORD, World

NOTICE_TITLE = "Annual notice of rights, 2026-2027"
NOTICE_BODY = (
    "You have the right to inspect your child's records within 45 days, to ask us to amend "
    "them, and to consent before we disclose them, with the exceptions the law allows.\n\n"
    "Write to the Privacy Office, 1 Main Street, with any question."
)
PURPOSE = "Personalized reading practice"
RECORDS = "Your child's grades and test results this year."
HEARING = (
    "You may ask for a hearing within 30 days: write to the Privacy Office, 1 Main Street. "
    "A hearing officer who has no stake in the outcome will hear you."
)


def privacy_officer(world: World, district: District | None = None) -> User:
    """The home district's privacy officer (or another district's); a new one each call."""
    user = factories.UserFactory.create(full_name="Priya Privacy")
    role_grant(user=user, role=Role.PRIVACY_OFFICER, district=district or world.district)
    return user


def notice(world: World, officer: User | None = None, **overrides: Any) -> AnnualNotice:
    fields: dict[str, Any] = {
        "acting_user": officer or privacy_officer(world),
        "district": world.district,
        "school_year": 2027,
        "title": NOTICE_TITLE,
        "body": NOTICE_BODY,
        "directory_information": [DirectoryItem.NAME, DirectoryItem.GRADE_LEVEL],
        **overrides,
    }
    return notice_publish(**fields)


def current_notice_pk(world: World) -> int:
    notice = current_notice(world.district)
    assert notice is not None, "publish a notice first"  # noqa: S101
    return notice.pk


def recipient(world: World, officer: User, name: str = "Northwind Learning") -> Recipient:
    """The district's recipient of this name (named once, then found)."""
    found = Recipient.objects.filter(district=world.district, name=name).first()
    return found or recipient_save(acting_user=officer, district=world.district, name=name)


def consent_request(
    world: World,
    officer: User | None = None,
    *students: Student,
    recipient_name: str = "Northwind Learning",
    **overrides: Any,
) -> ConsentRequest:
    """A request for consent about the named students (the home student by default)."""
    officer = officer or privacy_officer(world)
    fields: dict[str, Any] = {
        "acting_user": officer,
        "recipient": recipient(world, officer, recipient_name),
        "purpose": PURPOSE,
        "categories": ["grades", "assessments"],
        "records_description": RECORDS,
        "students": students or (world.student,),
        **overrides,
    }
    return consent_request_create(**fields)


def given_consent(world: World, user: User | None = None, **overrides: Any) -> Consent:
    """The parent's consent to a new request about the home student."""
    request = consent_request(world, **overrides)
    return consent_give(
        acting_user=user or world.parent, request=request, student=world.student, password=PASSWORD
    )


def fake_records(student: Student) -> dict[str, list[dict[str, Any]]]:
    return {
        "student_record": [{"record_type": "Student", "id": student.pk, "last_name": "Lovelace"}],
        "grades": [{"record_type": "Grade", "id": 1, "letter_grade": "A"}],
    }


def fake_pdf(student_name: str, records: dict, *, generated_at: object, language: str) -> bytes:
    return f"%PDF-1.7 {student_name} {sorted(records)} {language}".encode()


def delivered_inspection(
    world: World, user: User | None = None, *, real_package: bool = False
) -> InspectionRequest:
    """The parent's request to see the home student's records, its package delivered (files
    under MEDIA_ROOT: the caller points it at a temporary folder)."""
    request = inspection_request_create(
        acting_user=user or world.parent, student=world.student, note="Everything, please."
    )
    builders: dict[str, Any] = (
        {} if real_package else {"package_builder": fake_records, "pdf_renderer": fake_pdf}
    )
    return inspection_request_fulfil(
        acting_user=privacy_officer(world), request=request, **builders
    )


def amendment(world: World, user: User | None = None, **overrides: Any) -> AmendmentRequest:
    fields: dict[str, Any] = {
        "acting_user": user or world.parent,
        "student": world.student,
        "category": "grades",
        "record_label": "Math grade, first quarter",
        "contested_value": "C",
        "proposed_value": "B",
        "reason": "Two tests were graded twice.",
        **overrides,
    }
    return amendment_request_create(**fields)


def refused_amendment(world: World, user: User | None = None) -> AmendmentRequest:
    return amendment_decide(
        acting_user=privacy_officer(world),
        request=amendment(world, user),
        decision=AmendmentDecision.REFUSED,
        decision_reason="The grades were checked and are right.",
        hearing_notice=HEARING,
    )


def disclosures(world: World, officer: User | None = None) -> None:
    """Three disclosures of the home student: to a contractor, as directory information (the
    notice must be published), and to a court."""
    officer = officer or privacy_officer(world)
    disclose(
        acting_user=officer,
        students=[world.student],
        recipient=recipient(world, officer, "Student Systems Inc."),
        categories=["enrollment"],
        description="Class rosters for the new student information system",
        basis=DisclosureBasis.SCHOOL_OFFICIAL_UNDER_CONTRACT,
        purpose="Running the student information system",
        reference="Contract 2026-14",
    )
    disclose(
        acting_user=officer,
        students=[world.student],
        recipient=recipient(world, officer, "Yearbook Press"),
        categories=[DirectoryItem.NAME, DirectoryItem.GRADE_LEVEL],
        description="Names and grades for the yearbook",
        basis=DisclosureBasis.DIRECTORY_INFORMATION,
    )
    disclose(
        acting_user=officer,
        students=[world.student],
        recipient=recipient(world, officer, "County Family Court"),
        categories=["attendance"],
        description="Attendance of this school year",
        basis=DisclosureBasis.COURT_ORDER,
        reference="Case 26-FC-0091",
    )


# A week before the tests' notices' opt-out dates, for tests that need one.
OPT_OUT_BY = dt.date(2026, 9, 15)


# --- Rows made directly, for the permission cases: whoever may act today, a row of the
# parent's as their pages show it (tests/test_url_permissions.py moves access in time).


def consent_request_row(world: World, *students: Student) -> ConsentRequest:
    row_recipient, _ = Recipient.objects.get_or_create(
        district=world.district, name="Northwind Learning"
    )
    request = ConsentRequest.objects.create(
        district=world.district,
        recipient=row_recipient,
        purpose=PURPOSE,
        categories=["grades"],
        records_description=RECORDS,
    )
    request.students.set(students or (world.student,))
    return request


def consent_row(world: World) -> Consent:
    """The parent's consent in force under a new request about the home student."""
    return Consent.objects.create(
        district=world.district,
        request=consent_request_row(world),
        student=world.student,
        user=world.parent,
        user_label=world.parent.email,
        guardian=world.guardian,
    )


def delivered_inspection_row(world: World) -> InspectionRequest:
    """The parent's request to see the home student's records, delivered: both files stored
    (under MEDIA_ROOT, which tests/conftest.py points at a temporary folder)."""
    now = timezone.now()
    request = InspectionRequest.objects.create(
        district=world.district,
        student=world.student,
        user=world.parent,
        user_label=world.parent.email,
        requested_at=now,
        due_on=timezone.localdate(now) + dt.timedelta(days=45),
        status=InspectionStatus.DELIVERED,
        fulfilled_at=now,
        delivered_at=now,
    )
    request.package_json.save("records.json", ContentFile(b'{"records": {}}'), save=False)
    request.package_pdf.save("records.pdf", ContentFile(b"%PDF-1.7 records"), save=False)
    request.save(update_fields=["package_json", "package_pdf"])
    return request


def refused_amendment_row(world: World) -> AmendmentRequest:
    return AmendmentRequest.objects.create(
        district=world.district,
        student=world.student,
        user=world.parent,
        user_label=world.parent.email,
        category="grades",
        record_label="Math grade, first quarter",
        contested_value="C",
        reason="Two tests were graded twice.",
        decision=AmendmentDecision.REFUSED,
        decided_at=timezone.now(),
        hearing_notice=HEARING,
    )

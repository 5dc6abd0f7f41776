"""Inspection of a child's records (34 CFR 99.10): asked from the portal, due within 45 days,
overdue requests flagged, one action builds and delivers the package, and the delivery is
logged."""

import datetime as dt
import json
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError

from accounts.models import User
from privacy.models import AccessLogEntry
from rights.models import (
    DisclosureBasis,
    InspectionRequest,
    InspectionStatus,
    Recipient,
    RightsEvent,
)
from rights.selectors import inspection_requests_of_district, inspection_requests_of_student
from rights.services import (
    RightsRefused,
    disclose,
    inspection_request_create,
    inspection_request_fulfil,
    inspection_request_withdraw,
    rights_policy_set,
)
from students.models import Student
from tests.conftest import World

pytestmark = pytest.mark.django_db

# 10:00 in Denver on 1 September 2026.
ASKED = dt.datetime(2026, 9, 1, 16, 0, tzinfo=dt.UTC)


def fake_records(student: Student) -> dict[str, list[dict]]:
    return {
        "student_record": [{"record_type": "Student", "id": student.pk, "last_name": "Lovelace"}],
        "grades": [{"record_type": "Grade", "id": 1, "letter_grade": "A"}],
    }


def fake_pdf(student_name: str, records: dict, *, generated_at: object, language: str) -> bytes:
    return f"%PDF-1.7 {student_name} {sorted(records)} {language}".encode()


def test_99_10_inspection_due_in_45_days_and_overdue_flagged(world: World, officer: User) -> None:
    with time_machine.travel(ASKED, tick=False):
        request = inspection_request_create(
            acting_user=world.parent, student=world.student, note="Everything, please."
        )
    assert request.requested_at == ASKED
    assert request.due_on == dt.date(2026, 10, 16)
    assert request.status == InspectionStatus.OPEN
    for day, overdue in ((dt.date(2026, 10, 16), False), (dt.date(2026, 10, 17), True)):
        with time_machine.travel(dt.datetime.combine(day, dt.time(18, 0), tzinfo=dt.UTC)):
            assert request.overdue is overdue
            listed = inspection_requests_of_district(world.district)
            assert listed.values_list("is_overdue", flat=True).get() is overdue
    with time_machine.travel(dt.datetime(2026, 10, 20, 18, 0, tzinfo=dt.UTC)):
        delivered = inspection_request_fulfil(
            acting_user=officer,
            request=request,
            package_builder=fake_records,
            pdf_renderer=fake_pdf,
        )
        # Delivered (late, and the log says so): overdue no more.
        assert not delivered.overdue
        listed = inspection_requests_of_district(world.district)
        assert listed.values_list("is_overdue", flat=True).get() is False
    assert RightsEvent.objects.get(action="inspection_delivered").detail["late"] is True


def test_99_10_a_district_may_promise_fewer_days_never_more(world: World, officer: User) -> None:
    rights_policy_set(acting_user=officer, district=world.district, inspection_days=30)
    with time_machine.travel(ASKED, tick=False):
        request = inspection_request_create(acting_user=world.parent, student=world.student)
    assert request.due_on == dt.date(2026, 10, 1)
    with pytest.raises(ValidationError):
        rights_policy_set(acting_user=officer, district=world.district, inspection_days=46)
    with pytest.raises(RightsRefused):
        rights_policy_set(
            acting_user=world.district_staff, district=world.district, inspection_days=5
        )


def test_99_10_only_a_guardian_holding_the_childs_rights_asks(world: World, officer: User) -> None:
    for user, student in (
        (world.other_parent, world.classmate),
        (world.parent, world.classmate),
        (world.teacher, world.student),
        (officer, world.student),
    ):
        with pytest.raises(RightsRefused):
            inspection_request_create(acting_user=user, student=student)
    first = inspection_request_create(acting_user=world.parent, student=world.student)
    # Asking again while it is open: the same request.
    assert inspection_request_create(acting_user=world.parent, student=world.student) == first
    assert list(inspection_requests_of_student(world.student)) == [first]


def test_99_10_one_action_builds_the_package_delivers_it_and_logs_it(
    world: World, officer: User
) -> None:
    request = inspection_request_create(acting_user=world.parent, student=world.student)
    for user in (world.district_staff, world.parent, world.principal):
        with pytest.raises(RightsRefused):
            inspection_request_fulfil(
                acting_user=user, request=request, package_builder=fake_records
            )
    delivered = inspection_request_fulfil(
        acting_user=officer, request=request, package_builder=fake_records, pdf_renderer=fake_pdf
    )
    assert delivered.status == InspectionStatus.DELIVERED
    assert delivered.delivered_at is not None and delivered.fulfilled_by == officer
    # Stored under MEDIA_ROOT, which nothing serves: read only through an access-checked page.
    prefix = f"rights/inspection-packages/{world.district.pk}/{request.pk}/"
    assert delivered.package_json.name.startswith(prefix)
    assert delivered.package_pdf.name.startswith(prefix)
    assert Path(settings.MEDIA_ROOT, delivered.package_json.name).is_file()
    with delivered.package_json.open("rb") as handle:
        package = json.loads(handle.read())
    assert package["student"]["id"] == world.student.pk
    assert package["inspection_request"] == request.pk
    assert package["records"] == fake_records(world.student)
    with delivered.package_pdf.open("rb") as handle:
        assert handle.read().startswith(b"%PDF")
    # The read is in the access log (the family sees it), the delivery in the rights log.
    read = AccessLogEntry.objects.get(student_id=world.student.pk)
    assert (read.actor_user_id, read.role, read.what) == (
        officer.pk,
        "privacy_officer",
        "inspection package",
    )
    event = RightsEvent.objects.get(action="inspection_delivered")
    assert event.detail["categories"] == {"student_record": 1, "grades": 1}
    assert event.detail["pdf"] is True
    with pytest.raises(ValidationError, match="delivered already"):
        inspection_request_fulfil(
            acting_user=officer, request=delivered, package_builder=fake_records
        )


def test_99_10_the_package_holds_the_inventorys_categories_and_the_disclosures(
    world: World, officer: User, vendor: Recipient
) -> None:
    """With the default builder (students.inventory.records_of_student): the child's own rows,
    their disclosure records, and nobody else's."""
    disclose(
        acting_user=officer,
        students=[world.student],
        recipient=vendor,
        categories=["grades"],
        description="Fall grades",
        basis=DisclosureBasis.SUBPOENA,
        reference="S-11",
    )
    disclose(
        acting_user=officer,
        students=[world.classmate],
        recipient=vendor,
        categories=["grades"],
        description="Classmate's grades",
        basis=DisclosureBasis.SUBPOENA,
        reference="S-12",
    )
    request = inspection_request_create(acting_user=world.parent, student=world.student)
    delivered = inspection_request_fulfil(
        acting_user=officer, request=request, pdf_renderer=fake_pdf
    )
    with delivered.package_json.open("rb") as handle:
        records = json.loads(handle.read())["records"]
    assert [row["reference"] for row in records["disclosures"]] == ["S-11"]
    requests = [r for r in records["family_rights"] if r["record_type"] == "Inspection request"]
    assert [row["id"] for row in requests] == [request.pk]


def test_a_family_withdraws_an_open_request(world: World, officer: User) -> None:
    request = inspection_request_create(acting_user=world.parent, student=world.student)
    withdrawn = inspection_request_withdraw(acting_user=world.parent, request=request)
    assert withdrawn.status == InspectionStatus.WITHDRAWN and not withdrawn.overdue
    with pytest.raises(ValidationError):
        inspection_request_fulfil(
            acting_user=officer, request=withdrawn, package_builder=fake_records
        )
    assert InspectionRequest.objects.get().withdrawn_at is not None

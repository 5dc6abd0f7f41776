"""The district privacy office's pages (/privacy/, issue 21): each page and action both ways
(the district's privacy officer; every other role, district staff without the role included,
gets 404; anonymous is sent to sign in), bad input named (a 400 with the field, never a 500),
what each page logs, the student's export (content, headers, a query count that does not grow
with its rows), staff seeing a family's statement beside the contested value, and the top bar's
link."""

import csv
import datetime as dt
import html
import io
import json
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.access import PRIVACY_OFFICE_PURPOSE, holds_privacy_office, viewer_for
from accounts.models import Role, User
from accounts.services import role_grant
from privacy.models import AccessLogEntry
from privacy.services import student_log_key
from rights.models import (
    AmendmentRequest,
    AnnualNotice,
    Consent,
    ConsentRequest,
    DirectoryItem,
    DisclosureBasis,
    DisclosureRecord,
    InspectionRequest,
    InspectionStatus,
    NoticeAcknowledgement,
    Recipient,
    RightsEvent,
)
from rights.selectors import current_notice
from rights.services import (
    amendment_decide,
    amendment_request_create,
    amendment_statement_add,
    consent_give,
    consent_request_create,
    consent_revoke,
    directory_opt_out_set,
    disclose,
    inspection_request_create,
    notice_acknowledge,
    notice_publish,
    recipient_save,
)
from tests import factories
from tests.conftest import PASSWORD, World, privacy_officer_of

pytestmark = pytest.mark.django_db

OTHER_ROLES = ("teacher", "principal", "district_staff", "guardian", "outsider")


def url(name: str, **kwargs: object) -> str:
    return reverse(f"dashboard:{name}", kwargs=kwargs or None)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def officer(world: World) -> User:
    return privacy_officer_of(world)


@pytest.fixture
def other_officer(world: World) -> User:
    """The other district's privacy officer."""
    user = factories.UserFactory.create(full_name="Oscar Other")
    role_grant(user=user, role=Role.PRIVACY_OFFICER, district=world.other_district)
    return user


@pytest.fixture
def vendor(world: World, officer: User) -> Recipient:
    return recipient_save(acting_user=officer, district=world.district, name="Northwind Tutoring")


@pytest.fixture
def inspection(world: World) -> InspectionRequest:
    return inspection_request_create(
        acting_user=world.parent, student=world.student, note="Everything, please."
    )


@pytest.fixture
def amendment(world: World) -> AmendmentRequest:
    return amendment_request_create(
        acting_user=world.parent,
        student=world.student,
        category="student",
        record_label="Birth date",
        contested_value="May 4, 2016",
        proposed_value="May 14, 2016",
        reason="The day is wrong on the record.",
        record_model="students.Student",
        record_id=world.student.pk,
        field_name="birth_date",
    )


@pytest.fixture
def consent_request(world: World, officer: User, vendor: Recipient) -> ConsentRequest:
    return consent_request_create(
        acting_user=officer,
        recipient=vendor,
        purpose="After-school tutoring",
        categories=["grades"],
        records_description="Grades of this school year",
        students=[world.student],
    )


@pytest.fixture
def consent(world: World, consent_request: ConsentRequest) -> Consent:
    return consent_give(
        acting_user=world.parent, request=consent_request, student=world.student, password=PASSWORD
    )


def users(world: World, officer: User) -> dict[str, User]:
    return {**world.users_by_role(), "privacy_officer": officer}


def logged(what: str) -> list[tuple[int | None, str, str]]:
    return list(
        AccessLogEntry.objects.filter(what=what)
        .order_by("id")
        .values_list("student_id", "role", "purpose")
    )


# --- Access, both ways ---------------------------------------------------------------------------


# The office's own pages (any officer opens their own district's); the others show one record.
OFFICE_PAGES = (
    "privacy_overview",
    "privacy_requests",
    "privacy_consents",
    "privacy_consent_new",
    "privacy_disclosures",
    "privacy_disclosure_new",
    "privacy_notices",
    "privacy_notice_new",
)


def _record_pages(world: World, inspection, amendment, consent_request) -> list[str]:
    notice = AnnualNotice.objects.create(
        district=world.district, school_year=2027, title="Draft", body="Rights."
    )
    return [
        url("privacy_inspection", pk=inspection.pk),
        url("privacy_amendment", pk=amendment.pk),
        url("privacy_consent", pk=consent_request.pk),
        url("privacy_notice", pk=notice.pk),
        url("privacy_student_export_json", pk=world.student.pk),
        url("privacy_student_export_csv", pk=world.student.pk),
    ]


def test_every_page_opens_for_the_districts_privacy_officer_only(
    client: Client,
    world: World,
    officer: User,
    other_officer: User,
    inspection,
    amendment,
    consent_request,
) -> None:
    office_pages = [url(name) for name in OFFICE_PAGES]
    record_pages = _record_pages(world, inspection, amendment, consent_request)
    pages = office_pages + record_pages
    for page in pages:
        response = client.get(page)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    client.force_login(officer)
    for page in pages:
        assert client.get(page).status_code == 200, page
    # Every other role, district staff of the same district included: 404.
    for role in OTHER_ROLES:
        client.force_login(world.users_by_role()[role])
        for page in pages:
            assert client.get(page).status_code == 404, (role, page)
    # The other district's privacy officer: their own office's pages, without this district's
    # records; this district's records and students are 404, their ids not confirmed.
    client.force_login(other_officer)
    for page in office_pages:
        response = client.get(page)
        assert response.status_code == 200 and "Lovelace" not in response.text, page
    for page in record_pages:
        assert client.get(page).status_code == 404, page


@pytest.mark.parametrize("role", [*OTHER_ROLES, "other_officer"])
def test_no_other_role_can_act_and_nothing_changes(
    client: Client,
    world: World,
    role: str,
    other_officer: User,
    inspection,
    amendment,
    consent,
    vendor,
) -> None:
    user = other_officer if role == "other_officer" else world.users_by_role()[role]
    client.force_login(user)
    # The other district's officer may write on their own office's pages: this district's
    # recipient is not one they may choose (a named 400); everyone else gets 404.
    new_page_status = 400 if role == "other_officer" else 404
    posts = [
        (url("privacy_inspection", pk=inspection.pk), {"action": "fulfil"}),
        (url("privacy_amendment", pk=amendment.pk), {"decision": "granted"}),
        (
            url("privacy_consent", pk=consent.request_id),
            {"action": "revoke", "consent": consent.pk},
        ),
        (url("privacy_consent", pk=consent.request_id), {"action": "close"}),
        (
            url("privacy_consent_new"),
            {
                "recipient": vendor.pk,
                "purpose": "x",
                "categories": ["grades"],
                "records_description": "x",
                "scope": "district",
            },
        ),
        (
            url("privacy_disclosure_new"),
            {
                "recipient": vendor.pk,
                "basis": "subpoena",
                "reference": "No. 1",
                "students": world.student.student_number,
                "categories": ["grades"],
                "description": "x",
            },
        ),
    ]
    if role != "other_officer":
        posts.append(
            (
                url("privacy_notice_new"),
                {"action": "publish", "school_year": 2027, "title": "x", "body": "x"},
            )
        )
    events = RightsEvent.objects.count()
    for page, data in posts:
        expected = new_page_status if page.endswith("/new/") else 404
        assert client.post(page, data).status_code == expected, (role, page)
    assert RightsEvent.objects.count() == events
    inspection.refresh_from_db()
    amendment.refresh_from_db()
    consent.refresh_from_db()
    assert inspection.status == InspectionStatus.OPEN and not amendment.decision
    assert consent.revoked_at is None and consent.request.closed_at is None
    assert not DisclosureRecord.objects.exists() and not AnnualNotice.objects.exists()
    assert ConsentRequest.objects.count() == 1


def test_ids_that_do_not_exist_are_404_and_a_bad_district_is_a_named_400(
    client: Client, world: World, officer: User
) -> None:
    client.force_login(officer)
    for name in ("privacy_inspection", "privacy_amendment", "privacy_consent", "privacy_notice"):
        assert client.get(url(name, pk=999_999)).status_code == 404
    assert client.get(url("privacy_student_export_csv", pk=999_999)).status_code == 404
    response = client.get(url("privacy_overview"), {"district": "x1"})
    assert response.status_code == 400
    assert "district: 'x1' is not a district" in html.unescape(response.text)
    # Another district (which exists) is not theirs: 404, as if it did not.
    response = client.get(url("privacy_overview"), {"district": world.other_district.pk})
    assert response.status_code == 404


def test_an_officer_of_two_districts_picks_one_and_the_links_keep_it(
    client: Client, world: World, officer: User
) -> None:
    role_grant(user=officer, role=Role.PRIVACY_OFFICER, district=world.other_district)
    client.force_login(officer)
    response = client.get(url("privacy_overview"), {"district": world.other_district.pk})
    assert response.status_code == 200
    assert "Other District" in response.text
    assert f'href="/privacy/requests/?district={world.other_district.pk}"' in response.text
    assert f'href="?district={world.district.pk}">Home District</a>' in response.text


# --- The overview and the requests ---------------------------------------------------------------


def test_overdue_inspection_requests_come_first_flagged_in_words_and_a_symbol(
    client: Client, world: World, officer: User, inspection
) -> None:
    overdue = InspectionRequest.objects.create(
        district=world.district,
        student=world.classmate,
        user_label="late@example.test",
        due_on=timezone.localdate() - dt.timedelta(days=3),
    )
    client.force_login(officer)
    for page in (url("privacy_overview"), url("privacy_requests")):
        text = client.get(page).text
        assert text.index("late@example.test") < text.index(world.parent.email)
        assert '<span aria-hidden="true">⚠</span> Overdue by 3\xa0days' in text
        assert "Due " + f"{inspection.due_on:%b} {inspection.due_on.day}, " in text
    assert "1 overdue" in client.get(url("privacy_overview")).text
    # What each page showed of whom, under the office's purpose.
    assert {row[0] for row in logged("privacy office: requests")} == {
        overdue.student_id,
        world.student.pk,
    }
    assert {row[1:] for row in logged("privacy office: overview")} == {
        ("privacy_officer", PRIVACY_OFFICE_PURPOSE)
    }


def test_preparing_the_package_delivers_it_and_logs_the_read(
    client: Client, world: World, officer: User, inspection
) -> None:
    client.force_login(officer)
    requests_page = client.get(url("privacy_requests")).text
    assert 'value="fulfil">Prepare and deliver the package' in requests_page
    response = client.post(url("privacy_inspection", pk=inspection.pk), {"action": "fulfil"})
    assert response.status_code == 302
    inspection.refresh_from_db()
    assert inspection.status == InspectionStatus.DELIVERED
    assert inspection.fulfilled_by == officer and inspection.delivered_at is not None
    package = json.loads(Path(inspection.package_json.path).read_bytes())
    assert package["student"]["id"] == world.student.pk
    assert {"student", "grades", "access_log", "disclosures"} <= set(package["records"])
    assert Path(inspection.package_pdf.path).read_bytes().startswith(b"%PDF")
    assert logged("inspection package") == [
        (world.student.pk, "privacy_officer", PRIVACY_OFFICE_PURPOSE)
    ]
    event = RightsEvent.objects.get(action="inspection_delivered")
    assert event.actor_user == officer and event.student_id == world.student.pk
    page = client.get(response["Location"]).text
    assert "is prepared and delivered in the family portal" in page
    assert "Records as a file (JSON) and as a readable PDF" in page
    # Twice: a named 400, nothing built again.
    again = client.post(url("privacy_inspection", pk=inspection.pk), {"action": "fulfil"})
    assert again.status_code == 400 and "This request is delivered already." in again.text
    assert RightsEvent.objects.filter(action="inspection_delivered").count() == 1


def test_a_forged_inspection_action_is_a_named_400(
    client: Client, officer: User, inspection
) -> None:
    client.force_login(officer)
    response = client.post(url("privacy_inspection", pk=inspection.pk), {"action": "delete"})
    assert response.status_code == 400
    assert "action: Select a valid choice." in response.text
    inspection.refresh_from_db()
    assert inspection.status == InspectionStatus.OPEN


def test_the_office_records_a_withdrawal(client: Client, officer: User, inspection) -> None:
    client.force_login(officer)
    client.post(url("privacy_inspection", pk=inspection.pk), {"action": "withdraw"})
    inspection.refresh_from_db()
    assert inspection.status == InspectionStatus.WITHDRAWN


def test_a_refusal_needs_the_hearing_notice_which_is_prefilled(
    client: Client, world: World, officer: User, amendment
) -> None:
    client.force_login(officer)
    page = client.get(url("privacy_amendment", pk=amendment.pk)).text
    assert "May 4, 2016" in page and "The day is wrong on the record." in page
    assert "You have the right to a hearing" in page and "34 CFR 99.20(c) and 99.21" in page
    empty = client.post(
        url("privacy_amendment", pk=amendment.pk), {"decision": "refused", "hearing_notice": " "}
    )
    assert empty.status_code == 400
    assert "A refusal carries the notice of the right to a hearing" in empty.text
    forged = client.post(url("privacy_amendment", pk=amendment.pk), {"decision": "maybe"})
    assert forged.status_code == 400 and "Decision: Select a valid choice." in forged.text
    amendment.refresh_from_db()
    assert not amendment.decision
    refused = client.post(
        url("privacy_amendment", pk=amendment.pk),
        {
            "decision": "refused",
            "decision_reason": "The birth certificate says May 4.",
            "hearing_notice": "You may ask for a hearing (34 CFR 99.21).",
        },
    )
    assert refused.status_code == 302
    amendment.refresh_from_db()
    assert amendment.decision == "refused" and amendment.decided_by == officer
    assert amendment.hearing_notice == "You may ask for a hearing (34 CFR 99.21)."
    # The family's statement, once added, is on the office's page.
    amendment_statement_add(
        acting_user=world.parent, request=amendment, statement="We hold the hospital's record."
    )
    page = client.get(url("privacy_amendment", pk=amendment.pk)).text
    assert "We hold the hospital&#x27;s record." in page
    assert "Record the decision" not in page
    # Decided once: a second decision is refused by the service, named.
    again = client.post(url("privacy_amendment", pk=amendment.pk), {"decision": "granted"})
    assert again.status_code == 400 and "This request is decided already." in again.text


def test_a_grant_carries_no_hearing_notice(client: Client, officer: User, amendment) -> None:
    client.force_login(officer)
    client.post(
        url("privacy_amendment", pk=amendment.pk),
        {"decision": "granted", "hearing_notice": "ignored"},
    )
    amendment.refresh_from_db()
    assert amendment.decision == "granted" and amendment.hearing_notice == ""


# --- Consents ------------------------------------------------------------------------------------


def test_a_consent_request_for_a_new_recipient_and_named_students(
    client: Client, world: World, officer: User
) -> None:
    client.force_login(officer)
    response = client.post(
        url("privacy_consent_new"),
        {
            "new_recipient_name": "State University",
            "new_recipient_kind": "organization",
            "purpose": "Early admission review",
            "categories": ["grades", "attendance"],
            "records_description": "Transcript and attendance",
            "scope": "students",
            "students": f"{world.student.student_number}, {world.classmate.student_number}",
            "expires_on": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 302
    created = ConsentRequest.objects.get()
    assert created.recipient.name == "State University"
    assert set(created.students.all()) == {world.student, world.classmate}
    assert created.categories == ["grades", "attendance"] and created.created_by == officer


def test_a_consent_request_for_every_student_of_a_school(
    client: Client, world: World, officer: User, vendor: Recipient
) -> None:
    client.force_login(officer)
    client.post(
        url("privacy_consent_new"),
        {
            "recipient": vendor.pk,
            "purpose": "Yearbook portraits",
            "categories": ["student"],
            "records_description": "Names and grades",
            "scope": "school",
            "school": world.school.pk,
        },
    )
    created = ConsentRequest.objects.get()
    assert created.for_all_students and created.school == world.school


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"students": "S-NOPE"}, "No student of the district has the number S-NOPE."),
        ({"new_recipient_name": "Also new"}, "Choose a recipient or name a new one, not both."),
        ({"recipient": "", "new_recipient_name": ""}, "Choose a recipient, or name a new one."),
        ({"recipient": "999999"}, "Recipient: Select a valid choice."),
        ({"scope": "school"}, "School: Choose the school."),
        ({"scope": "galaxy"}, "Students: Select a valid choice."),
        ({"categories": ["secrets"]}, "Select a valid choice. secrets is not one"),
        ({"expires_on": "2001-01-01"}, "The last day is in the past."),
        ({"expires_on": "0001-01-01"}, "Ensure this value is greater than or equal to"),
    ],
)
def test_a_bad_consent_request_is_a_named_400(
    client: Client,
    world: World,
    officer: User,
    vendor: Recipient,
    change: dict,
    named: str,
) -> None:
    other = Recipient.objects.create(district=world.other_district, name="Far vendor")
    data = {
        "recipient": vendor.pk,
        "purpose": "Tutoring",
        "categories": ["grades"],
        "records_description": "Grades",
        "scope": "students",
        "students": world.student.student_number,
        **change,
    }
    if change.get("recipient") == "999999":
        data["recipient"] = other.pk  # another district's: not on offer
    client.force_login(officer)
    response = client.post(url("privacy_consent_new"), data)
    assert response.status_code == 400
    assert named in response.text
    assert not ConsentRequest.objects.exists()


def test_a_consent_request_shows_signatures_and_revocations(
    client: Client, world: World, officer: User, consent: Consent
) -> None:
    other_guardian_consent_request = consent.request
    client.force_login(officer)
    page = client.get(url("privacy_consent", pk=consent.request_id)).text
    assert world.parent.email in page and "password re-entered" in page
    assert "✓</span> In force" in page
    assert logged("privacy office: consent request")[0][0] == world.student.pk
    # A revocation the family made on paper.
    response = client.post(
        url("privacy_consent", pk=consent.request_id), {"action": "revoke", "consent": consent.pk}
    )
    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.revoked_at is not None and consent.revoked_by == officer
    page = client.get(url("privacy_consent", pk=consent.request_id)).text
    assert "✕</span> Revoked" in page and f"by {officer.email}" in page
    # A consent of another request is not this one's: a named 400.
    elsewhere = ConsentRequest.objects.create(
        district=world.district,
        recipient=other_guardian_consent_request.recipient,
        purpose="Other",
        categories=["grades"],
        records_description="x",
        for_all_students=True,
    )
    response = client.post(
        url("privacy_consent", pk=elsewhere.pk), {"action": "revoke", "consent": consent.pk}
    )
    assert response.status_code == 400
    assert "not a consent given under this request" in response.text
    closed = client.post(url("privacy_consent", pk=consent.request_id), {"action": "close"})
    assert closed.status_code == 302
    assert ConsentRequest.objects.get(pk=consent.request_id).closed_at is not None


def test_the_consent_list_counts_without_naming_students(
    client: Client, world: World, officer: User, consent: Consent
) -> None:
    client.force_login(officer)
    page = client.get(url("privacy_consents")).text
    assert "Northwind Tutoring" in page and "After-school tutoring" in page
    assert "1 named" in page and world.student.last_name not in page


# --- Disclosures ---------------------------------------------------------------------------------


def _disclosure(world: World, vendor: Recipient, **change: object) -> dict[str, object]:
    return {
        "recipient": vendor.pk,
        "basis": DisclosureBasis.CONSENT,
        "students": world.student.student_number,
        "categories": ["grades"],
        "description": "Grades of the fall term",
        **change,
    }


def test_a_consent_based_disclosure_is_recorded(
    client: Client, world: World, officer: User, vendor: Recipient, consent: Consent
) -> None:
    client.force_login(officer)
    prefilled = client.get(url("privacy_disclosure_new"), {"consent_request": consent.request_id})
    assert prefilled.status_code == 200
    assert f'<option value="{consent.request_id}" selected>' in prefilled.text
    assert world.student.student_number in prefilled.text
    assert logged("privacy office: disclosure form") == [
        (world.student.pk, "privacy_officer", PRIVACY_OFFICE_PURPOSE)
    ]
    response = client.post(
        url("privacy_disclosure_new"),
        _disclosure(world, vendor, consent_request=consent.request_id),
    )
    assert response.status_code == 302
    record = DisclosureRecord.objects.get()
    assert record.student == world.student and record.consent == consent
    assert record.purpose == "After-school tutoring" and record.acting_user == officer
    listing = client.get(response["Location"]).text
    assert "Recorded 1 disclosure to Northwind Tutoring." in listing
    assert "Written consent" in listing


@pytest.mark.parametrize(
    ("change", "named"),
    [
        # The service's refusals, on the form, naming why.
        ({}, "The disclosure is refused: Consent is the basis, but no consent request was named."),
        ({"basis": "subpoena"}, "A disclosure under a a lawfully issued subpoena"),
        ({"basis": "school_official_under_contract"}, "receives records for a stated purpose"),
        (
            {"basis": "directory_information", "categories": [], "directory_items": ["name"]},
            "No annual notice designating directory information has been published.",
        ),
        # The form's own.
        ({"basis": "friendship"}, "Basis: Select a valid choice. friendship is not one"),
        ({"students": "S-NOPE"}, "No student of the district has the number S-NOPE."),
        ({"categories": []}, "Say which records were disclosed."),
        ({"categories": ["secrets"]}, "Select a valid choice. secrets is not one"),
        ({"recipient": "abc"}, "Recipient: Select a valid choice."),
    ],
)
def test_a_disclosure_without_a_basis_is_refused_on_the_form(
    client: Client,
    world: World,
    officer: User,
    vendor: Recipient,
    change: dict,
    named: str,
) -> None:
    client.force_login(officer)
    response = client.post(url("privacy_disclosure_new"), _disclosure(world, vendor, **change))
    assert response.status_code == 400
    assert named in html.unescape(response.text)
    assert not DisclosureRecord.objects.exists()


def test_a_revoked_consent_refuses_the_next_disclosure_on_the_form(
    client: Client, world: World, officer: User, vendor: Recipient, consent: Consent
) -> None:
    consent_revoke(acting_user=world.parent, consent=consent)
    client.force_login(officer)
    response = client.post(
        url("privacy_disclosure_new"),
        _disclosure(world, vendor, consent_request=consent.request_id),
    )
    assert response.status_code == 400
    assert "The disclosure is refused: Consent was revoked for: Ada Lovelace" in response.text
    assert not DisclosureRecord.objects.exists()


def test_a_directory_disclosure_refuses_an_opted_out_student(
    client: Client, world: World, officer: User, vendor: Recipient
) -> None:
    notice_publish(
        acting_user=officer,
        district=world.district,
        school_year=2027,
        title="Notice",
        body="Rights",
        directory_information=[DirectoryItem.NAME],
    )
    directory_opt_out_set(acting_user=world.parent, student=world.student)
    client.force_login(officer)
    data = _disclosure(
        world,
        vendor,
        basis=DisclosureBasis.DIRECTORY_INFORMATION,
        categories=[],
        directory_items=["name"],
        students=f"{world.student.student_number}\n{world.classmate.student_number}",
    )
    response = client.post(url("privacy_disclosure_new"), data)
    assert response.status_code == 400
    assert "These students are opted out of directory information: Ada Lovelace" in response.text
    # The classmate alone: allowed.
    data["students"] = world.classmate.student_number
    assert client.post(url("privacy_disclosure_new"), data).status_code == 302
    assert DisclosureRecord.objects.get().student == world.classmate


def test_a_bad_consent_request_link_is_a_named_400(
    client: Client, world: World, officer: User
) -> None:
    client.force_login(officer)
    response = client.get(url("privacy_disclosure_new"), {"consent_request": "x"})
    assert response.status_code == 400
    assert "consent_request: 'x' is not" in html.unescape(response.text)
    far = ConsentRequest.objects.create(
        district=world.other_district,
        recipient=Recipient.objects.create(district=world.other_district, name="Far"),
        purpose="x",
        categories=["grades"],
        records_description="x",
        for_all_students=True,
    )
    response = client.get(url("privacy_disclosure_new"), {"consent_request": far.pk})
    assert response.status_code == 400
    assert "the district has no such consent request" in response.text


def test_disclosure_records_filter_by_student_and_day_and_log_whom_they_show(
    client: Client, world: World, officer: User, vendor: Recipient
) -> None:
    for student in (world.student, world.classmate):
        disclose(
            acting_user=officer,
            students=[student],
            recipient=vendor,
            categories=["grades"],
            description="Grades",
            basis=DisclosureBasis.SUBPOENA,
            reference="Case 26-101",
        )
    DisclosureRecord.objects.filter(student=world.classmate)  # both written today
    client.force_login(officer)
    everything = client.get(url("privacy_disclosures")).text
    assert "Case 26-101" in everything and everything.count("Northwind Tutoring") >= 2
    one = client.get(url("privacy_disclosures"), {"student": world.student.student_number})
    assert one.status_code == 200
    assert world.classmate.display_name not in one.text
    assert url("privacy_student_export_csv", pk=world.student.pk) in one.text
    assert logged("privacy office: disclosure records")[-1][0] == world.student.pk
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    none = client.get(url("privacy_disclosures"), {"date_from": tomorrow})
    assert "No disclosure recorded that fits the filter." in none.text
    for query, named in (
        ({"student": "S-NOPE"}, "No student of the district has the number S-NOPE."),
        ({"date_from": "0001-01-01"}, "From: Ensure this value is greater than or equal to"),
        ({"date_from": "2026-02-30"}, "From: Enter a valid date."),
        ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "The last day comes before"),
        ({"page": "0"}, "Ensure this value is greater than or equal to 1."),
    ):
        response = client.get(url("privacy_disclosures"), query)
        assert response.status_code == 400 and named in response.text, query


# --- The annual notice ---------------------------------------------------------------------------


def test_a_draft_notice_is_saved_edited_then_published(
    client: Client, world: World, officer: User
) -> None:
    client.force_login(officer)
    data = {
        "action": "save",
        "school_year": "2027",
        "title": "Your rights, 2026–2027",
        "body": "FERPA gives you these rights.",
        "directory_information": ["name", "grade_level"],
        "opt_out_by": "2026-10-01",
    }
    response = client.post(url("privacy_notice_new"), data)
    assert response.status_code == 302
    draft = AnnualNotice.objects.get()
    assert draft.published_at is None and current_notice(world.district) is None
    assert draft.directory_information == ["name", "grade_level"]
    edit = client.get(url("privacy_notice", pk=draft.pk)).text
    assert "FERPA gives you these rights." in edit and "Save and publish" in edit
    data |= {"action": "publish", "body": "FERPA gives families these rights."}
    assert client.post(url("privacy_notice", pk=draft.pk), data).status_code == 302
    draft.refresh_from_db()
    assert draft.published_at is not None and draft.published_by == officer
    assert draft.body == "FERPA gives families these rights."
    assert current_notice(world.district) == draft
    assert list(
        RightsEvent.objects.filter(subject_id=draft.pk)
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["notice_drafted", "notice_drafted", "notice_published"]
    # Published: never changed.
    again = client.post(url("privacy_notice", pk=draft.pk), data | {"body": "Changed"})
    assert again.status_code == 400 and "A published notice is not changed" in again.text
    draft.refresh_from_db()
    assert draft.body == "FERPA gives families these rights."


def test_a_new_notice_starts_from_the_one_in_force(
    client: Client, world: World, officer: User
) -> None:
    notice_publish(
        acting_user=officer,
        district=world.district,
        school_year=2026,
        title="Rights this year",
        body="The body in force.",
        directory_information=[DirectoryItem.NAME],
    )
    client.force_login(officer)
    page = client.get(url("privacy_notice_new")).text
    assert "The body in force." in page and 'value="2027"' in page


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"directory_information": ["shoe_size"]}, "Select a valid choice. shoe_size is not one"),
        ({"school_year": "99999"}, "School year: Ensure this value is less than or equal to 2200."),
        ({"title": ""}, "Title: This field is required."),
        ({"action": "shred"}, "Select a valid choice. shred is not one"),
    ],
)
def test_a_bad_notice_is_a_named_400(
    client: Client, officer: User, change: dict, named: str
) -> None:
    client.force_login(officer)
    data = {"action": "save", "school_year": "2027", "title": "T", "body": "B", **change}
    response = client.post(url("privacy_notice_new"), data)
    assert response.status_code == 400 and named in response.text
    assert not AnnualNotice.objects.exists()


def test_a_published_notice_shows_who_acknowledged_it_when(
    client: Client, world: World, officer: User
) -> None:
    notice = notice_publish(
        acting_user=officer,
        district=world.district,
        school_year=2027,
        title="Rights",
        body="Body",
        directory_information=[DirectoryItem.NAME, DirectoryItem.PHOTOGRAPH],
    )
    acknowledgement = notice_acknowledge(
        acting_user=world.parent, notice=notice, student=world.student
    )
    client.force_login(officer)
    page = client.get(url("privacy_notice", pk=notice.pk)).text
    assert world.parent.email in page and "Ada Lovelace" in page
    local = timezone.localtime(acknowledgement.acknowledged_at)
    assert f"{local:%b} {local.day}, {local.year}" in page
    assert "Photograph" in page and "in force" in page
    assert logged("privacy office: notice acknowledgements")[0][0] == world.student.pk
    listing = client.get(url("privacy_notices")).text
    assert "<strong>In force</strong>" in listing
    bad = client.get(url("privacy_notice", pk=notice.pk), {"page": "x"})
    assert bad.status_code == 400 and "Enter a whole number." in bad.text


# --- A student's export --------------------------------------------------------------------------


def _reads(world: World, count: int) -> None:
    key = student_log_key(world.student.uuid)
    now = timezone.now()
    AccessLogEntry.objects.bulk_create(
        [
            AccessLogEntry(
                at=now - dt.timedelta(days=10, minutes=n),
                actor_user_id=world.teacher.pk,
                actor_label=world.teacher.email,
                actor_name="Tess Teacher",
                role="teacher",
                what="section roster",
                purpose="Teaching the student's class",
                student_id=world.student.pk,
                student_key=key,
            )
            for n in range(count)
        ]
    )


def _body(response) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode()


def test_the_export_holds_the_access_log_and_disclosures_and_is_logged(
    client: Client, world: World, officer: User, vendor: Recipient
) -> None:
    _reads(world, 3)
    disclose(
        acting_user=officer,
        students=[world.student],
        recipient=vendor,
        categories=["grades"],
        description='=HYPERLINK("http://x.test","y")',
        basis=DisclosureBasis.COURT_ORDER,
        reference="Order 7",
    )
    client.force_login(officer)
    response = client.get(url("privacy_student_export_json", pk=world.student.pk))
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="student-{world.student.pk}-access-log-and-disclosures-'
    )
    assert "no-store" in response["Cache-Control"]
    exported = json.loads(_body(response))
    assert exported["student"]["id"] == world.student.pk
    # Oldest first; the export's own read is logged before it is written, so it is the last.
    assert [row["what"] for row in exported["access_log"]] == ["section roster"] * 3 + [
        "privacy office: access log and disclosures (JSON)"
    ]
    assert exported["access_log"][0]["account"] == world.teacher.email
    [disclosed] = exported["disclosures"]
    assert disclosed["basis"] == "court_order" and disclosed["reference"] == "Order 7"
    assert logged("privacy office: access log and disclosures (JSON)") == [
        (world.student.pk, "privacy_officer", PRIVACY_OFFICE_PURPOSE)
    ]

    response = client.get(url("privacy_student_export_csv", pk=world.student.pk))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].endswith('.csv"')
    rows = list(csv.reader(io.StringIO(_body(response))))
    assert rows[0] == ["kind", "at", "who", "role_or_basis", "what", "purpose", "reference"]
    kinds = [row[0] for row in rows[1:]]
    assert kinds.count("access") == 5 and kinds.count("disclosure") == 1
    times = [row[1] for row in rows[1:]]
    assert times == sorted(times)
    # A description written like a formula is text in a spreadsheet.
    [disclosure_row] = [row for row in rows if row[0] == "disclosure"]
    assert disclosure_row[4].startswith("grades: =HYPERLINK")
    assert all(not cell.startswith(("=", "+", "@")) for row in rows for cell in row)


def test_the_exports_query_count_does_not_grow_with_its_rows(
    client: Client, world: World, officer: User
) -> None:
    client.force_login(officer)

    def queries(name: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url(name, pk=world.student.pk))
            _body(response)
        return len(captured)

    _reads(world, 5)
    few = {
        name: queries(name)
        for name in ("privacy_student_export_json", "privacy_student_export_csv")
    }
    _reads(world, 4500)  # past two chunks of the read
    many = {name: queries(name) for name in few}
    assert many == few
    lines = _body(client.get(url("privacy_student_export_csv", pk=world.student.pk))).splitlines()
    # A header, the reads, and the five exports' own reads.
    assert len(lines) == 1 + 4505 + 5


# --- Staff see the family's statement ------------------------------------------------------------


def test_staff_see_the_familys_statement_beside_the_contested_value(
    client: Client, world: World, officer: User, amendment
) -> None:
    amendment_decide(
        acting_user=officer,
        request=amendment,
        decision="refused",
        hearing_notice="You may ask for a hearing.",
    )
    amendment_statement_add(
        acting_user=world.parent, request=amendment, statement="The hospital says May 14."
    )
    grades = amendment_request_create(
        acting_user=world.parent,
        student=world.student,
        category="grades",
        record_label="Math, fall term",
        contested_value="C",
        reason="Two scores were left out.",
    )
    amendment_decide(
        acting_user=officer, request=grades, decision="refused", hearing_notice="A hearing."
    )
    amendment_statement_add(
        acting_user=world.parent, request=grades, statement="Two quizzes are missing."
    )
    for user in (world.teacher, world.principal, world.district_staff):
        client.force_login(user)
        for tab in ("record", "grades"):
            profile = client.get(
                reverse("students:student_detail", kwargs={"pk": world.student.pk}), {"tab": tab}
            )
            text = profile.text
            # Beside the value on the record tab.
            birth = text[text.index("<dt>Birth date</dt>") : text.index("<dt>Sex</dt>")]
            assert "Contested by the family" in birth and "The hospital says May 14." in birth
            # Every statement above the tabs, whichever tab is shown.
            header = text[: text.index('role="tablist"')]
            assert "The hospital says May 14." in header
            assert "Math, fall term" in header and "Two quizzes are missing." in header
    # The classmate has no statement: no panel, no marker.
    client.force_login(world.teacher)
    other = client.get(reverse("students:student_detail", kwargs={"pk": world.classmate.pk})).text
    assert "Contested by the family" not in other and "family-statements" not in other


def test_a_statement_not_yet_written_shows_nothing(
    client: Client, world: World, officer: User, amendment
) -> None:
    amendment_decide(
        acting_user=officer, request=amendment, decision="refused", hearing_notice="A hearing."
    )
    client.force_login(world.teacher)
    text = client.get(reverse("students:student_detail", kwargs={"pk": world.student.pk})).text
    assert "Contested by the family" not in text


# --- The top bar ---------------------------------------------------------------------------------


def _header(page: str) -> str:
    return page[page.index('<header class="site-header">') : page.index("</header>")]


def test_the_top_bar_offers_the_privacy_office_to_its_officer_only(
    client: Client, world: World, officer: User
) -> None:
    client.force_login(officer)
    assert 'href="/privacy/">Privacy office</a>' in _header(client.get("/").text)
    assert 'href="/privacy/" aria-current="page">Privacy office</a>' in _header(
        client.get("/privacy/").text
    )
    for role in OTHER_ROLES:
        client.force_login(world.users_by_role()[role])
        page = client.get("/accounts/2fa/")
        assert "/privacy/" not in _header(page.text), role


def test_asking_whether_a_user_holds_the_office_costs_no_query_after_their_grants(
    world: World, officer: User, django_assert_num_queries
) -> None:
    for user, holds in ((User.objects.get(pk=officer.pk), True), (world.teacher, False)):
        viewer_for(user)
        with django_assert_num_queries(0):
            assert holds_privacy_office(user) is holds


# --- Query counts --------------------------------------------------------------------------------


def test_the_office_pages_query_counts_do_not_grow_with_their_rows(
    client: Client, world: World, officer: User, vendor: Recipient, consent_request
) -> None:
    notice = notice_publish(
        acting_user=officer,
        district=world.district,
        school_year=2027,
        title="Rights",
        body="Body",
        directory_information=[DirectoryItem.NAME],
    )
    today = timezone.localdate()

    def add(count: int) -> None:
        for index in range(count):
            student = factories.StudentFactory.create(district=world.district)
            InspectionRequest.objects.create(
                district=world.district,
                student=student,
                user_label="parent@example.test",
                due_on=today + dt.timedelta(days=index - 3),
            )
            AmendmentRequest.objects.create(
                district=world.district,
                student=student,
                user_label="parent@example.test",
                category="grades",
                record_label="Math",
                contested_value="C",
                reason="Wrong",
            )
            Consent.objects.create(
                district=world.district,
                request=consent_request,
                student=student,
                user_label="parent@example.test",
            )
            NoticeAcknowledgement.objects.create(
                district=world.district, notice=notice, user_label="parent", student=student
            )
            disclose(
                acting_user=officer,
                students=[student],
                recipient=vendor,
                categories=["grades"],
                description="Grades",
                basis=DisclosureBasis.SUBPOENA,
                reference=f"Case {index}",
            )

    pages = [
        url(name)
        for name in (
            "privacy_overview",
            "privacy_requests",
            "privacy_consents",
            "privacy_disclosures",
            "privacy_notices",
        )
    ] + [url("privacy_consent", pk=consent_request.pk), url("privacy_notice", pk=notice.pk)]
    client.force_login(officer)

    def counts() -> dict[str, int]:
        found = {}
        for page in pages:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(page).status_code == 200
            found[page] = len(captured)
        return found

    add(1)
    few = counts()
    add(15)
    assert counts() == few

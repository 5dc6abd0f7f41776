"""Consent (34 CFR 99.30), the exceptions (99.31) and the record of every disclosure (99.32),
through the one disclosure service."""

import datetime as dt

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone

from accounts.models import User
from privacy.models import AppendOnlyError
from rights.models import (
    Consent,
    ConsentRequest,
    DirectoryItem,
    DisclosureBasis,
    DisclosureRecord,
    Recipient,
    RightsEvent,
)
from rights.selectors import (
    EXPORT_CSV_COLUMNS,
    access_log_rows_of_student,
    consent_requests_for_student,
    consent_requests_of_district,
    disclosure_rows_of_student,
    disclosures_of_student,
    export_csv_rows_of_student,
    without_directory_opt_out,
)
from rights.services import (
    DisclosureRefused,
    RightsRefused,
    WrongPassword,
    consent_give,
    consent_request_close,
    consent_request_create,
    consent_revoke,
    directory_opt_out_set,
    disclose,
    eligible_student_postsecondary_set,
    notice_publish,
    recipient_save,
)
from students.models import GuardianRelationship, Student
from tests.conftest import PASSWORD, World

pytestmark = pytest.mark.django_db

PURPOSE = "Personalized reading practice"


def ask(officer: User, recipient: Recipient, *students: Student, **overrides: object):
    fields: dict = {
        "acting_user": officer,
        "recipient": recipient,
        "purpose": PURPOSE,
        "categories": ["grades", "assessments"],
        "records_description": "Your child's grades and assessment results this year.",
        "students": students,
        **overrides,
    }
    return consent_request_create(**fields)


def send(officer: User | None, recipient: Recipient, *students: Student, **overrides: object):
    fields: dict = {
        "acting_user": officer,
        "students": students,
        "recipient": recipient,
        "categories": ["grades"],
        "description": "Grades of the fall term",
        "basis": DisclosureBasis.CONSENT,
        **overrides,
    }
    return disclose(**fields)


def refusal(excinfo: pytest.ExceptionInfo[DisclosureRefused]) -> str:
    return excinfo.value.code


def give_classmate_rights(world: World) -> None:
    GuardianRelationship.objects.filter(student=world.classmate).update(has_educational_rights=True)


# --- Consent


def test_99_30_consent_given_with_the_right_password(
    world: World, officer: User, vendor: Recipient
) -> None:
    request = ask(officer, vendor, world.student)
    assert list(consent_requests_for_student(world.student)) == [request]
    assert not consent_requests_for_student(world.classmate).exists()
    consent = consent_give(
        acting_user=world.parent, request=request, student=world.student, password=PASSWORD
    )
    # The signature: the time, the user and the request.
    assert (consent.user, consent.request, consent.student) == (
        world.parent,
        request,
        world.student,
    )
    assert consent.signed_at <= timezone.now()
    assert consent.signature_method == "password re-entered"
    assert consent.guardian == world.guardian
    event = RightsEvent.objects.get(action="consent_given")
    assert (event.actor_user, event.student_id) == (world.parent, world.student.pk)
    # Twice: the consent in force stands.
    again = consent_give(
        acting_user=world.parent, request=request, student=world.student, password=PASSWORD
    )
    assert again.pk == consent.pk


@pytest.mark.parametrize("password", ["", "pw-Trellis-124", PASSWORD.upper()])
def test_99_30_consent_refused_with_a_wrong_password(
    world: World, officer: User, vendor: Recipient, password: str
) -> None:
    request = ask(officer, vendor, world.student)
    with pytest.raises(WrongPassword) as excinfo:
        consent_give(
            acting_user=world.parent, request=request, student=world.student, password=password
        )
    assert excinfo.value.code == "wrong_password"
    assert not Consent.objects.exists()
    # The refusal is in the rights log, with who tried and for which child.
    refused = RightsEvent.objects.get(action="consent_refused")
    assert refused.actor_user == world.parent and refused.student_id == world.student.pk


def test_99_30_consent_is_the_rights_holders(
    world: World, officer: User, vendor: Recipient
) -> None:
    request = ask(officer, vendor, for_all_students=True, students=())
    for user, student in (
        (world.other_parent, world.classmate),  # portal access, no educational rights
        (world.parent, world.classmate),
        (world.district_staff, world.student),
        (officer, world.student),
    ):
        with pytest.raises(RightsRefused):
            consent_give(acting_user=user, request=request, student=student, password=PASSWORD)
    assert not Consent.objects.exists()


def test_99_30_consent_only_under_an_open_request_that_concerns_the_child(
    world: World, officer: User, vendor: Recipient
) -> None:
    from django.core.exceptions import ValidationError

    give_classmate_rights(world)
    request = ask(officer, vendor, world.student)
    with pytest.raises(ValidationError, match="not about this child"):
        consent_give(
            acting_user=world.other_parent,
            request=request,
            student=world.classmate,
            password=PASSWORD,
        )
    consent_request_close(acting_user=officer, request=request)
    assert not consent_requests_for_student(world.student).exists()
    with pytest.raises(ValidationError, match="no longer takes consent"):
        consent_give(
            acting_user=world.parent, request=request, student=world.student, password=PASSWORD
        )


def test_a_request_for_every_student_of_a_school_concerns_its_students_only(
    world: World, officer: User, vendor: Recipient
) -> None:
    request = ask(officer, vendor, for_all_students=True, students=(), school=world.other_school)
    assert list(consent_requests_for_student(world.other_school_student)) == [request]
    assert not consent_requests_for_student(world.student).exists()
    everyone = ask(officer, vendor, for_all_students=True, students=())
    assert list(consent_requests_for_student(world.student)) == [everyone]
    assert not consent_requests_for_student(world.other_district_student).exists()


def test_a_student_who_holds_their_own_rights_consents_for_themself(
    world: World, officer: User, vendor: Recipient
) -> None:
    request = ask(officer, vendor, world.student)
    eligible_student_postsecondary_set(acting_user=officer, student=world.student)
    with pytest.raises(RightsRefused) as excinfo:
        consent_give(
            acting_user=world.parent, request=request, student=world.student, password=PASSWORD
        )
    assert excinfo.value.code == "student_holds_rights"


# --- Disclosure under consent


def test_99_30_disclosure_refused_without_consent(
    world: World, officer: User, vendor: Recipient
) -> None:
    request = ask(officer, vendor, world.student)
    with pytest.raises(DisclosureRefused) as excinfo:
        send(officer, vendor, world.student, consent_request=request)
    assert refusal(excinfo) == "consent_missing"
    assert excinfo.value.student_ids == [world.student.pk]
    # Consent as the basis, with no request named at all.
    with pytest.raises(DisclosureRefused) as excinfo:
        send(officer, vendor, world.student)
    assert refusal(excinfo) == "consent_missing"
    assert not DisclosureRecord.objects.exists()


def test_99_32_disclosure_with_consent_records_each_student(
    world: World, officer: User, vendor: Recipient
) -> None:
    give_classmate_rights(world)
    request = ask(officer, vendor, world.student, world.classmate)
    consents = [
        consent_give(acting_user=parent, request=request, student=child, password=PASSWORD)
        for parent, child in ((world.parent, world.student), (world.other_parent, world.classmate))
    ]
    result = send(officer, vendor, world.student, world.classmate, consent_request=request)
    assert [r.student for r in result.records] == [world.student, world.classmate]
    record = disclosures_of_student(world.student).get()
    assert record.recipient == vendor and record.recipient_name == "Northwind Learning"
    assert record.categories == ["grades"]
    assert record.description == "Grades of the fall term"
    assert record.basis == DisclosureBasis.CONSENT
    assert record.consent == consents[0]
    assert record.purpose == PURPOSE
    assert record.acting_user == officer
    assert record.disclosed_at <= timezone.now()
    counted = consent_requests_of_district(world.district)
    assert counted.values_list("consents_in_force", flat=True).get() == 2


def test_99_30_a_disclosure_is_all_or_nothing(
    world: World, officer: User, vendor: Recipient
) -> None:
    request = ask(officer, vendor, world.student, world.classmate)
    consent_give(
        acting_user=world.parent, request=request, student=world.student, password=PASSWORD
    )
    with pytest.raises(DisclosureRefused) as excinfo:
        send(officer, vendor, world.student, world.classmate, consent_request=request)
    assert excinfo.value.student_ids == [world.classmate.pk]
    assert str(world.classmate.pk) in excinfo.value.message
    assert not DisclosureRecord.objects.exists()


def test_99_30_revoked_consent_stops_the_next_disclosure(
    world: World, officer: User, vendor: Recipient
) -> None:
    request = ask(officer, vendor, world.student)
    consent = consent_give(
        acting_user=world.parent, request=request, student=world.student, password=PASSWORD
    )
    send(officer, vendor, world.student, consent_request=request)
    consent_revoke(acting_user=world.parent, consent=consent)
    consent.refresh_from_db()
    assert consent.revoked_at is not None and consent.revoked_by == world.parent
    with pytest.raises(DisclosureRefused) as excinfo:
        send(officer, vendor, world.student, consent_request=request)
    assert refusal(excinfo) == "consent_revoked"
    # The disclosure made before stays recorded.
    assert disclosures_of_student(world.student).count() == 1
    # A new consent after the revocation counts again.
    consent_give(
        acting_user=world.parent, request=request, student=world.student, password=PASSWORD
    )
    send(officer, vendor, world.student, consent_request=request)
    assert disclosures_of_student(world.student).count() == 2


def test_99_30_a_consent_is_revoked_by_the_family_or_the_office_only(
    world: World, officer: User, vendor: Recipient
) -> None:
    request = ask(officer, vendor, world.student)
    consent = consent_give(
        acting_user=world.parent, request=request, student=world.student, password=PASSWORD
    )
    for user in (world.other_parent, world.teacher, world.district_staff):
        with pytest.raises(RightsRefused):
            consent_revoke(acting_user=user, consent=consent)
    revoked = consent_revoke(acting_user=officer, consent=consent)
    assert revoked.revoked_by == officer


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"categories": ["grades", "attendance"]}, "consent_wrong_records"),
        ({"purpose": "Marketing"}, "consent_wrong_purpose"),
        ({"recipient": "other"}, "consent_wrong_recipient"),
    ],
)
def test_99_30_consent_must_name_the_records_the_purpose_and_the_recipient(
    world: World, officer: User, vendor: Recipient, change: dict, code: str
) -> None:
    request = ask(officer, vendor, world.student)
    consent_give(
        acting_user=world.parent, request=request, student=world.student, password=PASSWORD
    )
    if change.get("recipient") == "other":
        change = {
            "recipient": recipient_save(acting_user=officer, district=world.district, name="X")
        }
    fields = {"recipient": vendor, "consent_request": request, **change}
    recipient = fields.pop("recipient")
    with pytest.raises(DisclosureRefused) as excinfo:
        send(officer, recipient, world.student, **fields)
    assert refusal(excinfo) == code
    assert not DisclosureRecord.objects.exists()


def test_99_30_an_expired_consent_counts_no_more(
    world: World, officer: User, vendor: Recipient
) -> None:
    import time_machine

    request = ask(officer, vendor, world.student, expires_on=timezone.localdate())
    consent_give(
        acting_user=world.parent, request=request, student=world.student, password=PASSWORD
    )
    send(officer, vendor, world.student, consent_request=request)
    with time_machine.travel(timezone.now() + dt.timedelta(days=2)):
        with pytest.raises(DisclosureRefused) as excinfo:
            send(officer, vendor, world.student, consent_request=request)
    assert refusal(excinfo) == "consent_expired"


# --- The exceptions


def test_99_31_disclosure_refused_without_a_basis(
    world: World, officer: User, vendor: Recipient
) -> None:
    for basis in ("", "legitimate_interest"):
        with pytest.raises(DisclosureRefused) as excinfo:
            send(officer, vendor, world.student, basis=basis)
        assert refusal(excinfo) == "no_basis"
        assert "needs a basis" in excinfo.value.message
    assert not DisclosureRecord.objects.exists()


@pytest.mark.parametrize("basis", [DisclosureBasis.COURT_ORDER, DisclosureBasis.SUBPOENA])
def test_99_31_court_order_or_subpoena_needs_its_reference(
    world: World, officer: User, basis: str
) -> None:
    court = recipient_save(
        acting_user=officer, district=world.district, name="District Court", kind="court"
    )
    with pytest.raises(DisclosureRefused) as excinfo:
        send(officer, court, world.student, basis=basis, reference="  ")
    assert refusal(excinfo) == "reference_missing"
    result = send(officer, court, world.student, basis=basis, reference="Case 2026-CV-0042")
    record = result.records[0]
    assert record.reference == "Case 2026-CV-0042"
    assert record.consent is None


def test_99_31_school_official_under_contract_needs_its_purpose(
    world: World, officer: User, vendor: Recipient
) -> None:
    basis = DisclosureBasis.SCHOOL_OFFICIAL_UNDER_CONTRACT
    with pytest.raises(DisclosureRefused) as excinfo:
        send(officer, vendor, world.student, basis=basis)
    assert refusal(excinfo) == "purpose_missing"
    send(officer, vendor, world.student, basis=basis, purpose="Hosting the reading program")
    assert disclosures_of_student(world.student).get().purpose == "Hosting the reading program"


def test_99_31_students_of_another_district_are_refused(
    world: World, officer: User, vendor: Recipient
) -> None:
    with pytest.raises(DisclosureRefused) as excinfo:
        send(
            officer,
            vendor,
            world.other_district_student,
            basis=DisclosureBasis.SUBPOENA,
            reference="S-1",
        )
    assert refusal(excinfo) == "other_district"


# --- Directory information


def directory_notice(world: World, officer: User) -> None:
    notice_publish(
        acting_user=officer,
        district=world.district,
        school_year=2027,
        title="Annual notice",
        body="Your rights.",
        directory_information=[DirectoryItem.NAME, DirectoryItem.GRADE_LEVEL],
    )


def roster(officer: User, yearbook: Recipient, *students: Student, **overrides: object):
    return send(
        officer,
        yearbook,
        *students,
        **{
            "basis": DisclosureBasis.DIRECTORY_INFORMATION,
            "categories": ["name", "grade_level"],
            "description": "Names and grades for the yearbook",
            **overrides,
        },
    )


def test_99_37_directory_opt_out_blocks_directory_disclosure(
    world: World, officer: User, yearbook: Recipient
) -> None:
    directory_notice(world, officer)
    directory_opt_out_set(acting_user=world.parent, student=world.student)
    with pytest.raises(DisclosureRefused) as excinfo:
        roster(officer, yearbook, world.student, world.classmate)
    assert refusal(excinfo) == "opted_out"
    assert excinfo.value.student_ids == [world.student.pk]
    assert not DisclosureRecord.objects.exists()
    # Leaving the opted-out out, as the message says.
    everyone = Student.objects.filter(pk__in=[world.student.pk, world.classmate.pk])
    result = roster(officer, yearbook, *without_directory_opt_out(everyone))
    assert [r.student for r in result.records] == [world.classmate]
    assert result.records[0].purpose == "Directory information"


def test_99_37_opt_out_does_not_block_school_official_under_contract(
    world: World, officer: User, vendor: Recipient
) -> None:
    directory_notice(world, officer)
    directory_opt_out_set(acting_user=world.parent, student=world.student)
    result = send(
        officer,
        vendor,
        world.student,
        world.classmate,
        basis=DisclosureBasis.SCHOOL_OFFICIAL_UNDER_CONTRACT,
        categories=["name"],
        description="Class lists for the reading program's logins",
        purpose="Running the district's reading program",
        reference="Contract 2026-17",
    )
    assert {r.student for r in result.records} == {world.student, world.classmate}
    assert disclosures_of_student(world.student).get().basis == "school_official_under_contract"


def test_99_37_only_designated_directory_information_under_a_published_notice(
    world: World, officer: User, yearbook: Recipient
) -> None:
    with pytest.raises(DisclosureRefused) as excinfo:
        roster(officer, yearbook, world.classmate)
    assert refusal(excinfo) == "no_directory_notice"
    directory_notice(world, officer)
    with pytest.raises(DisclosureRefused) as excinfo:
        roster(officer, yearbook, world.classmate, categories=["name", "photograph"])
    assert refusal(excinfo) == "not_directory_information"
    assert "photograph" in excinfo.value.message


# --- The record of disclosures


def test_99_32_disclosure_record_kept_while_record_exists(
    world: World, officer: User, vendor: Recipient
) -> None:
    request = ask(officer, vendor, world.student)
    consent = consent_give(
        acting_user=world.parent, request=request, student=world.student, password=PASSWORD
    )
    record = send(officer, vendor, world.student, consent_request=request).records[0]
    with pytest.raises(AppendOnlyError):
        record.delete()
    with pytest.raises(AppendOnlyError):
        DisclosureRecord.objects.filter(pk=record.pk).delete()
    with pytest.raises(AppendOnlyError):
        DisclosureRecord.objects.filter(pk=record.pk).update(description="nothing")
    record.description = "nothing"
    with pytest.raises(AppendOnlyError):
        record.save()
    # Nor does it go with its evidence: the consent, the request or the recipient.
    with pytest.raises(RestrictedError), transaction.atomic():
        Consent.objects.filter(pk=consent.pk).delete()
    with pytest.raises(RestrictedError), transaction.atomic():
        ConsentRequest.objects.filter(pk=request.pk).delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        vendor.delete()
    assert DisclosureRecord.objects.get(pk=record.pk).description == "Grades of the fall term"


def test_deleting_no_disclosure_record_is_no_deletion(world: World) -> None:
    """A clean-up that reaches the table after the students went (the demo's reset) finds
    nothing to keep."""
    assert DisclosureRecord.objects.filter(student=world.student).delete() == (0, {})


def test_99_32_disclosure_records_go_with_the_students_record(
    world: World, officer: User, vendor: Recipient
) -> None:
    request = ask(officer, vendor, world.student)
    consent_give(
        acting_user=world.parent, request=request, student=world.student, password=PASSWORD
    )
    send(officer, vendor, world.student, consent_request=request)
    send(
        officer,
        vendor,
        world.classmate,
        basis=DisclosureBasis.SUBPOENA,
        reference="S-7",
    )
    student_id = world.student.pk
    world.student.delete()
    assert not DisclosureRecord.objects.filter(student_id=student_id).exists()
    assert not Consent.objects.filter(student_id=student_id).exists()
    # Another student's record is untouched; the log of the changes outlives the student.
    assert DisclosureRecord.objects.filter(student=world.classmate).count() == 1
    assert RightsEvent.objects.filter(student_id=student_id, action="consent_given").exists()


def test_a_disclosure_is_made_by_someone(world: World, vendor: Recipient) -> None:
    basis = {"basis": DisclosureBasis.SUBPOENA, "reference": "S-9"}
    with pytest.raises(DisclosureRefused) as excinfo:
        send(None, vendor, world.student, **basis)
    assert refusal(excinfo) == "no_actor"
    # An application of the API to come, acting for the district.
    record = send(None, vendor, world.student, actor_app="Northwind sync", **basis).records[0]
    assert record.actor_app == "Northwind sync" and record.acting_user is None


def test_the_office_exports_a_students_access_log_and_disclosures(
    world: World, officer: User, vendor: Recipient
) -> None:
    from accounts.access import student_for_privacy_officer
    from privacy.services import log_shown

    grant = student_for_privacy_officer(officer, world.student.pk)
    log_shown(None, grant, what="student record", students=[world.student])
    send(officer, vendor, world.student, basis=DisclosureBasis.SUBPOENA, reference="S-3")
    send(officer, vendor, world.classmate, basis=DisclosureBasis.SUBPOENA, reference="S-4")
    assert [row["what"] for row in access_log_rows_of_student(world.student)] == ["student record"]
    assert [row["reference"] for row in disclosure_rows_of_student(world.student)] == ["S-3"]
    lines = [",".join(EXPORT_CSV_COLUMNS)] + [
        ",".join(str(cell) for cell in row) for row in export_csv_rows_of_student(world.student)
    ]
    assert lines[0] == "kind,at,who,role_or_basis,what,purpose,reference"
    assert [line.split(",")[0] for line in lines[1:]] == ["access", "disclosure"]
    assert lines[2].endswith(",S-3")


def test_consent_request_scope_is_checked(world: World, officer: User, vendor: Recipient) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        ask(officer, vendor)  # nobody
    with pytest.raises(ValidationError):
        ask(officer, vendor, world.other_district_student)
    with pytest.raises(ValidationError):
        ask(officer, vendor, world.student, categories=[])
    with pytest.raises(RightsRefused):
        ask(world.district_staff, vendor, world.student)
    assert not ConsentRequest.objects.exists()


def test_one_consent_in_force_per_signer_in_the_database_too(
    world: World, officer: User, vendor: Recipient
) -> None:
    request = ask(officer, vendor, world.student)
    consent = consent_give(
        acting_user=world.parent, request=request, student=world.student, password=PASSWORD
    )
    duplicate = Consent(
        district=world.district,
        request=request,
        student=world.student,
        user=world.parent,
        user_label=consent.user_label,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the triggers exist on PostgreSQL only"
)
def test_99_32_the_database_refuses_changes_to_the_records_and_the_log(
    world: World, officer: User, vendor: Recipient
) -> None:
    send(officer, vendor, world.student, basis=DisclosureBasis.SUBPOENA, reference="S-5")
    for statement in (
        "UPDATE rights_disclosurerecord SET description = 'rewritten'",
        "UPDATE rights_rightsevent SET actor_label = 'someone else'",
        "DELETE FROM rights_rightsevent",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement)
    assert DisclosureRecord.objects.get().description == "Grades of the fall term"
    assert RightsEvent.objects.filter(action="disclosed").exists()
    # Its student's deletion still takes it.
    world.student.delete()
    assert not DisclosureRecord.objects.exists()

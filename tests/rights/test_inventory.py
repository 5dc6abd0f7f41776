"""The rights app's entries in the data inventory (students.inventory): every model has one, and
a child's inspection package holds exactly that child's rows of each personal one."""

import pytest

from accounts.models import User
from rights.models import DisclosureBasis, Recipient
from rights.services import (
    amendment_request_create,
    consent_give,
    consent_request_create,
    directory_opt_out_set,
    disclose,
    eligible_student_postsecondary_set,
    inspection_request_create,
    notice_acknowledge,
    notice_publish,
)
from students import inventory
from students.models import GuardianRelationship, Student
from tests.conftest import PASSWORD, World

pytestmark = pytest.mark.django_db


def test_every_rights_model_has_an_entry() -> None:
    assert not [label for label in inventory.models_without_entry() if label.startswith("rights.")]
    assert not [p for p in inventory.entry_problems() if p.startswith("rights.")]


def craft(world: World, officer: User, vendor: Recipient) -> None:
    """One row of every personal kind for each of two children, through the services."""
    GuardianRelationship.objects.filter(student=world.classmate).update(has_educational_rights=True)
    notice = notice_publish(
        acting_user=officer,
        district=world.district,
        school_year=2027,
        title="Annual notice",
        body="Your rights.",
        directory_information=["name"],
    )
    request = consent_request_create(
        acting_user=officer,
        recipient=vendor,
        purpose="Reading practice",
        categories=["grades"],
        records_description="Grades",
        for_all_students=True,
    )
    pairs: list[tuple[User, Student]] = [
        (world.parent, world.student),
        (world.other_parent, world.classmate),
    ]
    for parent, child in pairs:
        notice_acknowledge(acting_user=parent, notice=notice, student=child)
        directory_opt_out_set(acting_user=parent, student=child)
        consent_give(acting_user=parent, request=request, student=child, password=PASSWORD)
        inspection_request_create(acting_user=parent, student=child)
        amendment_request_create(
            acting_user=parent,
            student=child,
            category="grades",
            record_label="Math",
            contested_value="D",
            reason="Wrong.",
        )
        disclose(
            acting_user=officer,
            students=[child],
            recipient=vendor,
            categories=["grades"],
            description="Grades",
            basis=DisclosureBasis.CONSENT,
            consent_request=request,
        )
        eligible_student_postsecondary_set(acting_user=officer, student=child)


def test_a_childs_package_holds_exactly_their_rights_rows(
    world: World, officer: User, vendor: Recipient
) -> None:
    craft(world, officer, vendor)
    entries = [e for e in inventory.registered_records() if e.label.startswith("rights.")]
    personal = [e for e in entries if e.personal]
    assert {e.label for e in personal} == {
        "rights.DisclosureRecord",
        "rights.Consent",
        "rights.DirectoryOptOut",
        "rights.NoticeAcknowledgement",
        "rights.InspectionRequest",
        "rights.AmendmentRequest",
        "rights.EligibleStudent",
        "rights.RightsEvent",
    }
    for child in (world.student, world.classmate):
        records = inventory.records_of_student(child)
        for entry in personal:
            model = entry.model
            expected = set(
                model._default_manager.filter(student=child).values_list("pk", flat=True)
            )
            assert expected, entry.label
            kind = str(model._meta.verbose_name).lower()
            found = {
                row["id"] for row in records[entry.category] if row["record_type"].lower() == kind
            }
            assert found == expected, entry.label

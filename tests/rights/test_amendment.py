"""Amendment of a child's records (34 CFR 99.20-99.22): a family contests a value, the privacy
office decides, a refusal carries the notice of the right to a hearing, and the family's
statement then stands beside the value and goes with every later disclosure of it."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from rights.models import AmendmentDecision, AmendmentRequest, DisclosureBasis, Recipient
from rights.selectors import amendment_requests_of_district, statements_for
from rights.services import (
    RightsRefused,
    amendment_decide,
    amendment_request_create,
    amendment_statement_add,
    disclose,
)
from tests.conftest import World

pytestmark = pytest.mark.django_db

HEARING = (
    "You may ask for a hearing within 30 days by writing to the privacy office; a district "
    "officer with no stake in the outcome will hear you."
)


def contest(world: World, **overrides: object) -> AmendmentRequest:
    fields: dict = {
        "acting_user": world.parent,
        "student": world.student,
        "category": "grades",
        "record_label": "Grade 4 Math, first quarter",
        "record_model": "students.Grade",
        "record_id": 41,
        "field_name": "letter_grade",
        "contested_value": "D",
        "proposed_value": "B",
        "reason": "Two assignments handed in on time were never entered.",
        **overrides,
    }
    return amendment_request_create(**fields)


def test_99_20_a_family_contests_a_value(world: World, officer: User) -> None:
    request = contest(world)
    assert request.decision == ""
    assert list(amendment_requests_of_district(world.district, undecided_only=True)) == [request]
    for user, student in ((world.other_parent, world.classmate), (world.teacher, world.student)):
        with pytest.raises(RightsRefused):
            contest(world, acting_user=user, student=student)
    with pytest.raises(ValidationError):
        contest(world, category="Not A Category")


def test_99_20_refusal_carries_hearing_notice(world: World, officer: User) -> None:
    request = contest(world)
    with pytest.raises(ValidationError, match="hearing"):
        amendment_decide(acting_user=officer, request=request, decision=AmendmentDecision.REFUSED)
    refused = amendment_decide(
        acting_user=officer,
        request=request,
        decision=AmendmentDecision.REFUSED,
        decision_reason="The teacher's gradebook shows the work late.",
        hearing_notice=HEARING,
    )
    assert refused.hearing_notice == HEARING and refused.decided_by == officer
    # The database holds the rule too.
    with pytest.raises(IntegrityError), transaction.atomic():
        AmendmentRequest.objects.filter(pk=request.pk).update(hearing_notice="")


def test_99_20_decided_once_by_the_privacy_office(world: World, officer: User) -> None:
    request = contest(world)
    with pytest.raises(RightsRefused):
        amendment_decide(
            acting_user=world.district_staff, request=request, decision=AmendmentDecision.GRANTED
        )
    amendment_decide(acting_user=officer, request=request, decision=AmendmentDecision.GRANTED)
    with pytest.raises(ValidationError, match="decided already"):
        amendment_decide(
            acting_user=officer,
            request=request,
            decision=AmendmentDecision.REFUSED,
            hearing_notice=HEARING,
        )


def test_99_21_a_statement_only_after_a_refusal(world: World, officer: User) -> None:
    undecided = contest(world)
    with pytest.raises(ValidationError, match="only after a refusal"):
        amendment_statement_add(acting_user=world.parent, request=undecided, statement="Wrong.")
    granted = amendment_decide(
        acting_user=officer, request=undecided, decision=AmendmentDecision.GRANTED
    )
    with pytest.raises(ValidationError, match="only after a refusal"):
        amendment_statement_add(acting_user=world.parent, request=granted, statement="Wrong.")
    with pytest.raises(IntegrityError), transaction.atomic():
        AmendmentRequest.objects.filter(pk=granted.pk).update(statement="Wrong.")
    assert statements_for(world.student) == []


def test_99_21_statement_shown_beside_the_contested_value(world: World, officer: User) -> None:
    request = amendment_decide(
        acting_user=officer,
        request=contest(world),
        decision=AmendmentDecision.REFUSED,
        hearing_notice=HEARING,
    )
    with pytest.raises(RightsRefused):
        amendment_statement_add(acting_user=world.other_parent, request=request, statement="No.")
    amendment_statement_add(
        acting_user=world.parent, request=request, statement="We disagree: see the receipts."
    )
    [shown] = statements_for(world.student)
    assert shown.statement == "We disagree: see the receipts."
    assert shown.contested_value == "D"
    assert shown.about("students.Grade", 41, "letter_grade")
    assert not shown.about("students.Grade", 42)
    assert statements_for(world.classmate) == []


def test_99_21_statement_sent_with_later_disclosure(
    world: World, officer: User, vendor: Recipient
) -> None:
    request = amendment_decide(
        acting_user=officer,
        request=contest(world),
        decision=AmendmentDecision.REFUSED,
        hearing_notice=HEARING,
    )
    amendment_statement_add(
        acting_user=world.parent, request=request, statement="The grade leaves out two papers."
    )
    transcript = disclose(
        acting_user=officer,
        students=[world.student, world.classmate],
        recipient=vendor,
        categories=["grades", "attendance"],
        description="Transcript",
        basis=DisclosureBasis.SUBPOENA,
        reference="S-21",
    )
    [statement] = transcript.statements
    assert statement.statement == "The grade leaves out two papers."
    assert statement.student_id == world.student.pk
    sent = {record.student_id: record.statements_sent for record in transcript.records}
    assert [s["statement"] for s in sent[world.student.pk]] == ["The grade leaves out two papers."]
    assert sent[world.classmate.pk] == []
    # A disclosure of other records carries nothing.
    attendance = disclose(
        acting_user=officer,
        students=[world.student],
        recipient=vendor,
        categories=["attendance"],
        description="Attendance",
        basis=DisclosureBasis.SUBPOENA,
        reference="S-22",
    )
    assert attendance.statements == [] and attendance.records[0].statements_sent == []

"""lessons.services.exit_ticket_create: a short quiz on the plan's standards, attached."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from assessments.models import AssessmentKind, AssessmentPurpose
from lessons import services
from tests.conftest import World

DAY = dt.date(2027, 2, 3)


def test_it_creates_a_quiz_on_the_plans_standards_and_attaches_it(world: World) -> None:
    plan = services.plan_create(
        acting_user=world.teacher,
        section=world.section,
        first_day=DAY,
        last_day=DAY + dt.timedelta(days=1),
        standards=[world.standard],
    )
    ticket = services.exit_ticket_create(
        acting_user=world.teacher, plan=plan, title=" Exit ", max_points=Decimal(4)
    )
    plan.refresh_from_db()
    assert plan.exit_ticket == ticket
    assert ticket.title == "Exit" and ticket.section == world.section
    assert ticket.kind == AssessmentKind.QUIZ and ticket.purpose == AssessmentPurpose.FORMATIVE
    assert ticket.due_on == plan.last_day and ticket.max_points == Decimal(4)
    assert list(ticket.standards.all()) == [world.standard]
    assert ticket.created_by == world.teacher


def test_it_needs_standards_and_an_editor(world: World) -> None:
    plan = services.plan_create(acting_user=world.teacher, section=world.section, first_day=DAY)
    with pytest.raises(ValidationError, match="standards first"):
        services.exit_ticket_create(
            acting_user=world.teacher, plan=plan, title="Exit", max_points=Decimal(4)
        )
    with pytest.raises(PermissionDenied):
        services.exit_ticket_create(
            acting_user=world.principal, plan=plan, title="Exit", max_points=Decimal(4)
        )

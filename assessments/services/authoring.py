"""Creating an assessment in a section, aligned to standards."""

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, cast

from django.db import transaction

from assessments.models import (
    Assessment,
    Standard,
)

if TYPE_CHECKING:
    from accounts.models import User
    from students.models import Section


@transaction.atomic
def assessment_create(
    *,
    section: object,
    title: str,
    kind: str,
    purpose: str,
    due_on: date,
    max_points: Decimal,
    standards: Iterable[object],
    acting_user: object = None,
) -> Assessment:
    """A teacher's own assessment in their section, aligned to standards."""
    assessment = Assessment(
        district_id=cast("Section", section).district_id,
        section=cast("Section", section),
        title=title.strip(),
        kind=kind,
        purpose=purpose,
        due_on=due_on,
        assigned_on=due_on,
        max_points=max_points,
        subject=getattr(section, "subject", ""),
        created_by=(
            cast("User", acting_user) if getattr(acting_user, "is_authenticated", False) else None
        ),
    )
    assessment.full_clean()
    assessment.save()
    assessment.standards.set(list(cast("Iterable[Standard | int]", standards)))
    return assessment

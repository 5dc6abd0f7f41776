"""Lesson plans' fixtures: files kept in a temporary media root; a co-teacher of the section."""

from pathlib import Path

import pytest

from accounts.models import User
from assessments.models import MasteryEstimate, Standard
from students import models
from tests import factories
from tests.conftest import World


@pytest.fixture(autouse=True)
def _media(settings: object, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"  # type: ignore[attr-defined]


def co_teacher_of(section: models.Section) -> User:
    staff = factories.StaffFactory.create(district=section.district)
    models.SectionAssignment.objects.create(
        district=section.district, staff=staff, section=section, is_primary=False
    )
    return factories.UserFactory.create(staff_record=staff, full_name=staff.display_name)


@pytest.fixture
def co_teacher(world: World) -> User:
    return co_teacher_of(world.section)


# The default policy: 4 exceeds, 3 mastery (the mastery level), 2 near, 1 below.
PROBABILITY = {4: 0.9, 3: 0.7, 2: 0.5, 1: 0.2}


def estimate_at(student: models.Student, standard: Standard, level: int) -> None:
    """The student's estimate on the standard, at a level of the default policy."""
    MasteryEstimate.objects.update_or_create(
        student=student,
        standard=standard,
        defaults={"level": level, "probability": PROBABILITY[level], "evidence_count": 3},
    )


def enrolled_student(world: World, last_name: str) -> models.Student:
    """A new student of the world's section."""
    student = factories.StudentFactory.create(district=world.district, last_name=last_name)
    models.Enrollment.objects.create(
        district=world.district, student=student, section=world.section
    )
    return student

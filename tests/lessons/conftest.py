"""Lesson plans' fixtures: files kept in a temporary media root; a co-teacher of the section."""

from pathlib import Path

import pytest

from accounts.models import User
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

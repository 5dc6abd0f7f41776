"""The rights app's fixtures: the home district's privacy officer, a recipient, package files in
a temporary folder."""

from pathlib import Path

import pytest

from accounts.models import Role, User
from accounts.services import role_grant
from rights.models import Recipient, RecipientKind
from rights.services import recipient_save
from tests import factories
from tests.conftest import World


@pytest.fixture
def officer(world: World) -> User:
    """The home district's privacy officer (and nothing else)."""
    user = factories.UserFactory.create(full_name="Priya Privacy")
    role_grant(user=user, role=Role.PRIVACY_OFFICER, district=world.district)
    return user


@pytest.fixture
def vendor(world: World, officer: User) -> Recipient:
    return recipient_save(
        acting_user=officer,
        district=world.district,
        name="Northwind Learning",
        kind=RecipientKind.ORGANIZATION,
    )


@pytest.fixture
def yearbook(world: World, officer: User) -> Recipient:
    return recipient_save(acting_user=officer, district=world.district, name="Yearbook Press")


@pytest.fixture(autouse=True)
def _media(settings: object, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"  # type: ignore[attr-defined]

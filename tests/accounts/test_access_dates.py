"""Access follows the calendar: generated from the URL configuration's permission cases, every
page each role may open answers 404 on the day after the row granting it ends, and on the day
before the row granting it begins. Days are moved with time-machine, never by waiting."""

import datetime as dt
from collections.abc import Callable

import pytest
import time_machine

from accounts.models import Role, RoleMembership, User
from students.models import Enrollment, GuardianRelationship, SectionAssignment
from tests.conftest import World
from tests.test_url_permissions import CASES, _url

pytestmark = pytest.mark.django_db

# A day well inside the fixture's school year (its enrollments begin 2026-08-20, open-ended).
EDGE = dt.date(2027, 1, 14)


def _on(day: dt.date) -> time_machine.travel:
    return time_machine.travel(dt.datetime.combine(day, dt.time(10, 0)), tick=False)


def _date_teacher_assignment(world: World, **dates: dt.date) -> None:
    SectionAssignment.objects.filter(staff=world.teacher.staff_record).update(**dates)


def _date_enrollment(world: World, **dates: dt.date) -> None:
    Enrollment.objects.filter(student=world.student, section=world.section).update(**dates)


def _date_membership(role: str) -> Callable[..., None]:
    def date_it(world: World, **dates: dt.date) -> None:
        users: dict[str, User] = {
            Role.PRINCIPAL: world.principal,
            Role.DISTRICT_STAFF: world.district_staff,
        }
        RoleMembership.objects.filter(user=users[role], role=role).update(**dates)

    return date_it


def _date_guardian_grant(world: World, **dates: dt.date) -> None:
    """The parent's access as a dated guardian membership given by hand, in place of the
    relationship's portal access (relationships from the district's systems carry no dates)."""
    GuardianRelationship.objects.filter(guardian=world.guardian).update(portal_access=False)
    RoleMembership.objects.create(
        user=world.parent, role=Role.GUARDIAN, student=world.student, **dates
    )


# role → (what grants it, the pages it applies to: None for all of the role's own pages)
GRANTING_ROWS: dict[str, list[tuple[str, Callable[..., None], Callable[[str], bool]]]] = {
    "teacher": [
        ("section assignment", _date_teacher_assignment, lambda name: True),
        # The student's enrollment: the pages that show that student.
        ("enrollment", _date_enrollment, lambda name: "student" in name.split(":")[-1]),
    ],
    "principal": [("membership", _date_membership(Role.PRINCIPAL), lambda name: True)],
    "district_staff": [("membership", _date_membership(Role.DISTRICT_STAFF), lambda name: True)],
    "guardian": [("guardian membership", _date_guardian_grant, lambda name: True)],
}


def _pages(role: str, world: World) -> list[tuple[str, object]]:
    pages: list[tuple[str, object]] = []
    for name, case in sorted(CASES.items()):
        if not case.needs_login or name == "home":
            continue
        # A page without an object depends on a grant unless everyone signed in may open it.
        if role in case.no_object_roles and "outsider" not in case.no_object_roles:
            pages.append((name, None))
        own = case.own(world)
        if role in own:
            pages.append((name, own[role]))
    return pages


def _answer(client, world: World, name: str, pk: object, expected: int) -> tuple[int, int]:
    """The page's status and the one expected: an action that only takes a POST is posted, and
    its own answer is the redirect back."""
    case = CASES[name]
    status = case.request(client, world, _url(name, pk)).status_code
    return status, (case.own_status if expected == 200 else expected)


TIME_CASES = [
    (role, label, index)
    for role, rows in GRANTING_ROWS.items()
    for index, (label, _, _) in enumerate(rows)
]


@pytest.mark.parametrize(("role", "row", "index"), TIME_CASES)
def test_a_grant_that_ended_yesterday_gives_404_today(
    client, world: World, role: str, row: str, index: int
) -> None:
    _, date_it, applies = GRANTING_ROWS[role][index]
    date_it(world, end_date=EDGE)
    user = world.users_by_role()[role]
    pages = [(name, pk) for name, pk in _pages(role, world) if applies(name)]
    assert pages, f"no pages for {role}"
    for day, expected in ((EDGE, 200), (EDGE + dt.timedelta(days=1), 404)):
        with _on(day):
            client.force_login(user)
            for name, pk in pages:
                status, expected_here = _answer(client, world, name, pk, expected)
                assert status == expected_here, f"{role}, {row} ending {EDGE}, on {day}: {name}"


@pytest.mark.parametrize(("role", "row", "index"), TIME_CASES)
def test_a_grant_that_begins_tomorrow_gives_404_today(
    client, world: World, role: str, row: str, index: int
) -> None:
    _, date_it, applies = GRANTING_ROWS[role][index]
    date_it(world, begin_date=EDGE)
    user = world.users_by_role()[role]
    pages = [(name, pk) for name, pk in _pages(role, world) if applies(name)]
    for day, expected in ((EDGE - dt.timedelta(days=1), 404), (EDGE, 200)):
        with _on(day):
            client.force_login(user)
            for name, pk in pages:
                status, expected_here = _answer(client, world, name, pk, expected)
                assert status == expected_here, f"{role}, {row} beginning {EDGE}, on {day}: {name}"


def test_an_as_of_date_never_shows_a_former_student(client, world: World) -> None:
    """A page's as-of date filters what it shows, not who may see it."""
    Enrollment.objects.filter(student=world.classmate, section=world.section).update(
        end_date=EDGE - dt.timedelta(days=1)
    )
    with _on(EDGE):
        client.force_login(world.teacher)
        url = _url("students:section_detail", world.section.pk)
        response = client.get(url, {"as_of": (EDGE - dt.timedelta(days=30)).isoformat()})
        assert response.status_code == 200
        assert world.student.last_name.encode() in response.content
        assert world.classmate.last_name.encode() not in response.content
        assert client.get(_url("students:student_detail", world.classmate.pk)).status_code == 404

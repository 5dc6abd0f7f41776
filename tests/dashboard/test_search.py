"""Student search (the top bar's): who finds whom, how names and numbers match, one query
whatever the roster, the access log, and a clear message for an empty, short or huge text."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import access
from accounts.models import Role
from accounts.services import derived_access_sync, role_grant
from privacy.models import AccessLogEntry
from students.models import Enrollment, Student, StudentSchoolMembership
from tests import factories
from tests.conftest import World

pytestmark = pytest.mark.django_db

SEARCH_URL = "/search/"


@pytest.fixture
def named(world: World) -> World:
    """The world with names a search can tell apart (factories' names are random)."""
    for student, first in (
        (world.classmate, "Zora"),
        (world.other_section_student, "Quincy"),
        (world.other_school_student, "Quentin"),
        (world.other_district_student, "Quinn"),
    ):
        student.first_name, student.last_name = first, "Quillfeather"
        student.save(update_fields=["first_name", "last_name"])
    world.student.preferred_first_name = "Addie"
    world.student.student_number = "LV-1815"
    world.student.save(update_fields=["preferred_first_name", "student_number"])
    return world


def _found(user, text: str) -> set[int]:
    return set(access.students_matching(user, text).values_list("pk", flat=True))


def _quillfeathers(w: World, role: str) -> set[Student]:
    return {
        "teacher": {w.classmate},
        "principal": {w.classmate, w.other_section_student},
        # District staff of both districts.
        "district_staff": {
            w.classmate,
            w.other_section_student,
            w.other_school_student,
            w.other_district_student,
        },
        "guardian": set(),
        "outsider": set(),
    }[role]


# --- The access module: who finds whom, and how text matches -------------------------------


@pytest.mark.parametrize("role", ["teacher", "principal", "district_staff", "guardian", "outsider"])
def test_each_role_finds_exactly_the_students_it_may_see(named: World, role: str) -> None:
    user = named.users_by_role()[role]
    expected = {s.pk for s in _quillfeathers(named, role)}
    assert _found(user, "quillfeather") == expected
    # Whatever a search finds, the access check agrees with.
    for pk in expected:
        access.student_for_user(user, pk)


def test_guardians_may_not_search_even_for_their_own_child(named: World) -> None:
    assert not access.may_search_students(named.parent)
    assert not access.may_search_students(named.outsider)
    assert access.may_search_students(named.teacher)
    assert _found(named.parent, "lovelace") == set()


@pytest.mark.parametrize(
    "text",
    [
        "ada",
        "ADA",
        "Lovelace",
        "love",
        "Ada Lovelace",
        "  ada   lovelace ",
        "Lovelace, Ada",
        "lovelace ada",
        "addie",  # the preferred name
        "Addie Love",
        "LV-1815",  # the student number, whole
        "lv-18",  # or its start
    ],
)
def test_names_and_numbers_match_ignoring_case(named: World, text: str) -> None:
    assert _found(named.teacher, text) == {named.student.pk}


@pytest.mark.parametrize(
    "text",
    [
        "Ada Quillfeather",  # every word must match
        "1815",  # a number matches from its start
        "a",  # too short
        "",
        "   ",
        "x" * 101,  # too long
        "%",  # LIKE's wildcards are matched as text
        "__",
    ],
)
def test_what_matches_nobody(named: World, text: str) -> None:
    assert _found(named.teacher, text) == set()


def test_a_student_no_longer_in_the_class_is_no_longer_found(named: World) -> None:
    Enrollment.objects.filter(student=named.classmate).update(is_active=False)
    StudentSchoolMembership.objects.filter(student=named.classmate).update(is_active=False)
    assert _found(named.teacher, "quillfeather") == set()
    named.other_section_student.is_active = False
    named.other_section_student.save(update_fields=["is_active"])
    # District staff reach the district's students whatever their classes, but not inactive ones.
    assert _found(named.district_staff, "quillfeather") == {
        named.classmate.pk,
        named.other_school_student.pk,
        named.other_district_student.pk,
    }


def _grow_class(w: World, count: int, last_name: str = "Quillfeather") -> None:
    for _ in range(count):
        student = factories.StudentFactory.create(district=w.district, last_name=last_name)
        Enrollment.objects.create(district=w.district, student=student, section=w.section)
        StudentSchoolMembership.objects.create(
            district=w.district, student=student, school=w.school, grade_level="04"
        )


@pytest.mark.parametrize("role", ["teacher", "principal", "district_staff"])
def test_the_search_is_one_query_whatever_the_roster(
    named: World, role: str, django_assert_num_queries
) -> None:
    from dashboard.selectors import student_search

    user = named.users_by_role()[role]
    access.viewer_for(user)  # the request's grants, read once per request anyway
    with django_assert_num_queries(1):
        small = student_search(user, "quillfeather")
    _grow_class(named, 40)
    with django_assert_num_queries(1):
        large = student_search(user, "quillfeather")
    assert len(large.found) == 25 and large.more
    assert not small.more
    found = {f.access.student.pk for f in small.found}
    assert found == {s.pk for s in _quillfeathers(named, role)}


# --- The page --------------------------------------------------------------------------------


def _search(client: Client, text: str):
    return client.get(SEARCH_URL, {"q": text})


def test_a_teacher_finds_their_student_with_school_grade_and_a_link(
    client: Client, named: World
) -> None:
    client.force_login(named.teacher)
    response = _search(client, "ada")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="/students/{named.student.pk}/"' in html
    # By the name they go by, with the legal first name beside it.
    assert 'Lovelace, Addie</a> <span class="meta">(Ada)</span>' in html and "LV-1815" in html
    assert "Maple Elementary" in html and "Grade 4" in html
    assert "no-store" in response["Cache-Control"]
    assert client.get(f"/students/{named.student.pk}/").status_code == 200


def test_a_teacher_does_not_find_another_class_or_school(client: Client, named: World) -> None:
    client.force_login(named.teacher)
    html = _search(client, "quillfeather").content.decode()
    assert f"/students/{named.classmate.pk}/" in html
    for other in (
        named.other_section_student,
        named.other_school_student,
        named.other_district_student,
    ):
        assert f"/students/{other.pk}/" not in html


@pytest.mark.parametrize("role", ["principal", "district_staff"])
def test_principals_and_district_staff_find_their_schools_students(
    client: Client, named: World, role: str
) -> None:
    client.force_login(named.users_by_role()[role])
    html = _search(client, "quillfeather").content.decode()
    expected = _quillfeathers(named, role)
    for student in (
        named.classmate,
        named.other_section_student,
        named.other_school_student,
        named.other_district_student,
    ):
        assert (f'href="/students/{student.pk}/"' in html) == (student in expected), student


@pytest.mark.parametrize("role", ["guardian", "outsider"])
def test_guardians_and_others_get_404(client: Client, named: World, role: str) -> None:
    client.force_login(named.users_by_role()[role])
    assert _search(client, "lovelace").status_code == 404
    assert client.get(SEARCH_URL).status_code == 404
    assert not AccessLogEntry.objects.filter(what="student search results").exists()


def test_anonymous_is_sent_to_sign_in(client: Client, named: World) -> None:
    response = _search(client, "ada")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", ["teacher", "principal", "district_staff"])
def test_the_access_log_holds_exactly_the_students_shown(
    client: Client, named: World, role: str
) -> None:
    user = named.users_by_role()[role]
    client.force_login(user)
    assert _search(client, "quillfeather").status_code == 200
    rows = list(AccessLogEntry.objects.filter(what="student search results"))
    assert {row.student_id for row in rows} == {s.pk for s in _quillfeathers(named, role)}
    assert len(rows) == len(_quillfeathers(named, role))
    reach = access.REACH[access.student_for_user(user, named.classmate.pk).basis]
    for row in rows:
        assert row.actor_user_id == user.pk and row.path == SEARCH_URL
        assert (row.role, row.purpose) == (reach.role, reach.purpose)


def test_each_student_is_logged_under_the_grant_that_reaches_them(
    client: Client, named: World
) -> None:
    # A teacher of Grade 4 Math who also leads Oak Elementary.
    role_grant(user=named.teacher, role=Role.PRINCIPAL, school=named.other_school)
    derived_access_sync()
    client.force_login(named.teacher)
    _search(client, "quillfeather")
    logged = {
        row.student_id: (row.role, row.purpose)
        for row in AccessLogEntry.objects.filter(what="student search results")
    }
    teacher = access.REACH[access.Basis.SECTION_TEACHER]
    principal = access.REACH[access.Basis.PRINCIPAL]
    assert logged == {
        named.classmate.pk: (teacher.role, teacher.purpose),
        named.other_school_student.pk: (principal.role, principal.purpose),
    }


def test_more_than_a_page_of_matches_asks_for_more_of_the_name(
    client: Client, named: World
) -> None:
    _grow_class(named, 30)
    client.force_login(named.teacher)
    response = _search(client, "quillfeather")
    html = response.content.decode()
    assert "The first 25 by last name: more students match" in html
    assert html.count('<th scope="row"><a href="/students/') == 25
    assert AccessLogEntry.objects.filter(what="student search results").count() == 25


# The page's queries: the session, the user, the user's grants, the search, one access-log
# INSERT, and the top bar's sections (the teacher's) — the same for 2 students or 42.
SEARCH_PAGE_QUERIES = 6


def test_the_page_costs_the_same_queries_for_a_small_and_a_large_class(
    client: Client, named: World, django_assert_num_queries
) -> None:
    client.force_login(named.teacher)
    with django_assert_num_queries(SEARCH_PAGE_QUERIES):
        small = _search(client, "quillfeather")
    _grow_class(named, 40)
    with django_assert_num_queries(SEARCH_PAGE_QUERIES):
        large = _search(client, "quillfeather")
    assert small.content.decode().count('<th scope="row"><a href') == 1
    assert large.content.decode().count('<th scope="row"><a href') == 25


@pytest.mark.parametrize(
    ("text", "status", "message"),
    [
        ("", 200, "Type a name or a student number in the search box"),
        ("   ", 200, "Type a name or a student number in the search box"),
        ("a", 400, "Type at least 2 characters of a name or student number."),
        ("x" * 101, 400, "Search for at most 100 characters"),
        ("x" * 5000, 400, "Search for at most 100 characters"),
        ("\x00\x00", 400, "Search for letters and digits"),
        ("zzzz", 200, "No student you may see matches “zzzz”"),
    ],
)
def test_empty_short_huge_and_unmatched_texts_get_a_clear_message(
    client: Client, named: World, text: str, status: int, message: str
) -> None:
    client.force_login(named.teacher)
    response = _search(client, text)
    assert response.status_code == status
    html = response.content.decode()
    assert message in html
    if status == 400:
        # The box says what is wrong with it.
        assert 'aria-invalid="true" aria-describedby="search-problem"' in html
        assert 'id="search-problem"' in html
    assert not AccessLogEntry.objects.exists()


def test_the_url_has_its_name(named: World) -> None:
    assert reverse("dashboard:search") == SEARCH_URL


def test_the_search_query_never_grows_with_the_district(client: Client, named: World) -> None:
    """District staff search a district of 2 students and then of 60: the same statements."""
    client.force_login(named.district_staff)
    _search(client, "quillfeather")

    def statements() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert _search(client, "quillfeather").status_code == 200
        return len(captured)

    small = statements()
    _grow_class(named, 60, last_name="Someone")
    assert statements() == small

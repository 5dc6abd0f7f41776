"""Who has seen my child's record (issue 20): every access-log row about the child for their
family, with who (name and role, or role only where the district chose that), when, which part
of the record and why; filtered by who and by date, bad filters a 400 that names them; paged by
keyset, a child with 50,000 rows in as many queries as a child with one."""

import datetime as dt
import html
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from portal.selectors_seen import PAGE_SIZE, Cursor
from privacy.models import AccessLogEntry
from privacy.services import student_log_key
from students.models import GuardianRelationship, Relationship, Student
from tests import factories
from tests.conftest import World

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def seen_url(student: Student) -> str:
    return reverse("portal:child_seen", kwargs={"pk": student.pk})


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def teacher_name(world: World) -> str:
    staff = world.teacher.staff_record
    assert staff is not None
    return staff.display_name


def entries(page: str) -> list[str]:
    """The page's entries, each as its text in one line."""
    found = re.findall(r'<li class="seen-entry[^"]*">(.*?)</li>', page, flags=re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", "", entry)).split()) for entry in found]


def whos(page: str) -> list[str]:
    """Who each entry names: "Name, Role", "Role" or "You, Role"."""
    found = re.findall(r'<span class="seen-who">(.*?)</span>', page, flags=re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", who)) for who in found]


def craft(student: Student, count: int, *, actor: User | None = None, start: dt.datetime = NOW):
    """`count` rows about the student, one a minute going back from `start`, by `actor`."""
    key = student_log_key(student.uuid)
    AccessLogEntry.objects.bulk_create(
        [
            AccessLogEntry(
                at=start - dt.timedelta(minutes=n),
                actor_user_id=actor.pk if actor else None,
                actor_label=actor.email if actor else "",
                actor_name=f"Reader {n}" if actor is None else (actor.full_name or actor.email),
                role="teacher",
                what="student record",
                purpose="Teaching the student's class",
                student_id=student.pk,
                student_key=key,
            )
            for n in range(count)
        ],
        batch_size=2000,
    )


# --- Who may open it.


def test_the_guardian_sees_their_child_and_nobody_else_does(world: World) -> None:
    assert as_user(world.parent).get(seen_url(world.student)).status_code == 200
    assert as_user(world.parent).get(seen_url(world.classmate)).status_code == 404
    # Staff who may see the child's profile do not see the family's page.
    for staff in (world.teacher, world.principal, world.district_staff, world.outsider):
        assert as_user(staff).get(seen_url(world.student)).status_code == 404, staff
    response = Client().get(seen_url(world.student))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_contact_restricted_guardian_sees_nothing(world: World) -> None:
    GuardianRelationship.objects.filter(guardian=world.guardian, student=world.student).update(
        portal_access=False, contact_restricted=True
    )
    assert as_user(world.parent).get(seen_url(world.student)).status_code == 404
    assert not AccessLogEntry.objects.exists()


# --- What it lists.


def test_a_teachers_view_appears_on_the_guardians_next_load(world: World) -> None:
    parent = as_user(world.parent)
    assert teacher_name(world) not in parent.get(seen_url(world.student)).content.decode()
    profile = reverse("students:student_detail", kwargs={"pk": world.student.pk})
    assert as_user(world.teacher).get(profile).status_code == 200
    shown = entries(parent.get(seen_url(world.student)).content.decode())
    teacher_rows = [entry for entry in shown if teacher_name(world) in entry]
    assert len(teacher_rows) == 1
    assert "Teacher" in teacher_rows[0]
    assert "Profile: record" in teacher_rows[0]
    assert "Why: Teaching your child's class" in teacher_rows[0]


def test_the_guardians_own_reads_are_theirs_shown_as_you_and_about_the_child_only(
    world: World,
) -> None:
    before = AccessLogEntry.objects.count()
    page = as_user(world.parent).get(seen_url(world.student)).content.decode()
    written = list(AccessLogEntry.objects.order_by("pk")[before:])
    assert written, "the page shows the child's name: its read is logged"
    assert {(row.actor_user_id, row.role, row.student_id) for row in written} == {
        (world.parent.pk, "guardian", world.student.pk)
    }
    assert {row.actor_name for row in written} == {world.guardian.display_name}
    # The load that is showing is already in the list, as the guardian's: "You".
    assert whos(page)[0] == "You, Parent or guardian"
    assert "Family portal: who has seen the record" in entries(page)[0]


def test_names_or_roles_only_as_the_district_chooses(world: World) -> None:
    craft(world.student, 1, actor=world.teacher)
    names = as_user(world.parent).get(seen_url(world.student)).content.decode()
    assert f"<strong>{teacher_name(world)}</strong>, Teacher" in names
    assert f'value="u{world.teacher.pk}"' in names

    world.district.access_log_names = "roles"
    world.district.save()
    response = as_user(world.parent).get(seen_url(world.student))
    roles = response.content.decode()
    assert teacher_name(world) not in roles
    assert world.teacher.email not in roles
    assert "<strong>Teacher</strong>" in roles
    assert "shows the role of each person who saw the record, not their name" in roles
    assert f'value="u{world.teacher.pk}"' not in roles
    # A person's value would tell one teacher's rows from another's: refused.
    refused = as_user(world.parent).get(seen_url(world.student), {"who": f"u{world.teacher.pk}"})
    assert refused.status_code == 400
    assert "Choose one of the people or roles in the list." in refused.content.decode()


def test_another_guardians_reads_show_their_role_never_their_name(world: World) -> None:
    stepdad = factories.GuardianFactory.create(district=world.district, first_name="Stepdad")
    GuardianRelationship.objects.create(
        district=world.district,
        guardian=stepdad,
        student=world.student,
        relationship=Relationship.OTHER,
        portal_access=True,
    )
    other = factories.UserFactory.create(guardian_record=stepdad, full_name="Stepdad Person")
    as_user(other).get(seen_url(world.student))
    page = as_user(world.parent).get(seen_url(world.student)).content.decode()
    assert "Stepdad" not in page
    assert f'value="u{other.pk}"' not in page
    assert sum("Parent or guardian" in entry and "You" not in entry for entry in entries(page))


def test_a_name_outlives_the_account_and_an_older_row_shows_its_email(world: World) -> None:
    craft(world.student, 1, actor=world.teacher)
    name, email = world.teacher.full_name, world.teacher.email
    User.objects.filter(pk=world.teacher.pk).delete()
    AccessLogEntry.objects.bulk_create(
        [
            AccessLogEntry(
                at=NOW - dt.timedelta(days=3),
                actor_user_id=world.principal.pk,
                actor_label=world.principal.email,
                role="principal",
                what="student record",
                student_id=world.student.pk,
                student_key="k",
            )
        ]
    )
    shown = entries(as_user(world.parent).get(seen_url(world.student)).content.decode())
    assert any(f"{name}, Teacher" in entry for entry in shown)
    assert any(f"{world.principal.email}, Principal" in entry for entry in shown)
    assert not any(email in entry for entry in shown)


def test_what_and_why_are_in_plain_words_and_unknown_ones_as_logged(world: World) -> None:
    AccessLogEntry.objects.bulk_create(
        [
            AccessLogEntry(
                at=NOW - dt.timedelta(minutes=n),
                actor_user_id=None,
                actor_label="",
                role=role,
                what=what,
                purpose=purpose,
                student_id=world.student.pk,
                student_key="k",
            )
            for n, (role, what, purpose) in enumerate(
                [
                    ("system", "OneRoster export", "District IT at the server (manage.py x)"),
                    ("admin", "admin: students list", "System administration in the Trellis admin"),
                    ("principal", "school report: students counted (absent)", "a new purpose"),
                    ("counselor", "a new page", ""),
                ]
            )
        ]
    )
    shown = entries(as_user(world.parent).get(seen_url(world.student)).content.decode())[1:]
    assert "District IT, on the server" in shown[0]
    assert "Export to another district system" in shown[0]
    assert "District IT work on the server" in shown[0]
    assert "Trellis administration pages" in shown[1]
    assert "Looking after the Trellis system" in shown[1]
    assert "School report: a list of students counted" in shown[2]
    assert "Why: a new purpose" in shown[2]
    assert "counselor" in shown[3] and "a new page" in shown[3] and "Why:" not in shown[3]


# --- Filters.


def test_the_who_filter_lists_who_appears_and_selects_their_rows(world: World) -> None:
    craft(world.student, 3, actor=world.teacher)
    craft(world.student, 2, actor=world.principal, start=NOW - dt.timedelta(hours=1))
    client = as_user(world.parent)
    page = client.get(seen_url(world.student)).content.decode()
    options = re.findall(r'<option value="([^"]*)"', page)
    assert options[:3] == ["", "others", "you"]
    assert set(options[3:]) == {f"u{world.teacher.pk}", f"u{world.principal.pk}"}
    assert f"{teacher_name(world)} (Teacher)" in page

    teacher_only = entries(
        client.get(seen_url(world.student), {"who": f"u{world.teacher.pk}"}).content.decode()
    )
    assert len(teacher_only) == 3 and all(teacher_name(world) in e for e in teacher_only)
    others = entries(client.get(seen_url(world.student), {"who": "others"}).content.decode())
    assert len(others) == 5 and not any("You" in entry for entry in others)
    mine = whos(client.get(seen_url(world.student), {"who": "you"}).content.decode())
    assert mine and set(mine) == {"You, Parent or guardian"}


def test_the_dates_filter_by_the_local_day(world: World) -> None:
    today = timezone.localdate()
    noon = timezone.make_aware(dt.datetime.combine(today, dt.time(12)))
    for days_ago in (0, 1, 2, 5):
        craft(world.student, 1, actor=world.teacher, start=noon - dt.timedelta(days=days_ago))
    client = as_user(world.parent)

    def days_shown(**query: str) -> list[str]:
        page = client.get(seen_url(world.student), {"who": "others", **query}).content.decode()
        return re.findall(r'<h3 class="seen-day-heading"><time datetime="([^"]+)"', page)

    day = lambda n: (today - dt.timedelta(days=n)).isoformat()  # noqa: E731
    assert days_shown() == [day(0), day(1), day(2), day(5)]
    assert days_shown(date_from=day(2), date_to=day(1)) == [day(1), day(2)]
    assert days_shown(date_from=day(1)) == [day(0), day(1)]
    assert days_shown(date_to=day(3)) == [day(5)]
    assert days_shown(date_to="9999-12-31") == [day(0), day(1), day(2), day(5)]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"date_from": "2026-02-30"}, "“From”: Enter a date, such as 2026-10-31."),
        ({"date_to": "0001-01-01"}, "“To”: Enter a date in 1900 or later."),
        (
            {"date_from": "2026-10-02", "date_to": "2026-10-01"},
            "“To”: Enter a date on or after “From”, or swap the two dates.",
        ),
        ({"who": "everyone!"}, "“Who”: Choose one of the people or roles in the list."),
        ({"who": "u999999"}, "“Who”: Choose one of the people or roles in the list."),
        ({"before": "yesterday"}, "This link to a page of the list is damaged"),
        ({"before": "9" * 30 + "-1"}, "This link to a page of the list is damaged"),
        ({"after": "1-0"}, "This link to a page of the list is damaged"),
        ({"before": "1-1", "after": "1-1"}, "older and newer rows at once"),
    ],
)
def test_a_bad_filter_is_a_400_that_names_it(world: World, query: dict, named: str) -> None:
    response = as_user(world.parent).get(seen_url(world.student), query)
    assert response.status_code == 400
    page = response.content.decode()
    assert named in html.unescape(page)
    assert not entries(page)


# --- Pages of a long log.


def test_a_child_with_50000_rows_pages_by_keyset_in_constant_queries(world: World) -> None:
    craft(world.classmate, 1)
    craft(world.student, 50_000)
    # The parent follows both: one child with one row, one with fifty thousand.
    GuardianRelationship.objects.create(
        district=world.district,
        guardian=world.guardian,
        student=world.classmate,
        relationship=Relationship.MOTHER,
        portal_access=True,
    )
    client = as_user(world.parent)

    def load(student: Student, query: dict | None = None) -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(seen_url(student), query or {"who": "others"})
        assert response.status_code == 200
        return len(captured), response.content.decode()

    small, _ = load(world.classmate)
    large, first = load(world.student)
    assert large == small
    newest = whos(first)
    assert newest == [f"Reader {n}, Teacher" for n in range(PAGE_SIZE)]
    assert entries(first)[0].endswith(
        "Saw: Profile: record (school, classes, programs, contacts) "
        "Why: Teaching your child's class"
    )
    older = re.search(r'<a href="\?([^"]+)" rel="next">', first)
    assert older is not None
    query = dict(pair.split("=", 1) for pair in older.group(1).replace("&amp;", "&").split("&"))
    assert query["who"] == "others"
    count, second = load(world.student, query)
    assert count == large
    assert whos(second) == [f"Reader {n}, Teacher" for n in range(PAGE_SIZE, 2 * PAGE_SIZE)]
    # And back: the newer link of page two is page one.
    newer = re.search(r'<a href="\?([^"]+)" rel="prev">', second)
    assert newer is not None
    back = dict(pair.split("=", 1) for pair in newer.group(1).replace("&amp;", "&").split("&"))
    _, again = load(world.student, back)
    assert whos(again) == newest


def test_the_oldest_page_has_no_older_link_and_rows_of_one_instant_page_by_id(
    world: World,
) -> None:
    key = student_log_key(world.student.uuid)
    AccessLogEntry.objects.bulk_create(
        [
            AccessLogEntry(
                at=NOW,
                actor_label="",
                actor_name=f"Same instant {n}",
                role="teacher",
                what="student record",
                student_id=world.student.pk,
                student_key=key,
            )
            for n in range(PAGE_SIZE + 5)
        ]
    )
    ids = list(
        AccessLogEntry.objects.filter(actor_name__startswith="Same")
        .order_by("-id")
        .values_list("id", flat=True)
    )
    client = as_user(world.parent)
    cursor = Cursor(at=NOW, id=ids[PAGE_SIZE - 1])
    rest = client.get(seen_url(world.student), {"who": "others", "before": cursor.token})
    shown = entries(rest.content.decode())
    assert len(shown) == 5
    assert 'rel="next"' not in rest.content.decode()
    assert 'rel="prev"' in rest.content.decode()


def test_the_seen_page_is_in_the_portals_navigation(world: World) -> None:
    page = as_user(world.parent).get(
        reverse("portal:child_grades", kwargs={"pk": world.student.pk})
    )
    assert f'href="{seen_url(world.student)}"' in page.content.decode()


def test_the_roles_in_the_choices_are_the_access_modules(world: World) -> None:
    from portal.selectors_seen import NAMED_ROLES, ROLE_WORDS

    assert {Role.TEACHER, Role.PRINCIPAL, Role.DISTRICT_STAFF} <= NAMED_ROLES
    assert Role.GUARDIAN not in NAMED_ROLES
    assert set(Role.values) <= set(ROLE_WORDS)


def test_who_appears_is_kept_between_loads_and_only_newer_rows_are_read_again(
    world: World,
) -> None:
    craft(world.student, 3, actor=world.teacher, start=NOW - dt.timedelta(days=2))
    client = as_user(world.parent)
    first = client.get(seen_url(world.student)).content.decode()
    assert f'value="u{world.teacher.pk}"' in first
    assert f'value="u{world.principal.pk}"' not in first
    craft(world.student, 1, actor=world.principal)  # just now: not yet counted in for good
    with CaptureQueriesContext(connection) as captured:
        second = client.get(seen_url(world.student)).content.decode()
    assert f'value="u{world.teacher.pk}"' in second
    assert f'value="u{world.principal.pk}"' in second
    grouped = [q["sql"] for q in captured.captured_queries if "GROUP BY" in q["sql"]]
    assert len(grouped) == 1
    # Only the rows after those already counted (two days old) are read again.
    assert '"privacy_accesslogentry"."at" >' in grouped[0]


LOGGING_CALLS = {"log_shown", "access_log_record", "child_page"}


def logged_whats() -> set[str]:
    """Every access-log `what` the product's code writes: each literal `what=` of a call (an
    f-string by its fixed start), each profile tab's, each `what = "..."`, and each string a
    function passed as `what` returns (in portal.views.record)."""
    import ast
    from pathlib import Path

    from dashboard.views.teacher.student import PROFILE_TABS

    root = Path(__file__).resolve().parents[2]
    found = {tab.what for tab in PROFILE_TABS.values()}
    for app in sorted(p.parent for p in root.glob("*/apps.py")):
        if app.name in {"demo"}:
            continue
        for path in app.rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                values: list[ast.expr] = []
                if isinstance(node, ast.Call):
                    called = getattr(node.func, "id", "") or getattr(node.func, "attr", "")
                    if called in LOGGING_CALLS:
                        values = [k.value for k in node.keywords if k.arg == "what"]
                    # The section pages' helpers take it by position.
                    if called == "_section_export" and len(node.args) > 2:
                        values.append(node.args[2])
                    if called == "_standard_view" and len(node.args) > 3:
                        values.append(node.args[3])
                elif isinstance(node, ast.Assign) and any(
                    getattr(t, "id", "") == "what" for t in node.targets
                ):
                    values = [node.value]
                elif isinstance(node, ast.FunctionDef) and node.name.endswith("_read"):
                    values = [
                        r.value for r in ast.walk(node) if isinstance(r, ast.Return) and r.value
                    ]
                for value in values:
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        found.add(value.value)
                    elif isinstance(value, ast.JoinedStr) and isinstance(
                        value.values[0], ast.Constant
                    ):
                        found.add(str(value.values[0].value))
    return found


def test_every_read_the_product_logs_has_words_for_families() -> None:
    from portal.selectors_seen import WHAT_PREFIX_WORDS, WHAT_WORDS

    whats = logged_whats()
    assert {"student record", "family portal: who has seen", "admin: "} <= whats
    missing = sorted(
        what
        for what in whats
        if what not in WHAT_WORDS and not any(what.startswith(p) for p, _ in WHAT_PREFIX_WORDS)
    )
    assert not missing, f"add words for families to portal.selectors_seen.WHAT_WORDS: {missing}"

"""The top bar per role (its sections, schools, district pages or children; search for those who
see rosters; the account menu), what it logs, and that no page offers a link its reader cannot
open: every link on each role's pages answers 200."""

import datetime as dt
import re
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.context_processors import TOP_BAR_SECTIONS
from assessments.engine import estimates_recompute
from assessments.services import ScoreInput, scores_record
from privacy.models import AccessLogEntry
from students.models import GuardianRelationship, Relationship, SectionAssignment
from tests import factories
from tests.conftest import World

pytestmark = pytest.mark.django_db


def _header(html: str) -> str:
    return html[html.index('<header class="site-header">') : html.index("</header>")]


def _home_header(client: Client, user) -> str:
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return _header(response.content.decode())


def test_a_teacher_sees_their_section_search_and_account_menu(client: Client, world: World) -> None:
    header = _home_header(client, world.teacher)
    assert f'href="/sections/{world.section.pk}/">Grade 4 Math</a>' in header
    assert f"/sections/{world.other_section.pk}/" not in header
    assert 'role="search"' in header and 'action="/search/"' in header
    assert '<label for="top-search"' in header
    assert "/imports/" not in header and "/schools/" not in header
    # The account menu: the name, two-factor, password, and signing out by POST with a token.
    assert world.teacher.get_full_name() in header
    assert 'href="/accounts/2fa/"' in header and 'href="/accounts/password/change/"' in header
    assert re.search(
        r'<form method="post" action="/accounts/logout/">\s*<input type="hidden" '
        r'name="csrfmiddlewaretoken"',
        header,
    )


def test_a_principal_sees_their_school(client: Client, world: World) -> None:
    header = _home_header(client, world.principal)
    assert f'href="/schools/{world.school.pk}/">Maple Elementary</a>' in header
    assert f"/schools/{world.other_school.pk}/" not in header
    assert 'role="search"' in header
    assert "/imports/" not in header and "/sections/" not in header


def test_district_staff_see_the_district_and_imports(client: Client, world: World) -> None:
    header = _home_header(client, world.district_staff)
    assert 'href="/#district-schools">District</a>' in header
    assert 'href="/imports/">Imports</a>' in header
    assert 'role="search"' in header


def test_a_guardian_sees_their_child_and_no_search(client: Client, world: World) -> None:
    # A guardian's home is the family portal; the bar of any other page names their child.
    client.force_login(world.parent)
    header = _header(client.get("/accounts/2fa/").content.decode())
    assert f'href="/family/children/{world.student.pk}/">Ada Lovelace</a>' in header
    assert f"/{world.classmate.pk}/" not in header
    assert 'role="search"' not in header and "/imports/" not in header


def test_someone_without_a_role_sees_only_the_account_menu(client: Client, world: World) -> None:
    header = _home_header(client, world.outsider)
    assert 'aria-label="Main"' not in header and 'role="search"' not in header
    assert "Sign out" in header


def test_the_page_shown_is_marked_current_in_the_bar(client: Client, world: World) -> None:
    client.force_login(world.principal)
    html = client.get(f"/schools/{world.school.pk}/").content.decode()
    assert f'href="/schools/{world.school.pk}/" aria-current="page">' in _header(html)


def test_many_sections_fold_into_a_menu_with_a_link_to_all(client: Client, world: World) -> None:
    staff = world.teacher.staff_record
    assert staff is not None
    for index in range(TOP_BAR_SECTIONS + 1):
        section = factories.SectionFactory.create(
            school=world.school, title=f"Extra {index:02d}", period=str(index + 2)
        )
        SectionAssignment.objects.create(district=world.district, staff=staff, section=section)
    header = _home_header(client, world.teacher)
    assert '<details class="nav-menu">' in header and "<summary>My sections</summary>" in header
    assert header.count('<li><a href="/sections/') == TOP_BAR_SECTIONS
    assert 'href="/#my-sections">All my sections</a>' in header


def test_a_guardians_bar_logs_the_children_it_names_once_per_response(
    client: Client, world: World
) -> None:
    # A second child, so the bar holds a menu of two.
    GuardianRelationship.objects.create(
        district=world.district,
        guardian=world.guardian,
        student=world.classmate,
        relationship=Relationship.MOTHER,
        portal_access=True,
    )
    client.force_login(world.parent)
    # The portal's list of children names both and logs each once; its bar names none (the
    # portal's child switcher logs the same way: tests/portal/test_child_pages.py).
    client.get("/family/")
    assert sorted(AccessLogEntry.objects.values_list("student_id", flat=True)) == sorted(
        [world.student.pk, world.classmate.pk]
    )
    bar_rows = AccessLogEntry.objects.filter(what="top bar: my children")
    assert not bar_rows.exists()
    # A page without students of its own (two-factor settings) logs the bar's two names.
    client.get("/accounts/2fa/")
    assert sorted(bar_rows.values_list("student_id", flat=True)) == sorted(
        [world.student.pk, world.classmate.pk]
    )
    assert {row.role for row in bar_rows} == {"guardian"} and all(row.purpose for row in bar_rows)


def test_a_profile_tab_fetched_alone_costs_no_top_bar(client: Client, world: World) -> None:
    client.force_login(world.parent)
    url = reverse("dashboard:student_profile_tab", kwargs={"pk": world.student.pk, "tab": "grades"})
    assert client.get(url).status_code == 200
    assert not AccessLogEntry.objects.filter(what="top bar: my children").exists()


# --- Every link on each role's pages opens -----------------------------------------------------


class _Hrefs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def _links(page_url: str, html: str) -> set[str]:
    """The page's links to our own pages (not static files), as paths with their queries."""
    parser = _Hrefs()
    parser.feed(html)
    links = set()
    for href in parser.hrefs:
        url = urlsplit(urljoin(f"http://testserver{page_url}", href))
        if url.netloc != "testserver" or url.path.startswith("/static/"):
            continue
        links.add(url.path + (f"?{url.query}" if url.query else ""))
    return links


def _pages(w: World) -> dict[str, list[str]]:
    section = f"/sections/{w.section.pk}/"
    student = f"/students/{w.student.pk}/"
    profile = [student, f"{student}?tab=assessments", f"{student}?tab=attendance"]
    school = f"/schools/{w.school.pk}/"
    section_pages = [
        section,
        f"{section}standards/{w.standard.pk}/",
        f"{section}students/{w.student.pk}/standards/{w.standard.pk}/",
        f"{section}assessments/",
    ]
    search = "/search/?q=lovelace"
    return {
        "teacher": ["/", *section_pages, f"{section}assessments/{w.assessment.pk}/scores/"]
        + [*profile, search],
        "principal": ["/", school, f"{school}substitutes/", *section_pages, *profile, search],
        "district_staff": ["/", school, "/imports/", *section_pages, *profile, search],
        # A guardian's pages are the family portal's (home and the profile send them there).
        "guardian": [
            "/family/",
            *(
                f"/family/children/{w.student.pk}/{tab}"
                for tab in ("", "grades/", "attendance/", "teachers/")
            ),
        ],
    }


def _scored(w: World) -> None:
    """Scores for the section, so its pages show levels, their links and their downloads."""
    inputs = [
        ScoreInput(
            student_id=student.pk,
            assessment_id=w.assessment.pk,
            points=Decimal(points),
            status="scored",
            scored_on=timezone.localdate() - dt.timedelta(days=2),
        )
        for student, points in ((w.student, "9"), (w.classmate, "4"))
    ]
    estimates_recompute(scores_record(scores=inputs, enqueue=False).estimate_ids)


@pytest.mark.parametrize("role", ["teacher", "principal", "district_staff", "guardian"])
def test_every_link_on_a_roles_pages_opens_for_that_role(
    client: Client, world: World, role: str
) -> None:
    _scored(world)
    client.force_login(world.users_by_role()[role])
    links: dict[str, str] = {}
    for page in _pages(world)[role]:
        response = client.get(page)
        assert response.status_code == 200, (role, page)
        for link in _links(page, response.content.decode()):
            links.setdefault(link, page)
    assert len(links) > 10 or role == "guardian", (role, sorted(links))
    broken = {}
    for link, page in sorted(links.items()):
        # Followed through redirects (a guardian's home is the family portal), never to sign-in.
        response = client.get(link, follow=True)
        landed = response.redirect_chain[-1][0] if response.redirect_chain else link
        if response.status_code != 200 or landed.startswith("/accounts/login/"):
            broken[link] = f"{response.status_code} at {landed} (linked from {page})"
    assert not broken, f"{role} is offered links it cannot open: {broken}"


def test_a_refused_page_names_no_child_and_logs_nothing(client: Client, world: World) -> None:
    client.force_login(world.parent)
    response = client.get(f"/students/{world.classmate.pk}/")
    assert response.status_code == 404
    header = _header(response.content.decode())
    assert 'href="/">My children</a>' in header and "Ada Lovelace" not in header
    assert not AccessLogEntry.objects.exists()

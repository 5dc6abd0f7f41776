"""Odd values never reach a server error. Every page's GET parameters and form fields are kept in
a hand-kept list (PARAMETERS); one test fails when a view reads a parameter the list lacks, and a
property-based test (hypothesis) gives each of them odd values: empty, huge, NaN, far dates,
impossible dates, unicode, control characters, SQL and HTML fragments. No answer may be a 5xx."""

import fnmatch
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.http import QueryDict
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import World
from tests.test_url_permissions import (
    CASES,
    _lesson_media,  # noqa: F401 - autouse: plan files in tmp
    _url,
    users_by_role,
)

pytestmark = pytest.mark.django_db

# url name → (GET parameters, POST fields) its view reads. A name ending in * stands for a family
# of fields the view names by row ("score-<student>-<item>").
FILTERS = {"subject", "cluster", "kind", "date_from", "as_of", "students", "standards"}
PARAMETERS: dict[str, tuple[set[str], set[str]]] = {
    "home": (set(), set()),
    "students:section_detail": (FILTERS, set()),
    "students:student_detail": ({"tab"}, set()),
    "students:school_detail": (
        {"month", "as_of", "term", "subject", "grade", "format", "table"},
        set(),
    ),
    "dashboard:district_schools": (
        {"month", "as_of", "term", "subject", "grade", "format", "table", "sort"},
        set(),
    ),
    "dashboard:school_counted_students": (
        {
            "month",
            "as_of",
            "term",
            "subject",
            "grade",
            "format",
            "table",
            "standard",
            "proficient",
            "measure",
            "subgroup",
            "absent",
        },
        set(),
    ),
    "students:school_substitutes": (
        set(),
        {"action", "membership", "section", "email", "begin_date", "end_date", "reason"},
    ),
    "assessments:section_assessments": (
        set(),
        {"title", "kind", "purpose", "due_on", "max_points", "standards"},
    ),
    "assessments:score_grid": (set(), {"score-*", "status-*"}),
    # The file field's widget also reads its "clear" checkbox.
    "interop:import_upload": (set(), {"district", "format", "upload", "upload-clear", "dry_run"}),
    "interop:import_run": (set(), set()),
    "interop:import_run_status": (set(), set()),
    "invitation_accept": (set(), {"password1", "password2"}),
    "invitation_redeem": (set(), {"code", "email", "password1", "password2"}),
    "students:school_invitations": ({"state", "page"}, {"action", "guardian", "email", "language"}),
    "portal:preferences": (
        set(),
        {
            "language",
            "same_day_absences",
            "digest",
            "level_threshold",
            "contact_method",
            "contact_time",
        },
    ),
    "portal:unsubscribe": (set(), set()),
    # Django's set_language reads "next" from the form or the address.
    "set_language": ({"next"}, {"language", "next"}),
    "mfa_enrolment_accept": (set(), {"password1", "password2"}),
    "mfa_enrolment_needed": (set(), set()),
    "dashboard:search": ({"q"}, set()),
    "dashboard:section_csv": (FILTERS, set()),
    "dashboard:section_distribution_csv": (FILTERS, set()),
    "dashboard:section_changes": ({"since"}, set()),
    "dashboard:standard_detail": ({"level"}, set()),
    "dashboard:standard_csv": (set(), set()),
    "dashboard:student_standard": (set(), {"action", "note", "level", "clear_on_new_score"}),
    "dashboard:student_standard_csv": (set(), set()),
    "dashboard:student_mastery_csv": (set(), set()),
    "dashboard:student_profile_tab": (set(), set()),
    "portal:children": (set(), set()),
    "portal:child_progress": (set(), set()),
    "portal:child_grades": (set(), set()),
    "portal:child_attendance": (set(), set()),
    "portal:child_teachers": (set(), set()),
    "portal:child_seen": ({"who", "date_from", "date_to", "before", "after"}, set()),
    # Families' rights (issue 21): the notice's button, the child's forms.
    "portal:rights_notice": (set(), {"notice"}),
    "portal:child_rights": (set(), set()),
    "portal:child_rights_directory": (set(), {"choice"}),
    "portal:child_rights_consent": (set(), {"password"}),
    "portal:child_rights_revoke": (set(), {"confirm"}),
    "portal:child_rights_inspection": (set(), {"note"}),
    "portal:child_rights_download": (set(), set()),
    "portal:child_rights_amendment": (
        set(),
        {"category", "record_label", "contested_value", "proposed_value", "reason"},
    ),
    "portal:child_rights_statement": (set(), {"statement"}),
    "dashboard:section_release_levels": (set(), set()),
    # The privacy office (issue 21); ?district= picks among the districts an officer holds.
    "dashboard:privacy_overview": ({"district"}, set()),
    "dashboard:privacy_requests": ({"district"}, set()),
    "dashboard:privacy_inspection": (set(), {"action"}),
    "dashboard:privacy_amendment": (set(), {"decision", "decision_reason", "hearing_notice"}),
    "dashboard:privacy_consents": ({"district"}, set()),
    "dashboard:privacy_consent_new": (
        {"district"},
        {
            "recipient",
            "new_recipient_name",
            "new_recipient_kind",
            "new_recipient_contact",
            "purpose",
            "categories",
            "records_description",
            "scope",
            "students",
            "school",
            "expires_on",
        },
    ),
    "dashboard:privacy_consent": (set(), {"action", "consent"}),
    "dashboard:privacy_disclosures": (
        {"district", "student", "date_from", "date_to", "page"},
        set(),
    ),
    "dashboard:privacy_disclosure_new": (
        {"district", "consent_request"},
        {
            "recipient",
            "basis",
            "consent_request",
            "students",
            "categories",
            "directory_items",
            "description",
            "purpose",
            "reference",
        },
    ),
    "dashboard:privacy_notices": ({"district"}, set()),
    "dashboard:privacy_notice_new": (
        {"district"},
        {"action", "school_year", "title", "body", "directory_information", "opt_out_by"},
    ),
    "dashboard:privacy_notice": (
        {"page"},
        {"action", "school_year", "title", "body", "directory_information", "opt_out_by"},
    ),
    "dashboard:privacy_student_export_json": (set(), set()),
    "dashboard:privacy_student_export_csv": (set(), set()),
    # Lesson plan calendars (issue 22): which view, and a day in the week or month shown.
    "lessons:section_calendar": ({"view", "day"}, set()),
    "lessons:teacher_calendar": ({"view", "day"}, set()),
    # The plan's page and its actions (issue 22): POST only, but the page and its moves.
    "lessons:plan_detail": (set(), set()),
    "lessons:plan_moves": (set(), set()),
    "lessons:plan_groups_build": (set(), {"standard"}),
    "lessons:plan_group_move": (set(), {"student", "to_group"}),
    "lessons:plan_group_add": (set(), {"name", "add_standard"}),
    "lessons:plan_group_edit": (set(), {"name", "activities"}),
    "lessons:plan_groups_lock": (set(), {"action"}),
    "lessons:plan_moves_accept": (set(), {"action", "move"}),
    "lessons:plan_exit_ticket": (set(), {"action", "assessment", "title", "max_points"}),
    # The plan pages (issue 22): a link to the new-plan form chooses the day and standards.
    "lessons:plan_new": (
        {"day", "standard"},
        {"first_day", "last_day", "standards", "objective", "notes"},
    ),
    "lessons:plan_edit": (set(), {"first_day", "last_day", "standards", "objective", "notes"}),
    "lessons:plan_print": (set(), set()),
    "lessons:plan_copy": (set(), {"section", "day"}),
    "lessons:plan_delete": (set(), set()),
    "lessons:plan_taught": (set(), {"taught"}),
    "lessons:plan_save_template": (set(), {"name"}),
    "lessons:plan_templates": (set(), set()),
    "lessons:plan_from_template": ({"section", "day"}, {"section", "day"}),
    "lessons:plan_materials": (set(), {"kind", "url", "title", "file"}),
    "lessons:plan_material": (set(), set()),
    "lessons:plan_material_remove": (set(), set()),
}
# Pages that take a POST (the others answer 405 to one, which is not a server error either).
POSTS = {name for name, (_, fields) in PARAMETERS.items() if fields}
# Read by Django itself on every POST, never by a view.
FRAMEWORK_FIELDS = {"csrfmiddlewaretoken"}

ODD = [
    "",
    " ",
    "0",
    "-1",
    "1e999",
    "NaN",
    "-Infinity",
    "9" * 400,
    "0001-01-01",
    "9999-12-31",
    "2024-02-30",
    "2024-02-30T00:00",
    "0001-01-01T00:00:00",
    "9999-12-31T23:59:59",
    "é漢字🙂",
    "\x00",
    "\r\n",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "x" * 5000,
]
odd_values = st.one_of(st.sampled_from(ODD), st.text(max_size=40))


def _target(name: str, world: World) -> tuple[str, str | None]:
    """A role that may open the page and its URL (a made-up token for the public links)."""
    if name in {"invitation_accept", "mfa_enrolment_accept", "portal:unsubscribe"}:
        from django.urls import reverse

        return reverse(name, kwargs={"token": "not-a-token"}), None
    if name == "set_language":
        return _url(name), None
    case = CASES[name]
    own = case.own(world)
    if own:
        role, pk = next(iter(own.items()))
        return _url(name, pk), role
    return _url(name), case.no_object_roles[0]


def _client_for(role: str | None, world: World) -> Client:
    client = Client(raise_request_exception=False)
    if role is not None:
        client.force_login(users_by_role(world)[role])
    return client


@contextmanager
def reads_recorded() -> Iterator[set[str]]:
    """Every key any QueryDict (a request's GET or POST) is asked for, while inside."""
    read: set[str] = set()
    originals = {
        name: getattr(QueryDict, name) for name in ("get", "getlist", "__getitem__", "__contains__")
    }

    def recording(name: str) -> Any:
        original = originals[name]

        def method(self: QueryDict, key: object, *args: Any, **kwargs: Any) -> Any:
            read.add(str(key))
            return original(self, key, *args, **kwargs)

        return method

    for name in originals:
        setattr(QueryDict, name, recording(name))
    try:
        yield read
    finally:
        for name, original in originals.items():
            setattr(QueryDict, name, original)


def test_every_page_has_its_parameters_listed() -> None:
    assert set(PARAMETERS) == set(CASES), "list the new page's parameters in PARAMETERS"


@pytest.mark.parametrize("name", sorted(PARAMETERS))
def test_no_view_reads_a_parameter_the_list_lacks(world: World, name: str) -> None:
    url, role = _target(name, world)
    client = _client_for(role, world)
    params, fields = PARAMETERS[name]
    with reads_recorded() as read:
        client.get(url)
        if name in POSTS:
            client.post(url, {})
        if name == "assessments:score_grid":
            # The grid's row fields are read by the names that are posted.
            client.post(url, {"score-1-0": "1", "status-1": "scored"})
    listed = params | fields | FRAMEWORK_FIELDS
    unlisted = {key for key in read if not any(fnmatch.fnmatch(key, p) for p in listed)}
    assert not unlisted, f"{name} reads {sorted(unlisted)}: add them to PARAMETERS"


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
@given(data=st.data())
def test_odd_values_never_reach_a_server_error(world: World, data: st.DataObject) -> None:
    for name in sorted(PARAMETERS):
        url, role = _target(name, world)
        client = _client_for(role, world)
        params, fields = PARAMETERS[name]
        if params:
            query = data.draw(st.dictionaries(st.sampled_from(sorted(params)), odd_values))
            response = client.get(url, query)
            assert response.status_code < 500, (name, query)
        if fields:
            names = sorted(f.replace("*", "1-0") for f in fields)
            form = data.draw(st.dictionaries(st.sampled_from(names), odd_values))
            response = client.post(url, form)
            assert response.status_code < 500, (name, form)


@pytest.mark.parametrize(
    ("name", "query", "named"),
    [
        (
            "students:section_detail",
            {"as_of": "0001-01-01"},
            "“Levels as of” must be 1900 or later",
        ),
        ("students:section_detail", {"date_from": "0001-01-01"}, "“Measured from” must be 1900"),
        ("dashboard:section_csv", {"as_of": "0001-01-01"}, "as_of: “Levels as of” must be 1900"),
        ("dashboard:section_changes", {"since": "0001-01-01T00:00:00"}, "since="),
        ("dashboard:section_changes", {"since": "2024-02-30T00:00"}, "since="),
        ("dashboard:search", {"q": "x"}, "Type at least 2 characters"),
        ("dashboard:search", {"q": "x" * 5000}, "Search for at most 100 characters"),
        ("portal:child_seen", {"date_from": "0001-01-01"}, "Enter a date in 1900 or later"),
        ("portal:child_seen", {"before": "9" * 40}, "This link to a page of the list is damaged"),
        ("lessons:section_calendar", {"day": "2024-02-30"}, "day: '2024-02-30' is not a date"),
        ("lessons:section_calendar", {"view": "xyz"}, "view: 'xyz' is not one of week, month"),
        ("lessons:teacher_calendar", {"day": "\x00"}, "day: '\\x00' is not a date"),
        ("lessons:teacher_calendar", {"view": "\x00"}, "view: "),
        ("lessons:plan_new", {"day": "2024-02-30"}, "day: Enter a real date (YYYY-MM-DD)."),
        ("lessons:plan_new", {"day": "0001-01-01"}, "day: Enter a day in 1900 or later."),
        ("lessons:plan_new", {"standard": "abc"}, "standard: “abc” is not the id of a standard"),
        ("lessons:plan_new", {"standard": "9" * 400}, "standard: “99999999999999999999…”"),
    ],
)
def test_the_odd_values_found_answer_400_naming_the_parameter(
    world: World, name: str, query: dict[str, str], named: str
) -> None:
    url, role = _target(name, world)
    response = _client_for(role, world).get(url, query)
    assert response.status_code == 400
    assert named in response.content.decode()


def test_a_nan_score_is_refused_with_a_message(world: World) -> None:
    from assessments.models import Score

    url, role = _target("assessments:score_grid", world)
    field = f"score-{world.student.pk}-0"
    response = _client_for(role, world).post(url, {field: "NaN"})
    assert response.status_code == 400
    assert "Enter a number from 0 to" in response.content.decode()
    assert not Score.objects.exists()


@pytest.mark.parametrize(
    ("name", "form", "named"),
    [
        ("lessons:plan_groups_build", {"standard": "1e999"}, "Choose one of the plan's standards"),
        ("lessons:plan_group_move", {"student": "\x00", "to_group": "1"}, "not in this section"),
        ("lessons:plan_group_add", {"name": "x" * 5000}, "Name the new group"),
        ("lessons:plan_group_add", {"add_standard": "-1"}, "No such standard to add"),
        ("lessons:plan_group_edit", {"name": " "}, "A group's name is 1 to 120"),
        ("lessons:plan_groups_lock", {"action": "<script>"}, "Choose to lock or to unlock"),
        ("lessons:plan_moves_accept", {"move": ""}, "0 moves made"),
        (
            "lessons:plan_exit_ticket",
            {"action": "create", "title": "T", "max_points": "NaN"},
            "Max points is a number",
        ),
    ],
)
def test_the_planners_odd_values_answer_400_naming_the_problem(
    world: World, name: str, form: dict[str, str], named: str
) -> None:
    import html

    url, role = _target(name, world)
    response = _client_for(role, world).post(url, form, follow=name.endswith("accept"))
    assert response.status_code == (200 if name.endswith("accept") else 400)
    assert named in html.unescape(response.content.decode())


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("lessons:plan_new", {"pk": 999_999}),
        ("lessons:plan_edit", {"pk": 999_999}),
        ("lessons:plan_print", {"pk": 2**40}),
        ("lessons:plan_from_template", {"pk": 999_999}),
        ("lessons:plan_material", {"pk": 999_999, "material_id": 1}),
        ("lessons:plan_material_remove", {"pk": 999_999, "material_id": 1}),
        ("lessons:plan_copy", {"pk": 999_999}),
        ("lessons:plan_materials", {"pk": 999_999}),
    ],
)
def test_plan_pages_answer_404_for_ids_that_do_not_exist(
    world: World, name: str, kwargs: dict[str, int]
) -> None:
    from django.urls import reverse

    client = _client_for("teacher", world)
    assert client.get(reverse(name, kwargs=kwargs)).status_code == 404
    if name in POSTS:
        assert client.post(reverse(name, kwargs=kwargs), {}).status_code == 404


def test_a_plan_material_id_that_does_not_exist_is_404(world: World) -> None:
    from django.urls import reverse

    from tests.test_url_permissions import world_plan

    client = _client_for("teacher", world)
    plan = world_plan(world)
    url = reverse("lessons:plan_material", kwargs={"pk": plan.pk, "material_id": 2**40})
    assert client.get(url).status_code == 404

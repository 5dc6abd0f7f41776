"""The access module: scopes that fit roles, edits that count at the next request, dated
exceptions, why a user may see a student, and one way to log a read."""

import datetime as dt
import io
import json

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts import access
from accounts.models import MembershipSource, Role, RoleMembership, User
from accounts.services import GrantRefused, derived_access_sync, role_grant, substitute_grant
from privacy.models import AccessLogEntry
from students.models import GuardianRelationship, SectionAssignment
from tests import factories
from tests.conftest import PASSWORD, World
from tests.test_url_permissions import CASES, _url

pytestmark = pytest.mark.django_db


# --- Scopes fit roles


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        (Role.PRINCIPAL, "district"),
        (Role.PRINCIPAL, "section"),
        (Role.DISTRICT_STAFF, "school"),
        (Role.TEACHER, "district"),
        (Role.TEACHER, "student"),
        (Role.GUARDIAN, "section"),
    ],
)
def test_a_scope_that_does_not_fit_the_role_is_refused(world: World, role: str, scope: str) -> None:
    target = {
        "district": world.district,
        "school": world.school,
        "section": world.section,
        "student": world.student,
    }[scope]
    membership = RoleMembership(user=world.outsider, role=role, **{scope: target})
    with pytest.raises(ValidationError, match="needs exactly one"):
        membership.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        membership.save()


def test_a_principal_scoped_to_a_district_cannot_open_the_school_with_its_id(
    client, world: World
) -> None:
    """The type confusion the constraint closes: district and school ids overlap."""
    with pytest.raises(ValidationError):
        role_grant(user=world.outsider, role=Role.PRINCIPAL, district=world.district)
    client.force_login(world.outsider)
    assert client.get(_url("students:school_detail", world.district.pk)).status_code == 404


def test_the_admin_form_says_why_a_scope_is_refused(client, world: World) -> None:
    admin = User.objects.create_superuser("root@example.test", PASSWORD)
    client.force_login(admin)
    url = reverse("admin:accounts_user_change", args=[world.outsider.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = {
        "email": world.outsider.email,
        "full_name": world.outsider.full_name,
        "is_active": "on",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-role": Role.PRINCIPAL,
        "memberships-0-district": str(world.district.pk),
        "memberships-0-source": MembershipSource.MANUAL,
        "memberships-0-reason": "",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert b"needs exactly one school scope, not district" in response.content
    assert not RoleMembership.objects.filter(user=world.outsider).exists()


def test_a_principal_of_another_districts_school_gets_404(client, world: World) -> None:
    far_school = factories.SchoolFactory.create(
        district=world.other_district, name="Far Elementary"
    )
    far_principal = factories.UserFactory.create()
    role_grant(user=far_principal, role=Role.PRINCIPAL, school=far_school)
    client.force_login(far_principal)
    assert client.get(_url("students:school_detail", far_school.pk)).status_code == 200
    for name, pk in (
        ("students:school_detail", world.school.pk),
        ("students:student_detail", world.student.pk),
        ("students:section_detail", world.section.pk),
    ):
        assert client.get(_url(name, pk)).status_code == 404, name


# --- Edits count from the next request


def _admin_client(client, world: World):
    admin = User.objects.create_superuser("root@example.test", PASSWORD)
    client.force_login(admin)
    return client


def test_a_parent_whose_portal_access_is_removed_in_the_admin_gets_404(
    client, world: World
) -> None:
    from django.test import Client

    parent_client = Client()
    parent_client.force_login(world.parent)
    # A guardian reads their child's record in the family portal.
    student_url = reverse("portal:child_progress", kwargs={"pk": world.student.pk})
    assert parent_client.get(student_url).status_code == 200

    relationship = GuardianRelationship.objects.get(guardian=world.guardian, student=world.student)
    admin = _admin_client(client, world)
    url = reverse("admin:students_guardianrelationship_change", args=[relationship.pk])
    form = admin.get(url).context["adminform"].form
    data = {
        name: ("" if value is None else value)
        for name, value in form.initial.items()
        if name in form.fields
    }
    for name in ("guardian", "student", "district"):
        data[name] = getattr(relationship, f"{name}_id")
    booleans = [n for n, f in form.fields.items() if f.__class__.__name__ == "BooleanField"]
    data = {k: v for k, v in data.items() if k not in booleans}
    data.update({n: "on" for n in booleans if getattr(relationship, n) and n != "portal_access"})
    with_commit = admin.post(url, data)
    assert with_commit.status_code == 302, with_commit.content[:2000]
    relationship.refresh_from_db()
    assert not relationship.portal_access

    assert parent_client.get(student_url).status_code in (302, 404)
    # Signed out, since that was their only grant; signed in again, the child is gone.
    parent_client.force_login(User.objects.get(pk=world.parent.pk))
    assert parent_client.get(student_url).status_code == 404


def test_a_deactivated_users_session_stops_working(client, world: World) -> None:
    client.force_login(world.teacher)
    url = _url("students:student_detail", world.student.pk)
    assert client.get(url).status_code == 200
    User.objects.filter(pk=world.teacher.pk).update(is_active=False)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_user_whose_last_grant_ends_is_signed_out(client, world: World) -> None:
    client.force_login(world.principal)
    url = _url("students:school_detail", world.school.pk)
    assert client.get(url).status_code == 200
    RoleMembership.objects.filter(user=world.principal).update(
        end_date=timezone.localdate() - dt.timedelta(days=1)
    )
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session
    # A user who never had a grant keeps their session: they simply see nothing.
    client.force_login(world.outsider)
    assert client.get(reverse("home")).status_code == 200


# --- Dated exceptions


def test_a_substitutes_access_opens_and_closes_on_its_dates(client, world: World) -> None:
    substitute = factories.UserFactory.create(full_name="Sam Substitute")
    begin, end = dt.date(2027, 2, 1), dt.date(2027, 2, 14)
    membership = substitute_grant(
        acting_user=world.principal,
        substitute=substitute,
        section=world.section,
        begin_date=begin,
        end_date=end,
        reason="Covering while Ms Teacher is away",
    )
    assert membership.granted_by == world.principal and membership.reason.startswith("Covering")
    pages = [
        _url("students:section_detail", world.section.pk),
        _url("students:student_detail", world.student.pk),
    ]
    for day, expected in (
        (begin - dt.timedelta(days=1), 404),
        (begin, 200),
        (end, 200),
        (end + dt.timedelta(days=1), 404),
    ):
        with time_machine.travel(dt.datetime.combine(day, dt.time(9)), tick=False):
            client.force_login(User.objects.get(pk=substitute.pk))
            for url in pages:
                assert client.get(url).status_code == expected, (day, url)
            # Never another section of the school.
            other = _url("students:section_detail", world.other_section.pk)
            assert client.get(other).status_code == 404
    with time_machine.travel(dt.datetime.combine(begin, dt.time(9)), tick=False):
        sub = User.objects.get(pk=substitute.pk)
        [explanation] = access.explain(sub, world.student)
        assert explanation.basis == access.Basis.SUBSTITUTE
        assert (explanation.begin, explanation.end) == (begin, end)


def test_only_the_principal_or_district_staff_give_a_substitute_access(world: World) -> None:
    substitute = factories.UserFactory.create()
    for refused in (world.teacher, world.other_principal, world.parent, world.outsider):
        with pytest.raises(GrantRefused):
            substitute_grant(
                acting_user=refused,
                substitute=substitute,
                section=world.section,
                begin_date=dt.date(2027, 2, 1),
                end_date=dt.date(2027, 2, 14),
            )
    membership = substitute_grant(
        acting_user=world.district_staff,
        substitute=substitute,
        section=world.section,
        begin_date=dt.date(2027, 2, 1),
        end_date=dt.date(2027, 2, 14),
    )
    assert membership.granted_by == world.district_staff
    with pytest.raises(ValidationError, match="end on or after"):
        substitute_grant(
            acting_user=world.district_staff,
            substitute=substitute,
            section=world.section,
            begin_date=dt.date(2027, 2, 14),
            end_date=dt.date(2027, 2, 1),
        )


# --- Why can X see Y


def _explain_json(user: User, student_id: int) -> dict:
    out = io.StringIO()
    call_command("explain_access", user.email, str(student_id), "--json", stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_explain_access_names_the_basis_of_each_role(world: World) -> None:
    expected = {
        "teacher": ["section_teacher"],
        "principal": ["principal"],
        "district_staff": ["district_staff"],
        "guardian": ["guardian"],
        "outsider": [],
    }
    for role, user in world.users_by_role().items():
        answer = _explain_json(user, world.student.pk)
        assert [b["basis"] for b in answer["bases"]] == expected[role], role
        assert answer["may_see"] is bool(expected[role])
        for basis in answer["bases"]:
            assert basis["purpose"] == access.REACH[access.Basis(basis["basis"])].purpose
    # Someone else's child: no basis.
    assert _explain_json(world.parent, world.classmate.pk)["bases"] == []
    # Every basis at once, with its rows.
    role_grant(user=world.teacher, role=Role.PRINCIPAL, school=world.school)
    bases = _explain_json(world.teacher, world.student.pk)["bases"]
    assert [b["basis"] for b in bases] == ["section_teacher", "principal"]
    assert "section assignment" in bases[0]["via"] and "Grade 4 Math" in bases[0]["via"]


def test_explain_access_in_words_and_its_errors(world: World) -> None:
    out = io.StringIO()
    call_command("explain_access", world.outsider.email, str(world.student.pk), stdout=out)
    assert "may not see" in out.getvalue() and "no basis grants it" in out.getvalue()
    out = io.StringIO()
    call_command("explain_access", str(world.teacher.pk), str(world.student.pk), stdout=out)
    assert "Teacher of the student's class" in out.getvalue()
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No user"):
        call_command("explain_access", "nobody@example.test", str(world.student.pk))
    with pytest.raises(CommandError, match="No student"):
        call_command("explain_access", world.teacher.email, "not-a-number")


def test_the_students_admin_page_lists_who_may_see_them_and_why(client, world: World) -> None:
    admin = _admin_client(client, world)
    response = admin.get(reverse("admin:students_student_change", args=[world.student.pk]))
    content = response.content.decode()
    for user, label in (
        (world.teacher, "Teacher of the student&#x27;s class"),
        (world.principal, "Principal of the student&#x27;s school"),
        (world.district_staff, "District staff"),
        (world.parent, "Parent or guardian with portal access"),
    ):
        assert f"<strong>{user.email}</strong>: {label}" in content, user
    assert world.outsider.email not in content and world.other_teacher.email not in content


def test_explanations_agree_with_the_access_check(world: World) -> None:
    students = [
        world.student,
        world.classmate,
        world.other_section_student,
        world.other_school_student,
        world.other_district_student,
    ]
    for user in world.users_by_role().values():
        visible = set(access.students_visible_to(user).values_list("pk", flat=True))
        for student in students:
            explained = bool(access.explain(user, student))
            try:
                access.student_for_user(user, student.pk)
                checked = True
            except Exception:
                checked = False
            assert explained == checked == (student.pk in visible), (user, student)


# --- One way to log a read


# Page → the students whose data it shows, for a role that may open it.
SHOWN = {
    "students:section_detail": ("teacher", lambda w: {w.student, w.classmate}),
    "students:student_detail": ("principal", lambda w: {w.student}),
    "students:school_detail": ("principal", lambda w: set()),  # counts only
    "dashboard:section_csv": ("district_staff", lambda w: {w.student, w.classmate}),
    "dashboard:standard_detail": ("teacher", lambda w: {w.student, w.classmate}),
    "dashboard:student_standard": ("teacher", lambda w: {w.student}),
    "dashboard:student_mastery_csv": ("guardian", lambda w: {w.student}),
    "dashboard:student_profile_tab": ("guardian", lambda w: {w.student}),
    "assessments:score_grid": ("teacher", lambda w: {w.student, w.classmate}),
    "assessments:section_assessments": ("teacher", lambda w: set()),
    "dashboard:section_changes": ("teacher", lambda w: set()),  # nothing changed
    "interop:import_run": ("district_staff", lambda w: set()),
}


@pytest.mark.parametrize("name", sorted(SHOWN))
def test_each_page_logs_exactly_the_students_it_showed(client, world: World, name: str) -> None:
    role, shown = SHOWN[name]
    user = world.users_by_role()[role]
    client.force_login(user)
    before = AccessLogEntry.objects.count()
    url = _url(name, CASES[name].own(world)[role])
    assert client.get(url).status_code == 200
    rows = list(
        AccessLogEntry.objects.order_by("id")[before:] if before else AccessLogEntry.objects.all()
    )
    assert {row.student_id for row in rows} == {s.pk for s in shown(world)}
    basis = access.student_for_user(user, world.student.pk).basis
    for row in rows:
        assert row.actor_user_id == user.pk and row.role == access.REACH[basis].role
        assert row.purpose == access.REACH[basis].purpose and row.purpose
        assert row.path.startswith(url.split("?")[0])


def test_the_guardians_home_logs_their_children_with_a_purpose(client, world: World) -> None:
    client.force_login(world.parent)
    # A guardian's home is the family portal's list of their children.
    client.get(reverse("portal:children"))
    row = AccessLogEntry.objects.get()
    assert row.student_id == world.student.pk and row.role == Role.GUARDIAN
    assert row.purpose == access.REACH[access.Basis.GUARDIAN].purpose


def test_the_admin_logs_through_the_same_helper(client, world: World) -> None:
    admin = _admin_client(client, world)
    admin.get(reverse("admin:students_student_change", args=[world.student.pk]))
    row = AccessLogEntry.objects.get()
    assert row.student_id == world.student.pk and row.role == access.ADMIN_ROLE
    assert row.purpose == access.ADMIN_PURPOSE


def test_an_admin_user_who_is_not_a_superuser_sees_only_their_students(
    client, world: World
) -> None:
    from django.contrib.auth.models import Permission

    world.teacher.is_staff = True
    world.teacher.save()
    world.teacher.user_permissions.add(Permission.objects.get(codename="view_student"))
    client.force_login(User.objects.get(pk=world.teacher.pk))
    listing = client.get(reverse("admin:students_student_changelist"))
    assert listing.status_code == 200
    shown = {row.pk for row in listing.context["cl"].result_list}
    assert shown == {world.student.pk, world.classmate.pk}
    other = reverse("admin:students_student_change", args=[world.other_school_student.pk])
    assert client.get(other).status_code in (302, 404)


# --- The mirror of derived memberships


def test_an_admin_save_re_derives_the_mirror(
    world: World, django_capture_on_commit_callbacks
) -> None:
    assignment = SectionAssignment.objects.get(staff=world.teacher.staff_record)
    with django_capture_on_commit_callbacks(execute=True):
        assignment.end_date = dt.date(2027, 3, 1)
        assignment.save()
    mirror = RoleMembership.objects.get(
        user=world.teacher, source=MembershipSource.SECTION_ASSIGNMENT
    )
    assert mirror.end_date == dt.date(2027, 3, 1)
    with django_capture_on_commit_callbacks(execute=True):
        assignment.delete()
    assert not RoleMembership.objects.filter(
        user=world.teacher, source=MembershipSource.SECTION_ASSIGNMENT
    ).exists()


def test_a_stale_mirror_grants_nothing_and_is_tidied_nightly(world: World) -> None:
    assert "accounts.tasks.derived_access_sync_all" in {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    # The assignment goes without a signal (a bulk update), the mirror row stays behind...
    SectionAssignment.objects.filter(staff=world.teacher.staff_record).update(is_active=False)
    assert RoleMembership.objects.filter(
        user=world.teacher, source=MembershipSource.SECTION_ASSIGNMENT
    ).exists()
    # ...and grants nothing.
    teacher = User.objects.get(pk=world.teacher.pk)
    assert not access.students_visible_to(teacher).exists()
    from accounts.tasks import derived_access_sync_all

    assert derived_access_sync_all()["removed"] >= 1
    assert derived_access_sync().memberships_removed == 0


def _grant_form(world: World, email: str, begin: dt.date, end: dt.date) -> dict:
    return {
        "action": "grant",
        "section": str(world.section.pk),
        "email": email,
        "begin_date": begin.isoformat(),
        "end_date": end.isoformat(),
        "reason": "Ms Teacher at a conference",
    }


def test_a_principal_gives_and_ends_a_substitutes_access_on_the_school_page(
    client, world: World
) -> None:
    substitute = factories.UserFactory.create(email="sub@example.test")
    today = timezone.localdate()
    url = reverse("students:school_substitutes", kwargs={"pk": world.school.pk})
    client.force_login(world.principal)
    school_page = client.get(_url("students:school_detail", world.school.pk))
    assert url.encode() in school_page.content
    response = client.post(url, _grant_form(world, "SUB@example.test", today, today))
    assert response.status_code == 302
    grant = RoleMembership.objects.get(user=substitute)
    assert (grant.section, grant.begin_date, grant.end_date) == (world.section, today, today)
    assert grant.granted_by == world.principal and grant.reason == "Ms Teacher at a conference"
    listing = client.get(url).content.decode()
    assert "sub@example.test" in listing and "Ms Teacher at a conference" in listing

    from django.test import Client

    sub_client = Client()
    sub_client.force_login(User.objects.get(pk=substitute.pk))
    assert sub_client.get(_url("students:section_detail", world.section.pk)).status_code == 200
    # Ended today: withdrawn, since it began today; the substitute's next request finds nothing.
    assert client.post(url, {"action": "end", "membership": grant.pk}).status_code == 302
    assert not RoleMembership.objects.filter(user=substitute).exists()
    assert sub_client.get(_url("students:section_detail", world.section.pk)).status_code in (
        302,
        404,
    )


def test_a_grant_that_has_begun_ends_yesterday_when_ended(client, world: World) -> None:
    substitute = factories.UserFactory.create()
    today = timezone.localdate()
    grant = role_grant(
        user=substitute,
        role=Role.TEACHER,
        section=world.section,
        begin_date=today - dt.timedelta(days=3),
        end_date=today + dt.timedelta(days=3),
    )
    client.force_login(world.district_staff)
    url = reverse("students:school_substitutes", kwargs={"pk": world.school.pk})
    assert client.post(url, {"action": "end", "membership": grant.pk}).status_code == 302
    grant.refresh_from_db()
    assert grant.end_date == today - dt.timedelta(days=1)
    assert not access.explain(substitute, world.student)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"email": "nobody@example.test"}, "No active Trellis login for nobody@example.test"),
        ({"begin_date": "2027-02-10", "end_date": "2027-02-01"}, "on or after the first day"),
        ({"begin_date": "2020-01-01", "end_date": "2020-01-05"}, "The last day has passed"),
        ({"begin_date": "2027-01-01", "end_date": "2028-06-01"}, "a year at most"),
        ({"begin_date": "tomorrow"}, "Enter a valid date"),
        ({"section": "999999"}, "Select a valid choice"),
    ],
)
def test_the_substitute_form_names_what_is_wrong(
    client, world: World, change: dict, message: str
) -> None:
    factories.UserFactory.create(email="sub@example.test")
    client.force_login(world.principal)
    url = reverse("students:school_substitutes", kwargs={"pk": world.school.pk})
    data = {**_grant_form(world, "sub@example.test", dt.date(2027, 2, 1), dt.date(2027, 2, 5))}
    data.update(change)
    response = client.post(url, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not RoleMembership.objects.filter(role=Role.TEACHER, source="manual").exists()


def test_a_section_of_another_school_or_a_forged_grant_id_is_refused(client, world: World) -> None:
    factories.UserFactory.create(email="sub@example.test")
    elsewhere = role_grant(
        user=factories.UserFactory.create(),
        role=Role.TEACHER,
        section=world.other_school_section,
        begin_date=dt.date(2027, 2, 1),
        end_date=dt.date(2027, 2, 5),
    )
    client.force_login(world.principal)
    url = reverse("students:school_substitutes", kwargs={"pk": world.school.pk})
    data = _grant_form(world, "sub@example.test", dt.date(2027, 2, 1), dt.date(2027, 2, 5))
    data["section"] = str(world.other_school_section.pk)
    assert client.post(url, data).status_code == 400
    assert client.post(url, {"action": "end", "membership": elsewhere.pk}).status_code == 404
    assert client.post(url, {"action": "end", "membership": "x"}).status_code == 400
    assert RoleMembership.objects.filter(pk=elsewhere.pk, end_date=dt.date(2027, 2, 5)).exists()


def test_explain_access_is_itself_a_logged_read(world: World) -> None:
    _explain_json(world.teacher, world.student.pk)
    row = AccessLogEntry.objects.get()
    assert (row.student_id, row.role, row.path) == (
        world.student.pk,
        access.SYSTEM_ROLE,
        "manage.py explain_access",
    )


def test_who_may_see_reads_the_students_rows_once_not_per_user(world: World) -> None:
    """The admin page asks about every candidate: two queries each (their grants, the check),
    the student's rows once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            found = access.users_who_may_see(world.student)
        assert {user.pk for user, _ in found} >= {world.teacher.pk, world.district_staff.pk}
        return len(captured)

    before = queries()
    for n in range(5):
        role_grant(
            user=factories.UserFactory.create(email=f"staff{n}@example.test"),
            role=Role.DISTRICT_STAFF,
            district=world.district,
        )
    assert queries() - before == 5 * 2


def test_a_teacher_granted_a_school_sees_its_sections_but_not_its_page(
    client, world: World
) -> None:
    """Only the bases declared with school pages (principal, district staff) open a school's."""
    role_grant(user=world.outsider, role=Role.TEACHER, school=world.school)
    client.force_login(world.outsider)
    assert client.get(_url("students:section_detail", world.other_section.pk)).status_code == 200
    assert client.get(_url("students:student_detail", world.student.pk)).status_code == 200
    assert client.get(_url("students:school_detail", world.school.pk)).status_code == 404
    assert (
        client.get(_url("students:section_detail", world.other_school_section.pk)).status_code
        == 404
    )

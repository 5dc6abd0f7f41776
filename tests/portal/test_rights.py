"""The families' side of their rights in the portal (issue 21): the annual notice and its
acknowledgement, and each child's "Your rights" tab: directory information and the opt-out,
consent signed with the password and revoked, asking to see the records and downloading the
package, asking to correct a record and adding a statement after a refusal; and the disclosures
on "Who has seen". Every page both ways (own child; another child, a contact-restricted
guardian, staff, the privacy officer, anonymous), every change through a rights service as the
parent, every page's read logged, odd forms named 400s, query counts constant."""

import datetime as dt
import html
import re
from collections.abc import Callable

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, timezone

from accounts.models import User
from portal.views.rights import PASSWORD_TRIES
from privacy.models import AccessLogEntry
from rights.models import (
    AmendmentDecision,
    AmendmentRequest,
    Consent,
    DirectoryOptOut,
    DisclosureBasis,
    InspectionRequest,
    InspectionStatus,
    NoticeAcknowledgement,
    RightsEvent,
)
from rights.services import (
    DisclosureRefused,
    amendment_decide,
    consent_request_close,
    disclose,
    eligible_student_postsecondary_set,
)
from students.models import GuardianRelationship
from tests.conftest import PASSWORD, World
from tests.portal import rights_data
from tests.portal.test_child_pages import guardian_user, second_child

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_password_tries() -> None:
    caches["default"].clear()


@pytest.fixture
def officer(world: World) -> User:
    return rights_data.privacy_officer(world)


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response: object) -> str:
    """The response's visible words, in one line (tags left out, entities read)."""
    content = response.content.decode()  # type: ignore[attr-defined]
    content = re.sub(r"<(script|style)\b.*?</\1>", " ", content, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", content)).split())


def day(value: dt.date | dt.datetime) -> str:
    """A day as the pages write it in English ("Sept. 15, 2026")."""
    if isinstance(value, dt.datetime):
        value = timezone.localdate(value)
    return formats.date_format(value, "DATE_FORMAT")


def rights_url(world: World, student: object = None) -> str:
    pk = (student or world.student).pk  # type: ignore[attr-defined]
    return reverse("portal:child_rights", kwargs={"pk": pk})


def url(name: str, **kwargs: object) -> str:
    return reverse(name, kwargs=kwargs)


# --- Every page, both ways.

# name → (world, officer) → the kwargs of the parent's own page about world.student.
PAGES: dict[str, Callable[[World, User], dict[str, object]]] = {
    "portal:child_rights": lambda w, o: {},
    "portal:child_rights_directory": lambda w, o: {},
    "portal:child_rights_consent": lambda w, o: {
        "request_id": rights_data.consent_request(w, o).pk
    },
    "portal:child_rights_revoke": lambda w, o: {
        "consent_id": rights_data.given_consent(w, officer=o).pk
    },
    "portal:child_rights_inspection": lambda w, o: {},
    "portal:child_rights_download": lambda w, o: {
        "request_id": rights_data.delivered_inspection(w).pk,
        "fmt": "json",
    },
    "portal:child_rights_amendment": lambda w, o: {},
    "portal:child_rights_statement": lambda w, o: {
        "request_id": rights_data.refused_amendment(w).pk
    },
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_rights_page_is_the_childs_guardians_and_nobody_elses(
    world: World, officer: User, name: str
) -> None:
    kwargs = PAGES[name](world, officer)
    own = url(name, pk=world.student.pk, **kwargs)
    assert as_user(world.parent).get(own).status_code == 200
    # Another family's child, and a student nobody here follows, with the same row.
    for other in (world.classmate, world.other_section_student):
        assert as_user(world.parent).get(url(name, pk=other.pk, **kwargs)).status_code == 404
    # Staff who see the child on another basis, the privacy officer, someone with no role.
    for user in (world.teacher, world.principal, world.district_staff, officer, world.outsider):
        assert as_user(user).get(own).status_code == 404, user
    # The classmate's parent, with the classmate's id: not their row.
    if kwargs:
        classmate_page = url(name, pk=world.classmate.pk, **kwargs)
        assert as_user(world.other_parent).get(classmate_page).status_code == 404
    anonymous = Client().get(own)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("name", sorted(PAGES))
def test_a_contact_restricted_guardian_sees_no_rights_page(
    world: World, officer: User, name: str
) -> None:
    kwargs = PAGES[name](world, officer)
    restricted = guardian_user(
        world,
        world.student,
        portal_access=False,
        contact_restricted=True,
        has_educational_rights=True,
    )
    before = AccessLogEntry.objects.filter(actor_user_id=restricted.pk).count()
    response = as_user(restricted).get(url(name, pk=world.student.pk, **kwargs))
    assert response.status_code == 404
    assert AccessLogEntry.objects.filter(actor_user_id=restricted.pk).count() == before


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("portal:child_rights", "family portal: rights"),
        ("portal:child_rights_directory", "family portal: directory information"),
        ("portal:child_rights_consent", "family portal: consent request"),
        ("portal:child_rights_revoke", "family portal: consent"),
        ("portal:child_rights_inspection", "family portal: inspection request"),
        ("portal:child_rights_download", "family portal: inspection package (JSON)"),
        ("portal:child_rights_amendment", "family portal: amendment request"),
        ("portal:child_rights_statement", "family portal: amendment statement"),
    ],
)
def test_each_page_logs_the_read_of_the_child_with_its_purpose(
    world: World, officer: User, name: str, what: str
) -> None:
    page = url(name, pk=world.student.pk, **PAGES[name](world, officer))
    assert as_user(world.parent).get(page).status_code == 200
    row = AccessLogEntry.objects.filter(actor_user_id=world.parent.pk, path=page).get()
    assert (row.student_id, row.role, row.what) == (world.student.pk, "guardian", what)
    assert row.purpose == "A parent or guardian following their child"


# name → (world, officer) → (the kwargs of the parent's own form about world.student, a form
# that would change something).
POSTS: dict[str, Callable[[World, User], tuple[dict[str, object], dict[str, str]]]] = {
    "portal:child_rights_directory": lambda w, o: ({}, {"choice": "opt_out"}),
    "portal:child_rights_consent": lambda w, o: (
        {"request_id": rights_data.consent_request(w, o).pk},
        {"password": PASSWORD},
    ),
    "portal:child_rights_revoke": lambda w, o: (
        {"consent_id": rights_data.given_consent(w, officer=o).pk},
        {"confirm": "revoke"},
    ),
    "portal:child_rights_inspection": lambda w, o: ({}, {"note": "All of it."}),
    "portal:child_rights_amendment": lambda w, o: (
        {},
        {
            "category": "grades",
            "record_label": "Math",
            "contested_value": "C",
            "reason": "Wrong.",
        },
    ),
    "portal:child_rights_statement": lambda w, o: (
        {"request_id": rights_data.refused_amendment(w).pk},
        {"statement": "I disagree."},
    ),
}


def _rights_changes() -> list[tuple[str, int]]:
    """The rights log's changes since the world was made, by action."""
    return list(RightsEvent.objects.values_list("action", "student_id").order_by("pk"))


@pytest.mark.parametrize("name", sorted(POSTS))
def test_each_action_is_the_childs_guardians_and_nobody_elses(
    world: World, officer: User, name: str
) -> None:
    """A POST from anyone but the child's parent changes nothing: another child's id, a
    contact-restricted guardian, staff, the privacy officer, no role (404), anonymous (sent to
    sign in). The parent's own changes it, once, as them."""
    kwargs, form = POSTS[name](world, officer)
    own = url(name, pk=world.student.pk, **kwargs)
    before = _rights_changes()
    restricted = guardian_user(world, world.student, portal_access=False, contact_restricted=True)
    attempts = [
        (world.parent, url(name, pk=world.classmate.pk, **kwargs), 404),
        # The classmate's parent sees the classmate, without their rights: 403 for the
        # classmate's form, 404 for a row that is not the classmate's.
        (world.other_parent, url(name, pk=world.classmate.pk, **kwargs), 404 if kwargs else 403),
        (restricted, own, 404),
        *[
            (user, own, 404)
            for user in (world.teacher, world.principal, world.district_staff, officer)
        ],
        (world.outsider, own, 404),
    ]
    for user, address, status in attempts:
        assert as_user(user).post(address, form).status_code == status, (user, address)
    anonymous = Client().post(own, form)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
    assert _rights_changes() == before
    assert as_user(world.parent).post(own, form).status_code == 302
    changes = _rights_changes()[len(before) :]
    assert len(changes) == 1 and changes[0][1] == world.student.pk, changes
    assert RightsEvent.objects.order_by("pk").last().actor_user == world.parent  # type: ignore[union-attr]


def test_the_notice_page_is_the_guardians_and_nobody_elses(world: World, officer: User) -> None:
    rights_data.notice(world, officer)
    notice_url = reverse("portal:rights_notice")
    assert as_user(world.parent).get(notice_url).status_code == 200
    for user in (world.teacher, world.principal, world.district_staff, officer, world.outsider):
        assert as_user(user).get(notice_url).status_code == 404, user
        notice = rights_data.current_notice_pk(world)
        assert as_user(user).post(notice_url, {"notice": notice}).status_code == 404, user
    assert not NoticeAcknowledgement.objects.exists()
    restricted = guardian_user(world, world.student, portal_access=False, contact_restricted=True)
    assert as_user(restricted).get(notice_url).status_code == 404
    for method in ("get", "post"):
        anonymous = getattr(Client(), method)(notice_url)
        assert anonymous.status_code == 302
        assert anonymous["Location"].startswith("/accounts/login/")


# --- The annual notice (99.7).


def test_99_7_the_guardian_reads_the_notice_acknowledges_it_and_its_date_shows(
    world: World, officer: User
) -> None:
    notice = rights_data.notice(world, officer, opt_out_by=rights_data.OPT_OUT_BY)
    parent = as_user(world.parent)
    children = text(parent.get(reverse("portal:children")))
    assert "Please read your school district's annual notice of your rights." in children

    page = text(parent.get(reverse("portal:rights_notice")))
    assert rights_data.NOTICE_TITLE in page
    assert "Write to the Privacy Office, 1 Main Street" in page
    assert "Name" in page and "Grade level" in page
    assert f"opt out by {day(rights_data.OPT_OUT_BY)}" in page
    assert "within 45 days of your request" in page
    assert "I have read this notice" in page

    response = parent.post(reverse("portal:rights_notice"), {"notice": notice.pk})
    assert response.status_code == 302
    acknowledgement = NoticeAcknowledgement.objects.get()
    assert (acknowledgement.notice, acknowledgement.user, acknowledgement.student) == (
        notice,
        world.parent,
        None,
    )
    event = RightsEvent.objects.get(action="notice_acknowledged")
    assert event.actor_user == world.parent
    acknowledged = day(acknowledgement.acknowledged_at)
    page = text(parent.get(reverse("portal:rights_notice")))
    assert f"you acknowledged this notice on {acknowledged}" in page
    assert "I have read this notice" not in page
    # The banner is gone; the child's rights tab says when.
    assert "annual notice of your rights" not in text(parent.get(reverse("portal:children")))
    assert f"You read the annual notice of your rights on {acknowledged}" in text(
        parent.get(rights_url(world))
    )
    # Twice: one acknowledgement, with its first date.
    parent.post(reverse("portal:rights_notice"), {"notice": notice.pk})
    assert NoticeAcknowledgement.objects.count() == 1


def test_99_7_a_new_notice_is_asked_again(world: World, officer: User) -> None:
    first = rights_data.notice(world, officer)
    parent = as_user(world.parent)
    parent.post(reverse("portal:rights_notice"), {"notice": first.pk})
    assert "annual notice of your rights" not in text(parent.get(reverse("portal:children")))
    rights_data.notice(world, officer, title="Corrected notice")
    assert "annual notice of your rights" in text(parent.get(reverse("portal:children")))


@pytest.mark.parametrize("forged", ["", "abc", "0", "-1", "9" * 30, "superseded", "other"])
def test_a_forged_acknowledgement_is_a_named_400_and_records_nothing(
    world: World, officer: User, forged: str
) -> None:
    old = rights_data.notice(world, officer)
    rights_data.notice(world, officer, title="Corrected notice")
    other = rights_data.notice(
        world,
        rights_data.privacy_officer(world, world.other_district),
        district=world.other_district,
    )
    value = {"superseded": str(old.pk), "other": str(other.pk)}.get(forged, forged)
    response = as_user(world.parent).post(reverse("portal:rights_notice"), {"notice": value})
    assert response.status_code == 400
    assert "This is not a notice you can acknowledge here" in text(response)
    assert not NoticeAcknowledgement.objects.exists()


def test_a_district_without_a_notice_says_so(world: World) -> None:
    page = text(as_user(world.parent).get(reverse("portal:rights_notice")))
    assert "Home District has not published its notice of rights in Trellis yet" in page
    assert "annual notice" not in text(as_user(world.parent).get(reverse("portal:children")))


# --- Directory information (99.37).


def test_99_37_the_guardian_opts_the_child_out_and_withdraws_it(
    world: World, officer: User
) -> None:
    rights_data.notice(world, officer)
    parent = as_user(world.parent)
    page = text(parent.get(rights_url(world)))
    assert "Your school district counts these as directory information: Name Grade level" in page
    assert "Not opted out" in page
    # What it stops, and what it does not: contractors still receive the child's name.
    assert "What opting out does not stop" in page
    assert "under contract (for example the company that runs its student records) still" in page

    directory = url("portal:child_rights_directory", pk=world.student.pk)
    response = parent.post(directory, {"choice": "opt_out"})
    assert response.status_code == 302
    assert response["Location"].endswith("#directory")
    opt_out = DirectoryOptOut.objects.get()
    assert (opt_out.student, opt_out.set_by, opt_out.in_force) == (
        world.student,
        world.parent,
        True,
    )
    assert RightsEvent.objects.get(action="opt_out_set").actor_user == world.parent
    page = text(parent.get(rights_url(world)))
    assert "Ada Lovelace is opted out of directory information" in page  # the message
    assert "Opted out — since" in page
    assert "Withdraw the opt-out" in page

    assert parent.post(directory, {"choice": "withdraw"}).status_code == 302
    opt_out.refresh_from_db()
    assert opt_out.withdrawn_at is not None and opt_out.withdrawn_by == world.parent
    assert "Not opted out" in text(parent.get(rights_url(world)))


def test_99_37_the_opt_out_keeps_the_child_off_a_directory_disclosure_not_a_contractors(
    world: World, officer: User
) -> None:
    rights_data.notice(world, officer)
    as_user(world.parent).post(
        url("portal:child_rights_directory", pk=world.student.pk), {"choice": "opt_out"}
    )
    yearbook = rights_data.recipient(world, officer, "Yearbook Press")
    with pytest.raises(DisclosureRefused) as refused:
        disclose(
            acting_user=officer,
            students=[world.student],
            recipient=yearbook,
            categories=["name"],
            description="Names for the yearbook",
            basis=DisclosureBasis.DIRECTORY_INFORMATION,
        )
    assert refused.value.code == "opted_out"
    result = disclose(
        acting_user=officer,
        students=[world.student],
        recipient=rights_data.recipient(world, officer, "Student Systems Inc."),
        categories=["name"],
        description="Names for the student information system",
        basis=DisclosureBasis.SCHOOL_OFFICIAL_UNDER_CONTRACT,
        purpose="Running the student information system",
    )
    assert [record.student for record in result.records] == [world.student]


@pytest.mark.parametrize("choice", ["", "yes", "OPT_OUT", "<script>"])
def test_a_forged_directory_switch_is_a_named_400(world: World, choice: str) -> None:
    response = as_user(world.parent).post(
        url("portal:child_rights_directory", pk=world.student.pk), {"choice": choice}
    )
    assert response.status_code == 400
    assert "Choose to opt out, or to withdraw the opt-out, with its button." in text(response)
    assert not DirectoryOptOut.objects.exists()


def test_a_guardian_without_educational_rights_reads_but_may_not_act(
    world: World, officer: User
) -> None:
    """They see the child in the portal (portal access), but hold no rights: no forms, and a
    POST is refused (403) with nothing recorded."""
    request = rights_data.consent_request(world, officer)
    father = guardian_user(world, world.student)  # portal access, no educational rights
    client = as_user(father)
    page = text(client.get(rights_url(world)))
    assert "you cannot make requests or choices here" in page
    assert "Opt Ada Lovelace out of directory information" not in page
    assert "Ask to correct a record" not in page
    assert "Read and answer" not in page
    posts = {
        "portal:child_rights_directory": ({}, {"choice": "opt_out"}),
        "portal:child_rights_consent": ({"request_id": request.pk}, {"password": PASSWORD}),
        "portal:child_rights_inspection": ({}, {"note": "All"}),
        "portal:child_rights_amendment": (
            {},
            {
                "category": "grades",
                "record_label": "Math",
                "contested_value": "C",
                "reason": "Wrong",
            },
        ),
    }
    for name, (kwargs, form) in posts.items():
        page_url = url(name, pk=world.student.pk, **kwargs)
        assert client.get(page_url).status_code == 200
        response = client.post(page_url, form)
        assert response.status_code == 403, name
        assert "Only a parent or guardian who holds your child's educational rights" in text(
            response
        )
    assert not DirectoryOptOut.objects.exists()
    assert not Consent.objects.exists()
    assert not InspectionRequest.objects.exists()
    assert not AmendmentRequest.objects.exists()


# --- Consent (99.30).


def consent_url(world: World, request_id: int) -> str:
    return url("portal:child_rights_consent", pk=world.student.pk, request_id=request_id)


def test_99_30_the_guardian_gives_consent_with_the_password(world: World, officer: User) -> None:
    request = rights_data.consent_request(world, officer)
    parent = as_user(world.parent)
    tab = text(parent.get(rights_url(world)))
    assert "Northwind Learning" in tab and rights_data.PURPOSE in tab
    assert "Read and answer" in tab
    assert "(Grades, report cards and transcripts, Tests and assignments)" in tab

    page = parent.get(consent_url(world, request.pk))
    words = text(page)
    assert "Who would receive them Northwind Learning" in words
    assert f"For what {rights_data.PURPOSE}" in words
    assert rights_data.RECORDS in words
    assert 'autocomplete="current-password"' in page.content.decode()

    response = parent.post(consent_url(world, request.pk), {"password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].endswith("#consent")
    consent = Consent.objects.get()
    assert (consent.user, consent.request, consent.student) == (
        world.parent,
        request,
        world.student,
    )
    assert RightsEvent.objects.get(action="consent_given").actor_user == world.parent
    tab = text(parent.get(rights_url(world)))
    assert "You gave your consent on" in tab  # the message
    assert "You gave consent" in tab and "Revoke consent" in tab
    assert "By you, on" in tab and "In force" in tab
    # The records may now go, under this consent.
    disclose(
        acting_user=officer,
        students=[world.student],
        recipient=request.recipient,
        categories=["grades"],
        description="Grades of the fall term",
        basis=DisclosureBasis.CONSENT,
        consent_request=request,
    )


@pytest.mark.parametrize("password", ["pw-Trellis-124", PASSWORD.upper(), " " + PASSWORD])
def test_99_30_a_wrong_password_is_a_form_error_and_records_nothing(
    world: World, officer: User, password: str
) -> None:
    request = rights_data.consent_request(world, officer)
    response = as_user(world.parent).post(consent_url(world, request.pk), {"password": password})
    assert response.status_code == 400
    assert "“Your password”: That is not your password. Nothing was recorded" in text(response)
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Consent.objects.exists()
    assert not RightsEvent.objects.filter(action="consent_given").exists()


def test_99_30_no_password_is_a_named_400(world: World, officer: User) -> None:
    request = rights_data.consent_request(world, officer)
    response = as_user(world.parent).post(consent_url(world, request.pk), {})
    assert response.status_code == 400
    assert "Enter your password to sign your consent." in text(response)
    assert not Consent.objects.exists()


def test_99_30_wrong_passwords_are_limited(world: World, officer: User) -> None:
    request = rights_data.consent_request(world, officer)
    parent = as_user(world.parent)
    for _ in range(PASSWORD_TRIES):
        assert parent.post(consent_url(world, request.pk), {"password": "nope"}).status_code == 400
    # Then even the right one is not tried.
    response = parent.post(consent_url(world, request.pk), {"password": PASSWORD})
    assert response.status_code == 429
    assert "Too many wrong passwords" in text(response)
    assert not Consent.objects.exists()


def test_99_30_a_request_about_another_child_closed_or_unknown_is_a_404(
    world: World, officer: User
) -> None:
    about_classmate = rights_data.consent_request(world, officer, world.classmate)
    closed = rights_data.consent_request(world, officer, recipient_name="Closed Co")
    consent_request_close(acting_user=officer, request=closed)
    expired = rights_data.consent_request(
        world, officer, recipient_name="Old Co", expires_on=timezone.localdate() - dt.timedelta(1)
    )
    parent = as_user(world.parent)
    for request_id in (about_classmate.pk, closed.pk, expired.pk, 999_999):
        assert parent.get(consent_url(world, request_id)).status_code == 404
        response = parent.post(consent_url(world, request_id), {"password": PASSWORD})
        assert response.status_code == 404
    assert not Consent.objects.exists()
    tab = text(parent.get(rights_url(world)))
    assert "Closed Co" not in tab and "Old Co" not in tab
    assert "No request is waiting for your answer." in tab


def test_99_30_a_student_holding_their_own_rights_is_not_consented_for(
    world: World, officer: User
) -> None:
    request = rights_data.consent_request(world, officer)
    eligible_student_postsecondary_set(acting_user=officer, student=world.student)
    parent = as_user(world.parent)
    assert "Ada Lovelace holds these rights since" in text(parent.get(rights_url(world)))
    assert "their own consent is needed, not yours" in text(
        parent.get(consent_url(world, request.pk))
    )
    response = parent.post(consent_url(world, request.pk), {"password": PASSWORD})
    assert response.status_code == 403
    assert "Your child now holds these rights themself" in text(response)
    assert not Consent.objects.exists()


def test_99_30_the_guardian_revokes_after_a_warning_and_later_disclosures_are_refused(
    world: World, officer: User
) -> None:
    consent = rights_data.given_consent(world, officer=officer)
    revoke = url("portal:child_rights_revoke", pk=world.student.pk, consent_id=consent.pk)
    parent = as_user(world.parent)
    warning = text(parent.get(revoke))
    assert "Revoke your consent for Northwind Learning?" in warning
    assert "Records already shared cannot be taken back." in warning
    assert "A revocation cannot be undone." in warning
    consent.refresh_from_db()
    assert consent.revoked_at is None  # asking changes nothing

    response = parent.post(revoke, {"confirm": "revoke"})
    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.revoked_at is not None and consent.revoked_by == world.parent
    assert RightsEvent.objects.get(action="consent_revoked").actor_user == world.parent
    tab = text(parent.get(rights_url(world)))
    assert "Your consent for Northwind Learning is revoked" in tab
    assert "Revoked —" in tab
    with pytest.raises(DisclosureRefused) as refused:
        disclose(
            acting_user=officer,
            students=[world.student],
            recipient=consent.request.recipient,
            categories=["grades"],
            description="Grades",
            basis=DisclosureBasis.CONSENT,
            consent_request=consent.request,
        )
    assert refused.value.code == "consent_revoked"
    # Revoking again changes nothing; the page says so.
    again = parent.post(revoke, {"confirm": "revoke"}, follow=True)
    assert "You had already revoked this consent" in text(again)
    assert RightsEvent.objects.filter(action="consent_revoked").count() == 1


@pytest.mark.parametrize("confirm", ["", "yes", "REVOKE"])
def test_a_revocation_without_its_confirmation_is_a_named_400(
    world: World, officer: User, confirm: str
) -> None:
    consent = rights_data.given_consent(world, officer=officer)
    revoke = url("portal:child_rights_revoke", pk=world.student.pk, consent_id=consent.pk)
    response = as_user(world.parent).post(revoke, {"confirm": confirm} if confirm else {})
    assert response.status_code == 400
    assert "Confirm with the “Revoke consent” button on this page." in text(response)
    consent.refresh_from_db()
    assert consent.revoked_at is None


def test_another_guardians_consent_is_shown_but_not_theirs_to_revoke(
    world: World, officer: User
) -> None:
    other = guardian_user(world, world.student, has_educational_rights=True)
    consent = rights_data.given_consent(world, user=other, officer=officer)
    parent = as_user(world.parent)
    tab = text(parent.get(rights_url(world)))
    assert "By another parent or guardian, on" in tab
    assert other.email not in tab
    revoke = url("portal:child_rights_revoke", pk=world.student.pk, consent_id=consent.pk)
    assert parent.get(revoke).status_code == 404
    assert parent.post(revoke, {"confirm": "revoke"}).status_code == 404
    consent.refresh_from_db()
    assert consent.revoked_at is None


# --- Inspection (99.10).


def test_99_10_the_guardian_asks_to_see_the_records_and_downloads_the_package(
    world: World, officer: User
) -> None:
    parent = as_user(world.parent)
    inspection = url("portal:child_rights_inspection", pk=world.student.pk)
    assert "Ask to see the records" in text(parent.get(inspection))
    response = parent.post(inspection, {"note": "The attendance records, please."})
    assert response.status_code == 302
    request = InspectionRequest.objects.get()
    assert (request.user, request.student, request.note) == (
        world.parent,
        world.student,
        "The attendance records, please.",
    )
    assert request.due_on == timezone.localdate() + dt.timedelta(days=45)
    tab = text(parent.get(rights_url(world)))
    assert f"the school district will let you see the records by {day(request.due_on)}" in tab
    assert "Being prepared" in tab
    # Asking again while it is open: the same request.
    assert parent.post(inspection, {"note": ""}).status_code == 302
    assert InspectionRequest.objects.count() == 1
    assert "You already asked on" in text(parent.get(rights_url(world)))

    from rights.services import inspection_request_fulfil

    inspection_request_fulfil(
        acting_user=officer,
        request=request,
        package_builder=rights_data.fake_records,
        pdf_renderer=rights_data.fake_pdf,
    )
    request.refresh_from_db()
    ready = parent.get(rights_url(world))
    assert "Ready — delivered on" in text(ready)
    for fmt, content_type in (("json", "application/json"), ("pdf", "application/pdf")):
        link = url(
            "portal:child_rights_download", pk=world.student.pk, request_id=request.pk, fmt=fmt
        )
        assert f'href="{link}"' in ready.content.decode()
        download = parent.get(link)
        assert download.status_code == 200
        assert download["Content-Type"] == content_type
        disposition = download["Content-Disposition"]
        assert disposition.startswith("attachment;")
        delivered = timezone.localdate(request.delivered_at)
        assert f'filename="ada-lovelace-records-{delivered}.{fmt}"' in disposition
        assert download["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in download["Cache-Control"] and "private" in download["Cache-Control"]
        body = b"".join(download.streaming_content)  # type: ignore[attr-defined]
        stored = request.package_json if fmt == "json" else request.package_pdf
        with stored.open("rb") as handle:
            assert body == handle.read()
        logged = AccessLogEntry.objects.filter(actor_user_id=world.parent.pk, path=link).get()
        assert logged.what == f"family portal: inspection package ({fmt.upper()})"
        assert logged.student_id == world.student.pk


def test_99_10_packages_are_the_requesters_delivered_ones_only(world: World, officer: User) -> None:
    other = guardian_user(world, world.student, has_educational_rights=True)
    theirs = rights_data.delivered_inspection(world, user=other)
    from rights.services import inspection_request_create

    open_request = inspection_request_create(acting_user=world.parent, student=world.student)
    parent = as_user(world.parent)
    for request_id, fmt in ((theirs.pk, "json"), (open_request.pk, "json"), (999_999, "pdf")):
        link = url(
            "portal:child_rights_download",
            pk=world.student.pk,
            request_id=request_id,
            fmt=fmt,
        )
        assert parent.get(link).status_code == 404
    # A format that is not offered.
    mine = rights_data.delivered_inspection(world, user=other)
    for fmt in ("csv", "JSON", "exe"):
        link = url("portal:child_rights_download", pk=world.student.pk, request_id=mine.pk, fmt=fmt)
        assert as_user(other).get(link).status_code == 404
    assert not AccessLogEntry.objects.filter(what__startswith="family portal: inspection package")


def test_99_10_an_inspection_note_too_long_is_a_named_400(world: World) -> None:
    inspection = url("portal:child_rights_inspection", pk=world.student.pk)
    response = as_user(world.parent).post(inspection, {"note": "x" * 5000})
    assert response.status_code == 400
    assert "“What would you like to see? (optional)”: Ensure this value has at most" in text(
        response
    )
    assert not InspectionRequest.objects.exists()


# --- Amendment (99.20-99.22).


AMENDMENT_FORM = {
    "category": "grades",
    "record_label": "Math grade, first quarter",
    "contested_value": "C",
    "proposed_value": "B",
    "reason": "Two tests were graded twice.",
}


def test_99_20_the_guardian_asks_for_a_correction_and_reads_the_refusal_and_hearing_notice(
    world: World, officer: User
) -> None:
    parent = as_user(world.parent)
    amendment = url("portal:child_rights_amendment", pk=world.student.pk)
    page = text(parent.get(amendment))
    assert "Grades, report cards and transcripts" in page and "Something else" in page
    response = parent.post(amendment, AMENDMENT_FORM)
    assert response.status_code == 302
    request = AmendmentRequest.objects.get()
    assert (request.user, request.category, request.contested_value, request.reason) == (
        world.parent,
        "grades",
        "C",
        "Two tests were graded twice.",
    )
    assert RightsEvent.objects.get(action="amendment_requested").actor_user == world.parent
    tab = text(parent.get(rights_url(world)))
    assert "Math grade, first quarter" in tab
    assert "Waiting — the school district has not decided yet." in tab
    statement_url = url("portal:child_rights_statement", pk=world.student.pk, request_id=request.pk)
    assert statement_url not in parent.get(rights_url(world)).content.decode()

    amendment_decide(
        acting_user=officer,
        request=request,
        decision=AmendmentDecision.REFUSED,
        decision_reason="The grades were checked and are right.",
        hearing_notice=rights_data.HEARING,
    )
    refused = parent.get(rights_url(world))
    words = text(refused)
    assert "Refused —" in words
    assert "The grades were checked and are right." in words
    assert "Your right to a hearing" in words and "You may ask for a hearing within 30" in words
    assert statement_url in refused.content.decode()


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("category", "", "“Which part of the record is it in?”: This field is required."),
        ("category", "grades'; --", "“Which part of the record is it in?”: Choose one of"),
        ("record_label", "", "“Which record?”: This field is required."),
        ("contested_value", "x" * 3000, "“What does the record say now?”: Ensure this value"),
        ("reason", "\x00", "“Why is it wrong?”: Null characters are not allowed."),
    ],
)
def test_99_20_a_bad_amendment_form_is_a_named_400(
    world: World, field: str, value: str, named: str
) -> None:
    amendment = url("portal:child_rights_amendment", pk=world.student.pk)
    response = as_user(world.parent).post(amendment, {**AMENDMENT_FORM, field: value})
    assert response.status_code == 400
    assert named in text(response)
    assert not AmendmentRequest.objects.exists()


def test_99_21_after_a_refusal_the_guardian_adds_a_statement(world: World) -> None:
    request = rights_data.refused_amendment(world)
    statement_url = url("portal:child_rights_statement", pk=world.student.pk, request_id=request.pk)
    parent = as_user(world.parent)
    page = text(parent.get(statement_url))
    assert "You may ask for a hearing within 30 days" in page
    response = parent.post(statement_url, {"statement": "The second test was a retake."})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.statement == "The second test was a retake."
    assert request.statement_by == world.parent
    tab = text(parent.get(rights_url(world)))
    assert "Your statement is in the record." in tab
    assert "Your statement, added on" in tab and "The second test was a retake." in tab
    assert "Change your statement" in tab
    # An empty one is a named 400, and the statement stays.
    empty = parent.post(statement_url, {"statement": "  "})
    assert empty.status_code == 400
    assert "“Your statement”: Write your statement." in text(empty)
    request.refresh_from_db()
    assert request.statement == "The second test was a retake."


def test_99_21_no_statement_before_a_refusal(world: World) -> None:
    request = rights_data.amendment(world)
    statement_url = url("portal:child_rights_statement", pk=world.student.pk, request_id=request.pk)
    parent = as_user(world.parent)
    assert "You can add a statement only after" in text(parent.get(statement_url))
    response = parent.post(statement_url, {"statement": "I disagree."})
    assert response.status_code == 400
    assert "You can add a statement only after the school district refuses" in text(response)
    request.refresh_from_db()
    assert request.statement == ""


def test_another_guardians_requests_are_not_shown_or_theirs(world: World) -> None:
    other = guardian_user(world, world.student, has_educational_rights=True)
    refused = rights_data.refused_amendment(world, user=other)
    tab = text(as_user(world.parent).get(rights_url(world)))
    assert "Math grade, first quarter" not in tab
    statement_url = url("portal:child_rights_statement", pk=world.student.pk, request_id=refused.pk)
    assert as_user(world.parent).get(statement_url).status_code == 404


# --- Who has seen: the disclosures (99.32).


def test_99_32_disclosures_are_listed_on_who_has_seen_in_plain_words(
    world: World, officer: User
) -> None:
    seen = url("portal:child_seen", pk=world.student.pk)
    parent = as_user(world.parent)
    assert "No disclosure of the record of Ada Lovelace is recorded." in text(parent.get(seen))
    rights_data.notice(world, officer)
    rights_data.disclosures(world, officer)
    page = parent.get(seen)
    words = text(page)
    entries = re.findall(r'<li class="disclosure-entry">(.*?)</li>', page.content.decode(), re.S)
    assert len(entries) == 3
    assert "Student Systems Inc." in words
    assert "What: Class rosters for the new student information system (Schools and classes)" in (
        words
    )
    assert (
        "Why the law allowed it: A company or person working for the school district under "
        "contract, for the district's own work"
    ) in words
    assert "For: Running the student information system" in words
    assert "Reference: Contract 2026-14" in words
    assert "Names and grades for the yearbook (Name, Grade level)" in words
    assert "Directory information, which the district may share unless you opt out" in words
    assert "Why the law allowed it: A court order" in words
    assert "Reference: Case 26-FC-0091" in words
    # The service's default purposes only repeat the basis: not shown again.
    assert "For: Directory information" not in words
    assert "A court order (99.31" not in words
    # The views' list counts no disclosure.
    assert "seen-entry" not in "".join(entries)


def test_99_21_a_statement_sent_with_a_disclosure_is_named(world: World, officer: User) -> None:
    request = rights_data.refused_amendment(world)
    as_user(world.parent).post(
        url("portal:child_rights_statement", pk=world.student.pk, request_id=request.pk),
        {"statement": "The second test was a retake."},
    )
    disclose(
        acting_user=officer,
        students=[world.student],
        recipient=rights_data.recipient(world, officer, "State College"),
        categories=["grades"],
        description="Transcript",
        basis=DisclosureBasis.SUBPOENA,
        reference="Subpoena 44",
    )
    words = text(as_user(world.parent).get(url("portal:child_seen", pk=world.student.pk)))
    assert "Your statement about “Math grade, first quarter” was sent with it." in words
    assert "A subpoena (a legal order to hand over records)" in words


# --- In Spanish.


def test_the_rights_pages_speak_spanish(world: World, officer: User) -> None:
    world.parent.language = "es"
    world.parent.save(update_fields=["language"])
    request = rights_data.consent_request(world, officer)
    parent = as_user(world.parent)
    tab = text(parent.get(rights_url(world)))
    assert "Sus derechos" in tab
    assert "Información del directorio" in tab
    response = parent.post(consent_url(world, request.pk), {"password": "nope"})
    assert "Esa no es su contraseña" in text(response)


# --- Queries.


def _queries(client: Client, page: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(page)
    assert response.status_code == 200
    return len(captured)


def test_the_rights_tab_reads_as_many_queries_for_few_or_many_rows(
    world: World, officer: User
) -> None:
    second_child(world)  # the switcher too
    rights_data.notice(world, officer)
    parent = as_user(world.parent)
    few = _queries(parent, rights_url(world))
    for n in range(4):
        rights_data.given_consent(world, officer=officer, recipient_name=f"Vendor {n}")
        rights_data.consent_request(world, officer, recipient_name=f"Asker {n}")
        rights_data.refused_amendment(world)
    rights_data.delivered_inspection(world)
    from rights.services import inspection_request_create

    inspection_request_create(acting_user=world.parent, student=world.student)
    parent.post(reverse("portal:rights_notice"), {"notice": rights_data.notice(world, officer).pk})
    many = _queries(parent, rights_url(world))
    assert few == many, (few, many)


def test_who_has_seen_reads_as_many_queries_for_few_or_many_disclosures(
    world: World, officer: User
) -> None:
    rights_data.notice(world, officer)
    parent = as_user(world.parent)
    seen = url("portal:child_seen", pk=world.student.pk)
    none = _queries(parent, seen)
    rights_data.disclosures(world, officer)
    rights_data.disclosures(world, officer)
    assert _queries(parent, seen) == none


def test_the_notice_page_reads_as_many_queries_read_or_not(world: World, officer: User) -> None:
    notice = rights_data.notice(world, officer)
    second_child(world)
    parent = as_user(world.parent)
    unread = _queries(parent, reverse("portal:rights_notice"))
    parent.post(reverse("portal:rights_notice"), {"notice": notice.pk})
    assert _queries(parent, reverse("portal:rights_notice")) == unread


def test_nothing_here_writes_on_a_get(world: World, officer: User) -> None:
    """GETs read and log; only the guardian's POSTs change rights records."""
    for name, kwargs in PAGES.items():
        page = url(name, pk=world.student.pk, **kwargs(world, officer))
        events = RightsEvent.objects.count()
        as_user(world.parent).get(page)
        assert RightsEvent.objects.count() == events, name


def test_guardians_see_statuses_in_words_not_colour_alone(world: World, officer: User) -> None:
    rights_data.given_consent(world, officer=officer)
    request = rights_data.delivered_inspection(world)
    assert request.status == InspectionStatus.DELIVERED
    page = as_user(world.parent).get(rights_url(world)).content.decode()
    for state in ("Not opted out", "You gave consent", "In force", "Ready"):
        assert f"<strong>{state}</strong>" in page


def test_the_switcher_from_a_rows_page_goes_to_the_other_childs_tab(
    world: World, officer: User
) -> None:
    brother = second_child(world)
    consent = rights_data.given_consent(world, officer=officer)
    page = as_user(world.parent).get(
        url("portal:child_rights_revoke", pk=world.student.pk, consent_id=consent.pk)
    )
    assert f'href="{rights_url(world, brother)}"' in page.content.decode()


def test_an_unread_notice_is_asked_on_the_childs_tab_too(world: World, officer: User) -> None:
    rights_data.notice(world, officer)
    tab = text(as_user(world.parent).get(rights_url(world)))
    assert "Please read your school district's annual notice of your rights." in tab


def test_contact_restricted_relationship_leaves_the_page_unlogged(world: World) -> None:
    GuardianRelationship.objects.filter(guardian=world.guardian, student=world.student).update(
        portal_access=False, contact_restricted=True
    )
    assert as_user(world.parent).get(rights_url(world)).status_code == 404
    assert not AccessLogEntry.objects.exists()

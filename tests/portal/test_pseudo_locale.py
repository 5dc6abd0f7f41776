"""No English left on a Spanish page (issue 20). Every page and email a family reads is rendered
for a guardian in a pseudo-language: each string that has a Spanish translation (ours in
locale/es, or Django's and allauth's own) comes out with its letters swapped for look-alikes
("Ｐｒｏｇｒｅｓｓ"); anything else keeps its plain letters. The visible text (text outside
script and style, and the title, aria-label, placeholder and alt attributes, and buttons'
values) is then read word by word: a plain word must be data (a name, a code, a title, an email
from the test's own database), never a sentence of ours. A string never marked for translation
is invisible to makemessages, so this is what finds it; a string marked but not translated is
found here too, and named. Signing in and joining are checked too: they are a family's way in."""

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.conf import settings
from django.conf.locale import LANG_INFO
from django.core import mail
from django.db import models
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.translation import trans_real

from accounts.services import invitation_create, invitation_send
from alerts.services import absence_alert_send, digest_send, unsubscribe_token
from assessments.models import Score, ScoreStatus, StudentAssessment
from portal.views.preferences import PreferencesForm
from privacy.models import AccessLogEntry
from rights.services import amendment_statement_add, consent_revoke
from students.models import AttendanceCategory, AttendanceEvent, GuardianRelationship, Relationship
from tests import factories
from tests.conftest import PASSWORD, World
from tests.portal import rights_data
from tests.portal.test_child_pages import history, second_child, year_of_data

pytestmark = pytest.mark.django_db

PSEUDO = "xx"
# The product's name, the one word of ours that no language translates.
PRODUCT_NAME = "Trellis"
CONTEXT_SEPARATOR = "\x04"
# Kept as they are inside a message: tags, entities, placeholders (%(name)s, %s, {name}).
_KEPT = re.compile(
    r"(<[^>]*>|&[#\w]+;|%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]|%[a-zA-Z%]|\{[^{}]*\})"
)
_PLAIN_WORD = re.compile(r"[A-Za-z]+")
_ADDRESS = re.compile(r"https?://\S+")


def pseudo(text: str) -> str:
    """Each ASCII letter as its fullwidth twin, outside tags, entities and placeholders."""
    parts = _KEPT.split(text)
    return "".join(
        part
        if index % 2
        else "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalpha() else c for c in part)
        for index, part in enumerate(parts)
    )


class PseudoTranslation:
    """Stands in for a language's catalog: a message with a Spanish translation comes out in
    pseudo letters, any other as it is (and is remembered, to name it if the page shows it)."""

    def __init__(self) -> None:
        self.spanish = trans_real.DjangoTranslation("es")._catalog  # type: ignore[attr-defined]
        self.untranslated: set[str] = set()

    def _one(self, key: object, message: str) -> str:
        text = message.split(CONTEXT_SEPARATOR)[-1]
        if key in self.spanish:
            return pseudo(text)
        self.untranslated.add(message.replace(CONTEXT_SEPARATOR, " | "))
        return text

    def gettext(self, message: str) -> str:
        return self._one(message, message)

    def ngettext(self, singular: str, plural: str, number: int) -> str:
        # Spanish, like English, has a singular (index 0) and a plural.
        return self._one((singular, 0), singular if number == 1 else plural)

    def to_language(self) -> str:
        return PSEUDO

    def language(self) -> str:
        return PSEUDO


class VisibleText(HTMLParser):
    """The text a person sees or hears: text nodes outside script, style and template, and the
    attributes read aloud or shown (title, aria-label, placeholder, alt, a button's value)."""

    HIDDEN = frozenset({"script", "style", "template"})
    READ_ATTRIBUTES = frozenset({"title", "aria-label", "placeholder", "alt"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self._hidden += 1
        values = dict(attrs)
        self.texts.extend(v for k, v in attrs if k in self.READ_ATTRIBUTES and v)
        if tag == "input" and values.get("type") in {"submit", "button", "reset"}:
            self.texts.append(values.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.texts.append(data)


def visible_texts(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    parser.close()
    return parser.texts


def _strings(value: object) -> Iterator[str]:
    """The strings in a field's value (a JSON field's lists and objects too)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def data_words() -> set[str]:
    """Every word of the test's own data: the text of every row of the records, the standards
    and assessments, the logins and the families' rights records (the district's notice, its
    recipients, requests and answers; choices left out: their labels are ours to translate). The
    records' JSON too (an incident's behaviors, as the district's system names them); not the
    mastery policy's, whose level names are ours unless a district wrote its own."""
    words: set[str] = {PRODUCT_NAME.lower()}
    for _code, name in settings.LANGUAGES:  # each language is offered in its own name
        words.update(w.lower() for w in _PLAIN_WORD.findall(name))
    for app in ("students", "assessments", "accounts", "rights"):
        for model in apps.get_app_config(app).get_models():
            fields = [
                field.attname
                for field in model._meta.concrete_fields
                if (
                    isinstance(field, models.CharField | models.TextField)
                    or (isinstance(field, models.JSONField) and app == "students")
                )
                and not field.choices
            ]
            if not fields:
                continue
            for row in model._default_manager.values_list(*fields):
                for text in _strings(list(row)):
                    words.update(w.lower() for w in _PLAIN_WORD.findall(text))
    return words


def plain_words(texts: list[str], allowed: set[str]) -> list[tuple[str, str]]:
    """(word, the text it is in) for each plain word that is not data."""
    found = []
    for text in texts:
        readable = _ADDRESS.sub(" ", text)
        for word in _PLAIN_WORD.findall(readable):
            if word.lower() not in allowed:
                found.append((word, " ".join(text.split())[:120]))
    return found


# --- The family's world: a guardian of two, one child with a year of records.


def _family(
    world: World, *, names: bool, discipline: bool, mastery: str
) -> dict[str, dict[str, object]]:
    """The family's world; returns the rights pages' row arguments (rights_records)."""
    world.district.access_log_names = "names" if names else "roles"
    world.district.guardians_see_discipline = discipline
    world.district.guardians_see_mastery = mastery
    world.district.save()
    world.parent.language = PSEUDO
    world.parent.save(update_fields=["language"])
    second_child(world)
    year_of_data(world, world.student, 3)
    history(
        world,
        world.student,
        world.standard,
        [(timezone.localdate() - dt.timedelta(days=40), 3), (timezone.localdate(), 1)],
    )
    # Staff read the child's record: "who has seen" has rows to name.
    for reader in (world.teacher, world.principal):
        staff = Client()
        staff.force_login(reader)
        assert staff.get(reverse("students:student_detail", kwargs={"pk": world.student.pk}))
    # Today's unexcused absence (the evening email), and missing work (the digest).
    AttendanceEvent.objects.create(
        district=world.district,
        student=world.student,
        school=world.school,
        section=world.section,
        event_date=timezone.localdate(),
        category=AttendanceCategory.UNEXCUSED_ABSENCE,
    )
    result = StudentAssessment.objects.create(
        district=world.district,
        student=world.student,
        assessment=world.assessment,
        administered_on=timezone.localdate(),
    )
    Score.objects.create(
        district=world.district,
        student_assessment=result,
        student=world.student,
        scored_on=timezone.localdate(),
        status=ScoreStatus.MISSING,
        points=Decimal(0),
    )
    return rights_records(world)


def rights_records(world: World) -> dict[str, dict[str, object]]:
    """The families' rights records the rights pages show, and each row page's arguments: the
    notice, an open consent request and a consent given (then revoked), a package delivered, a
    refused amendment, disclosures on three bases."""
    officer = rights_data.privacy_officer(world)
    rights_data.notice(world, officer, opt_out_by=rights_data.OPT_OUT_BY)
    open_request = rights_data.consent_request(world, officer, recipient_name="Reading Co")
    revoked = rights_data.given_consent(world, officer=officer)
    consent_revoke(acting_user=world.parent, consent=revoked)
    given = rights_data.given_consent(world, officer=officer, recipient_name="Math Co")
    rights_data.delivered_inspection(world)
    refused = rights_data.refused_amendment(world)
    amendment_statement_add(acting_user=world.parent, request=refused, statement="A retake.")
    rights_data.amendment(world, record_label="Home address")
    rights_data.disclosures(world, officer)
    return {
        "portal:child_rights_consent": {"request_id": open_request.pk},
        "portal:child_rights_revoke": {"consent_id": given.pk},
        "portal:child_rights_statement": {"request_id": refused.pk},
    }


# Not pages: the inspection package's downloads are files (a JSON data format and a PDF made in
# the guardian's language by students.record_pdf), read by tests/portal/test_rights.py.
NOT_PAGES = {"portal:child_rights_download"}


def portal_urls(
    world: World, rows: dict[str, dict[str, object]] | None = None
) -> Iterator[tuple[str, str]]:
    """(name, address) of every portal page, for each of the guardian's children; a page about
    one of a child's rows (a consent, a request) with the row `rows` names for it."""
    brother = world.other_school_student
    rows = rows or {}

    def walk(patterns: list, namespace: str) -> Iterator[tuple[str, URLPattern]]:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, f"{namespace}{entry.namespace or ''}:")
            elif isinstance(entry, URLPattern) and entry.name:
                yield f"{namespace}{entry.name}".lstrip(":"), entry

    for name, pattern in walk(get_resolver().url_patterns, ""):
        if not name.startswith("portal:") or name in NOT_PAGES:
            continue
        arguments = set(pattern.pattern.converters)
        if name in rows:
            assert arguments == {"pk", *rows[name]}, f"{name}: its arguments are {arguments}"
            for child in (world.student, brother):
                yield name, reverse(name, kwargs={**rows[name], "pk": child.pk})
        elif arguments == {"pk"}:
            for child in (world.student, brother):
                yield name, reverse(name, kwargs={"pk": child.pk})
        elif arguments == {"token"}:
            for what in ("absence", "digest", "all"):
                token = unsubscribe_token(world.parent, what)
                yield name, reverse(name, kwargs={"token": token})
            yield name, reverse(name, kwargs={"token": "not-a-token"})
        else:
            assert not arguments, f"{name}: teach this test its arguments {arguments}"
            yield name, reverse(name)


def _rights_forms(
    world: World, guardian: Client, rows: dict[str, dict[str, object]]
) -> Iterator[tuple[str, str]]:
    """The rights pages' forms, refused (values without letters: a refused value may be named
    as the person typed it) and done (the next page's message)."""
    pk = world.student.pk
    refused: list[tuple[str, dict[str, object], dict[str, str]]] = [
        ("portal:rights_notice", {}, {"notice": "0"}),
        ("portal:child_rights_directory", {"pk": pk}, {"choice": "1"}),
        ("portal:child_rights_consent", {"pk": pk, **rows["portal:child_rights_consent"]}, {}),
        (
            "portal:child_rights_consent",
            {"pk": pk, **rows["portal:child_rights_consent"]},
            {"password": "123"},
        ),
        ("portal:child_rights_revoke", {"pk": pk, **rows["portal:child_rights_revoke"]}, {}),
        ("portal:child_rights_inspection", {"pk": pk}, {"note": "1" * 3000}),
        ("portal:child_rights_amendment", {"pk": pk}, {"category": "1", "reason": "\x00"}),
        ("portal:child_rights_statement", {"pk": pk, **rows["portal:child_rights_statement"]}, {}),
    ]
    for name, kwargs, form in refused:
        url = reverse(name, kwargs=kwargs)
        response = guardian.post(url, form)
        assert response.status_code == 400, (url, form, response.status_code)
        yield f"POST {url} (refused)", response.content.decode()
    # A guardian without the child's rights: the pages without their forms, and a refusal.
    brother = world.other_school_student
    for name in ("portal:child_rights_directory", "portal:child_rights_inspection"):
        url = reverse(name, kwargs={"pk": brother.pk})
        response = guardian.post(url, {"choice": "opt_out"})
        assert response.status_code == 403, url
        yield f"POST {url} (no rights)", response.content.decode()
    done: list[tuple[str, dict[str, object], dict[str, str]]] = [
        ("portal:rights_notice", {}, {"notice": str(rights_data.current_notice_pk(world))}),
        ("portal:child_rights_directory", {"pk": pk}, {"choice": "opt_out"}),
        ("portal:child_rights_directory", {"pk": pk}, {"choice": "withdraw"}),
        (
            "portal:child_rights_consent",
            {"pk": pk, **rows["portal:child_rights_consent"]},
            {"password": PASSWORD},
        ),
        (
            "portal:child_rights_revoke",
            {"pk": pk, **rows["portal:child_rights_revoke"]},
            {"confirm": "revoke"},
        ),
        (
            "portal:child_rights_revoke",
            {"pk": pk, **rows["portal:child_rights_revoke"]},
            {"confirm": "revoke"},
        ),
        ("portal:child_rights_inspection", {"pk": pk}, {"note": ""}),
        ("portal:child_rights_inspection", {"pk": pk}, {"note": ""}),
        (
            "portal:child_rights_amendment",
            {"pk": pk},
            {
                "category": "other",
                "record_label": "Bus stop",
                "contested_value": "Elm",
                "reason": "We moved.",
            },
        ),
        (
            "portal:child_rights_statement",
            {"pk": pk, **rows["portal:child_rights_statement"]},
            {"statement": "A retake, twice."},
        ),
    ]
    for name, kwargs, form in done:
        url = reverse(name, kwargs=kwargs)
        response = guardian.post(url, form, follow=True)
        assert response.redirect_chain, (url, form, response.status_code)
        yield f"POST {url} (done)", response.content.decode()


@pytest.fixture
def pseudo_language(monkeypatch: pytest.MonkeyPatch) -> Iterator[PseudoTranslation]:
    """The pseudo-language, as a language of the site that pages and emails can be in."""
    with override_settings(LANGUAGES=[*settings.LANGUAGES, (PSEUDO, "Pseudo")]):
        trans_real.get_languages.cache_clear()  # type: ignore[attr-defined]
        trans_real._get_supported_language_variant.cache_clear()  # type: ignore[attr-defined]
        translation = PseudoTranslation()
        trans_real._translations[PSEUDO] = translation  # type: ignore[attr-defined]
        original = trans_real.check_for_language
        monkeypatch.setattr(
            trans_real, "check_for_language", lambda code: code == PSEUDO or original(code)
        )
        # The switcher names each language in its own words (Django's LANG_INFO).
        monkeypatch.setitem(
            LANG_INFO,
            PSEUDO,
            {"bidi": False, "code": PSEUDO, "name": "Pseudo", "name_local": "Pseudo"},
        )
        # The preferences form read the site's languages when it was first imported.
        monkeypatch.setattr(
            PreferencesForm.base_fields["language"], "choices", list(settings.LANGUAGES)
        )
        yield translation
    trans_real.get_languages.cache_clear()  # type: ignore[attr-defined]
    trans_real._get_supported_language_variant.cache_clear()  # type: ignore[attr-defined]


def _rendered(world: World, rows: dict[str, dict[str, object]]) -> Iterator[tuple[str, str]]:
    """(what, html or text) of every page and email a family reads."""
    guardian = Client()
    guardian.force_login(world.parent)
    for name, url in portal_urls(world, rows):
        response = guardian.get(url)
        assert response.status_code in (200, 404), (url, response.status_code)
        yield f"GET {url} ({name})", response.content.decode()
        if name == "portal:unsubscribe" and response.status_code == 200:
            yield f"POST {url}", guardian.post(url).content.decode()
    seen = reverse("portal:child_seen", kwargs={"pk": world.student.pk})
    for query in ("?who=others", "?date_from=2026-99-01", f"?who=u{world.teacher.pk}"):
        yield f"GET {seen}{query}", guardian.get(seen + query).content.decode()
    yield from _rights_forms(world, guardian, rows)
    preferences = reverse("portal:preferences")
    # Values without letters: a refused value is named in the message, as the person typed it.
    bad = guardian.post(preferences, {"language": "42", "digest": "7"})
    yield f"POST {preferences} (refused)", bad.content.decode()
    saved = guardian.post(
        preferences,
        {
            "language": PSEUDO,
            "same_day_absences": "on",
            "digest": "daily",
            "level_threshold": "3",
            "contact_method": "email",
            "contact_time": "evening",
        },
        follow=True,
    )
    assert saved.redirect_chain, "the preferences were not saved"
    yield f"POST {preferences} (saved)", saved.content.decode()
    yield (
        "a child not theirs (404)",
        guardian.get(
            reverse("portal:child_progress", kwargs={"pk": world.classmate.pk})
        ).content.decode(),
    )

    # Joining: the emailed invitation and its page, and the letter's code page.
    guardian_record = factories.GuardianFactory.create(district=world.district)
    GuardianRelationship.objects.create(
        district=world.district,
        guardian=guardian_record,
        student=world.student,
        relationship=Relationship.FATHER,
        portal_access=True,
    )
    invitation, token = invitation_create(
        guardian=guardian_record, email="dad@example.test", language=PSEUDO
    )
    visitor = Client()
    accept = reverse("invitation_accept", kwargs={"token": token})
    yield f"GET {accept}", visitor.get(accept).content.decode()
    refused = visitor.post(accept, {"password1": "short", "password2": "other"})
    yield f"POST {accept} (refused)", refused.content.decode()
    visitor.cookies[settings.LANGUAGE_COOKIE_NAME] = PSEUDO
    # Signing in, and a forgotten password (allauth's page, in its own catalog).
    login = reverse("account_login")
    yield f"GET {login}", visitor.get(login).content.decode()
    refused = visitor.post(login, {"login": world.parent.email, "password": "wrong"})
    yield f"POST {login} (refused)", refused.content.decode()
    reset = reverse("account_reset_password")
    yield f"GET {reset}", visitor.get(reset).content.decode()
    redeem = reverse("invitation_redeem")
    yield f"GET {redeem}", visitor.get(redeem).content.decode()
    refused = visitor.post(redeem, {"code": "NOPE", "email": "x", "password1": "a"})
    yield f"POST {redeem} (refused)", refused.content.decode()

    # The emails: an invitation, the evening's absence, the digest.
    mail.outbox.clear()
    invitation_send(guardian=guardian_record, email="mum@example.test", language=PSEUDO)
    assert absence_alert_send(user=world.parent) is not None
    assert digest_send(user=world.parent) is not None
    for message in mail.outbox:
        yield f"email: {message.subject}", f"{message.subject}\n{message.body}"
    del invitation


@pytest.mark.parametrize(
    "setting",
    [
        {"names": True, "discipline": True, "mastery": "always"},
        {"names": False, "discipline": False, "mastery": "released"},
    ],
    ids=["names-discipline-always", "roles-no-discipline-released"],
)
def test_every_word_a_family_reads_passed_through_translation(
    world: World, pseudo_language: PseudoTranslation, setting: dict
) -> None:
    rows = _family(world, **setting)
    rendered = list(_rendered(world, rows))
    allowed = data_words()
    problems = []
    for what, content in rendered:
        is_email = what.startswith("email:")
        texts = content.splitlines() if is_email else visible_texts(content)
        found = plain_words(texts, allowed)
        if found:
            shown = "; ".join(f"{word!r} in {text!r}" for word, text in found[:8])
            problems.append(f"{what}: {shown}")
    # Nothing is hidden from the check: every page rendered something to read.
    assert all(content.strip() for _, content in rendered)
    assert AccessLogEntry.objects.filter(student_id=world.student.pk).exists()
    untranslated = sorted(pseudo_language.untranslated)
    assert not problems, (
        "Text a family reads that did not pass through translation (mark it; if it is marked, "
        "translate it in locale/es):\n"
        + "\n".join(problems)
        + "\n\nMarked but without a Spanish translation (some may be on these pages): "
        + "; ".join(untranslated[:40])
    )


def test_the_pseudo_language_swaps_letters_but_keeps_markup_and_placeholders() -> None:
    assert pseudo("Hi") == "Ｈｉ"
    assert pseudo('<a href="%(url)s">Go</a> %(name)s, %s {n}') == (
        '<a href="%(url)s">Ｇｏ</a> %(name)s, %s {n}'
    )
    assert plain_words(visible_texts(f"<p>{pseudo('Progress')} Ada</p>"), {"ada"}) == []
    assert plain_words(visible_texts('<p title="Hello">x</p>'), {"x"}) == [("Hello", "Hello")]
    assert plain_words(visible_texts("<script>var English;</script><p>Ok</p>"), {"ok"}) == []

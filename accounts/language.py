"""The language of the pages (issue 20). Before sign-in, Django's LocaleMiddleware picks it from
the language cookie, else the browser's Accept-Language. Once signed in, the login's own language
(User.language) is used, so that a guardian finds the portal in theirs on any device; the cookie
follows it, so that the sign-in page after signing out stays in it. Choosing another language
(set_language) keeps it as the login's from then on: pages and emails."""

from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils import translation
from django.views import i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.models import User


def site_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


@transaction.atomic
def user_language_update(*, user: User, language: str) -> None:
    """The login's language, one of settings.LANGUAGES (the caller checked it)."""
    if language not in site_languages():
        raise ValueError(f"Not a language of the site: {language!r}")
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])


def chosen_language(request: HttpRequest) -> str | None:
    """The language a visitor chose with the switcher (its cookie), if one of the site's."""
    language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    return language if language in site_languages() else None


def _user_language(request: HttpRequest) -> str | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    language = getattr(user, "language", "")
    return language if language in site_languages() else None


class UserLanguageMiddleware:
    """After AuthenticationMiddleware (and LocaleMiddleware, which chose the language of a
    request without a login): a signed-in user's pages are in their language."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = _user_language(request)
        if language is not None and language != translation.get_language():
            translation.activate(language)
            request.LANGUAGE_CODE = language  # as LocaleMiddleware does
        response = self.get_response(request)
        # Read again: the view may have signed the user in, or out.
        language = _user_language(request)
        cookie = settings.LANGUAGE_COOKIE_NAME
        if (
            language is not None
            and request.COOKIES.get(cookie) != language
            and cookie not in response.cookies  # the view chose one (set_language, preferences)
        ):
            response.set_cookie(
                cookie,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response


@never_cache
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's set_language (the cookie, then back to `next`), for one of the site's languages
    only; a signed-in user keeps the choice as theirs (their pages and emails)."""
    language = request.POST.get("language", "")
    if language not in site_languages():
        return HttpResponseBadRequest(
            f"Unknown language {language[:20]!r}: choose one of {', '.join(site_languages())}.",
            content_type="text/plain; charset=utf-8",
        )
    if request.user.is_authenticated:
        assert isinstance(request.user, User)  # noqa: S101  # for mypy
        user_language_update(user=request.user, language=language)
    return i18n.set_language(request)

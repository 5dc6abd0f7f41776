"""Responses with a person's data are never kept by a browser or a proxy."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control

# Set by privacy.services.log_shown on the request whose response shows students' data.
SHOWS_STUDENT_DATA = "_trellis_shows_student_data"


class NoStoreMiddleware:
    """`Cache-Control: no-store` (and Django's never-cache headers) on every response to a
    signed-in user, and on any response that logged a read of students' data: a shared computer's
    back button or a proxy must not show a child's record to the next person."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if getattr(request, SHOWS_STUDENT_DATA, False) or getattr(user, "is_authenticated", False):
            add_never_cache_headers(response)
            patch_cache_control(response, no_store=True, private=True)
        return response

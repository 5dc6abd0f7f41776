"""The size of an uploaded import, enforced before and while its body is read.

The upload page refuses a request whose Content-Length already says it is too large before it
reads a byte of the body, and reads any other through LimitedUploadHandler, which counts the
file's bytes as they stream in and stops the request at the limit (Django never reads past the
Content-Length; the count holds whatever the server hands it). Either way the answer is the page
with a clear message and status 413, and nothing is kept. A chunked body without a length, which
Django would not read at all, gets 411 and a message rather than a form missing its file.
interop.services.import_upload_start checks the size again for callers that do not come through
the page.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024 * 1024
# What a request may carry besides the file: the form's other fields and the multipart framing
# (about 1 KiB in practice).
FORM_ALLOWANCE_BYTES = 64 * 1024


def max_upload_bytes() -> int:
    """The largest import file accepted (TRELLIS_MAX_IMPORT_UPLOAD_BYTES)."""
    return int(getattr(settings, "TRELLIS_MAX_IMPORT_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def too_large_message(
    limit: int, size: int | None = None, *, what: str = "file", accepted: str = "import"
) -> str:
    said = f"The {what} is {size:,} bytes;" if size is not None else f"The {what} is too large:"
    return f"{said} the largest {accepted} accepted is {limit:,} bytes."


def refused_before_reading(
    request: HttpRequest, *, limit: int | None = None, accepted: str = "import"
) -> tuple[int, str] | None:
    """(status, message) when the request is refused before a byte of its body is read: a
    Content-Length over the limit (default: an import's) and the form's allowance (413), or a
    chunked body without a length (411: Django reads only as much of a body as its
    Content-Length says, so the file would silently be lost). None for any other request.
    `accepted` names what the limit is for in the message ("lesson material")."""
    length = request.META.get("CONTENT_LENGTH")
    limit = max_upload_bytes() if limit is None else limit
    if not length:
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return 411, (
                "The upload was sent without its length (chunked): upload the file from this "
                f"page, or send it with a Content-Length; the largest {accepted} accepted is "
                f"{limit:,} bytes."
            )
        return None
    try:
        declared = int(length)
    except ValueError:
        return None
    if declared > limit + FORM_ALLOWANCE_BYTES:
        return 413, too_large_message(limit, declared, what="upload", accepted=accepted)
    return None


class LimitedUploadHandler(FileUploadHandler):
    """First of the request's upload handlers: passes each chunk on to the others (which keep
    the file) until the files' bytes pass the limit, then stops the request's parsing there
    without reading the rest of the body (`exceeded` says so)."""

    def __init__(
        self, request: HttpRequest | None = None, limit: int | None = None, accepted: str = "import"
    ) -> None:
        super().__init__(request)
        self.limit = max_upload_bytes() if limit is None else limit
        self.accepted = accepted
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            # connection_reset: the parser stops without reading the rest of the body; the
            # handlers after this one close (and delete) what they kept of the file.
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the handlers after this one make the file

    @property
    def message(self) -> str:
        return too_large_message(self.limit, accepted=self.accepted)

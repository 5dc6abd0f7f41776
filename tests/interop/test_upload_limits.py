"""An upload too large for an import is refused with a clear message (413): from its
Content-Length before any of its body is read, else as it streams, cut at the limit. The page's
CSRF check still holds for every upload it reads."""

import io
import zipfile
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from interop.models import ImportRun
from tests.conftest import World
from tests.interop.conftest import FIXTURES

pytestmark = pytest.mark.django_db

BOUNDARY = "limits-boundary"


class Body:
    """A request body (wsgi.input) that counts what is read of it, and fails the test if it is
    read when it must not be."""

    def __init__(self, data: bytes, *, readable: bool = True) -> None:
        self.data = io.BytesIO(data)
        self.may_read = readable
        self.read_bytes = 0

    def read(self, size: int | None = -1) -> bytes:
        assert self.may_read, "the request body was read"
        chunk = self.data.read(size if size is not None else -1)
        self.read_bytes += len(chunk)
        return chunk

    def readline(self, size: int | None = -1) -> bytes:
        return self.read(size)


def zipped_fixture() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted((FIXTURES / "v12").iterdir()):
            archive.write(path, path.name)
    return buffer.getvalue()


def multipart(fields: dict[str, str], file_bytes: bytes) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    head = "".join(parts) + (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="upload"; '
        'filename="export.zip"\r\nContent-Type: application/zip\r\n\r\n'
    )
    return head.encode() + file_bytes + f"\r\n--{BOUNDARY}--\r\n".encode()


def post(client: Client, body: Body, length: int):
    environ: dict[str, Any] = {
        "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
        "CONTENT_LENGTH": str(length),
        "wsgi.input": body,
    }
    return client.generic("POST", reverse("interop:import_upload"), b"", **environ)


def test_an_upload_declared_too_large_is_refused_before_its_body_is_read(
    world: World, settings
) -> None:
    settings.TRELLIS_MAX_IMPORT_UPLOAD_BYTES = 1_000_000
    # CSRF checks on, with the cookie the page sets, as in production: the CSRF middleware, which
    # reads the body to find the token, must not read this one.
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.district_staff)
    client.get(reverse("interop:import_upload"))
    assert client.cookies["csrftoken"].value
    body = Body(b"", readable=False)
    response = post(client, body, 50 * 1024 * 1024 * 1024)
    assert response.status_code == 413
    assert (
        b"The upload is 53,687,091,200 bytes; the largest import accepted is 1,000,000 bytes."
        in response.content
    )
    assert body.read_bytes == 0
    assert not ImportRun.objects.exists()
    # The page is exempt from the CSRF middleware only to check the size first: an upload it
    # reads still needs its token.
    data = multipart({"district": str(world.district.pk), "format": "oneroster"}, zipped_fixture())
    response = post(client, Body(data), len(data))
    assert response.status_code == 403
    assert not ImportRun.objects.exists()


def test_an_upload_past_the_limit_is_cut_as_it_streams(world: World, settings) -> None:
    settings.TRELLIS_MAX_IMPORT_UPLOAD_BYTES = 100_000
    client = Client()
    client.force_login(world.district_staff)
    # Within the Content-Length allowance for the form's other fields, so only the stream
    # counting sees that the file is too large.
    data = multipart(
        {"district": str(world.district.pk), "format": "oneroster"}, b"PK" + b"\0" * 149_998
    )
    body = Body(data)
    response = post(client, body, len(data))
    assert response.status_code == 413
    assert (
        b"The file is too large: the largest import accepted is 100,000 bytes." in response.content
    )
    assert body.read_bytes < len(data), "the body was read to its end"
    assert not ImportRun.objects.exists()


def test_a_chunked_upload_without_a_length_gets_a_clear_answer(world: World) -> None:
    client = Client()
    client.force_login(world.district_staff)
    body = Body(b"", readable=False)
    environ: dict[str, Any] = {
        "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": body,
    }
    response = client.generic("POST", reverse("interop:import_upload"), b"", **environ)
    assert response.status_code == 411
    assert b"The upload was sent without its length (chunked)" in response.content
    assert not ImportRun.objects.exists()


def test_an_anonymous_upload_is_sent_to_sign_in_without_reading_the_body() -> None:
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = "a" * 32
    body = Body(b"", readable=False)
    response = post(client, body, 50 * 1024 * 1024 * 1024)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]

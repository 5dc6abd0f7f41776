"""The product's own error pages, in the demo as in production: never Django's debug pages."""

import os
import subprocess
import sys
from pathlib import Path

from django.test import Client, RequestFactory
from django.views.defaults import server_error

ROOT = Path(__file__).resolve().parents[1]


def test_a_missing_page_is_the_products_404(client: Client, db: None) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "We could not find that page" in body
    assert "URLconf" not in body and "urlpatterns" not in body


def test_a_server_error_is_the_products_500() -> None:
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong on our side" in body and "Traceback" not in body


def test_the_demo_runs_with_debug_off() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_DEBUG", "DATABASE_URL"}}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    printed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.DEBUG, settings.STORAGES['staticfiles']['BACKEND'])",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert printed == ["False", "whitenoise.storage.CompressedManifestStaticFilesStorage"]


def test_make_demo_collects_the_static_files() -> None:
    makefile = (ROOT / "Makefile").read_text()
    demo = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert "collectstatic --no-input" in demo
    assert demo.index("collectstatic") < demo.index("runserver")

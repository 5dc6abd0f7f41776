"""Settings for benchmarks: the demo's settings with DEBUG off, on the PostgreSQL in DATABASE_URL.

DEBUG is off so that Django neither keeps every query in memory (which would distort the seed's
peak memory) nor renders debug pages; ROOT_URLCONF adds the bench-only plain pages to the app's
own URLs (config/urls.py never sees them). Field keys are fixed and bench-only, so that bench
runs neither read nor write the demo's keys in var/.
"""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASES, env

if not env.str("DATABASE_URL", default=""):
    # Never fall back to the demo's SQLite file in var/: bench/run.py always sets DATABASE_URL.
    raise ImproperlyConfigured("bench.settings needs DATABASE_URL (bench/run.py sets it).")

DEBUG = False
SECRET_KEY = "bench-only-not-secret-" + "z" * 40  # noqa: S105
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "bench.urls"
# Off for benchmarks that sign in the demo's users (no authenticator); the dashboard benchmark
# turns it on, as production has it, for a teacher it enrolls.
TRELLIS_REQUIRE_STAFF_MFA = env.bool("BENCH_REQUIRE_STAFF_MFA", default=False)
if env.str("BENCH_STATIC_ROOT", default=""):
    # The Lighthouse benchmark serves static files as production does: collected into its own
    # STATIC_ROOT, hashed and compressed by whitenoise's manifest storage (the app's STORAGES).
    STATIC_ROOT = Path(env.str("BENCH_STATIC_ROOT"))
else:
    # The others serve no static files and run no collectstatic.
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
TRELLIS_FIELD_KEYS = ["5L0PXXGHvs_wnEj-Q8B_pGZdokMVMc_bKp1wXTiYz6U="]
TRELLIS_HMAC_KEY = "YmVuY2gtaG1hYy1rZXktbm90LXNlY3JldC0wMTIzNDU="
# Persistent connections only when a benchmark asks for them (the app's settings do not set it).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("BENCH_CONN_MAX_AGE", default=0)

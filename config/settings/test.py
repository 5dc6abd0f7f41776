"""The test suite: DATABASE_URL picks PostgreSQL, CELERY_BROKER_URL a real worker."""

from config.settings.base import *  # noqa: F403
from config.settings.base import CELERY_BROKER_URL, VAR_DIR, env

DEBUG = False
SECRET_KEY = "test-only-not-secret-" + "y" * 40  # noqa: S105
TRELLIS_REQUIRE_STAFF_MFA = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT = None  # type: ignore[assignment]  # base sets a Path; tests serve through finders
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Fixed test-only keys, so that a worker subprocess decrypts what the test process wrote.
TRELLIS_FIELD_KEYS = env.list(
    "TRELLIS_FIELD_KEYS", default=["014296wCps317de8kY2oT6xHcoQ6miwZXbYZSEyA5V8="]
)
TRELLIS_HMAC_KEY = env.str(
    "TRELLIS_HMAC_KEY", default="dGVzdC1obWFjLWtleS1ub3Qtc2VjcmV0LTAxMjM0NTY="
)
ACCOUNT_RATE_LIMITS = False
# No cached section grids (a Celery worker subprocess could not retire this process's memory);
# tests/dashboard/test_cache.py turns the cache on where it tests it.
CACHES = {
    **CACHES,  # noqa: F405
    # Each test process its own (tests/accounts/test_rate_limits.py tries the shared one).
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "dashboard": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    "dashboard_versions": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
}

# A real worker (CELERY_BROKER_URL set) cannot reach an in-memory SQLite test database: use a file.
if CELERY_BROKER_URL and DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-trellis.sqlite3")}  # noqa: F405

# Uploads and inspection packages the tests write: never the demo's var/media. A fixed folder, so
# that a real worker (tests/celery_worker.py, these settings too) reads what a test wrote.
MEDIA_ROOT = VAR_DIR / "test-media"

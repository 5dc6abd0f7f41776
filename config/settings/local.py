"""The demo and local development: SQLite in var/, eager Celery, keys generated into var/."""

from config.settings.base import *  # noqa: F403
from config.settings.base import VAR_DIR, env
from config.settings.keys import load_or_create_demo_keys

# Off, as in production: the demo shows the product's own 404 and 500 pages, never Django's
# debug pages with their list of URLs (DJANGO_DEBUG=1 for development).
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="demo-only-not-secret-" + "x" * 40)
TRELLIS_REQUIRE_STAFF_MFA = env.bool("TRELLIS_REQUIRE_STAFF_MFA", default=False)
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
# Static files as production serves them: collected (`make demo` runs collectstatic) and
# compressed, with hashed names; in development (DEBUG on) straight from the source folders.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
(VAR_DIR / "staticfiles").mkdir(parents=True, exist_ok=True)
if DEBUG:
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

TRELLIS_FIELD_KEYS = env.list("TRELLIS_FIELD_KEYS", default=[])
TRELLIS_HMAC_KEY = env.str("TRELLIS_HMAC_KEY", default="")
if not TRELLIS_FIELD_KEYS or not TRELLIS_HMAC_KEY:
    _demo_field_keys, _demo_hmac_key = load_or_create_demo_keys(VAR_DIR)
    TRELLIS_FIELD_KEYS = TRELLIS_FIELD_KEYS or _demo_field_keys
    TRELLIS_HMAC_KEY = TRELLIS_HMAC_KEY or _demo_hmac_key

"""The demo and local development: SQLite in var/, eager Celery, keys generated into var/."""

from config.settings.base import *  # noqa: F403
from config.settings.base import VAR_DIR, env
from config.settings.keys import load_or_create_demo_keys

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="demo-only-not-secret-" + "x" * 40)
TRELLIS_REQUIRE_STAFF_MFA = env.bool("TRELLIS_REQUIRE_STAFF_MFA", default=False)
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
(VAR_DIR / "staticfiles").mkdir(parents=True, exist_ok=True)
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

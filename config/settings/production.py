"""Production: every secret from the environment, HTTPS only, MFA required for staff."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import TRELLIS_FIELD_KEYS, TRELLIS_HMAC_KEY, env

DEBUG = False
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
if not TRELLIS_FIELD_KEYS or not TRELLIS_HMAC_KEY:
    raise ImproperlyConfigured("Set TRELLIS_FIELD_KEYS and TRELLIS_HMAC_KEY in the environment.")

SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = False
# Enrolment links must reach the staff member's mailbox, never the server's log.
EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_HOST = env.str("DJANGO_EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("DJANGO_EMAIL_PORT", default=587)
EMAIL_HOST_USER = env.str("DJANGO_EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("DJANGO_EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("DJANGO_EMAIL_USE_TLS", default=True)

# Hosts do not share var/: without a shared cache for the mastery versions (TRELLIS_CACHE_URL,
# Redis), the section page caches nothing rather than risk old levels from another host's write.
if not env.str("TRELLIS_CACHE_URL", default=""):
    CACHES = {
        **CACHES,  # noqa: F405
        "dashboard": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
        "dashboard_versions": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }

"""Settings shared by every environment; everything that differs comes from the environment."""

from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "guardian",
    "django_htmx",
    "csp",
    "accounts",
    "students",
    "assessments",
    "lessons",
    "dashboard",
    "portal",
    "alerts",
    "rights",
    "interop",
    "rollups",
    "privacy",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Outermost of what reads the user, so that every response to one is marked no-store.
    "privacy.middleware.NoStoreMiddleware",
    # The page's language: the cookie or the browser's, before sign-in (then accounts.language).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A signed-in user's own language (User.language), whatever the browser says.
    "accounts.language.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "accounts.middleware.AccessEndedMiddleware",
    "accounts.middleware.StaffMFARequiredMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.roles",
                "accounts.context_processors.top_bar",
            ],
        },
    },
]

# SQLite by default (the demo needs nothing installed); DATABASE_URL switches to PostgreSQL.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'trellis.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and IMMEDIATE transactions so that eager tasks and a threaded server do not
    # trip over "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Persistent connections: opening one per request was the largest cost of a page
    # (docs/benchmarks.md, roster section: 1.8x the requests per second).
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    # Django's and allauth's, reading whether the user has MFA with the user (accounts.backends).
    "accounts.backends.ModelBackend",
    "accounts.backends.AuthenticationBackend",
    "guardian.backends.ObjectPermissionBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The portal's languages (issue 20); a language added here needs its catalog under locale/ and a
# parent_description_<code> field on assessments.Standard.
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TRELLIS_TIME_ZONE", default="America/Denver")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
# Uploads larger than this are refused with a clear message (imports have their own limit).
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
TRELLIS_MAX_IMPORT_UPLOAD_BYTES = env.int(
    "TRELLIS_MAX_IMPORT_UPLOAD_BYTES", default=512 * 1024 * 1024
)
# Imports are bounded whatever the file holds: one record (a CSV row, an XML interchange's
# top-level element, a control-file line) and one CSV field, refused with the file and line;
# and how many errors an import keeps (the one cap every importer's error state follows).
TRELLIS_IMPORT_MAX_RECORD_BYTES = env.int(
    "TRELLIS_IMPORT_MAX_RECORD_BYTES", default=4 * 1024 * 1024
)
TRELLIS_IMPORT_MAX_FIELD_CHARS = env.int("TRELLIS_IMPORT_MAX_FIELD_CHARS", default=1024 * 1024)
TRELLIS_IMPORT_ERROR_LIMIT = env.int("TRELLIS_IMPORT_ERROR_LIMIT", default=200)
# A large Ed-Fi load parses its XML in a forked second process while this one writes
# (interop.edfi.relay); off, one process does both, one after the other.
TRELLIS_EDFI_READ_IN_CHILD = env.bool("TRELLIS_EDFI_READ_IN_CHILD", default=True)
# A file in a district's drop folder is imported once it has not changed for this long (and an
# earlier poll saw it as it is): an SFTP upload in progress is left alone.
TRELLIS_DROP_FOLDER_SETTLE_SECONDS = env.int("TRELLIS_DROP_FOLDER_SETTLE_SECONDS", default=60)
# A lesson plan's uploaded material (lessons.services.material_add_file) is refused above this.
TRELLIS_LESSON_UPLOAD_MAX_BYTES = env.int(
    "TRELLIS_LESSON_UPLOAD_MAX_BYTES", default=10 * 1024 * 1024
)

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

# --- allauth: email + password, no public sign-up, rate limits on, MFA offered.
ACCOUNT_ADAPTER = "accounts.adapters.TrellisAccountAdapter"
# The client address that rate limits count: REMOTE_ADDR, or behind this many proxies of ours the
# X-Forwarded-For entry the nearest of them appended; never a header the client wrote itself.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRELLIS_TRUSTED_PROXY_COUNT", default=0)
# The site's address in emailed links (two-factor enrolment, invitations, families' alerts),
# e.g. https://trellis.district.org
TRELLIS_BASE_URL = env.str("TRELLIS_BASE_URL", default="")
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PREVENT_ENUMERATION = True
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
# Staff must enrol in MFA in production; demo and tests turn it off.
TRELLIS_REQUIRE_STAFF_MFA = env.bool("TRELLIS_REQUIRE_STAFF_MFA", default=True)

EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="trellis@localhost")

# --- django-guardian: no anonymous user object; object permissions in direct FK tables.
ANONYMOUS_USER_NAME = None
GUARDIAN_MONKEY_PATCH_USER = False
GUARDIAN_RAISE_404 = True

# --- Field encryption: MultiFernet keys (first encrypts, all decrypt) and the HMAC key.
# Never derived from SECRET_KEY. Environments that do not set them get them from var/ (demo).
TRELLIS_FIELD_KEYS = env.list("TRELLIS_FIELD_KEYS", default=[])
TRELLIS_HMAC_KEY = env.str("TRELLIS_HMAC_KEY", default="")

# --- Caches. The section page caches its grid per process ("dashboard") under a per-district
# mastery version that every process must see alike ("dashboard_versions", see dashboard/cache.py):
# Redis when TRELLIS_CACHE_URL is set, else files in var/ (every process of one host).
TRELLIS_CACHE_URL = env.str("TRELLIS_CACHE_URL", default="")
CACHES = {
    # Shared by every process (the login and MFA rate limits live here, not in one process's
    # memory): Redis when TRELLIS_CACHE_URL is set, else files in var/ (one host's processes).
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": TRELLIS_CACHE_URL}
        if TRELLIS_CACHE_URL
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache" / "default"),
        }
    ),
    "dashboard": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "dashboard",
        "OPTIONS": {"MAX_ENTRIES": 64},
    },
    "dashboard_versions": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": TRELLIS_CACHE_URL}
        if TRELLIS_CACHE_URL
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache" / "dashboard-versions"),
        }
    ),
}

# --- Celery: eager exactly when no broker is configured.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A publish on a request's path gives up within a second when the broker is away (no retry:
# config.celery_app.publish logs it and the periodic sweeps send the work later).
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 1}
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "assessments.tasks.*": {"queue": "mastery"},
    "interop.tasks.*": {"queue": "imports"},
}
CELERY_BEAT_SCHEDULE = {
    # The database is the source of truth: pick up estimates whose message was lost.
    "mastery-sweep": {"task": "assessments.tasks.mastery_sweep", "schedule": 60.0},
    # Imports saved while the broker was away: sent once it is back.
    "import-sweep": {"task": "interop.tasks.import_sweep", "schedule": 60.0},
    # Districts' drop folders (interop.dropfolder): a file complete for a minute or more is
    # imported within about three.
    "drop-folders-poll": {"task": "interop.tasks.drop_folders_poll_task", "schedule": 120.0},
    "mastery-fit": {"task": "assessments.tasks.mastery_model_fit_all", "schedule": 24 * 3600.0},
    # Access reads the records by date; the mirror of derived memberships is tidied nightly.
    "access-mirror": {"task": "accounts.tasks.derived_access_sync_all", "schedule": 24 * 3600.0},
    # Rollups: students whose estimates' notice was lost are recounted within a minute; every
    # night everything is rebuilt from the raw data and the drift (should be 0) logged.
    "rollups-flush": {"task": "rollups.tasks.rollups_flush", "schedule": 60.0},
    "rollups-rebuild": {
        "task": "rollups.tasks.rollups_rebuild_all",
        "schedule": crontab(hour=2, minute=30),
    },
    # Families' alerts (alerts.tasks), in the evening, local time: the day's unexcused absences,
    # then the digests due (each run records what it sent: a second run sends nothing twice).
    "alerts-absences": {
        "task": "alerts.tasks.absence_alerts_evening",
        "schedule": crontab(hour=18, minute=0),
    },
    "alerts-digests": {
        "task": "alerts.tasks.digests_evening",
        "schedule": crontab(hour=18, minute=15),
    },
    # Families' rights (rights.tasks): students who turned 18 hold their own rights from that
    # day, flagged early each morning, local time (a second run flags nobody twice).
    "rights-eligible-students": {
        "task": "rights.tasks.eligible_students_flag_daily",
        "schedule": crontab(hour=0, minute=30),
    },
}
# The weekday weekly digests go out on (0 is Monday; 4, Friday).
TRELLIS_WEEKLY_DIGEST_WEEKDAY = env.int("TRELLIS_WEEKLY_DIGEST_WEEKDAY", default=4)
CELERY_TIMEZONE = TIME_ZONE

# --- Security headers. The CSP allows no inline script; plotly.js needs inline styles and
# data: images (heatmaps are drawn as images).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 60 * 60

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="WARNING")},
    # Grants, resets and invitations are audit lines: always written.
    "loggers": {"accounts": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}

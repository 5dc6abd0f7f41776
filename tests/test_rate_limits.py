"""Login rate limits live in the shared cache (Redis when configured), so that every process of
every host counts the same attempts, and count the client's real address: a forged
X-Forwarded-For does not buy new attempts."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from django.core.cache import caches
from django.test import Client, RequestFactory, override_settings

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = "redis://127.0.0.1:6379/14"
# allauth's own defaults, which the test settings turn off.
RATE_LIMITS = {"login_failed": "10/m/ip,5/300s/key"}


def _redis_or_skip() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("Redis at 127.0.0.1:6379 is not running: start it to test the shared cache")
    client.flushdb()
    return client


def _shared_cache() -> dict:
    return {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }


def _fail_login(client: Client, email: str, forwarded_for: str) -> str:
    """How the login page answers a wrong password: "wrong" or "limited"."""
    response = client.post(
        "/accounts/login/",
        {"login": email, "password": "wrong-password"},
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )
    limited = response.status_code == 429 or b"Too many failed login attempts" in response.content
    return "limited" if limited else "wrong"


@pytest.mark.django_db
def test_failed_logins_are_counted_in_redis_and_a_forged_address_buys_nothing() -> None:
    store = _redis_or_skip()
    with override_settings(CACHES=_shared_cache(), ACCOUNT_RATE_LIMITS=RATE_LIMITS):
        client = Client()
        # Ten failures a minute from one address, each naming another account and claiming
        # another address in X-Forwarded-For.
        statuses = [
            _fail_login(client, f"nobody{n}@example.test", f"203.0.113.{n}") for n in range(10)
        ]
        assert set(statuses) == {"wrong"}
        assert store.dbsize() > 0, "the attempts are counted in Redis"
        # Another process (a fresh connection, nothing in this process's memory) sees them.
        caches["default"].close()
        del caches["default"]
        assert _fail_login(Client(), "nobody99@example.test", "198.51.100.7") == "limited"


def test_every_setting_puts_the_shared_cache_behind_the_rate_limits() -> None:
    """With TRELLIS_CACHE_URL set, the default cache (allauth's) is Redis in every settings
    module that serves; without it, files every process of the host shares, never memory."""
    for module, extra in (
        ("config.settings.local", {}),
        (
            "config.settings.production",
            {
                "DJANGO_SECRET_KEY": "x" * 50,
                "TRELLIS_FIELD_KEYS": "5L0PXXGHvs_wnEj-Q8B_pGZdokMVMc_bKp1wXTiYz6U=",
                "TRELLIS_HMAC_KEY": "k" * 40,
                "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x",
            },
        ),
    ):
        for cache_url, backend in (
            (REDIS_URL, "django.core.cache.backends.redis.RedisCache"),
            ("", "django.core.cache.backends.filebased.FileBasedCache"),
        ):
            env = {**os.environ, **extra, "DJANGO_SETTINGS_MODULE": module}
            env["TRELLIS_CACHE_URL"] = cache_url
            printed = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import django; django.setup(); from django.conf import settings; "
                    "print(settings.CACHES['default']['BACKEND'])",
                ],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            assert printed == backend, (module, cache_url)


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "counted"),
    [
        (0, "203.0.113.9", "192.0.2.1"),  # no proxy of ours: the header is the client's own
        (1, "203.0.113.9, 198.51.100.4", "198.51.100.4"),  # what our proxy appended
        (2, "6.6.6.6, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
    ],
)
def test_the_counted_address_comes_from_our_proxies_only(
    proxies: int, forwarded_for: str, counted: str
) -> None:
    from allauth.core.internal.httpkit import get_client_ip

    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=forwarded_for)
    with override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=proxies):
        assert get_client_ip(request) == counted

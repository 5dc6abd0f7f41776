"""A real Celery worker as a subprocess on the test database (used when CELERY_BROKER_URL is set).

Tests that use it must be transactional (`django_db(transaction=True)`), so that the worker sees
committed rows and `transaction.on_commit` fires.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
# The last lines the worker printed, for a failing test's report.
WORKER_LOG: deque[str] = deque(maxlen=400)


def broker_configured() -> bool:
    return bool(settings.CELERY_BROKER_URL)


def _worker_env(broker_url: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    db = connection.settings_dict
    if db["ENGINE"].endswith("postgresql"):
        user = db.get("USER") or "postgres"
        host = db.get("HOST") or "127.0.0.1"
        port = db.get("PORT") or 5432
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        env["DATABASE_URL"] = f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    env["CELERY_BROKER_URL"] = broker_url or settings.CELERY_BROKER_URL
    return env


@contextmanager
def celery_worker(
    queues: str = "default,mastery,imports", concurrency: int = 1, broker_url: str | None = None
) -> Iterator[subprocess.Popen]:
    """Start `celery worker` on the test database; stop it (TERM, then KILL) afterwards, and
    wait for its database sessions to end."""
    sessions_before = _database_sessions()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queues,
            "--pool=prefork",
            f"--concurrency={concurrency}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "INFO",
        ],
        cwd=ROOT,
        env=_worker_env(broker_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        _wait_ready(process)
        # Keep draining the worker's output so that a full pipe never blocks it.
        assert process.stdout is not None  # stdout=PIPE above; _wait_ready relies on it too
        os.set_blocking(process.stdout.fileno(), True)
        threading.Thread(target=_drain, args=(process,), daemon=True).start()
        yield process
    finally:
        stop_worker(process)
        # A killed client's server session ends a moment after it: dropping the test database
        # at the end of the run failed while one was still there ("being accessed by other
        # users").
        wait_until(lambda: _database_sessions() <= sessions_before, timeout=10.0)


def _database_sessions() -> set[int]:
    """The server sessions on the test database (PostgreSQL; none elsewhere)."""
    if connection.vendor != "postgresql":
        return set()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return {pid for (pid,) in cursor.fetchall()}


def _drain(process: subprocess.Popen) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        WORKER_LOG.append(line)


def _wait_ready(process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    assert process.stdout is not None
    os.set_blocking(process.stdout.fileno(), False)
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line:
            seen.append(line)
            if "ready." in line:
                return
        elif process.poll() is not None:
            break
        else:
            time.sleep(0.1)
    raise RuntimeError("Celery worker did not start:\n" + "".join(seen[-40:]))


def stop_worker(process: subprocess.Popen, *, kill: bool = False) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL if kill else signal.SIGTERM)
        process.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()

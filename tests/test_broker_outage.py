"""A lost broker loses no answer: with Redis stopped, a teacher's saved scores answer success
(they are committed), the estimates wait in the database, and the periodic sweep sends them once
Redis is back, where a real worker brings them up to date. The test runs its own redis-server,
which it stops and starts, and a real Celery worker on it."""

import datetime as dt
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assessments.models import MasteryEstimate, Score
from assessments.tasks import SWEEP_GRACE, mastery_sweep
from config.celery_app import app, publish
from tests.celery_worker import broker_configured, celery_worker, wait_until
from tests.conftest import build_world

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not broker_configured(), reason="CELERY_BROKER_URL unset: tasks run eagerly"
    ),
    pytest.mark.skipif(
        shutil.which("redis-server") is None, reason="redis-server is not installed"
    ),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """A redis-server of the test's own, on a port of its own, that it can stop and start."""

    def __init__(self, directory: Path) -> None:
        self.port = _free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert wait_until(self._answers, timeout=10), "redis-server did not start"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def _rebuild_pools(url: str) -> None:
    """Point this process's publishing at `url`: celery builds its pools again on next use."""
    conf = cast(Any, app.conf)  # celery-types makes these read-only; Celery's conf is a dict
    conf.broker_url = conf.broker_write_url = url
    cast(Any, app)._pool = None  # celery's own cache of the pool, rebuilt on next use
    cast(Any, app.amqp)._producer_pool = None  # as above, for the producers


@contextmanager
def producer_on(url: str) -> Iterator[None]:
    """This process publishes to `url`, then to the configured broker again."""
    previous = app.conf.broker_write_url
    _rebuild_pools(url)
    try:
        yield
    finally:
        _rebuild_pools(previous)


def test_a_score_saved_while_redis_is_down_answers_and_its_estimate_catches_up(
    tmp_path: Path,
) -> None:
    world = build_world()
    redis_server = RedisServer(tmp_path)
    redis_server.start()
    try:
        with producer_on(redis_server.url), celery_worker(broker_url=redis_server.url):
            redis_server.stop()
            client = Client()
            client.force_login(world.teacher)
            url = reverse(
                "assessments:score_grid",
                kwargs={"pk": world.section.pk, "assessment_id": world.assessment.pk},
            )
            started = time.monotonic()
            response = client.post(
                url, {f"score-{world.student.pk}-0": "8", f"status-{world.student.pk}": "scored"}
            )
            took = time.monotonic() - started
            # The teacher's answer: saved (the redirect back to the grid), not a server error.
            assert response.status_code == 302, response.content[:500]
            assert took < 10, f"the page waited {took:.1f} s on the broker"
            assert Score.objects.filter(student=world.student, points=8).exists()
            estimate = MasteryEstimate.objects.get(student=world.student)
            assert estimate.pending_since is not None
            # Nothing can be sent while Redis is away: the sweep says so and loses nothing.
            assert not publish(mastery_sweep)

            redis_server.start()
            # One sweep interval later (the grace is moved back, not waited for).
            MasteryEstimate.objects.filter(pk=estimate.pk).update(
                pending_since=timezone.now() - SWEEP_GRACE - dt.timedelta(seconds=1)
            )
            # The beat sends the sweep every interval; the first send after an outage may meet a
            # connection the outage broke (logged), the next one goes through.
            assert wait_until(lambda: publish(mastery_sweep), timeout=15, interval=1)

            def caught_up() -> bool:
                current = MasteryEstimate.objects.get(pk=estimate.pk)
                return current.pending_since is None and current.evidence_count == 1

            assert wait_until(caught_up, timeout=60)
    finally:
        redis_server.stop()

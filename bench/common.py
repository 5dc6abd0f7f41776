"""What every benchmark shares: the machine, PostgreSQL databases, child processes, statistics.

A benchmark is a module `bench/bench_<name>.py` exposing

    NAME = "roster"            # the section key: `bench/run.py --only roster`
    TITLE = "Section roster page under load"
    ORDER = 20                 # where its section sits in docs/benchmarks.md
    DEFAULT_REPEAT = 3         # runs per figure unless `--repeat` says otherwise
    NEEDS_POSTGRES = True
    def run(context: Context) -> Section: ...

It reports each figure as the median of `context.repeat` runs and as a ratio to a baseline
measured in the same run. bench/run.py adds the heading and the machine line to its section.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_SETTINGS = "bench.settings"
DEFAULT_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
# Databases this run creates are named trellis_bench_<what>_<pid>, so that two runs never collide.
DATABASE_PREFIX = "trellis_bench_"


def log(message: str) -> None:
    """Progress goes to stderr, with the time, so that a slow step is visible as it runs."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class BenchError(Exception):
    """A benchmark could not run; the message says why and what to do."""


@dataclass
class Section:
    """A benchmark's part of docs/benchmarks.md: markdown without its heading."""

    body: str
    summary: str = ""  # one line for the console at the end of the run


# --- statistics ---------------------------------------------------------------------------------


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: a value that was actually observed."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of no values")
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}×" if baseline else "n/a"


def ratio_of_runs(values: Sequence[float], baselines: Sequence[float]) -> str:
    """The median of each run's own ratio: a run disturbed by other work moves both sides."""
    if not values or len(values) != len(baselines) or not all(baselines):
        return "n/a"
    return f"{median(v / b for v, b in zip(values, baselines, strict=True)):.2f}×"


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def fmt_s(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds:.0f} s ({seconds / 60:.1f} min)"


def fmt_mib(num_bytes: float) -> str:
    return f"{num_bytes / 2**20:,.0f} MiB"


def runs_label(count: int) -> str:
    return f"median of {count} run{'s' if count != 1 else ''}"


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


# --- the machine --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Machine:
    cpu_model: str
    cores: int
    ram_bytes: int
    kernel: str
    python: str
    django: str
    psycopg: str
    gunicorn: str
    postgresql: str
    git: str

    def line(self) -> str:
        """The compact description each section carries (sections may come from different runs)."""
        return (
            f"{self.cpu_model}, {self.cores} cores, {self.ram_bytes / 2**30:.0f} GiB RAM; "
            f"Python {self.python}, Django {self.django}, PostgreSQL {self.postgresql}; "
            f"commit {self.git}"
        )

    def markdown(self) -> str:
        return table(
            ["", ""],
            [
                ("CPU", f"{self.cpu_model} ({self.cores} cores)"),
                ("RAM", f"{self.ram_bytes / 2**30:.1f} GiB"),
                ("Kernel", self.kernel),
                ("Python", self.python),
                ("Django", self.django),
                ("PostgreSQL", self.postgresql),
                ("psycopg", self.psycopg),
                ("gunicorn", self.gunicorn),
                ("Commit", self.git),
            ],
        )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_bytes() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git_revision() -> str:
    git = shutil.which("git")
    if git is None:
        return "unknown"
    try:
        revision = subprocess.run(
            [git, "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            [git, "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{revision}{' + uncommitted changes' if dirty else ''}"


def machine_describe(postgresql_version: str) -> Machine:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return Machine(
        cpu_model=_cpu_model(),
        cores=cores,
        ram_bytes=_ram_bytes(),
        kernel=f"{platform.system()} {platform.release()}",
        python=platform.python_version(),
        django=_version("django"),
        psycopg=_version("psycopg"),
        gunicorn=_version("gunicorn"),
        postgresql=postgresql_version,
        git=_git_revision(),
    )


def load_average() -> str:
    try:
        return " / ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


# --- PostgreSQL ---------------------------------------------------------------------------------


def database_url(admin_url: str, name: str) -> str:
    """admin_url with another database name (DATABASE_URL for Django, conninfo for psycopg)."""
    parts = urlsplit(admin_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + quote(name), parts.query, ""))


class Databases:
    """Creates and drops the databases a run uses; a migrated template makes each one cheap."""

    def __init__(self, admin_url: str, workdir: Path, *, keep: bool = False) -> None:
        self.admin_url = admin_url
        self.workdir = workdir
        self.keep = keep
        self.created: list[str] = []
        self._template: str | None = None
        self._suffix = str(os.getpid())

    def name(self, what: str) -> str:
        return f"{DATABASE_PREFIX}{what}_{self._suffix}"

    def url(self, name: str) -> str:
        return database_url(self.admin_url, name)

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql)

    def server_version(self) -> str:
        import psycopg

        with psycopg.connect(self.admin_url, connect_timeout=5) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]).split()[0] if row else "unknown"

    def create(self, what: str, *, template: str | None = None) -> str:
        name = self.name(what)
        self.drop(name)
        log(f"creating database {name}" + (f" from {template}" if template else ""))
        self._admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        self.created.append(name)
        return name

    def drop(self, name: str) -> None:
        if not name.startswith(DATABASE_PREFIX):
            raise BenchError(f"refusing to drop {name}: not a bench database")
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.created:
            self.created.remove(name)

    def checkpoint(self) -> None:
        """Flush what earlier steps wrote, so that a checkpoint does not land in a measurement."""
        import psycopg

        try:
            self._admin("CHECKPOINT")
        except psycopg.Error as exc:  # CHECKPOINT needs a superuser (or pg_checkpoint role)
            log(f"could not CHECKPOINT ({str(exc).strip()}); carrying on")

    def release(self, name: str) -> None:
        """Drop a database the benchmark is done with, unless the run keeps them (--keep)."""
        if not self.keep:
            self.drop(name)

    def migrated(self, what: str) -> str:
        """A new database with every migration applied (copied from a template migrated once)."""
        if self._template is None:
            template = self.create("template")
            log("migrating the template database")
            result = manage(
                ["migrate", "--no-input"],
                database_url=self.url(template),
                log_path=self.log_path("migrate"),
            )
            result.check("manage.py migrate")
            log(f"migrated in {result.wall_s:.1f} s")
            self._template = template
        return self.create(what, template=self._template)

    def drop_all(self) -> None:
        if self.keep:
            if self.created:
                log("kept databases: " + ", ".join(self.created))
            return
        for name in list(self.created):
            try:
                self.drop(name)
            except Exception as exc:  # cleanup must try every database
                log(f"could not drop {name}: {exc}")

    def log_path(self, name: str) -> Path:
        return self.workdir / f"{name}.log"


def postgres_check(admin_url: str) -> str:
    """The server's version, or a BenchError that says PostgreSQL is unreachable."""
    try:
        import psycopg
    except ImportError as exc:
        raise BenchError("psycopg is not installed: run `make install` first.") from exc
    try:
        with psycopg.connect(admin_url, connect_timeout=5) as conn:
            row = conn.execute("SHOW server_version").fetchone()
    except psycopg.OperationalError as exc:
        raise BenchError(
            f"PostgreSQL is unreachable at {admin_url} ({str(exc).strip()}).\n"
            "Start it (e.g. `pg_ctlcluster 15 main start`) or point BENCH_DATABASE_URL at a "
            "server where this user may create databases."
        ) from exc
    return str(row[0]).split()[0] if row else "unknown"


# --- child processes ----------------------------------------------------------------------------


@dataclass
class ChildResult:
    args: list[str]
    returncode: int
    wall_s: float
    max_rss_bytes: int
    log_path: Path

    def check(self, what: str) -> ChildResult:
        if self.returncode != 0:
            tail = "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])
            raise BenchError(
                f"{what} failed (exit {self.returncode}); log {self.log_path}:\n{tail}"
            )
        return self


def child_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a Django child: bench settings, this database, eager Celery."""
    env = dict(os.environ)
    # The bench is self-contained: no broker (tasks run eagerly, as in the demo), no caller's
    # settings module or database.
    for name in ("CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "DJANGO_DEBUG"):
        env.pop(name, None)
    env.update(
        DJANGO_SETTINGS_MODULE=BENCH_SETTINGS,
        DATABASE_URL=database_url,
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")])),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def run_child(
    args: list[str],
    *,
    env: dict[str, str],
    log_path: Path,
    timeout_s: float | None = None,
    cwd: Path = REPO_ROOT,
) -> ChildResult:
    """Run a child to completion: wall time, and its own peak RSS (from wait4, not the sum)."""
    started = time.perf_counter()
    with log_path.open("wb") as output:
        process = subprocess.Popen(args, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT)
        timer = threading.Timer(timeout_s, process.kill) if timeout_s else None
        if timer:
            timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:
            process.kill()
            process.wait()
            raise
        finally:
            if timer:
                timer.cancel()
    wall_s = time.perf_counter() - started
    returncode = os.waitstatus_to_exitcode(status)
    process.returncode = returncode
    # ru_maxrss is in KiB on Linux.
    return ChildResult(args, returncode, wall_s, usage.ru_maxrss * 1024, log_path)


def manage(
    args: list[str],
    *,
    database_url: str,
    log_path: Path,
    timeout_s: float | None = None,
    **extra_env: str,
) -> ChildResult:
    """`python manage.py ...` under bench.settings against one database."""
    return run_child(
        [sys.executable, str(REPO_ROOT / "manage.py"), *args],
        env=child_env(database_url, **extra_env),
        log_path=log_path,
        timeout_s=timeout_s,
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A background child (gunicorn), stopped by its own process group on exit."""

    def __init__(self, args: list[str], *, env: dict[str, str], log_path: Path) -> None:
        self.args = args
        self.log_path = log_path
        self._output = log_path.open("wb")
        self.process = subprocess.Popen(
            args,
            cwd=REPO_ROOT,
            env=env,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_until_listening(self, port: int, *, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(
                    f"server exited with {self.process.returncode}; log {self.log_path}:\n"
                    + "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])
                )
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise BenchError(f"server did not listen on port {port} within {timeout_s:.0f} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            # gunicorn's arbiter stops its workers on SIGTERM; the group is only this server.
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._output.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- what a benchmark receives ------------------------------------------------------------------


@dataclass
class Context:
    """Everything bench/run.py hands a benchmark."""

    repeat: int
    databases: Databases
    machine: Machine
    workdir: Path
    options: dict[str, str] = field(default_factory=dict)
    bench_name: str = ""

    def option(self, name: str, default: int, cast: Callable[[str], int] = int) -> int:
        """`--opt <bench>.<name>=<value>` on the command line, else the default."""
        raw = self.options.get(f"{self.bench_name}.{name}")
        return default if raw is None else cast(raw)

    def options_used(self) -> dict[str, str]:
        prefix = f"{self.bench_name}."
        return {k[len(prefix) :]: v for k, v in self.options.items() if k.startswith(prefix)}


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


SECTION_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def celery_worker_args(queues: str, processes: int, loglevel: str = "INFO") -> list[str]:
    """A real Celery worker of the app (prefork), for the benchmarks that time work done by one."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "-Q",
        queues,
        "--pool=prefork",
        f"--concurrency={processes}",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-l",
        loglevel,
    ]


def celery_worker_wait(worker: Server, timeout_s: float = 120) -> None:
    """Return once the worker's log says it is ready; BenchError with the log's tail if it
    exits or does not get there in time."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and worker.process.poll() is None:
        if "ready." in worker.log_path.read_text(errors="replace"):
            return
        time.sleep(0.2)
    tail = "\n".join(worker.log_path.read_text(errors="replace").splitlines()[-30:])
    raise BenchError(f"the Celery worker did not start; log {worker.log_path}:\n{tail}")


def redis_db_clear(url: str) -> None:
    """Empty the Redis database a run used (it was empty before)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()

"""Processes the fault tests own: a Redis server, a PostgreSQL database, daphne and a Celery worker.

Each runs on a spare port (or in a database of its own) so stopping, killing or restarting it never
disturbs the machine's Redis on 6379, its other databases or another helper's server. Every process
is started in its own session, so a kill reaches exactly that process group and nothing else.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


class HarnessError(RuntimeError):
    pass


def spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if predicate():
                return
        time.sleep(interval)
    raise HarnessError(f"Timed out after {timeout:.0f} s waiting for {what}")


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class ManagedProcess:
    """One child process with its log file; start, stop (SIGTERM), kill (SIGKILL), restart."""

    def __init__(self, name: str, argv: list[str], *, env: dict[str, str], log_dir: Path, ready: Callable[[], bool]):
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.ready = ready
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, *, timeout: float = 60) -> ManagedProcess:
        if self.running:
            raise HarnessError(f"{self.name} is already running")
        self.starts += 1
        log = self.log_path.open("a")
        log.write(f"\n===== start #{self.starts}: {' '.join(self.argv)}\n")
        log.flush()
        self.proc = subprocess.Popen(
            self.argv, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        try:
            wait_until(lambda: self._alive_or_fail() and self.ready(), timeout=timeout, what=f"{self.name} to be ready")
        except HarnessError:
            raise HarnessError(f"{self.name} did not become ready; log tail:\n{self.log_tail()}") from None
        return self

    def _alive_or_fail(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise HarnessError(f"{self.name} exited with {self.proc.returncode}; log tail:\n{self.log_tail()}")
        return True

    def _signal_group(self, sig: int) -> None:
        if self.proc is None:
            return
        # The process leads its own session (start_new_session), so its pid is its group id:
        # the signal reaches this server and its children only.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)

    def stop(self, *, timeout: float = 20) -> None:
        """Graceful stop (SIGTERM), escalating to SIGKILL."""
        if self.proc is None:
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._reap_group()
        self.proc = None

    def kill(self) -> None:
        """A crash: SIGKILL to the whole group, no chance to clean up or acknowledge anything."""
        if self.proc is None:
            return
        self._signal_group(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._reap_group()
        self.proc = None

    def _reap_group(self) -> None:
        # Children (e.g. Celery's pool) may outlive the leader for a moment; make sure they are gone.
        if self.proc is None:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                return
            except PermissionError:
                return
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            time.sleep(0.1)

    def restart(self, *, kill: bool = False, timeout: float = 60) -> None:
        self.kill() if kill else self.stop()
        self.start(timeout=timeout)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


# --- Redis -----------------------------------------------------------------------------------


def redis_process(*, port: int, data_dir: Path, log_dir: Path) -> ManagedProcess:
    import redis

    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        "redis-server",
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--save", "",
        # An append-only file fsynced on every write, as a production broker would keep, so a
        # restart keeps queued Celery messages (the channel layer's messages are ephemeral anyway).
        "--appendonly", "yes",
        "--appendfsync", "always",
        "--dir", str(data_dir),
        "--protected-mode", "yes",
    ]  # fmt: skip

    def ready() -> bool:
        return bool(redis.Redis(host="127.0.0.1", port=port, socket_timeout=1).ping())

    return ManagedProcess("redis", argv, env=dict(os.environ), log_dir=log_dir, ready=ready)


# --- PostgreSQL ------------------------------------------------------------------------------


def admin_url() -> str:
    """Where to create the fault tests' own database: the server of DATABASE_URL when it is PostgreSQL."""
    explicit = os.environ.get("FAULTS_POSTGRES_URL")
    if explicit:
        return explicit
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(url)
        return urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
    return "postgres://postgres@127.0.0.1:5432/postgres"


def _conninfo(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


class FaultDatabase:
    """A PostgreSQL database of the fault tests' own, created and migrated, dropped at the end."""

    def __init__(self, *, log_dir: Path):
        self.admin = admin_url()
        self.name = f"faults_{secrets.token_hex(4)}"
        parts = urlsplit(self.admin)
        self.url = urlunsplit((parts.scheme, parts.netloc, f"/{self.name}", "", ""))
        self.log_dir = log_dir

    def available(self) -> bool:
        try:
            with psycopg.connect(_conninfo(self.admin), connect_timeout=3):
                return True
        except psycopg.OperationalError:
            return False

    def create(self, *, env: dict[str, str]) -> None:
        with psycopg.connect(_conninfo(self.admin), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        log = (self.log_dir / "migrate.log").open("w")
        result = subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput"],
            cwd=REPO,
            env={**env, "DATABASE_URL": self.url},
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=600,
        )
        log.close()
        if result.returncode != 0:
            raise HarnessError("migrate failed:\n" + (self.log_dir / "migrate.log").read_text()[-3000:])

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(_conninfo(self.url), autocommit=True)

    def scalar(self, sql: str, params: tuple = ()):
        with self.connect() as conn:
            row = conn.execute(sql, params).fetchone()
            return row[0] if row else None

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self.connect() as conn:
            return list(conn.execute(sql, params).fetchall())

    def terminate_backends(self, *, application_name: str | None = None) -> int:
        """Drop every server-side connection to this database (as a failover or a restart would)."""
        sql = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
        params: tuple = (self.name,)
        if application_name:
            sql += " AND application_name = %s"
            params = (self.name, application_name)
        with psycopg.connect(_conninfo(self.admin), autocommit=True) as conn:
            return len(conn.execute(sql, params).fetchall())

    def drop(self) -> None:
        with psycopg.connect(_conninfo(self.admin), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


# --- daphne and Celery -------------------------------------------------------------------------


def daphne_process(*, name: str, port: int, env: dict[str, str], log_dir: Path) -> ManagedProcess:
    import urllib.request

    argv = [PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"]

    def ready() -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2) as response:  # noqa: S310
            return response.status == 200

    return ManagedProcess(name, argv, env=env, log_dir=log_dir, ready=ready)


def celery_process(*, name: str, env: dict[str, str], log_dir: Path) -> ManagedProcess:
    node = f"{name}-{secrets.token_hex(3)}@127.0.0.1"
    argv = [
        PYTHON, "-m", "celery", "-A", "config", "worker",
        "-Q", "default,matching",
        "-c", "1",
        "-n", node,
        "--without-gossip", "--without-mingle", "--without-heartbeat",
        "-l", "info",
    ]  # fmt: skip
    proc: ManagedProcess

    def ready() -> bool:
        return f"{node} ready." in proc.log_text().split(f"===== start #{proc.starts}:")[-1]

    proc = ManagedProcess(name, argv, env=env, log_dir=log_dir, ready=ready)
    return proc

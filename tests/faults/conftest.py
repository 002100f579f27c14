"""The fault tests' own stack: Redis, a PostgreSQL database, daphne and a Celery worker.

These tests run only when selected with ``-m faults`` (``make test-faults``); a plain ``pytest``
deselects them, so ``make test`` never starts or kills a server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.faults.services import (
    PYTHON,
    REPO,
    FaultDatabase,
    HarnessError,
    ManagedProcess,
    celery_process,
    daphne_process,
    redis_process,
    spare_port,
)

HERE = Path(__file__).resolve().parent


def _selected(config) -> bool:
    return "faults" in (config.getoption("markexpr", default="") or "")


def pytest_collection_modifyitems(config, items):
    if _selected(config):
        return
    ours = [item for item in items if Path(str(item.fspath)).resolve().is_relative_to(HERE)]
    if ours:
        config.hook.pytest_deselected(items=ours)
        items[:] = [item for item in items if item not in ours]


@dataclass
class Stack:
    """Handles on every process the fault tests own, plus a way to run Django code against their database."""

    workdir: Path
    db: FaultDatabase
    redis: ManagedProcess
    redis_port: int
    env: dict[str, str]
    daphnes: list[ManagedProcess] = field(default_factory=list)
    daphne_ports: list[int] = field(default_factory=list)
    worker: ManagedProcess | None = None

    def django(self, function: str, **kwargs):
        """Call ``tests.faults.django_cli.<function>(**kwargs)`` in a subprocess on the stack's database."""
        result = subprocess.run(
            [PYTHON, "-m", "tests.faults.django_cli", function, json.dumps(kwargs)],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0 or "@@RESULT@@" not in result.stdout:
            raise HarnessError(f"{function} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
        return json.loads(result.stdout.rsplit("@@RESULT@@", 1)[1])

    def ensure_running(self) -> None:
        for process in [self.redis, *self.daphnes, *([self.worker] if self.worker else [])]:
            if not process.running:
                process.start()

    def ws_url(self, path: str, index: int = 0) -> str:
        return f"ws://127.0.0.1:{self.daphne_ports[index]}{path}"

    def origin(self, index: int = 0) -> str:
        return f"http://127.0.0.1:{self.daphne_ports[index]}"

    def stop_all(self) -> None:
        for process in [*(self.daphnes), *([self.worker] if self.worker else []), self.redis]:
            try:
                process.stop()
            except Exception as exc:  # keep tearing down the rest
                print(f"stopping {process.name} failed: {exc}")


def _process_env(db_url: str, redis_url: str, *, app_name: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "DJANGO_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            # application_name lets a test find (and terminate) exactly this process's connections.
            "DATABASE_URL": f"{db_url}?application_name={app_name}",
            "REDIS_URL": redis_url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            # Persistent connections, as a production server keeps them: a dropped connection is then
            # discovered mid-use, which is the case worth testing.
            "DB_CONN_MAX_AGE": "60",
            # A message a killed worker took but never acknowledged goes back to the queue this soon.
            "CELERY_VISIBILITY_TIMEOUT": "8",
            "RATELIMIT_ENABLE": "false",
            "DEBUG": "true",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            # The faults concern votes and aggregation, which never embed: no model load competing.
            "MATCHING_PRELOAD": "false",
        }
    )
    return env


@pytest.fixture(scope="session")
def fault_stack():
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    workdir = Path(tempfile.mkdtemp(prefix="faults-"))
    db = FaultDatabase(log_dir=workdir)
    if not db.available():
        pytest.skip(f"no PostgreSQL server at {db.admin} to create the fault tests' database in")
    redis_port = spare_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    redis = redis_process(port=redis_port, data_dir=workdir / "redis", log_dir=workdir)
    env = _process_env(db.url, redis_url, app_name="faults-cli")
    stack = Stack(workdir=workdir, db=db, redis=redis, redis_port=redis_port, env=env)
    print(f"\n[faults] workdir {workdir}, database {db.name}, redis :{redis_port}")
    try:
        redis.start()
        db.create(env=env)
        for index in range(2):
            port = spare_port()
            stack.daphne_ports.append(port)
            stack.daphnes.append(
                daphne_process(
                    name=f"daphne-{index + 1}",
                    port=port,
                    env=_process_env(db.url, redis_url, app_name=f"faults-daphne-{index + 1}"),
                    log_dir=workdir,
                )
            )
        for daphne in stack.daphnes:
            daphne.start()
        stack.worker = celery_process(
            name="celery", env=_process_env(db.url, redis_url, app_name="faults-celery"), log_dir=workdir
        )
        stack.worker.start()
        yield stack
    finally:
        stack.stop_all()
        try:
            db.drop()
        except Exception as exc:
            print(f"[faults] could not drop {db.name}: {exc}")
        if os.environ.get("FAULTS_KEEP_LOGS"):
            print(f"[faults] logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def stack(fault_stack: Stack) -> Stack:
    """The session's stack with every process it had running before the test running again."""
    fault_stack.ensure_running()
    yield fault_stack
    fault_stack.ensure_running()

"""`make services` brings up a working deployment on this machine's PostgreSQL and Redis.

The test runs the real target (`make services`, not a copy of its steps) in a database of its own
(created and dropped here) and a Redis database number other than 0, then, through the two uvicorn
servers it started: three panellists vote over websockets (spread over both servers), the convener
closes the round and the Celery worker aggregates it, a page's stylesheets and scripts load under
their cache-busted names (compressed, cached for a year), /healthz is 200 with a worker heartbeat
that beat keeps fresh, and the logs are JSON lines. Then one SIGINT to the process group — what
Ctrl-C in a terminal sends — stops every process.

It starts six processes and collects the static files (about half a minute on two cores), so it
runs only when asked: `OPS_SERVICES_TEST=1` (a step of .ci/run). `OPS_POSTGRES_URL` (default
postgres://postgres@127.0.0.1:5432/postgres) is where its database is created; `OPS_REDIS_URL`
(default redis://127.0.0.1:6379/7) the Redis database it uses and flushes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import tempfile
import time
import urllib.request
from email.message import Message
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from tests.faults.services import PYTHON, REPO, HarnessError, port_open, wait_until
from tests.faults.wsclient import Panellist, final_values, plan_votes

pytestmark = pytest.mark.skipif(
    not os.environ.get("OPS_SERVICES_TEST"), reason="starts `make services`; set OPS_SERVICES_TEST=1 (.ci/run does)"
)

ADMIN_URL = os.environ.get("OPS_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("OPS_REDIS_URL", "redis://127.0.0.1:6379/7")
PORTS = (int(os.environ.get("OPS_PORT", "8821")), int(os.environ.get("OPS_PORT2", "8822")))
PANELLISTS = 3
START_TIMEOUT = 240


def _conninfo(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
    """Status, headers (looked up case-insensitively: uvicorn sends them in lower case) and body."""
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


class Services:
    """`make services` in a session of its own, so one signal reaches make, honcho and every process."""

    def __init__(self, workdir: Path, env: dict[str, str]):
        self.workdir, self.env = workdir, env
        self.log_path = workdir / "services.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        log = self.log_path.open("w")
        # -o .venv/.installed: the virtual environment is the one this test runs in; `make services`
        # would otherwise reinstall it whenever requirements*.txt is newer than its stamp.
        argv = [
            "make",
            "--no-print-directory",
            "-o",
            ".venv/.installed",
            "services",
            f"PORT={PORTS[0]}",
            f"PORT2={PORTS[1]}",
        ]
        self.proc = subprocess.Popen(
            argv, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise HarnessError(f"make services exited with {self.proc.returncode}:\n{self.log()[-4000:]}")
        return True

    def group_alive(self) -> bool:
        try:
            os.killpg(self.proc.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def ctrl_c(self, timeout: float = 60) -> int:
        os.killpg(self.proc.pid, signal.SIGINT)
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        """After a failure: Ctrl-C first (honcho passes it on to the processes it started, which run
        in groups of their own), then SIGKILL whatever is left of the group."""
        if self.proc is None or not self.group_alive():
            return
        with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
            self.ctrl_c(timeout=30)
        if self.group_alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)


@pytest.fixture
def deployment():
    import redis

    workdir = Path(tempfile.mkdtemp(prefix="ops-", dir="/tmp/helper-ops" if Path("/tmp/helper-ops").is_dir() else None))
    name = f"helper_ops_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(_conninfo(ADMIN_URL), autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {ADMIN_URL}: {exc}")
    parts = urlsplit(ADMIN_URL)
    database_url = urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))
    broker = redis.Redis.from_url(REDIS_URL)
    broker.flushdb()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "DJANGO_", "MAKE"))}
    env.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "HOST": "127.0.0.1",
            "STATIC_ROOT": str(workdir / "staticfiles"),
            "CELERY_TASK_ALWAYS_EAGER": "false",
            # The heartbeat every second, so the test sees beat's heartbeats come through the broker.
            "JOB_HEARTBEAT_SECONDS": "1",
            "JOB_STALE_AFTER_SECONDS": "30",
            "WORKER_CONCURRENCY": "1",
            "MATCHING_PRELOAD": "false",  # votes and aggregation never embed: no model load competing
            "RATELIMIT_ENABLE": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    services = Services(workdir, env)
    try:
        yield services
    finally:
        services.kill()
        with psycopg.connect(_conninfo(ADMIN_URL), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        broker.flushdb()
        if os.environ.get("OPS_KEEP_LOGS"):
            print(f"[ops] logs kept in {workdir}")
        else:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)


def _django(env: dict[str, str], function: str, **kwargs):
    result = subprocess.run(
        [PYTHON, "-m", "tests.faults.django_cli", function, json.dumps(kwargs)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0 or "@@RESULT@@" not in result.stdout:
        raise HarnessError(f"{function} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.rsplit("@@RESULT@@", 1)[1])


def _healthz(port: int) -> tuple[int, dict]:
    status, _, body = _get(f"http://127.0.0.1:{port}/healthz")
    return status, json.loads(body)


async def _vote(clients: list[Panellist]) -> None:
    deadline = time.monotonic() + 120
    await asyncio.gather(*(client.run(deadline=deadline) for client in clients))


def test_make_services_serves_a_vote_its_aggregation_and_the_stylesheets_and_stops_on_ctrl_c(deployment):
    deployment.start()
    web = [f"http://127.0.0.1:{port}" for port in PORTS]
    wait_until(
        lambda: deployment.alive() and all(_healthz(port)[0] == 200 for port in PORTS),
        timeout=START_TIMEOUT,
        what="both servers' /healthz to answer 200",
        interval=1,
    )
    status, health = _healthz(PORTS[1])
    assert health["status"] == "ok" and set(health["checks"]) == {"database", "channel_layer", "broker", "worker"}
    assert health["checks"]["database"]["vendor"] == "postgresql"
    assert health["checks"]["channel_layer"]["backend"] == "RedisChannelLayer"
    assert health["checks"]["broker"]["transport"] == "redis"
    # Beat sends a heartbeat every second through Redis and the worker records it: it moves on.
    first = health["checks"]["worker"]["last_heartbeat"]
    wait_until(
        lambda: _healthz(PORTS[0])[1]["checks"]["worker"]["last_heartbeat"] > first,
        timeout=30,
        what="a heartbeat from beat through the broker",
        interval=0.5,
    )

    # A vote through both ASGI servers: three panellists, each on the server of their turn.
    django_env = {**deployment.env, "DJANGO_SETTINGS_MODULE": "config.settings"}
    panel = _django(django_env, "create_panel", slug="ops", panellists=PANELLISTS, role_levels=1)
    live = _django(
        django_env, "open_round", cycle_id=panel["cycle_id"], convener_id=panel["convener"]["id"], capabilities=2
    )
    import random

    rng = random.Random(7)
    clients = []
    for index, person in enumerate(panel["panellists"]):
        port = PORTS[index % 2]
        clients.append(
            Panellist(
                name=person["email"],
                session=person["session"],
                url=f"ws://127.0.0.1:{port}/ws/rounds/{live['round_id']}/",
                origin=f"http://127.0.0.1:{port}",
                votes=plan_votes(tag=f"p{person['id']}", items=live["items"], rng=rng),
            )
        )
    asyncio.run(_vote(clients))
    assert all(client.done and not client.final_errors for client in clients), [c.final_errors for c in clients]
    state = _django(django_env, "round_state", round_id=live["round_id"])
    by_email = {p["email"]: p["id"] for p in panel["panellists"]}
    expected = {(by_email[c.name], item): value for c in clients for item, value in final_values(c.votes).items()}
    assert {(p, i): v for p, i, v in state["votes"]} == expected

    # Closing the round queues its aggregation on Redis; the worker of `make services` computes it.
    _django(django_env, "close_round", round_id=live["round_id"], convener_id=panel["convener"]["id"])
    wait_until(
        lambda: _django(django_env, "round_state", round_id=live["round_id"])["aggregated_at"] is not None,
        timeout=60,
        what="the worker to aggregate the closed round",
        interval=1,
    )
    results = _django(django_env, "results", round_id=live["round_id"])
    assert len(results) == len(live["items"]) and all(r["n"] == PANELLISTS for r in results)

    # A page's stylesheets and scripts: cache-busted names, compressed, cached for a year.
    status, _, body = _get(f"{web[1]}/accounts/login/")
    assert status == 200
    assets = re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js))"', body.decode())
    assert any(a.startswith("/static/vendor/bootstrap/css/bootstrap.min.") for a in assets), assets
    for asset in assets:
        assert re.search(r"\.[0-9a-f]{12}\.(css|js)$", asset), f"{asset} has no content hash"
        status, headers, content = _get(f"{web[0]}{asset}", {"Accept-Encoding": "gzip"})
        assert status == 200, asset
        assert "immutable" in headers.get("Cache-Control", ""), (asset, headers)
        assert headers.get("Content-Encoding") == "gzip", (asset, headers)
        assert headers["Content-Type"].startswith("text/css" if asset.endswith(".css") else "text/javascript")
    status, _, _ = _get(f"{web[0]}/static/vendor/bootstrap/css/bootstrap.min.css")
    assert status == 200, "the unhashed name is served too (for anything that names it directly)"

    # The logs are JSON lines: requests and the aggregation task among them.
    records = []
    for line in deployment.log().splitlines():
        _, sep, text = line.partition("| ")
        if sep and text.startswith("{"):
            records.append(json.loads(text))
    loggers = {record.get("logger") for record in records}
    assert "foresight.request" in loggers and "foresight.job" in loggers, loggers
    assert any(
        r.get("logger") == "foresight.job" and r.get("task") == "workshops.tasks.aggregate_round" for r in records
    )
    login = next(r for r in records if r.get("route") == "/accounts/login/")
    assert login["status"] == 200 and login["method"] == "GET" and "duration_ms" in login

    # Ctrl-C: every process stops, the ports close.
    code = deployment.ctrl_c()
    wait_until(lambda: not deployment.group_alive(), timeout=30, what="every process of `make services` to exit")
    assert not any(port_open(port) for port in PORTS)
    print(f"\n[ops] make services exited with {code}; {len(records)} JSON log lines")

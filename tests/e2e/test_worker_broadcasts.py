"""What a real Celery worker broadcasts reaches a browser's socket in the embedded default (issue 12).

The web server and the worker run as `make run` starts them, with the in-memory channel layer and
the SQLite broker: the worker's layer is not the server's, so its broadcasts go through the outbox
(workshops/realtime.py). A panellist's round socket is open when beat's task closes the round at
its deadline in the worker; the socket is told ``round_closed``.
"""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from celery import Celery
from django.test import Client
from django.utils import timezone
from websockets.asyncio.client import connect

from tests.e2e.test_background_worker import _env, runserver_process
from tests.faults.services import celery_process, spare_port
from tests.workshops.delphi.factories import start_delphi
from workshops.models import Round
from workshops.realtime import round_ws_path

pytestmark = pytest.mark.e2e


def _embedded_env(tmp_path) -> dict[str, str]:
    """This test's database, the in-memory channel layer and a SQLite broker of its own."""
    env = _env(tmp_path)
    for services_only in ("REDIS_URL", "CHANNEL_LAYER", "CELERY_BROKER_URL"):
        env.pop(services_only, None)
    env["CELERY_BROKER_SQLITE"] = str(tmp_path / "celery-broker.sqlite3")
    env["MATCHING_PRELOAD"] = "false"  # no process here embeds anything
    return env


@pytest.fixture
def embedded_site(transactional_db, tmp_path):
    env = _embedded_env(tmp_path)
    port = spare_port()
    web = runserver_process(port=port, env=env, log_dir=tmp_path).start()
    worker = celery_process(name="worker", env=env, log_dir=tmp_path).start(timeout=120)
    yield port, env, worker
    for process in (web, worker):
        process.stop()


async def _frames_until_closed(url: str, headers: dict, on_snapshot, timeout: float) -> list[dict]:
    frames = []
    async with connect(url, additional_headers=headers, open_timeout=10) as ws:
        frames.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
        await asyncio.to_thread(on_snapshot)
        deadline = time.monotonic() + timeout
        while frames[-1]["type"] != "round_closed":
            try:
                frame = await asyncio.wait_for(ws.recv(), max(deadline - time.monotonic(), 0.1))
            except TimeoutError:
                pytest.fail(f"no round_closed within {timeout:.0f} s; the socket got {frames}")
            frames.append(json.loads(frame))
    return frames


def test_a_round_the_worker_closes_at_its_deadline_tells_the_open_socket(embedded_site, personas):
    port, env, worker = embedded_site
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=2, levels=2)
    browser = Client()
    browser.force_login(personas.technologist)
    headers = {"Origin": f"http://127.0.0.1:{port}", "Cookie": f"sessionid={browser.cookies['sessionid'].value}"}
    sender = Celery("test-sender", broker=f"sqla+sqlite:///{env['CELERY_BROKER_SQLITE']}")

    def close_in_the_worker() -> None:
        # The deadline passes with the socket open; nothing in the web server touches the round.
        Round.objects.filter(pk=delphi.round.pk).update(deadline=timezone.now() - timedelta(minutes=1))
        sender.send_task("workshops.tasks.close_due_rounds", queue="default")

    url = f"ws://127.0.0.1:{port}{round_ws_path(delphi.round)}"
    # A thread of its own: an earlier browser test may have left an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        frames = pool.submit(asyncio.run, _frames_until_closed(url, headers, close_in_the_worker, timeout=30)).result()

    snapshot, closed = frames[0], frames[-1]
    assert snapshot["type"] == "snapshot" and snapshot["status"] == "open"
    assert closed == {"type": "round_closed", "round": delphi.round.pk, "sequence": closed["sequence"]}
    assert closed["sequence"] > snapshot["sequence"]
    assert "workshops.tasks.close_due_rounds" in worker.log_text(), "the worker closed it, not the server"
    delphi.round.refresh_from_db()
    assert delphi.round.status == Round.Status.CLOSED

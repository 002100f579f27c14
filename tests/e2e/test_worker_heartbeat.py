"""A worker whose every pool slot is busy still counts as alive for /healthz (core/worker.py).

A real worker with one slot, on this test's database and a real broker, is given a task that holds
its slot; its main process keeps recording heartbeats meanwhile, and /healthz stays 200.
"""

from __future__ import annotations

import time

import pytest
from celery import Celery
from django.conf import settings

from core.models import WorkerHeartbeat
from tests.e2e.test_background_worker import _env
from tests.faults.services import celery_process, wait_until

pytestmark = pytest.mark.e2e


def _broker_url(env: dict[str, str]) -> str:
    if "CELERY_BROKER_SQLITE" in env:
        return f"sqla+sqlite:///{env['CELERY_BROKER_SQLITE']}"
    return settings.CELERY_BROKER_URL


def _newest_beat():
    row = WorkerHeartbeat.objects.order_by("-beat_at").first()
    return row.beat_at if row else None


def test_a_worker_with_every_slot_busy_keeps_beating(transactional_db, tmp_path, client):
    env = {**_env(tmp_path), "JOB_HEARTBEAT_SECONDS": "1", "JOB_STALE_AFTER_SECONDS": "3"}
    worker = celery_process(name="busy-worker", env=env, log_dir=tmp_path)
    worker.argv += ["--include", "tests.e2e.slow_tasks"]
    worker.start(timeout=120)
    try:
        sender = Celery("test-sender", broker=_broker_url(env))
        sender.send_task("tests.e2e.hold_the_slot", args=[8], queue="default")
        wait_until(lambda: "tests.e2e.hold_the_slot" in worker.log_text(), timeout=30, what="the task to start")

        during = _newest_beat()
        assert during is not None, "the worker records a heartbeat as it starts"
        time.sleep(2.5)
        assert "succeeded" not in worker.log_text(), "the slot must still be busy while the beats are read"
        assert _newest_beat() > during, "the main process beats while its only slot is busy"

        response = client.get("/healthz")
        assert response.json()["checks"]["worker"]["ok"] is True
    finally:
        worker.stop()

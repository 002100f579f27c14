"""/healthz: is this deployment able to serve? Database, channel layer, broker and a live worker.

Each check reports ``ok`` and how long it took; the page is 200 when every one is ok, else 503, so
a load balancer or an orchestrator can act on the status alone and a person can read why. Errors
are named by their exception class only: the page is public and says nothing about hosts or
credentials. The network checks run in threads under ``HEALTHZ_TIMEOUT``, so a Redis that stops
answering makes the page fail quickly instead of hanging with it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.models import WorkerHeartbeat

# A worker counts as alive while its last heartbeat is younger than a job's staleness limit: the
# same six missed beats after which core/jobs.py takes a running job for lost.
WORKER_STALE_AFTER = timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
NO_HEARTBEAT = "No worker has sent a heartbeat yet."
STALE_HEARTBEAT = "The last worker heartbeat is too old."
TIMED_OUT = "TimeoutError"

Result = dict[str, Any]


def heartbeat_record(*, worker: str, at: datetime | None = None) -> None:
    """Record a worker's sign of life (one row per worker, updated in place)."""
    WorkerHeartbeat.objects.update_or_create(worker=worker[:200], defaults={"beat_at": at or timezone.now()})


def check_database() -> Result:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def check_worker(now: datetime | None = None) -> Result:
    now = now or timezone.now()
    newest = WorkerHeartbeat.objects.order_by("-beat_at").first()
    if newest is None:
        return {"ok": False, "error": NO_HEARTBEAT}
    age = (now - newest.beat_at).total_seconds()
    result = {"worker": newest.worker, "last_heartbeat": newest.beat_at.isoformat(), "age_seconds": round(age, 1)}
    if now - newest.beat_at > WORKER_STALE_AFTER:
        return {**result, "ok": False, "error": STALE_HEARTBEAT}
    return result


async def _layer_round_trip(timeout: float) -> Result:
    # A layer instance of its own, used and closed in this event loop: the server's shared instance
    # keeps locks and pools bound to the server's loop.
    from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers

    layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
    try:
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "healthz.ping"})
        message = await asyncio.wait_for(layer.receive(channel), timeout)
        if message.get("type") != "healthz.ping":
            return {"ok": False, "error": "UnexpectedMessage"}
        return {"backend": type(layer).__name__}
    finally:
        if hasattr(layer, "close_pools"):
            await layer.close_pools()
        elif type(layer).__name__ == "RedisPubSubChannelLayer":
            await layer.flush()  # the pub/sub layer's flush only drops this instance's connections


def check_channel_layer() -> Result:
    return asyncio.run(_layer_round_trip(settings.HEALTHZ_TIMEOUT))


def check_broker() -> Result:
    from celery import current_app

    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=settings.HEALTHZ_TIMEOUT)
        return {"transport": conn.transport.driver_name}


def _timed(check: Callable[[], Result]) -> Result:
    started = time.perf_counter()
    try:
        result = {"ok": True, **check()}
    except Exception as exc:  # noqa: BLE001 - a failed check is the answer, not a crash
        result = {"ok": False, "error": type(exc).__name__}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def health() -> tuple[bool, dict[str, Result]]:
    """Every check's result, and whether all are ok."""
    checks: dict[str, Result] = {}
    # The network checks (they touch no database) run side by side, each bounded by the timeout.
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="healthz")
    futures = {"channel_layer": pool.submit(_timed, check_channel_layer), "broker": pool.submit(_timed, check_broker)}
    # The database checks run here, on the request's own connection (and inside a test's transaction).
    checks["database"] = _timed(check_database)
    checks["worker"] = _timed(check_worker) if checks["database"]["ok"] else {"ok": False, "error": "DatabaseDown"}
    deadline = time.monotonic() + settings.HEALTHZ_TIMEOUT + 1
    for name, future in futures.items():
        try:
            checks[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            checks[name] = {"ok": False, "error": TIMED_OUT, "ms": round(settings.HEALTHZ_TIMEOUT * 1000)}
    pool.shutdown(wait=False, cancel_futures=True)
    ordered = {name: checks[name] for name in ("database", "channel_layer", "broker", "worker")}
    return all(result["ok"] for result in ordered.values()), ordered

"""The worker's own sign of life, beaten by its main process.

Beat's ``core.tasks.worker_heartbeat`` goes through the broker and waits for a free pool slot, so a
worker whose every slot is busy embedding a framework for minutes would look dead to /healthz. This
bootstep runs on the worker's timer in its main process, beside the pool, and records a heartbeat
every ``JOB_HEARTBEAT_SECONDS`` however busy the slots are; a worker that has died or hung stops
beating, which is what /healthz is asked to tell.
"""

from __future__ import annotations

import logging

from celery import bootsteps
from django.conf import settings
from django.db import connections

logger = logging.getLogger("foresight.job")


def beat_once(worker_name: str) -> None:
    """One heartbeat from the worker's main process. Its database connection is closed at once:
    pool children fork from this process and must never share (or, on exit, close) its socket."""
    from core.health import heartbeat_record

    try:
        heartbeat_record(worker=worker_name)
    except Exception:  # noqa: BLE001 - a database that is briefly away must not stop the worker
        logger.warning("The worker's heartbeat could not be recorded", exc_info=True)
    finally:
        connections.close_all()


class Heartbeat(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.tref = None

    def start(self, worker) -> None:
        name = worker.hostname or "worker"
        beat_once(name)
        self.tref = worker.timer.call_repeatedly(settings.JOB_HEARTBEAT_SECONDS, beat_once, (name,), priority=10)

    def stop(self, worker) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

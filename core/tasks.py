"""Scheduled housekeeping that every app's jobs share."""

from __future__ import annotations

from celery import shared_task
from django.apps import apps

from core.jobs import BackgroundJob


@shared_task(name="core.tasks.fail_stale_jobs")
def fail_stale_jobs() -> dict[str, int]:
    """Mark lost jobs of every kind failed by the one staleness rule, so a page stops showing a job
    as running whose worker died (the beat schedule runs this every few minutes)."""
    failed = {}
    for model in apps.get_models():
        if issubclass(model, BackgroundJob):
            failed[model._meta.label] = model.fail_stale()
    return failed


@shared_task(name="core.tasks.worker_heartbeat", bind=True, ignore_result=True)
def worker_heartbeat(self) -> str:
    """Record that a worker took a task off the broker now (the beat schedule sends it). Beside the
    worker's own timer (core/worker.py) it also shows beat and the broker delivering, whenever a slot
    is free to take it."""
    from core.health import heartbeat_record

    name = self.request.hostname or "eager"
    heartbeat_record(worker=name)
    return name

"""The one table of core: workers' signs of life, read by /healthz (core/health.py)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class WorkerHeartbeat(models.Model):
    """When a Celery worker was last heard from: its main process records one as it starts and every
    ``JOB_HEARTBEAT_SECONDS`` after, busy slots or not (core/worker.py), and beat's
    ``core.tasks.worker_heartbeat`` adds one whenever a slot takes it off the broker. One row per
    worker name, updated in place."""

    worker = models.CharField(max_length=200, unique=True)
    beat_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.worker} at {self.beat_at:%Y-%m-%d %H:%M:%S}"

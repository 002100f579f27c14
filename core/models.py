"""The one table of core: workers' signs of life, read by /healthz (core/health.py)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class WorkerHeartbeat(models.Model):
    """When a Celery worker was last heard from: as it starts, then on every beat of the schedule's
    ``core.tasks.worker_heartbeat`` (which goes through the broker, so a fresh row also says beat and
    the broker work). One row per worker name, updated in place."""

    worker = models.CharField(max_length=200, unique=True)
    beat_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.worker} at {self.beat_at:%Y-%m-%d %H:%M:%S}"

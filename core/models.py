"""The tables of core: workers' signs of life, read by /healthz (core/health.py), and the
broadcasts a worker hands to the web servers in the embedded default (workshops/realtime.py)."""

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


class Broadcast(models.Model):
    """A group message a Celery worker sent while the channel layer is in memory (the embedded
    default): that layer lives inside one process, so the worker writes the message here and each
    web server's poll loop (``workshops.realtime.ProcessGroups``) sends it on its own layer. Rows
    older than ``realtime.OUTBOX_KEEP_SECONDS`` are deleted as new ones are written."""

    group = models.CharField(max_length=200)
    message = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.message.get('type')} to {self.group} at {self.created_at:%H:%M:%S}"

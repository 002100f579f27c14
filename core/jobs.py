"""The background-job model and its claim: one status vocabulary, one staleness rule.

Long work (a match run, an export, a FOP proposal run) is recorded as a row that a Celery task
fills. The concrete models inherit ``BackgroundJob``; their services call its class methods, which
are all single conditional UPDATEs keyed by id (a task only knows the id), so two workers, or a
task the broker delivered twice, never both compute the same job:

    queued ──claim──▶ running ──finish──▶ done
                        │  ▲  └───fail───▶ failed
                        │  └─ claim again once stale (its worker was lost)
                        └─ report_progress: per cent, a note, and a heartbeat

A job is *stale* when nothing has been heard from it for too long: a running job after
``STALE_AFTER`` ("heard from" is its heartbeat: set when it is claimed or reports progress, and
every ``HEARTBEAT_EVERY`` while its task runs inside ``kept_alive``, however long a step stays
silent), a queued one after ``QUEUED_STALE_AFTER`` (since it was queued: a queued job may rightly
wait behind others). The same rule decides both what ``claim`` may take over and what
``fail_stale`` (run by the beat task ``core.tasks.fail_stale_jobs``) marks failed, for every job
model. With the beat task running, a job whose worker died is marked failed within minutes of
going stale and the person who asked for it starts it again; a task the broker delivers again
later finds it failed and does nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import connection, models
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.logs import job_event, job_logger

logger = logging.getLogger(__name__)

# A running job's task beats its heartbeat this often from a thread of its own (``kept_alive``), so
# a job is heard from while a long step (a PDF, a first embedding of an occupation list) stays
# silent. When its worker dies the beats stop, and after ``STALE_AFTER`` (six missed beats) the
# job counts as lost: the sweep (core.tasks.fail_stale_jobs, every minute) marks it failed within
# minutes, or a worker that gets its task again takes it over. Both come from the environment.
HEARTBEAT_EVERY = timedelta(seconds=settings.JOB_HEARTBEAT_SECONDS)
STALE_AFTER = timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
# How long a job may wait in the queue before no worker is taken to be coming: above the longest
# backlog a healthy matching queue builds (a framework's embedding takes minutes, runs queue
# behind it one at a time), and within a working session.
QUEUED_STALE_AFTER = timedelta(hours=2)

# What a job that was lost says, unless its service names the job more precisely.
JOB_LOST = "The job never finished (its worker probably stopped). Start it again."
TAKEN_OVER = "Taken over from a lost worker"
STARTED = "Started"
DONE = "Done"
ERROR_MAX_CHARS = 2000


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
FINISHED = (JobStatus.DONE, JobStatus.FAILED)


def error_text(exc: BaseException) -> str:
    """An exception as the one line a failed job records."""
    return f"{type(exc).__name__}: {exc}"[:ERROR_MAX_CHARS]


def stale_q(now: datetime | None = None) -> Q:
    """Running jobs unheard for ``STALE_AFTER`` and queued ones waiting for ``QUEUED_STALE_AFTER``."""
    now = now or timezone.now()
    running, queued = now - STALE_AFTER, now - QUEUED_STALE_AFTER
    running_unheard = Q(heartbeat_at__lt=running) | Q(heartbeat_at__isnull=True, started_at__lt=running)
    # A queued job's heartbeat is when it was queued again; a job never queued again has only created_at.
    queued_waiting = Q(heartbeat_at__lt=queued) | Q(heartbeat_at__isnull=True, created_at__lt=queued)
    return (Q(status=JobStatus.RUNNING) & running_unheard) | (Q(status=JobStatus.QUEUED) & queued_waiting)


class BackgroundJob(models.Model):
    """Status, progress and timestamps of work a Celery task does; abstract, one table per kind."""

    Status: ClassVar[type[JobStatus]] = JobStatus

    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(100)], help_text="Per cent done."
    )
    progress_note = models.CharField(max_length=200, blank=True)
    # Why a failed job failed, in words for the person who asked for it.
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life: queued again, claimed, or progress reported."
    )

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def is_stale(self) -> bool:
        now = timezone.now()
        if self.status == JobStatus.RUNNING:
            heard = self.heartbeat_at or self.started_at or self.created_at
            return heard < now - STALE_AFTER
        if self.status == JobStatus.QUEUED:
            return (self.heartbeat_at or self.created_at) < now - QUEUED_STALE_AFTER
        return False

    # --- transitions: each one conditional UPDATE, true when it happened ------------------------

    @classmethod
    def claim(cls, pk: int, *, note: str = STARTED) -> bool:
        """Take the job for this caller: a queued one, or a stale running one whose worker was lost.
        Atomic (the database applies one UPDATE at a time to the row): of two callers, one wins."""
        now = timezone.now()
        taken = {
            "status": JobStatus.RUNNING,
            "started_at": now,
            "heartbeat_at": now,
            "finished_at": None,
            "progress": 1,
            "error": "",
        }
        if cls.objects.filter(pk=pk, status=JobStatus.QUEUED).update(**taken, progress_note=note[:200]):
            job_event(cls._meta.label, pk, "claimed")
            return True
        stale = cls.objects.filter(stale_q(now), pk=pk, status=JobStatus.RUNNING)
        if stale.update(**taken, progress_note=TAKEN_OVER):
            job_event(cls._meta.label, pk, "taken_over")
            return True
        return False

    @classmethod
    @contextmanager
    def kept_alive(cls, pk: int) -> Iterator[None]:
        """While the block runs, beat the job's heartbeat every ``HEARTBEAT_EVERY`` from a daemon
        thread (its own database connection, closed when it stops). The first beat comes after
        one interval; a beat that fails (a busy database) is logged and the next one tries again."""
        stop = threading.Event()
        every = HEARTBEAT_EVERY.total_seconds()

        def beat() -> None:
            try:
                while not stop.wait(every):
                    try:
                        cls.objects.filter(pk=pk, status=JobStatus.RUNNING).update(heartbeat_at=timezone.now())
                    except Exception:  # noqa: BLE001 - a missed beat is not the job's failure
                        logger.warning("Heartbeat of %s %s failed", cls._meta.label, pk, exc_info=True)
            finally:
                connection.close()

        thread = threading.Thread(target=beat, name=f"heartbeat-{cls._meta.label}-{pk}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=every + 5)

    @classmethod
    def report_progress(cls, pk: int, percent: int, note: str | None = None) -> bool:
        """Record how far a running job is (0–99: 100 is ``finish``'s) and that it is alive."""
        fields: dict[str, Any] = {"progress": max(0, min(99, int(percent))), "heartbeat_at": timezone.now()}
        if note is not None:
            fields["progress_note"] = note[:200]
        return bool(cls.objects.filter(pk=pk, status=JobStatus.RUNNING).update(**fields))

    @classmethod
    def finish(cls, pk: int, *, note: str = DONE, **fields: Any) -> bool:
        """Mark a running job done, with whatever it computed (``fields`` of the concrete model)."""
        now = timezone.now()
        done = cls.objects.filter(pk=pk, status=JobStatus.RUNNING).update(
            status=JobStatus.DONE,
            progress=100,
            progress_note=note[:200],
            error="",
            finished_at=now,
            heartbeat_at=now,
            **fields,
        )
        if done:
            job_event(cls._meta.label, pk, "finished")
        return bool(done)

    @classmethod
    def fail(cls, pk: int, error: str, *, from_statuses: tuple[str, ...] = ACTIVE) -> bool:
        """Mark a job that is not finished yet (or in one of ``from_statuses``) failed with ``error``."""
        failed = cls.objects.filter(pk=pk, status__in=from_statuses).update(
            status=JobStatus.FAILED, error=error[:ERROR_MAX_CHARS], finished_at=timezone.now()
        )
        if failed:
            job_event(cls._meta.label, pk, "failed", error=error[:200])
        return bool(failed)

    @classmethod
    def requeue(cls, pk: int, *, note: str = "Queued again") -> bool:
        """Queue a finished job again, to compute it afresh."""
        return bool(
            cls.objects.filter(pk=pk, status__in=FINISHED).update(
                status=JobStatus.QUEUED,
                progress=0,
                progress_note=note[:200],
                error="",
                started_at=None,
                finished_at=None,
                heartbeat_at=timezone.now(),
            )
        )

    @classmethod
    def fail_stale(cls, queryset: QuerySet[Any] | None = None, *, error: str = JOB_LOST) -> int:
        """Mark every stale job (of ``queryset``, else of the model) failed; returns how many."""
        now = timezone.now()
        jobs = cls.objects.all() if queryset is None else queryset
        swept = jobs.filter(stale_q(now)).update(
            status=JobStatus.FAILED, error=error[:ERROR_MAX_CHARS], finished_at=now
        )
        if swept:
            job_logger.warning(
                "%s lost jobs of %s marked failed",
                swept,
                cls._meta.label,
                extra={"job": cls._meta.label, "event": "job.swept", "count": swept},
            )
        return swept

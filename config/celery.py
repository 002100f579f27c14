"""The Celery app. The broker is Redis in services mode, a SQLite file in the embedded default
(config/settings.py); `make run` starts a worker with the beat scheduler inside it."""

import os

from celery import Celery
from celery.signals import (
    after_setup_task_logger,
    task_failure,
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_init,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("foresight")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _add_worker_heartbeat() -> None:
    """The worker's main process records a heartbeat on a timer, busy slots or not (core/worker.py)."""
    from core.worker import Heartbeat

    app.steps["worker"].add(Heartbeat)


_add_worker_heartbeat()


@worker_process_init.connect
def _load_the_model_with_the_worker(**kwargs) -> None:
    """Each worker process starts loading the embedding model at once (in a thread), so the first
    match run, proposal or suggestion warm-up does not begin with it."""
    from django.conf import settings

    if settings.MATCHING_PRELOAD:
        from matching.embeddings import load_in_background

        load_in_background()


@worker_init.connect
@worker_process_init.connect
def _broadcast_through_the_outbox(**kwargs) -> None:
    """A worker's broadcasts must reach the web servers' sockets: with an in-memory channel layer
    (the embedded default) they go through the outbox (workshops/realtime.py). Both signals: pool
    processes forked after worker_init inherit it; a pool that forks no process (solo, threads)
    gets only worker_init, one that spawns them only worker_process_init."""
    from workshops.realtime import outside_the_web_server

    outside_the_web_server()


@after_setup_task_logger.connect
def _json_task_logs(logger=None, **kwargs) -> None:
    from core.logs import use_json_formatter

    use_json_formatter(logger)


# One record per task run on the `foresight.job` logger (core/logs.py).
def _connect_job_logs() -> None:
    from core import logs

    task_prerun.connect(logs.task_started, weak=False)
    task_postrun.connect(logs.task_finished, weak=False)
    task_failure.connect(logs.task_failed, weak=False)


_connect_job_logs()

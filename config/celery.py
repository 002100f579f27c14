"""The Celery app. The broker is Redis in services mode, a SQLite file in the embedded default
(config/settings.py); `make run` starts a worker with the beat scheduler inside it."""

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("foresight")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _load_the_model_with_the_worker(**kwargs) -> None:
    """Each worker process starts loading the embedding model at once (in a thread), so the first
    match run, proposal or suggestion warm-up does not begin with it."""
    from django.conf import settings

    if settings.MATCHING_PRELOAD:
        from matching.embeddings import load_in_background

        load_in_background()

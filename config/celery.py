"""The Celery app. The broker is Redis in services mode, a SQLite file in the embedded default
(config/settings.py); `make run` starts a worker with the beat scheduler inside it."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("foresight")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

"""/healthz: database, channel layer, broker and a worker's heartbeat, 200 when all are ok, else 503.

These run on whatever the suite runs on: the embedded default (SQLite, in-memory layer, the SQLite
broker) or, with DATABASE_URL and REDIS_URL set, the real PostgreSQL and Redis. The whole running
deployment is checked by tests/ops/test_make_services.py.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core import health
from core.health import NO_HEARTBEAT, STALE_HEARTBEAT, WORKER_STALE_AFTER, heartbeat_record
from core.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db

URL = "/healthz"


def test_the_url_is_the_one_load_balancers_are_told():
    assert reverse("healthz") == URL


def test_it_answers_503_and_says_so_when_no_worker_was_ever_heard(client):
    response = client.get(URL)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["worker"] == {"ok": False, "error": NO_HEARTBEAT, "ms": body["checks"]["worker"]["ms"]}
    for name in ("database", "channel_layer", "broker"):
        assert body["checks"][name]["ok"], body["checks"][name]


def test_it_answers_200_with_every_check_when_a_worker_beat_recently(client):
    heartbeat_record(worker="celery@host-1")
    response = client.get(URL)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert list(body["checks"]) == ["database", "channel_layer", "broker", "worker"]
    assert body["checks"]["worker"]["worker"] == "celery@host-1"
    assert all(check["ok"] and check["ms"] >= 0 for check in body["checks"].values())


def test_a_heartbeat_older_than_a_jobs_staleness_limit_counts_as_no_worker(client):
    now = timezone.now()
    heartbeat_record(worker="celery@gone", at=now - WORKER_STALE_AFTER - timedelta(seconds=1))
    assert health.check_worker(now)["error"] == STALE_HEARTBEAT
    heartbeat_record(worker="celery@alive", at=now - WORKER_STALE_AFTER + timedelta(seconds=1))
    assert health.check_worker(now)["worker"] == "celery@alive"


def test_the_page_says_nothing_about_hosts_or_credentials_when_the_broker_is_down(client):
    from celery import current_app

    heartbeat_record(worker="celery@host-1")
    before = current_app.conf.broker_url, current_app.conf.broker_write_url
    current_app.conf.broker_url = "redis://:secret-password@127.0.0.1:9/0"  # nothing listens on port 9
    current_app.conf.broker_write_url = None
    try:
        response = client.get(URL)
    finally:
        current_app.conf.broker_url, current_app.conf.broker_write_url = before
    assert response.status_code == 503
    broker = response.json()["checks"]["broker"]
    assert broker["ok"] is False and broker["error"]
    assert "secret" not in response.content.decode() and "127.0.0.1" not in response.content.decode()


def test_a_check_that_hangs_fails_by_the_timeout_instead_of_hanging_the_page(client, settings, monkeypatch):
    settings.HEALTHZ_TIMEOUT = 0.3
    heartbeat_record(worker="celery@host-1")
    monkeypatch.setattr(health, "check_channel_layer", lambda: time.sleep(3) or {})
    started = time.monotonic()
    response = client.get(URL)
    assert time.monotonic() - started < 2.5
    assert response.status_code == 503
    assert response.json()["checks"]["channel_layer"]["error"] == health.TIMED_OUT


def test_it_is_never_cached_and_rejects_post(client):
    response = client.get(URL)
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert client.post(URL).status_code == 405


def test_the_heartbeat_task_keeps_one_row_per_worker():
    from core.tasks import worker_heartbeat

    worker_heartbeat.apply()
    first = WorkerHeartbeat.objects.get()
    worker_heartbeat.apply()
    assert WorkerHeartbeat.objects.count() == 1
    assert WorkerHeartbeat.objects.get().beat_at >= first.beat_at


def test_beat_sends_the_heartbeat_every_job_heartbeat_interval(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["worker-heartbeat"]
    assert entry == {"task": "core.tasks.worker_heartbeat", "schedule": settings.JOB_HEARTBEAT_SECONDS}

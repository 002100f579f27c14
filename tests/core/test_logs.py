"""Structured logs: one record per request (route, status, time, user, request id) and per job."""

from __future__ import annotations

import io
import json
import logging
import logging.config

import pytest
from django.conf import settings

from core.logs import REQUEST_ID_HEADER
from findings.models import ExportJob
from tests.factories import CycleFactory

pytestmark = pytest.mark.django_db


def _records(caplog, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == name]


def test_a_request_logs_its_route_never_its_path_or_query(client, caplog):
    caplog.set_level(logging.INFO, logger="foresight.request")
    client.get("/accounts/reset/MQ/secret-reset-token/?next=/private/")
    (record,) = _records(caplog, "foresight.request")
    assert record.route == "/accounts/reset/<uidb64>/<token>/"
    assert record.method == "GET" and record.status == 200 and record.duration_ms >= 0
    assert record.user_id is None
    assert "secret-reset-token" not in record.getMessage() and "private" not in record.getMessage()


def test_a_request_logs_who_asked(client, personas, caplog):
    caplog.set_level(logging.INFO, logger="foresight.request")
    client.force_login(personas.convener)
    client.get("/accounts/profile/")
    assert _records(caplog, "foresight.request")[-1].user_id == personas.convener.pk


def test_the_request_id_of_a_proxy_is_kept_and_a_strange_one_replaced(client):
    assert client.get("/accounts/login/", headers={REQUEST_ID_HEADER: "abc-123"})[REQUEST_ID_HEADER] == "abc-123"
    replaced = client.get("/accounts/login/", headers={REQUEST_ID_HEADER: "<script>"})[REQUEST_ID_HEADER]
    assert len(replaced) == 32 and replaced.isalnum()


def test_with_log_format_json_every_line_is_one_json_object(client, caplog):
    stream = io.StringIO()
    config = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": settings.LOGGING["formatters"]["json"]},
        "handlers": {"out": {"class": "logging.StreamHandler", "stream": stream, "formatter": "json"}},
        "loggers": {"foresight.request": {"handlers": ["out"], "level": "INFO"}},
    }
    logger = logging.getLogger("foresight.request")
    saved = logger.handlers[:], logger.level, logger.propagate
    logging.config.dictConfig(config)
    try:
        client.get("/accounts/login/")
    finally:
        logger.handlers, logger.level, logger.propagate = saved
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["logger"] == "foresight.request" and line["level"] == "INFO"
    assert line["route"] == "/accounts/login/" and line["status"] == 200 and "time" in line and "request_id" in line


def test_a_background_jobs_claim_finish_and_failure_are_logged(caplog):
    caplog.set_level(logging.INFO, logger="foresight.job")
    job = ExportJob.objects.create(cycle=CycleFactory(), kind="workbook")
    ExportJob.claim(job.pk)
    ExportJob.finish(job.pk)
    other = ExportJob.objects.create(cycle=job.cycle, kind="workbook")
    ExportJob.fail(other.pk, "Disk full")
    events = [(r.event, r.job_id) for r in _records(caplog, "foresight.job")]
    assert events == [("job.claimed", job.pk), ("job.finished", job.pk), ("job.failed", other.pk)]


def test_a_task_run_is_logged_with_its_name_id_state_and_time(caplog):
    from core.tasks import worker_heartbeat

    caplog.set_level(logging.INFO, logger="foresight.job")
    result = worker_heartbeat.apply()
    records = [r for r in _records(caplog, "foresight.job") if getattr(r, "task_id", None) == result.id]
    assert [r.event for r in records] == ["task.started", "task.finished"]
    assert records[-1].task == "core.tasks.worker_heartbeat" and records[-1].state == "SUCCESS"
    assert records[-1].duration_ms >= 0

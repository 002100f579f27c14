"""Structured logs: one record per request and per piece of background work.

Both go through the standard logging module with their fields as ``extra``, so the formatter that
settings.LOG_FORMAT picks shows them: as one JSON object per line (python-json-logger) in services
mode, as a short line in a development terminal. Requests log their route pattern
(``cycles/<slug:slug>/``), never the raw path or query, because paths carry secrets: password
reset tokens, share links, invitation tokens.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings

request_logger = logging.getLogger("foresight.request")
job_logger = logging.getLogger("foresight.job")

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_MAX = 64


def _request_id(request) -> str:
    """The proxy's request id when it sent a sane one (so its log and ours join up), else a new one."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    if given and len(given) <= _REQUEST_ID_MAX and given.replace("-", "").isalnum():
        return given
    return uuid.uuid4().hex


def _route(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        static = "/" + settings.STATIC_URL.lstrip("/")
        return static if request.path.startswith(static) else "(unresolved)"
    return "/" + match.route if match.route else (match.view_name or "")


class RequestLogMiddleware:
    """One INFO record on ``foresight.request`` per request, with the response's request id header."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        started = time.perf_counter()
        request.request_id = _request_id(request)
        response = self.get_response(request)
        self._log(request, response, started)
        return response

    async def __acall__(self, request):
        started = time.perf_counter()
        request.request_id = _request_id(request)
        response = await self.get_response(request)
        self._log(request, response, started)
        return response

    @staticmethod
    def _log(request, response, started: float) -> None:
        response[REQUEST_ID_HEADER] = request.request_id
        if not request_logger.isEnabledFor(logging.INFO):
            return
        user = getattr(request, "user", None)
        fields = {
            "request_id": request.request_id,
            "method": request.method,
            "route": _route(request),
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "user_id": user.pk if user is not None and user.is_authenticated else None,
            "htmx": request.headers.get("HX-Request") == "true",
        }
        request_logger.info(
            "%s %s %s %sms", fields["method"], fields["route"], fields["status"], fields["duration_ms"], extra=fields
        )


# --- Celery tasks (connected in config/celery.py) -----------------------------------------------

_started: dict[str, float] = {}


def task_started(task_id: str, task, args: Any = (), kwargs: Any = None, **_: Any) -> None:
    _started[task_id] = time.perf_counter()
    fields = {"task": task.name, "task_id": task_id, "event": "task.started", "task_args": _ids(args, kwargs)}
    job_logger.info("task %s started", task.name, extra=fields)


def task_finished(task_id: str, task, state: str | None = None, **_: Any) -> None:
    began = _started.pop(task_id, None)
    fields = {
        "task": task.name,
        "task_id": task_id,
        "event": "task.finished",
        "state": state,
        "duration_ms": round((time.perf_counter() - began) * 1000, 1) if began is not None else None,
    }
    job_logger.info("task %s %s", task.name, state, extra=fields)


def task_failed(task_id: str, exception: BaseException, sender=None, **_: Any) -> None:
    name = getattr(sender, "name", "?")
    fields = {
        "task": name,
        "task_id": task_id,
        "event": "task.failed",
        "error": f"{type(exception).__name__}: {exception}",
    }
    job_logger.warning("task %s failed: %s", name, fields["error"], extra=fields)


def _ids(args: Any, kwargs: Any) -> dict[str, Any]:
    """A task's arguments are ids (tasks never take objects); anything else is left out of the log."""
    shown: dict[str, Any] = {}
    for index, value in enumerate(args or ()):
        if isinstance(value, int | bool) or value is None:
            shown[str(index)] = value
    for key, value in (kwargs or {}).items():
        if isinstance(value, int | bool) or value is None:
            shown[key] = value
    return shown


def job_event(model_label: str, pk: int, event: str, **fields: Any) -> None:
    """A BackgroundJob's transition (core/jobs.py): claimed, finished, failed, swept."""
    job_logger.info(
        "%s %s %s", model_label, pk, event, extra={"job": model_label, "job_id": pk, "event": f"job.{event}", **fields}
    )


def use_json_formatter(logger: logging.Logger) -> None:
    """Celery installs its own text formatter on the task logger's handler; swap in ours."""
    if settings.LOG_FORMAT != "json":
        return
    from pythonjsonlogger.json import JsonFormatter

    formatter = JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    )
    for handler in logger.handlers:
        handler.setFormatter(formatter)

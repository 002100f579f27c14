"""The product's own error pages (403, 404, 500, a stale form's CSRF refusal) and the one-line log
of refusals.

``config.urls`` names the handlers; they are used whenever Django's ``DEBUG`` is off, which
``DEBUG_PAGES=false`` gives even in development (``make run``; see config/settings.py): Django
itself shows its technical 404 and 500 pages whenever ``DEBUG`` is on, whatever the handlers.

A refusal (a 403 from ``cycles.access`` or a service) is the access policy working, not a fault:
``OneLineRefusals`` makes ``django.request`` log it as one line with its reason instead of a
traceback. Server errors (5xx) keep their traceback.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import requires_csrf_token

logger = logging.getLogger(__name__)

NOT_FOUND = (
    "There is no such page, or it belongs to a cycle you are not a member of. If someone invited you, "
    "open the link in your invitation email first."
)
FORBIDDEN = "Your role in this cycle does not give access to this page or action."
CSRF_FAILED = (
    "The form was out of date (your session may have ended, or the page was open for a long time). "
    "Go back, reload the page and try again."
)
# Shown if even the 500 template cannot be rendered (a broken template or static configuration).
FALLBACK_500 = (
    '<!doctype html><html lang="en-GB"><head><meta charset="utf-8"><title>Something went wrong · Foresight</title>'
    "</head><body><main><h1>Something went wrong</h1><p>The error has been logged. Try again in a moment.</p>"
    '<p><a href="/">Back to the start page</a></p></main></body></html>'
)
MAX_REASON = 300


class OneLineRefusals(logging.Filter):
    """On ``django.request``: a 4xx record loses its traceback and gains its reason on the line."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if record.exc_info and isinstance(status, int) and 400 <= status < 500:
            exc = record.exc_info[1]
            reason = " ".join(str(exc).split())[:MAX_REASON] if exc is not None else ""
            record.msg = record.getMessage() + (f" ({reason})" if reason else "")
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True


def _back_url(request: HttpRequest) -> str:
    """The page the person came from, when it is on this site (else nothing)."""
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return ""


def _reason(exception) -> str:
    args = getattr(exception, "args", ())
    return args[0] if args and isinstance(args[0], str) and args[0].strip() else ""


@requires_csrf_token
def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    # The refusal messages of cycles.access and the services are written for the person refused.
    context = {"reason": _reason(exception) or FORBIDDEN, "back_url": _back_url(request)}
    return render(request, "403.html", context, status=403)


@requires_csrf_token
def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    # Never the exception's text: it names models and URL patterns ("No Cycle matches ...").
    context = {"reason": NOT_FOUND, "request_path": request.path, "back_url": _back_url(request)}
    return render(request, "404.html", context, status=404)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    # CsrfViewMiddleware logs the refusal itself (django.security.csrf), one line.
    context = {"reason": CSRF_FAILED, "back_url": _back_url(request)}
    return render(request, "403.html", context, status=403)


def server_error(request: HttpRequest | None = None) -> HttpResponse:
    """No request context and no database: the failure may be the database itself."""
    try:
        html = loader.get_template("500.html").render({})
    except Exception:
        logger.exception("The 500 page could not be rendered")
        html = FALLBACK_500
    return HttpResponse(html, status=500)

"""Absolute links for emails and calendar files, right however the server is reached."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

# Where a link points when nothing is configured and no request says (a command, the shell).
LOCAL_BASE = "http://127.0.0.1:8000"


def site_base(request: HttpRequest | None = None) -> str:
    """The site's address without a trailing slash: ``SITE_URL`` when it is configured (a deployment
    behind a proxy names its public address), else the scheme and host this request reached."""
    if settings.SITE_URL:
        return settings.SITE_URL.rstrip("/")
    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    return LOCAL_BASE

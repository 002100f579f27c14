"""/join: a code typed on a phone (or scanned from the projector) lands a person on the live screen."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect


def join(request: HttpRequest) -> HttpResponse:  # placeholder until the join flow lands
    return HttpResponse("Join")


def join_code(request: HttpRequest, code: str) -> HttpResponse:
    return HttpResponseRedirect("/join/")

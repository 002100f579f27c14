"""Pages that belong to no cycle and no app: /healthz and the accessibility statement."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.health import health


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 with every check ok, else 503; the body says which check failed."""
    ok, checks = health()
    return JsonResponse({"status": "ok" if ok else "fail", "checks": checks}, status=200 if ok else 503)


@require_GET
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "core/accessibility.html")

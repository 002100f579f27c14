"""Calendar downloads (.ics): one workshop, or every workshop of a cycle."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from core.pages import login_required
from cycles.access import get_cycle_for_member
from cycles.calendar import calendar_for
from cycles.models import Workshop


def _ics(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def cycle_calendar(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_member(request, slug)
    return _ics(calendar_for(access.cycle, access.cycle.workshops.all(), request=request), f"{access.cycle.slug}.ics")


@login_required
def workshop_calendar(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = get_cycle_for_member(request, slug)
    workshop = get_object_or_404(Workshop, pk=pk, cycle=access.cycle)
    return _ics(
        calendar_for(access.cycle, [workshop], request=request), f"{access.cycle.slug}-workshop-{workshop.pk}.ics"
    )

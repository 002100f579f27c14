"""The timeline: planned vs actual bars per phase, workshops as markers, a today line; rows edited inline."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from core.forms import apply_errors
from core.pages import login_required, render_page
from cycles import selectors, services
from cycles.access import get_cycle_for_convener, get_cycle_for_member
from cycles.forms import PhasePlanForm
from cycles.models import Phase


@login_required
def timeline(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_member(request, slug)
    context = {"cycle": access.cycle, "access": access, "timeline": selectors.timeline_for(access.cycle)}
    return render_page(request, "cycles/timeline.html", "chart", context)


def _get_plan_for_convener(request: HttpRequest, slug: str, phase: int):
    access = get_cycle_for_convener(request, slug)
    if phase not in Phase.values:
        raise Http404("No such phase.")
    plan = selectors.phase_plan(access.cycle, phase)  # unsaved when missing: saved by the POST only
    return access, plan


@login_required
def timeline_phase(request: HttpRequest, slug: str, phase: int) -> HttpResponse:
    """One phase's row: GET ?edit=1 shows its date form, POST saves it; both answer with the row partial."""
    access, plan = _get_plan_for_convener(request, slug, phase)
    editing = request.method == "POST" or request.GET.get("edit") == "1"
    form = PhasePlanForm(request.POST or None, instance=plan, prefix=f"p{phase}") if editing else None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.phase_plan_update(plan=plan, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Saved the dates of {plan.get_phase_display()}.")
                if not request.htmx:
                    return redirect("cycles:timeline", slug)
                editing, form = False, None
        if form is not None and form.errors:
            # htmx swaps 2xx responses only; a non-htmx post shows the page with the errors (400).
            status = 200 if request.htmx else 400
    row = selectors.timeline_row(access.cycle, phase)
    context = {
        "cycle": access.cycle,
        "access": access,
        "timeline": selectors.timeline_for(access.cycle),
        "row": row,
        "form": form,
        "editing_phase": phase if editing else None,
    }
    refresh_chart = ("chart",) if request.method == "POST" and not editing else ()
    return render_page(request, "cycles/timeline.html", "phase-row", context, status=status, oob_partials=refresh_chart)

"""Dashboard, about, the cycle list, creating and editing a cycle, its home page and phase moves."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_http_methods, require_POST

from core.forms import apply_errors
from core.pages import login_required, render_page
from cycles import selectors, services
from cycles.access import can_create_cycle, cycles_for_user, get_cycle_for_convener, get_cycle_for_member
from cycles.forms import CycleForm, ReopenForm
from cycles.models import Phase

CREATE_NOT_ALLOWED = "Only conveners and site staff can create a cycle."
# What entering each phase means, said before the convener confirms "Advance to <phase>".
ADVANCE_EFFECTS = {
    Phase.IDENTIFY: "proposing solutions closes, members rate each solution's impact and feasibility, "
    "and you prioritise the ones to take forward.",
    Phase.PREPARE: "rating closes and the prioritised solutions stand; you convene the specialists, set the "
    "supply-chain partners and role levels, and schedule the workshops.",
    Phase.CARRY_OUT: "the workshops run: capability capture, Delphi proficiency rounds, FOP ratification and "
    "KSB tagging, then matching against current provision.",
    Phase.COMMUNICATE: "the findings pages, downloads and report open to every member, and you can share them.",
    Phase.CAUSE_ACTION: "the action plan opens: who acts, when, and what should result.",
}


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    board = selectors.dashboard_for(request.user)
    return render_page(request, "cycles/dashboard.html", "waiting", {"board": board})


def about(request: HttpRequest) -> HttpResponse:
    return render(request, "cycles/about.html")


@login_required
def cycle_list(request: HttpRequest) -> HttpResponse:
    cycles = cycles_for_user(request.user).order_by("-created_at")
    return render_page(
        request, "cycles/cycle_list.html", "cycles", {"cycles": cycles, "can_create": can_create_cycle(request.user)}
    )


@login_required
def cycle_create(request: HttpRequest) -> HttpResponse:
    if not can_create_cycle(request.user):
        raise PermissionDenied(CREATE_NOT_ALLOWED)
    form = CycleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cycle = services.cycle_create(created_by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Created the cycle “{cycle.title}”. It starts in Consider.")
            return redirect("cycles:cycle_detail", cycle.slug)
    return render(
        request, "cycles/cycle_form.html", {"form": form, "creating": True}, status=400 if form.errors else 200
    )


@login_required
def cycle_edit(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_convener(request, slug)
    cycle = access.cycle
    form = CycleForm(request.POST or None, instance=cycle)
    if request.method == "POST" and form.is_valid():
        try:
            services.cycle_update(cycle=cycle, actor=request.user, **{f: form.cleaned_data[f] for f in form.fields})
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Saved the cycle details.")
            return redirect("cycles:cycle_detail", cycle.slug)
    if form.errors:
        cycle.refresh_from_db()
    return render(
        request,
        "cycles/cycle_form.html",
        {"form": form, "cycle": cycle, "access": access},
        status=400 if form.errors else 200,
    )


def _phase_context(access) -> dict:
    cycle = access.cycle
    nxt = cycle.phase + 1 if cycle.phase < Phase.CAUSE_ACTION else None
    return {
        "cycle": cycle,
        "access": access,
        "next_phase": Phase(nxt) if nxt else None,
        "advance_effect": ADVANCE_EFFECTS.get(nxt, ""),
        "missing": services.phase_missing(cycle=cycle, phase=nxt) if nxt and access.is_convener else [],
        "reopen_form": ReopenForm(cycle=cycle) if access.is_convener and cycle.phase > Phase.CONSIDER else None,
        "phases": Phase.choices,
    }


@login_required
def cycle_detail(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_member(request, slug)
    context = _phase_context(access) | {"counts": selectors.counts_for(access.cycle)}
    return render_page(request, "cycles/cycle_detail.html", "phase-panel", context)


@login_required
@require_http_methods(["GET", "POST"])
def phase_advance(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: the confirmation (what entering the next phase means); POST: advance."""
    access = get_cycle_for_convener(request, slug)
    if request.method == "GET":
        context = _phase_context(access)
        if context["next_phase"] is None:
            return redirect("cycles:cycle_detail", slug)
        return render(request, "cycles/phase_advance.html", context)
    try:
        cycle = services.phase_advance(cycle=access.cycle, actor=request.user)
    except services.PhaseGuardError as exc:
        messages.error(request, f"{Phase(exc.phase).label} cannot start yet: " + " ".join(exc.missing))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"The cycle is now in {cycle.get_phase_display()}.")
    return _after_phase_change(request, slug)


@login_required
@require_POST
def phase_reopen(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_convener(request, slug)
    form = ReopenForm(request.POST, cycle=access.cycle)
    if form.is_valid():
        try:
            cycle = services.phase_reopen(
                cycle=access.cycle,
                phase=form.cleaned_data["phase"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Reopened {cycle.get_phase_display()}.")
    else:
        messages.error(request, "Choose an earlier phase to reopen.")
    return _after_phase_change(request, slug)


def _after_phase_change(request: HttpRequest, slug: str) -> HttpResponse:
    if request.htmx:
        access = get_cycle_for_member(request, slug)
        context = _phase_context(access) | {"counts": selectors.counts_for(access.cycle)}
        response = render_page(request, "cycles/cycle_detail.html", "phase-panel", context)
        # The cycle navigation shows the phase too: refresh it out of band.
        response.content += render_to_string(
            "cycles/_cycle_nav.html", context | {"oob": True}, request=request
        ).encode()
        return response
    return redirect("cycles:cycle_detail", slug)


@login_required
def audit_log(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_member(request, slug, roles=["convener", "observer"])
    verb = request.GET.get("verb", "")
    return render_page(
        request,
        "cycles/audit.html",
        "events",
        {
            "cycle": access.cycle,
            "access": access,
            "events": selectors.audit_rows(access.cycle, verb_prefix=verb, personal=access.is_convener),
            "masked": not access.is_convener,
            "verb": verb,
        },
    )

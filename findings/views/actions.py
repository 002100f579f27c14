"""Cause action: the action plan. Members read it; conveners add, change and remove actions."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.pages import login_required
from cycles.access import get_cycle_for_convener, get_cycle_for_member
from cycles.models import Cycle
from findings.empty_states import empty_state
from findings.forms import ActionItemForm
from findings.models import ActionItem, Horizon
from findings.selectors import action_items
from findings.services import action_item_create, action_item_delete, action_item_update
from findings.views.pages import _get_share, _nav


def _get_action_for_convener(request: HttpRequest, slug: str, pk: int):
    access = get_cycle_for_convener(request, slug)
    return access, get_object_or_404(ActionItem, pk=pk, cycle=access.cycle)


def _grouped(cycle: Cycle, horizon: str = "", status: str = "") -> list[tuple[str, str, list[ActionItem]]]:
    items = list(action_items(cycle, horizon=horizon, status=status))
    return [
        (key, label, [a for a in items if a.horizon == key])
        for key, label in Horizon.choices
        if any(a.horizon == key for a in items)
    ]


def _render_list(request: HttpRequest, cycle: Cycle, *, access=None, share_token: str = "") -> HttpResponse:
    horizon = request.GET.get("horizon", "")
    horizon = horizon if horizon in Horizon.values else ""
    status = request.GET.get("status", "")
    status = status if status in ActionItem.Status.values or status == "open" else ""
    groups = _grouped(cycle, horizon, status)
    context = {
        "cycle": cycle,
        "access": access,
        "share_token": share_token,
        "nav": _nav(),
        "section": "actions",
        "groups": groups,
        "overdue": sum(1 for _k, _l, items in groups for a in items if a.is_overdue),
        "horizons": Horizon.choices,
        "statuses": ActionItem.Status.choices,
        "horizon": horizon,
        "status": status,
        "can_edit": bool(access and access.is_convener),
        "empty": None if groups or horizon or status else empty_state("actions", cycle, access),
    }
    template = "findings/actions.html#plan" if request.htmx else "findings/actions.html"
    return render(request, template, context)


@login_required
def action_list(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_member(request, slug)
    return _render_list(request, access.cycle, access=access)


def shared_actions(request: HttpRequest, token: str) -> HttpResponse:
    link = _get_share(token)
    return _render_list(request, link.cycle, share_token=token)


@login_required
def action_create(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_convener(request, slug)
    form = ActionItemForm(request.POST or None, cycle=access.cycle)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        fops, caps = data.pop("fops"), data.pop("capabilities")
        item = action_item_create(cycle=access.cycle, actor=request.user, fields=data, fops=fops, capabilities=caps)
        messages.success(request, f"Action “{item.topic}” added to the plan.")
        return redirect("findings:actions", slug)
    return render(
        request,
        "findings/action_form.html",
        {"cycle": access.cycle, "access": access, "form": form, "nav": _nav(), "section": "actions"},
        status=400 if form.errors else 200,
    )


@login_required
def action_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, item = _get_action_for_convener(request, slug, pk)
    form = ActionItemForm(request.POST or None, instance=item, cycle=access.cycle)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        fops, caps = data.pop("fops"), data.pop("capabilities")
        # ModelForm validation wrote the new values onto the instance; the service records before/after.
        item.refresh_from_db()
        action_item_update(item=item, actor=request.user, fields=data, fops=fops, capabilities=caps)
        messages.success(request, f"Action “{item.topic}” saved.")
        return redirect("findings:actions", slug)
    return render(
        request,
        "findings/action_form.html",
        {"cycle": access.cycle, "access": access, "form": form, "item": item, "nav": _nav(), "section": "actions"},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def action_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    _access, item = _get_action_for_convener(request, slug, pk)
    topic = item.topic
    action_item_delete(item=item, actor=request.user)
    messages.success(request, f"Action “{topic}” removed from the plan.")
    return redirect("findings:actions", slug)

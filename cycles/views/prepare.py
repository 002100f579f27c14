"""Prepare: supply-chain partners, role levels and workshops (the convener edits; members read)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from core.forms import apply_errors
from core.pages import login_required, render_page
from cycles import selectors, services
from cycles.access import get_cycle_for_convener, get_cycle_for_member
from cycles.forms import PartnerForm, RoleLevelForm, WorkshopForm
from cycles.models import RoleLevel, SupplyChainPartner, Workshop


@dataclass(frozen=True)
class Kind:
    """One Prepare list: its model, form, service calls, URL names and words."""

    model: Any
    form: Any
    save: Any
    delete: Any
    instance_arg: str
    list_url: str
    edit_url: str
    delete_url: str
    singular: str
    plural: str
    template: str

    def items(self, cycle):
        return selectors.prepare_rows(self.model, cycle)

    def make_form(self, cycle, data=None, instance=None):
        if self.form is WorkshopForm:
            return WorkshopForm(data, cycle=cycle, workshop=instance)
        return self.form(data, instance=instance)

    def call_save(self, *, cycle, actor, form, instance=None):
        data = dict(form.cleaned_data)
        if self.model is SupplyChainPartner or self.model is RoleLevel:
            data["description"] = data.get("description") or ""
        return self.save(cycle=cycle, actor=actor, **data, **{self.instance_arg: instance})


PARTNERS = Kind(
    SupplyChainPartner,
    PartnerForm,
    services.partner_save,
    services.partner_delete,
    "partner",
    "cycles:partners",
    "cycles:partner_edit",
    "cycles:partner_delete",
    "supply-chain partner",
    "Supply-chain partners",
    "cycles/prepare_list.html",
)
ROLE_LEVELS = Kind(
    RoleLevel,
    RoleLevelForm,
    services.role_level_save,
    services.role_level_delete,
    "role_level",
    "cycles:role_levels",
    "cycles:role_level_edit",
    "cycles:role_level_delete",
    "role level",
    "Role levels",
    "cycles/prepare_list.html",
)
WORKSHOPS = Kind(
    Workshop,
    WorkshopForm,
    services.workshop_save,
    services.workshop_delete,
    "workshop",
    "cycles:workshops",
    "cycles:workshop_edit",
    "cycles:workshop_delete",
    "workshop",
    "Workshops",
    "cycles/prepare_list.html",
)


def _context(kind: Kind, access, form=None) -> dict:
    cycle = access.cycle
    return {
        "cycle": cycle,
        "access": access,
        "kind": kind,
        "items": kind.items(cycle),
        "form": form or (kind.make_form(cycle) if access.is_convener else None),
    }


def _list_view(kind: Kind):
    @login_required
    def view(request: HttpRequest, slug: str) -> HttpResponse:
        if request.method == "POST":
            access = get_cycle_for_convener(request, slug)
            form = kind.make_form(access.cycle, request.POST)
            if form.is_valid():
                try:
                    item = kind.call_save(cycle=access.cycle, actor=request.user, form=form)
                except ValidationError as exc:
                    apply_errors(form, exc)
                else:
                    messages.success(request, f"Added the {kind.singular} “{item}”.")
                    if request.htmx:
                        return render_page(request, kind.template, "section", _context(kind, access))
                    return redirect(kind.list_url, slug)
            status = 200 if request.htmx else 400
            return render_page(request, kind.template, "section", _context(kind, access, form), status=status)
        access = get_cycle_for_member(request, slug)
        return render_page(request, kind.template, "section", _context(kind, access))

    view.__name__ = f"{kind.instance_arg}_list"
    return view


def _edit_view(kind: Kind):
    @login_required
    def view(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
        access = get_cycle_for_convener(request, slug)
        item = get_object_or_404(kind.model, pk=pk, cycle=access.cycle)
        form = kind.make_form(access.cycle, request.POST or None, instance=item)
        if request.method == "POST" and form.is_valid():
            try:
                kind.call_save(cycle=access.cycle, actor=request.user, form=form, instance=item)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Saved the {kind.singular} “{item}”.")
                return redirect(kind.list_url, slug)
        context = {"cycle": access.cycle, "access": access, "kind": kind, "item": item, "form": form}
        status = 400 if form.errors else 200
        return render_page(request, "cycles/prepare_edit.html", "edit-form", context, status=status)

    view.__name__ = f"{kind.instance_arg}_edit"
    return view


def _delete_view(kind: Kind):
    @login_required
    @require_POST
    def view(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
        access = get_cycle_for_convener(request, slug)
        item = get_object_or_404(kind.model, pk=pk, cycle=access.cycle)
        name = str(item)
        try:
            kind.delete(**{kind.instance_arg: item}, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Deleted the {kind.singular} “{name}”.")
        if request.htmx:
            return render_page(request, kind.template, "section", _context(kind, access))
        return redirect(kind.list_url, slug)

    view.__name__ = f"{kind.instance_arg}_delete"
    return view


partners = _list_view(PARTNERS)
partner_edit = _edit_view(PARTNERS)
partner_delete = _delete_view(PARTNERS)
role_levels = _list_view(ROLE_LEVELS)
role_level_edit = _edit_view(ROLE_LEVELS)
role_level_delete = _delete_view(ROLE_LEVELS)
workshops = _list_view(WORKSHOPS)
workshop_edit = _edit_view(WORKSHOPS)
workshop_delete = _delete_view(WORKSHOPS)

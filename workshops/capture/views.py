"""Capability capture pages: thin views that authorise through cycles.access and call the services."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from core.forms import apply_errors
from core.pages import login_required
from cycles.access import ROLE_NOT_ALLOWED, Access, get_cycle_for_convener, get_cycle_for_member
from cycles.models import Workshop
from workshops.capture import bulk, selectors, services
from workshops.capture import taxonomy as taxonomy_services
from workshops.capture.checks import (
    STATEMENT_MAX_LENGTH,
    STATEMENT_MIN_LENGTH,
    length_error,
    normalise_statement,
    statement_hints,
)
from workshops.capture.forms import (
    BulkReviewForm,
    CapabilityForm,
    CapabilityImportForm,
    CsvUploadForm,
    MergeForm,
    RejectForm,
)
from workshops.join.selectors import join_panel_for_workshop
from workshops.models import Capability
from workshops.realtime import capture_ws_path

HINTS_INTRO = "Submitted. A suggestion for the wording:"
BULK_NOT_UNDERSTOOD = "Nothing was changed: {problem}"


def _workshop_or_404(access: Access, workshop_id: int | None) -> Workshop | None:
    if workshop_id is None:
        return None
    return get_object_or_404(selectors.capture_workshops(cycle=access.cycle), pk=workshop_id)


def _capture_url(access: Access, workshop: Workshop | None = None) -> str:
    if workshop is not None:
        return reverse("workshops:capture_workshop", args=[access.cycle.slug, workshop.pk])
    return reverse("workshops:capture", args=[access.cycle.slug])


def _get_capability_for_member(request: HttpRequest, slug: str, pk: int) -> tuple[Access, Capability]:
    access = get_cycle_for_member(request, slug)
    capability = selectors.capability_detail(cycle=access.cycle, pk=pk)
    if capability is None:
        raise Http404("No such capability in this cycle.")
    return access, capability


def _get_capability_for_convener(request: HttpRequest, slug: str, pk: int) -> tuple[Access, Capability]:
    access = get_cycle_for_convener(request, slug)
    capability = selectors.capability_detail(cycle=access.cycle, pk=pk)
    if capability is None:
        raise Http404("No such capability in this cycle.")
    return access, capability


def _classification_context(data=None, capability: Capability | None = None) -> dict:
    """The choices of the function/domain/area selects, narrowed by what is already picked."""

    def picked(name: str) -> int | None:
        if data is not None:
            raw = data.get(name)
            return int(raw) if raw and str(raw).isdigit() else None
        if capability is not None:
            return getattr(capability, f"{name}_id")
        return None

    function_id, domain_id, area_id = picked("function"), picked("domain"), picked("area")
    domains = list(selectors.domains_for(function_id=function_id))
    if domain_id not in {d.id for d in domains}:
        domain_id = None
    areas = list(selectors.areas_for(domain_id=domain_id, function_id=function_id))
    if area_id not in {a.id for a in areas}:
        area_id = None
    return {
        "functions": selectors.functions_all(),
        "domains": domains,
        "areas": areas,
        "picked": {"function": function_id, "domain": domain_id, "area": area_id},
    }


def _undo_key(access: Access) -> str:
    return f"capture-undo-{access.cycle.pk}"


def _bulk_form(access: Access, data=None) -> BulkReviewForm:
    return BulkReviewForm(data, cycle=access.cycle, classification_choices=selectors.taxonomy_choices())


def _page_context(request: HttpRequest, access: Access, workshop: Workshop | None, form=None) -> dict:
    status = request.GET.get("status", "open")
    if status not in selectors.STATUS_FILTERS:
        status = "open"
    can_submit = access.can(*services.SUBMIT_ROLES)
    if form is None and can_submit:
        form = CapabilityForm(cycle=access.cycle)
    if access.is_convener:
        capabilities = selectors.capabilities_for_review(cycle=access.cycle, workshop=workshop, status=status)
    else:
        capabilities = selectors.capabilities_for_capture(cycle=access.cycle, workshop=workshop, status=status)
    return {
        "cycle": access.cycle,
        "access": access,
        "workshop": workshop,
        "workshops": selectors.capture_workshops(cycle=access.cycle),
        "form": form,
        "can_submit": can_submit,
        "capabilities": capabilities,
        "counts": selectors.capture_counts(cycle=access.cycle, workshop=workshop),
        "status": status,
        "status_filters": list(selectors.STATUS_FILTERS),
        "capture_url": _capture_url(access, workshop),
        "review_url": f"{_capture_url(access, workshop)}?status={status}",
        "ws_path": capture_ws_path(access.cycle),
        # The projector's join code and QR, for the convener running the workshop.
        "join": join_panel_for_workshop(request, workshop) if workshop and access.is_convener else None,
        "min_length": STATEMENT_MIN_LENGTH,
        "max_length": STATEMENT_MAX_LENGTH,
        **_classification_context(form.data if form is not None and form.is_bound else None),
    }


@login_required
def capture(request: HttpRequest, slug: str, workshop_id: int | None = None) -> HttpResponse:
    access = get_cycle_for_member(request, slug)
    workshop = _workshop_or_404(access, workshop_id)
    form = None
    if request.method == "POST":
        if not access.can(*services.SUBMIT_ROLES):
            raise PermissionDenied(ROLE_NOT_ALLOWED)
        form = CapabilityForm(request.POST, cycle=access.cycle)
        if form.is_valid():
            try:
                capability = services.capability_submit(
                    cycle=access.cycle,
                    actor=request.user,
                    statement=form.cleaned_data["statement"],
                    partners=form.cleaned_data["partners"],
                    function=form.cleaned_data["function"],
                    domain=form.cleaned_data["domain"],
                    area=form.cleaned_data["area"],
                    workshop=workshop,
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                hints = statement_hints(capability.statement)
                messages.success(request, f"{capability.ref} submitted: everyone in the workshop now sees it.")
                if hints:
                    messages.warning(request, " ".join([HINTS_INTRO, *hints]))
                if request.htmx:
                    context = _page_context(request, access, workshop)
                    return render(request, "workshops/capture/submitted.html", context)
                return redirect(_capture_url(access, workshop))
        if not form.is_valid():
            messages.error(request, "The statement was not submitted: see the highlighted fields.")
        if request.htmx:
            context = _page_context(request, access, workshop, form=form)
            return render(request, "workshops/capture/submitted.html", context)
    context = _page_context(request, access, workshop, form=form)
    if request.htmx and request.htmx.target == "capture-list":
        return render(request, "workshops/capture/board.html#capture-list", context)
    if access.is_convener:
        context["bulk_form"] = _bulk_form(access)
        # Shown once, right after the bulk action it undoes (as a message would be).
        context["undo"] = request.session.pop(_undo_key(access), None)
    return render(request, "workshops/capture/board.html", context)


@login_required
def statement_check(request: HttpRequest, slug: str) -> HttpResponse:
    """The wording hints for the statement being typed (htmx, as-you-type)."""
    access = get_cycle_for_member(request, slug)
    text = request.POST.get("statement", "") if request.method == "POST" else request.GET.get("statement", "")
    context = {
        "cycle": access.cycle,
        "hints": statement_hints(text),
        "length_problem": length_error(text) if text.strip() else None,
        "length": len(normalise_statement(text)),
        "min_length": STATEMENT_MIN_LENGTH,
        "max_length": STATEMENT_MAX_LENGTH,
        "door": selectors.door_duplicates(cycle=access.cycle, text=text) if text.strip() else None,
    }
    return render(request, "workshops/capture/board.html#statement-hints", context)


@login_required
def classification(request: HttpRequest, slug: str) -> HttpResponse:
    """The function/domain/area selects narrowed to what is picked (htmx swaps them in place)."""
    access = get_cycle_for_member(request, slug)
    context = {"cycle": access.cycle, **_classification_context(request.GET)}
    return render(request, "workshops/capture/classification.html", context)


@login_required
def capability_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, capability = _get_capability_for_member(request, slug, pk)
    context = {
        "cycle": access.cycle,
        "access": access,
        "capability": capability,
        "hints": statement_hints(capability.statement),
    }
    if access.is_convener:
        context["reject_form"] = RejectForm()
        context["merge_form"] = MergeForm(candidates=selectors.merge_candidates(capability=capability))
    return render(request, "workshops/capture/detail.html", context)


@login_required
def capability_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, capability = _get_capability_for_convener(request, slug, pk)
    if request.method == "POST":
        form = CapabilityForm(request.POST, cycle=access.cycle)
        if form.is_valid():
            try:
                services.capability_update(
                    capability=capability,
                    actor=request.user,
                    statement=form.cleaned_data["statement"],
                    partners=form.cleaned_data["partners"],
                    function=form.cleaned_data["function"],
                    domain=form.cleaned_data["domain"],
                    area=form.cleaned_data["area"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"{capability.ref} saved.")
                return redirect("workshops:capability_detail", access.cycle.slug, capability.pk)
        messages.error(request, f"{capability.ref} was not saved: see the highlighted fields.")
        classification_ctx = _classification_context(form.data)
    else:
        form = CapabilityForm(
            cycle=access.cycle,
            initial={
                "statement": capability.statement,
                "partners": list(capability.partners.all()),
                "function": capability.function_id,
                "domain": capability.domain_id,
                "area": capability.area_id,
            },
        )
        classification_ctx = _classification_context(capability=capability)
    context = {"cycle": access.cycle, "access": access, "capability": capability, "form": form, **classification_ctx}
    return render(request, "workshops/capture/edit.html", context)


def _after_action(request: HttpRequest, access: Access, capability: Capability) -> HttpResponse:
    next_url = request.POST.get("next")
    if next_url == "list":
        return redirect(_capture_url(access, capability.workshop if capability.workshop_id else None))
    return redirect("workshops:capability_detail", access.cycle.slug, capability.pk)


@login_required
@require_POST
def capability_accept(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, capability = _get_capability_for_convener(request, slug, pk)
    try:
        services.capability_accept(capability=capability, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{capability.ref} accepted.")
    return _after_action(request, access, capability)


@login_required
def capability_reject(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, capability = _get_capability_for_convener(request, slug, pk)
    form = RejectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.capability_reject(capability=capability, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            apply_errors(form, exc)
            messages.error(request, f"{capability.ref} was not rejected: " + " ".join(exc.messages))
        else:
            messages.success(request, f"{capability.ref} rejected.")
            return _after_action(request, access, capability)
    context = {"cycle": access.cycle, "access": access, "capability": capability, "form": form}
    return render(request, "workshops/capture/reject.html", context, status=400 if form.errors else 200)


@login_required
def capability_merge(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, capability = _get_capability_for_convener(request, slug, pk)
    form = MergeForm(request.POST or None, candidates=selectors.merge_candidates(capability=capability))
    if request.method == "POST" and form.is_valid():
        try:
            services.capability_merge(survivor=capability, sources=form.cleaned_data["sources"], actor=request.user)
        except ValidationError as exc:
            apply_errors(form, exc)
            messages.error(request, "Nothing was merged: " + " ".join(exc.messages))
        else:
            refs = ", ".join(source.ref for source in form.cleaned_data["sources"])
            messages.success(request, f"{refs} merged into {capability.ref}.")
            return redirect("workshops:capability_detail", access.cycle.slug, capability.pk)
    elif request.method == "POST":
        messages.error(request, "Nothing was merged: choose statements of this cycle from the list.")
    context = {"cycle": access.cycle, "access": access, "capability": capability, "form": form}
    return render(request, "workshops/capture/merge.html", context, status=400 if form.errors else 200)


def _back_to_review(request: HttpRequest, access: Access) -> HttpResponse:
    """Back to the capture list the convener acted on (its filter and workshop), never elsewhere."""
    target = request.POST.get("next", "")
    home = _capture_url(access)
    parts = urlsplit(target)
    ours = not parts.scheme and not parts.netloc and parts.path.startswith(home) and ".." not in parts.path
    return redirect(target if ours and "\\" not in target and "//" not in target else home)


@login_required
@require_POST
def capabilities_bulk(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_convener(request, slug)
    form = _bulk_form(access, request.POST)
    if not form.is_valid():
        problems = " ".join(error for errors in form.errors.values() for error in errors)
        messages.error(request, BULK_NOT_UNDERSTOOD.format(problem=problems))
        return _back_to_review(request, access)
    common = {
        "cycle": access.cycle,
        "actor": request.user,
        "capabilities": selectors.capabilities_by_ids(ids=form.selected_ids()),
    }
    data = form.cleaned_data
    act = {
        "accept": lambda: bulk.capabilities_bulk_accept(**common),
        "reject": lambda: bulk.capabilities_bulk_reject(**common, reason=data["reason"]),
        "classify": lambda: bulk.capabilities_bulk_classify(**common, **data["classification"]),
        "suggested": lambda: bulk.capabilities_bulk_apply_suggested(**common, suggestions=form.suggestions()),
        "partners": lambda: bulk.capabilities_bulk_assign_partners(
            **common, partners=data["partners"], replace=data["partner_mode"] == BulkReviewForm.REPLACE
        ),
    }[data["action"]]
    try:
        result = act()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        request.session[_undo_key(access)] = {"event": result.event.pk, "text": result.message}
    return _back_to_review(request, access)


@login_required
@require_POST
def capabilities_bulk_undo(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_convener(request, slug)
    event = request.POST.get("event", "")
    try:
        result = bulk.capabilities_bulk_undo(
            cycle=access.cycle, actor=request.user, event_id=int(event) if event.isdigit() else 0
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, result.message)
    return _back_to_review(request, access)


@login_required
def capabilities_import(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_convener(request, slug)
    form = CapabilityImportForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            created = services.capabilities_import(
                cycle=access.cycle,
                actor=request.user,
                data=form.cleaned_data["file"].read(),
                accept=form.cleaned_data["accept"],
            )
        except services.CapabilityImportError as exc:
            errors = exc.errors
            messages.error(request, f"Nothing was imported: the file has {len(errors)} problem(s), listed below.")
        else:
            messages.success(request, f"{len(created)} capability statements imported.")
            return redirect("workshops:capture", access.cycle.slug)
    context = {
        "cycle": access.cycle,
        "access": access,
        "form": form,
        "errors": errors,
        "columns": services.IMPORT_COLUMNS,
        "separator": services.PARTNER_SEPARATOR,
    }
    return render(request, "workshops/capture/import.html", context, status=400 if errors or form.errors else 200)


@login_required
def capabilities_export(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_member(request, slug)
    body = services.capabilities_export_csv(selectors.capabilities_for_export(cycle=access.cycle))
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slugify(access.cycle.slug)}-capabilities.csv"'
    return response


# The classification taxonomy: everyone signed in reads it, staff import and export it.

STAFF_ONLY = "Only staff may change the classification taxonomy."


def _require_staff(request: HttpRequest) -> None:
    if not request.user.is_staff:
        raise PermissionDenied(STAFF_ONLY)


def _taxonomy_render(request: HttpRequest, form: CsvUploadForm, errors: list[str], status: int = 200) -> HttpResponse:
    context = {
        "tree": selectors.taxonomy_tree(),
        "counts": selectors.taxonomy_counts(),
        "form": form,
        "errors": errors,
        "columns": taxonomy_services.COLUMNS,
    }
    return render(request, "workshops/capture/taxonomy.html", context, status=status)


@login_required
def taxonomy(request: HttpRequest) -> HttpResponse:
    return _taxonomy_render(request, CsvUploadForm(), [])


@login_required
@require_POST
def taxonomy_import(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    form = CsvUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Nothing was imported: choose a CSV file.")
        return _taxonomy_render(request, form, [], status=400)
    try:
        result = taxonomy_services.taxonomy_import(data=form.cleaned_data["file"].read())
    except taxonomy_services.TaxonomyImportError as exc:
        messages.error(request, f"Nothing was imported: the file has {len(exc.errors)} problem(s), listed below.")
        return _taxonomy_render(request, form, exc.errors, status=400)
    messages.success(request, f"Taxonomy imported. {result.summary()}")
    return redirect("workshops:taxonomy")


@login_required
def taxonomy_export(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(taxonomy_services.taxonomy_export_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="taxonomy.csv"'
    return response

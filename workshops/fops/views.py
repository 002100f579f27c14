"""FOP pages: list, matrix, detail with live review, history; the convener's proposal screen,
comparison with the published FOPs, create, merge and split. Thin: authorise through
cycles.access (and the FOP policy), call a service, say what happened."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core.pages import login_required, stop_polling
from cycles.access import Access, get_cycle_for_convener, get_cycle_for_member
from workshops.fops import selectors, services
from workshops.fops.forms import PROFICIENCY_CHOICES, FOPCreateForm, FOPEditForm, ProposalForm, SplitForm
from workshops.fops.policy import FOPAbilities, fop_abilities
from workshops.fops.proposals import ProposalBusy, ProposalError, clean_parameters, fop_proposal_run_queue
from workshops.fops.trace import capability_trace as capability_trace_selector
from workshops.models import FOP, Capability
from workshops.realtime import fop_ws_path

STATUS_BADGES = {
    FOP.Status.PROPOSED: "text-bg-secondary",
    FOP.Status.IN_REVIEW: "text-bg-warning",
    FOP.Status.RATIFIED: "text-bg-success",
    FOP.Status.RETURNED: "text-bg-danger",
}


def _int_or_none(raw) -> int | None:
    return int(raw) if raw and str(raw).isdigit() else None


def _get_fop_for_member(request: HttpRequest, slug: str, pk: int) -> tuple[Access, FOP, FOPAbilities]:
    access = get_cycle_for_member(request, slug)
    fop = selectors.fop_of_cycle(access.cycle, pk)
    if fop is None:
        raise Http404("No such FOP in this cycle.")
    abilities = fop_abilities(role=access.role, user=request.user, fop=fop)
    return access, fop, abilities


def _require(abilities: FOPAbilities, need: str) -> None:
    if not getattr(abilities, need):
        raise PermissionDenied(abilities.reason)


def _detail_url(fop: FOP) -> str:
    return reverse("workshops:fop_detail", args=[fop.cycle.slug, fop.pk])


def _detail_context(
    request: HttpRequest, access: Access, fop: FOP, abilities: FOPAbilities, done: dict | None = None
) -> dict:
    fop.refresh_from_db()
    fop.__dict__.pop("_label", None)  # a rename changes the label
    return {
        "cycle": access.cycle,
        "access": access,
        "fop": fop,
        "abilities": abilities,
        "entries": selectors.fop_entries(fop=fop),
        "reviewers": list(fop.reviewers.all()),
        "reviewer_choices": selectors.fop_reviewer_choices(cycle=access.cycle) if abilities.manage else [],
        "addable": selectors.fop_addable_capabilities(fop=fop) if abilities.edit else [],
        "proficiencies": PROFICIENCY_CHOICES,
        "check": selectors.fop_history_verify(fop=fop),
        "recent": list(selectors.fop_history(fop=fop).order_by("-id")[:5]),
        "status_badge": STATUS_BADGES.get(fop.status, "text-bg-secondary"),
        "edit_form": FOPEditForm(initial={"name": fop.name, "description": fop.description, "priority": fop.priority}),
        "ws_path": fop_ws_path(fop),
        "done": done,
    }


def _after_change(request: HttpRequest, access: Access, fop: FOP, done: dict | None = None) -> HttpResponse:
    """An htmx action gets the refreshed FOP body (with ``done``: what changed and its undo); a
    plain form post goes back to the page."""
    if request.htmx:
        abilities = fop_abilities(role=access.role, user=request.user, fop=selectors.fop_of_cycle(access.cycle, fop.pk))
        context = _detail_context(request, access, fop, abilities, done)
        return render(request, "workshops/fops/detail.html#fop-body", context)
    return redirect(_detail_url(fop))


def _level(value) -> str:
    return dict(PROFICIENCY_CHOICES).get(int(value), str(value)) if str(value).isdigit() else str(value)


def _done(request: HttpRequest, text: str, url: str, fields: dict) -> dict | None:
    """What a capability change did and the one-click undo that reverses it (the same endpoints,
    so the undo is checked and recorded in the history like any change). A plain form post gets
    the text as a message instead: the undo needs htmx."""
    if not request.htmx:
        messages.success(request, text)
        return None
    return {"text": text, "undo_url": url, "undo_fields": {**fields, "reason": "Undo"}}


# --- list and matrix -------------------------------------------------------------------------------


@login_required
@require_GET
def fops(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_member(request, slug)
    role_level_id = _int_or_none(request.GET.get("role_level"))
    source = request.GET.get("source") if request.GET.get("source") in FOP.Source.values else None
    items = selectors.with_labels(
        selectors.fops_for_cycle(cycle=access.cycle, role_level_id=role_level_id, source=source), access.cycle.pk
    )
    for fop in items:
        fop.badge = STATUS_BADGES.get(fop.status, "text-bg-secondary")
    context = {
        "cycle": access.cycle,
        "access": access,
        "fops": items,
        "role_levels": access.cycle.role_levels.all(),
        "role_level_id": role_level_id,
        "source": source,
        "sources": FOP.Source.choices,
        "latest_run": selectors.latest_proposal_run(access.cycle, done_only=True),
        "returned": selectors.fops_returned(cycle=access.cycle) if access.is_convener else [],
        # An empty list says where FOPs come from: the consensus, or the Delphi rounds still to run.
        "has_consensus": not items and access.is_convener and selectors.has_consensus(cycle=access.cycle),
    }
    if request.htmx:
        return render(request, "workshops/fops/list.html#fop-list", context)
    return render(request, "workshops/fops/list.html", context)


@login_required
@require_GET
def fop_matrix(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_member(request, slug)
    filters = {
        "role_level_id": _int_or_none(request.GET.get("role_level")),
        "partner_id": _int_or_none(request.GET.get("partner")),
        "function_id": _int_or_none(request.GET.get("function")),
        "source": request.GET.get("source") if request.GET.get("source") in FOP.Source.values else None,
    }
    hide_empty = request.GET.get("show_empty") != "1"
    matrix = selectors.fop_matrix(cycle=access.cycle, hide_empty=hide_empty, **filters)
    context = {
        "cycle": access.cycle,
        "access": access,
        "matrix": matrix,
        "filters": filters,
        "hide_empty": hide_empty,
        "sources": FOP.Source.choices,
    }
    if request.htmx:
        return render(request, "workshops/fops/matrix.html#matrix", context)
    return render(request, "workshops/fops/matrix.html", context)


# --- detail and live review -----------------------------------------------------------------------


@login_required
@require_GET
def fop_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, fop, abilities = _get_fop_for_member(request, slug, pk)
    context = _detail_context(request, access, fop, abilities)
    if request.htmx:
        return render(request, "workshops/fops/detail.html#fop-body", context)
    return render(request, "workshops/fops/detail.html", context)


@login_required
@require_GET
def fop_history(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, fop, abilities = _get_fop_for_member(request, slug, pk)
    context = {
        "cycle": access.cycle,
        "access": access,
        "fop": fop,
        "history": selectors.fop_history_rows(fop=fop),
        "check": selectors.fop_history_verify(fop=fop),
    }
    return render(request, "workshops/fops/history.html", context)


def _run_service(request: HttpRequest, call, success: str | None) -> bool:
    try:
        call()
    except services.FOPError as exc:
        messages.error(request, str(exc))
        return False
    if success:
        messages.success(request, success)
    return True


@login_required
@require_POST
def fop_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, fop, abilities = _get_fop_for_member(request, slug, pk)
    _require(abilities, "edit")
    form = FOPEditForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else "Form"
            messages.error(request, f"{label}: {' '.join(errors)}")
        return _after_change(request, access, fop)
    data = form.cleaned_data
    _run_service(
        request,
        lambda: services.fop_update(
            fop=fop,
            actor=request.user,
            name=data["name"],
            description=data["description"],
            priority=data["priority"],
            reason=data["reason"],
        ),
        "Saved.",
    )
    return _after_change(request, access, fop)


@login_required
@require_POST
def fop_capability_add(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, fop, abilities = _get_fop_for_member(request, slug, pk)
    _require(abilities, "edit")
    capability = selectors.capability_of_cycle(access.cycle, _int_or_none(request.POST.get("capability")))
    if capability is None:
        messages.error(request, "Choose a capability of this cycle to add.")
        return _after_change(request, access, fop)
    proficiency = request.POST.get("proficiency")
    done = None
    if _run_service(
        request,
        lambda: services.fop_add_capability(
            fop=fop,
            actor=request.user,
            capability=capability,
            proficiency=proficiency,
            reason=request.POST.get("reason", ""),
        ),
        None,
    ):
        done = _done(
            request,
            f"{capability.ref} added to “{fop.label}” at {_level(proficiency)}.",
            _change_url(fop, capability),
            {"action": "remove"},
        )
    return _after_change(request, access, fop, done)


@login_required
@require_POST
def fop_capability_change(request: HttpRequest, slug: str, pk: int, capability_pk: int) -> HttpResponse:
    """Uprate, downrate (``proficiency``) or remove (``action=remove``) one capability."""
    access, fop, abilities = _get_fop_for_member(request, slug, pk)
    _require(abilities, "edit")
    capability = get_object_or_404(Capability, cycle=access.cycle, pk=capability_pk)
    reason = request.POST.get("reason", "")
    before = selectors.fop_proficiency_of(fop=fop, capability=capability)
    done = None
    if request.POST.get("action") == "remove":
        if _run_service(
            request,
            lambda: services.fop_remove_capability(fop=fop, actor=request.user, capability=capability, reason=reason),
            None,
        ):
            done = _done(
                request,
                f"{capability.ref} removed from “{fop.label}” (it was {_level(before)}).",
                reverse("workshops:fop_capability_add", args=[fop.cycle.slug, fop.pk]),
                {"capability": capability.pk, "proficiency": before},
            )
    else:
        proficiency = request.POST.get("proficiency")
        if (
            _run_service(
                request,
                lambda: services.fop_set_proficiency(
                    fop=fop, actor=request.user, capability=capability, proficiency=proficiency, reason=reason
                ),
                None,
            )
            and before is not None
            and str(before) != str(proficiency)
        ):
            done = _done(
                request,
                f"{capability.ref} proficiency saved. {_level(proficiency)} in “{fop.label}” (it was {_level(before)}).",
                _change_url(fop, capability),
                {"proficiency": before},
            )
    return _after_change(request, access, fop, done)


def _change_url(fop: FOP, capability: Capability) -> str:
    return reverse("workshops:fop_capability_change", args=[fop.cycle.slug, fop.pk, capability.pk])


@login_required
@require_POST
def fop_reviewers(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, fop, abilities = _get_fop_for_member(request, slug, pk)
    _require(abilities, "manage")
    ids = [int(i) for i in request.POST.getlist("reviewers") if str(i).isdigit()]
    reviewers = selectors.users_by_ids(ids)
    if len(reviewers) != len(set(ids)):
        messages.error(request, "One of the chosen reviewers does not exist.")
        return _after_change(request, access, fop)
    _run_service(
        request,
        lambda: services.fop_assign_reviewers(fop=fop, actor=request.user, reviewers=reviewers),
        "Reviewers saved." if reviewers else "Reviewers removed.",
    )
    return _after_change(request, access, fop)


@login_required
@require_POST
def fop_ratify(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, fop, abilities = _get_fop_for_member(request, slug, pk)
    _require(abilities, "review")
    _run_service(
        request,
        lambda: services.fop_ratify(fop=fop, actor=request.user, comment=request.POST.get("comment", "")),
        f"“{fop.label}” ratified.",
    )
    return _after_change(request, access, fop)


@login_required
@require_POST
def fop_return(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, fop, abilities = _get_fop_for_member(request, slug, pk)
    _require(abilities, "review")
    _run_service(
        request,
        lambda: services.fop_return(fop=fop, actor=request.user, comment=request.POST.get("comment", "")),
        f"“{fop.label}” returned to the convener.",
    )
    return _after_change(request, access, fop)


@login_required
@require_POST
def fop_reopen(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, fop, abilities = _get_fop_for_member(request, slug, pk)
    _require(abilities, "manage")
    _run_service(
        request,
        lambda: services.fop_reopen(fop=fop, actor=request.user, reason=request.POST.get("reason", "")),
        f"“{fop.label}” reopened.",
    )
    return _after_change(request, access, fop)


@login_required
@require_POST
def fop_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, fop, abilities = _get_fop_for_member(request, slug, pk)
    _require(abilities, "manage")
    name = fop.label
    if _run_service(
        request,
        lambda: services.fop_delete(fop=fop, actor=request.user, reason=request.POST.get("reason", "")),
        f"“{name}” deleted.",
    ):
        return redirect("workshops:fops", access.cycle.slug)
    return redirect(_detail_url(fop))


@login_required
def fop_split(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, fop, abilities = _get_fop_for_member(request, slug, pk)
    _require(abilities, "manage")
    form = SplitForm(request.POST or None, fop=fop)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.fop_split(
                fop=fop,
                actor=request.user,
                capability_ids=[int(c) for c in form.cleaned_data["capabilities"]],
                new_name=form.cleaned_data["new_name"],
                reason=form.cleaned_data["reason"],
            )
        except services.FOPError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"“{new.name}” split off “{fop.name}”.")
            return redirect(_detail_url(new))
    context = {"cycle": access.cycle, "access": access, "fop": fop, "form": form}
    return render(request, "workshops/fops/split.html", context, status=400 if form.errors else 200)


# --- the convener: create, merge, propose, compare -------------------------------------------------


@login_required
def fop_new(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_convener(request, slug)
    form = FOPCreateForm(request.POST or None, cycle=access.cycle)
    if request.method == "POST" and form.is_valid():
        try:
            fop = services.fop_create(
                cycle=access.cycle,
                actor=request.user,
                name=form.cleaned_data["name"],
                role_level=form.cleaned_data["role_level"],
                description=form.cleaned_data["description"],
            )
        except services.FOPError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"“{fop.name}” created. Add its capabilities below.")
            return redirect(_detail_url(fop))
    context = {"cycle": access.cycle, "access": access, "form": form}
    return render(request, "workshops/fops/new.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def fop_merge(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_convener(request, slug)
    ids = [int(i) for i in request.POST.getlist("fops") if str(i).isdigit()]
    chosen = {f.pk: f for f in selectors.fops_by_ids(access.cycle, ids)}
    try:
        target = services.fop_merge(
            cycle=access.cycle,
            actor=request.user,
            fops=[chosen[i] for i in ids if i in chosen],
            name=request.POST.get("name", ""),
            reason=request.POST.get("reason", ""),
        )
    except services.FOPError as exc:
        messages.error(request, str(exc))
        return redirect("workshops:fops", access.cycle.slug)
    messages.success(request, f"{len(chosen)} FOPs merged into “{target.name}”.")
    return redirect(_detail_url(target))


@login_required
def fop_propose_view(request: HttpRequest, slug: str) -> HttpResponse:
    """The form queues a run (the ``propose_fops`` task computes it); the page shows the latest
    run's status, and while it is queued or running its status block polls this page over htmx."""
    access = get_cycle_for_convener(request, slug)
    latest = selectors.latest_proposal_run(access.cycle)
    if request.htmx and request.method == "GET":
        response = render(request, "workshops/fops/propose.html#run-status", {"cycle": access.cycle, "latest": latest})
        return stop_polling(response) if latest is None or latest.is_finished else response
    status = 200
    if request.method == "POST":
        form = ProposalForm(request.POST)
        status = 400  # unless queued (redirect) or refused because a run is already active (409)
        if form.is_valid():
            try:
                params = clean_parameters(**form.cleaned_data)
                fop_proposal_run_queue(cycle=access.cycle, actor=request.user, parameters=params)
            except ProposalBusy as exc:
                form.add_error(None, str(exc))
                status = 409
            except ProposalError as exc:
                form.add_error(None, str(exc))
            else:
                return redirect("workshops:fop_propose", access.cycle.slug)
    else:
        form = ProposalForm(initial=latest.parameters if latest else None)
    needs = [
        {
            "name": level.role_level_name,
            "total": len(level.capabilities),
            "expert": sum(1 for c in level.capabilities if c.proficiency == 3),
            "practitioner": sum(1 for c in level.capabilities if c.proficiency == 2),
            "awareness": sum(1 for c in level.capabilities if c.proficiency == 1),
        }
        for level in selectors.fop_proposal_inputs(cycle=access.cycle)
    ]
    context = {
        "cycle": access.cycle,
        "access": access,
        "form": form,
        "needs": needs,
        "latest": latest,
        "protected": selectors.fops_kept_by_proposals_count(access.cycle),
    }
    return render(request, "workshops/fops/propose.html", context, status=status)


@login_required
@require_GET
def fop_compare(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_member(request, slug)
    context = {
        "cycle": access.cycle,
        "access": access,
        "rows": selectors.fop_proposal_comparison(cycle=access.cycle),
        "latest": selectors.latest_proposal_run(access.cycle, done_only=True),
        "published": selectors.published_fops_count(access.cycle),
    }
    return render(request, "workshops/fops/compare.html", context)


# --- traceability ------------------------------------------------------------------------------------


@login_required
@require_GET
def capability_trace(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = get_cycle_for_member(request, slug)
    capability = selectors.capability_of_cycle(access.cycle, pk, for_trace=True)
    if capability is None:
        raise Http404("No such capability in this cycle.")
    trace = capability_trace_selector(capability=capability, is_convener=access.is_convener)
    context = {"cycle": access.cycle, "access": access, "capability": capability, "trace": trace}
    return render(request, "workshops/fops/capability_trace.html", context)

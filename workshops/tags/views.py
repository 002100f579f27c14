"""KSB tagging pages: the board of capabilities, one capability's tags with suggestions, the tag
frequency table and the convener's merge of near-duplicate tags."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core.pages import login_required
from core.readiness import NotReady
from core.spreadsheets import cell_safe
from cycles.access import ROLE_NOT_ALLOWED, Access, get_cycle_for_convener, get_cycle_for_member
from workshops.fops import providers as fop_providers
from workshops.models import Capability, Tag, TagKind
from workshops.tags import selectors, services

KINDS = dict(TagKind.choices)


def _get_capability(request: HttpRequest, slug: str, pk: int) -> tuple[Access, Capability]:
    access = get_cycle_for_member(request, slug)
    capability = get_object_or_404(Capability, cycle=access.cycle, pk=pk)
    return access, capability


def _can_tag(access: Access) -> bool:
    return access.role in services.TAG_ROLES


@login_required
@require_GET
def tags(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_member(request, slug)
    show = request.GET.get("show", "all")
    kind_missing = show[-1] if show in ("missing-K", "missing-S", "missing-B") else None
    rows = selectors.tag_board(cycle=access.cycle, only_untagged=show == "untagged", kind_missing=kind_missing)
    context = {
        "cycle": access.cycle,
        "access": access,
        "rows": rows,
        "show": show,
        "kinds": TagKind.choices,
        "can_tag": _can_tag(access),
    }
    if request.htmx:
        return render(request, "workshops/tags/board.html#board", context)
    return render(request, "workshops/tags/board.html", context)


def _capability_context(request: HttpRequest, access: Access, capability: Capability, kind: str, suggest: bool) -> dict:
    suggestions = preparing = None
    if suggest and _can_tag(access):
        try:
            suggestions = selectors.tag_suggestions(capability=capability, kind=kind)
        except NotReady as not_ready:
            # The model or the ESCO list is still being prepared: say how far, poll, and make sure
            # the worker is on it (the request never loads or embeds them itself).
            preparing = not_ready
            suggestions = not_ready.partial or None
            warm_up = fop_providers.get("warm_up")
            if warm_up is not None:
                warm_up()
    return {
        "cycle": access.cycle,
        "access": access,
        "capability": capability,
        "tags": selectors.tags_of(capability),
        "kind": kind,
        "kind_label": KINDS[kind],
        "kinds": TagKind.choices,
        "suggest": suggest,
        "suggestions": suggestions,
        "preparing": preparing,
        "suggestions_available": fop_providers.get("suggest_tags") is not None,
        "can_tag": _can_tag(access),
    }


@login_required
@require_GET
def tag_capability(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """The tag editor. Suggestions (the model and ESCO lists) load in a second request, so the page
    shows at once; without JavaScript, ``?suggest=1`` puts them in the page."""
    access, capability = _get_capability(request, slug, pk)
    kind = request.GET.get("kind") if request.GET.get("kind") in KINDS else TagKind.KNOWLEDGE
    part = request.GET.get("part")
    context = _capability_context(
        request, access, capability, kind, suggest=part == "suggestions" or "suggest" in request.GET
    )
    if request.htmx and part == "suggestions":
        return render(request, "workshops/tags/capability.html#suggestions", context)
    if request.htmx:
        return render(request, "workshops/tags/capability.html#tag-editor", context)
    return render(request, "workshops/tags/capability.html", context)


def _back(request: HttpRequest, access: Access, capability: Capability, kind: str) -> HttpResponse:
    if request.htmx:
        context = _capability_context(request, access, capability, kind, suggest=False)
        return render(request, "workshops/tags/capability.html#tag-editor", context)
    return redirect(f"{reverse('workshops:tag_capability', args=[access.cycle.slug, capability.pk])}?kind={kind}")


@login_required
@require_POST
def tag_add(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, capability = _get_capability(request, slug, pk)
    if not _can_tag(access):
        raise PermissionDenied(ROLE_NOT_ALLOWED)
    kind = request.POST.get("kind", "")
    try:
        link = services.tag_add(capability=capability, actor=request.user, kind=kind, name=request.POST.get("name", ""))
    except services.TagError as exc:
        messages.error(request, f"{capability.ref}: {exc}")
    else:
        messages.success(request, f"{capability.ref}: {link.tag.get_kind_display()} tag “{link.tag.name}” added.")
    return _back(request, access, capability, kind if kind in KINDS else TagKind.KNOWLEDGE)


@login_required
@require_POST
def tag_remove(request: HttpRequest, slug: str, pk: int, tag_pk: int) -> HttpResponse:
    access, capability = _get_capability(request, slug, pk)
    if not _can_tag(access):
        raise PermissionDenied(ROLE_NOT_ALLOWED)
    tag = get_object_or_404(Tag, pk=tag_pk)
    try:
        services.tag_remove(capability=capability, actor=request.user, tag=tag)
    except services.TagError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{capability.ref}: tag “{tag.name}” removed.")
    return _back(request, access, capability, tag.kind)


@login_required
@require_GET
def tag_frequency(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_member(request, slug)
    tables = selectors.tag_frequency_table(cycle=access.cycle)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{access.cycle.slug}-tag-frequencies.csv"'
        writer = csv.writer(response)
        # One plain table: the page's three tables one under the other, "Kind" saying which.
        writer.writerow(["Kind", "Tag", "Capabilities", "Published"])
        for table in tables:
            for row in table["rows"]:
                writer.writerow(
                    [
                        cell_safe(table["label"]),
                        cell_safe(row.tag),
                        row.count,
                        "" if row.published is None else row.published,
                    ]
                )
        return response
    return render(request, "workshops/tags/frequency.html", {"cycle": access.cycle, "access": access, "tables": tables})


@login_required
def tag_merge(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_convener(request, slug)
    if request.method == "POST":
        source = selectors.tag_by_id(request.POST.get("source"))
        target = selectors.tag_by_id(request.POST.get("target"))
        if source is None or target is None:
            messages.error(request, "Choose the tag to merge and the tag to keep.")
        else:
            try:
                moved = services.tag_merge(cycle=access.cycle, actor=request.user, source=source, target=target)
            except services.TagError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"“{source.name}” merged into “{target.name}” ({moved} uses moved).")
        return redirect("workshops:tag_merge", access.cycle.slug)
    try:
        threshold = min(max(float(request.GET.get("threshold", 0.8)), 0.5), 0.99)
    except ValueError:
        threshold = 0.8
    context = {
        "cycle": access.cycle,
        "access": access,
        "pairs": selectors.tag_merge_candidates(cycle=access.cycle, threshold=threshold),
        "threshold": threshold,
        "kinds": TagKind.choices,
        "all_tags": selectors.live_tags_of_cycle(access.cycle),
    }
    return render(request, "workshops/tags/merge.html", context)

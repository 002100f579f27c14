"""Conveners publish and revoke read-only findings links."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.pages import login_required
from cycles.access import get_cycle_for_convener
from findings.forms import ShareLinkForm
from findings.models import ShareLink
from findings.selectors import share_links_of
from findings.services import share_link_create, share_link_revoke
from findings.views.pages import _nav


@login_required
def share_links(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_convener(request, slug)
    form = ShareLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        link = share_link_create(cycle=access.cycle, actor=request.user, label=form.cleaned_data["label"])
        messages.success(
            request, "Share link published: anyone with it can read this cycle's findings until you revoke it."
        )
        return redirect(f"{request.path}#link-{link.pk}")
    links = share_links_of(access.cycle)
    return render(
        request,
        "findings/share_links.html",
        {"cycle": access.cycle, "access": access, "form": form, "links": links, "nav": _nav(), "section": "share"},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def share_revoke(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = get_cycle_for_convener(request, slug)
    link = get_object_or_404(ShareLink, pk=pk, cycle=access.cycle)
    share_link_revoke(link=link, actor=request.user)
    messages.success(request, f"Share link “{link.label or link.pk}” revoked: it no longer opens the findings.")
    return redirect("findings:share_links", slug)

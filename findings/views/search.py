"""Search capabilities, FOPs and tags across every cycle the user may see (the data cube)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.pages import login_required
from findings.selectors import search_across_cycles


@login_required
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    results = search_across_cycles(request.user, query)
    context = {"query": query, "results": results, "total": sum(len(v) for v in results.values())}
    template = "findings/search.html#results" if request.htmx else "findings/search.html"
    return render(request, template, context)

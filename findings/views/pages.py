"""Findings pages and their downloads, for members and through a share link."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from core.pages import login_required
from cycles.access import get_cycle_for_member
from cycles.models import Cycle
from findings.empty_states import empty_state
from findings.exports import file_stem, page_xlsx, table_csv
from findings.provision import start_match_run_url
from findings.selectors import active_share_link
from findings.services import share_link_seen
from findings.tables import GROUPS, PAGE_BY_KEY, PAGES, build_page

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _get_share(token: str):
    link = active_share_link(token)
    if link is None:
        raise Http404("This link is not valid or has been revoked.")
    share_link_seen(link=link)
    return link


def _page_or_404(key: str):
    page = PAGE_BY_KEY.get(key)
    if page is None:
        raise Http404("No such findings page.")
    return page


def _nav():
    return [(label, [p for p in PAGES if p.group == group]) for group, label in GROUPS]


def _render_page(request: HttpRequest, cycle: Cycle, key: str, *, access=None, share_token: str = "") -> HttpResponse:
    page = _page_or_404(key)
    data = build_page(key, cycle, request.GET)
    empty = empty_state(data.missing, cycle, access)
    context = {
        "cycle": cycle,
        "access": access,
        "share_token": share_token,
        "page": page,
        "data": data,
        "nav": _nav(),
        "match_run_url": start_match_run_url(cycle) if access and access.is_convener else None,
        "empty": empty,
        # Nothing at all to show (and no filter to blame): the empty state stands alone, without
        # filters or tables of zeros.
        "show_results": empty is None
        or any(t.rows for t in data.tables)
        or any(request.GET.get(f.name) for f in data.filters),
    }
    template = "findings/page.html#results" if request.htmx and not request.htmx.boosted else "findings/page.html"
    return render(request, template, context)


def _download(request: HttpRequest, cycle: Cycle, key: str, fmt: str) -> HttpResponse:
    _page_or_404(key)
    data = build_page(key, cycle, request.GET)
    if fmt == "xlsx":
        response = HttpResponse(page_xlsx(cycle, data), content_type=XLSX_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{cycle.slug}-{data.key}.xlsx"'
    elif fmt == "csv":
        table = data.table(request.GET.get("table") or None)
        if table is None:
            raise Http404("This page has no such table.")
        response = HttpResponse(table_csv(table), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{file_stem(cycle, data, table)}.csv"'
    else:
        raise Http404("Unknown format.")
    return response


@login_required
def findings_index(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_member(request, slug)
    return _render_index(request, access.cycle, access=access)


def _render_index(request: HttpRequest, cycle: Cycle, *, access=None, share_token: str = "") -> HttpResponse:
    overview = build_page("overview", cycle, {})
    return render(
        request,
        "findings/index.html",
        {
            "cycle": cycle,
            "access": access,
            "share_token": share_token,
            "nav": _nav(),
            "overview": overview,
            "empty": empty_state(overview.missing, cycle, access),
        },
    )


@login_required
def findings_page(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    access = get_cycle_for_member(request, slug)
    return _render_page(request, access.cycle, key, access=access)


@login_required
def findings_download(request: HttpRequest, slug: str, key: str, fmt: str) -> HttpResponse:
    access = get_cycle_for_member(request, slug)
    return _download(request, access.cycle, key, fmt)


def shared_index(request: HttpRequest, token: str) -> HttpResponse:
    link = _get_share(token)
    return _render_index(request, link.cycle, share_token=token)


def shared_page(request: HttpRequest, token: str, key: str) -> HttpResponse:
    link = _get_share(token)
    return _render_page(request, link.cycle, key, share_token=token)


def shared_download(request: HttpRequest, token: str, key: str, fmt: str) -> HttpResponse:
    link = _get_share(token)
    return _download(request, link.cycle, key, fmt)

"""The findings report (HTML; the PDF is an export job) and its narrative sections."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from core.pages import login_required
from cycles.access import get_cycle_for_convener, get_cycle_for_member
from findings import selectors
from findings.forms import SECTION_KEYS, ReportSectionForm
from findings.report import report_context
from findings.services import report_section_save
from findings.views.pages import _get_share, _nav


@login_required
def report(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_member(request, slug)
    context = report_context(access.cycle) | {
        "access": access,
        "nav": _nav(),
        "section": "report",
        "can_edit": access.is_convener,
    }
    return render(request, "findings/report.html", context)


def shared_report(request: HttpRequest, token: str) -> HttpResponse:
    link = _get_share(token)
    context = report_context(link.cycle, share_token=token) | {"nav": _nav(), "section": "report", "can_edit": False}
    return render(request, "findings/report.html", context)


@login_required
def report_section(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    access = get_cycle_for_convener(request, slug)
    if key not in SECTION_KEYS:
        raise Http404("No such report section.")
    section = selectors.report_section(access.cycle, key)
    form = ReportSectionForm(request.POST or None, initial={"body": section.body if section else ""})
    if request.method == "POST" and form.is_valid():
        report_section_save(cycle=access.cycle, key=key, body=form.cleaned_data["body"], actor=request.user)
        messages.success(request, f"“{SECTION_KEYS[key]}” saved; the report shows it from now on.")
        return redirect(reverse("findings:report", args=[slug]) + f"#section-{key}")
    return render(
        request,
        "findings/report_section_form.html",
        {
            "cycle": access.cycle,
            "access": access,
            "form": form,
            "key": key,
            "title": SECTION_KEYS[key],
            "section_obj": section,
            "nav": _nav(),
            "section": "report",
        },
        status=400 if form.errors else 200,
    )

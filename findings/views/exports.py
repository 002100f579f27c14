"""Whole-cycle exports built by a Celery task, with an htmx-polled status fragment."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.pages import login_required, stop_polling
from cycles.access import get_cycle_for_member
from findings.forms import ExportForm
from findings.models import ExportJob
from findings.selectors import export_jobs_of
from findings.services import export_job_create
from findings.views.pages import _nav

NOT_YOUR_EXPORT = "This export belongs to someone else."


def _get_job_for_member(request: HttpRequest, slug: str, job_id: int):
    access = get_cycle_for_member(request, slug)
    job = get_object_or_404(ExportJob, pk=job_id, cycle=access.cycle)
    if job.requested_by_id != request.user.pk and not access.is_convener:
        raise PermissionDenied(NOT_YOUR_EXPORT)
    return access, job


@login_required
def exports(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_member(request, slug)
    jobs = export_jobs_of(access.cycle, request.user)
    return render(
        request,
        "findings/exports.html",
        {
            "cycle": access.cycle,
            "access": access,
            "jobs": jobs,
            "kinds": ExportJob.Kind.choices,
            "nav": _nav(),
            "section": "exports",
        },
    )


@login_required
@require_POST
def export_start(request: HttpRequest, slug: str) -> HttpResponse:
    access = get_cycle_for_member(request, slug)
    form = ExportForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what to export: the workbook, the CSV files or the PDF report.")
        return redirect("findings:exports", slug)
    job = export_job_create(cycle=access.cycle, kind=form.cleaned_data["kind"], actor=request.user)
    messages.info(request, f"{job.get_kind_display()}: building it now; this page shows when it is ready.")
    return redirect("findings:export_status", slug, job.pk)


@login_required
@require_POST
def export_retry(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    """A failed export, asked for again: the same kind and filters, as a new job."""
    access, job = _get_job_for_member(request, slug, job_id)
    again = export_job_create(cycle=access.cycle, kind=job.kind, actor=request.user, params=job.params)
    messages.info(request, f"{again.get_kind_display()}: building it again; this page shows when it is ready.")
    return redirect("findings:export_status", slug, again.pk)


@login_required
def export_status(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    access, job = _get_job_for_member(request, slug, job_id)
    context = {"cycle": access.cycle, "access": access, "job": job, "nav": _nav(), "section": "exports"}
    if request.htmx:
        response = render(request, "findings/export_status.html#status", context)
        return stop_polling(response) if job.is_finished else response
    return render(request, "findings/export_status.html", context)


@login_required
def export_file(request: HttpRequest, slug: str, job_id: int) -> FileResponse:
    _access, job = _get_job_for_member(request, slug, job_id)
    if job.status != ExportJob.Status.DONE or not job.file:
        raise Http404("This export is not ready.")
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.filename)

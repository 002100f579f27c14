"""The classification taxonomy page: everyone signed in reads it, staff import and export it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from workshops.forms_capture import CsvUploadForm
from workshops.selectors import capture as selectors
from workshops.services import taxonomy as services

STAFF_ONLY = "Only staff may change the classification taxonomy."


def _require_staff(request: HttpRequest) -> None:
    if not request.user.is_staff:
        raise PermissionDenied(STAFF_ONLY)


def _render(request: HttpRequest, form: CsvUploadForm, errors: list[str], status: int = 200) -> HttpResponse:
    context = {
        "tree": selectors.taxonomy_tree(),
        "counts": selectors.taxonomy_counts(),
        "form": form,
        "errors": errors,
        "columns": services.COLUMNS,
    }
    return render(request, "workshops/taxonomy.html", context, status=status)


@login_required
def taxonomy(request: HttpRequest) -> HttpResponse:
    return _render(request, CsvUploadForm(), [])


@login_required
@require_POST
def taxonomy_import(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    form = CsvUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Nothing was imported: choose a CSV file.")
        return _render(request, form, [], status=400)
    try:
        result = services.taxonomy_import(data=form.cleaned_data["file"].read())
    except services.TaxonomyImportError as exc:
        messages.error(request, f"Nothing was imported: the file has {len(exc.errors)} problem(s), listed below.")
        return _render(request, form, exc.errors, status=400)
    messages.success(request, f"Taxonomy imported. {result.summary()}")
    return redirect("workshops:taxonomy")


@login_required
def taxonomy_export(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(services.taxonomy_export_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="taxonomy.csv"'
    return response

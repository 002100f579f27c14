"""Spreadsheet injection and oversized or wrong uploads.

Exports: any text a member typed that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return) would run as a formula when the file is opened in a spreadsheet. Every CSV and XLSX the
product writes must neutralise such cells (a leading apostrophe), and still show the text.

Uploads: every upload form refuses a file over MAX_UPLOAD_BYTES and a file that is not CSV, with a
message, and changes nothing.
"""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cycles.models import Invitation, SupplyChainPartner
from findings.models import ExportJob
from findings.tables import PAGES
from tests.portability.fixtures import build_rich_cycle
from workshops.models import Capability, Function, Tag, Vote

PREFIXES = ("=", "+", "-", "@", "\t", "\r")
HOSTILE = ['=HYPERLINK("http://evil.example","x")', "+SUM(1,2)", "-2+3", "@cmd", "\t=1+1"]


def _dangerous(value) -> bool:
    if not isinstance(value, str) or not value.startswith(PREFIXES):
        return False
    try:
        float(value)  # a negative number is a number, not a formula
    except ValueError:
        return True
    return False


@pytest.fixture
def hostile(personas, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    cycle = build_rich_cycle(personas)
    for n, capability in enumerate(Capability.objects.filter(cycle=cycle).order_by("pk")):
        capability.statement = HOSTILE[n % len(HOSTILE)]
        capability.status = "accepted" if capability.status != "merged" else capability.status
        capability.save()
    for n, partner in enumerate(SupplyChainPartner.objects.filter(cycle=cycle)):
        partner.name = f"{HOSTILE[n % len(HOSTILE)]} {n}"
        partner.save()
    for n, tag in enumerate(Tag.objects.all()):
        tag.name = HOSTILE[(n + 1) % len(HOSTILE)]
        tag.save()
    Function.objects.filter(name="Design").update(name="=Design")
    Vote.objects.filter(round__cycle=cycle).update(rationale="=1+1")
    return cycle


def _csv_cells(content: bytes) -> list[str]:
    text = content.decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _xlsx_cells(content: bytes) -> list:
    book = openpyxl.load_workbook(io.BytesIO(content))
    cells = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":  # a formula cell, whatever its text
                    cells.append("=" + str(cell.value).lstrip("="))
                else:
                    cells.append(cell.value)
    return cells


def _downloads(cycle) -> list[str]:
    slug = cycle.slug
    urls = [
        reverse("workshops:capabilities_export", args=[slug]),
        reverse("workshops:delphi_results_csv", args=[slug]),
        reverse("workshops:taxonomy_export"),
        reverse("workshops:tag_frequency", args=[slug]) + "?format=csv",
    ]
    for page in PAGES:
        for fmt in ("csv", "xlsx"):
            urls.append(reverse("findings:download", args=[slug, page.key, fmt]))
    return urls


def test_every_download_neutralises_cells_that_would_run_as_formulas(hostile, personas):
    client = personas.client_for(personas.convener)
    found, checked = [], 0
    for url in _downloads(hostile):
        response = client.get(url)
        assert response.status_code == 200, url
        content = b"".join(response.streaming_content) if response.streaming else response.content
        cells = _xlsx_cells(content) if content[:2] == b"PK" else _csv_cells(content)
        checked += len(cells)
        found += [(url, cell) for cell in cells if _dangerous(cell)]
    assert found == [], found[:10]
    assert checked > 0


def test_a_neutralised_cell_still_shows_what_was_typed(hostile, personas):
    response = personas.client_for(personas.convener).get(reverse("workshops:capabilities_export", args=[hostile.slug]))
    cells = _csv_cells(response.content)
    assert "'" + HOSTILE[0] in cells


def test_whole_cycle_exports_neutralise_cells_too(hostile, personas, django_capture_on_commit_callbacks):
    client = personas.client_for(personas.convener)
    found = []
    for kind in (ExportJob.Kind.WORKBOOK, ExportJob.Kind.CSV_ZIP):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("findings:export_start", args=[hostile.slug]), {"kind": kind})
        job = ExportJob.objects.filter(cycle=hostile, kind=kind).latest("pk")
        assert job.status == ExportJob.Status.DONE, job.error
        data = job.file.open("rb").read()
        if kind == ExportJob.Kind.WORKBOOK:
            found += [(kind, c) for c in _xlsx_cells(data) if _dangerous(c)]
        else:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for name in archive.namelist():
                    if name.endswith(".csv"):
                        found += [(name, c) for c in _csv_cells(archive.read(name)) if _dangerous(c)]
    assert found == [], found[:10]


# --- Uploads ----------------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def _uploads(cycle):
    """(url, user attribute, form field, extra form data, what must not change)."""
    return [
        (
            reverse("workshops:capabilities_import", args=[cycle.slug]),
            "convener",
            "file",
            {},
            lambda: Capability.objects.count(),
        ),
        (reverse("cycles:invite_bulk", args=[cycle.slug]), "convener", "file", {}, lambda: Invitation.objects.count()),
        (reverse("workshops:taxonomy_import"), "staff", "file", {}, lambda: Function.objects.count()),
    ]


@pytest.fixture
def staff(personas):
    personas.convener.is_staff = True
    personas.convener.save()
    return personas.convener


def _csv_of(size: int) -> bytes:
    header = b"statement,name,email,organisation,group,role,function,domain,area\n"
    row = b"Operate the line safely,A,a@x.test,Org,industry,employer,Design,D,A\n"
    return header + row * (size // len(row) + 1)


@pytest.mark.parametrize("kind", ["too large", "not csv"])
def test_every_upload_refuses_a_file_that_is_too_large_or_not_csv_and_changes_nothing(hostile, personas, staff, kind):
    limit = settings.MAX_UPLOAD_BYTES
    for url, _who, field, extra, count in _uploads(hostile):
        client = personas.client_for(personas.convener)
        if kind == "too large":
            upload = SimpleUploadedFile("big.csv", _csv_of(limit + 10), content_type="text/csv")
        else:
            upload = SimpleUploadedFile("picture.png", PNG, content_type="image/png")
        before = count()
        response = client.post(url, {field: upload, **extra}, follow=True)
        assert response.status_code in (200, 400), (url, response.status_code)
        assert count() == before, url
        text = response.content.decode()
        assert any(word in text for word in ("too large", "larger than", "CSV", "csv", "UTF-8")), (url, kind)

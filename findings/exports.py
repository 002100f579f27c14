"""CSV and XLSX writers for the findings tables, with the data attribution and safe cells.

Every exported cell passes through ``core.spreadsheets.cell_safe``: text beginning with ``=``, ``+``, ``-`` or ``@``
(or a tab or carriage return) is prefixed with a quote so a spreadsheet shows it as text instead of
running it as a formula.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable
from datetime import datetime

from django.utils import timezone

from core.spreadsheets import cell_safe
from cycles.models import Cycle
from findings.tables import PAGES, FindingsContext, PageData, Table, build_page

ATTRIBUTION = [
    (
        "Skills England (formerly IfATE) occupational standards",
        "Contains public sector information licensed under the Open Government Licence v3.0.",
    ),
    (
        "O*NET 29.3",
        "This product includes information from the O*NET 29.3 Database by the U.S. Department of Labor, "
        "Employment and Training Administration (USDOL/ETA), used under the CC BY 4.0 licence. O*NET® is a "
        "trademark of USDOL/ETA; USDOL/ETA has not approved, endorsed or tested these modifications.",
    ),
    (
        "ESCO v1.1.1",
        "© European Union, ESCO classification, reused with acknowledgement of the source "
        "(ESCO: European Skills, Competences, Qualifications and Occupations).",
    ),
    ("Published cycles", "Facts from the published workforce foresighting reports."),
]
ATTRIBUTION_LINE = "Data sources: " + " | ".join(f"{name}: {text}" for name, text in ATTRIBUTION)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:60] or "table"


def file_stem(cycle: Cycle, page: PageData, table: Table) -> str:
    name = page.key if table is page.tables[0] else f"{page.key}-{table.key}"
    return f"{cycle.slug}-{name}"


def filter_summary(page: PageData) -> str:
    parts = []
    for f in page.filters:
        if not f.values:
            continue
        labels = dict(f.choices)
        shown = [labels.get(v, v) for v in f.values]
        parts.append(f"{f.label}: {', '.join(shown)}")
    return "; ".join(parts) or "none"


def table_csv(table: Table, *, cycle: Cycle, page: PageData) -> str:
    """The table exactly as shown (same cell text), then a blank line and the attribution."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([cell_safe(h) for h in table.header])
    for row in table.text_rows():
        writer.writerow([cell_safe(cell) for cell in row])
    writer.writerow([])
    writer.writerow([cell_safe(f"{page.title} — {cycle.title}. Filters: {filter_summary(page)}.")])
    writer.writerow([cell_safe(ATTRIBUTION_LINE)])
    return out.getvalue()


def _sheet_title(text: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]\*\?/\\:]", " ", text)[:31].strip() or "Sheet"
    title, n = base, 2
    while title.lower() in used:
        suffix = f" {n}"
        title = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(title.lower())
    return title


def _write_table(ws, table: Table) -> None:
    from openpyxl.styles import Font

    ws.append([cell_safe(h) for h in table.header])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for row in table.value_rows():
        ws.append([cell_safe(v) for v in row])
    ws.freeze_panes = "A2"
    for i, column in enumerate(table.columns, start=1):
        letter = ws.cell(row=1, column=i).column_letter
        ws.column_dimensions[letter].width = (
            12 if column.numeric else (60 if column.key in ("statement", "duty", "reason", "best_match") else 24)
        )


def _write_about(wb, cycle: Cycle, pages: Iterable[PageData], generated: datetime) -> None:
    from openpyxl.styles import Font

    ws = wb.create_sheet("About", 0)
    ws.append(["Findings of a workforce foresighting cycle"])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(["Cycle", cell_safe(cycle.title)])
    ws.append(["Cycle reference", cycle.slug])
    ws.append(["Generated", generated.strftime("%Y-%m-%d %H:%M %Z")])
    ws.append([])
    ws.append(["Sheet contents"])
    ws[f"A{ws.max_row}"].font = Font(bold=True)
    for page in pages:
        ws.append([cell_safe(page.title), cell_safe(f"Filters: {filter_summary(page)}")])
    ws.append([])
    ws.append(["Data sources and attribution"])
    ws[f"A{ws.max_row}"].font = Font(bold=True)
    for name, text in ATTRIBUTION:
        ws.append([cell_safe(name), cell_safe(text)])
    ws.column_dimensions["A"].width = 45
    ws.column_dimensions["B"].width = 120


def workbook_bytes(cycle: Cycle, pages: list[PageData]) -> bytes:
    """One workbook: an About sheet, then a sheet per table of each page (same values as the pages)."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = {"about"}
    for page in pages:
        for table in page.tables:
            title = page.title if table is page.tables[0] else f"{page.title} {table.title}"
            _write_table(wb.create_sheet(_sheet_title(title, used)), table)
    _write_about(wb, cycle, pages, timezone.localtime())
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def page_xlsx(cycle: Cycle, page: PageData) -> bytes:
    return workbook_bytes(cycle, [page])


def all_pages(
    cycle: Cycle, *, progress: Callable[[int, int], None] | None = None, params: dict | None = None
) -> list[PageData]:
    """Every findings page with its default filters (or ``params``), sharing one data load."""
    context = FindingsContext(cycle)
    pages = []
    for i, page in enumerate(PAGES, start=1):
        pages.append(build_page(page.key, cycle, params or {}, context=context))
        if progress:
            progress(i, len(PAGES))
    return pages


def csv_files(cycle: Cycle, pages: list[PageData]) -> dict[str, str]:
    """File name -> CSV text for every table of every page."""
    files = {}
    for page in pages:
        for table in page.tables:
            files[f"{file_stem(cycle, page, table)}.csv"] = table_csv(table, cycle=cycle, page=page)
    return files


def csv_zip_bytes(cycle: Cycle, pages: list[PageData]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in csv_files(cycle, pages).items():
            zf.writestr(name, text)
        zf.writestr("ABOUT.txt", f"{cycle.title}\n\n" + "\n".join(f"{n}: {t}" for n, t in ATTRIBUTION) + "\n")
    return out.getvalue()


__all__ = [
    "ATTRIBUTION",
    "all_pages",
    "csv_files",
    "csv_zip_bytes",
    "page_xlsx",
    "cell_safe",
    "table_csv",
    "workbook_bytes",
    "_slug",
]

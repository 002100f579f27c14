"""CSV and XLSX writers for the findings tables, with the data attribution and safe cells.

A CSV is a plain table: one header row, then the table's rows, nothing else, so ``pandas.read_csv``
and Excel read exactly the page's rows and columns. The page's filters and the data attribution
travel beside the tables, never inside them: the workbook's "About" sheet, a ``README.txt`` in the
zipped CSVs (and in the folder ``export_findings`` writes), and the site's data-sources page.

Column names are made unique (``unique_labels``): a repeated name gets a number ("Fit %", "Fit %
(2)"), since a spreadsheet or a data frame cannot tell two columns of the same name apart.

Every exported cell passes through ``core.spreadsheets.cell_safe``: text beginning with ``=``, ``+``, ``-`` or ``@``
(or a tab or carriage return) is prefixed with a quote so a spreadsheet shows it as text instead of
running it as a formula.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable
from datetime import datetime

from django.utils import timezone

from core.spreadsheets import cell_safe
from cycles.models import Cycle
from findings.tables import PAGES, FindingsContext, PageData, Table, build_page
from findings.tables.base import unique_labels

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


def table_header(table: Table) -> list[str]:
    """The table's column names as every download writes them (unique: see ``Table.header``)."""
    return table.header


def table_csv(table: Table) -> str:
    """The table exactly as shown (same cell text): a header row, then one row per table row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([cell_safe(h) for h in table_header(table)])
    for row in table.text_rows():
        writer.writerow([cell_safe(cell) for cell in row])
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

    ws.append([cell_safe(h) for h in table_header(table)])
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


def _write_about(wb, cycle: Cycle, sheets: list[tuple[str, PageData, Table]], generated: datetime) -> None:
    from openpyxl.styles import Font

    ws = wb.create_sheet("About", 0)
    ws.append(["Findings of a workforce foresighting cycle"])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(["Cycle", cell_safe(cycle.title)])
    ws.append(["Cycle reference", cycle.slug])
    ws.append(["Generated", generated.strftime("%Y-%m-%d %H:%M %Z")])
    ws.append([])
    ws.append(["Sheet", "Contents", "Filters"])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for title, page, table in sheets:
        contents = page.title if table is page.tables[0] else f"{page.title}: {table.title}"
        ws.append([cell_safe(title), cell_safe(contents), cell_safe(filter_summary(page))])
    ws.append([])
    ws.append(["Data sources and attribution"])
    ws[f"A{ws.max_row}"].font = Font(bold=True)
    for name, text in ATTRIBUTION:
        ws.append([cell_safe(name), cell_safe(text)])
    ws.column_dimensions["A"].width = 45
    ws.column_dimensions["B"].width = 120
    ws.column_dimensions["C"].width = 60


def workbook_bytes(cycle: Cycle, pages: list[PageData]) -> bytes:
    """One workbook: an About sheet (what each sheet holds, its filters, the data attribution), then a
    sheet per table of each page (same values as the pages)."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = {"about"}
    sheets = []
    for page in pages:
        for table in page.tables:
            title = _sheet_title(page.title if table is page.tables[0] else f"{page.title} {table.title}", used)
            _write_table(wb.create_sheet(title), table)
            sheets.append((title, page, table))
    _write_about(wb, cycle, sheets, timezone.localtime())
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


def _csv_tables(cycle: Cycle, pages: list[PageData]) -> list[tuple[str, PageData, Table]]:
    return [(f"{file_stem(cycle, page, table)}.csv", page, table) for page in pages for table in page.tables]


def csv_files(cycle: Cycle, pages: list[PageData]) -> dict[str, str]:
    """File name -> CSV text for every table of every page."""
    return {name: table_csv(table) for name, _page, table in _csv_tables(cycle, pages)}


README_NAME = "README.txt"


def readme_text(cycle: Cycle, pages: list[PageData], generated: datetime | None = None) -> str:
    """What travels with a set of CSV files: the cycle, what each file holds under which filters,
    and the data attribution (which the files themselves leave out to stay plain tables)."""
    generated = generated or timezone.localtime()
    lines = [
        "Findings of a workforce foresighting cycle",
        "",
        f"Cycle: {cycle.title}",
        f"Cycle reference: {cycle.slug}",
        f"Generated: {generated.strftime('%Y-%m-%d %H:%M %Z')}",
        "",
        "Each CSV file is one table of a findings page: a header row, then one row per table row",
        "(UTF-8, comma-separated). A cell that a spreadsheet would run as a formula starts with '.",
        "",
        "Files",
    ]
    for name, page, table in _csv_tables(cycle, pages):
        title = page.title if table is page.tables[0] else f"{page.title}: {table.title}"
        lines.append(f"- {name}: {title} ({len(table.rows)} rows). Filters: {filter_summary(page)}.")
    lines += ["", "Data sources and attribution"]
    lines += [f"- {name}: {text}" for name, text in ATTRIBUTION]
    return "\n".join(lines) + "\n"


def csv_zip_bytes(cycle: Cycle, pages: list[PageData]) -> bytes:
    """Every table as a CSV file, and a README.txt with the filters and the attribution."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(README_NAME, readme_text(cycle, pages))
        for name, text in csv_files(cycle, pages).items():
            zf.writestr(name, text)
    return out.getvalue()


__all__ = [
    "ATTRIBUTION",
    "all_pages",
    "csv_files",
    "csv_zip_bytes",
    "page_xlsx",
    "cell_safe",
    "readme_text",
    "table_csv",
    "table_header",
    "unique_labels",
    "workbook_bytes",
    "_slug",
]

"""Write every findings table of a cycle as CSV (plain tables, with a README.txt holding the filters and
the data attribution), plus one XLSX workbook with an About sheet and a sheet per table."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from cycles.commands import cycle_or_command_error
from findings import exports


class Command(BaseCommand):
    help = "Export a cycle's findings: one CSV per table, a README.txt and one XLSX workbook (a sheet per table)."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The cycle's slug, e.g. poc_manufacturing_2025.")
        parser.add_argument("--out", required=True, help="Folder to write into (created if missing).")
        parser.add_argument("--threshold", type=float, help="Matching threshold (0–1 or a percentage).")
        parser.add_argument("--pdf", action="store_true", help="Also write the findings report as PDF.")

    def handle(self, *args, slug: str, out: str, threshold: float | None, pdf: bool, **options):
        cycle = cycle_or_command_error(slug)
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        params = {"threshold": str(threshold)} if threshold is not None else {}
        pages = exports.all_pages(cycle, params=params)
        files = exports.csv_files(cycle, pages)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8", newline="")
        (folder / exports.README_NAME).write_text(exports.readme_text(cycle, pages), encoding="utf-8")
        workbook = folder / f"{cycle.slug}-findings.xlsx"
        workbook.write_bytes(exports.workbook_bytes(cycle, pages))
        self.stdout.write(f"Wrote {len(files)} CSV files, {exports.README_NAME} and {workbook.name} to {folder}")
        if pdf:
            from findings.report import report_pdf

            target = folder / f"{cycle.slug}-findings-report.pdf"
            target.write_bytes(report_pdf(cycle))
            self.stdout.write(f"Wrote {target.name}")

"""O*NET text release (tab-separated files in one folder).

Occupations become the framework's standards, task statements its statements (core or
supplemental), and the work-activity hierarchy (generalised → intermediate → detailed, with the
task → detailed-activity links) is kept for the matching-quality benchmark and browsing.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from matching.importers.base import (
    FrameworkImportError,
    ParsedActivity,
    ParsedFramework,
    ParsedStandard,
    ParsedStatement,
    sha256_of,
)
from matching.models import Framework, Statement, WorkActivity

OCCUPATIONS = "Occupation Data.txt"
TASKS = "Task Statements.txt"
DWA = "DWA Reference.txt"
IWA = "IWA Reference.txt"
TASKS_TO_DWAS = "Tasks to DWAs.txt"
README = "Read Me.txt"
TASK_TYPES = {"core": "core", "supplemental": "supplemental", "": ""}


def read_table(path: Path, required: list[str], describe) -> list[dict[str, str]]:
    """Rows of a tab-separated O*NET file; a short row (truncated file) or an empty required
    field is refused, naming the line, the record and the field."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FrameworkImportError(f"{path.name}: not UTF-8 text ({exc}).") from exc
    reader = csv.reader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise FrameworkImportError(f"{path.name}: the file is empty.") from None
    for column in required:
        if column not in header:
            raise FrameworkImportError(f"{path.name}: column '{column}' is missing from the header.")
    rows = []
    for line_no, values in enumerate(reader, start=2):
        if not values or values == [""]:
            continue
        row = dict(zip(header, (v.strip() for v in values), strict=False))
        if len(values) < len(header):
            missing = header[len(values)]
            raise FrameworkImportError(
                f"{path.name} line {line_no} ({describe(row)}): field '{missing}' is missing "
                f"(found {len(values)} of {len(header)} fields) – is the file truncated?"
            )
        for column in required:
            if not row.get(column):
                raise FrameworkImportError(f"{path.name} line {line_no} ({describe(row)}): field '{column}' is empty.")
        rows.append(row)
    return rows


def _release_label(folder: Path) -> str:
    readme = folder / README
    if readme.is_file():
        match = re.search(r"O\*NET\s+(\d+(?:\.\d+)?)\s+Database", readme.read_text(encoding="utf-8", errors="replace"))
        if match:
            return f"O*NET {match.group(1)}"
    return folder.name


def parse(source: str, *, label: str | None = None) -> ParsedFramework:
    folder = Path(source)
    if not folder.is_dir():
        raise FrameworkImportError(f"{source}: not a folder (give the folder of the O*NET text files).")
    for name in (OCCUPATIONS, TASKS):
        if not (folder / name).is_file():
            raise FrameworkImportError(f"{source}: the required file '{name}' is missing.")

    occupations = read_table(
        folder / OCCUPATIONS,
        ["O*NET-SOC Code", "Title"],
        lambda r: f"occupation {r.get('O*NET-SOC Code', '?')}",
    )
    standards = []
    seen: set[str] = set()
    for row in occupations:
        code = row["O*NET-SOC Code"]
        if code in seen:
            raise FrameworkImportError(f"{OCCUPATIONS}: occupation {code} appears twice.")
        seen.add(code)
        standards.append(
            ParsedStandard(ref=code, title=row["Title"], extra={"description": row.get("Description", "")})
        )

    tasks = read_table(
        folder / TASKS,
        ["O*NET-SOC Code", "Task ID", "Task"],
        lambda r: f"task {r.get('Task ID', '?')} of {r.get('O*NET-SOC Code', '?')}",
    )
    statements = []
    task_ids: set[str] = set()
    for row in tasks:
        where = f"{TASKS}: task {row['Task ID']}"
        if row["O*NET-SOC Code"] not in seen:
            raise FrameworkImportError(
                f"{where}: field 'O*NET-SOC Code' is {row['O*NET-SOC Code']}, not a known occupation."
            )
        if not row["Task ID"].isdigit():
            raise FrameworkImportError(f"{where}: field 'Task ID' is {row['Task ID']!r}, expected a number.")
        task_type = row.get("Task Type", "").lower()
        if task_type not in TASK_TYPES:
            raise FrameworkImportError(
                f"{where}: field 'Task Type' is {row['Task Type']!r}, expected Core or Supplemental."
            )
        if row["Task ID"] in task_ids:
            raise FrameworkImportError(f"{where}: the task ID appears twice.")
        task_ids.add(row["Task ID"])
        extra = {"type": task_type}
        if row.get("Incumbents Responding"):
            extra["incumbents"] = row["Incumbents Responding"]
        if row.get("Date"):
            extra["date"] = row["Date"]
        statements.append(
            ParsedStatement(row["O*NET-SOC Code"], row["Task ID"], Statement.Kind.TASK, row["Task"], extra)
        )

    activities = _activities(folder, task_ids)
    has_all = all((folder / name).is_file() for name in (DWA, IWA, TASKS_TO_DWAS))
    notes = [] if has_all else ["The work-activity files were not all present; the hierarchy was not imported."]
    files = [folder / n for n in (OCCUPATIONS, TASKS, DWA, IWA, TASKS_TO_DWAS) if (folder / n).is_file()]
    return ParsedFramework(
        kind=Framework.Kind.ONET,
        label=label or _release_label(folder),
        source=str(folder),
        checksum=sha256_of(files),
        has_levels=False,
        standards=standards,
        statements=statements,
        activities=activities,
        notes=notes,
    )


def _activities(folder: Path, task_ids: set[str]) -> list[ParsedActivity]:
    if not all((folder / name).is_file() for name in (DWA, IWA, TASKS_TO_DWAS)):
        return []
    by_ref: dict[str, ParsedActivity] = {}
    iwas = read_table(
        folder / IWA,
        ["Element ID", "Element Name", "IWA ID", "IWA Title"],
        lambda r: f"activity {r.get('IWA ID', '?')}",
    )
    for row in iwas:
        by_ref.setdefault(
            row["Element ID"], ParsedActivity(row["Element ID"], WorkActivity.Level.GENERALISED, row["Element Name"])
        )
        by_ref[row["IWA ID"]] = ParsedActivity(
            row["IWA ID"], WorkActivity.Level.INTERMEDIATE, row["IWA Title"], row["Element ID"]
        )
    dwas = read_table(
        folder / DWA,
        ["Element ID", "Element Name", "IWA ID", "DWA ID", "DWA Title"],
        lambda r: f"activity {r.get('DWA ID', '?')}",
    )
    for row in dwas:
        by_ref.setdefault(
            row["Element ID"], ParsedActivity(row["Element ID"], WorkActivity.Level.GENERALISED, row["Element Name"])
        )
        if row["IWA ID"] not in by_ref:
            raise FrameworkImportError(
                f"{DWA}: activity {row['DWA ID']}: field 'IWA ID' is {row['IWA ID']}, not a known activity."
            )
        by_ref[row["DWA ID"]] = ParsedActivity(
            row["DWA ID"], WorkActivity.Level.DETAILED, row["DWA Title"], row["IWA ID"]
        )
    links = read_table(
        folder / TASKS_TO_DWAS,
        ["Task ID", "DWA ID"],
        lambda r: f"task {r.get('Task ID', '?')} → {r.get('DWA ID', '?')}",
    )
    for row in links:
        where = f"{TASKS_TO_DWAS}: task {row['Task ID']} → {row['DWA ID']}"
        if row["DWA ID"] not in by_ref:
            raise FrameworkImportError(f"{where}: field 'DWA ID' is not a known activity.")
        if row["Task ID"] not in task_ids:
            raise FrameworkImportError(f"{where}: field 'Task ID' is not a known task.")
        by_ref[row["DWA ID"]].statement_refs.append(row["Task ID"])
    return list(by_ref.values())

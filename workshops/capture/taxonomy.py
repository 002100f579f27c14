"""The capability classification taxonomy (Function → Functional domain → Functional area) as data.

The default set ships as ``workshops/data/taxonomy.csv``: the five root functions with the
descriptions report 1 prints (section 3.2), the domains and areas the published reports name
(report 1, "Future KSBs Summary"; its ``MANUFACTURING`` is the hub's older name for Implement),
and, for Logistics, Support and Enterprise, which no report breaks down, the domains their
printed descriptions name. So that no domain is left without areas (a capability could not be
classified to the last level), those domains have areas of our own, named in the hub's
verb-first style from what the reports' statements and themes ask of them (cold chain, inventory
models, supply continuity, qualified status, audits and inspections, eligibility criteria …),
as do three report-named domains that report 2's manufacturing statements need (operating
manufacturing processes, releasing product, validating processes and equipment, designing
equipment and facilities). Staff extend it in the admin or by importing a CSV.

CSV format (UTF-8, header row): ``function, function_description, domain, area``. One row per
area; a row with an empty area declares a domain without areas, a row with an empty domain a
function without domains. Names match existing entries case-insensitively, so importing the
same file twice changes nothing. Nothing is ever deleted by an import.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from core.spreadsheets import cell_safe, cell_unsafe
from workshops.models import Function, FunctionalArea, FunctionalDomain

DEFAULT_TAXONOMY_CSV = Path(__file__).resolve().parent.parent / "data" / "taxonomy.csv"
COLUMNS = ["function", "function_description", "domain", "area"]
REQUIRED_COLUMNS = ["function", "domain", "area"]
MAX_LENGTH = {
    "function": Function._meta.get_field("name").max_length,
    "domain": FunctionalDomain._meta.get_field("name").max_length,
    "area": FunctionalArea._meta.get_field("name").max_length,
}

NOT_UTF8 = "The file is not UTF-8 text."
EMPTY_FILE = "The file is empty: it needs a header row naming the columns function, domain, area."
MISSING_COLUMNS = "The header row lacks the column(s) {columns}."
REQUIRED = "Row {row}, field '{field}': a value is required."
TOO_LONG = "Row {row}, field '{field}': at most {limit} characters (this one has {length})."
AREA_WITHOUT_DOMAIN = "Row {row}, field 'domain': an area needs a domain."
CONFLICTING_DESCRIPTION = (
    "Row {row}, field 'function_description': differs from the description given for {function!r} on row {first}."
)


class TaxonomyImportError(Exception):
    """A taxonomy file was rejected; ``errors`` name the row and field of every problem."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("; ".join(errors))


@dataclass
class TaxonomyImportResult:
    functions_created: int = 0
    domains_created: int = 0
    areas_created: int = 0
    descriptions_updated: int = 0
    rows: int = 0
    created: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.rows} rows read: {self.functions_created} functions, {self.domains_created} domains and "
            f"{self.areas_created} areas added; {self.descriptions_updated} descriptions updated."
        )


def _clean(value: str | None) -> str:
    return cell_unsafe(" ".join((value or "").split()))


def read_csv_text(data: bytes | str) -> list[dict[str, str]]:
    """Rows of a CSV upload as dicts keyed by lower-case header; raises TaxonomyImportError."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise TaxonomyImportError([NOT_UTF8]) from exc
    reader = csv.DictReader(io.StringIO(data))
    if not reader.fieldnames:
        raise TaxonomyImportError([EMPTY_FILE])
    reader.fieldnames = [_clean(name).lower() for name in reader.fieldnames]
    missing = [column for column in REQUIRED_COLUMNS if column not in reader.fieldnames]
    if missing:
        raise TaxonomyImportError([MISSING_COLUMNS.format(columns=", ".join(missing))])
    return list(reader)


@dataclass
class _Row:
    number: int
    function: str
    description: str
    domain: str
    area: str


def _validate(rows: list[dict[str, str]]) -> list[_Row]:
    errors: list[str] = []
    parsed: list[_Row] = []
    first_description: dict[str, tuple[int, str]] = {}
    for index, raw in enumerate(rows, start=2):  # row 1 is the header, as a spreadsheet numbers it
        row = _Row(
            number=index,
            function=_clean(raw.get("function")),
            description=_clean(raw.get("function_description")),
            domain=_clean(raw.get("domain")),
            area=_clean(raw.get("area")),
        )
        if not any([row.function, row.description, row.domain, row.area]):
            continue  # blank line
        row_errors = []
        if not row.function:
            row_errors.append(REQUIRED.format(row=index, field="function"))
        if row.area and not row.domain:
            row_errors.append(AREA_WITHOUT_DOMAIN.format(row=index))
        for name in ("function", "domain", "area"):
            value = getattr(row, name)
            if len(value) > MAX_LENGTH[name]:
                row_errors.append(TOO_LONG.format(row=index, field=name, limit=MAX_LENGTH[name], length=len(value)))
        if row.function and row.description:
            key = row.function.lower()
            if key in first_description and first_description[key][1] != row.description:
                row_errors.append(
                    CONFLICTING_DESCRIPTION.format(row=index, function=row.function, first=first_description[key][0])
                )
            first_description.setdefault(key, (index, row.description))
        errors.extend(row_errors)
        if not row_errors:
            parsed.append(row)
    if errors:
        raise TaxonomyImportError(errors)
    return parsed


@transaction.atomic
def taxonomy_import(*, data: bytes | str) -> TaxonomyImportResult:
    """Add the functions, domains and areas of a CSV (all or nothing). Re-importing changes nothing.

    Functions named in the file are ordered as the file lists them.
    """
    rows = _validate(read_csv_text(data))
    result = TaxonomyImportResult(rows=len(rows))
    functions = {f.name.lower(): f for f in Function.objects.select_for_update()}
    domains = {(d.function_id, d.name.lower()): d for d in FunctionalDomain.objects.all()}
    areas = {(a.domain_id, a.name.lower()) for a in FunctionalArea.objects.all()}
    orders: dict[str, int] = {}
    for row in rows:
        key = row.function.lower()
        function = functions.get(key)
        order = orders.setdefault(key, len(orders) + 1)
        if function is None:
            function = Function.objects.create(name=row.function, description=row.description, order=order)
            functions[key] = function
            result.functions_created += 1
            result.created.append(function.name)
        else:
            changed = []
            if row.description and function.description != row.description:
                function.description = row.description
                changed.append("description")
                result.descriptions_updated += 1
            if function.order != order:
                function.order = order
                changed.append("order")
            if changed:
                function.save(update_fields=changed)
        if not row.domain:
            continue
        domain = domains.get((function.id, row.domain.lower()))
        if domain is None:
            domain = FunctionalDomain.objects.create(function=function, name=row.domain)
            domains[(function.id, row.domain.lower())] = domain
            result.domains_created += 1
            result.created.append(str(domain))
        if row.area and (domain.id, row.area.lower()) not in areas:
            area = FunctionalArea.objects.create(domain=domain, name=row.area)
            areas.add((domain.id, row.area.lower()))
            result.areas_created += 1
            result.created.append(str(area))
    return result


def taxonomy_load_default() -> TaxonomyImportResult:
    """Load the shipped default taxonomy (idempotent)."""
    return taxonomy_import(data=DEFAULT_TAXONOMY_CSV.read_bytes())


def taxonomy_export_rows() -> list[list[str]]:
    """The whole taxonomy as CSV rows (header first), in the format ``taxonomy_import`` reads."""
    rows = [COLUMNS]
    functions = Function.objects.prefetch_related("domains__areas").order_by("order", "name")
    for function in functions:
        domains = sorted(function.domains.all(), key=lambda d: d.name.lower())
        if not domains:
            rows.append([function.name, function.description, "", ""])
        for domain in domains:
            areas = sorted(domain.areas.all(), key=lambda a: a.name.lower())
            if not areas:
                rows.append([function.name, function.description, domain.name, ""])
            for area in areas:
                rows.append([function.name, function.description, domain.name, area.name])
    return rows


def taxonomy_export_csv() -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([cell_safe(c) for c in row] for row in taxonomy_export_rows())
    return buffer.getvalue()

"""Capability capture: members submit statements, the convener accepts, edits, merges or rejects.

Every write runs in one transaction and, once it commits, tells the cycle's capture screens
through ``workshops.realtime`` (best-effort: the pages also poll).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from core.spreadsheets import cell_safe, cell_unsafe
from cycles.access import ONLY_CONVENER, require_role
from cycles.models import Cycle, Role, SupplyChainPartner, Workshop
from cycles.services.audit import audit_record
from workshops import realtime
from workshops.capture.checks import length_error, normalise_statement
from workshops.models import Capability, DelphiItem, Function, FunctionalArea, FunctionalDomain

# Member roles that may submit statements in a technologist workshop; the convener alone
# accepts, edits, merges, rejects and imports them.
SUBMIT_ROLES = (Role.CONVENER, Role.TECHNOLOGIST)
REVIEW_ROLES = (Role.CONVENER,)
CAPTURE_GROUP = "capture"
REF_PATTERN = re.compile(r"^C(\d+)$")

ONLY_SUBMITTERS = "Only the cycle's convener or a technologist may submit capability statements."
REASON_REQUIRED = "Say why the statement is rejected: the reason is shown to the workshop."
CANNOT_ACCEPT_MERGED = "{ref} was merged into another statement; edit that one instead."
ALREADY_REJECTED = "{ref} is already rejected."
MERGE_NEEDS_SOURCES = "Choose at least one statement to merge into {ref}."
MERGE_ACROSS_CYCLES = "{ref} belongs to another cycle: only statements of the same cycle can be merged."
MERGE_INTO_ITSELF = "A statement cannot be merged into itself."
MERGE_SURVIVOR_CLOSED = "{ref} is {status}: merge into a submitted or accepted statement."
MERGE_SOURCE_MERGED = "{ref} is already merged into {target}."
MERGE_SOURCE_IN_DELPHI = "{ref} is already in the Delphi plan, so it can no longer be merged away."
DOMAIN_NOT_IN_FUNCTION = "The domain “{domain}” is not part of the function “{function}”."
AREA_NOT_IN_DOMAIN = "The area “{area}” is not part of the domain “{domain}”."
PARTNER_NOT_IN_CYCLE = "“{partner}” is not a supply-chain partner of this cycle."
WORKSHOP_NOT_IN_CYCLE = "That workshop is not part of this cycle."
REF_TAKEN = "The reference {ref} is already used in this cycle."


@dataclass(frozen=True)
class Classification:
    function: Function | None = None
    domain: FunctionalDomain | None = None
    area: FunctionalArea | None = None


def classification_resolve(
    *, function: Function | None, domain: FunctionalDomain | None, area: FunctionalArea | None
) -> Classification:
    """Fill in the parents of a partial classification and refuse inconsistent ones."""
    if area is not None:
        if domain is not None and area.domain_id != domain.id:
            raise ValidationError({"area": AREA_NOT_IN_DOMAIN.format(area=area.name, domain=domain.name)})
        domain = area.domain
    if domain is not None:
        if function is not None and domain.function_id != function.id:
            raise ValidationError({"domain": DOMAIN_NOT_IN_FUNCTION.format(domain=domain.name, function=function.name)})
        function = domain.function
    return Classification(function=function, domain=domain, area=area)


def _clean_statement(statement: str) -> str:
    error = length_error(statement)
    if error:
        raise ValidationError({"statement": error})
    return normalise_statement(statement)


def _check_partners(cycle: Cycle, partners: Iterable[SupplyChainPartner]) -> list[SupplyChainPartner]:
    partners = list(partners)
    for partner in partners:
        if partner.cycle_id != cycle.id:
            raise ValidationError({"partners": PARTNER_NOT_IN_CYCLE.format(partner=partner.name)})
    return partners


def next_ref(cycle: Cycle, taken: Iterable[str] = ()) -> str:
    """The next free ``C01``-style reference of a cycle (call inside the transaction that uses it)."""
    numbers = [0]
    for ref in [*Capability.objects.filter(cycle=cycle).values_list("ref", flat=True), *taken]:
        match = REF_PATTERN.match(ref)
        if match:
            numbers.append(int(match.group(1)))
    return f"C{max(numbers) + 1:02d}"


def _lock_cycle(cycle: Cycle) -> None:
    # Serialises reference numbering per cycle: two statements submitted in the same instant
    # must not both get C07 (PostgreSQL row lock; SQLite writes are serial anyway).
    Cycle.objects.select_for_update().filter(pk=cycle.pk).values_list("pk", flat=True).first()


def capability_payload(capability: Capability) -> dict:
    """What a capture screen needs to show a change; never who submitted it."""
    return {
        "id": capability.id,
        "ref": capability.ref,
        "statement": capability.statement,
        "status": capability.status,
        "merged_into": capability.merged_into.ref if capability.merged_into_id else None,
        "workshop": capability.workshop_id,
    }


def _broadcast(cycle: Cycle, action: str, capabilities: Iterable[Capability]) -> None:
    realtime.send_after_commit(
        realtime.group_name(CAPTURE_GROUP, cycle.id),
        {"type": "capture.event", "action": action, "capabilities": [capability_payload(c) for c in capabilities]},
    )


@transaction.atomic
def capability_submit(
    *,
    cycle: Cycle,
    actor: User | None,
    statement: str,
    partners: Iterable[SupplyChainPartner] = (),
    function: Function | None = None,
    domain: FunctionalDomain | None = None,
    area: FunctionalArea | None = None,
    workshop: Workshop | None = None,
) -> Capability:
    require_role(cycle, actor, SUBMIT_ROLES, ONLY_SUBMITTERS)
    statement = _clean_statement(statement)
    classification = classification_resolve(function=function, domain=domain, area=area)
    partners = _check_partners(cycle, partners)
    if workshop is not None and workshop.cycle_id != cycle.id:
        raise ValidationError({"workshop": WORKSHOP_NOT_IN_CYCLE})
    _lock_cycle(cycle)
    capability = Capability.objects.create(
        cycle=cycle,
        ref=next_ref(cycle),
        statement=statement,
        function=classification.function,
        domain=classification.domain,
        area=classification.area,
        workshop=workshop,
        submitted_by=actor,
    )
    capability.partners.set(partners)
    _broadcast(cycle, "submitted", [capability])
    return capability


@transaction.atomic
def capability_update(
    *,
    capability: Capability,
    actor: User | None,
    statement: str,
    partners: Iterable[SupplyChainPartner],
    function: Function | None = None,
    domain: FunctionalDomain | None = None,
    area: FunctionalArea | None = None,
) -> Capability:
    """The convener's edit: wording, classification and partners."""
    require_role(capability.cycle, actor, REVIEW_ROLES, ONLY_CONVENER.format(act="edit a capability statement"))
    before = capability.statement
    capability.statement = _clean_statement(statement)
    classification = classification_resolve(function=function, domain=domain, area=area)
    capability.function, capability.domain, capability.area = (
        classification.function,
        classification.domain,
        classification.area,
    )
    capability.save()
    capability.partners.set(_check_partners(capability.cycle, partners))
    if before != capability.statement:
        audit_record(
            cycle=capability.cycle,
            actor=actor,
            verb="capability.edited",
            summary=f"{capability.ref} reworded",
            detail={"capability": capability.id, "before": before, "after": capability.statement},
        )
    _broadcast(capability.cycle, "edited", [capability])
    return capability


@transaction.atomic
def capability_accept(*, capability: Capability, actor: User | None) -> Capability:
    require_role(capability.cycle, actor, REVIEW_ROLES, ONLY_CONVENER.format(act="accept a capability statement"))
    if capability.status == Capability.Status.MERGED:
        raise ValidationError(CANNOT_ACCEPT_MERGED.format(ref=capability.ref))
    capability.status = Capability.Status.ACCEPTED
    capability.rejection_reason = ""
    capability.save(update_fields=["status", "rejection_reason", "updated_at"])
    audit_record(
        cycle=capability.cycle,
        actor=actor,
        verb="capability.accepted",
        summary=f"{capability.ref} accepted",
        detail={"capability": capability.id},
    )
    _broadcast(capability.cycle, "accepted", [capability])
    return capability


@transaction.atomic
def capability_reject(*, capability: Capability, actor: User | None, reason: str) -> Capability:
    require_role(capability.cycle, actor, REVIEW_ROLES, ONLY_CONVENER.format(act="reject a capability statement"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": REASON_REQUIRED})
    if capability.status == Capability.Status.MERGED:
        raise ValidationError(CANNOT_ACCEPT_MERGED.format(ref=capability.ref))
    if capability.status == Capability.Status.REJECTED:
        raise ValidationError(ALREADY_REJECTED.format(ref=capability.ref))
    capability.status = Capability.Status.REJECTED
    capability.rejection_reason = reason
    capability.save(update_fields=["status", "rejection_reason", "updated_at"])
    audit_record(
        cycle=capability.cycle,
        actor=actor,
        verb="capability.rejected",
        summary=f"{capability.ref} rejected: {reason}",
        detail={"capability": capability.id},
    )
    _broadcast(capability.cycle, "rejected", [capability])
    return capability


@transaction.atomic
def capability_merge(*, survivor: Capability, sources: Iterable[Capability], actor: User | None) -> Capability:
    """Fold duplicates into ``survivor``: they become ``merged`` and point at it; partners are united.

    The survivor keeps its wording; its ``merged_sources`` are the statements it stands for
    (including any that had earlier been merged into one of the sources).
    """
    require_role(survivor.cycle, actor, REVIEW_ROLES, ONLY_CONVENER.format(act="merge capability statements"))
    sources = list(sources)
    if not sources:
        raise ValidationError(MERGE_NEEDS_SOURCES.format(ref=survivor.ref))
    if survivor.status not in (Capability.Status.SUBMITTED, Capability.Status.ACCEPTED):
        raise ValidationError(
            MERGE_SURVIVOR_CLOSED.format(ref=survivor.ref, status=survivor.get_status_display().lower())
        )
    for source in sources:
        if source.cycle_id != survivor.cycle_id:
            raise ValidationError(MERGE_ACROSS_CYCLES.format(ref=source.ref))
        if source.pk == survivor.pk:
            raise ValidationError(MERGE_INTO_ITSELF)
        if source.status == Capability.Status.MERGED:
            raise ValidationError(
                MERGE_SOURCE_MERGED.format(ref=source.ref, target=source.merged_into.ref if source.merged_into else "?")
            )
    in_delphi = DelphiItem.objects.filter(capability__in=sources).values_list("capability__ref", flat=True).first()
    if in_delphi:
        raise ValidationError(MERGE_SOURCE_IN_DELPHI.format(ref=in_delphi))
    source_ids = [source.pk for source in sources]
    partners = set(survivor.partners.values_list("pk", flat=True))
    partners |= set(
        SupplyChainPartner.objects.filter(capabilities__in=source_ids).values_list("pk", flat=True).distinct()
    )
    # Statements earlier merged into a source now point at the survivor, so the chain stays flat.
    Capability.objects.filter(merged_into__in=source_ids).update(merged_into=survivor)
    Capability.objects.filter(pk__in=source_ids).update(status=Capability.Status.MERGED, merged_into=survivor)
    survivor.partners.set(partners)
    if not survivor.highlighted and any(source.highlighted for source in sources):
        highlighted = next(source for source in sources if source.highlighted)
        survivor.highlighted, survivor.highlight_reason = True, highlighted.highlight_reason
        survivor.save(update_fields=["highlighted", "highlight_reason", "updated_at"])
    refs = ", ".join(source.ref for source in sources)
    audit_record(
        cycle=survivor.cycle,
        actor=actor,
        verb="capability.merged",
        summary=f"{refs} merged into {survivor.ref}",
        detail={"survivor": survivor.pk, "sources": source_ids},
    )
    merged = list(Capability.objects.filter(pk__in=source_ids).select_related("merged_into"))
    _broadcast(survivor.cycle, "merged", [survivor, *merged])
    return survivor


# --- CSV import and export ----------------------------------------------------------------------

IMPORT_COLUMNS = ["ref", "statement", "partners", "function", "domain", "area"]
EXPORT_COLUMNS = [
    "ref",
    "statement",
    "status",
    "partners",
    "function",
    "domain",
    "area",
    "merged_into",
    "rejection_reason",
]
PARTNER_SEPARATOR = ";"

CSV_NOT_UTF8 = "The file is not UTF-8 text."
CSV_EMPTY = "The file is empty: it needs a header row naming at least the column statement."
CSV_NO_STATEMENT_COLUMN = "The header row lacks the column statement."
CSV_NO_ROWS = "The file has a header but no statements."
CSV_ROW = "Row {row}, field '{field}': {message}"
CSV_UNKNOWN = "no {what} named “{name}”{where}."
CSV_REF_TWICE = "the reference {ref} appears twice in the file (first on row {first})."
CSV_BAD_REF = "a reference is up to 20 characters without spaces, e.g. C07."


class CapabilityImportError(Exception):
    """A capability file was rejected; ``errors`` name the row and field of every problem."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("; ".join(errors))


def _lookup(items: Iterable, key=lambda item: item.name) -> dict[str, object]:
    return {" ".join(key(item).split()).lower(): item for item in items}


@transaction.atomic
def capabilities_import(
    *, cycle: Cycle, actor: User | None, data: bytes | str, accept: bool = True
) -> list[Capability]:
    """Create the statements of a CSV (columns statement, partners, function, domain, area, optional
    ref); all or nothing. Partners are separated by ``;`` and, like the classification, matched
    case-insensitively to the cycle's partners and the taxonomy."""
    require_role(cycle, actor, REVIEW_ROLES, ONLY_CONVENER.format(act="import capability statements"))
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CapabilityImportError([CSV_NOT_UTF8]) from exc
    reader = csv.DictReader(io.StringIO(data))
    if not reader.fieldnames:
        raise CapabilityImportError([CSV_EMPTY])
    reader.fieldnames = [" ".join(name.split()).lower() for name in reader.fieldnames]
    if "statement" not in reader.fieldnames:
        raise CapabilityImportError([CSV_NO_STATEMENT_COLUMN])

    partners = _lookup(cycle.partners.all())
    functions = _lookup(Function.objects.all())
    domains = _lookup(FunctionalDomain.objects.select_related("function"), key=lambda d: f"{d.function_id}|{d.name}")
    areas = _lookup(FunctionalArea.objects.select_related("domain"), key=lambda a: f"{a.domain_id}|{a.name}")
    used_refs = set(Capability.objects.filter(cycle=cycle).values_list("ref", flat=True))
    file_refs: dict[str, int] = {}

    errors: list[str] = []
    planned: list[dict] = []
    for number, raw in enumerate(reader, start=2):  # row 1 is the header, as a spreadsheet numbers it
        values = {column: cell_unsafe(" ".join((raw.get(column) or "").split())) for column in IMPORT_COLUMNS}
        if not any(values.values()):
            continue

        def fail(column: str, message: str, number=number) -> None:
            errors.append(CSV_ROW.format(row=number, field=column, message=message))

        error = length_error(values["statement"])
        if error:
            fail("statement", error)
        ref = values["ref"]
        if ref:
            if len(ref) > 20 or " " in ref:
                fail("ref", CSV_BAD_REF)
            elif ref in used_refs:
                fail("ref", REF_TAKEN.format(ref=ref))
            elif ref in file_refs:
                fail("ref", CSV_REF_TWICE.format(ref=ref, first=file_refs[ref]))
            else:
                file_refs[ref] = number
        row_partners = []
        for name in filter(None, (part.strip() for part in values["partners"].split(PARTNER_SEPARATOR))):
            partner = partners.get(" ".join(name.split()).lower())
            if partner is None:
                fail("partners", CSV_UNKNOWN.format(what="supply-chain partner", name=name, where=" in this cycle"))
            else:
                row_partners.append(partner)
        function = domain = area = None
        if values["function"]:
            function = functions.get(values["function"].lower())
            if function is None:
                fail("function", CSV_UNKNOWN.format(what="function", name=values["function"], where=""))
        if values["domain"]:
            if function is None and not values["function"]:
                fail("function", "a domain needs its function.")
            elif function is not None:
                domain = domains.get(f"{function.id}|{values['domain']}".lower())
                if domain is None:
                    fail(
                        "domain",
                        CSV_UNKNOWN.format(what="domain", name=values["domain"], where=f" under {function.name}"),
                    )
        if values["area"]:
            if domain is None and not values["domain"]:
                fail("domain", "an area needs its domain.")
            elif domain is not None:
                area = areas.get(f"{domain.id}|{values['area']}".lower())
                if area is None:
                    fail("area", CSV_UNKNOWN.format(what="area", name=values["area"], where=f" under {domain.name}"))
        planned.append(
            {
                "ref": ref,
                "statement": normalise_statement(values["statement"]),
                "partners": row_partners,
                "function": function,
                "domain": domain,
                "area": area,
            }
        )
    if errors:
        raise CapabilityImportError(errors)
    if not planned:
        raise CapabilityImportError([CSV_NO_ROWS])

    _lock_cycle(cycle)
    status = Capability.Status.ACCEPTED if accept else Capability.Status.SUBMITTED
    created = []
    for row in planned:
        capability = Capability.objects.create(
            cycle=cycle,
            ref=row["ref"] or next_ref(cycle, taken=file_refs),
            statement=row["statement"],
            status=status,
            function=row["function"],
            domain=row["domain"],
            area=row["area"],
            submitted_by=actor,
        )
        capability.partners.set(row["partners"])
        created.append(capability)
    audit_record(
        cycle=cycle,
        actor=actor,
        verb="capability.imported",
        summary=f"{len(created)} capability statements imported",
        detail={"count": len(created)},
    )
    _broadcast(cycle, "imported", created)
    return created


def capabilities_export_rows(capabilities: Iterable[Capability]) -> list[list[str]]:
    rows = [EXPORT_COLUMNS]
    for capability in capabilities:
        rows.append(
            [
                capability.ref,
                capability.statement,
                capability.status,
                f"{PARTNER_SEPARATOR} ".join(partner.name for partner in capability.partners.all()),
                capability.function.name if capability.function else "",
                capability.domain.name if capability.domain else "",
                capability.area.name if capability.area else "",
                capability.merged_into.ref if capability.merged_into else "",
                capability.rejection_reason,
            ]
        )
    return rows


def capabilities_export_csv(capabilities: Iterable[Capability]) -> str:
    buffer = io.StringIO()
    rows = ([cell_safe(cell) for cell in row] for row in capabilities_export_rows(capabilities))
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()

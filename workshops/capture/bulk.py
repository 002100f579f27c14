"""The convener's review of many statements at once, and the undo of such a bulk action.

A bulk action is all or nothing: one transaction; a statement that cannot take the action (merged
away, already rejected, without a suggestion) refuses the whole action with a message naming it,
and nothing changes. It is audited once (``capability.bulk``) with the count, and the audit detail
keeps each statement's state before and after, so ``capabilities_bulk_undo`` can put exactly
those statements back — and refuses if any of them changed since.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from cycles.access import ONLY_CONVENER, require_role
from cycles.models import AuditEvent, Cycle, SupplyChainPartner
from cycles.services.audit import audit_record
from workshops.capture.services import (
    REVIEW_ROLES,
    Classification,
    _broadcast,
    _check_partners,
    _lock_cycle,
    classification_resolve,
)
from workshops.models import Capability, Function, FunctionalArea, FunctionalDomain

BULK_VERB = "capability.bulk"
UNDO_VERB = "capability.bulk_undone"
ACCEPT, REJECT, CLASSIFY, SUGGESTED, PARTNERS = "accept", "reject", "classify", "suggested", "partners"

ONLY_CONVENER_BULK = ONLY_CONVENER.format(act="review capability statements in bulk")
NOTHING_SELECTED = "Select at least one statement first."
NOT_IN_CYCLE = (
    "{count} of the selected statements are not part of this cycle any more: reload the page and select again."
)
MERGED = "Nothing was changed: {refs} {was} merged into another statement (act on that one instead)."
ALREADY_REJECTED = "Nothing was changed: {refs} {was} already rejected."
REASON_REQUIRED = "Nothing was changed: say why the statements are rejected (the reason is shown to the workshop)."
NO_SUGGESTION = (
    "Nothing was changed: {refs} {has} no suggested classification; classify {them} by hand or leave {them} out."
)
CLASSIFICATION_REQUIRED = "Nothing was changed: choose the function, domain or area to classify the statements with."
PARTNERS_REQUIRED = "Nothing was changed: choose at least one supply-chain partner."
UNDO_UNKNOWN = "There is no such bulk action in this cycle to undo."
UNDO_DONE_ALREADY = "That bulk action was undone already."
UNDO_CHANGED = "Not undone: {refs} {has} changed since that bulk action, so nothing was put back."

DONE = {
    ACCEPT: "{count} {statements} accepted.",
    REJECT: "{count} {statements} rejected: {reason}",
    CLASSIFY: "{count} {statements} classified as {label}.",
    SUGGESTED: "{count} {statements} given {their} suggested classification.",
    PARTNERS: "{count} {statements} {verb} {partners}.",
}
UNDONE = "Undone: {count} {statements} {are} back as {they} were before “{summary}”"


@dataclass(frozen=True)
class BulkResult:
    event: AuditEvent
    count: int
    message: str


def _refuse(message: str, refs: list[str]) -> None:
    """Raise ``message`` naming ``refs`` ("C03", "C03 and C07", "C03, C05 and C07")."""
    plural = len(refs) > 1
    named = refs[0] if not plural else ", ".join(refs[:-1]) + " and " + refs[-1]
    raise ValidationError(
        message.format(
            refs=named,
            was="were" if plural else "was",
            has="have" if plural else "has",
            them="them" if plural else "it",
        )
    )


def _statements(count: int) -> str:
    return "statement" if count == 1 else "statements"


def _snapshot(capability: Capability) -> dict:
    """What a bulk action may change, and the wording: an undo refuses if any of it moved since.
    (Not ``updated_at``: undoing the later of two bulk actions must leave the earlier undoable.)"""
    return {
        "ref": capability.ref,
        "wording": hashlib.sha256(capability.statement.encode("utf-8")).hexdigest()[:16],
        "status": capability.status,
        "rejection_reason": capability.rejection_reason,
        "function": capability.function_id,
        "domain": capability.domain_id,
        "area": capability.area_id,
        "partners": sorted(p.pk for p in capability.partners.all()),
    }


def _selected(cycle: Cycle, actor: User | None, capabilities: Iterable[Capability]) -> list[Capability]:
    require_role(cycle, actor, REVIEW_ROLES, ONLY_CONVENER_BULK)
    wanted = list(capabilities)
    if not wanted:
        raise ValidationError(NOTHING_SELECTED)
    strangers = [c for c in wanted if c.cycle_id != cycle.id]
    if strangers:
        raise ValidationError(NOT_IN_CYCLE.format(count=len(strangers)))
    _lock_cycle(cycle)
    # Re-read under the lock: the page the convener selected on may be minutes old.
    ids = {c.pk for c in wanted}
    rows = list(Capability.objects.filter(cycle=cycle, pk__in=ids).prefetch_related("partners").order_by("id"))
    if len(rows) != len(ids):
        raise ValidationError(NOT_IN_CYCLE.format(count=len(ids) - len(rows)))
    merged = [c for c in rows if c.status == Capability.Status.MERGED]
    if merged:
        _refuse(MERGED, [c.ref for c in merged])
    return rows


def _record(
    cycle: Cycle, actor: User | None, action: str, rows: list[Capability], before: dict, message: str
) -> BulkResult:
    after = {str(capability.pk): _snapshot(capability) for capability in rows}
    event = audit_record(
        cycle=cycle,
        actor=actor,
        verb=BULK_VERB,
        summary=f"Bulk: {message}",
        detail={"action": action, "count": len(rows), "refs": [c.ref for c in rows], "before": before, "after": after},
    )
    _broadcast(cycle, f"bulk_{action}", rows)
    return BulkResult(event=event, count=len(rows), message=message)


@transaction.atomic
def capabilities_bulk_accept(*, cycle: Cycle, actor: User | None, capabilities: Iterable[Capability]) -> BulkResult:
    rows = _selected(cycle, actor, capabilities)
    before = {str(c.pk): _snapshot(c) for c in rows}
    for capability in rows:
        capability.status, capability.rejection_reason = Capability.Status.ACCEPTED, ""
        capability.save(update_fields=["status", "rejection_reason", "updated_at"])
    message = DONE[ACCEPT].format(count=len(rows), statements=_statements(len(rows)))
    return _record(cycle, actor, ACCEPT, rows, before, message)


@transaction.atomic
def capabilities_bulk_reject(
    *, cycle: Cycle, actor: User | None, capabilities: Iterable[Capability], reason: str
) -> BulkResult:
    rows = _selected(cycle, actor, capabilities)
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": REASON_REQUIRED})
    rejected = [c for c in rows if c.status == Capability.Status.REJECTED]
    if rejected:
        _refuse(ALREADY_REJECTED, [c.ref for c in rejected])
    before = {str(c.pk): _snapshot(c) for c in rows}
    for capability in rows:
        capability.status, capability.rejection_reason = Capability.Status.REJECTED, reason
        capability.save(update_fields=["status", "rejection_reason", "updated_at"])
    message = DONE[REJECT].format(count=len(rows), statements=_statements(len(rows)), reason=reason)
    return _record(cycle, actor, REJECT, rows, before, message)


def _classification_label(classification: Classification) -> str:
    return " › ".join(
        part.name for part in (classification.function, classification.domain, classification.area) if part
    )


def _classify(rows: list[Capability], classifications: Mapping[int, Classification]) -> None:
    for capability in rows:
        classification = classifications[capability.pk]
        capability.function, capability.domain, capability.area = (
            classification.function,
            classification.domain,
            classification.area,
        )
        capability.save(update_fields=["function", "domain", "area", "updated_at"])


@transaction.atomic
def capabilities_bulk_classify(
    *,
    cycle: Cycle,
    actor: User | None,
    capabilities: Iterable[Capability],
    function: Function | None = None,
    domain: FunctionalDomain | None = None,
    area: FunctionalArea | None = None,
) -> BulkResult:
    """Give every selected statement the same classification (parents filled in)."""
    rows = _selected(cycle, actor, capabilities)
    if function is None and domain is None and area is None:
        raise ValidationError({"classification": CLASSIFICATION_REQUIRED})
    classification = classification_resolve(function=function, domain=domain, area=area)
    before = {str(c.pk): _snapshot(c) for c in rows}
    _classify(rows, dict.fromkeys((c.pk for c in rows), classification))
    label = _classification_label(classification)
    message = DONE[CLASSIFY].format(count=len(rows), statements=_statements(len(rows)), label=label)
    return _record(cycle, actor, CLASSIFY, rows, before, message)


@transaction.atomic
def capabilities_bulk_apply_suggested(
    *,
    cycle: Cycle,
    actor: User | None,
    capabilities: Iterable[Capability],
    suggestions: Mapping[int, tuple[int | None, int | None, int | None]],
) -> BulkResult:
    """Give each selected statement the classification suggested for it on the review screen
    (``suggestions``: capability id → function, domain and area ids, as the page showed them)."""
    rows = _selected(cycle, actor, capabilities)
    without = [c for c in rows if not any(suggestions.get(c.pk) or ())]
    if without:
        _refuse(NO_SUGGESTION, [c.ref for c in without])
    wanted = [suggestions[c.pk] for c in rows]
    functions = Function.objects.in_bulk({f for f, _, _ in wanted if f})
    domains = FunctionalDomain.objects.in_bulk({d for _, d, _ in wanted if d})
    areas = FunctionalArea.objects.in_bulk({a for _, _, a in wanted if a})
    classifications = {}
    for capability, (f, d, a) in zip(rows, wanted, strict=True):
        if (f and f not in functions) or (d and d not in domains) or (a and a not in areas):
            _refuse(NO_SUGGESTION, [capability.ref])  # the taxonomy entry is gone since the page was drawn
        classifications[capability.pk] = classification_resolve(
            function=functions.get(f), domain=domains.get(d), area=areas.get(a)
        )
    before = {str(c.pk): _snapshot(c) for c in rows}
    _classify(rows, classifications)
    message = DONE[SUGGESTED].format(
        count=len(rows), statements=_statements(len(rows)), their="its" if len(rows) == 1 else "their"
    )
    return _record(cycle, actor, SUGGESTED, rows, before, message)


@transaction.atomic
def capabilities_bulk_assign_partners(
    *,
    cycle: Cycle,
    actor: User | None,
    capabilities: Iterable[Capability],
    partners: Iterable[SupplyChainPartner],
    replace: bool = False,
) -> BulkResult:
    """Add ``partners`` to every selected statement (``replace``: make them its only partners)."""
    rows = _selected(cycle, actor, capabilities)
    partners = _check_partners(cycle, partners)
    if not partners:
        raise ValidationError({"partners": PARTNERS_REQUIRED})
    before = {str(c.pk): _snapshot(c) for c in rows}
    for capability in rows:
        if replace:
            capability.partners.set(partners)
        else:
            capability.partners.add(*partners)
        capability.save(update_fields=["updated_at"])
    names = ", ".join(partner.name for partner in partners)
    message = DONE[PARTNERS].format(
        count=len(rows),
        statements=_statements(len(rows)),
        verb="now have only the partners" if replace else "tagged with",
        partners=names,
    )
    return _record(cycle, actor, PARTNERS, rows, before, message)


@transaction.atomic
def capabilities_bulk_undo(*, cycle: Cycle, actor: User | None, event_id: int) -> BulkResult:
    """Put the statements of one bulk action back as they were before it."""
    require_role(cycle, actor, REVIEW_ROLES, ONLY_CONVENER_BULK)
    _lock_cycle(cycle)
    event = AuditEvent.objects.filter(cycle=cycle, pk=event_id, verb=BULK_VERB).first()
    if event is None:
        raise ValidationError(UNDO_UNKNOWN)
    if AuditEvent.objects.filter(cycle=cycle, verb=UNDO_VERB, detail__undoes=event.pk).exists():
        raise ValidationError(UNDO_DONE_ALREADY)
    before, after = event.detail["before"], event.detail["after"]
    rows = list(
        Capability.objects.filter(cycle=cycle, pk__in=[int(pk) for pk in after])
        .prefetch_related("partners")
        .order_by("id")
    )
    present = {str(c.pk) for c in rows}
    changed = [c.ref for c in rows if _snapshot(c) != after[str(c.pk)]]
    changed += [state["ref"] for pk, state in after.items() if pk not in present]  # deleted since
    if changed:
        _refuse(UNDO_CHANGED, changed)
    partner_ids = set(cycle.partners.values_list("pk", flat=True))
    taxonomy = {
        "function": set(Function.objects.values_list("pk", flat=True)),
        "domain": set(FunctionalDomain.objects.values_list("pk", flat=True)),
        "area": set(FunctionalArea.objects.values_list("pk", flat=True)),
    }
    for capability in rows:
        state = before[str(capability.pk)]
        capability.status, capability.rejection_reason = state["status"], state["rejection_reason"]
        for field in ("function", "domain", "area"):
            # An entry deleted from the taxonomy since stays unset rather than pointing nowhere.
            setattr(capability, f"{field}_id", state[field] if state[field] in taxonomy[field] else None)
        capability.save(update_fields=["status", "rejection_reason", "function", "domain", "area", "updated_at"])
        capability.partners.set([pk for pk in state["partners"] if pk in partner_ids])
    message = UNDONE.format(
        count=len(rows),
        statements=_statements(len(rows)),
        are="are" if len(rows) != 1 else "is",
        they="they" if len(rows) != 1 else "it",
        summary=event.summary.removeprefix("Bulk: "),
    )
    undo = audit_record(
        cycle=cycle,
        actor=actor,
        verb=UNDO_VERB,
        summary=message,
        detail={"undoes": event.pk, "action": event.detail.get("action"), "count": len(rows)},
    )
    _broadcast(cycle, "bulk_undone", rows)
    return BulkResult(event=undo, count=len(rows), message=message)

"""Writes of the items between two rounds, on the record: reword, split, merge, drop or add, each
with the convener's reason (``ItemChange``), audited, listed in the report and the methods appendix.

A change is allowed after round *n* is closed and computed and before round *n* + 1 opens (the
plan's row lock serialises it with ``round_open``), and only on items going to the next round
(round *n*'s undecided items and the items earlier changes wrote). Nothing is deleted: replaced and
dropped items keep their results and get the outcome ``replaced`` or ``dropped``; new items carry
their own wording (``DelphiItem.wording``) and descend from their sources (``lineage.py``).
"""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from cycles.access import CONVENER_ONLY, ONLY_CONVENER, require_role
from cycles.models import Cycle, RoleLevel
from cycles.services.audit import audit_record
from workshops.delphi.services import DelphiError, delphi_plan_ensure, round_proposed_item_ids
from workshops.models import Capability, DelphiItem, DelphiPlan, ItemChange, Round

CHANGE_NOT_NOW = "Items can change only between rounds: once a round is closed and computed, before the next opens."
CHANGE_LAST_ROUND = "The plan's last round has run: there is no next round to change items for."
CHANGE_NO_REASON = "Give the reason for the change: the report and the methods appendix print it."
CHANGE_ITEM_NOT_CARRIED = "{item} is not among the items going to round {number}."
CHANGE_NO_ITEM = "Choose the item to change."
CHANGE_NO_WORDING = "Write the new wording."
CHANGE_SAME_WORDING = "The new wording is the same as the current one."
CHANGE_SPLIT_PARTS = "A split needs at least two new wordings, one a line."
CHANGE_MERGE_ITEMS = "Choose at least two items to merge."
CHANGE_MERGE_LEVELS = "Only items at the same role level can be merged."
CHANGE_ADD_TARGET = "Choose the capability and the role level of the new item."
CHANGE_TOO_LONG = "A wording or reason may hold at most {limit} characters."
TEXT_LIMIT = 2000


def next_round_number(cycle: Cycle) -> int | None:
    """The round the items are being prepared for, or None when items cannot change now."""
    last = Round.objects.filter(cycle=cycle).order_by("-number").first()
    if last is None or last.status != Round.Status.CLOSED or last.aggregated_at is None:
        return None
    return last.number + 1


def _text(value: object, missing: str) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise DelphiError("invalid_change", missing)
    if len(text) > TEXT_LIMIT:
        raise DelphiError("invalid_change", CHANGE_TOO_LONG.format(limit=TEXT_LIMIT))
    return text


def _begin(cycle: Cycle, actor: User | None, reason: object) -> tuple[Round, str]:
    return _between_rounds(cycle, actor), _text(reason, CHANGE_NO_REASON)


def _between_rounds(cycle: Cycle, actor: User | None) -> Round:
    """The last round, once closed and computed with a round still to come; under the plan's lock."""
    require_role(cycle, actor, CONVENER_ONLY, ONLY_CONVENER.format(act="change the Delphi's items"))
    delphi_plan_ensure(cycle=cycle)
    plan = DelphiPlan.objects.select_for_update().get(cycle=cycle)
    last = Round.objects.filter(cycle=cycle).order_by("-number").first()
    if last is None or last.status != Round.Status.CLOSED or last.aggregated_at is None:
        raise DelphiError("not_between_rounds", CHANGE_NOT_NOW)
    if last.number >= plan.max_rounds:
        raise DelphiError("max_rounds", CHANGE_LAST_ROUND)
    return last


def _carried(cycle: Cycle, last: Round, item_ids) -> list[DelphiItem]:
    item_ids = [i for i in item_ids if i not in (None, "")]
    if not item_ids:
        raise DelphiError("invalid_change", CHANGE_NO_ITEM)
    proposed = set(round_proposed_item_ids(cycle=cycle))
    items = {i.pk: i for i in DelphiItem.objects.filter(cycle=cycle).select_related("capability", "role_level")}
    chosen = []
    for raw in item_ids:
        pk = int(raw) if str(raw).isdigit() else None
        item = items.get(pk)
        if item is None or pk not in proposed:
            label = f"{item.ref} at {item.role_level.name}" if item else f"Item {raw}"
            raise DelphiError("invalid_change", CHANGE_ITEM_NOT_CARRIED.format(item=label, number=last.number + 1))
        if item not in chosen:
            chosen.append(item)
    return chosen


def _new_item(source: DelphiItem, wording: str, *, capability=None, role_level=None) -> DelphiItem:
    return DelphiItem.objects.create(
        cycle_id=source.cycle_id if source else capability.cycle_id,
        capability=capability or source.capability,
        role_level=role_level or source.role_level,
        wording=wording,
    )


def _record(
    *, cycle: Cycle, actor: User | None, last: Round, kind: str, reason: str, sources: list[DelphiItem],
    results: list[DelphiItem],
) -> ItemChange:  # fmt: skip
    change = ItemChange.objects.create(
        cycle=cycle,
        after_round=last.number,
        kind=kind,
        reason=reason,
        before=[s.statement for s in sources],
        after=[r.statement for r in results],
        actor=actor if getattr(actor, "is_authenticated", False) else None,
    )
    change.sources.set(sources)
    change.results.set(results)
    outcome = DelphiItem.Outcome.DROPPED if kind == ItemChange.Kind.DROP else DelphiItem.Outcome.REPLACED
    if sources:
        DelphiItem.objects.filter(pk__in=[s.pk for s in sources]).update(
            outcome=outcome, consensus_value=None, outcome_round=last.number
        )
    labels = ", ".join(f"{i.ref} at {i.role_level.name}" for i in sources or results)
    audit_record(
        cycle=cycle.pk,
        actor=actor,
        verb=f"delphi.item_{kind}",
        summary=f"{ItemChange.Kind(kind).label} {labels} before round {last.number + 1}: {reason}",
        detail={
            "change": change.pk,
            "after_round": last.number,
            "sources": [s.pk for s in sources],
            "results": [r.pk for r in results],
            "before": change.before,
            "after": change.after,
            "reason": reason,
        },
    )
    return change


@transaction.atomic
def item_reword(*, cycle: Cycle, actor: User | None, item_id: object, wording: object, reason: object) -> ItemChange:
    last, reason = _begin(cycle, actor, reason)
    (item,) = _carried(cycle, last, [item_id])
    wording = _text(wording, CHANGE_NO_WORDING)
    if wording == item.statement:
        raise DelphiError("invalid_change", CHANGE_SAME_WORDING)
    new = _new_item(item, wording)
    return _record(cycle=cycle, actor=actor, last=last, kind=ItemChange.Kind.REWORD, reason=reason, sources=[item], results=[new])  # fmt: skip


@transaction.atomic
def item_split(*, cycle: Cycle, actor: User | None, item_id: object, wordings: list[str], reason: object) -> ItemChange:
    last, reason = _begin(cycle, actor, reason)
    (item,) = _carried(cycle, last, [item_id])
    parts = []
    for text in wordings:
        if " ".join(str(text).split()):
            part = _text(text, CHANGE_NO_WORDING)
            if part not in parts:
                parts.append(part)
    if len(parts) < 2:
        raise DelphiError("invalid_change", CHANGE_SPLIT_PARTS)
    new = [_new_item(item, part) for part in parts]
    return _record(cycle=cycle, actor=actor, last=last, kind=ItemChange.Kind.SPLIT, reason=reason, sources=[item], results=new)  # fmt: skip


@transaction.atomic
def items_merge(*, cycle: Cycle, actor: User | None, item_ids: list, wording: object, reason: object) -> ItemChange:
    last, reason = _begin(cycle, actor, reason)
    items = _carried(cycle, last, item_ids)
    if len(items) < 2:
        raise DelphiError("invalid_change", CHANGE_MERGE_ITEMS)
    if len({i.role_level_id for i in items}) > 1:
        raise DelphiError("invalid_change", CHANGE_MERGE_LEVELS)
    wording = _text(wording, CHANGE_NO_WORDING)
    new = _new_item(items[0], wording)
    return _record(cycle=cycle, actor=actor, last=last, kind=ItemChange.Kind.MERGE, reason=reason, sources=items, results=[new])  # fmt: skip


@transaction.atomic
def item_drop(*, cycle: Cycle, actor: User | None, item_id: object, reason: object) -> ItemChange:
    last, reason = _begin(cycle, actor, reason)
    (item,) = _carried(cycle, last, [item_id])
    return _record(cycle=cycle, actor=actor, last=last, kind=ItemChange.Kind.DROP, reason=reason, sources=[item], results=[])  # fmt: skip


@transaction.atomic
def item_add(
    *, cycle: Cycle, actor: User | None, capability_id: object, role_level_id: object, wording: object, reason: object
) -> ItemChange:
    last, reason = _begin(cycle, actor, reason)
    capability = Capability.objects.filter(
        cycle=cycle, pk=int(capability_id) if str(capability_id or "").isdigit() else None
    ).first()
    level = RoleLevel.objects.filter(
        cycle=cycle, pk=int(role_level_id) if str(role_level_id or "").isdigit() else None
    ).first()
    if capability is None or level is None:
        raise DelphiError("invalid_change", CHANGE_ADD_TARGET)
    wording = _text(wording, CHANGE_NO_WORDING)
    new = _new_item(None, wording, capability=capability, role_level=level)
    return _record(cycle=cycle, actor=actor, last=last, kind=ItemChange.Kind.ADD, reason=reason, sources=[], results=[new])  # fmt: skip


def item_change(*, cycle: Cycle, actor: User | None, kind: str, **fields) -> ItemChange:
    """One entry point for the convener's form: the change of ``kind`` with its fields."""
    writers = {
        ItemChange.Kind.REWORD: lambda: item_reword(
            cycle=cycle, actor=actor, item_id=_first(fields.get("item_ids")), wording=fields.get("wording"),
            reason=fields.get("reason"),
        ),
        ItemChange.Kind.SPLIT: lambda: item_split(
            cycle=cycle, actor=actor, item_id=_first(fields.get("item_ids")),
            wordings=str(fields.get("wording") or "").splitlines(), reason=fields.get("reason"),
        ),
        ItemChange.Kind.MERGE: lambda: items_merge(
            cycle=cycle, actor=actor, item_ids=list(fields.get("item_ids") or []), wording=fields.get("wording"),
            reason=fields.get("reason"),
        ),
        ItemChange.Kind.DROP: lambda: item_drop(
            cycle=cycle, actor=actor, item_id=_first(fields.get("item_ids")), reason=fields.get("reason")
        ),
        ItemChange.Kind.ADD: lambda: item_add(
            cycle=cycle, actor=actor, capability_id=fields.get("capability"), role_level_id=fields.get("role_level"),
            wording=fields.get("wording"), reason=fields.get("reason"),
        ),
    }  # fmt: skip
    return writers[ItemChange.Kind(kind)]()


CHANGE_ONE_ITEM = "Choose exactly one item for this change."


def _first(item_ids) -> object:
    ids = list(item_ids or [])
    if len(ids) > 1:
        raise DelphiError("invalid_change", CHANGE_ONE_ITEM)
    return ids[0] if ids else None


CHANGE_UNDO_NOT_PENDING = "Only a change made since the last round, before the next round opens, can be undone."
CHANGE_UNDO_LATER = "A later change builds on this one: undo that first."


@transaction.atomic
def item_change_undo(*, cycle: Cycle, actor: User | None, change_id: object) -> ItemChange:
    """Take back a change no round has asked yet (a slip before the next round opens): its new items
    go, its sources are carried again. Audited with everything it held; the report lists only
    changes a round saw."""
    last = _between_rounds(cycle, actor)
    change = ItemChange.objects.filter(
        cycle=cycle, pk=int(change_id) if str(change_id or "").isdigit() else None
    ).first()
    if change is None or change.after_round != last.number:
        raise DelphiError("invalid_change", CHANGE_UNDO_NOT_PENDING)
    results = list(change.results.all())
    if ItemChange.objects.filter(sources__in=results).exists():
        raise DelphiError("invalid_change", CHANGE_UNDO_LATER)
    sources = list(change.sources.all())
    detail = {
        "change": change.pk,
        "kind": change.kind,
        "after_round": change.after_round,
        "sources": [s.pk for s in sources],
        "before": change.before,
        "after": change.after,
        "reason": change.reason,
    }
    DelphiItem.objects.filter(pk__in=[s.pk for s in sources]).update(
        outcome="", consensus_value=None, outcome_round=None
    )
    # Never asked (the next round has not opened), so these items hold no answers or results.
    DelphiItem.objects.filter(pk__in=[r.pk for r in results], rounds=None).delete()
    change.delete()
    audit_record(
        cycle=cycle.pk,
        actor=actor,
        verb="delphi.item_change_undone",
        summary=f"Undid a change before round {last.number + 1} ({ItemChange.Kind(detail['kind']).label.lower()}): {detail['reason']}",
        detail=detail,
    )
    return change

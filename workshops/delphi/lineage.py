"""Reads of an item's lineage: how the items of one round came from the items of the round before,
through the convener's recorded changes (``ItemChange``: reword, split, merge, drop, add).

The one rule every statistic follows (aggregation, the next round's feedback, convergence):
**an item is compared with its predecessor when it came from exactly one item** — unchanged, or
reworded, or one part of a split (each part is compared with the whole it was split from: the
panellist's answer to the broader statement). A merged item came from several items and has no
single predecessor, so in its first round it has no pairs: no changed share, no stability and no
Wilcoxon test, and its chart starts afresh (the items it merged are named beside it). An added
item has no history. Chains are followed: an item reworded twice before the next round opens is
compared with the item last asked.

Imports the models only (the aggregation and the selectors both use it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workshops.models import DelphiItem, ItemChange, Round


@dataclass
class Origin:
    """Where an item of a round came from, relative to the round before."""

    kinds: list[str] = field(default_factory=list)  # the changes on the way, oldest first
    ancestors: list[int] = field(default_factory=list)  # items asked in the round before
    changes: list[ItemChange] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.kinds)

    @property
    def paired(self) -> int | None:
        """The one item of the round before this item is compared with, or None."""
        if ItemChange.Kind.MERGE in self.kinds or len(self.ancestors) != 1:
            return None
        return self.ancestors[0]

    @property
    def kind(self) -> str:
        """The change as panellists read it: merged or split wins over reworded; added alone."""
        for kind in (ItemChange.Kind.MERGE, ItemChange.Kind.SPLIT, ItemChange.Kind.ADD, ItemChange.Kind.REWORD):
            if kind in self.kinds:
                return str(kind)
        return ""


def cycle_changes(cycle_id: int) -> list[ItemChange]:
    return list(
        ItemChange.objects.filter(cycle_id=cycle_id)
        .select_related("actor")
        .prefetch_related("sources__capability", "sources__role_level", "results__capability", "results__role_level")
        .order_by("after_round", "created_at", "id")
    )


def origins(
    *, cycle_id: int, item_ids, previous: Round | None, changes: list[ItemChange] | None = None
) -> dict[int, Origin]:
    """For each item of a round, where it came from in ``previous`` (the round before): itself
    when it was asked there, else the items asked there that it descends from, through the changes
    recorded after ``previous``."""
    item_ids = [int(i) for i in item_ids]
    if previous is None:
        return {pk: Origin() for pk in item_ids}
    asked = set(previous.items.values_list("pk", flat=True))
    changes = [
        c for c in (changes if changes is not None else cycle_changes(cycle_id)) if c.after_round == previous.number
    ]
    made_by = {}
    for change in changes:
        for result in change.results.all():
            made_by[result.pk] = change

    def walk(pk: int, seen: frozenset) -> Origin:
        if pk in asked or pk not in made_by or pk in seen:
            return Origin(ancestors=[pk] if pk in asked else [])
        change = made_by[pk]
        out = Origin(kinds=[], ancestors=[], changes=[])
        for source in change.sources.all():
            inner = walk(source.pk, seen | {pk})
            out.kinds += [k for k in inner.kinds if k not in out.kinds]
            out.ancestors += [a for a in inner.ancestors if a not in out.ancestors]
            out.changes += inner.changes
        if change.kind not in out.kinds:
            out.kinds.append(change.kind)
        out.changes.append(change)
        return out

    return {pk: walk(pk, frozenset()) for pk in item_ids}


def paired_items(*, cycle_id: int, item_ids, previous: Round | None) -> dict[int, int]:
    """Item of this round → the item of ``previous`` its answers are paired with (see the module doc)."""
    return {
        pk: origin.paired
        for pk, origin in origins(cycle_id=cycle_id, item_ids=item_ids, previous=previous).items()
        if origin.paired is not None
    }


def successors(cycle_id: int) -> dict[int, list[ItemChange]]:
    """Item → the changes that replaced or dropped it."""
    out: dict[int, list[ItemChange]] = {}
    for change in cycle_changes(cycle_id):
        for source in change.sources.all():
            out.setdefault(source.pk, []).append(change)
    return out


def item_label(item: DelphiItem) -> str:
    return f"{item.ref} at {item.role_level.name}"


def change_log(cycle_id: int) -> list[dict]:
    """Every change to the items, oldest first, as the changes page, the report and the methods
    appendix list it: when (between which rounds), what, the wordings before and after, the reason."""
    rows = []
    for change in cycle_changes(cycle_id):
        sources = sorted(change.sources.all(), key=lambda i: (i.capability.ref, i.role_level.order, i.pk))
        results = sorted(change.results.all(), key=lambda i: (i.capability.ref, i.role_level.order, i.pk))
        rows.append(
            {
                "change": change,
                "after_round": change.after_round,
                "before_round": change.after_round + 1,
                "kind": change.kind,
                "kind_label": change.get_kind_display(),
                "sources": [item_label(i) for i in sources],
                "results": [item_label(i) for i in results],
                "before": change.before,
                "after": change.after,
                "reason": change.reason,
                "actor": change.actor,
                "created_at": change.created_at,
            }
        )
    return rows


def change_counts(log: list[dict]) -> dict[str, int]:
    """Changes per kind (reword, split, merge, drop, add)."""
    out = {str(kind): 0 for kind in ItemChange.Kind}
    for row in log:
        out[row["kind"]] += 1
    return out

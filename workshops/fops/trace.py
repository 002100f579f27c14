"""Traceability of one capability: where it came from, how the panel rated it, which FOPs need it,
which KSB tags it carries and how current provision matches it.

Individual Delphi answers are shown only to the convener; everyone else sees the per-round
distributions the Delphi pages would show them, and the consensus.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from workshops.delphi.selectors import distributions_visible, plan_for, shown_to
from workshops.fops import providers as fop_providers
from workshops.models import (
    Capability,
    CapabilityTag,
    DelphiItem,
    FOPCapability,
    ItemResult,
    Round,
    Vote,
)


@dataclass
class RoundRow:
    round: Round
    result: ItemResult | None
    visible: bool
    votes: list[Vote] = field(default_factory=list)  # convener only


@dataclass
class LevelTrace:
    item: DelphiItem
    rounds: list[RoundRow]


@dataclass
class CapabilityTrace:
    capability: Capability
    sources: list[Capability]
    levels: list[LevelTrace]
    fop_entries: list[FOPCapability]
    tags: dict[str, list[CapabilityTag]]
    matches: list[dict]
    matches_available: bool


def _shown(result: ItemResult | None, is_convener: bool) -> ItemResult | None:
    """A round's result of an item as this viewer may see it: none of fewer than 3 answers for panellists."""
    return result if result is not None and shown_to(n=result.n, is_convener=is_convener) else None


def capability_trace(*, capability: Capability, is_convener: bool) -> CapabilityTrace:
    cycle = capability.cycle
    sources = list(
        Capability.objects.filter(merged_into=capability)
        .select_related("submitted_by", "workshop")
        .prefetch_related("partners")
        .order_by("ref")
    )
    items = list(
        DelphiItem.objects.filter(capability=capability).select_related("role_level").order_by("role_level__order")
    )
    rounds = list(Round.objects.filter(cycle=cycle, items__capability=capability).distinct().order_by("number"))
    plan = plan_for(cycle) if rounds else None
    results = {(r.round_id, r.item_id): r for r in ItemResult.objects.filter(item__in=items, round__in=rounds)}
    round_items = defaultdict(set)
    for rnd_id, item_id in Round.items.through.objects.filter(round__in=rounds, delphiitem__in=items).values_list(
        "round_id", "delphiitem_id"
    ):
        round_items[rnd_id].add(item_id)
    votes: dict[tuple[int, int], list[Vote]] = defaultdict(list)
    if is_convener:
        for vote in Vote.objects.filter(item__in=items).select_related("panellist").order_by("round_id", "value"):
            votes[(vote.round_id, vote.item_id)].append(vote)
    levels = []
    for item in items:
        rows = []
        for rnd in rounds:
            if item.pk not in round_items[rnd.pk]:
                continue
            visible = is_convener or (
                rnd.status == Round.Status.CLOSED and distributions_visible(rnd=rnd, plan=plan, is_convener=False)
            )
            rows.append(
                RoundRow(
                    round=rnd,
                    result=_shown(results.get((rnd.pk, item.pk)), is_convener) if visible else None,
                    visible=visible,
                    votes=votes.get((rnd.pk, item.pk), []),
                )
            )
        levels.append(LevelTrace(item=item, rounds=rows))
    fop_entries = list(
        FOPCapability.objects.filter(capability=capability)
        .select_related("fop", "fop__role_level")
        .order_by("fop__role_level__order", "fop__name")
    )
    tags: dict[str, list[CapabilityTag]] = {"K": [], "S": [], "B": []}
    for link in (
        CapabilityTag.objects.filter(capability=capability).select_related("tag", "added_by").order_by("tag__name")
    ):
        tags[link.tag.kind].append(link)
    best = fop_providers.get("best_matches")
    matches: list[dict] = []
    if best is not None:
        try:
            matches = (best([capability.pk]) or {}).get(capability.pk, [])
        except Exception:  # noqa: BLE001 - matches are an extra; the trace still shows
            matches = []
    return CapabilityTrace(
        capability=capability,
        sources=sources,
        levels=levels,
        fop_entries=fop_entries,
        tags=tags,
        matches=matches,
        matches_available=best is not None,
    )

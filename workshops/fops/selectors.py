"""Reads on Future Occupational Profiles: proposal inputs, the matrix, detail, history and its
verification, the proposal/published comparison."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Prefetch, QuerySet

from accounts.models import User
from cycles.models import Cycle, Membership, Role, RoleLevel, SupplyChainPartner
from cycles.selectors import DashboardScope, WaitingItem, counted_items
from workshops.fops import providers as fop_providers
from workshops.fops.history import apply, change_hash, fop_state
from workshops.fops.types import NeededCapability, RoleLevelNeeds
from workshops.models import (
    FOP,
    PROFICIENCY_CODES,
    Capability,
    CapabilityTag,
    DelphiItem,
    FOPCapability,
    FOPChange,
    FOPProposalRun,
    Function,
)

LIVE_CAPABILITY_STATUSES = [Capability.Status.ACCEPTED, Capability.Status.SUBMITTED]


def natural_key(ref: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", ref or ""))


# --- labels: how a FOP is named on every page, picker, table and CSV ----------------------------

LABEL_SEPARATOR = " — "


def _same(text: str) -> str:
    return " ".join((text or "").split()).casefold()


def fop_labels(fops: Iterable) -> dict[int, str]:
    """The one rule for a FOP's display label, given every FOP of one cycle (FOPs or any rows with
    ``id``, ``name`` and ``role_level`` — a RoleLevel, its name or None): id -> label.

    A FOP reads as its name. When another FOP of the cycle has the same name (ignoring case and
    spacing), its role level is added: "Food Safety Inspector — Senior". When that still repeats
    (the same name at the same role level, or at none), a number in creation order is added:
    "Food Safety Inspector — Senior (2)". So no two FOPs of a cycle read the same, and a name
    that is unique stays short (published role levels are long: "Cell and Gene (C&G) Senior
    Scientists / Lead"). The whole cycle is given, not the FOPs one page shows, so a FOP reads the
    same on a filtered page as on every other page."""
    rows = [(f.id, f.name or "", str(f.role_level) if f.role_level else "") for f in fops]
    by_name: dict[str, list] = defaultdict(list)
    for row in rows:
        by_name[_same(row[1])].append(row)
    labels: dict[int, str] = {}
    for group in by_name.values():
        if len(group) == 1:
            labels[group[0][0]] = group[0][1]
            continue
        by_label: dict[str, list] = defaultdict(list)
        for fop_id, name, level in group:
            label = f"{name}{LABEL_SEPARATOR}{level}" if level else name
            by_label[_same(label)].append((fop_id, label))
        for same in by_label.values():
            if len(same) == 1:
                labels[same[0][0]] = same[0][1]
            else:
                for n, (fop_id, label) in enumerate(sorted(same), start=1):
                    labels[fop_id] = f"{label} ({n})"
    return labels


@dataclass(frozen=True)
class _LabelRow:
    id: int
    name: str
    role_level: str | None


def cycle_fop_labels(cycle_id: int) -> dict[int, str]:
    """Every FOP label of a cycle, in one query."""
    return fop_labels(
        _LabelRow(*row) for row in FOP.objects.filter(cycle_id=cycle_id).values_list("id", "name", "role_level__name")
    )


def with_labels(fops: Iterable[FOP], cycle_id: int | None = None) -> list[FOP]:
    """``fops`` with their ``label`` set from the whole cycle's labels (one query)."""
    fops = list(fops)
    if not fops:
        return fops
    labels = cycle_fop_labels(cycle_id or fops[0].cycle_id)
    for fop in fops:
        fop.label = labels.get(fop.pk, fop.name)
    return fops


# --- proposal inputs ----------------------------------------------------------------------------


def fop_proposal_inputs(*, cycle: Cycle) -> list[RoleLevelNeeds]:
    """Per role level, the capabilities the consensus says it needs (proficiency ≥ 1), ref order."""
    items = (
        DelphiItem.objects.filter(cycle=cycle, consensus_value__gte=1, capability__status=Capability.Status.ACCEPTED)
        .select_related("capability", "role_level")
        .order_by("role_level__order", "role_level_id")
    )
    partners = defaultdict(list)
    for cap_id, partner_id in Capability.partners.through.objects.filter(capability__cycle=cycle).values_list(
        "capability_id", "supplychainpartner_id"
    ):
        partners[cap_id].append(partner_id)
    # One entry per capability and level: the parts of an item split between rounds each carry a
    # consensus, and the capability needs the higher of them.
    by_level: dict[int, dict[int, DelphiItem]] = defaultdict(dict)
    levels: dict[int, RoleLevel] = {}
    for item in items:
        kept = by_level[item.role_level_id].get(item.capability_id)
        if kept is None or item.consensus_value > kept.consensus_value:
            by_level[item.role_level_id][item.capability_id] = item
        levels[item.role_level_id] = item.role_level
    result = []
    for level_id in sorted(levels, key=lambda i: (levels[i].order, i)):
        caps = sorted(by_level[level_id].values(), key=lambda it: natural_key(it.capability.ref))
        result.append(
            RoleLevelNeeds(
                role_level_id=level_id,
                role_level_name=levels[level_id].name,
                capabilities=tuple(
                    NeededCapability(
                        id=it.capability_id,
                        ref=it.capability.ref,
                        statement=it.capability.statement,
                        partner_ids=tuple(sorted(partners.get(it.capability_id, []))),
                        proficiency=int(it.consensus_value),
                    )
                    for it in caps
                ),
            )
        )
    return result


def consensus_for(*, cycle: Cycle, role_level_id: int | None) -> dict[int, int]:
    """Capability id -> consensus proficiency at a role level (empty without a role level)."""
    if role_level_id is None:
        return {}
    rows = DelphiItem.objects.filter(cycle=cycle, role_level_id=role_level_id, consensus_value__isnull=False)
    consensus: dict[int, int] = {}
    for capability_id, value in rows.values_list("capability_id", "consensus_value"):
        consensus[capability_id] = max(value, consensus.get(capability_id, value))  # split parts: the higher
    return consensus


def has_consensus(*, cycle: Cycle) -> bool:
    """Whether any Delphi item of the cycle has a consensus proficiency (what FOPs are proposed from)."""
    return DelphiItem.objects.filter(cycle=cycle, consensus_value__isnull=False).exists()


# --- lists and the matrix -----------------------------------------------------------------------


def fops_for_cycle(*, cycle: Cycle, role_level_id: int | None = None, source: str | None = None) -> QuerySet[FOP]:
    qs = (
        FOP.objects.filter(cycle=cycle)
        .select_related("role_level")
        .annotate(n_capabilities=Count("entries", distinct=True))
        .prefetch_related("reviewers")
        .order_by("role_level__order", "role_level_id", "-priority", "name", "id")
    )
    if role_level_id:
        qs = qs.filter(role_level_id=role_level_id)
    if source:
        qs = qs.filter(source=source)
    return qs


@dataclass
class MatrixRow:
    capability: Capability
    cells: list[str]  # one A/P/E code (or "") per FOP column
    values: list[int | None]
    count: int


@dataclass
class Matrix:
    fops: list[FOP]
    rows: list[MatrixRow]
    role_levels: list[RoleLevel] = field(default_factory=list)
    partners: list[SupplyChainPartner] = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)
    hidden_rows: int = 0


def fop_matrix(
    *,
    cycle: Cycle,
    role_level_id: int | None = None,
    partner_id: int | None = None,
    function_id: int | None = None,
    source: str | None = None,
    hide_empty: bool = True,
) -> Matrix:
    """Capabilities × FOPs with A/P/E cells, in a fixed number of queries whatever the size."""
    fops_qs = (
        FOP.objects.filter(cycle=cycle)
        .select_related("role_level")
        .order_by("role_level__order", "role_level_id", "-priority", "name", "id")
    )
    if role_level_id:
        fops_qs = fops_qs.filter(role_level_id=role_level_id)
    if source:
        fops_qs = fops_qs.filter(source=source)
    fops = with_labels(fops_qs, cycle.pk)
    column = {f.pk: i for i, f in enumerate(fops)}
    cells: dict[int, dict[int, int]] = defaultdict(dict)
    for fop_id, cap_id, prof in FOPCapability.objects.filter(fop__in=[f.pk for f in fops]).values_list(
        "fop_id", "capability_id", "proficiency"
    ):
        cells[cap_id][fop_id] = prof
    caps_qs = Capability.objects.filter(cycle=cycle, status__in=LIVE_CAPABILITY_STATUSES).select_related("function")
    if partner_id:
        caps_qs = caps_qs.filter(partners__id=partner_id)
    if function_id:
        caps_qs = caps_qs.filter(function_id=function_id)
    capabilities = sorted(caps_qs.distinct(), key=lambda c: natural_key(c.ref))
    rows, hidden = [], 0
    for cap in capabilities:
        values: list[int | None] = [None] * len(fops)
        for fop_id, prof in cells.get(cap.pk, {}).items():
            values[column[fop_id]] = prof
        count = sum(1 for v in values if v)
        if hide_empty and count == 0:
            hidden += 1
            continue
        rows.append(
            MatrixRow(
                capability=cap,
                cells=[PROFICIENCY_CODES.get(v, "") if v else "" for v in values],
                values=values,
                count=count,
            )
        )
    return Matrix(
        fops=fops,
        rows=rows,
        role_levels=list(RoleLevel.objects.filter(cycle=cycle)),
        partners=list(SupplyChainPartner.objects.filter(cycle=cycle)),
        functions=list(Function.objects.all()),
        hidden_rows=hidden,
    )


# --- detail --------------------------------------------------------------------------------------


@dataclass
class DetailEntry:
    entry: FOPCapability
    consensus: int | None
    tags: dict[str, list]  # kind -> tags
    matches: list[dict]


def fop_entries(*, fop: FOP) -> list[DetailEntry]:

    entries = list(FOPCapability.objects.filter(fop=fop).select_related("capability", "capability__function"))
    entries.sort(key=lambda e: natural_key(e.capability.ref))
    consensus = consensus_for(cycle=fop.cycle, role_level_id=fop.role_level_id)
    tags: dict[int, dict[str, list]] = defaultdict(lambda: {"K": [], "S": [], "B": []})
    for link in (
        CapabilityTag.objects.filter(capability__in=[e.capability_id for e in entries])
        .select_related("tag")
        .order_by("tag__name")
    ):
        tags[link.capability_id][link.tag.kind].append(link.tag)
    matches: dict[int, list] = {}
    best = fop_providers.get("best_matches")
    if best is not None and entries:
        try:
            matches = best([e.capability_id for e in entries]) or {}
        except Exception:  # noqa: BLE001 - matches are an extra; the FOP still shows
            matches = {}
    return [
        DetailEntry(
            entry=e,
            consensus=consensus.get(e.capability_id),
            tags=tags[e.capability_id],
            matches=matches.get(e.capability_id, []),
        )
        for e in entries
    ]


def fop_of_cycle(cycle: Cycle, pk: int) -> FOP | None:
    return FOP.objects.select_related("role_level", "cycle").filter(cycle=cycle, pk=pk).first()


def fops_by_ids(cycle: Cycle, ids: list[int]) -> QuerySet[FOP]:
    return FOP.objects.filter(cycle=cycle, pk__in=ids)


def capability_of_cycle(cycle: Cycle, pk: int | None, *, for_trace: bool = False) -> Capability | None:
    """One of the cycle's capabilities (None for another cycle's id); ``for_trace`` loads what the
    traceability page shows beside it."""
    capabilities = Capability.objects.filter(cycle=cycle, pk=pk)
    if for_trace:
        capabilities = capabilities.select_related(
            "merged_into", "submitted_by", "workshop", "function", "domain", "area"
        )
    return capabilities.first() if pk is not None else None


def users_by_ids(ids: list[int]) -> list[User]:
    return list(User.objects.filter(pk__in=ids))


def latest_proposal_run(cycle: Cycle, *, done_only: bool = False) -> FOPProposalRun | None:
    """The cycle's latest FOP proposal run (its latest finished one with ``done_only``)."""
    runs = FOPProposalRun.objects.filter(cycle=cycle).select_related("created_by").order_by("-id")
    return (runs.filter(status=FOPProposalRun.Status.DONE) if done_only else runs).first()


def fops_kept_by_proposals_count(cycle: Cycle) -> int:
    """FOPs a proposal run never replaces: every FOP but the untouched proposals."""
    return FOP.objects.filter(cycle=cycle).exclude(source=FOP.Source.PROPOSED, status=FOP.Status.PROPOSED).count()


def published_fops_count(cycle: Cycle) -> int:
    return FOP.objects.filter(cycle=cycle, source=FOP.Source.PUBLISHED).count()


def fop_reviewer_choices(*, cycle: Cycle) -> QuerySet[Membership]:
    return Membership.objects.filter(cycle=cycle, role=Role.EMPLOYER, status=Membership.Status.ACTIVE).select_related(
        "user"
    )


def fop_addable_capabilities(*, fop: FOP) -> list[Capability]:
    present = set(fop.entries.values_list("capability_id", flat=True))
    caps = Capability.objects.filter(cycle=fop.cycle, status=Capability.Status.ACCEPTED).exclude(pk__in=present)
    return sorted(caps, key=lambda c: natural_key(c.ref))


# --- history -------------------------------------------------------------------------------------


def fop_history(*, fop: FOP) -> QuerySet[FOPChange]:
    return FOPChange.objects.filter(fop=fop).order_by("id")


@dataclass
class HistoryCheck:
    ok: bool
    entries: int
    problem: str = ""
    bad_entry_id: int | None = None


HISTORY_ALTERED = "History entry #{n} does not match its hash: it was altered."
HISTORY_BROKEN = "History entry #{n} does not follow the entry before it: an entry was removed or inserted."
HISTORY_HEAD = "The newest history entry is missing: the history was cut short."
HISTORY_STATE = "The FOP differs from what its history records: it was changed without a history entry."
HISTORY_EMPTY = "This FOP has no history."


def fop_history_verify(*, fop: FOP) -> HistoryCheck:
    """Recompute the hash chain and replay it: any edit, gap or unrecorded change shows."""
    changes = list(FOPChange.objects.filter(fop=fop).order_by("id"))
    if not changes:
        return HistoryCheck(ok=False, entries=0, problem=HISTORY_EMPTY)
    prev = ""
    state: dict = {}
    for n, change in enumerate(changes, start=1):
        if change.prev_hash != prev:
            return HistoryCheck(False, len(changes), HISTORY_BROKEN.format(n=n), change.pk)
        if change_hash(change) != change.hash:
            return HistoryCheck(False, len(changes), HISTORY_ALTERED.format(n=n), change.pk)
        state = apply(state, change)
        prev = change.hash
    fresh = FOP.objects.get(pk=fop.pk)
    if fresh.history_hash != prev:
        return HistoryCheck(False, len(changes), HISTORY_HEAD)
    if state != fop_state(fresh):
        return HistoryCheck(False, len(changes), HISTORY_STATE)
    return HistoryCheck(True, len(changes))


# --- proposals compared with the published FOPs ---------------------------------------------------


@dataclass
class Comparison:
    proposal: FOP
    proposal_caps: list[Capability]
    closest: FOP | None
    jaccard: float
    shared: list[Capability]
    only_proposal: list[Capability]
    only_published: list[Capability]


def fop_proposal_comparison(*, cycle: Cycle) -> list[Comparison]:
    """For each proposed FOP, the published FOP sharing most capabilities (Jaccard) and which."""
    fops = list(
        FOP.objects.filter(cycle=cycle, source__in=[FOP.Source.PROPOSED, FOP.Source.PUBLISHED])
        .select_related("role_level")
        .prefetch_related(Prefetch("entries", queryset=FOPCapability.objects.select_related("capability")))
        .order_by("role_level__order", "role_level_id", "name", "id")
    )
    with_labels(fops, cycle.pk)
    caps = {f.pk: {e.capability_id: e.capability for e in f.entries.all()} for f in fops}
    published = [f for f in fops if f.source == FOP.Source.PUBLISHED and caps[f.pk]]
    result = []
    for fop in (f for f in fops if f.source == FOP.Source.PROPOSED):
        mine = set(caps[fop.pk])
        best, best_j = None, 0.0
        for pub in published:
            theirs = set(caps[pub.pk])
            union = mine | theirs
            j = len(mine & theirs) / len(union) if union else 0.0
            if j > best_j + 1e-12:
                best, best_j = pub, j
        theirs = set(caps[best.pk]) if best else set()
        every = {**caps[fop.pk], **(caps[best.pk] if best else {})}

        def ordered(ids, every=every):
            return sorted((every[i] for i in ids), key=lambda c: natural_key(c.ref))

        result.append(
            Comparison(
                proposal=fop,
                proposal_caps=ordered(mine),
                closest=best,
                jaccard=round(best_j, 3),
                shared=ordered(mine & theirs),
                only_proposal=ordered(mine - theirs),
                only_published=ordered(theirs - mine),
            )
        )
    return result


def fop_for_member(*, user: User | AnonymousUser, fop_id: int) -> FOP | None:
    """The FOP if ``user`` may see it (an active member of its cycle, or a site administrator)."""
    from cycles.access import access_for  # noqa: PLC0415

    fop = FOP.objects.select_related("cycle").filter(pk=fop_id).first()
    if fop is None or access_for(user, fop.cycle) is None:
        return None
    return fop


@dataclass
class HistoryRow:
    change: FOPChange
    what: str
    before: str
    after: str


def _show(field: str, value, users: dict, capabilities: dict) -> str:
    from workshops.models import Proficiency  # noqa: PLC0415

    if value is None or value == "":
        return ""
    if field.startswith("entries."):
        return Proficiency(int(value)).label
    if field == "reviewers":
        return ", ".join(users.get(i, f"user {i}") for i in value) or "nobody"
    if field == "*":
        if "merged" in (value or {}):
            return "; ".join(f"{s['name']} ({len(s['entries'])} capabilities)" for s in value["merged"].values())
        refs = sorted((capabilities.get(int(k), f"#{k}") for k in (value.get("entries") or {})), key=natural_key)
        return f"{value.get('name')} — {value.get('status')}; {len(refs)} capabilities: {', '.join(refs)}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def fop_history_rows(*, fop: FOP) -> list[HistoryRow]:
    """The history with fields and values in words (capability refs, proficiency and people names)."""
    changes = list(fop_history(fop=fop))
    capabilities = dict(Capability.objects.filter(cycle=fop.cycle).values_list("pk", "ref"))
    user_ids = set()
    for c in changes:
        if c.field == "reviewers":
            user_ids |= set(c.before or []) | set(c.after or [])
    users = {u.pk: (u.get_full_name() or u.email) for u in User.objects.filter(pk__in=user_ids)}
    rows = []
    for c in changes:
        if c.field.startswith("entries."):
            what = capabilities.get(int(c.field.split(".", 1)[1]), c.field)
        elif c.field == "*":
            what = "whole profile"
        else:
            what = c.field.replace("_", " ")
        rows.append(
            HistoryRow(
                change=c,
                what=what,
                before=_show(c.field, c.before, users, capabilities),
                after=_show(c.field, c.after, users, capabilities),
            )
        )
    return rows


# --- the dashboard: FOPs to ratify ---------------------------------------------------------------


def dashboard_fops_to_ratify(scope: DashboardScope) -> list[WaitingItem]:
    """FOPs in review for which the person is a reviewer, counted per cycle."""
    rows = (
        FOP.objects.filter(cycle_id__in=scope.cycles, reviewers=scope.user, status=FOP.Status.IN_REVIEW)
        .values("cycle_id")
        .annotate(n=Count("id"))
    )
    return counted_items(scope, rows, "fop", "{n} future occupational profile(s) to ratify", "workshops:fops")


def dashboard_fops_returned(scope: DashboardScope) -> list[WaitingItem]:
    """Conveners: the FOPs employers returned with comments, counted per cycle (until reopened)."""
    cycle_ids = [
        cid
        for cid in scope.cycles
        if scope.roles.get(cid, Role.CONVENER if scope.user.is_superuser else None) == Role.CONVENER
    ]
    if not cycle_ids:
        return []
    rows = (
        FOP.objects.filter(cycle_id__in=cycle_ids, status=FOP.Status.RETURNED)
        .values("cycle_id")
        .annotate(n=Count("id"))
        .order_by("cycle_id")
    )
    return counted_items(
        scope, rows, "fop_returned", "{n} FOP(s) returned by employers with comments", "workshops:fops"
    )


def fops_returned(*, cycle: Cycle) -> list[FOP]:
    """The cycle's returned FOPs with the reviewer's comment, for the convener's FOP list."""
    return with_labels(
        FOP.objects.filter(cycle=cycle, status=FOP.Status.RETURNED).select_related("role_level").order_by("name", "id"),
        cycle.pk,
    )


def fop_proficiency_of(*, fop: FOP, capability: Capability) -> int | None:
    """The capability's required proficiency in the FOP (None when it is not in it)."""
    return FOPCapability.objects.filter(fop=fop, capability=capability).values_list("proficiency", flat=True).first()

"""Reads for the findings: one loader of a cycle's data that every findings table shares.

``CycleData`` fetches each kind of record once (a fixed number of queries however many rows a
cycle has) and keeps it for the request or export that asked, so building twenty pages for an
export costs the same queries as building one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import Q, QuerySet

from accounts.models import User
from cycles.models import Cycle, CycleOrganisation, Membership, RoleLevel, SupplyChainPartner
from findings.models import ActionItem, ExportJob, ReportSection, ShareLink
from workshops.models import (
    FOP,
    Capability,
    CapabilityTag,
    DelphiItem,
    FOPCapability,
    PublishedTagFrequency,
    TagKind,
)

# Capabilities the findings count: everything not rejected or merged into another statement.
EXCLUDED_CAPABILITY_STATUSES = (Capability.Status.REJECTED, Capability.Status.MERGED)


def counted_capabilities(cycle: Cycle) -> QuerySet[Capability]:
    return Capability.objects.filter(cycle=cycle).exclude(status__in=EXCLUDED_CAPABILITY_STATUSES)


@dataclass
class CapabilityRow:
    id: int
    ref: str
    statement: str
    function: str
    domain: str
    area: str
    function_id: int | None
    highlighted: bool
    highlight_reason: str
    published_provision: dict
    partner_ids: list[int] = field(default_factory=list)


@dataclass
class FOPRow:
    id: int
    name: str
    description: str
    role_level_id: int | None
    role_level: str
    priority: bool
    status: str
    entries: dict[int, int] = field(default_factory=dict)  # capability id -> proficiency


@dataclass
class TagUse:
    capability_id: int
    kind: str
    name: str


class CycleData:
    """The records of one cycle that the findings tables read, each fetched once."""

    def __init__(self, cycle: Cycle):
        self.cycle = cycle

    @cached_property
    def partners(self) -> list[SupplyChainPartner]:
        return list(SupplyChainPartner.objects.filter(cycle=self.cycle).order_by("order", "id"))

    @cached_property
    def role_levels(self) -> list[RoleLevel]:
        return list(RoleLevel.objects.filter(cycle=self.cycle).order_by("order", "id"))

    @cached_property
    def capabilities(self) -> list[CapabilityRow]:
        rows = {}
        for cap in counted_capabilities(self.cycle).select_related("function", "domain", "area").order_by("ref", "id"):
            rows[cap.id] = CapabilityRow(
                id=cap.id,
                ref=cap.ref,
                statement=cap.statement,
                function=cap.function.name if cap.function_id else "",
                domain=cap.domain.name if cap.domain_id else "",
                area=cap.area.name if cap.area_id else "",
                function_id=cap.function_id,
                highlighted=cap.highlighted,
                highlight_reason=cap.highlight_reason,
                published_provision=cap.published_provision or {},
            )
        through = Capability.partners.through
        for cap_id, partner_id in through.objects.filter(capability__in=list(rows)).values_list(
            "capability_id", "supplychainpartner_id"
        ):
            rows[cap_id].partner_ids.append(partner_id)
        order = {p.id: i for i, p in enumerate(self.partners)}
        for row in rows.values():
            row.partner_ids.sort(key=lambda pid: order.get(pid, 0))
        return list(rows.values())

    @cached_property
    def capability_by_id(self) -> dict[int, CapabilityRow]:
        return {c.id: c for c in self.capabilities}

    @cached_property
    def fops(self) -> list[FOPRow]:
        fops = {}
        for fop in FOP.objects.filter(cycle=self.cycle).select_related("role_level").order_by("name", "id"):
            fops[fop.id] = FOPRow(
                id=fop.id,
                name=fop.name,
                description=fop.description,
                role_level_id=fop.role_level_id,
                role_level=fop.role_level.name if fop.role_level_id else "",
                priority=fop.priority,
                status=fop.status,
            )
        counted = self.capability_by_id
        for fop_id, cap_id, prof in FOPCapability.objects.filter(fop__cycle=self.cycle).values_list(
            "fop_id", "capability_id", "proficiency"
        ):
            if cap_id in counted and fop_id in fops:
                fops[fop_id].entries[cap_id] = prof
        return list(fops.values())

    @cached_property
    def fop_by_id(self) -> dict[int, FOPRow]:
        return {f.id: f for f in self.fops}

    @cached_property
    def fops_by_capability(self) -> dict[int, list[tuple[FOPRow, int]]]:
        out: dict[int, list[tuple[FOPRow, int]]] = defaultdict(list)
        for fop in self.fops:
            for cap_id, prof in fop.entries.items():
                out[cap_id].append((fop, prof))
        return out

    @cached_property
    def tag_uses(self) -> list[TagUse]:
        """Tag links of the cycle's counted capabilities; a merged tag counts as the tag it was merged into."""
        counted = self.capability_by_id
        uses = []
        seen = set()
        for cap_id, kind, name, target_kind, target_name in (
            CapabilityTag.objects.filter(capability__cycle=self.cycle)
            .values_list("capability_id", "tag__kind", "tag__name", "tag__merged_into__kind", "tag__merged_into__name")
            .order_by("tag__name", "capability_id")
        ):
            if cap_id not in counted:
                continue
            key = (cap_id, target_kind or kind, target_name or name)
            if key in seen:
                continue
            seen.add(key)
            uses.append(TagUse(capability_id=cap_id, kind=key[1], name=key[2]))
        return uses

    @cached_property
    def tags_by_capability(self) -> dict[int, dict[str, list[str]]]:
        out: dict[int, dict[str, list[str]]] = defaultdict(lambda: {k: [] for k in TagKind.values})
        for use in self.tag_uses:
            out[use.capability_id][use.kind].append(use.name)
        return out

    @cached_property
    def published_tag_frequencies(self) -> dict[str, list[tuple[str, int]]]:
        out: dict[str, list[tuple[str, int]]] = {k: [] for k in TagKind.values}
        for kind, tag, count in PublishedTagFrequency.objects.filter(cycle=self.cycle).values_list(
            "kind", "tag", "count"
        ):
            out[kind].append((tag, count))
        for kind in out:
            out[kind].sort(key=lambda item: (-item[1], item[0].lower()))
        return out

    @cached_property
    def consensus(self) -> list[tuple[int, int, int | None]]:
        """(capability id, role level id, consensus value) of every settled Delphi item."""
        counted = self.capability_by_id
        return [
            row
            for row in DelphiItem.objects.filter(cycle=self.cycle, consensus_value__isnull=False).values_list(
                "capability_id", "role_level_id", "consensus_value"
            )
            if row[0] in counted
        ]

    @cached_property
    def organisations(self) -> list[tuple[str, str]]:
        """(stakeholder group, organisation name) of every organisation taking part: those recorded
        for the cycle, and those of its active members (in their organisation's own group), each once."""
        recorded = list(CycleOrganisation.objects.filter(cycle=self.cycle).values_list("group", "organisation__name"))
        named = {name for _group, name in recorded}
        members = (
            Membership.objects.filter(
                cycle=self.cycle, status=Membership.Status.ACTIVE, user__organisation__isnull=False
            )
            .values_list("user__organisation__group", "user__organisation__name")
            .distinct()
        )
        extra = {(group, name) for group, name in members if name not in named}
        return sorted(set(recorded) | extra, key=lambda row: (row[0], row[1].lower()))

    @cached_property
    def actions(self) -> list[ActionItem]:
        return list(action_items(self.cycle))

    @cached_property
    def published_facts(self) -> dict:
        return self.cycle.published_facts or {}


def action_items(cycle: Cycle, *, horizon: str = "", status: str = "") -> QuerySet[ActionItem]:
    """The action plan in its order; ``horizon`` and ``status`` ("open": not done or dropped) filter it."""
    items = (
        ActionItem.objects.filter(cycle=cycle)
        .select_related("owner")
        .prefetch_related("fops", "capabilities")
        .order_by("order", "id")
    )
    if horizon:
        items = items.filter(horizon=horizon)
    if status == "open":
        items = items.exclude(status__in=ActionItem.CLOSED_STATUSES)
    elif status:
        items = items.filter(status=status)
    return items


def export_jobs_of(cycle: Cycle, user: User, *, limit: int = 10) -> QuerySet[ExportJob]:
    """A person's latest export jobs in a cycle (each sees only their own)."""
    return ExportJob.objects.filter(cycle=cycle, requested_by=user)[:limit]


def report_section(cycle: Cycle, key: str) -> ReportSection | None:
    return ReportSection.objects.filter(cycle=cycle, key=key).first()


def share_links_of(cycle: Cycle) -> QuerySet[ShareLink]:
    return ShareLink.objects.filter(cycle=cycle).select_related("created_by", "revoked_by")


def active_share_link(token: str) -> ShareLink | None:
    return ShareLink.objects.select_related("cycle").filter(token=token, revoked_at__isnull=True).first()


def search_across_cycles(user: User, query: str, *, limit: int = 50) -> dict[str, list[dict]]:
    """Capabilities, FOPs and KSB tags matching ``query`` in every cycle the user may see."""
    from cycles.access import cycles_for_user

    query = (query or "").strip()
    if len(query) < 2:
        return {"capabilities": [], "fops": [], "tags": []}
    cycles = cycles_for_user(user).values("id")
    caps = (
        counted_capabilities_in(cycles)
        .filter(Q(statement__icontains=query) | Q(ref__iexact=query))
        .select_related("cycle", "function")
        .order_by("cycle__title", "ref")[:limit]
    )
    fops = (
        FOP.objects.filter(cycle__in=cycles)
        .filter(Q(name__icontains=query) | Q(description__icontains=query))
        .select_related("cycle", "role_level")
        .order_by("cycle__title", "name")[:limit]
    )
    tag_rows = (
        CapabilityTag.objects.filter(capability__cycle__in=cycles, tag__name__icontains=query)
        .exclude(capability__status__in=EXCLUDED_CAPABILITY_STATUSES)
        .values("tag__kind", "tag__name", "capability__cycle__slug", "capability__cycle__title")
        .order_by("tag__name", "capability__cycle__title")
    )
    tags: dict[tuple, dict] = {}
    for row in tag_rows:
        key = (row["tag__kind"], row["tag__name"], row["capability__cycle__slug"])
        entry = tags.setdefault(
            key,
            {
                "kind": TagKind(row["tag__kind"]).label,
                "name": row["tag__name"],
                "cycle_slug": row["capability__cycle__slug"],
                "cycle_title": row["capability__cycle__title"],
                "capabilities": 0,
            },
        )
        entry["capabilities"] += 1
    return {
        "capabilities": [
            {
                "ref": c.ref,
                "statement": c.statement,
                "function": c.function.name if c.function_id else "",
                "cycle_slug": c.cycle.slug,
                "cycle_title": c.cycle.title,
            }
            for c in caps
        ],
        "fops": [
            {
                "id": f.id,
                "name": f.name,
                "role_level": f.role_level.name if f.role_level_id else "",
                "priority": f.priority,
                "cycle_slug": f.cycle.slug,
                "cycle_title": f.cycle.title,
            }
            for f in fops
        ],
        "tags": list(tags.values())[:limit],
    }


def counted_capabilities_in(cycles: Iterable[Cycle]) -> QuerySet[Capability]:
    return Capability.objects.filter(cycle__in=cycles).exclude(status__in=EXCLUDED_CAPABILITY_STATUSES)

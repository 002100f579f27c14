"""Reads on KSB tags: the tagging board, suggestions, near-duplicate pairs and frequency tables."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from core.readiness import NotReady
from cycles.models import Cycle, Phase, Role
from cycles.selectors import DashboardScope, WaitingItem, counted_items
from workshops.fops import providers as fop_providers
from workshops.fops.selectors import natural_key
from workshops.models import Capability, CapabilityTag, PublishedTagFrequency, Tag, TagKind
from workshops.tags.services import tag_normalise

KIND_ORDER = [TagKind.KNOWLEDGE, TagKind.SKILL, TagKind.BEHAVIOUR]
TAGGABLE = [Capability.Status.ACCEPTED, Capability.Status.SUBMITTED]


def tags_of(capability: Capability) -> dict[str, list[CapabilityTag]]:
    out: dict[str, list[CapabilityTag]] = {k: [] for k in KIND_ORDER}
    for link in (
        CapabilityTag.objects.filter(capability=capability).select_related("tag", "added_by").order_by("tag__name")
    ):
        out[link.tag.kind].append(link)
    return out


@dataclass
class BoardRow:
    capability: Capability
    tags: dict[str, list[Tag]]

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.tags.values())


def tag_board(*, cycle: Cycle, only_untagged: bool = False, kind_missing: str | None = None) -> list[BoardRow]:
    """Every taggable capability of the cycle with its tags by kind (two queries)."""
    capabilities = sorted(Capability.objects.filter(cycle=cycle, status__in=TAGGABLE), key=lambda c: natural_key(c.ref))
    tags: dict[int, dict[str, list[Tag]]] = defaultdict(lambda: {k: [] for k in KIND_ORDER})
    for link in CapabilityTag.objects.filter(capability__cycle=cycle).select_related("tag").order_by("tag__name"):
        tags[link.capability_id][link.tag.kind].append(link.tag)
    rows = [BoardRow(capability=c, tags=tags[c.pk]) for c in capabilities]
    if only_untagged:
        rows = [r for r in rows if r.total == 0]
    if kind_missing in TagKind.values:
        rows = [r for r in rows if not r.tags[kind_missing]]
    return rows


def tags_in_use(*, cycle: Cycle, kind: str) -> list[tuple[int, str, int]]:
    """Tags of a kind used in this cycle or any earlier one: (id, name, uses), most used first."""
    earlier = Q(capability_links__capability__cycle__created_at__lte=cycle.created_at) | Q(
        capability_links__capability__cycle=cycle
    )
    rows = (
        Tag.objects.filter(kind=kind, merged_into__isnull=True)
        .filter(earlier)
        .annotate(uses=Count("capability_links", distinct=True))
        .order_by("-uses", "name")
        .values_list("id", "name", "uses")
    )
    return list(rows)


def accent_context(cycle_id: int, *, exclude_pk: int | None = None) -> QuerySet[Capability]:
    """The statements whose shared accent a search inside the cycle discounts (issue 14; the
    discount is ``matching.ranking.without_accent``): the cycle's accepted capabilities, the one
    being tagged (``exclude_pk``) left out. KSB suggestions take their context from here, and so
    does the capability library's search when asked to discount (``matching.library``)."""
    rows = Capability.objects.filter(cycle_id=cycle_id, status=Capability.Status.ACCEPTED)
    return rows.exclude(pk=exclude_pk) if exclude_pk is not None else rows


@dataclass
class Suggestion:
    name: str
    source: str  # "ESCO knowledge", "ESCO skill", "ESCO transversal", "Used in N capabilities"
    score: float
    ref: str = ""
    already: bool = False  # the capability has this tag already


def tag_suggestions(*, capability: Capability, kind: str, k: int = 8) -> list[Suggestion] | None:
    """Suggestions for one capability and kind, best first; None when suggestions are unavailable.

    Raises ``NotReady`` while the model or the ESCO list is being prepared; its ``partial`` then
    holds the suggestions that are ready (tags in use), as ``Suggestion``s."""
    suggest = fop_providers.get("suggest_tags")
    if suggest is None:
        return None
    existing = tags_in_use(cycle=capability.cycle, kind=kind)
    # The cycle's other statements: what they all share is discounted (matching.suggestions).
    context = list(accent_context(capability.cycle_id, exclude_pk=capability.pk).values_list("statement", flat=True))
    try:
        raw = suggest(capability.statement, kind, existing, k, context=context)
    except NotReady as not_ready:
        not_ready.partial = _as_suggestions(capability, not_ready.partial or [])
        raise
    return _as_suggestions(capability, raw)


def _as_suggestions(capability: Capability, raw: list[dict]) -> list[Suggestion]:
    have = {
        tag_normalise(link.tag.name)
        for link in CapabilityTag.objects.filter(capability=capability).select_related("tag")
    }
    return [
        Suggestion(
            name=s["name"],
            source=s["source"],
            score=s["score"],
            ref=s.get("ref", ""),
            already=tag_normalise(s["name"]) in have,
        )
        for s in raw
    ]


@dataclass
class MergePair:
    a: Tag
    b: Tag
    score: float
    uses_a: int
    uses_b: int


def tag_merge_candidates(*, cycle: Cycle, threshold: float = 0.8, limit: int = 50) -> list[MergePair]:
    """Pairs of the cycle's tags of one kind that look like duplicates, most similar first."""
    used = (
        Tag.objects.filter(capability_links__capability__cycle=cycle, merged_into__isnull=True)
        .annotate(uses=Count("capability_links", filter=Q(capability_links__capability__cycle=cycle), distinct=True))
        .order_by("kind", "name")
    )
    by_kind: dict[str, list[Tag]] = defaultdict(list)
    for tag in used:
        by_kind[tag.kind].append(tag)
    pairs_provider = fop_providers.get("similar_tag_pairs")
    out: list[MergePair] = []
    for tags in by_kind.values():
        if len(tags) < 2:
            continue
        index = {t.pk: t for t in tags}
        found: list[tuple[int, int, float]] = []
        if pairs_provider is not None:
            found = pairs_provider([(t.pk, t.name) for t in tags], threshold)
        for a, b, score in found:
            ta, tb = index[a], index[b]
            # Suggest merging the less used into the more used.
            if (tb.uses, tb.name) > (ta.uses, ta.name):
                ta, tb = tb, ta
            out.append(MergePair(a=tb, b=ta, score=round(float(score), 3), uses_a=tb.uses, uses_b=ta.uses))
    out.sort(key=lambda p: (-p.score, p.a.name, p.b.name))
    return out[:limit]


@dataclass
class FrequencyRow:
    tag: str
    count: int
    published: int | None = None


def tag_frequencies(*, cycle: Cycle, limit: int = 30) -> dict[str, list[FrequencyRow]]:
    """Per kind, the cycle's most used tags (capabilities tagged), as in report 2 tables 24–25."""
    out: dict[str, list[FrequencyRow]] = {}
    for kind in KIND_ORDER:
        rows = (
            CapabilityTag.objects.filter(capability__cycle=cycle, capability__status__in=TAGGABLE, tag__kind=kind)
            .values("tag__name")
            .annotate(n=Count("capability", distinct=True))
            .order_by("-n", "tag__name")[:limit]
        )
        out[kind] = [FrequencyRow(tag=r["tag__name"], count=r["n"]) for r in rows]
    return out


def published_tag_frequencies(*, cycle: Cycle) -> dict[str, list[PublishedTagFrequency]]:
    out: dict[str, list[PublishedTagFrequency]] = {k: [] for k in KIND_ORDER}
    for row in PublishedTagFrequency.objects.filter(cycle=cycle):
        out[row.kind].append(row)
    return out


def tag_frequency_table(*, cycle: Cycle, limit: int = 30) -> list[dict]:
    """Per kind, the product's counts side by side with the published report's (when it has them)."""
    ours = tag_frequencies(cycle=cycle, limit=limit)
    published = published_tag_frequencies(cycle=cycle)
    labels = dict(TagKind.choices)
    tables = []
    for kind in KIND_ORDER:
        pub = {tag_normalise(p.tag): p.count for p in published[kind]}
        rows = ours[kind]
        for row in rows:
            row.published = pub.get(tag_normalise(row.tag))
        tables.append(
            {
                "kind": kind,
                "label": labels[kind],
                "rows": rows,
                "published": published[kind],
                "total_ours": sum(r.count for r in rows),
            }
        )
    return tables


def tag_by_id(raw_id: str | None) -> Tag | None:
    """The tag a form names by id (None when the id is missing or not a number)."""
    return Tag.objects.filter(pk=int(raw_id)).first() if raw_id and str(raw_id).isdigit() else None


def live_tags_of_cycle(cycle: Cycle) -> QuerySet[Tag]:
    """The live tags the cycle's capabilities carry, by kind and name."""
    return (
        Tag.objects.filter(capability_links__capability__cycle=cycle, merged_into__isnull=True)
        .distinct()
        .order_by("kind", "name")
    )


# --- the dashboard: capabilities without tags ----------------------------------------------------


def dashboard_untagged(scope: DashboardScope) -> list[WaitingItem]:
    """Educators of a cycle in Carry out: the accepted capabilities that have no KSB tag yet."""
    cycle_ids = [
        cid for cid, role in scope.roles.items() if role == Role.EDUCATOR and scope.cycles[cid].phase == Phase.CARRY_OUT
    ]
    if not cycle_ids:
        return []
    rows = (
        Capability.objects.filter(cycle_id__in=cycle_ids, status=Capability.Status.ACCEPTED, tag_links__isnull=True)
        .values("cycle_id")
        .annotate(n=Count("id"))
    )
    return counted_items(scope, rows, "tagging", "{n} capabilities have no KSB tags yet", "workshops:tags")

"""Reads for capability capture and the classification taxonomy."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.models import User
from cycles.access import Access, access_for
from cycles.models import Cycle, Workshop
from workshops.fops import providers
from workshops.models import Capability, Function, FunctionalArea, FunctionalDomain

# What the list shows by default: the statements still in play.
OPEN_STATUSES = (Capability.Status.SUBMITTED, Capability.Status.ACCEPTED)
STATUS_FILTERS = {
    "open": OPEN_STATUSES,
    "submitted": (Capability.Status.SUBMITTED,),
    "accepted": (Capability.Status.ACCEPTED,),
    "rejected": (Capability.Status.REJECTED,),
    "merged": (Capability.Status.MERGED,),
    "all": tuple(Capability.Status.values),
}


def capture_access(*, user: User | AnonymousUser, slug: str) -> Access | None:
    """The caller's access to a cycle's capture screen, or None (used by the websocket consumer)."""
    cycle = Cycle.objects.filter(slug=slug).first()
    if cycle is None:
        return None
    return access_for(user, cycle)


def capabilities_for_capture(
    *, cycle: Cycle, workshop: Workshop | None = None, status: str = "open"
) -> QuerySet[Capability]:
    statuses = STATUS_FILTERS.get(status, OPEN_STATUSES)
    queryset = (
        Capability.objects.filter(cycle=cycle, status__in=statuses)
        .select_related("function", "domain", "area", "merged_into", "submitted_by", "workshop")
        .prefetch_related(
            "partners",
            Prefetch("merged_sources", queryset=Capability.objects.order_by("id").prefetch_related("partners")),
        )
        .order_by("-id")
    )
    if workshop is not None:
        queryset = queryset.filter(workshop=workshop)
    return queryset


def capabilities_for_export(*, cycle: Cycle) -> QuerySet[Capability]:
    return (
        Capability.objects.filter(cycle=cycle)
        .select_related("function", "domain", "area", "merged_into")
        .prefetch_related("partners")
        .order_by("id")
    )


def capture_counts(*, cycle: Cycle, workshop: Workshop | None = None) -> dict[str, int]:
    queryset = Capability.objects.filter(cycle=cycle)
    if workshop is not None:
        queryset = queryset.filter(workshop=workshop)
    counts = queryset.aggregate(
        all=Count("id"),
        **{status: Count("id", filter=Q(status=status)) for status in Capability.Status.values},
    )
    counts["open"] = counts["submitted"] + counts["accepted"]
    return counts


def capability_detail(*, cycle: Cycle, pk: int) -> Capability | None:
    return (
        Capability.objects.filter(cycle=cycle, pk=pk)
        .select_related("function", "domain", "area", "merged_into", "submitted_by", "workshop")
        .prefetch_related("partners", "merged_sources__partners")
        .first()
    )


def merge_candidates(*, capability: Capability) -> QuerySet[Capability]:
    """Statements of the same cycle that could be folded into ``capability``."""
    return (
        Capability.objects.filter(cycle_id=capability.cycle_id, status__in=[*OPEN_STATUSES, Capability.Status.REJECTED])
        .exclude(pk=capability.pk)
        .order_by("id")
    )


def capabilities_by_ids(*, ids: Iterable[int]) -> list[Capability]:
    """The statements with these ids, of whatever cycle: the bulk services refuse the ones of another cycle."""
    return list(Capability.objects.filter(pk__in=list(ids)).order_by("id"))


# --- Assists: duplicates at the door, suggested classifications -----------------------------------


def door_duplicates(*, cycle: Cycle, text: str, limit: int = 3) -> dict | None:
    """The cycle's statements that say nearly what ``text`` says, and how that was decided
    (``method``: "embedding" or "lexical"); None when no app provides the comparison."""
    similar = providers.get("similar_statements")
    if similar is None:
        return None
    return similar(cycle.pk, text, limit=limit)


@dataclass(frozen=True)
class SuggestedClassification:
    function: Function
    domain: FunctionalDomain | None
    area: FunctionalArea | None
    confidence: float
    basis: str  # "neighbours": the nearest classified statements; "taxonomy": the closest entry by name
    neighbours: int
    method: str  # "embedding" or "lexical"

    @property
    def label(self) -> str:
        return " › ".join(part.name for part in (self.function, self.domain, self.area) if part is not None)

    @property
    def value(self) -> str:
        """``function:domain:area`` ids, as the review form posts them back."""
        return ":".join(str(part.pk) if part is not None else "" for part in (self.function, self.domain, self.area))

    def same_as(self, capability: Capability) -> bool:
        return (capability.function_id, capability.domain_id, capability.area_id) == tuple(
            part.pk if part is not None else None for part in (self.function, self.domain, self.area)
        )


def classification_suggestions(*, capabilities: Iterable[Capability]) -> dict[int, SuggestedClassification]:
    """The suggested classification of each statement that is not merged away, by id."""
    suggest = providers.get("suggest_classifications")
    wanted = [c for c in capabilities if c.status != Capability.Status.MERGED]
    if suggest is None or not wanted:
        return {}
    answer = suggest([(c.pk, c.statement) for c in wanted])
    raw = answer["suggestions"]
    functions = Function.objects.in_bulk({s["function"] for s in raw.values()})
    domains = FunctionalDomain.objects.in_bulk({s["domain"] for s in raw.values() if s["domain"]})
    areas = FunctionalArea.objects.in_bulk({s["area"] for s in raw.values() if s["area"]})
    out = {}
    for pk, s in raw.items():
        if s["function"] not in functions:
            continue
        out[pk] = SuggestedClassification(
            function=functions[s["function"]],
            domain=domains.get(s["domain"]),
            area=areas.get(s["area"]),
            confidence=s["confidence"],
            basis=s["basis"],
            neighbours=s["neighbours"],
            method=answer["method"],
        )
    return out


def capabilities_for_review(
    *, cycle: Cycle, workshop: Workshop | None = None, status: str = "open"
) -> list[Capability]:
    """The capture list as the convener reviews it: each statement with ``suggested``, its suggested
    classification (or None), and ``suggestion``, the same only when it differs from the one it has
    (what the row shows; applying one it already has changes nothing)."""
    rows = list(capabilities_for_capture(cycle=cycle, workshop=workshop, status=status))
    suggestions = classification_suggestions(capabilities=rows)
    for capability in rows:
        capability.suggested = suggestions.get(capability.pk)
        differs = capability.suggested is not None and not capability.suggested.same_as(capability)
        capability.suggestion = capability.suggested if differs else None
    return rows


def capture_workshops(*, cycle: Cycle) -> QuerySet[Workshop]:
    return Workshop.objects.filter(cycle=cycle, kind=Workshop.Kind.TECHNOLOGIST).order_by("starts_at")


# --- Taxonomy -----------------------------------------------------------------------------------


def functions_all() -> QuerySet[Function]:
    return Function.objects.order_by("order", "name")


def domains_for(*, function_id: int | None) -> QuerySet[FunctionalDomain]:
    queryset = FunctionalDomain.objects.select_related("function").order_by("function__order", "function__name", "name")
    if function_id:
        queryset = queryset.filter(function_id=function_id)
    return queryset


def areas_for(*, domain_id: int | None, function_id: int | None = None) -> QuerySet[FunctionalArea]:
    queryset = FunctionalArea.objects.select_related("domain__function").order_by(
        "domain__function__order", "domain__name", "name"
    )
    if domain_id:
        return queryset.filter(domain_id=domain_id)
    if function_id:
        return queryset.filter(domain__function_id=function_id)
    return queryset


def taxonomy_tree() -> QuerySet[Function]:
    return Function.objects.order_by("order", "name").prefetch_related(
        Prefetch(
            "domains",
            queryset=FunctionalDomain.objects.order_by("name").prefetch_related(
                Prefetch("areas", queryset=FunctionalArea.objects.order_by("name"))
            ),
        )
    )


def taxonomy_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """One select's choices for classifying at once: per function, the function alone, each domain
    alone and each area (values ``function:<id>``, ``domain:<id>``, ``area:<id>``)."""
    groups = []
    for function in taxonomy_tree():
        options = [(f"function:{function.pk}", f"{function.name} (function only)")]
        for domain in function.domains.all():
            options.append((f"domain:{domain.pk}", f"{domain.name} (domain only)"))
            options += [(f"area:{area.pk}", f"{domain.name} › {area.name}") for area in domain.areas.all()]
        groups.append((function.name, options))
    return groups


def taxonomy_counts() -> dict[str, int]:
    return {
        "functions": Function.objects.count(),
        "domains": FunctionalDomain.objects.count(),
        "areas": FunctionalArea.objects.count(),
    }

"""Reads for capability capture and the classification taxonomy."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.models import User
from cycles.access import Access, access_for
from cycles.models import Cycle, Workshop
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


def taxonomy_counts() -> dict[str, int]:
    return {
        "functions": Function.objects.count(),
        "domains": FunctionalDomain.objects.count(),
        "areas": FunctionalArea.objects.count(),
    }

"""The caller, their cycles, and a cycle's capabilities."""

import enum
from typing import Annotated

from django.http import HttpRequest
from ninja import Query, Router
from ninja.pagination import paginate

from api.common import REFUSALS, Mapped, Pages, Slug, member
from api.schemas import CapabilityOut, CycleDetailOut, CycleOut, MeOut
from cycles.access import access_for, cycles_for_user
from cycles.models import Cycle
from workshops.capture import selectors as capture
from workshops.models import Capability

router = Router(tags=["cycles"])

#: The capture page's status filter, by the selector's own names.
CapabilityStatus = enum.Enum("CapabilityStatus", {name: name for name in capture.STATUS_FILTERS}, type=str)


def cycle_out(cycle: Cycle, role: str) -> dict:
    return {
        "slug": cycle.slug,
        "title": cycle.title,
        "challenge": cycle.challenge,
        "challenge_when": cycle.challenge_when,
        "sector": cycle.sector,
        "phase": cycle.phase,
        "phase_label": cycle.get_phase_display(),
        "role": role,
    }


def capability_ref(capability: Capability) -> dict:
    return {"id": capability.pk, "ref": capability.ref, "statement": capability.statement}


def capability_out(capability: Capability) -> dict:
    return {
        **capability_ref(capability),
        "status": capability.status,
        "function": capability.function.name if capability.function else None,
        "domain": capability.domain.name if capability.domain else None,
        "area": capability.area.name if capability.area else None,
        "partners": [p.name for p in capability.partners.all()],
        "merged_into": capability.merged_into.ref if capability.merged_into else None,
        "highlighted": capability.highlighted,
    }


@router.get("/me", response={200: MeOut, **REFUSALS}, summary="Who the token acts for")
def me(request: HttpRequest):
    user = request.user
    return {"email": user.email, "display_name": user.get_full_name(), "cycles": cycles_for_user(user).count()}


@router.get("/cycles", response={200: list[CycleOut], **REFUSALS}, summary="The cycles the caller belongs to")
@paginate(Pages)
def cycle_list(request: HttpRequest):
    cycles = cycles_for_user(request.user).order_by("-created_at", "-id")
    return Mapped(cycles, lambda cycle: cycle_out(cycle, access_for(request.user, cycle).role))


@router.get(
    "/cycles/{slug}", response={200: CycleDetailOut, **REFUSALS}, summary="One cycle, its role levels and partners"
)
def cycle_detail(request: HttpRequest, slug: Slug):
    access = member(request, slug)
    cycle = access.cycle
    return {
        **cycle_out(cycle, access.role),
        "role_levels": list(cycle.role_levels.order_by("order", "id")),
        "partners": list(cycle.partners.order_by("order", "id")),
    }


@router.get(
    "/cycles/{slug}/capabilities",
    response={200: list[CapabilityOut], **REFUSALS},
    summary="A cycle's capability statements",
    description="`status` as the capture page filters: open (submitted and accepted, the default), submitted, "
    "accepted, rejected, merged or all. In reference order.",
)
@paginate(Pages)
def capability_list(
    request: HttpRequest, slug: Slug, status: Annotated[CapabilityStatus, Query()] = CapabilityStatus.open
):
    access = member(request, slug)
    rows = capture.capabilities_for_capture(cycle=access.cycle, status=status.value).order_by("ref", "id")
    return Mapped(rows, capability_out)

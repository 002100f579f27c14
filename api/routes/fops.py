"""Future Occupational Profiles with the proficiency each of their capabilities needs."""

import enum
from typing import Annotated

from django.db.models import Prefetch
from django.http import Http404, HttpRequest
from ninja import Query, Router
from ninja.pagination import paginate

from api.common import DB_INT_MAX, REFUSALS, Id, Mapped, Pages, Slug, member
from api.routes.cycles import capability_ref
from api.routes.delphi import role_level_out
from api.schemas import FopOut
from workshops.fops import selectors as fops
from workshops.fops.selectors import natural_key
from workshops.models import FOP, FOPCapability, Proficiency

router = Router(tags=["fops"])
NO_SUCH_FOP = "No such FOP in this cycle."

FopSource = enum.Enum("FopSource", {value: value for value in FOP.Source.values}, type=str)


def _with_entries(queryset):
    entries = FOPCapability.objects.select_related("capability")
    return queryset.prefetch_related(Prefetch("entries", queryset=entries))


def fop_out(fop: FOP) -> dict:
    entries = sorted(fop.entries.all(), key=lambda e: natural_key(e.capability.ref))
    return {
        "id": fop.pk,
        "name": fop.name,
        "label": fop.label,
        "description": fop.description,
        "status": fop.status,
        "source": fop.source,
        "priority": fop.priority,
        "role_level": role_level_out(fop.role_level) if fop.role_level else None,
        "proficiencies": [
            {
                "capability": capability_ref(e.capability),
                "proficiency": e.proficiency,
                "proficiency_label": Proficiency(e.proficiency).label,
            }
            for e in entries
        ],
    }


@router.get(
    "/cycles/{slug}/fops",
    response={200: list[FopOut], **REFUSALS},
    summary="A cycle's FOPs with their proficiencies",
    description="In the FOP list's order (role level, priority first, name). Filters as the list page: "
    "`role_level` (an id) and `source`.",
)
@paginate(Pages)
def fop_list(
    request: HttpRequest,
    slug: Slug,
    role_level: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
    source: FopSource | None = None,
):
    access = member(request, slug)
    rows = fops.fops_for_cycle(cycle=access.cycle, role_level_id=role_level, source=source.value if source else None)
    labels = fops.cycle_fop_labels(access.cycle.pk)  # one query for every FOP's label, as the list page

    def convert(fop: FOP) -> dict:
        fop.label = labels.get(fop.pk, fop.name)
        return fop_out(fop)

    return Mapped(_with_entries(rows), convert)


@router.get("/cycles/{slug}/fops/{fop_id}", response={200: FopOut, **REFUSALS}, summary="One FOP")
def fop_detail(request: HttpRequest, slug: Slug, fop_id: Id):
    access = member(request, slug)
    fop = _with_entries(FOP.objects.filter(cycle=access.cycle, pk=fop_id).select_related("role_level")).first()
    if fop is None:
        raise Http404(NO_SUCH_FOP)
    return fop_out(fop)

"""Delphi consensus results: per item the aggregates only, withheld as the results page withholds.

The rows come from ``workshops.delphi.selectors.consensus_results``, the selector of the results
page and its CSV, so the anonymity floor (a panellist sees no value or statistics of an item with
fewer than three answers; only the convener sees them) is decided there, once. No endpoint lists
an individual answer or rationale.
"""

from django.http import HttpRequest
from ninja import Router
from ninja.pagination import paginate

from api.common import REFUSALS, Mapped, Pages, Slug, member
from api.routes.cycles import capability_ref
from api.schemas import ConsensusOut
from workshops.delphi.selectors import consensus_results

router = Router(tags=["delphi"])


def role_level_out(level) -> dict:
    return {
        "id": level.pk,
        "name": level.name,
        "academic_level_min": level.academic_level_min,
        "academic_level_max": level.academic_level_max,
    }


def consensus_out(row: dict) -> dict:
    result = row["result"]
    stats = None
    if result is not None:
        stats = {
            "round": result.round.number if result.round else None,
            "n": result.n,
            "median": result.median,
            "iqr": result.iqr,
            "agreement": None if result.agreement is None else round(result.agreement, 4),
        }
    return {
        "capability": capability_ref(row["capability"]),
        "role_level": role_level_out(row["role_level"]),
        "outcome": row["outcome"] or "",
        "outcome_label": row["outcome_label"],
        "round": row["round"],
        "proficiency": row["value"],
        "proficiency_label": row["value_label"],
        "withheld": row["withheld"],
        "result": stats,
    }


@router.get(
    "/cycles/{slug}/delphi/results",
    response={200: list[ConsensusOut], **REFUSALS},
    summary="The agreed proficiency per capability × role level",
    description="As the Delphi results page: for items without consensus the value is the last round's median "
    "(rounded half down). A panellist gets no value or statistics for an item whose last result has fewer than "
    "three answers (`withheld`); the convener gets them all.",
)
@paginate(Pages)
def delphi_results(request: HttpRequest, slug: Slug):
    access = member(request, slug)
    return Mapped(consensus_results(cycle=access.cycle, is_convener=access.is_convener), consensus_out)

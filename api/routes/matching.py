"""Match runs and their results: each capability's best statement, score and whether it is served.

Read through ``matching.selectors`` (what the run page shows), at the run's threshold or the one
asked for; the scores are stored, so another threshold recomputes without re-embedding.
"""

from typing import Annotated

from django.http import Http404, HttpRequest
from ninja import Query, Router
from ninja.pagination import paginate

from api.common import REFUSALS, Id, Mapped, Pages, Slug, member
from api.routes.cycles import capability_ref
from api.schemas import CapabilityMatchOut, MatchRunDetailOut, MatchRunOut
from matching import selectors as matching
from matching.models import MatchRun

router = Router(tags=["matching"])
NO_SUCH_RUN = "No such match run in this cycle."
Threshold = Annotated[
    float | None,
    Query(ge=0, le=1, description="Similarity from 0 to 1 at which a statement matches; the run's own when left out."),
]


def run_out(run: MatchRun) -> dict:
    version = run.framework_version
    return {
        "id": run.pk,
        "status": run.status,
        "framework": version.framework.name,
        "framework_version": version.label,
        "model_name": run.model_name,
        "threshold": run.threshold,
        "level_window": run.level_window,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
    }


def match_out(match: matching.CapabilityMatch) -> dict:
    statement = match.statement
    standard = statement.standard if statement else None
    return {
        "capability": capability_ref(match.capability),
        "matched": match.matched,
        "score": None if match.score is None else round(float(match.score), 4),
        "best": None
        if statement is None
        else {
            "ref": statement.ref,
            "text": statement.text,
            "standard": None
            if standard is None
            else {"ref": standard.ref, "title": standard.title, "level": standard.level},
        },
        "review": match.review.decision if match.review else None,
        "window": list(match.window) if match.window else None,
    }


def _run(request: HttpRequest, slug: Slug, run_id: int) -> MatchRun:
    access = member(request, slug)
    run = matching.run_of_cycle(access.cycle, run_id)
    if run is None:
        raise Http404(NO_SUCH_RUN)
    return run


@router.get("/cycles/{slug}/match-runs", response={200: list[MatchRunOut], **REFUSALS}, summary="A cycle's match runs")
@paginate(Pages)
def match_run_list(request: HttpRequest, slug: Slug):
    access = member(request, slug)
    return Mapped(matching.runs_for_cycle(access.cycle).order_by("-created_at", "-id"), run_out)


@router.get(
    "/cycles/{slug}/match-runs/{run_id}",
    response={200: MatchRunDetailOut, **REFUSALS},
    summary="One match run and its counts at a threshold",
)
def match_run_detail(
    request: HttpRequest,
    slug: Slug,
    run_id: Id,
    threshold: Threshold = None,
):
    run = _run(request, slug, run_id)
    summary = None
    if run.status == MatchRun.Status.DONE:
        counts = matching.run_summary(run, threshold)
        summary = {key: counts[key] for key in ("threshold", "capabilities", "served", "without_provision")}
    return {**run_out(run), "summary": summary}


@router.get(
    "/cycles/{slug}/match-runs/{run_id}/capabilities",
    response={200: list[CapabilityMatchOut], **REFUSALS},
    summary="Each capability's best match in a run",
    description="Every capability of the run, by reference, with its best statement within its level window, the "
    "score, whether it is served at the threshold (educators' reviews override the threshold) and the review. "
    "Empty until the run is done.",
)
@paginate(Pages)
def match_run_capabilities(
    request: HttpRequest,
    slug: Slug,
    run_id: Id,
    threshold: Threshold = None,
):
    run = _run(request, slug, run_id)
    matches = matching.capability_best_matches(run, threshold) if run.status == MatchRun.Status.DONE else []
    return Mapped(matches, match_out)

"""Propose FOPs from the consensus proficiencies.

``fop_propose`` reads what each role level needs, asks the ``propose_profiles`` provider
(matching.proposals: embeddings, clustering, names) for profiles, and replaces the earlier
proposals that nobody has touched. Ratified, in-review, returned, published, hand-made and
hand-edited FOPs are never changed.

The first run on a machine embeds thousands of occupation texts, so the convener's page does not
compute in the request: ``fop_proposal_run_queue`` records a queued ``FOPProposalRun`` and enqueues
the ``workshops.tasks.propose_fops`` task, which calls ``fop_proposal_run_execute`` to fill that run.
The ``propose_fops`` command calls ``fop_propose`` directly.
"""

from __future__ import annotations

import time

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.jobs import ACTIVE
from cycles.models import Cycle, RoleLevel
from cycles.services.audit import audit_record
from workshops.fops import providers as fop_providers
from workshops.fops.selectors import fop_proposal_inputs
from workshops.fops.services import check_convener, fop_create
from workshops.fops.types import ProposalParameters, ProposedProfile
from workshops.models import FOP, FOPProposalRun

NO_CONSENSUS = "No capability has a consensus proficiency of Awareness or above yet: run the Delphi rounds first."
NO_PROPOSER = "FOP proposals need the matching app's embeddings, which are not available."
BAD_MAX_SIZE = "Profile size must be a whole number from 2 to 40."
BAD_MIN_SIZE = "Smallest profile must be a whole number from 1 to the profile size."
BAD_SIMILARITY = "Similarity must be a number from 0 to 1."
ALREADY_RUNNING = (
    "A proposal run for this cycle is already queued or running: wait for it to finish (this page shows "
    "when it has), then propose again."
)
FAILED_UNEXPECTEDLY = (
    "The proposal run failed unexpectedly; the details are in the server log. Try again, and tell the "
    "administrator if it keeps failing."
)
NOT_QUEUED = "The proposal run could not be queued (the task queue is not reachable). Try again later."
NEVER_FINISHED = "The proposal run never finished (its worker probably stopped). Propose again."
ACTOR_GONE = "The person who asked for this run can no longer change this cycle's FOPs."


class ProposalError(Exception):
    pass


class ProposalBusy(ProposalError):
    """A run for the cycle is already queued or running."""


def clean_parameters(*, max_size, similarity, min_size=2, partner_weight=0.15) -> ProposalParameters:
    try:
        max_size = int(max_size)
    except (TypeError, ValueError) as exc:
        raise ProposalError(BAD_MAX_SIZE) from exc
    if not 2 <= max_size <= 40:
        raise ProposalError(BAD_MAX_SIZE)
    try:
        min_size = int(min_size)
    except (TypeError, ValueError) as exc:
        raise ProposalError(BAD_MIN_SIZE) from exc
    if not 1 <= min_size <= max_size:
        raise ProposalError(BAD_MIN_SIZE)
    try:
        similarity = float(similarity)
    except (TypeError, ValueError) as exc:
        raise ProposalError(BAD_SIMILARITY) from exc
    if not 0.0 <= similarity <= 1.0:
        raise ProposalError(BAD_SIMILARITY)
    return ProposalParameters(
        max_size=max_size, min_size=min_size, similarity=round(similarity, 4), partner_weight=float(partner_weight)
    )


def replaceable_proposals(cycle: Cycle):
    """Proposals nobody has touched: from the algorithm, still proposed, no change by a person."""
    return (
        FOP.objects.filter(cycle=cycle, source=FOP.Source.PROPOSED, status=FOP.Status.PROPOSED)
        .exclude(history__actor__isnull=False)
        .exclude(reviewers__isnull=False)
    )


def fop_propose(
    *, cycle: Cycle, actor: User | None, parameters: ProposalParameters, run: FOPProposalRun | None = None
) -> FOPProposalRun:
    """Compute proposals and replace the untouched ones. With ``run`` (a run the task has claimed),
    that run is filled and marked done; without, a new done run is recorded (the command)."""
    check_convener(cycle, actor)
    levels = fop_proposal_inputs(cycle=cycle)
    if not any(level.capabilities for level in levels):
        raise ProposalError(NO_CONSENSUS)
    propose = fop_providers.get("propose_profiles")
    if propose is None:
        raise ProposalError(NO_PROPOSER)
    progress = None
    if run is not None:
        FOPProposalRun.report_progress(run.pk, 10, "Grouping the needed capabilities into profiles")

        def progress(what: str, done: int, total: int) -> None:
            # The first proposal after an import embeds the occupations that name profiles (minutes).
            FOPProposalRun.report_progress(run.pk, 10 + 75 * done // max(total, 1), f"{what} ({done} of {total})")

    started_at = timezone.now()
    started = time.perf_counter()
    # The slow part (embeddings) runs outside the transaction; the write below is all or nothing.
    profiles = propose(levels, parameters, progress)
    compute_s = time.perf_counter() - started
    if run is not None:
        FOPProposalRun.report_progress(run.pk, 90, "Saving the proposals")
    return fop_proposals_replace(
        cycle=cycle,
        actor=actor,
        parameters=parameters,
        profiles=profiles,
        run=run,
        started_at=started_at,
        summary={
            "role_levels": len(levels),
            "needed_items": sum(len(level.capabilities) for level in levels),
            "compute_seconds": round(compute_s, 3),
        },
    )


@transaction.atomic
def fop_proposals_replace(
    *,
    cycle: Cycle,
    actor: User | None,
    parameters: ProposalParameters,
    profiles: list[ProposedProfile],
    summary: dict,
    run: FOPProposalRun | None = None,
    started_at=None,
) -> FOPProposalRun:
    # Lock the cycle so two runs at once cannot interleave their deletes and creates.
    Cycle.objects.select_for_update().filter(pk=cycle.pk).first()
    if run is None:
        run = FOPProposalRun.objects.create(
            cycle=cycle,
            parameters=parameters.as_dict(),
            created_by=actor,
            status=FOPProposalRun.Status.RUNNING,
            started_at=started_at or timezone.now(),
        )
    else:
        run = FOPProposalRun.objects.select_for_update().get(pk=run.pk)
        if run.status != FOPProposalRun.Status.RUNNING:
            # Another execution of the same run (a redelivered task) got here first, or the run was
            # marked lost meanwhile: leave it.
            return run
    replaced = list(replaceable_proposals(cycle).values_list("pk", flat=True).distinct())
    kept = FOP.objects.filter(cycle=cycle, source=FOP.Source.PROPOSED).exclude(pk__in=replaced).count()
    FOP.objects.filter(pk__in=replaced).delete()
    levels = {rl.pk: rl for rl in RoleLevel.objects.filter(cycle=cycle)}
    created = []
    for profile in profiles:
        fop = fop_create(
            cycle=cycle,
            actor=None,  # the algorithm made it; the run records who asked
            name=profile.name,
            role_level=levels.get(profile.role_level_id),
            description=profile.description,
            entries=profile.entries,
            source=FOP.Source.PROPOSED,
            status=FOP.Status.PROPOSED,
            suggested_names=profile.suggested_names,
            proposal_run=run,
            reason=f"Proposal run {run.pk}",
            action="propose",
        )
        created.append(fop.pk)
    # The row is ours and running (created so, or locked above): this conditional UPDATE applies.
    FOPProposalRun.finish(
        run.pk,
        summary={
            **summary,
            "created": len(created),
            "replaced": len(replaced),
            "kept": kept,
            "capabilities_placed": sum(len(p.entries) for p in profiles),
        },
    )
    run.refresh_from_db()
    audit_record(
        cycle=cycle,
        actor=actor,
        verb="fops_proposed",
        summary=f"{len(created)} FOPs proposed ({len(replaced)} earlier proposals replaced, {kept} kept)",
        detail={"run": run.pk, "parameters": parameters.as_dict()},
    )
    return run


# --- the convener's page: queue a run, the task computes it ----------------------------------------


def fop_proposal_run_queue(*, cycle: Cycle, actor: User, parameters: ProposalParameters) -> FOPProposalRun:
    """Record a queued run and enqueue ``workshops.tasks.propose_fops`` once the transaction commits.

    Refused (``ProposalBusy``) while another run of the cycle is queued or running; runs lost (not
    heard from for ``core.jobs.STALE_AFTER``) are marked failed first so they do not block the cycle
    for ever.
    """
    check_convener(cycle, actor)
    with transaction.atomic():
        Cycle.objects.select_for_update().filter(pk=cycle.pk).first()
        FOPProposalRun.fail_stale(FOPProposalRun.objects.filter(cycle=cycle), error=NEVER_FINISHED)
        if active_run(cycle) is not None:
            raise ProposalBusy(ALREADY_RUNNING)
        run = FOPProposalRun.objects.create(
            cycle=cycle, parameters=parameters.as_dict(), created_by=actor, status=FOPProposalRun.Status.QUEUED
        )
        run_id, actor_id = run.pk, actor.pk
        # robust: in the embedded default the task runs here, in-process; an unexpected error in it
        # is logged and shown on the run instead of failing the convener's request.
        transaction.on_commit(lambda: _enqueue(run_id, actor_id), robust=True)
    return run


def active_run(cycle: Cycle) -> FOPProposalRun | None:
    return FOPProposalRun.objects.filter(cycle=cycle, status__in=ACTIVE).order_by("-id").first()


def _enqueue(run_id: int, actor_id: int | None) -> None:
    from workshops.fops.tasks import propose_fops  # noqa: PLC0415 - the tasks module imports this one

    try:
        propose_fops.delay(run_id, actor_id)
    except Exception:
        # The broker refused the task (eager mode records its own failures on the run first).
        _mark_failed(run_id, NOT_QUEUED, from_status=FOPProposalRun.Status.QUEUED)
        raise


def _mark_failed(run_id: int, error: str, *, from_status: str) -> None:
    FOPProposalRun.fail(run_id, error, from_statuses=(from_status,))


def fop_proposal_run_execute(*, run_id: int, actor_id: int | None) -> FOPProposalRun | None:
    """Compute a queued run (the task). Claimed with core.jobs' conditional UPDATE, so a run already
    taken, done or failed is left alone and a second execution changes nothing; returns None then.
    A run whose worker was lost (stale) is taken over.

    A ``ProposalError`` (no consensus, no embeddings) marks the run failed with its message; any
    other exception marks it failed with a generic message and is raised again for the worker's log.
    """
    if not FOPProposalRun.claim(run_id):
        return None
    run = FOPProposalRun.objects.select_related("cycle").get(pk=run_id)
    running = FOPProposalRun.Status.RUNNING
    try:
        actor = User.objects.filter(pk=actor_id).first() if actor_id is not None else None
        if actor_id is not None and actor is None:
            raise ProposalError(ACTOR_GONE)
        parameters = clean_parameters(**run.parameters)
        with FOPProposalRun.kept_alive(run_id):
            fop_propose(cycle=run.cycle, actor=actor, parameters=parameters, run=run)
    except ProposalError as exc:
        _mark_failed(run_id, str(exc), from_status=running)
    except PermissionDenied:
        _mark_failed(run_id, ACTOR_GONE, from_status=running)
    except Exception:
        _mark_failed(run_id, FAILED_UNEXPECTEDLY, from_status=running)
        raise
    run.refresh_from_db()
    return run

"""Propose FOPs from the consensus proficiencies.

``fop_propose`` reads what each role level needs, asks the ``propose_profiles`` provider
(matching.proposals: embeddings, clustering, names) for profiles, and replaces the earlier
proposals that nobody has touched. Ratified, in-review, returned, published, hand-made and
hand-edited FOPs are never changed.
"""

from __future__ import annotations

import time

from django.core.exceptions import PermissionDenied
from django.db import transaction

from accounts.models import User
from cycles.access import access_for
from cycles.models import AuditEvent, Cycle, RoleLevel
from workshops import fop_providers
from workshops.fop_policy import ROLE_CANNOT_EDIT
from workshops.fop_types import ProposalParameters, ProposedProfile
from workshops.models import FOP, FOPProposalRun
from workshops.selectors.fops import fop_proposal_inputs
from workshops.services.fops import fop_create

NO_CONSENSUS = "No capability has a consensus proficiency of Awareness or above yet: run the Delphi rounds first."
NO_PROPOSER = "FOP proposals need the matching app's embeddings, which are not available."
BAD_MAX_SIZE = "Profile size must be a whole number from 2 to 40."
BAD_MIN_SIZE = "Smallest profile must be a whole number from 1 to the profile size."
BAD_SIMILARITY = "Similarity must be a number from 0 to 1."


class ProposalError(Exception):
    pass


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


def fop_propose(*, cycle: Cycle, actor: User | None, parameters: ProposalParameters) -> FOPProposalRun:
    if actor is not None:
        access = access_for(actor, cycle)
        if access is None or not access.is_convener:
            raise PermissionDenied(ROLE_CANNOT_EDIT)
    levels = fop_proposal_inputs(cycle=cycle)
    if not any(level.capabilities for level in levels):
        raise ProposalError(NO_CONSENSUS)
    propose = fop_providers.get("propose_profiles")
    if propose is None:
        raise ProposalError(NO_PROPOSER)
    started = time.perf_counter()
    # The slow part (embeddings) runs outside the transaction; the write below is all or nothing.
    profiles = propose(levels, parameters)
    compute_s = time.perf_counter() - started
    return fop_proposals_replace(
        cycle=cycle,
        actor=actor,
        parameters=parameters,
        profiles=profiles,
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
) -> FOPProposalRun:
    # Lock the cycle so two runs at once cannot interleave their deletes and creates.
    Cycle.objects.select_for_update().filter(pk=cycle.pk).first()
    replaced = list(replaceable_proposals(cycle).values_list("pk", flat=True).distinct())
    kept = FOP.objects.filter(cycle=cycle, source=FOP.Source.PROPOSED).exclude(pk__in=replaced).count()
    FOP.objects.filter(pk__in=replaced).delete()
    run = FOPProposalRun.objects.create(cycle=cycle, parameters=parameters.as_dict(), created_by=actor)
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
    run.summary = {
        **summary,
        "created": len(created),
        "replaced": len(replaced),
        "kept": kept,
        "capabilities_placed": sum(len(p.entries) for p in profiles),
    }
    run.save(update_fields=["summary"])
    AuditEvent.objects.create(
        cycle=cycle,
        actor=actor,
        verb="fops_proposed",
        summary=f"{len(created)} FOPs proposed ({len(replaced)} earlier proposals replaced, {kept} kept)",
        detail={"run": run.pk, "parameters": parameters.as_dict()},
    )
    return run

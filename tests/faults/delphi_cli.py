"""Delphi set-up and inspection for the fault tests, run through ``django_cli`` (see there).

Everything goes through the Delphi services, as the product does; reads for the checks are plain
queries so they see exactly what is committed.
"""

from __future__ import annotations

from django.forms.models import model_to_dict


def open_round(*, cycle_id: int, convener_id: int, capabilities: int) -> dict:
    """Accept ``capabilities`` capabilities, let every panel role vote, and open round 1."""
    from accounts.models import User
    from cycles.models import Cycle
    from workshops.delphi.services import delphi_plan_ensure, delphi_plan_update, round_open
    from workshops.models import Capability

    cycle = Cycle.objects.get(pk=cycle_id)
    convener = User.objects.get(pk=convener_id)
    for n in range(capabilities):
        Capability.objects.create(
            cycle=cycle,
            ref=f"C{n + 1:02d}",
            statement=f"Operate process {n + 1} safely",
            status=Capability.Status.ACCEPTED,
        )
    plan = delphi_plan_ensure(cycle=cycle)
    delphi_plan_update(
        cycle=cycle, actor=convener, voting_roles=["technologist", "employer", "educator"], min_responses=plan.min_responses,
        agreement_threshold=plan.agreement_threshold, iqr_max=plan.iqr_max, stability_threshold=plan.stability_threshold,
        max_rounds=plan.max_rounds, feedback_mode="live", live_quorum=0,
    )  # fmt: skip
    rnd = round_open(cycle=cycle, actor=convener)
    return {"round_id": rnd.pk, "items": sorted(rnd.items.values_list("pk", flat=True))}


def round_state(*, round_id: int) -> dict:
    from workshops.models import Round, Vote, VoteReceipt

    rnd = Round.objects.get(pk=round_id)
    return {
        "status": rnd.status,
        "sequence": rnd.sequence,
        "aggregated_at": rnd.aggregated_at,
        "votes": list(Vote.objects.filter(round=rnd).order_by("pk").values_list("panellist_id", "item_id", "value")),
        "receipts": list(
            VoteReceipt.objects.filter(round=rnd)
            .order_by("pk")
            .values_list("panellist_id", "client_id", "item_id", "value")
        ),
    }


def close_round(*, round_id: int, convener_id: int) -> dict:
    """Close the round; the aggregation task goes to the real broker after commit."""
    from accounts.models import User
    from workshops.delphi.services import round_close

    rnd = round_close(round_id=round_id, actor=User.objects.get(pk=convener_id))
    return {"status": rnd.status, "sequence": rnd.sequence}


def results(*, round_id: int) -> list[dict]:
    from workshops.models import ItemResult

    rows = []
    for result in ItemResult.objects.filter(round_id=round_id).order_by("item_id"):
        row = model_to_dict(result)
        row.pop("id")
        rows.append(row)
    return rows


def aggregate_now(*, round_id: int) -> list[dict]:
    """A clean run of the aggregation, in this process, then the stored results."""
    from workshops.delphi.aggregation import round_aggregate

    round_aggregate(round_id=round_id)
    return results(round_id=round_id)

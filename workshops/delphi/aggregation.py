"""Aggregation of a Delphi round: per-item statistics, consensus, stability and per-round figures.

Definitions (also in docs/realtime.md and the Delphi report page):

* **Quartiles** are numpy's default ``linear`` method (Hyndman & Fan type 7, R's default): for
  the n sorted answers x₀…xₙ₋₁ the p-quantile is x at position h = (n − 1)·p, interpolating
  linearly between the neighbouring answers. The median is the 0.5-quantile; IQR = Q3 − Q1.
* **Agreement** is the share of answers equal to the modal value.
* **Modal value** ties are broken conservatively: among the tied values, the one closest to the
  median; if still tied, the lower proficiency (never overstate a requirement).
* **Consensus**: n ≥ minimum responses, agreement ≥ threshold and IQR ≤ maximum IQR. The consensus
  value is the modal value.
* **Changed share**: of the panellists who answered the item in this round and the previous one,
  the share whose answer differs. **Stable** when that share is below the plan's stability
  threshold and at least ``min_responses`` panellists answered in both rounds.

The arithmetic is vectorised over every item of the round at once (answers are 0–3, so a
quantile is read off cumulative counts instead of sorting), which is what keeps 1,000 items ×
50 panellists well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import OrganisationGroup
from cycles.models import Membership
from workshops.models import DelphiItem, DelphiPlan, ItemResult, Round, Vote

VALUES = 4  # Not needed 0 … Expert 3
STAKEHOLDER_GROUPS = [OrganisationGroup.TECHNOLOGY, OrganisationGroup.INDUSTRY, OrganisationGroup.SKILLS]
ROUND_NOT_CLOSED = "Only a closed round can be aggregated."


@dataclass(frozen=True)
class Rule:
    min_responses: int = 3
    agreement_threshold: float = 0.70
    iqr_max: float = 1.0
    stability_threshold: float = 0.15

    @classmethod
    def from_plan(cls, plan: DelphiPlan) -> Rule:
        return cls(
            min_responses=plan.min_responses,
            agreement_threshold=plan.agreement_threshold,
            iqr_max=plan.iqr_max,
            stability_threshold=plan.stability_threshold,
        )


def _quantile_from_counts(counts: np.ndarray, p: float) -> np.ndarray:
    """numpy 'linear' quantile of each row's answers, given as counts of the values 0–3."""
    n = counts.sum(axis=1)
    cum = counts.cumsum(axis=1)
    h = np.maximum(n - 1, 0) * p
    lo = np.floor(h)
    hi = np.minimum(lo + 1, np.maximum(n - 1, 0))

    def value_at(k: np.ndarray) -> np.ndarray:
        # The k-th smallest answer is the number of values whose cumulative count is ≤ k.
        return (cum <= k[:, None]).sum(axis=1).astype(float)

    lo_v, hi_v = value_at(lo), value_at(hi)
    result = lo_v + (h - lo) * (hi_v - lo_v)
    return np.where(n > 0, result, np.nan)


def item_statistics(counts: np.ndarray, rule: Rule) -> dict[str, np.ndarray]:
    """Statistics for every row of ``counts`` (shape items × 4)."""
    counts = np.asarray(counts, dtype=np.int64).reshape(-1, VALUES)
    n = counts.sum(axis=1)
    median = _quantile_from_counts(counts, 0.5)
    q1 = _quantile_from_counts(counts, 0.25)
    q3 = _quantile_from_counts(counts, 0.75)
    iqr = q3 - q1
    top = counts.max(axis=1)
    tied = (counts == top[:, None]) & (n[:, None] > 0)
    # Conservative tie rule: closest to the median, then the lower value.
    distance = np.abs(np.arange(VALUES)[None, :] - np.nan_to_num(median)[:, None])
    score = np.where(tied, distance * 10 + np.arange(VALUES)[None, :] * 0.01, np.inf)
    modal = score.argmin(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        agreement = np.where(n > 0, top / np.maximum(n, 1), np.nan)
    consensus = (
        (n >= rule.min_responses) & (agreement >= rule.agreement_threshold - 1e-9) & (iqr <= rule.iqr_max + 1e-9)
    )
    return {
        "n": n,
        "median": median,
        "q1": q1,
        "q3": q3,
        "iqr": iqr,
        "agreement": agreement,
        "modal": np.where(n > 0, modal, -1),
        "consensus": consensus & (n > 0),
    }


def _votes_frame(round_id: int) -> pd.DataFrame:
    """The round's answers as a frame; read with one cursor, not row by row through the ORM."""
    query = Vote.objects.filter(round_id=round_id).values_list("item_id", "panellist_id", "value")
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return pd.DataFrame(rows, columns=["item", "panellist", "value"], dtype=np.int64)


def _num(value) -> float | None:
    value = float(value)
    return None if np.isnan(value) else round(value, 6)


def _voters(cycle_id: int, roles: list[str]) -> dict[int, str]:
    """Active members with a voting role, mapped to their stakeholder group."""
    rows = Membership.objects.filter(cycle_id=cycle_id, status=Membership.Status.ACTIVE, role__in=roles).values_list(
        "user_id", "user__organisation__group"
    )
    return {user_id: group or "" for user_id, group in rows}


def _groups_of(user_ids) -> dict[int, str]:
    from accounts.models import User

    return {
        pk: group or ""
        for pk, group in User.objects.filter(pk__in=list(user_ids)).values_list("pk", "organisation__group")
    }


def round_aggregate(*, round_id: int) -> dict:
    """Compute and store the results of a closed round. Idempotent: a second run gives the same rows."""
    with transaction.atomic():
        rnd = Round.objects.select_for_update().select_related("cycle").get(pk=round_id)
        if rnd.status != Round.Status.CLOSED:
            raise ValueError(ROUND_NOT_CLOSED)
        plan = DelphiPlan.objects.get(cycle_id=rnd.cycle_id)
        rule = Rule.from_plan(plan)
        item_ids = np.array(sorted(rnd.items.values_list("pk", flat=True)), dtype=np.int64)
        index = {int(pk): i for i, pk in enumerate(item_ids)}
        votes = _votes_frame(rnd.pk)
        votes = votes[votes["item"].isin(list(index))].copy()
        votes["row"] = votes["item"].map(index)
        counts = np.zeros((len(item_ids), VALUES), dtype=np.int64)
        np.add.at(counts, (votes["row"].to_numpy(), votes["value"].to_numpy()), 1)
        stats = item_statistics(counts, rule)

        previous = Round.objects.filter(cycle_id=rnd.cycle_id, number=rnd.number - 1).first()
        changed = np.full(len(item_ids), np.nan)
        n_both = np.zeros(len(item_ids), dtype=np.int64)
        if previous is not None and len(votes):
            both = votes.merge(_votes_frame(previous.pk), on=["item", "panellist"], suffixes=("", "_before"))
            if len(both):
                both["changed"] = both["value"] != both["value_before"]
                per_item = both.groupby("row")["changed"].agg(["size", "sum"])
                rows = per_item.index.to_numpy()
                n_both[rows] = per_item["size"].to_numpy()
                changed[rows] = per_item["sum"].to_numpy() / per_item["size"].to_numpy()
        stable = (n_both >= rule.min_responses) & (changed < rule.stability_threshold - 1e-9)

        groups = _groups_of(votes["panellist"].unique().tolist())
        votes["group"] = votes["panellist"].map(lambda pk: groups.get(pk) or "other")
        group_counts: list[dict[str, list[int]]] = [{} for _ in item_ids]
        for (row, group, value), n in votes.groupby(["row", "group", "value"]).size().items():
            group_counts[row].setdefault(group, [0, 0, 0, 0])[int(value)] = int(n)
        votes = list(votes[["item", "panellist", "value"]].itertuples(index=False, name=None))

        results = []
        for row, item_id in enumerate(item_ids):
            consensus = bool(stats["consensus"][row])
            modal = int(stats["modal"][row])
            results.append(
                ItemResult(
                    round=rnd,
                    item_id=int(item_id),
                    n=int(stats["n"][row]),
                    counts=[int(c) for c in counts[row]],
                    median=_num(stats["median"][row]),
                    q1=_num(stats["q1"][row]),
                    q3=_num(stats["q3"][row]),
                    iqr=_num(stats["iqr"][row]),
                    agreement=_num(stats["agreement"][row]),
                    modal_value=modal if modal >= 0 else None,
                    consensus=consensus,
                    consensus_value=modal if consensus else None,
                    changed_share=_num(changed[row]),
                    n_both=int(n_both[row]),
                    stable=bool(stable[row]),
                    group_counts=group_counts[row],
                )
            )
        ItemResult.objects.filter(round=rnd).exclude(item_id__in=[int(i) for i in item_ids]).delete()
        ItemResult.objects.bulk_create(
            results,
            update_conflicts=True,
            unique_fields=["round", "item"],
            update_fields=[
                "n", "counts", "median", "q1", "q3", "iqr", "agreement", "modal_value", "consensus",
                "consensus_value", "changed_share", "n_both", "stable", "group_counts",
            ],
        )  # fmt: skip
        _set_outcomes(rnd, plan, results)
        rnd.summary = _round_summary(rnd, plan, previous, votes, results)
        rnd.aggregated_at = rnd.closed_at or timezone.now()
        rnd.save(update_fields=["summary", "aggregated_at"])
    return rnd.summary


def _set_outcomes(rnd: Round, plan: DelphiPlan, results: list[ItemResult]) -> None:
    later = set(Round.objects.filter(cycle_id=rnd.cycle_id, number__gt=rnd.number).values_list("items__pk", flat=True))
    last_round = rnd.number >= plan.max_rounds
    # A handful of grouped UPDATEs (one per outcome and value) instead of one row at a time.
    groups: dict[tuple, list[int]] = {}
    for result in results:
        if result.item_id in later:
            continue  # a later round decides this item
        if result.consensus:
            key = (DelphiItem.Outcome.CONSENSUS.value, result.consensus_value, rnd.number)
        elif result.stable:
            key = (DelphiItem.Outcome.STABLE.value, None, rnd.number)
        elif last_round:
            key = (DelphiItem.Outcome.NO_CONSENSUS.value, None, rnd.number)
        else:
            key = ("", None, None)
        groups.setdefault(key, []).append(result.item_id)
    for (outcome, value, number), ids in groups.items():
        DelphiItem.objects.filter(pk__in=ids).update(outcome=outcome, consensus_value=value, outcome_round=number)


def _round_summary(rnd: Round, plan: DelphiPlan, previous: Round | None, votes, results) -> dict:
    voters = _voters(rnd.cycle_id, plan.voting_roles)
    responded = {p for _, p, _ in votes}
    per_panellist: dict[int, int] = {}
    for _, p, _ in votes:
        per_panellist[p] = per_panellist.get(p, 0) + 1
    n_items = len(results)
    groups = _groups_of(responded | set(voters))
    prev_responded = (
        set(Vote.objects.filter(round=previous).values_list("panellist_id", flat=True).distinct())
        if previous
        else set()
    )
    groups.update(_groups_of(prev_responded - set(groups)))

    def by_group(ids) -> dict[str, int]:
        out = {str(g): 0 for g in STAKEHOLDER_GROUPS}
        for pk in ids:
            key = groups.get(pk) or "other"
            out[key] = out.get(key, 0) + 1
        return out

    dropped = prev_responded - responded if previous else set()
    reached = sum(1 for r in results if r.consensus)
    stable = sum(1 for r in results if r.stable and not r.consensus)
    last_round = rnd.number >= plan.max_rounds
    carried = 0 if last_round else sum(1 for r in results if not r.consensus and not r.stable)
    return {
        "round": rnd.number,
        "plan": {
            "min_responses": plan.min_responses,
            "agreement_threshold": plan.agreement_threshold,
            "iqr_max": plan.iqr_max,
            "stability_threshold": plan.stability_threshold,
            "max_rounds": plan.max_rounds,
            "feedback_mode": plan.feedback_mode,
            "voting_roles": list(plan.voting_roles),
            "quantile_method": "numpy linear (Hyndman-Fan type 7)",
            "modal_tie_rule": "closest to the median, then the lower value",
        },
        "items": n_items,
        "votes": len(votes),
        "eligible": len(voters),
        "responded": len(responded),
        "completed": sum(1 for c in per_panellist.values() if c >= n_items and n_items),
        "response_rate": round(len(responded) / len(voters), 4) if voters else None,
        "eligible_by_group": by_group(voters),
        "responded_by_group": by_group(responded),
        "previous_responded": len(prev_responded),
        "attrition": len(dropped),
        "attrition_by_group": by_group(dropped),
        "attrition_rate": round(len(dropped) / len(prev_responded), 4) if prev_responded else None,
        "items_reached": reached,
        "items_stable": stable,
        "items_carried": carried,
        "items_no_consensus": (n_items - reached - stable) if last_round else 0,
    }

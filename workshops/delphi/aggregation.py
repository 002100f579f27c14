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
* **Lineage**: an item is paired with the item of the previous round it came from — itself, or the
  item it was reworded or split from; a merged or added item has no pairs in its first round
  (``workshops/delphi/lineage.py``).
* **Movement between rounds**: beside the stability rule, a Wilcoxon signed-rank test
  (``scipy.stats.wilcoxon``) of the paired answers (this round against the previous, panellists
  who answered both) per item and, pooled over every item, per round. Unchanged pairs are
  dropped (``zero_method="wilcox"``); the p-value is the normal approximation with tie
  correction (``method="asymptotic"``): answers on a four-point scale are nearly always tied, and
  scipy's default for fewer than about 15 pairs is then a permutation test costing up to a second
  per item. No p-value when no answer moved.
* **"I can't judge this"** answers (where the plan offers them) are counted per item and group
  and count as responses (a panellist who answered every item so has completed the round), but
  are left out of n, the distribution, median, IQR, agreement, consensus and stability.
* **Per stakeholder group** (technology, industry, skills: the group of each panellist's
  organisation) the same rule is applied to the group's answers alone; a group with fewer than
  ``MIN_ANSWERS_SHOWN`` answers is suppressed (no statistics, left out of every comparison).
  **Divergent** when two shown groups' medians differ by a level or more, or a group reaches
  consensus on a value that more than half of another shown group's answers differ from. With
  the plan's ``require_group_consensus`` an item is agreed only when, besides the panel as a
  whole, every shown group reaches consensus on the panel's value (``panel_consensus`` keeps the
  panel-only result).

The arithmetic is vectorised over every item of the round at once (answers are 0–3, so a
quantile is read off cumulative counts instead of sorting), which is what keeps 1,000 items ×
50 panellists well under a second.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy
from django.db import connection, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone
from scipy import stats

from accounts.models import OrganisationGroup
from cycles.models import Membership
from workshops.delphi.lineage import paired_items
from workshops.models import DelphiItem, DelphiPlan, ItemResult, Round, Vote

VALUES = 4  # Not needed 0 … Expert 3
STAKEHOLDER_GROUPS = [OrganisationGroup.TECHNOLOGY, OrganisationGroup.INDUSTRY, OrganisationGroup.SKILLS]
ROUND_NOT_CLOSED = "Only a closed round can be aggregated."
#: The anonymity floor: the fewest answers whose distribution a panellist may see (per item, and
#: per stakeholder group within an item). The one constant (re-exported by the selectors); the plan
#: screen and docs quote it. A group below it is also left out of group consensus and divergence.
MIN_ANSWERS_SHOWN = 3
#: How answers are tested for movement between rounds (recorded with every round's summary).
WILCOXON_METHOD = "asymptotic"
WILCOXON_ZERO_METHOD = "wilcox"
#: Groups' medians this far apart (in proficiency levels) or more make an item divergent.
DIVERGENT_MEDIANS = 1.0


@dataclass(frozen=True)
class Rule:
    min_responses: int = 3
    agreement_threshold: float = 0.70
    iqr_max: float = 1.0
    stability_threshold: float = 0.15
    require_group_consensus: bool = False

    @classmethod
    def from_plan(cls, plan: DelphiPlan) -> Rule:
        return cls(
            min_responses=plan.min_responses,
            agreement_threshold=plan.agreement_threshold,
            iqr_max=plan.iqr_max,
            stability_threshold=plan.stability_threshold,
            require_group_consensus=plan.require_group_consensus,
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


def group_statistics(counts_by_group: dict[str, np.ndarray], rule: Rule) -> list[dict[str, dict]]:
    """Per item (row of every group's items × 4 counts), per stakeholder group: the consensus rule
    applied to that group's answers. A group with fewer than ``MIN_ANSWERS_SHOWN`` answers gets
    ``{"n": n, "shown": False}`` only; a group without answers is left out."""
    rows: list[dict[str, dict]] | None = None
    for group, counts in counts_by_group.items():
        counts = np.asarray(counts, dtype=np.int64).reshape(-1, VALUES)
        if rows is None:
            rows = [{} for _ in range(len(counts))]
        stats = item_statistics(counts, rule)
        for row in range(len(counts)):
            n = int(stats["n"][row])
            if n == 0:
                continue
            if n < MIN_ANSWERS_SHOWN:
                rows[row][str(group)] = {"n": n, "shown": False}
                continue
            consensus = bool(stats["consensus"][row])
            modal = int(stats["modal"][row])
            rows[row][str(group)] = {
                "n": n,
                "shown": True,
                "median": _num(stats["median"][row]),
                "iqr": _num(stats["iqr"][row]),
                "agreement": _num(stats["agreement"][row]),
                "modal": modal,
                "consensus": consensus,
                "value": modal if consensus else None,
                "counts": [int(c) for c in counts[row]],
            }
    return rows or []


def hidden_groups(answers: dict[str, int]) -> set[str]:
    """The stakeholder groups a panellist may not see split out, given each group's number of
    answers to an item: every group below the floor, and — because the hidden groups' answers are
    the item's own counts minus the shown groups' — while the hidden groups together hold fewer
    than ``MIN_ANSWERS_SHOWN`` answers, the smallest shown group too."""
    hidden = {g for g, n in answers.items() if 0 < n < MIN_ANSWERS_SHOWN}
    shown = sorted((n, g) for g, n in answers.items() if n >= MIN_ANSWERS_SHOWN)
    while hidden and shown and sum(answers[g] for g in hidden) < MIN_ANSWERS_SHOWN:
        hidden.add(shown.pop(0)[1])
    return hidden


def divergence_of(groups: dict[str, dict]) -> list[dict]:
    """Why the shown stakeholder groups of one item diverge (empty: they do not)."""
    shown = {g: s for g, s in groups.items() if s.get("shown")}
    reasons: list[dict] = []
    if len(shown) < 2:
        return reasons
    high = max(shown, key=lambda g: (shown[g]["median"], g))
    low = min(shown, key=lambda g: (shown[g]["median"], g))
    difference = shown[high]["median"] - shown[low]["median"]
    if difference >= DIVERGENT_MEDIANS - 1e-9:
        reasons.append({"kind": "median", "high": high, "low": low, "difference": round(difference, 6)})
    for group, agreed in shown.items():
        if not agreed["consensus"]:
            continue
        for other, other_stats in shown.items():
            if other == group:
                continue
            share = 1 - other_stats["counts"][agreed["value"]] / other_stats["n"]
            if share > 0.5 + 1e-9:
                reasons.append(
                    {
                        "kind": "rejected",
                        "group": group,
                        "value": agreed["value"],
                        "by": other,
                        "share": round(share, 6),
                    }
                )
    return reasons


def every_group_agrees(groups: dict[str, dict], value: int) -> bool:
    """The plan's every-group requirement: each shown group reached consensus on ``value``."""
    return all(s["consensus"] and s["value"] == value for s in groups.values() if s.get("shown"))


def wilcoxon_test(after, before) -> dict:
    """The Wilcoxon signed-rank test of paired answers (``after[i]`` and ``before[i]`` from one
    panellist): ``pairs``, ``changed`` (pairs whose answer moved), ``statistic`` and ``p`` (None
    when no answer moved)."""
    after, before = np.asarray(after, dtype=float), np.asarray(before, dtype=float)
    changed = int((after != before).sum())
    out = {"pairs": int(len(after)), "changed": changed, "statistic": None, "p": None}
    if changed:
        result = stats.wilcoxon(after, before, zero_method=WILCOXON_ZERO_METHOD, method=WILCOXON_METHOD)
        out.update(statistic=_num(result.statistic), p=_num(result.pvalue))
    return out


def _wilcoxon_by_row(both: pd.DataFrame, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Per item row, the test of its paired answers: one vectorised scipy call per number of pairs
    (a round's items mostly share a few), instead of one call per item."""
    statistic, p = np.full(rows, np.nan), np.full(rows, np.nan)
    moved = both[both["value"] != both["value_before"]]["row"].unique()
    pairs = both[both["row"].isin(moved)].sort_values(["row", "panellist"])
    for _, same_size in pairs.groupby(pairs.groupby("row")["row"].transform("size")):
        ids = same_size["row"].unique()
        after = same_size["value"].to_numpy(float).reshape(len(ids), -1)
        before = same_size["value_before"].to_numpy(float).reshape(len(ids), -1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            result = stats.wilcoxon(after, before, axis=1, zero_method=WILCOXON_ZERO_METHOD, method=WILCOXON_METHOD)
        statistic[ids], p[ids] = np.atleast_1d(result.statistic), np.atleast_1d(result.pvalue)
    return statistic, p


def _votes_frame(round_id: int, *, cant_judge: bool = False) -> pd.DataFrame:
    """The round's proficiency answers (or, with ``cant_judge``, its "I can't judge this" answers,
    value 0) as a frame; read with one cursor, not row by row through the ORM."""
    query = Vote.objects.filter(round_id=round_id, cant_judge=cant_judge).values_list(
        "item_id", "panellist_id", Coalesce("value", 0)
    )
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
        # "I can't judge this": counted per item and group, and in who responded, never in n, the
        # statistics or the stability (they are not paired with anything).
        unjudged = _votes_frame(rnd.pk, cant_judge=True)
        unjudged = unjudged[unjudged["item"].isin(list(index))].copy()
        votes["row"] = votes["item"].map(index)
        counts = np.zeros((len(item_ids), VALUES), dtype=np.int64)
        np.add.at(counts, (votes["row"].to_numpy(), votes["value"].to_numpy()), 1)
        stats = item_statistics(counts, rule)

        previous = Round.objects.filter(cycle_id=rnd.cycle_id, number=rnd.number - 1).first()
        changed = np.full(len(item_ids), np.nan)
        n_both = np.zeros(len(item_ids), dtype=np.int64)
        w_statistic, w_p = np.full(len(item_ids), np.nan), np.full(len(item_ids), np.nan)
        movement = None
        if previous is not None and len(votes):
            # Each item is paired with the item of the previous round it came from (itself, or the
            # one it was reworded or split from: workshops/delphi/lineage.py).
            pairs = paired_items(cycle_id=rnd.cycle_id, item_ids=item_ids.tolist(), previous=previous)
            lineage = pd.DataFrame(list(pairs.items()), columns=["item", "before_item"], dtype=np.int64)
            before = _votes_frame(previous.pk).rename(columns={"item": "before_item"}).merge(lineage, on="before_item")
            before = before[["item", "panellist", "value"]]
            both = votes.merge(before, on=["item", "panellist"], suffixes=("", "_before"))
            movement = wilcoxon_test(both["value"], both["value_before"])
            if len(both):
                w_statistic, w_p = _wilcoxon_by_row(both, len(item_ids))
                both["changed"] = both["value"] != both["value_before"]
                per_item = both.groupby("row")["changed"].agg(["size", "sum"])
                rows = per_item.index.to_numpy()
                n_both[rows] = per_item["size"].to_numpy()
                changed[rows] = per_item["sum"].to_numpy() / per_item["size"].to_numpy()
        stable = (n_both >= rule.min_responses) & (changed < rule.stability_threshold - 1e-9)

        groups = _groups_of(set(votes["panellist"].unique().tolist()) | set(unjudged["panellist"].unique().tolist()))
        votes["group"] = votes["panellist"].map(lambda pk: groups.get(pk) or "other")
        cant_judge = np.zeros(len(item_ids), dtype=np.int64)
        group_cant_judge: list[dict[str, int]] = [{} for _ in item_ids]
        for (item_id, panellist), _ in unjudged.groupby(["item", "panellist"]).size().items():
            row, group = index[int(item_id)], groups.get(int(panellist)) or "other"
            cant_judge[row] += 1
            group_cant_judge[row][group] = group_cant_judge[row].get(group, 0) + 1
        group_counts: list[dict[str, list[int]]] = [{} for _ in item_ids]
        for (row, group, value), n in votes.groupby(["row", "group", "value"]).size().items():
            group_counts[row].setdefault(group, [0, 0, 0, 0])[int(value)] = int(n)
        by_group = {}
        for group in STAKEHOLDER_GROUPS:
            mine = votes[votes["group"] == str(group)]
            group_matrix = np.zeros((len(item_ids), VALUES), dtype=np.int64)
            np.add.at(group_matrix, (mine["row"].to_numpy(np.int64), mine["value"].to_numpy(np.int64)), 1)
            by_group[str(group)] = group_matrix
        groups = group_statistics(by_group, rule) if len(item_ids) else []
        votes = list(votes[["item", "panellist", "value"]].itertuples(index=False, name=None))
        responses = votes + list(unjudged[["item", "panellist", "value"]].itertuples(index=False, name=None))

        results = []
        for row, item_id in enumerate(item_ids):
            panel_consensus = bool(stats["consensus"][row])
            modal = int(stats["modal"][row])
            consensus = panel_consensus and (not rule.require_group_consensus or every_group_agrees(groups[row], modal))
            divergence = divergence_of(groups[row])
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
                    panel_consensus=panel_consensus,
                    group_stats=groups[row],
                    divergence=divergence,
                    divergent=bool(divergence),
                    cant_judge=int(cant_judge[row]),
                    group_cant_judge=group_cant_judge[row],
                    wilcoxon_statistic=_num(w_statistic[row]),
                    wilcoxon_p=_num(w_p[row]),
                )
            )
        ItemResult.objects.filter(round=rnd).exclude(item_id__in=[int(i) for i in item_ids]).delete()
        ItemResult.objects.bulk_create(
            results,
            update_conflicts=True,
            unique_fields=["round", "item"],
            update_fields=[
                "n", "counts", "median", "q1", "q3", "iqr", "agreement", "modal_value", "consensus",
                "consensus_value", "changed_share", "n_both", "stable", "group_counts", "panel_consensus",
                "group_stats", "divergence", "divergent", "cant_judge", "group_cant_judge",
                "wilcoxon_statistic", "wilcoxon_p",
            ],
        )  # fmt: skip
        _set_outcomes(rnd, plan, results)
        rnd.summary = _round_summary(rnd, plan, previous, responses, results)
        rnd.summary["wilcoxon"] = movement and {
            **movement,
            "method": f"scipy.stats.wilcoxon {scipy.__version__}, method={WILCOXON_METHOD}, zero_method={WILCOXON_ZERO_METHOD}",
        }
        rnd.aggregated_at = rnd.closed_at or timezone.now()
        rnd.save(update_fields=["summary", "aggregated_at"])
    return rnd.summary


def _set_outcomes(rnd: Round, plan: DelphiPlan, results: list[ItemResult]) -> None:
    later = set(Round.objects.filter(cycle_id=rnd.cycle_id, number__gt=rnd.number).values_list("items__pk", flat=True))
    last_round = rnd.number >= plan.max_rounds
    # The convener replaced or dropped these between rounds: that is their outcome, whatever a rerun says.
    later |= set(
        DelphiItem.objects.filter(
            cycle_id=rnd.cycle_id, outcome__in=[DelphiItem.Outcome.REPLACED, DelphiItem.Outcome.DROPPED]
        ).values_list("pk", flat=True)
    )
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
            "require_group_consensus": plan.require_group_consensus,
            "allow_cant_judge": plan.allow_cant_judge,
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
        # Met by the panel as a whole but not in every stakeholder group (the plan required it).
        "items_held_back_by_groups": sum(1 for r in results if r.panel_consensus and not r.consensus),
        "items_divergent": sum(1 for r in results if r.divergent),
        "cant_judge": sum(r.cant_judge for r in results),
    }

"""Reads of the Delphi: who may see a round, its progress, snapshots, grids, feedback and results.

Anonymity is decided here: nothing returned to a panellist carries another panellist's answer;
distributions are counts only, and a panellist never sees the distribution (counts, median,
IQR, agreement, the value reached) of an item with fewer than ``MIN_ANSWERS_SHOWN`` answers —
live or after the round closed — nor counts of a stakeholder group with fewer (with two answers,
each panellist could read the other's). The convener sees everything. Only the convener's views
list individual answers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest

from accounts.models import OrganisationGroup, User
from cycles.access import Access, access_for, get_cycle_for_member
from cycles.models import Cycle, Membership, Role, RoleLevel
from cycles.selectors import DashboardScope, WaitingItem
from workshops.delphi.aggregation import Rule, item_statistics
from workshops.models import PROFICIENCY_CODES, DelphiItem, DelphiPlan, ItemResult, Proficiency, Round, Vote

#: The anonymity floor: the fewest answers whose distribution a panellist may see (per item, and
#: per stakeholder group within an item). The one constant; the plan screen and docs quote it.
MIN_ANSWERS_SHOWN = 3
GROUP_MIN_ANSWERS = MIN_ANSWERS_SHOWN  # the same floor, by its older name
ROUND_NOT_IN_CYCLE = "There is no such round in this cycle."
NO_GROUP = "No group"
#: The provisional status of an item on the convener's boards, in words (colour is never the only cue).
BOARD_STATUS_LABELS = {
    "consensus": "Consensus",
    "stable": "Stable",
    "open": "No consensus yet",
    "empty": "No answers yet",
}


@dataclass(frozen=True)
class RoundAccess:
    round: Round
    plan: DelphiPlan
    access: Access

    @property
    def is_convener(self) -> bool:
        return self.access.is_convener

    @property
    def can_vote(self) -> bool:
        return self.access.membership is not None and self.access.role in self.plan.voting_roles


def plan_for(cycle: Cycle) -> DelphiPlan:
    """The cycle's plan, or an unsaved one with the defaults (reads never write)."""
    from workshops.delphi.services import DEFAULT_VOTING_ROLES

    plan = DelphiPlan.objects.filter(cycle=cycle).first()
    return plan or DelphiPlan(cycle=cycle, voting_roles=list(DEFAULT_VOTING_ROLES))


def round_access(*, user: User | AnonymousUser, round_id: int) -> RoundAccess | None:
    """A member's access to a round (for the websocket), or None when they have none."""
    rnd = Round.objects.select_related("cycle").filter(pk=round_id).first()
    if rnd is None:
        return None
    access = access_for(user, rnd.cycle)
    if access is None:
        return None
    return RoundAccess(round=rnd, plan=plan_for(rnd.cycle), access=access)


def get_round_for_member(
    request: HttpRequest, slug: str, number: int, roles: Iterable[str] | None = None
) -> RoundAccess:
    """View helper: 404 for outsiders or a missing round, 403 for a role not allowed."""
    access = get_cycle_for_member(request, slug, roles=roles)
    rnd = Round.objects.filter(cycle=access.cycle, number=number).first()
    if rnd is None:
        raise Http404(ROUND_NOT_IN_CYCLE)
    return RoundAccess(round=rnd, plan=plan_for(access.cycle), access=access)


def items_count(cycle: Cycle) -> int:
    return DelphiItem.objects.filter(cycle=cycle).count()


def items_by_ids(item_ids: list[int]) -> list[DelphiItem]:
    """The items, with their capability and role level, in capability then role-level order."""
    return list(
        DelphiItem.objects.filter(pk__in=item_ids)
        .select_related("capability", "role_level")
        .order_by("capability__ref", "role_level__order")
    )


def round_item_count(rnd: Round) -> int:
    return rnd.items.count()


def rounds_of(cycle: Cycle) -> QuerySet[Round]:
    return Round.objects.filter(cycle=cycle).annotate(n_items=Count("items", distinct=True)).order_by("number")


def current_round(cycle: Cycle) -> Round | None:
    return Round.objects.filter(cycle=cycle).order_by("-number").first()


def voter_ids(cycle_id: int, plan: DelphiPlan) -> list[int]:
    return list(
        Membership.objects.filter(cycle_id=cycle_id, status=Membership.Status.ACTIVE, role__in=plan.voting_roles)
        .order_by()
        .values_list("user_id", flat=True)
    )


# --- Live state ----------------------------------------------------------------------------------


def round_counts(round_id: int) -> dict[int, list[int]]:
    """Answers per value 0–3 for every item of the round (counts only, never who)."""
    counts: dict[int, list[int]] = {pk: [0, 0, 0, 0] for pk in Round.items.through.objects.filter(
        round_id=round_id).values_list("delphiitem_id", flat=True)}  # fmt: skip
    for item_id, value, n in (
        Vote.objects.filter(round_id=round_id).values_list("item_id", "value").annotate(n=Count("id"))
    ):
        counts.setdefault(item_id, [0, 0, 0, 0])[value] = n
    return counts


def round_progress(*, rnd: Round, plan: DelphiPlan, counts: dict[int, list[int]] | None = None) -> dict:
    counts = counts if counts is not None else round_counts(rnd.pk)
    n_items = len(counts)
    per_panellist = list(
        Vote.objects.filter(round_id=rnd.pk)
        .order_by()
        .values("panellist")
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
    )
    eligible = (
        Membership.objects.filter(cycle_id=rnd.cycle_id, status=Membership.Status.ACTIVE, role__in=plan.voting_roles)
        .order_by()
        .count()
    )
    return {
        "type": "progress",
        "round": rnd.pk,
        "sequence": rnd.sequence,
        "status": rnd.shown_status,
        "answers": {str(k): sum(v) for k, v in counts.items()},
        "panellists": {
            "eligible": eligible,
            "started": len(per_panellist),
            "finished": sum(1 for n in per_panellist if n >= n_items and n_items),
        },
    }


def distributions_visible(*, rnd: Round, plan: DelphiPlan, is_convener: bool) -> bool:
    """Whether a viewer may see group distributions of this round now."""
    if is_convener:
        return True
    if rnd.status == Round.Status.CLOSED:
        return rnd.results_revealed
    return plan.is_live and rnd.results_revealed


def public_quorum(plan: DelphiPlan) -> int:
    """The answers an item needs before panellists see its distribution: the plan's live quorum,
    never below the anonymity floor."""
    return max(plan.live_quorum, MIN_ANSWERS_SHOWN)


def shown_to(*, n: int | None, is_convener: bool) -> bool:
    """Whether a viewer may see the distribution (and statistics) of ``n`` answers."""
    return is_convener or (n or 0) >= MIN_ANSWERS_SHOWN


def round_distributions(*, rnd: Round, plan: DelphiPlan, counts: dict[int, list[int]] | None = None,
                        is_convener: bool = False) -> dict[str, list[int]]:  # fmt: skip
    """Counts per item: every item with answers for the convener; for panellists only items with
    at least ``public_quorum`` answers (the live quorum, never below the anonymity floor)."""
    counts = counts if counts is not None else round_counts(rnd.pk)
    quorum = 1 if is_convener else public_quorum(plan)
    return {str(k): v for k, v in counts.items() if sum(v) >= quorum}


def round_snapshot(*, view: RoundAccess, user: User | AnonymousUser) -> dict:
    """Everything a client needs to (re)draw a round. The round is read first, so the sequence
    it carries is never newer than the state that follows it."""
    rnd = Round.objects.get(pk=view.round.pk)
    plan = view.plan
    is_convener = view.is_convener
    counts = round_counts(rnd.pk)
    progress = round_progress(rnd=rnd, plan=plan, counts=counts)
    mine = {
        str(item_id): {"value": value, "rationale": rationale}
        for item_id, value, rationale in Vote.objects.filter(round_id=rnd.pk, panellist_id=user.pk)
        .order_by()
        .values_list("item_id", "value", "rationale")
    }
    visible = distributions_visible(rnd=rnd, plan=plan, is_convener=is_convener)
    return {
        "type": "snapshot",
        "round": rnd.pk,
        "number": rnd.number,
        "status": rnd.shown_status,
        "sequence": progress["sequence"],
        "deadline": rnd.deadline.isoformat() if rnd.deadline else None,
        "feedback_mode": plan.feedback_mode,
        "revealed": rnd.results_revealed,
        "discussing": rnd.discussing_id,
        "can_vote": view.can_vote and rnd.is_open,
        "items": sorted(int(k) for k in counts),
        "mine": mine,
        "progress": {"answers": progress["answers"], "panellists": progress["panellists"]},
        "distributions": (
            round_distributions(rnd=rnd, plan=plan, counts=counts, is_convener=is_convener) if visible else None
        ),
    }


# --- Pages ---------------------------------------------------------------------------------------


def _group_split(group_counts: dict[str, list[int]]) -> list[dict]:
    rows = []
    for group, counts in sorted(group_counts.items()):
        n = sum(counts)
        shown = n >= GROUP_MIN_ANSWERS
        rows.append(
            {"group": group, "n": n, "counts": counts if shown else None, "coded": _coded(counts) if shown else None}
        )
    return rows


def _rationales(round_id: int, item_ids) -> dict[int, list[str]]:
    """Anonymous rationales per item, in a stable order that does not follow who wrote first."""
    out: dict[int, list[str]] = defaultdict(list)
    rows = Vote.objects.filter(round_id=round_id, item_id__in=list(item_ids)).exclude(rationale="")
    for item_id, text in rows.values_list("item_id", "rationale"):
        out[item_id].append(text)
    for texts in out.values():
        texts.sort(key=str.casefold)
    return out


def _coded(counts: list[int] | None) -> list[tuple] | None:
    if counts is None:
        return None
    return [(PROFICIENCY_CODES[v], label, counts[v]) for v, label in Proficiency.choices]


@dataclass(frozen=True)
class WithheldResult:
    """What a panellist sees of an item's result with fewer answers than the anonymity floor: its
    round and number of answers, no statistics."""

    round: Round
    n: int
    median: None = None
    iqr: None = None
    agreement: None = None
    counts: tuple = ()
    withheld: bool = True


def _withheld_feedback(result: ItemResult, rnd: Round, mine: int | None, rationales: list[str]) -> dict:
    return {
        "result": WithheldResult(round=rnd, n=result.n),
        "counts": [],
        "max_count": 1,
        "mine": mine,
        "rationales": rationales,
        "groups": [],
        "withheld": True,
    }


def round_grid(*, view: RoundAccess, user: User | AnonymousUser) -> dict:
    """The voting grid: capabilities × role levels of the round, with the viewer's own answers, the
    number of answers per item, the live distribution where the viewer may see it and (in later
    rounds) the feedback from the previous round."""
    rnd = view.round
    counts = round_counts(rnd.pk)
    visible = distributions_visible(rnd=rnd, plan=view.plan, is_convener=view.is_convener)
    shown = round_distributions(rnd=rnd, plan=view.plan, counts=counts, is_convener=view.is_convener) if visible else {}
    items = list(
        DelphiItem.objects.filter(rounds=rnd)
        .select_related("capability", "role_level")
        .order_by("capability__ref", "role_level__order", "role_level_id")
    )
    levels = list(RoleLevel.objects.filter(pk__in={i.role_level_id for i in items}).order_by("order", "pk"))
    mine = {v.item_id: v for v in Vote.objects.filter(round=rnd, panellist=user)}
    previous = Round.objects.filter(cycle_id=rnd.cycle_id, number=rnd.number - 1).first()
    feedback: dict[int, dict] = {}
    if previous is not None:
        results = {r.item_id: r for r in ItemResult.objects.filter(round=previous, item__in=items)}
        before = dict(Vote.objects.filter(round=previous, panellist=user).values_list("item_id", "value"))
        notes = _rationales(previous.pk, results)
        for item_id, result in results.items():
            if not shown_to(n=result.n, is_convener=view.is_convener):
                feedback[item_id] = _withheld_feedback(result, previous, before.get(item_id), notes.get(item_id, []))
                continue
            feedback[item_id] = {
                "result": result,
                "counts": [
                    (value, label, PROFICIENCY_CODES[value], count, count == max(result.counts or [0]))
                    for (value, label), count in zip(Proficiency.choices, result.counts, strict=False)
                ],
                "max_count": max(result.counts or [0]) or 1,
                "mine": before.get(item_id),
                "rationales": notes.get(item_id, []),
                "groups": _group_split(result.group_counts),
            }
    rows: dict[int, dict] = {}
    for item in items:
        row = rows.setdefault(item.capability_id, {"capability": item.capability, "cells": {}})
        vote = mine.get(item.pk)
        row["cells"][item.role_level_id] = {
            "item": item,
            "vote": vote,
            "feedback": feedback.get(item.pk),
            "answers": sum(counts.get(item.pk, [])),
            "dist": _coded(shown.get(str(item.pk))),
        }
    grid = []
    for row in rows.values():
        row["cells"] = [row["cells"].get(level.pk) for level in levels]
        grid.append(row)
    return {
        "levels": levels,
        "rows": grid,
        "answered": len(mine),
        "total": len(items),
        "previous": previous,
        "choices": [(value, label, PROFICIENCY_CODES[value]) for value, label in Proficiency.choices],
        "visible": visible,
    }


def facilitator_board(*, rnd: Round, plan: DelphiPlan) -> dict:
    """Live answer counts and a provisional consensus status per item, for the room's projector."""
    items = list(
        DelphiItem.objects.filter(rounds=rnd)
        .select_related("capability", "role_level")
        .order_by("capability__ref", "role_level__order", "role_level_id")
    )
    counts = round_counts(rnd.pk)
    matrix = np.array([counts.get(i.pk, [0, 0, 0, 0]) for i in items], dtype=np.int64).reshape(-1, 4)
    stats = item_statistics(matrix, Rule.from_plan(plan))
    levels = list(RoleLevel.objects.filter(pk__in={i.role_level_id for i in items}).order_by("order", "pk"))
    results = {r.item_id: r for r in ItemResult.objects.filter(round=rnd)} if rnd.aggregated_at else {}
    rows: dict[int, dict] = {}
    for idx, item in enumerate(items):
        n = int(stats["n"][idx])
        if item.pk in results:
            result = results[item.pk]
            status = "consensus" if result.consensus else ("stable" if result.stable else "open")
        elif n == 0:
            status = "empty"
        else:
            status = "consensus" if bool(stats["consensus"][idx]) else "open"
        modal = int(stats["modal"][idx])
        row = rows.setdefault(item.capability_id, {"capability": item.capability, "cells": {}})
        row["cells"][item.role_level_id] = {
            "item": item,
            "n": n,
            "counts": matrix[idx].tolist(),
            "status": status,
            "modal": modal if modal >= 0 else None,
            "agreement": None if n == 0 else float(stats["agreement"][idx]),
            "status_label": BOARD_STATUS_LABELS[status],
            "bars": distribution_bars(matrix[idx].tolist()),
        }
    grid = [{"capability": r["capability"], "cells": [r["cells"].get(lv.pk) for lv in levels]} for r in rows.values()]
    progress = round_progress(rnd=rnd, plan=plan, counts=counts)
    # The convener shows distributions once revealed to the panel or the round is over.
    results_shown = rnd.results_revealed or not rnd.is_open
    return {"levels": levels, "rows": grid, "progress": progress, "results_shown": results_shown}


def distribution_bars(counts: list[int]) -> list[dict]:
    """One bar per proficiency (``value``, ``label``, ``count``, ``share`` in whole per cent of the
    answers), as ``workshops/delphi/_bars.html`` draws them and static/js/presenter.js redraws them."""
    n = sum(counts)
    return [
        {"value": value, "label": label, "count": counts[value], "share": round(100 * counts[value] / n) if n else 0}
        for value, label in Proficiency.choices
    ]


def round_progress_by_group(*, rnd: Round, plan: DelphiPlan) -> list[dict]:
    """The panel's progress per stakeholder group (the group of a panellist's organisation):
    ``eligible`` (active members of a voting role), ``started`` and ``finished`` — counts only,
    for the convener's screens. Groups with nobody eligible and nobody started are left out; a
    panellist without an organisation is counted under "No group"."""
    n_items = rnd.items.count()
    per_panellist = dict(
        Vote.objects.filter(round_id=rnd.pk).order_by().values_list("panellist").annotate(n=Count("id"))
    )
    eligible = set(voter_ids(rnd.cycle_id, plan))
    people = eligible | set(per_panellist)
    groups = dict(User.objects.filter(pk__in=people).values_list("pk", "organisation__group"))
    labels = {**dict(OrganisationGroup.choices), "": NO_GROUP}
    rows = {key: {"group": key, "label": label, "eligible": 0, "started": 0, "finished": 0} for key, label in labels.items()}  # fmt: skip
    for user_id in people:
        row = rows.get(groups.get(user_id) or "", rows[""])
        answered = per_panellist.get(user_id, 0)
        row["eligible"] += user_id in eligible
        row["started"] += answered > 0
        row["finished"] += bool(n_items) and answered >= n_items
    out = []
    for row in rows.values():
        if row["eligible"] or row["started"]:
            whole = max(row["eligible"], row["started"], 1)
            row["started_share"] = round(100 * row["started"] / whole)
            row["finished_share"] = round(100 * row["finished"] / whole)
            out.append(row)
    return out


def presenter_board(*, rnd: Round, plan: DelphiPlan) -> dict:
    """The projector's view of a round: the facilitator's board as one list of items in board
    order, the item under discussion (or None) and the progress by stakeholder group.

    The projector is a screen the panel sees, so an item's bars and agreement are ``shown`` only
    from the answers a panellist would need to see them (``public_quorum``: the anonymity floor,
    or the live quorum if higher)."""
    board = facilitator_board(rnd=rnd, plan=plan)
    floor = public_quorum(plan)
    items = [cell for row in board["rows"] for cell in row["cells"] if cell is not None]
    for cell in items:
        cell["shown"] = board["results_shown"] and cell["n"] >= floor
        # While results are hidden, not even the provisional status reaches the room.
        cell["room_status"] = cell["status"] if board["results_shown"] else "hidden"
    discussing = next((cell for cell in items if cell["item"].pk == rnd.discussing_id), None)
    return {
        **board,
        "items": items,
        "discussing": discussing,
        "groups": round_progress_by_group(rnd=rnd, plan=plan),
        "min_shown": floor,
    }


def consensus_results(*, cycle: Cycle, is_convener: bool = False) -> list[dict]:
    """The agreed proficiency per capability × role level and how it was reached.

    For a panellist (``is_convener=False``) an item whose last result has fewer answers than the
    anonymity floor shows its outcome and number of answers only: no value, median, IQR or
    agreement (``withheld``)."""
    items = list(
        DelphiItem.objects.filter(cycle=cycle)
        .select_related("capability", "role_level")
        .order_by("capability__ref", "role_level__order", "role_level_id")
    )
    last_results: dict[int, ItemResult] = {}
    for result in ItemResult.objects.filter(round__cycle=cycle).select_related("round").order_by("round__number"):
        last_results[result.item_id] = result
    rows = []
    for item in items:
        result = last_results.get(item.pk)
        if item.outcome == DelphiItem.Outcome.CONSENSUS:
            value = item.consensus_value
        elif item.outcome and result is not None and result.median is not None:
            # Stable or no consensus: the group median, rounded half down (conservative).
            value = int(np.ceil(result.median - 0.5))
        else:
            value = None
        withheld = result is not None and not shown_to(n=result.n, is_convener=is_convener)
        if withheld:
            value = None
            result = WithheldResult(round=result.round, n=result.n)
        rows.append(
            {
                "item": item,
                "capability": item.capability,
                "role_level": item.role_level,
                "outcome": item.outcome,
                "outcome_label": item.get_outcome_display() if item.outcome else "Undecided",
                "round": item.outcome_round,
                "value": value,
                "value_label": Proficiency(value).label if value is not None else "",
                "result": result,
                "withheld": withheld,
            }
        )
    return rows


def delphi_report(*, cycle: Cycle) -> dict:
    plan = plan_for(cycle)
    rounds = list(Round.objects.filter(cycle=cycle).annotate(n_items=Count("items", distinct=True)).order_by("number"))
    outcomes = dict(
        DelphiItem.objects.filter(cycle=cycle)
        .values_list("outcome")
        .annotate(n=Count("id"))
        .values_list("outcome", "n")
    )
    return {
        "plan": plan,
        "voting_roles": [Role(r).label for r in plan.voting_roles if r in Role.values],
        "rounds": rounds,
        "items_total": DelphiItem.objects.filter(cycle=cycle).count(),
        "outcomes": {
            "consensus": outcomes.get(DelphiItem.Outcome.CONSENSUS, 0),
            "stable": outcomes.get(DelphiItem.Outcome.STABLE, 0),
            "no_consensus": outcomes.get(DelphiItem.Outcome.NO_CONSENSUS, 0),
            "undecided": outcomes.get("", 0),
        },
    }


def round_results(*, rnd: Round) -> list[ItemResult]:
    return list(
        ItemResult.objects.filter(round=rnd)
        .select_related("item__capability", "item__role_level")
        .order_by("item__capability__ref", "item__role_level__order")
    )


def grid_cell(grid: dict, item_id: object) -> dict | None:
    """The grid cell of one item (for re-rendering a single cell after an htmx vote)."""
    try:
        item_id = int(item_id)
    except (TypeError, ValueError):
        return None
    for row in grid["rows"]:
        for cell in row["cells"]:
            if cell is not None and cell["item"].pk == item_id:
                return cell
    return None


def round1_item_count(cycle: Cycle) -> int:
    """Items round 1 would ask about: accepted capabilities × role levels."""
    from workshops.models import Capability

    return (
        Capability.objects.filter(cycle=cycle, status=Capability.Status.ACCEPTED).count()
        * RoleLevel.objects.filter(cycle=cycle).count()
    )


# --- the dashboard: open rounds ------------------------------------------------------------------


def dashboard_open_rounds(scope: DashboardScope) -> list[WaitingItem]:
    """An open round waits for each panellist of a voting role, and for the convener who runs it."""
    from workshops.delphi.services import DEFAULT_VOTING_ROLES  # noqa: PLC0415 - services import selectors

    voting = dict(DelphiPlan.objects.filter(cycle_id__in=scope.roles).values_list("cycle_id", "voting_roles"))
    items = []
    open_rounds = Round.objects.filter(cycle_id__in=scope.roles, status=Round.Status.OPEN).order_by(
        "cycle_id", "number"
    )
    for rnd in open_rounds:
        role = scope.roles[rnd.cycle_id]
        voters = voting.get(rnd.cycle_id) or DEFAULT_VOTING_ROLES
        if rnd.is_past_deadline:  # reads closed; it waits only for someone to close it
            verb = "is past its deadline: close it to compute the results" if role == Role.CONVENER else None
        elif role in voters:
            verb = "is open: cast your votes"
        else:
            verb = "is open (you are facilitating)" if role == Role.CONVENER else None
        if verb:
            items.append(
                WaitingItem(
                    "round", scope.cycles[rnd.cycle_id], f"Delphi round {rnd.number} {verb}", "workshops:delphi"
                )
            )
    return items

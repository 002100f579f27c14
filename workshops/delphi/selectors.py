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
from functools import cache

import numpy as np
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest

from accounts.models import OrganisationGroup, User
from core.rows import columns, instance, instances
from cycles.access import Access, access_with, get_cycle_for_member
from cycles.models import Cycle, Membership, Role, RoleLevel
from cycles.selectors import DashboardScope, WaitingItem
from workshops.delphi.aggregation import MIN_ANSWERS_SHOWN, STAKEHOLDER_GROUPS, Rule, hidden_groups, item_statistics
from workshops.delphi.lineage import Origin, change_log, cycle_changes, origins
from workshops.models import (
    PROFICIENCY_CODES,
    Capability,
    DelphiItem,
    DelphiPlan,
    ItemChange,
    ItemResult,
    Proficiency,
    Round,
    Vote,
)

# MIN_ANSWERS_SHOWN, the anonymity floor, is defined once in the aggregation (imported above).
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


def default_plan(cycle: Cycle) -> DelphiPlan:
    """An unsaved plan with the defaults, for a cycle that has saved none."""
    from workshops.delphi.services import DEFAULT_VOTING_ROLES

    return DelphiPlan(cycle=cycle, voting_roles=list(DEFAULT_VOTING_ROLES))


def plan_for(cycle: Cycle) -> DelphiPlan:
    """The cycle's plan, or an unsaved one with the defaults (reads never write)."""
    return DelphiPlan.objects.filter(cycle=cycle).first() or default_plan(cycle)


@cache
def _access_query() -> str:
    # The round, its cycle, the cycle's plan and the user's active membership: one row.
    return (
        f"SELECT {columns(Round, 'r')}, {columns(Cycle, 'c')}, {columns(DelphiPlan, 'p')}, {columns(Membership, 'm')}"  # noqa: S608
        f" FROM {Round._meta.db_table} r JOIN {Cycle._meta.db_table} c ON c.id = r.cycle_id"
        f" LEFT JOIN {DelphiPlan._meta.db_table} p ON p.cycle_id = c.id"
        f" LEFT JOIN {Membership._meta.db_table} m ON m.cycle_id = c.id AND m.user_id = %s AND m.status = %s"
        " WHERE r.id = %s"
    )


def round_access(*, user: User | AnonymousUser, round_id: int) -> RoundAccess | None:
    """A member's access to a round (for the websocket), or None when they have none.

    One query (every socket's (re)connection asks: a room of 1,000 reconnecting after a restart
    is 1,000 of these): ``access_for`` and ``plan_for`` from the row.
    """
    if not user.is_authenticated:
        return None
    with connection.cursor() as cursor:
        cursor.execute(_access_query(), [user.pk, Membership.Status.ACTIVE.value, round_id])
        row = cursor.fetchone()
    if row is None:
        return None
    rnd, cycle, plan, membership = instances(row, Round, Cycle, DelphiPlan, Membership)
    access = access_with(user, cycle, membership)
    if access is None:
        return None
    rnd.cycle = cycle
    plan = plan or default_plan(cycle)
    plan.cycle = cycle
    return RoundAccess(round=rnd, plan=plan, access=access)


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


def accepted_capabilities(cycle: Cycle) -> list:
    return list(Capability.objects.filter(cycle=cycle, status=Capability.Status.ACCEPTED).order_by("ref"))


def role_levels(cycle: Cycle) -> list[RoleLevel]:
    return list(RoleLevel.objects.filter(cycle=cycle).order_by("order", "pk"))


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


# The live state is read on every coalesced broadcast of a live room and on every snapshot: one
# statement each for the tallies and for the panel's progress (plain SQL, portable to SQLite;
# table names from the models, every value bound).
_TALLIES = (
    "SELECT ri.delphiitem_id, v.value, COUNT(v.id)"  # noqa: S608
    f" FROM {Round.items.through._meta.db_table} ri"
    f" LEFT JOIN {Vote._meta.db_table} v ON v.round_id = ri.round_id AND v.item_id = ri.delphiitem_id"
    " WHERE ri.round_id = %s GROUP BY ri.delphiitem_id, v.value"
)


def round_tallies(round_id: int) -> tuple[dict[int, list[int]], dict[int, int]]:
    """Proficiency answers per value 0–3 for every item of the round, and "I can't judge this"
    answers per item (counts only, never who). One query."""
    counts: dict[int, list[int]] = {}
    cant_judge: dict[int, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(_TALLIES, [round_id])
        rows = cursor.fetchall()
    for item_id, value, n in rows:
        tally = counts.setdefault(item_id, [0, 0, 0, 0])
        if not n:
            continue  # an item nobody answered yet
        if value is None:
            cant_judge[item_id] = cant_judge.get(item_id, 0) + n
        else:
            tally[value] = n
    return counts, cant_judge


def round_counts(round_id: int) -> dict[int, list[int]]:
    """Proficiency answers per value 0–3 for every item of the round (counts only, never who)."""
    return round_tallies(round_id)[0]


_PANELLISTS = (
    f"SELECT (SELECT COUNT(*) FROM {Membership._meta.db_table} m WHERE m.cycle_id = %s AND m.status = %s"  # noqa: S608
    " AND m.role IN ({roles})), COUNT(*), SUM(CASE WHEN t.n >= %s THEN 1 ELSE 0 END)"
    f" FROM (SELECT v.panellist_id, COUNT(*) AS n FROM {Vote._meta.db_table} v WHERE v.round_id = %s"
    " GROUP BY v.panellist_id) t"
)


def round_progress(
    *,
    rnd: Round,
    plan: DelphiPlan,
    counts: dict[int, list[int]] | None = None,
    cant_judge: dict[int, int] | None = None,
) -> dict:
    """The round's progress; ``answers`` per item counts every response, "I can't judge this" included."""
    if counts is None:
        counts, cant_judge = round_tallies(rnd.pk)
    cant_judge = cant_judge or {}
    n_items = len(counts)
    # Eligible, started and finished in one row (an aggregate over the per-panellist counts), never
    # a row per panellist: this runs on every coalesced broadcast of the live room.
    roles = list(plan.voting_roles or [])
    with connection.cursor() as cursor:
        cursor.execute(
            _PANELLISTS.format(roles=", ".join(["%s"] * len(roles)) if roles else "NULL"),
            [rnd.cycle_id, Membership.Status.ACTIVE.value, *roles, max(n_items, 1), rnd.pk],
        )
        eligible, started, finished = cursor.fetchone()
    panellists = {"started": started, "finished": finished or 0}
    return {
        "type": "progress",
        "round": rnd.pk,
        "sequence": rnd.sequence,
        "status": rnd.shown_status,
        "answers": {str(k): sum(v) + cant_judge.get(k, 0) for k, v in counts.items()},
        "panellists": {
            "eligible": eligible,
            "started": panellists["started"],
            "finished": panellists["finished"] if n_items else 0,
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


@cache
def _round_now_query() -> str:
    return f"SELECT {columns(Round, 'r')} FROM {Round._meta.db_table} r WHERE r.id = %s"  # noqa: S608


_MINE = (
    f"SELECT item_id, value, rationale, cant_judge FROM {Vote._meta.db_table} WHERE round_id = %s AND panellist_id = %s"  # noqa: S608
)


def round_snapshot(*, view: RoundAccess, user: User | AnonymousUser) -> dict:
    """Everything a client needs to (re)draw a round. The round is read first, so the sequence
    it carries is never newer than the state that follows it."""
    with connection.cursor() as cursor:
        # Through the cursor, not the ORM: every (re)connecting socket reads these (core.rows).
        cursor.execute(_round_now_query(), [view.round.pk])
        row = cursor.fetchone()
        if row is None:
            raise Round.DoesNotExist(f"Round {view.round.pk} no longer exists.")
        rnd = instance(Round, row)
        cursor.execute(_MINE, [rnd.pk, user.pk])
        votes = cursor.fetchall()
    plan = view.plan
    is_convener = view.is_convener
    counts, cant_judge = round_tallies(rnd.pk)
    progress = round_progress(rnd=rnd, plan=plan, counts=counts, cant_judge=cant_judge)
    # A can't-judge answer: value null and ``cant_judge: true`` (the key only then, docs/realtime.md).
    mine = {
        str(item_id): {"value": value, "rationale": rationale, **({"cant_judge": True} if unjudged else {})}
        for item_id, value, rationale, unjudged in votes
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
        "cant_judge_offered": plan.allow_cant_judge,
        "items": sorted(int(k) for k in counts),
        "mine": mine,
        "progress": {"answers": progress["answers"], "panellists": progress["panellists"]},
        "distributions": (
            round_distributions(rnd=rnd, plan=plan, counts=counts, is_convener=is_convener) if visible else None
        ),
    }


# --- Pages ---------------------------------------------------------------------------------------


def _group_split(group_counts: dict[str, list[int]], group_stats: dict[str, dict] | None = None) -> list[dict]:
    """An item's answers split by stakeholder group, as a panellist may see them (``hidden_groups``)."""
    rows = []
    group_stats = group_stats or {}
    hidden = hidden_groups({group: sum(counts) for group, counts in group_counts.items()})
    for group, counts in sorted(group_counts.items()):
        n = sum(counts)
        shown = n >= GROUP_MIN_ANSWERS and group not in hidden
        stats = group_stats.get(group, {}) if shown else {}
        value = stats.get("value")
        rows.append(
            {
                "group": group,
                "n": n,
                "counts": counts if shown else None,
                "coded": _coded(counts) if shown else None,
                "median": stats.get("median"),
                "value_label": Proficiency(value).label if value is not None else "",
            }
        )
    return rows


GROUP_LABELS = dict(OrganisationGroup.choices)


def group_rows(result: ItemResult | None, is_convener: bool = False) -> list[dict]:
    """The consensus rule per stakeholder group of one item's result, in the groups' order: a group
    below the anonymity floor shows its number of answers only, and its "can't judge" count only
    from 3 responses (or to the convener)."""
    stats = (getattr(result, "group_stats", None) or {}) if result is not None else {}
    unjudged = (getattr(result, "group_cant_judge", None) or {}) if result is not None else {}
    hidden = set() if is_convener else hidden_groups({group: s["n"] for group, s in stats.items()})
    rows = []
    for group in STAKEHOLDER_GROUPS:
        s = stats.get(str(group)) or {"n": 0, "shown": False}
        if str(group) in hidden:
            s = {"n": s["n"], "shown": False}
        cant_judge = unjudged.get(str(group), 0)
        value = s.get("value")
        rows.append(
            {
                **s,
                "cant_judge": cant_judge if shown_to(n=s["n"] + cant_judge, is_convener=is_convener) else None,
                "responses": s["n"] + cant_judge,
                "group": str(group),
                "label": GROUP_LABELS[group],
                "value_label": Proficiency(value).label if value is not None else "",
                "modal_label": Proficiency(s["modal"]).label if s.get("modal") is not None else "",
            }
        )
    return rows


def visible_divergence(result, is_convener: bool = False) -> list[dict]:
    """A result's divergence reasons that name no group hidden from a panellist (``hidden_groups``)."""
    reasons = getattr(result, "divergence", None) or []
    if is_convener or not reasons:
        return reasons
    hidden = hidden_groups({group: s["n"] for group, s in (getattr(result, "group_stats", None) or {}).items()})
    named = ("high", "low", "group", "by")
    return [reason for reason in reasons if not any(reason.get(key) in hidden for key in named)]


def divergence_text(reasons: list[dict] | None) -> list[str]:
    """Each reason of a divergence as a sentence (groups by name, never a person); a group's
    consensus rejected by several groups is one sentence."""
    out = []
    rejected: dict[tuple[str, int], list[str]] = {}
    for reason in reasons or []:
        if reason["kind"] == "median":
            difference = reason["difference"]
            out.append(
                f"{GROUP_LABELS.get(reason['high'], reason['high'])} and {GROUP_LABELS.get(reason['low'], reason['low'])}"
                f" medians differ by {difference:g} level{'s' if difference != 1 else ''}"
            )
        else:
            by = f"{round(100 * reason['share'])} % of {GROUP_LABELS.get(reason['by'], reason['by'])}"
            rejected.setdefault((reason["group"], reason["value"]), []).append(by)
    for (group, value), by in rejected.items():
        others = by[0] if len(by) == 1 else ", ".join(by[:-1]) + " and " + by[-1]
        out.append(
            f"{GROUP_LABELS.get(group, group)} agrees on {Proficiency(value).label}; {others} answered otherwise"
        )
    return out


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


def _statement_row(rows: dict[tuple, dict], item: DelphiItem) -> dict:
    """The grid's row of an item: one per statement asked — a capability's own statement, or the
    wording an item was given between rounds (a split's parts are rows of their own)."""
    return rows.setdefault(
        (item.capability.ref, item.capability_id, item.wording),
        {
            "capability": item.capability,
            "key": f"{item.capability_id}-{item.pk}" if item.wording else str(item.capability_id),
            "ref": item.ref,
            "statement": item.statement,
            "cells": {},
        },
    )


CHANGE_NOTES = {
    ItemChange.Kind.REWORD: "Reworded since round {number}",
    ItemChange.Kind.SPLIT: "Split since round {number}",
    ItemChange.Kind.MERGE: "Merged since round {number}",
    ItemChange.Kind.ADD: "New since round {number}",
}


def change_note(origin: Origin | None, previous: Round | None) -> dict | None:
    """What a panellist reads about an item that changed since the previous round: the change,
    the wording(s) it replaced and the convener's reason(s)."""
    if origin is None or previous is None or not origin.changed:
        return None
    before = [text for change in origin.changes for text in change.before]
    return {
        "kind": origin.kind,
        "label": CHANGE_NOTES[ItemChange.Kind(origin.kind)].format(number=previous.number),
        "before": list(dict.fromkeys(before)),
        "reasons": list(dict.fromkeys(change.reason for change in origin.changes)),
        "compared": origin.paired is not None,
    }


def grid_unanswered(grid: dict) -> dict:
    """The voting grid with only the items the viewer has not answered (the reminder email's link)."""
    rows = []
    for row in grid["rows"]:
        cells = [cell if cell is not None and cell["vote"] is None else None for cell in row["cells"]]
        if any(cells):
            rows.append({**row, "cells": cells})
    return {**grid, "rows": rows, "only_unanswered": True}


def round_grid(*, view: RoundAccess, user: User | AnonymousUser) -> dict:
    """The voting grid: capabilities × role levels of the round, with the viewer's own answers, the
    number of answers per item, the live distribution where the viewer may see it and (in later
    rounds) the feedback from the previous round."""
    rnd = view.round
    counts, cant_judge = round_tallies(rnd.pk)
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
    # What changed since the previous round, and which of its items each item's feedback comes from
    # (itself, or the one item it was reworded or split from: workshops/delphi/lineage.py).
    came_from = origins(cycle_id=rnd.cycle_id, item_ids=[i.pk for i in items], previous=previous)
    if previous is not None:
        pairs = {pk: origin.paired for pk, origin in came_from.items() if origin.paired is not None}
        asked = {r.item_id: r for r in ItemResult.objects.filter(round=previous, item_id__in=set(pairs.values()))}
        results = {pk: asked[before_pk] for pk, before_pk in pairs.items() if before_pk in asked}
        before = dict(Vote.objects.filter(round=previous, panellist=user).values_list("item_id", "value"))
        before_unjudged = set(
            Vote.objects.filter(round=previous, panellist=user, cant_judge=True).values_list("item_id", flat=True)
        )
        notes = _rationales(previous.pk, asked)
        for item_id, result in results.items():
            mine_before = before.get(result.item_id)
            unjudged = (
                result.cant_judge if shown_to(n=result.n + result.cant_judge, is_convener=view.is_convener) else None
            )
            if not shown_to(n=result.n, is_convener=view.is_convener):
                feedback[item_id] = _withheld_feedback(result, previous, mine_before, notes.get(result.item_id, []))
                feedback[item_id].update(mine_cant_judge=result.item_id in before_unjudged, cant_judge=unjudged)
                continue
            feedback[item_id] = {
                "result": result,
                "counts": [
                    (value, label, PROFICIENCY_CODES[value], count, count == max(result.counts or [0]))
                    for (value, label), count in zip(Proficiency.choices, result.counts, strict=False)
                ],
                "max_count": max(result.counts or [0]) or 1,
                "mine": mine_before,
                "rationales": notes.get(result.item_id, []),
                "groups": _group_split(result.group_counts, result.group_stats),
                "divergence": divergence_text(visible_divergence(result)),
                "mine_cant_judge": result.item_id in before_unjudged,
                "cant_judge": unjudged,
            }
    rows: dict[tuple, dict] = {}
    for item in items:
        row = _statement_row(rows, item)
        vote = mine.get(item.pk)
        row["cells"][item.role_level_id] = {
            "item": item,
            "vote": vote,
            "feedback": feedback.get(item.pk),
            "change": change_note(came_from.get(item.pk), previous),
            "answers": sum(counts.get(item.pk, [])) + cant_judge.get(item.pk, 0),
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
        "offer_cant_judge": view.plan.allow_cant_judge,
    }


def facilitator_board(*, rnd: Round, plan: DelphiPlan) -> dict:
    """Live answer counts and a provisional consensus status per item, for the room's projector."""
    items = list(
        DelphiItem.objects.filter(rounds=rnd)
        .select_related("capability", "role_level")
        .order_by("capability__ref", "role_level__order", "role_level_id")
    )
    counts, cant_judge = round_tallies(rnd.pk)
    matrix = np.array([counts.get(i.pk, [0, 0, 0, 0]) for i in items], dtype=np.int64).reshape(-1, 4)
    stats = item_statistics(matrix, Rule.from_plan(plan))
    levels = list(RoleLevel.objects.filter(pk__in={i.role_level_id for i in items}).order_by("order", "pk"))
    results = {r.item_id: r for r in ItemResult.objects.filter(round=rnd)} if rnd.aggregated_at else {}
    rows: dict[tuple, dict] = {}
    for idx, item in enumerate(items):
        n = int(stats["n"][idx])
        result = results.get(item.pk)
        if result is not None:
            status = "consensus" if result.consensus else ("stable" if result.stable else "open")
        elif n == 0:
            status = "empty"
        else:
            status = "consensus" if bool(stats["consensus"][idx]) else "open"
        modal = int(stats["modal"][idx])
        row = _statement_row(rows, item)
        row["cells"][item.role_level_id] = {
            "item": item,
            "n": n,
            "cant_judge": cant_judge.get(item.pk, 0),
            "counts": matrix[idx].tolist(),
            "status": status,
            "modal": modal if modal >= 0 else None,
            "agreement": None if n == 0 else float(stats["agreement"][idx]),
            "status_label": BOARD_STATUS_LABELS[status],
            "bars": distribution_bars(matrix[idx].tolist()),
            # After the round is aggregated: the consensus rule per stakeholder group (groups only).
            "groups": group_rows(result, is_convener=True) if result is not None else [],
            "divergence": divergence_text(result.divergence) if result is not None else [],
            "held_back": result is not None and result.panel_consensus and not result.consensus,
        }
    grid = [{**r, "cells": [r["cells"].get(lv.pk) for lv in levels]} for r in rows.values()]
    progress = round_progress(rnd=rnd, plan=plan, counts=counts, cant_judge=cant_judge)
    # The convener shows distributions once revealed to the panel or the round is over.
    results_shown = rnd.results_revealed or not rnd.is_open
    return {
        "levels": levels,
        "rows": grid,
        "progress": progress,
        "results_shown": results_shown,
        "aggregated": bool(results),
    }


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
        groups = group_rows(result, is_convener) if result is not None and not withheld else []
        unjudged = getattr(result, "cant_judge", 0) if result is not None else 0
        cant_judge = (
            unjudged if result is not None and shown_to(n=result.n + unjudged, is_convener=is_convener) else None
        )
        divergence = (
            divergence_text(visible_divergence(result, is_convener)) if result is not None and not withheld else []
        )
        held_back = bool(result is not None and not withheld and result.panel_consensus and not result.consensus)
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
                "groups": groups,
                "divergence": divergence,
                "divergent": bool(divergence),
                "held_back": held_back,
                "cant_judge": cant_judge,
            }
        )
    return rows


def delphi_report(*, cycle: Cycle, is_convener: bool = False) -> dict:
    plan = plan_for(cycle)
    divergent = [row for row in consensus_results(cycle=cycle, is_convener=is_convener) if row["divergent"]]
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
            # Changed between rounds (workshops/delphi/changes.py): their successors carry on.
            "replaced": outcomes.get(DelphiItem.Outcome.REPLACED, 0),
            "dropped": outcomes.get(DelphiItem.Outcome.DROPPED, 0),
        },
        "divergent": divergent,
        "changes": change_log(cycle.pk),
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


# --- Convergence: agreement and IQR by round, and whether answers moved ------------------------

CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 150, 44, 5


def _chart(points: list[tuple[int, float | None]], rounds: int, top: float) -> dict:
    """Polyline segments (a gap where a round is withheld or missing) and dots for values 0…top,
    higher values drawn higher, in an SVG of CHART_WIDTH × CHART_HEIGHT."""
    span_x, span_y = CHART_WIDTH - 2 * CHART_PAD, CHART_HEIGHT - 2 * CHART_PAD
    segments: list[list[tuple[float, float]]] = [[]]
    dots = []
    for index, value in points:
        if value is None:
            segments.append([])
            continue
        x = CHART_PAD + (span_x * index / (rounds - 1) if rounds > 1 else span_x / 2)
        y = CHART_PAD + span_y * (1 - min(max(value / top, 0.0), 1.0))
        segments[-1].append((round(x, 1), round(y, 1)))
        dots.append((round(x, 1), round(y, 1)))
    lines = [" ".join(f"{x},{y}" for x, y in seg) for seg in segments if len(seg) > 1]
    return {"lines": lines, "dots": dots}


def _lineage_of_rounds(cycle: Cycle, rounds: list[Round]) -> tuple[dict[int, int], dict]:
    """Item → the item of the round before it continues (reword, split), and the changes to note:
    per item the changes that made it, per ``("ended", item)`` those that replaced or dropped it."""
    predecessor: dict[int, int] = {}
    notes: dict = {}
    changes = cycle_changes(cycle.pk)
    by_number = {rnd.number: rnd for rnd in rounds}
    for rnd in rounds:
        previous = by_number.get(rnd.number - 1)
        if previous is None:
            continue
        item_ids = list(rnd.items.values_list("pk", flat=True))
        for item_id, origin in origins(
            cycle_id=cycle.pk, item_ids=item_ids, previous=previous, changes=changes
        ).items():
            if not origin.changed:
                continue
            if origin.paired is not None:
                predecessor[item_id] = origin.paired
            notes[item_id] = [
                {"kind": c.kind, "label": c.get_kind_display(), "before_round": c.after_round + 1, "reason": c.reason}
                for c in origin.changes
            ]
    for change in changes:
        for source in change.sources.all():
            notes.setdefault(("ended", source.pk), []).append(
                {"kind": change.kind, "label": change.get_kind_display(), "before_round": change.after_round + 1,
                 "reason": change.reason}
            )  # fmt: skip
    return predecessor, notes


def convergence(*, cycle: Cycle, is_convener: bool = False) -> dict:
    """Per item, agreement and IQR in every round it was asked (a small chart) with the stability
    rule and the Wilcoxon test of its paired answers against the previous round; per round, the
    test pooled over every item. A panellist sees no statistics of a round with fewer than
    ``MIN_ANSWERS_SHOWN`` answers on the item, nor a test of fewer pairs."""
    rounds = list(Round.objects.filter(cycle=cycle, aggregated_at__isnull=False).order_by("number"))
    position = {rnd.pk: i for i, rnd in enumerate(rounds)}
    items: dict[int, dict] = {}
    results = (
        ItemResult.objects.filter(round__in=rounds)
        .select_related("item__capability", "item__role_level")
        .order_by("item__capability__ref", "item__role_level__order", "item_id", "round__number")
    )
    for result in results:
        entry = items.setdefault(result.item_id, {"item": result.item, "cells": [None] * len(rounds)})
        shown = shown_to(n=result.n, is_convener=is_convener)
        tested = shown_to(n=result.n_both, is_convener=is_convener)
        entry["cells"][position[result.round_id]] = {
            "round": rounds[position[result.round_id]].number,
            "n": result.n,
            "agreement": result.agreement if shown else None,
            "iqr": result.iqr if shown else None,
            "changed_share": result.changed_share if tested else None,
            "stable": result.stable,
            "pairs": result.n_both,
            "p": result.wilcoxon_p if tested else None,
            "tested": tested and result.n_both > 0,
            "withheld": not shown,
        }
    # Lineage (workshops/delphi/lineage.py): a reworded item, or a part of a split, continues the
    # chart of the item it came from, whose own row is then not repeated; a merged or dropped
    # item's row ends with a note of what became of it.
    predecessor, notes = _lineage_of_rounds(cycle, rounds)
    continued = set(predecessor.values())
    rows = []
    for item_id, entry in items.items():
        if item_id in continued:
            continue
        cells = list(entry["cells"])
        chain, back = [], predecessor.get(item_id)
        while back is not None and back not in chain:
            chain.append(back)
            earlier = items.get(back)
            if earlier is not None:
                cells = [
                    mine if mine is not None else theirs for mine, theirs in zip(cells, earlier["cells"], strict=True)
                ]
            back = predecessor.get(back)
        entry = {**entry, "cells": cells, "changes": notes.get(item_id, []), "ended": notes.get(("ended", item_id), [])}
        agreement = [(i, c["agreement"] if c else None) for i, c in enumerate(cells)]
        iqr = [(i, c["iqr"] if c else None) for i, c in enumerate(cells)]
        said = [
            f"round {c['round']}: agreement {round(100 * c['agreement'])} %, IQR {c['iqr']:g}"
            for c in cells
            if c and c["agreement"] is not None and c["iqr"] is not None
        ]
        rows.append(
            {
                **entry,
                "agreement_chart": _chart(agreement, len(rounds), 1.0),
                "iqr_chart": _chart(iqr, len(rounds), 3.0),
                "description": "; ".join(said) or "too few answers to show",
            }
        )
    return {
        "rounds": rounds,
        "rows": rows,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "pad": CHART_PAD,
    }

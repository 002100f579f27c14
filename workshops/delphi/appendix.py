"""Reads for the Delphi methods appendix (ACCORD 2024 / DELPHISTAR 2024): everything it can say
from the cycle's data — panel, rounds and their flow, the pre-set rules and when they were locked,
the feedback each round showed, the items per round, outcomes, software and anonymity — and the
convener's own fields for what the data cannot know. One dict feeds the HTML page and the
Markdown download, so the two never say different things.

Counts only: the panel is described by stakeholder group and role, never by name.
"""

from __future__ import annotations

from dataclasses import dataclass

import django
import numpy
import scipy
from django.db.models import Count

from accounts.models import OrganisationGroup
from cycles.models import Cycle, Membership, Role
from workshops.delphi.aggregation import DIVERGENT_MEDIANS, MIN_ANSWERS_SHOWN, WILCOXON_METHOD
from workshops.delphi.lineage import change_counts
from workshops.delphi.selectors import delphi_report, plan_for, public_quorum
from workshops.delphi.services import APPENDIX_FIELDS
from workshops.models import DelphiItem, ItemResult

GROUP_LABELS = dict(OrganisationGroup.choices)
FLOW_BOX_WIDTH, FLOW_BOX_HEIGHT, FLOW_GAP = 260, 96, 44


@dataclass(frozen=True)
class FlowFigure:
    round: int
    figure: str
    label: str
    value: object
    x: float
    y: float


def _panel(cycle: Cycle, roles: list[str]) -> dict:
    members = Membership.objects.filter(cycle=cycle, status=Membership.Status.ACTIVE, role__in=roles)
    by_role = dict(members.order_by().values_list("role").annotate(n=Count("id")).values_list("role", "n"))
    by_group = dict(
        members.order_by()
        .values_list("user__organisation__group")
        .annotate(n=Count("id"))
        .values_list("user__organisation__group", "n")
    )
    organisations = dict(
        members.exclude(user__organisation=None)
        .order_by()
        .values_list("user__organisation__group")
        .annotate(n=Count("user__organisation", distinct=True))
        .values_list("user__organisation__group", "n")
    )
    groups = [
        {"label": label, "members": by_group.get(key, 0), "organisations": organisations.get(key, 0)}
        for key, label in OrganisationGroup.choices
        if by_group.get(key)
    ]
    if by_group.get(None):
        groups.append({"label": "No organisation", "members": by_group[None], "organisations": 0})
    return {
        "size": sum(by_role.values()),
        "roles": [{"label": Role(r).label, "members": by_role.get(r, 0)} for r in roles if r in Role.values],
        "groups": groups,
    }


def _feedback(plan, number: int) -> str:
    live = (
        f"live distributions while the round was open, once revealed and from {public_quorum(plan)} answers per item"
        if plan.is_live
        else ""
    )
    if number == 1:
        seen = "no group feedback (independent answers)"
        return f"{seen}; {live}" if live else seen
    seen = (
        f"round {number - 1}'s distribution, median and IQR of each item (from {MIN_ANSWERS_SHOWN} answers), "
        f"counts and consensus by stakeholder group (groups with at least {MIN_ANSWERS_SHOWN} answers), whether "
        "the groups diverged, the panellist's own previous answer and the panel's anonymous rationales"
    )
    return f"{seen}; {live}" if live else seen


def _flow(rounds: list[dict]) -> dict:
    """The participant flow as SVG geometry: one box per round (invited, responded, completed),
    an arrow to the next with the round's attrition. Every number comes from the round summary."""
    figures: list[FlowFigure] = []
    boxes = []
    for index, r in enumerate(rounds):
        y = index * (FLOW_BOX_HEIGHT + FLOW_GAP)
        boxes.append({"round": r["number"], "x": 0, "y": y, "w": FLOW_BOX_WIDTH, "h": FLOW_BOX_HEIGHT})
        s = r["summary"]
        rate = f" ({round(100 * s['response_rate'])} %)" if s.get("response_rate") is not None else ""
        lines = [
            ("round", f"Round {r['number']}", r["number"]),
            ("eligible", f"Invited: {s.get('eligible', 0)}", s.get("eligible", 0)),
            ("responded", f"Responded: {s.get('responded', 0)}{rate}", s.get("responded", 0)),
            ("completed", f"Answered every item: {s.get('completed', 0)}", s.get("completed", 0)),
        ]
        for line, (figure, label, value) in enumerate(lines):
            figures.append(FlowFigure(r["number"], figure, label, value, 14, y + 24 + line * 21))
        side = [
            ("items", f"Items: {s.get('items', 0)}", s.get("items", 0)),
            ("items_reached", f"Consensus: {s.get('items_reached', 0)}", s.get("items_reached", 0)),
            ("items_stable", f"Stable: {s.get('items_stable', 0)}", s.get("items_stable", 0)),
            ("items_carried", f"Carried: {s.get('items_carried', 0)}", s.get("items_carried", 0)),
        ]
        for line, (figure, label, value) in enumerate(side):
            figures.append(FlowFigure(r["number"], figure, label, value, FLOW_BOX_WIDTH + 20, y + 24 + line * 21))
        if index + 1 < len(rounds):
            after = rounds[index + 1]["summary"]
            figures.append(
                FlowFigure(
                    rounds[index + 1]["number"],
                    "attrition",
                    f"Dropped out: {after.get('attrition', 0)}",
                    after.get("attrition", 0),
                    FLOW_BOX_WIDTH / 2 + 12,
                    y + FLOW_BOX_HEIGHT + FLOW_GAP / 2 + 5,
                )
            )
    height = max(len(rounds) * (FLOW_BOX_HEIGHT + FLOW_GAP) - FLOW_GAP, 0) + 2
    arrows = [
        {"x": FLOW_BOX_WIDTH / 2, "y1": b["y"] + FLOW_BOX_HEIGHT, "y2": b["y"] + FLOW_BOX_HEIGHT + FLOW_GAP - 4}
        for b in boxes[:-1]
    ]
    return {"boxes": boxes, "figures": figures, "arrows": arrows, "width": FLOW_BOX_WIDTH + 170, "height": height}


def methods_appendix(*, cycle: Cycle, is_convener: bool = False) -> dict:
    plan = plan_for(cycle)
    report = delphi_report(cycle=cycle, is_convener=is_convener)
    closed = [r for r in report["rounds"] if r.aggregated_at]
    rounds = []
    previous_items: set[int] | None = None
    proposed: set[int] = set()
    for rnd in closed:
        asked = set(rnd.items.values_list("pk", flat=True))
        left_out = len(proposed - asked) if previous_items is not None else 0
        rounds.append(
            {
                "number": rnd.number,
                "opened_at": rnd.opened_at,
                "closed_at": rnd.closed_at,
                "close_reason": rnd.get_close_reason_display() if rnd.close_reason else "",
                "summary": rnd.summary,
                "feedback": _feedback(plan, rnd.number),
                "left_out": left_out,
                "changed": sum(1 for change in report["changes"] if change["before_round"] == rnd.number),
                "wilcoxon": rnd.summary.get("wilcoxon"),
            }
        )
        previous_items = asked
        # What the next round was offered: the undecided items, less those the convener replaced or
        # dropped, plus the items their changes wrote (so a change is not counted as left out).
        replaced = set(
            DelphiItem.objects.filter(
                cycle=cycle, outcome__in=[DelphiItem.Outcome.REPLACED, DelphiItem.Outcome.DROPPED]
            ).values_list("pk", flat=True)
        )
        written = {
            pk for change in report["changes"] if change["after_round"] == rnd.number
            for pk in change["change"].results.values_list("pk", flat=True)
        }  # fmt: skip
        proposed = (
            set(ItemResult.objects.filter(round=rnd, consensus=False, stable=False).values_list("item_id", flat=True))
            - replaced
        ) | (written - replaced)
    notes = plan.appendix_notes or {}
    last = closed[-1] if closed else None
    if last is None:
        stopped = "No round has been computed yet."
    elif not proposed or last.number >= plan.max_rounds:
        why = "every item reached consensus or was stable" if not proposed else "the plan's last round had run"
        stopped = f"The Delphi stopped after round {last.number}: {why}."
    else:
        stopped = f"Round {last.number} is the latest computed round; {len(proposed)} items would be carried."
    return {
        "plan": plan,
        "voting_roles": report["voting_roles"],
        "panel": _panel(cycle, list(plan.voting_roles)),
        "rounds": rounds,
        "flow": _flow(rounds),
        "items_total": report["items_total"],
        "outcomes": report["outcomes"],
        "divergent": report["divergent"],
        # Items added, reworded, split, merged and dropped between rounds, with the convener's reasons.
        "changes": report["changes"],
        "change_counts": change_counts(report["changes"]),
        "stopped": stopped,
        "min_shown": MIN_ANSWERS_SHOWN,
        "public_quorum": public_quorum(plan),
        "divergent_medians": DIVERGENT_MEDIANS,
        "software": {
            "django": django.get_version(),
            "numpy": numpy.__version__,
            "scipy": scipy.__version__,
            "wilcoxon_method": WILCOXON_METHOD,
        },
        "notes": [{"key": key, "label": label, "text": notes.get(key, "")} for key, label in APPENDIX_FIELDS.items()],
        "undecided_items": DelphiItem.objects.filter(cycle=cycle, outcome="").count(),
    }

"""Provision pages: capabilities matched to current provision, fit and surplus, FOP matches,
FOP vs provision and FOP priorities. Each reads the cycle's match run through ``MatchView``."""

from __future__ import annotations

from collections import Counter

from findings.provision import FIT_LIMIT, MAX_DUTIES_PER_CAPABILITY, MatchView
from findings.selectors import CycleData
from findings.tables.base import Column, Figure, Filter, PageData, Params, Table
from findings.tables.common import (
    SERIES_COLOURS,
    function_filter,
    function_of,
    keep_capability,
    keep_fop,
    partner_names,
    priority_filter,
    role_level_filter,
    tags_of,
    verb_of,
)
from findings.tables.workforce import labelled_fop_choice
from workshops.fops.selectors import fop_labels
from workshops.models import TagKind

QUADRANT_SPLIT = 50.0


def threshold_filter(match: MatchView | None) -> Filter:
    value = f"{match.threshold * 100:.1f}" if match else ""
    help_text = f"The run's own threshold is {match.default_threshold * 100:.1f} %." if match else ""
    return Filter("threshold", "Matching threshold %", "number", value=value, help=help_text)


def matched_rule(match: MatchView) -> str:
    """One sentence: when a duty counts as matching a capability."""
    return (
        f"a duty matches a capability when its score — the embedding cosine re-scored by the second stage "
        f"(hub correction and the standard's context) — reaches the threshold of {match.threshold * 100:.1f} %, "
        "or an educator confirmed the pair; a rejected pair never counts."
    )


def _no_run(key: str, title: str, filters: list[Filter] | None = None) -> PageData:
    return PageData(
        key,
        title,
        filters=filters or [],
        needs_match_run=True,
        notice="This page needs a completed match run against a reference framework.",
    )


def capability_matches(data: CycleData, params: Params, match: MatchView | None) -> PageData:
    func = function_filter(data, params)
    served_value = params.get("served") if params.get("served") in ("yes", "no") else ""
    served = Filter(
        "served",
        "Served by current provision",
        "select",
        [("", "All"), ("yes", "Served"), ("no", "Not served")],
        served_value,
    )
    if match is None:
        return _no_run("capability_matches", "Capabilities matched to current provision", [func, served])
    rows, duties = [], []
    not_in_run = 0
    for cap in data.capabilities:
        if not keep_capability(cap, func):
            continue
        if not match.in_run(cap.id):
            not_in_run += 1
            continue
        is_served = match.is_served(cap.id)
        if (served.value == "yes" and not is_served) or (served.value == "no" and is_served):
            continue
        best = match.best_match(cap.id)
        matched = match.matches(cap.id)
        rows.append(
            {
                "ref": cap.ref,
                "statement": cap.statement,
                "function": function_of(cap),
                "score": best.score * 100 if best else None,
                "confidence": best.confidence.text if best and best.confidence else "",
                "served": is_served,
                "best_match": best.text if best else "",
                "standard": best.standard.title if best else "",
                "level": best.standard.level if best else None,
                "matching": len(matched),
            }
        )
        for duty in matched:
            duties.append(
                {
                    "ref": cap.ref,
                    "statement": cap.statement,
                    "duty": duty.text,
                    "standard": duty.standard.title,
                    "level": duty.standard.level,
                    "score": duty.score * 100,
                }
            )
    table = Table(
        "capabilities",
        "Capabilities and their best match",
        [
            Column("ref", "Ref"),
            Column("statement", "Capability statement"),
            Column("function", "Function"),
            Column("score", "Match score %", "pct"),
            Column("confidence", "Confidence of the best match"),
            Column("served", "Served", "bool"),
            Column("best_match", "Best matching duty"),
            Column("standard", "Standard"),
            Column("level", "Level", "int"),
            Column("matching", "Matching duties", "int"),
        ],
        rows,
    )
    duty_table = Table(
        "duties",
        "Matched duties (at or above the threshold)",
        [
            Column("ref", "Ref"),
            Column("statement", "Capability statement"),
            Column("duty", "Duty statement"),
            Column("standard", "Standard"),
            Column("level", "Level", "int"),
            Column("score", "Match score %", "pct"),
        ],
        duties,
    )
    n_served = sum(1 for r in rows if r["served"])
    chart = {
        "id": "served",
        "type": "doughnut",
        "title": "Capabilities served by current provision",
        "labels": ["Served", "Not served"],
        "datasets": [
            {"label": "Capabilities", "data": [n_served, len(rows) - n_served], "colors": ["#3a7d44", "#b02a37"]}
        ],
    }
    return PageData(
        "capability_matches",
        "Capabilities matched to current provision",
        tables=[table, duty_table],
        filters=[threshold_filter(match), served, func],
        charts=[chart],
        figures=[
            Figure("Served", n_served),
            Figure("Not served", len(rows) - n_served),
            Figure("Not in the match run", not_in_run),
            Figure("Framework", match.framework_label),
        ],
        notice="A match run compares the capabilities of the cycle's FOPs (all accepted capabilities before FOPs "
        f"exist); capabilities in no FOP are not in the run. Up to {MAX_DUTIES_PER_CAPABILITY} matched duties are listed per capability.",
    )


def _fop_selection(data: CycleData, params: Params):
    level = role_level_filter(data, params)
    prio = priority_filter(params)
    fops = [f for f in data.fops if keep_fop(f, level, priority_only=prio.value == "1")]
    fop_filter, fop = labelled_fop_choice(data, params, fops)
    return [level, prio, fop_filter], fop


def _label(data: CycleData, fop) -> str:
    """The FOP's label (its role level added when its name repeats in the cycle)."""
    return fop_labels(data.fops).get(fop.id, fop.name) if fop else ""


def _fit_table(match: MatchView, fop, label: str = "") -> Table:
    rows = []
    for fit in match.fit_surplus(fop.id) if fop else []:
        rows.append(
            {
                "standard": fit.standard.title,
                "ref": fit.standard.ref,
                "level": fit.standard.level,
                "duties": fit.duties,
                "matching_duties": fit.matching_duties,
                "matched_capabilities": fit.matched_capabilities,
                "fit": fit.fit,
                "surplus": fit.surplus,
                "quadrant": quadrant(fit.fit, fit.surplus),
            }
        )
    rows.sort(key=lambda r: (-r["fit"], r["surplus"], r["standard"]))
    return Table(
        "fit_surplus",
        f"Fit and surplus of {label or fop.name}" if fop else "Fit and surplus",
        [
            Column("standard", "Standard"),
            Column("ref", "Reference", phone=False),
            Column("level", "Level", "int"),
            Column("duties", "Duty statements", "int", phone=False),
            Column("matching_duties", "Matching duty statements", "int", phone=False),
            Column("matched_capabilities", "FOP capabilities matched", "int", phone=False),
            Column("fit", "Fit factor %", "pct"),
            Column("surplus", "Surplus factor %", "pct"),
            Column("quadrant", "Quadrant", phone=False),
        ],
        rows,
        empty_message="No standard within this FOP's level window has a matching duty.",
    )


def quadrant(fit: float, surplus: float) -> str:
    if fit >= QUADRANT_SPLIT:
        return "Strong fit, little surplus" if surplus < QUADRANT_SPLIT else "Strong fit, broad standard"
    return "Partial fit, focused standard" if surplus < QUADRANT_SPLIT else "Weak fit: new provision likely"


def fit_surplus(data: CycleData, params: Params, match: MatchView | None) -> PageData:
    filters, fop = _fop_selection(data, params)
    if match is None:
        return _no_run("fit_surplus", "Fit & surplus factors", filters)
    table = _fit_table(match, fop, _label(data, fop))
    return PageData(
        "fit_surplus",
        "Fit & surplus factors",
        tables=[table],
        filters=[threshold_filter(match)] + filters,
        figures=[
            Figure("Capabilities in the FOP", len(fop.entries) if fop else 0),
            Figure("Standards", len(table.rows)),
        ],
        notice=f"How it is computed: {matched_rule(match)} "
        "Fit = share of the FOP's capabilities matched by at least one duty of the standard; "
        "surplus = share of the standard's duties matching none of them (the two need not sum to 100 %); "
        f"only standards with a matched duty are listed, {FIT_LIMIT} at most.",
    )


def fit_surplus_matrix(data: CycleData, params: Params, match: MatchView | None) -> PageData:
    filters, fop = _fop_selection(data, params)
    if match is None:
        return _no_run("fit_surplus_matrix", "Fit & surplus matrix", filters)
    table = _fit_table(match, fop, _label(data, fop))
    chart = {
        "id": "fit_surplus_matrix",
        "type": "scatter",
        "title": f"Fit and surplus of {_label(data, fop)}: one point per standard" if fop else "Fit and surplus",
        "points": [{"x": r["fit"], "y": r["surplus"], "label": r["standard"]} for r in table.rows],
        "x_label": "Fit factor %",
        "y_label": "Surplus factor %",
        "quadrants": {
            "split": QUADRANT_SPLIT,
            "labels": {
                "top_left": quadrant(0, 100),
                "top_right": quadrant(100, 100),
                "bottom_left": quadrant(0, 0),
                "bottom_right": quadrant(100, 0),
            },
        },
        "color": SERIES_COLOURS[0],
    }
    return PageData(
        "fit_surplus_matrix",
        "Fit & surplus matrix",
        tables=[table],
        filters=[threshold_filter(match)] + filters,
        charts=[chart],
    )


def fop_capability_matches(data: CycleData, params: Params, match: MatchView | None) -> PageData:
    filters, fop = _fop_selection(data, params)
    state_value = params.get("matched") if params.get("matched") in ("yes", "no") else ""
    state = Filter(
        "matched", "Capabilities", "select", [("", "All"), ("yes", "Matched"), ("no", "Not matched")], state_value
    )
    if match is None:
        return _no_run("fop_capability_matches", "FOP capability matches", filters + [state])
    rows = []
    for cap_id, prof in sorted((fop.entries.items() if fop else []), key=lambda i: data.capability_by_id[i[0]].ref):
        cap = data.capability_by_id[cap_id]
        matched = match.matches(cap_id, fop=fop)
        if (state.value == "yes" and not matched) or (state.value == "no" and matched):
            continue
        best = match.best_match(cap_id, fop=fop)
        rows.append(
            {
                "type": verb_of(cap.statement),
                "ref": cap.ref,
                "statement": cap.statement,
                "proficiency": prof,
                "matches": len(matched),
                "score": best.score * 100 if best else None,
                "best_match": best.text if best else "",
                "standard": best.standard_label if best else "",
                "knowledge": tags_of(data, cap_id, TagKind.KNOWLEDGE),
                "skills": tags_of(data, cap_id, TagKind.SKILL),
                "behaviours": tags_of(data, cap_id, TagKind.BEHAVIOUR),
            }
        )
    table = Table(
        "capabilities",
        f"Capabilities of {_label(data, fop)} and their matches" if fop else "Capabilities",
        [
            Column("type", "Type"),
            Column("ref", "Ref"),
            Column("statement", "Capability statement"),
            Column("proficiency", "Proficiency", "int"),
            Column("matches", "Matches", "int"),
            Column("score", "Best score %", "pct"),
            Column("best_match", "Best matching duty"),
            Column("standard", "Standard"),
            Column("knowledge", "Knowledge tags", "list"),
            Column("skills", "Skill tags", "list"),
            Column("behaviours", "Behaviour tags", "list"),
        ],
        rows,
    )
    return PageData(
        "fop_capability_matches",
        "FOP capability matches",
        tables=[table],
        filters=[threshold_filter(match)] + filters + [state],
        figures=[
            Figure("Capabilities", len(fop.entries) if fop else 0),
            Figure("Matched", sum(1 for r in rows if r["matches"])),
        ],
    )


def fop_vs_provision(data: CycleData, params: Params, match: MatchView | None) -> PageData:
    filters, fop = _fop_selection(data, params)
    if match is None:
        return _no_run("fop_vs_provision", "FOP vs provision", filters)
    fits = sorted(
        match.fit_surplus(fop.id, limit=10) if fop else [], key=lambda f: (-f.fit, f.surplus, f.standard.title)
    )
    cap_ids = sorted(fop.entries if fop else [], key=lambda c: data.capability_by_id[c].ref)
    cells = match.standard_cells(fop.id, cap_ids, [f.standard.id for f in fits]) if fop else {}
    rows = []
    for cap_id in cap_ids:
        cap = data.capability_by_id[cap_id]
        row = {"ref": cap.ref, "statement": cap.statement}
        for i, fit in enumerate(fits):
            cell = cells.get((cap_id, fit.standard.id))
            if cell is None:
                row[f"s{i}"] = "Not in the run"
            else:
                score, matched = cell
                row[f"s{i}"] = f"{'Matched' if matched else 'Not matched'} ({score * 100:.1f})"
        row["matched_in"] = sum(1 for i in range(len(fits)) if row[f"s{i}"].startswith("Matched"))
        rows.append(row)
    table = Table(
        "matrix",
        f"{_label(data, fop)}: capabilities against the top 10 standards by fit" if fop else "Capabilities",
        [
            Column("ref", "Ref"),
            Column("statement", "Capability statement"),
            Column("matched_in", "Matched in (of top 10)", "int"),
        ]
        + [
            Column(
                f"s{i}", f"{fit.standard.title} (L{fit.standard.level})" if fit.standard.level else fit.standard.title
            )
            for i, fit in enumerate(fits)
        ],
        rows,
    )
    standards = Table(
        "standards",
        "Top 10 standards by fit",
        [
            Column("rank", "#", "int"),
            Column("standard", "Standard"),
            Column("level", "Level", "int"),
            Column("fit", "Fit factor %", "pct"),
            Column("surplus", "Surplus factor %", "pct"),
            Column("matched", "Capabilities matched", "int"),
            Column("not_matched", "Capabilities not matched", "int"),
        ],
        [
            {
                "rank": i,
                "standard": fit.standard.title,
                "level": fit.standard.level,
                "fit": fit.fit,
                "surplus": fit.surplus,
                "matched": fit.matched_capabilities,
                "not_matched": fit.fop_capabilities - fit.matched_capabilities,
            }
            for i, fit in enumerate(fits, start=1)
        ],
        empty_message="No standard matches any of this FOP's capabilities at this threshold."
        if fop
        else "This cycle has no FOP to compare.",
        searchable=False,
    )
    return PageData(
        "fop_vs_provision",
        "FOP vs provision",
        tables=[table, standards],
        filters=[threshold_filter(match)] + filters,
        extra={"standard_columns": [f"s{i}" for i in range(len(fits))]},
    )


NO_STANDARD_MATCHES = "No standard matches"


def _best_standard_text(standard, max_fit: float | None) -> str:
    """The best-fitting standard's label, or that none matches when the best fit is nothing at all."""
    if max_fit is None:
        return ""
    if standard is None or max_fit <= 0:
        return NO_STANDARD_MATCHES
    return standard.label


def fop_priorities(data: CycleData, params: Params, match: MatchView | None) -> PageData:
    level = role_level_filter(data, params)
    prio = priority_filter(params)
    if match is None:
        return _no_run("fop_priorities", "FOP priorities", [level, prio])
    unserved = set(match.capabilities_without_provision())
    labels = fop_labels(data.fops)
    rows = []
    for fop in data.fops:
        if not keep_fop(fop, level, priority_only=prio.value == "1"):
            continue
        caps = list(fop.entries)
        priority = match.priority(fop.id)
        if priority is not None:
            in_run, lacking, max_fit, best_standard = priority
        else:
            in_run, lacking, max_fit, best_standard = (
                sum(1 for c in caps if match.in_run(c)),
                sum(1 for c in caps if c in unserved),
                None,
                None,
            )
        partners = Counter(p for c in caps for p in partner_names(data, data.capability_by_id[c]))
        primary, primary_n = partners.most_common(1)[0] if partners else ("", 0)
        rows.append(
            {
                "fop": labels[fop.id],
                "role_level": fop.role_level,
                "priority": fop.priority,
                "capabilities": len(caps),
                "in_run": in_run,
                "without_provision": lacking,
                "without_pct": 100.0 * lacking / in_run if in_run else None,
                "max_fit": max_fit,
                "best_standard": _best_standard_text(best_standard, max_fit),
                "primary_partner": primary,
                "partner_share": 100.0 * primary_n / len(caps) if caps and primary else None,
            }
        )
    rows.sort(key=lambda r: (-r["without_provision"], r["max_fit"] if r["max_fit"] is not None else 0, r["fop"]))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    table = Table(
        "priorities",
        "FOPs ranked by capabilities without provision",
        [
            Column("rank", "Rank", "int"),
            Column("fop", "FOP"),
            Column("role_level", "Role level"),
            Column("priority", "Priority FOP", "bool"),
            Column("capabilities", "Capabilities", "int"),
            Column("in_run", "In the match run", "int"),
            Column("without_provision", "Without provision", "int"),
            Column("without_pct", "Without provision %", "pct"),
            Column("max_fit", "Max fit factor %", "pct"),
            Column("best_standard", "Best fitting standard"),
            Column("primary_partner", "Primary supply-chain partner"),
            Column("partner_share", "Capabilities of that partner %", "pct"),
        ],
        rows,
    )
    top = rows[:15]
    chart = {
        "id": "fop_priorities",
        "type": "bar",
        "title": "Capabilities without provision per FOP (top 15)",
        "labels": [r["fop"] for r in top],
        "datasets": [
            {"label": "Without provision", "data": [r["without_provision"] for r in top], "color": SERIES_COLOURS[1]}
        ],
        "horizontal": True,
    }
    return PageData(
        "fop_priorities",
        "FOP priorities",
        tables=[table],
        filters=[threshold_filter(match), level, prio],
        charts=[chart],
        notice=f"How it is computed: {matched_rule(match)} "
        "Without provision = the FOP's capabilities no duty of any standard in its level window matches; "
        "max fit = the largest share of its capabilities one standard's matched duties serve "
        "(no standard is named when none serves any).",
    )

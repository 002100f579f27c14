"""Industry pages: data capture overview, capabilities by function and by supply-chain partner,
highlighted capabilities and capabilities without provision."""

from __future__ import annotations

from collections import Counter

from findings.provision import MatchView
from findings.selectors import CycleData
from findings.tables.base import Column, Figure, PageData, Params, Table
from findings.tables.common import (
    SERIES_COLOURS,
    UNCLASSIFIED,
    capability_gap,
    function_filter,
    function_names,
    function_of,
    keep_capability,
    partner_filter,
    partner_names,
    pct,
)
from workshops.fops.selectors import fop_labels
from workshops.models import Proficiency, TagKind

OVERVIEW_PUBLISHED_KEYS = {
    "functions": ["dashboard_capability_functions"],
    "domains": ["dashboard_functional_domains"],
    "areas": ["dashboard_functional_areas"],
    "capabilities": ["capabilities_total", "capabilities_unique_identified"],
    "partners": ["supply_chain_partners", "dashboard_supply_chain_and_workforce_partners"],
    "role_levels": ["role_levels", "dashboard_role_levels"],
    "proficiency_levels": ["dashboard_proficiency_levels"],
    "fops": ["fops", "dashboard_future_occupational_profiles"],
    "priority_fops": ["priority_fops"],
    "ksb_links": ["ksbs"],
    "standards": ["standards_considered", "apprenticeship_standards_considered"],
    "academic_levels": ["dashboard_academic_levels"],
    "without_provision": ["capabilities_without_provision"],
}


def _published(data: CycleData, key: str):
    figures = data.published_facts.get("headline_figures") or {}
    for name in OVERVIEW_PUBLISHED_KEYS.get(key, []):
        value = figures.get(name)
        if isinstance(value, int | float):
            return value
    return None


def overview(data: CycleData, params: Params, match: MatchView | None) -> PageData:
    caps = data.capabilities
    tag_kinds = Counter(use.kind for use in data.tag_uses)
    distinct_tags = {(use.kind, use.name) for use in data.tag_uses}
    academic_levels: set[int] = set()
    for level in data.role_levels:
        academic_levels.update(range(level.academic_level_min, level.academic_level_max + 1))
    if match is not None:
        academic_levels = {s.level for s in match.standards_considered() if s.level is not None} or academic_levels
    rows = [
        ("Organisational insight", "functions", "Capability functions", len({c.function for c in caps if c.function})),
        ("Organisational insight", "domains", "Functional domains", len({c.domain for c in caps if c.domain})),
        ("Organisational insight", "areas", "Functional areas", len({c.area for c in caps if c.area})),
        ("Organisational insight", "capabilities", "Organisational capabilities", len(caps)),
        ("Organisational insight", "partners", "Supply-chain partners", len(data.partners)),
        ("Workforce insight", "role_levels", "Role levels", len(data.role_levels)),
        ("Workforce insight", "proficiency_levels", "Proficiency levels", len(Proficiency.choices)),
        ("Workforce insight", "fops", "Future occupational profiles (FOPs)", len(data.fops)),
        ("Workforce insight", "priority_fops", "Priority FOPs", sum(1 for f in data.fops if f.priority)),
        ("Workforce insight", "ksb_links", "KSB tags on capabilities", len(data.tag_uses)),
        ("Workforce insight", "knowledge", "Knowledge tags on capabilities", tag_kinds.get(TagKind.KNOWLEDGE, 0)),
        ("Workforce insight", "skills", "Skill tags on capabilities", tag_kinds.get(TagKind.SKILL, 0)),
        ("Workforce insight", "behaviours", "Behaviour tags on capabilities", tag_kinds.get(TagKind.BEHAVIOUR, 0)),
        ("Workforce insight", "distinct_tags", "Distinct KSB tags", len(distinct_tags)),
        (
            "Future state vs current provision",
            "standards",
            "Standards considered",
            len(match.standards_considered()) if match else None,
        ),
        ("Future state vs current provision", "academic_levels", "Academic levels", len(academic_levels) or None),
        (
            "Future state vs current provision",
            "without_provision",
            "Capabilities without provision",
            len(match.capabilities_without_provision()) if match else None,
        ),
    ]
    table_rows = [
        {"panel": panel, "key": key, "measure": label, "count": value, "published": _published(data, key)}
        for panel, key, label, value in rows
    ]
    table = Table(
        "counts",
        "Data captured in this cycle",
        [
            Column("panel", "Panel"),
            Column("measure", "Measure"),
            Column("count", "In this product", "int"),
            Column("published", "Published report", "int"),
        ],
        table_rows,
    )
    figures = [
        Figure(r["measure"], r["count"])
        for r in table_rows
        if r["key"] in ("capabilities", "fops", "partners", "role_levels", "ksb_links")
    ]
    notice = "" if match else "Standards and provision counts appear once a match run has been completed."
    return PageData(
        "overview",
        "Data capture overview",
        tables=[table],
        figures=figures,
        notice=notice,
        missing=capability_gap(data),
    )


def functions(data: CycleData, params: Params, match: MatchView | None) -> PageData:
    names = function_names(data)
    func = function_filter(data, params, names)
    partner = partner_filter(data, params)
    caps = [c for c in data.capabilities if keep_capability(c, func, partner)]
    future = Counter(function_of(c) for c in caps)
    current = Counter()
    standards_filter = None
    notice = ""
    if match is not None:
        standards_filter, current = match.current_state_by_function(params, data)
        for name in current:
            if name not in names:
                names.append(name)
        if not any(c.function for c in data.capabilities):
            notice = (
                "The current-state proxy waits for the classification too: each duty of a current standard "
                "takes the function of its nearest classified capability."
            )
    else:
        notice = "The current-state proxy (duties of current standards classified to functions) needs a match run."
    shown = [n for n in names if not func.values or n in func.values]
    total_future = sum(future[n] for n in shown)
    total_current = sum(current[n] for n in shown)
    rows = [
        {
            "function": name,
            "future": future.get(name, 0),
            "future_pct": pct(future.get(name, 0), total_future),
            "current": current.get(name, 0) if match else None,
            "current_pct": pct(current.get(name, 0), total_current) if match else None,
        }
        for name in shown
    ]
    summary = Table(
        "by_function",
        "Capabilities by function: future state and current provision",
        [
            Column("function", "Function"),
            Column("future", "Future capabilities", "int"),
            Column("future_pct", "Future share %", "pct"),
            Column("current", "Current duties", "int"),
            Column("current_pct", "Current share %", "pct"),
        ],
        rows,
        searchable=False,
    )
    detail = Table(
        "capabilities",
        "Organisational capabilities",
        [
            Column("ref", "Ref"),
            Column("statement", "Capability statement"),
            Column("function", "Function"),
            Column("domain", "Functional domain"),
            Column("area", "Functional area"),
            Column("partners", "Supply-chain partners", "list"),
        ],
        [
            {
                "ref": c.ref,
                "statement": c.statement,
                "function": c.function or UNCLASSIFIED,
                "domain": c.domain,
                "area": c.area,
                "partners": partner_names(data, c),
            }
            for c in caps
        ],
    )
    datasets = [{"label": "Future state %", "data": [r["future_pct"] or 0 for r in rows], "color": SERIES_COLOURS[0]}]
    if match is not None:
        datasets.insert(
            0, {"label": "Current state %", "data": [r["current_pct"] or 0 for r in rows], "color": "#6f8fa3"}
        )
    chart = {
        "id": "functions",
        "type": "bar",
        "title": "Capability functions: current and future state (%)",
        "labels": [r["function"] for r in rows],
        "datasets": datasets,
        "percent": True,
    }
    filters = [func, partner] + ([standards_filter] if standards_filter else [])
    return PageData(
        "functions",
        "Organisational capabilities by function",
        tables=[summary, detail],
        filters=filters,
        charts=[chart],
        notice=notice,
        needs_match_run=match is None,
        figures=[Figure("Capabilities shown", len(caps))],
        missing=capability_gap(data, classified=True),
    )


def partners(data: CycleData, params: Params, match: MatchView | None) -> PageData:
    names = function_names(data)
    func = function_filter(data, params, names)
    partner = partner_filter(data, params)
    shown_funcs = [n for n in names if not func.values or n in func.values]
    shown_partners = [p for p in data.partners if not partner.values or str(p.id) in partner.values]
    counts: Counter = Counter()
    for cap in data.capabilities:
        if not keep_capability(cap, func):
            continue
        for pid in cap.partner_ids:
            counts[(pid, function_of(cap))] += 1
    rows = []
    for p in shown_partners:
        row = {"partner": p.name}
        for i, name in enumerate(shown_funcs):
            row[f"f{i}"] = counts.get((p.id, name), 0)
        row["total"] = sum(counts.get((p.id, name), 0) for name in shown_funcs)
        rows.append(row)
    matrix = Table(
        "matrix",
        "Capabilities by supply-chain partner and function",
        [Column("partner", "Supply-chain partner")]
        + [Column(f"f{i}", name, "int") for i, name in enumerate(shown_funcs)]
        + [Column("total", "Total", "int")],
        rows,
        searchable=False,
    )
    caps = [c for c in data.capabilities if keep_capability(c, func, partner)]
    detail = Table(
        "capabilities",
        "Capabilities of the selected partners",
        [Column("ref", "Ref"), Column("statement", "Capability statement"), Column("function", "Function")]
        + [Column(f"p{p.id}", p.name, "bool") for p in data.partners],
        [
            {"ref": c.ref, "statement": c.statement, "function": function_of(c)}
            | {f"p{p.id}": p.id in c.partner_ids for p in data.partners}
            for c in caps
        ],
    )
    chart = {
        "id": "partners",
        "type": "bar",
        "title": "Capabilities by supply-chain partner and function",
        "labels": [r["partner"] for r in rows],
        "datasets": [
            {"label": name, "data": [r[f"f{i}"] for r in rows], "color": SERIES_COLOURS[i % len(SERIES_COLOURS)]}
            for i, name in enumerate(shown_funcs)
        ],
        "stacked": True,
        "horizontal": True,
    }
    without_partner = sum(1 for c in data.capabilities if not c.partner_ids and keep_capability(c, func))
    missing = capability_gap(data)
    if not missing and not data.partners:
        missing = "partners"
    elif not missing and not any(c.partner_ids for c in data.capabilities):
        missing = "partner_links"
    missing = missing or capability_gap(data, classified=True)  # by function, every count is "Unclassified"
    return PageData(
        "partners",
        "Capabilities by supply-chain partner",
        tables=[matrix, detail],
        filters=[partner, func],
        charts=[chart],
        figures=[Figure("Capabilities with no partner recorded", without_partner)],
        notice="A capability that applies to several partners counts once for each of them.",
        missing=missing,
    )


def _best_match_for(cap, match: MatchView | None) -> dict:
    if match is not None:
        best = match.best_match(cap.id)
        if best is None:
            return {"best_match": "No match found", "standard": "", "score": None, "source": "Match run"}
        if not match.is_served(cap.id):
            # The closest duty is below the threshold: no standard matches, so none is named.
            return {
                "best_match": f"No standard matches at the threshold (closest duty: {best.text})",
                "standard": "",
                "score": best.score * 100,
                "served": False,
                "source": "Match run",
            }
        return {
            "best_match": best.text,
            "standard": best.standard_label,
            "score": best.score * 100,
            "served": best.score >= match.threshold,
            "source": "Match run",
        }
    published = cap.published_provision or {}
    status = published.get("status")
    label = {"match": "", "partial": "Partial match: ", "none": "", "unknown": ""}.get(status, "")
    if status == "none":
        text = "No match found"
    elif status in ("match", "partial"):
        text = label + (published.get("best_match_duty") or "")
    else:
        text = ""
    return {
        "best_match": text,
        "standard": published.get("standard") or "",
        "score": None,
        "source": "Published report" if status else "",
    }


def highlighted(data: CycleData, params: Params, match: MatchView | None) -> PageData:
    rows = []
    cards = []
    labels = fop_labels(data.fops)  # two FOPs of one name read apart (their role level)
    for number, cap in enumerate((c for c in data.capabilities if c.highlighted), start=1):
        fops = sorted(data.fops_by_capability.get(cap.id, []), key=lambda item: labels[item[0].id].lower())
        best = _best_match_for(cap, match)
        row = {
            "number": number,
            "ref": cap.ref,
            "statement": cap.statement,
            "reason": cap.highlight_reason,
            "fops": [f"{labels[fop.id]} ({prof})" for fop, prof in fops],
            "best_match": best["best_match"],
            "standard": best["standard"],
            "score": best["score"],
            "source": best["source"],
        }
        rows.append(row)
        cards.append(row | {"fop_rows": [(labels[fop.id], prof) for fop, prof in fops]})
    table = Table(
        "highlighted",
        "Highlighted capabilities",
        [
            Column("number", "#", "int"),
            Column("ref", "Ref"),
            Column("statement", "Capability statement"),
            Column("reason", "Reason to highlight"),
            Column("fops", "Associated FOPs (proficiency)", "list"),
            Column("best_match", "Best match"),
            Column("standard", "Standard"),
            Column("score", "Match score %", "pct"),
            Column("source", "Provision from"),
        ],
        rows,
        empty_message="No capability of this cycle is highlighted yet: a highlight and its reason come with "
        "a published report's data, or a site administrator sets them.",
    )
    if match is not None:
        notice = ""
    elif has_published_provision(data):
        notice = (
            "No match run yet: the best match shown is the one printed in the published report, where there is one."
        )
    else:
        notice = "No match run yet, so no best match is shown."
    return PageData(
        "highlighted",
        "Highlighted capabilities",
        tables=[table],
        notice=notice,
        extra={"cards": cards, "key": "Expert = 3, Practitioner = 2, Awareness = 1"},
        missing=capability_gap(data),
    )


def has_published_provision(data: CycleData) -> bool:
    """Whether the cycle carries provision facts from a published report (the demo cycles do)."""
    return any((c.published_provision or {}).get("status") for c in data.capabilities)


def without_provision(data: CycleData, params: Params, match: MatchView | None) -> PageData:
    partner = partner_filter(data, params)
    func = function_filter(data, params)
    if match is not None:
        unserved = set(match.capabilities_without_provision())
        source = f"Match run against {match.framework_label} at a threshold of {match.threshold * 100:.1f} %."
        empty = "Every capability in the match run is served at this threshold."
    elif has_published_provision(data):
        unserved = {c.id for c in data.capabilities if (c.published_provision or {}).get("status") == "none"}
        source = "No match run yet: capabilities the published report lists without provision."
        empty = "The published report lists no capability without provision."
    else:
        # Nothing has been compared with current provision: say only that, claim nothing about provision.
        return PageData("without_provision", "Capabilities without provision", needs_match_run=True)
    caps = [c for c in data.capabilities if c.id in unserved and keep_capability(c, func, partner)]
    if partner.values or func.values or params.get("q"):
        empty = "No capability without provision matches these filters."
    table = Table(
        "without_provision",
        "Capabilities without identified provision",
        [Column("ref", "Ref"), Column("statement", "Capability statement"), Column("function", "Function")]
        + [Column(f"p{p.id}", p.name, "bool") for p in data.partners],
        [
            {"ref": c.ref, "statement": c.statement, "function": function_of(c)}
            | {f"p{p.id}": p.id in c.partner_ids for p in data.partners}
            for c in caps
        ],
        empty_message=empty,
    )
    per_partner = [sum(1 for c in caps if p.id in c.partner_ids) for p in data.partners]
    chart = {
        "id": "without_provision",
        "type": "bar",
        "title": "Capabilities without provision by supply-chain partner",
        "labels": [p.name for p in data.partners],
        "datasets": [{"label": "Capabilities", "data": per_partner, "color": SERIES_COLOURS[1]}],
        "horizontal": True,
    }
    return PageData(
        "without_provision",
        "Capabilities without provision",
        tables=[table],
        filters=[partner, func],
        charts=[chart],
        figures=[
            Figure("Capabilities without provision", len(unserved)),
            Figure("Capabilities in the cycle", len(data.capabilities)),
        ],
        notice=source,
        needs_match_run=match is None,
    )

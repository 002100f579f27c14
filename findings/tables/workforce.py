"""Workforce pages: proficiency by role level, the FOP matrix, FOP detail, FOP distribution and KSBs."""

from __future__ import annotations

from collections import Counter, defaultdict

from findings.provision import MatchView
from findings.selectors import CycleData, FOPRow
from findings.tables.base import Column, Figure, Filter, PageData, Params, Table
from findings.tables.common import (
    NO_ROLE_LEVEL,
    PROFICIENCY_COLOURS,
    PROFICIENCY_LEVELS,
    SERIES_COLOURS,
    capability_gap,
    fop_choice,
    function_filter,
    function_of,
    keep_capability,
    keep_fop,
    partner_filter,
    pct,
    priority_filter,
    role_level_filter,
    tags_of,
)
from workshops.fops.selectors import fop_labels
from workshops.models import Proficiency, TagKind

PUBLISHED_CODES = {"A": Proficiency.AWARENESS, "P": Proficiency.PRACTITIONER, "E": Proficiency.EXPERT}
SOURCES = [
    ("consensus", "Delphi consensus"),
    ("fops", "Ratified FOP proficiencies"),
    ("published", "Published report"),
]


def _distribution_by_source(data: CycleData, source: str) -> list[tuple[str, dict[int, float], bool]]:
    """(role level, {proficiency: count or percent}, values_are_counts) rows for one source."""
    if source == "published":
        published = data.published_facts.get("proficiency_distribution_by_role_level") or {}
        return [
            (level, {PUBLISHED_CODES[code]: float(v) for code, v in values.items() if code in PUBLISHED_CODES}, False)
            for level, values in published.items()
        ]
    counts: dict[object, Counter] = defaultdict(Counter)
    if source == "consensus":
        for _cap, level_id, value in data.consensus:
            counts[level_id][value] += 1
    else:
        for fop in data.fops:
            for prof in fop.entries.values():
                counts[fop.role_level_id][prof] += 1
    rows = [(level.name, dict(counts[level.id]), True) for level in data.role_levels if level.id in counts]
    if None in counts:
        rows.append(("No role level", dict(counts[None]), True))
    return rows


def proficiency(data: CycleData, params: Params, match: MatchView | None) -> PageData:
    available = [key for key, _label in SOURCES if _distribution_by_source(data, key)]
    requested = params.get("source")
    source = requested if requested in available else (available[0] if available else "consensus")
    source_filter = Filter(
        "source",
        "Source",
        "select",
        [(k, label) for k, label in SOURCES if k in available] or [("consensus", "Delphi consensus")],
        source,
    )
    rows = []
    for level, values, are_counts in _distribution_by_source(data, source):
        needed = sum(values.get(p, 0) for p in PROFICIENCY_LEVELS)
        row = {"role_level": level}
        if are_counts:
            row["not_needed"] = int(values.get(Proficiency.NOT_NEEDED, 0))
            for p in PROFICIENCY_LEVELS:
                row[f"n{p}"] = int(values.get(p, 0))
            row["total"] = needed
        for p in PROFICIENCY_LEVELS:
            row[f"pct{p}"] = pct(values.get(p, 0), needed)
        rows.append(row)
    columns = [Column("role_level", "Role level")]
    if source != "published":
        columns += [Column("not_needed", "Not needed", "int")]
        columns += [Column(f"n{p}", Proficiency(p).label, "int") for p in PROFICIENCY_LEVELS]
        columns += [Column("total", "Needed (A+P+E)", "int")]
    columns += [Column(f"pct{p}", f"{Proficiency(p).label} %", "pct") for p in PROFICIENCY_LEVELS]
    table = Table(
        "distribution",
        "Proficiency distribution by role level",
        columns,
        rows,
        empty_message="No proficiencies yet: they come from the Delphi rounds and the ratified FOPs.",
    )
    chart = {
        "id": "proficiency",
        "type": "bar",
        "title": "Required proficiency by role level (% of needed items)",
        "labels": [r["role_level"] for r in rows],
        "datasets": [
            {"label": Proficiency(p).label, "data": [r[f"pct{p}"] or 0 for r in rows], "color": PROFICIENCY_COLOURS[p]}
            for p in PROFICIENCY_LEVELS
        ],
        "stacked": True,
        "percent": True,
    }
    notice = {
        "consensus": "Consensus proficiency of every Delphi item (capability × role level) that has settled.",
        "fops": "Proficiencies the ratified FOPs require, grouped by each FOP's role level.",
        "published": "Percentages as printed in the published report.",
    }[source]
    return PageData(
        "proficiency",
        "Proficiency distribution by role level",
        tables=[table],
        filters=[source_filter],
        charts=[chart],
        notice=notice,
        missing="" if rows else "consensus",
    )


def labelled_fop_choice(data: CycleData, params: Params, fops: list[FOPRow]) -> tuple[Filter, FOPRow | None]:
    """The FOP selector, each FOP under its label (two FOPs of one name read apart)."""
    filt, chosen = fop_choice(data, params, fops)
    labels = fop_labels(data.fops)
    filt.choices = [(str(f.id), f"{labels[f.id]}{' ★' if f.priority else ''} ({len(f.entries)})") for f in fops]
    return filt, chosen


def _fops_for(data: CycleData, params: Params):
    level = role_level_filter(data, params)
    prio = priority_filter(params)
    fops = [f for f in data.fops if keep_fop(f, level, priority_only=prio.value == "1")]
    return level, prio, fops


def fop_matrix(data: CycleData, params: Params, match: MatchView | None) -> PageData:
    level, prio, fops = _fops_for(data, params)
    labels = fop_labels(data.fops)
    func = function_filter(data, params)
    partner = partner_filter(data, params)
    rows = []
    for cap in data.capabilities:
        if not keep_capability(cap, func, partner):
            continue
        cells = {f"prof_{f.id}": f.entries.get(cap.id) for f in fops}
        needed = [v for v in cells.values() if v]
        if not needed:  # hide empty rows
            continue
        rows.append(
            {"ref": cap.ref, "statement": cap.statement, "function": function_of(cap), "fops": len(needed)} | cells
        )
    table = Table(
        "matrix",
        "Capabilities × FOPs (1 Awareness, 2 Practitioner, 3 Expert)",
        [
            Column("ref", "Ref"),
            Column("statement", "Capability statement"),
            Column("function", "Function"),
            Column("fops", "FOPs", "int"),
        ]
        + [Column(f"prof_{f.id}", labels[f.id] + (" ★" if f.priority else ""), "int") for f in fops],
        rows,
        empty_message="No FOP needs any capability for these filters.",
    )
    return PageData(
        "fop_matrix",
        "FOP matrix",
        tables=[table],
        filters=[level, prio, partner, func],
        figures=[Figure("FOPs shown", len(fops)), Figure("Capabilities shown", len(rows))],
        extra={"proficiency_columns": [f"prof_{f.id}" for f in fops]},
        missing="" if data.fops else "fops",
    )


def fop_detail(data: CycleData, params: Params, match: MatchView | None) -> PageData:
    level, prio, fops = _fops_for(data, params)
    fop_filter, fop = labelled_fop_choice(data, params, fops)
    label = fop_labels(data.fops).get(fop.id, fop.name) if fop else ""
    rows = []
    if fop is not None:
        for cap_id, prof in sorted(fop.entries.items(), key=lambda item: data.capability_by_id[item[0]].ref):
            cap = data.capability_by_id[cap_id]
            row = {
                "ref": cap.ref,
                "statement": cap.statement,
                "proficiency": prof,
                "level": Proficiency(prof).label,
                "function": function_of(cap),
                "domain": cap.domain,
                "area": cap.area,
                "knowledge": tags_of(data, cap_id, TagKind.KNOWLEDGE),
                "skills": tags_of(data, cap_id, TagKind.SKILL),
                "behaviours": tags_of(data, cap_id, TagKind.BEHAVIOUR),
            }
            if match is not None:
                best = match.best_match(cap_id, fop=fop)
                row["best_match"] = best.text if best else "No match found"
                row["standard"] = best.standard_label if best else ""
                row["score"] = best.score * 100 if best else None
            rows.append(row)
    columns = [
        Column("ref", "Ref"),
        Column("statement", "Capability statement"),
        Column("proficiency", "Proficiency", "int"),
        Column("level", "Proficiency name"),
        Column("function", "Function"),
        Column("domain", "Functional domain"),
        Column("area", "Functional area"),
        Column("knowledge", "Knowledge tags", "list"),
        Column("skills", "Skill tags", "list"),
        Column("behaviours", "Behaviour tags", "list"),
    ]
    if match is not None:
        columns += [
            Column("best_match", "Best match"),
            Column("standard", "Standard"),
            Column("score", "Match score %", "pct"),
        ]
    table = Table("capabilities", f"Capabilities of {label}" if fop else "Capabilities", columns, rows)
    figures = []
    if fop is not None:
        figures = [
            Figure("Role level", fop.role_level or "—"),
            Figure("Priority FOP", "Yes" if fop.priority else "No"),
            Figure("Capabilities", len(fop.entries)),
        ]
    return PageData(
        "fop_detail",
        "FOP detail",
        tables=[table],
        filters=[level, prio, fop_filter],
        figures=figures,
        extra={"fop": fop},
        notice="" if fops or not data.fops else "No FOP matches these filters.",
        missing="" if data.fops else "fops",
    )


def fop_distribution(data: CycleData, params: Params, match: MatchView | None) -> PageData:
    level, prio, fops = _fops_for(data, params)
    labels = fop_labels(data.fops)
    func = function_filter(data, params)
    partner = partner_filter(data, params)
    rows = []
    for cap in data.capabilities:
        if not keep_capability(cap, func, partner):
            continue
        by_level: dict[int, list[str]] = {p: [] for p in PROFICIENCY_LEVELS}
        for fop in fops:
            prof = fop.entries.get(cap.id)
            if prof:
                by_level[prof].append(labels[fop.id])
        total = sum(len(v) for v in by_level.values())
        row = {"ref": cap.ref, "statement": cap.statement, "function": function_of(cap), "total": total}
        for p in PROFICIENCY_LEVELS:
            row[f"n{p}"] = len(by_level[p])
            row[f"names{p}"] = by_level[p]
        rows.append(row)
    rows.sort(key=lambda r: (-r["total"], r["ref"]))
    table = Table(
        "distribution",
        "How many FOPs need each capability, at each proficiency",
        [
            Column("ref", "Ref"),
            Column("statement", "Capability statement"),
            Column("function", "Function"),
            Column("total", "FOPs", "int"),
        ]
        + [Column(f"n{p}", Proficiency(p).label, "int") for p in PROFICIENCY_LEVELS]
        + [Column(f"names{p}", f"FOPs at {Proficiency(p).label}", "list") for p in PROFICIENCY_LEVELS],
        rows,
    )
    top = [r for r in rows if r["total"]][:25]
    chart = {
        "id": "fop_distribution",
        "type": "bar",
        "title": "FOPs needing each capability, by proficiency (top 25)",
        "labels": [r["ref"] for r in top],
        "datasets": [
            {"label": Proficiency(p).label, "data": [r[f"n{p}"] for r in top], "color": PROFICIENCY_COLOURS[p]}
            for p in PROFICIENCY_LEVELS
        ],
        "stacked": True,
    }
    return PageData(
        "fop_distribution",
        "FOP distribution",
        tables=[table],
        filters=[level, prio, partner, func],
        charts=[chart],
        figures=[
            Figure("FOPs counted", len(fops)),
            Figure("Capabilities needed by no FOP", sum(1 for r in rows if not r["total"])),
        ],
        missing="" if data.fops else "fops",
    )


def tag_frequencies(data: CycleData, kind: str, cap_ids: set[int] | None = None) -> list[tuple[str, int]]:
    """(tag, number of capabilities tagged) for one kind, most frequent first."""
    counts = Counter(
        use.name for use in data.tag_uses if use.kind == kind and (cap_ids is None or use.capability_id in cap_ids)
    )
    return sorted(counts.items(), key=lambda item: (-item[1], item[0].lower()))


def ksb(data: CycleData, params: Params, match: MatchView | None) -> PageData:
    func = function_filter(data, params)
    partner = partner_filter(data, params)
    top_n = params.get_int("top") or 20
    top_n = max(5, min(top_n, 100))
    top_filter = Filter(
        "top", "Most frequent tags shown", "select", [(str(n), str(n)) for n in (10, 20, 30, 50)], str(top_n)
    )
    caps = [c for c in data.capabilities if keep_capability(c, func, partner)]
    cap_ids = {c.id for c in caps}
    summary = Table(
        "capabilities",
        "Future KSBs by capability",
        [
            Column("ref", "Ref"),
            Column("statement", "Capability statement"),
            Column("function", "Function"),
            Column("domain", "Functional domain"),
            Column("area", "Functional area"),
            Column("knowledge", "Knowledge tags", "list"),
            Column("skills", "Skill tags", "list"),
            Column("behaviours", "Behaviour tags", "list"),
        ],
        [
            {
                "ref": c.ref,
                "statement": c.statement,
                "function": function_of(c),
                "domain": c.domain,
                "area": c.area,
                "knowledge": tags_of(data, c.id, TagKind.KNOWLEDGE),
                "skills": tags_of(data, c.id, TagKind.SKILL),
                "behaviours": tags_of(data, c.id, TagKind.BEHAVIOUR),
            }
            for c in caps
        ],
    )
    tables = [summary]
    charts = []
    notice = ""
    uses_published = not data.tag_uses and any(data.published_tag_frequencies.values())
    if uses_published:
        notice = "Educators have not tagged this cycle's capabilities yet: the tag frequencies are those printed in the published report."
    for i, (kind, label) in enumerate(
        ((TagKind.KNOWLEDGE, "Knowledge"), (TagKind.SKILL, "Skill"), (TagKind.BEHAVIOUR, "Behaviour"))
    ):
        freq = data.published_tag_frequencies[kind] if uses_published else tag_frequencies(data, kind, cap_ids)
        freq = freq[:top_n]
        tables.append(
            Table(
                f"top_{label.lower()}",
                f"Most frequent {label} tags",
                [Column("rank", "#", "int"), Column("tag", "Tag"), Column("count", "Tag frequency", "int")],
                [{"rank": n, "tag": tag, "count": count} for n, (tag, count) in enumerate(freq, start=1)],
                empty_message=f"No {label} tags yet.",
            )
        )
        if kind != TagKind.BEHAVIOUR:
            charts.append(
                {
                    "id": f"tags_{label.lower()}",
                    "type": "bar",
                    "title": f"Most frequent {label} tags",
                    "labels": [tag for tag, _ in freq],
                    "datasets": [
                        {"label": "Capabilities", "data": [count for _, count in freq], "color": SERIES_COLOURS[i]}
                    ],
                    "horizontal": True,
                }
            )
    return PageData(
        "ksb",
        "Future KSBs and most frequent tags",
        tables=tables,
        filters=[partner, func, top_filter],
        charts=charts,
        notice=notice,
        figures=[
            Figure("Capabilities shown", len(caps)),
            Figure("Capabilities with at least one tag", sum(1 for c in caps if c.id in data.tags_by_capability)),
        ],
        missing=capability_gap(data) or ("" if data.tag_uses else "tags"),
    )


__all__ = ["fop_detail", "fop_distribution", "fop_matrix", "ksb", "proficiency", "NO_ROLE_LEVEL"]

"""Filters and helpers shared by several findings pages."""

from __future__ import annotations

from findings.selectors import CapabilityRow, CycleData, FOPRow
from findings.tables.base import Filter, Params
from workshops.models import Proficiency

UNCLASSIFIED = "Unclassified"
NO_ROLE_LEVEL = "none"
PROFICIENCY_LEVELS = [Proficiency.AWARENESS, Proficiency.PRACTITIONER, Proficiency.EXPERT]
# Not needed → Expert, light to dark; each at least 3:1 on white (WCAG 1.4.11, non-text contrast).
PROFICIENCY_COLOURS = {0: "#868e96", 1: "#4a90c8", 2: "#2166ac", 3: "#08306b"}
SERIES_COLOURS = ["#0b4f6c", "#b3461f", "#3a7d44", "#6f42c1", "#c9a227", "#1f77b4", "#8c564b", "#e377c2", "#17becf"]


def capability_gap(data: CycleData, *, classified: bool = False) -> str:
    """What the cycle lacks before its capabilities can be shown (a key of findings.empty_states.STEPS):
    any capability at all, or (``classified``) one classified to a function."""
    if not data.capabilities:
        return "capabilities"
    if classified and not any(c.function for c in data.capabilities):
        return "classification"
    return ""


def pct(part: float, whole: float) -> float | None:
    return None if not whole else 100.0 * part / whole


def function_names(data: CycleData) -> list[str]:
    """Functions used by the cycle's capabilities, in taxonomy order, with 'Unclassified' last if needed."""
    from workshops.models import Function

    used = {c.function for c in data.capabilities if c.function}
    names = [f.name for f in Function.objects.order_by("order", "name") if f.name in used] if used else []
    if any(not c.function for c in data.capabilities):
        names.append(UNCLASSIFIED)
    return names


def function_of(cap: CapabilityRow) -> str:
    return cap.function or UNCLASSIFIED


def function_filter(data: CycleData, params: Params, names: list[str] | None = None) -> Filter:
    names = names if names is not None else function_names(data)
    chosen = [v for v in params.get_list("function") if v in names]
    return Filter("function", "Function", "multi", [(n, n) for n in names], chosen)


def partner_filter(data: CycleData, params: Params) -> Filter:
    ids = {str(p.id) for p in data.partners}
    chosen = [v for v in params.get_list("partner") if v in ids]
    return Filter("partner", "Supply-chain partner", "multi", [(str(p.id), p.name) for p in data.partners], chosen)


def role_level_filter(data: CycleData, params: Params, *, fops: list[FOPRow] | None = None) -> Filter:
    choices = [(str(r.id), r.name) for r in data.role_levels]
    fops = fops if fops is not None else data.fops
    if any(f.role_level_id is None for f in fops):
        choices.append((NO_ROLE_LEVEL, "No role level"))
    valid = {c[0] for c in choices}
    chosen = [v for v in params.get_list("role_level") if v in valid]
    return Filter("role_level", "Role level", "multi", choices, chosen)


def keep_capability(cap: CapabilityRow, function: Filter | None = None, partner: Filter | None = None) -> bool:
    if function is not None and function.values and function_of(cap) not in function.values:
        return False
    if partner is not None and partner.values:
        wanted = {int(v) for v in partner.values}
        if not wanted.intersection(cap.partner_ids):
            return False
    return True


def keep_fop(fop: FOPRow, role_level: Filter | None, priority_only: bool = False) -> bool:
    if priority_only and not fop.priority:
        return False
    if role_level is not None and role_level.values:
        key = str(fop.role_level_id) if fop.role_level_id else NO_ROLE_LEVEL
        if key not in role_level.values:
            return False
    return True


def priority_filter(params: Params) -> Filter:
    value = params.get("priority")
    value = value if value in ("1",) else ""
    return Filter("priority", "FOPs", "select", [("", "All FOPs"), ("1", "Priority FOPs only")], value)


def fop_choice(data: CycleData, params: Params, fops: list[FOPRow]) -> tuple[Filter, FOPRow | None]:
    """The FOP selector: the requested FOP if it is among ``fops``, else the first priority FOP that
    has capabilities, else the first FOP with capabilities, else the first."""
    by_id = {str(f.id): f for f in fops}
    chosen = by_id.get(params.get("fop"))
    if chosen is None and fops:
        chosen = next((f for f in fops if f.priority and f.entries), next((f for f in fops if f.entries), fops[0]))
    filt = Filter(
        "fop",
        "Future occupational profile",
        "select",
        [(str(f.id), f"{f.name}{' ★' if f.priority else ''} ({len(f.entries)})") for f in fops],
        str(chosen.id) if chosen else "",
    )
    return filt, chosen


def partner_names(data: CycleData, cap: CapabilityRow) -> list[str]:
    names = {p.id: p.name for p in data.partners}
    return [names[pid] for pid in cap.partner_ids if pid in names]


def tags_of(data: CycleData, cap_id: int, kind: str) -> list[str]:
    entry = data.tags_by_capability.get(cap_id)
    return list(entry[kind]) if entry else []


def verb_of(statement: str) -> str:
    """The leading verb of a capability statement (the hub's 'Type' column)."""
    word = (statement or "").strip().split(" ", 1)[0]
    return word.strip(",.;:").capitalize()

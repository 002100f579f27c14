"""Every findings page's data, built in one place.

``build_page(key, cycle, params)`` is what the page, its CSV and XLSX downloads, the whole-cycle
exports, ``export_findings`` and the report all call: one function per page (in ``industry``,
``workforce`` and ``provision_pages``) returns a ``PageData`` of tables, chart data and filters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cycles.models import Cycle
from findings.provision import MatchView, load_match_view
from findings.selectors import CycleData
from findings.tables import industry, provision_pages, workforce
from findings.tables.base import Column, Figure, Filter, Page, PageData, Params, Table, apply_search_and_sort

PAGES: list[Page] = [
    Page(
        "overview", "Data capture overview", "industry", "Counts of everything the cycle captured.", industry.overview
    ),
    Page(
        "functions",
        "Organisational capabilities by function",
        "industry",
        "Future capabilities by function, beside a current-state proxy from today's standards.",
        industry.functions,
    ),
    Page(
        "partners",
        "Capabilities by supply-chain partner",
        "industry",
        "Which partners need which capabilities, by function.",
        industry.partners,
    ),
    Page(
        "highlighted",
        "Highlighted capabilities",
        "industry",
        "The capabilities singled out, with their FOPs, proficiencies and best match.",
        industry.highlighted,
    ),
    Page(
        "proficiency",
        "Proficiency distribution by role level",
        "workforce",
        "Awareness, Practitioner and Expert shares per role level.",
        workforce.proficiency,
    ),
    Page(
        "fop_matrix",
        "FOP matrix",
        "workforce",
        "Capabilities × FOPs with the proficiency each needs.",
        workforce.fop_matrix,
    ),
    Page("fop_detail", "FOP detail", "workforce", "One FOP's capabilities with their KSB tags.", workforce.fop_detail),
    Page(
        "fop_distribution",
        "FOP distribution",
        "workforce",
        "Per capability, how many FOPs need it at each proficiency.",
        workforce.fop_distribution,
    ),
    Page(
        "ksb",
        "Future KSBs and most frequent tags",
        "workforce",
        "KSB tags per capability and the most frequent tags.",
        workforce.ksb,
    ),
    Page(
        "capability_matches",
        "Capabilities matched to current provision",
        "provision",
        "Served and not served capabilities at a threshold, with the matched duties.",
        provision_pages.capability_matches,
        uses_matching=True,
    ),
    Page(
        "fit_surplus",
        "Fit & surplus factors",
        "provision",
        "Per FOP, how well each standard fits and how much of it is surplus.",
        provision_pages.fit_surplus,
        uses_matching=True,
    ),
    Page(
        "fit_surplus_matrix",
        "Fit & surplus matrix",
        "provision",
        "The same factors as a scatter, one point per standard.",
        provision_pages.fit_surplus_matrix,
        uses_matching=True,
    ),
    Page(
        "fop_capability_matches",
        "FOP capability matches",
        "provision",
        "A FOP's capabilities with their matches and KSB tags.",
        provision_pages.fop_capability_matches,
        uses_matching=True,
    ),
    Page(
        "fop_vs_provision",
        "FOP vs provision",
        "provision",
        "A FOP against its top 10 standards: matched and not matched capabilities.",
        provision_pages.fop_vs_provision,
        uses_matching=True,
    ),
    Page(
        "fop_priorities",
        "FOP priorities",
        "provision",
        "FOPs ranked by capabilities without provision, with their best fit.",
        provision_pages.fop_priorities,
        uses_matching=True,
    ),
    Page(
        "without_provision",
        "Capabilities without provision",
        "provision",
        "Capabilities no standard serves, with their supply-chain partners.",
        industry.without_provision,
    ),
]
PAGE_BY_KEY: dict[str, Page] = {p.key: p for p in PAGES}
GROUPS = [("industry", "Industry"), ("workforce", "Workforce"), ("provision", "Provision")]


class FindingsContext:
    """What building pages for one cycle needs: its data and its match run at the chosen threshold."""

    def __init__(self, cycle: Cycle):
        self.cycle = cycle
        self.data = CycleData(cycle)
        self._match: dict[float | None, MatchView | None] = {}

    def match(self, threshold: float | None = None) -> MatchView | None:
        if threshold not in self._match:
            self._match[threshold] = load_match_view(self.cycle, threshold)
        return self._match[threshold]


def parse_threshold(params: Params) -> float | None:
    value = params.get_float("threshold")
    if value is None:
        return None
    if value > 1:  # given in percent
        value = value / 100.0
    return min(max(value, 0.0), 1.0)


def build_page(
    key: str, cycle: Cycle, params: Mapping[str, Any] | Params | None = None, *, context: FindingsContext | None = None
) -> PageData:
    """The data of one findings page for ``cycle`` under ``params`` (filters, search, sort)."""
    page = PAGE_BY_KEY[key]
    params = params if isinstance(params, Params) else Params(params)
    context = context or FindingsContext(cycle)
    match = context.match(parse_threshold(params))
    result = page.builder(context.data, params, match)
    if not result.missing and not context.data.capabilities:
        result.missing = "capabilities"  # every page reads the capabilities first
    for chart in result.charts:
        chart["dom_id"] = f"chart-{chart['id']}"
    for table in result.tables:
        if table.searchable:
            apply_search_and_sort(table, params)
    query = params.get("q")
    result.filters.append(Filter("q", "Search the tables", "search", value=query))
    return result


__all__ = [
    "GROUPS",
    "PAGES",
    "PAGE_BY_KEY",
    "Column",
    "Figure",
    "Filter",
    "FindingsContext",
    "Page",
    "PageData",
    "Params",
    "Table",
    "build_page",
]

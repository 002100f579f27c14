"""The generated findings report: the same tables as the pages, the conveners' narrative, SVG charts.

The report is rebuilt from the cycle's current data every time it is viewed or exported; only the
narrative sections (``ReportSection``) are stored, so regenerating never loses what a convener wrote.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from accounts.models import OrganisationGroup
from cycles.models import Cycle, Solution
from findings.charts import chart_svg
from findings.exports import ATTRIBUTION
from findings.models import Horizon, ReportSection
from findings.tables import PAGES, FindingsContext, build_page
from workshops.delphi.appendix import methods_appendix
from workshops.fops.selectors import fop_labels

# The findings pages whose tables and charts the report shows (the others are listed in appendix B).
REPORT_PAGES = [
    "overview",
    "functions",
    "partners",
    "highlighted",
    "proficiency",
    "ksb",
    "capability_matches",
    "fit_surplus_matrix",
    "fop_priorities",
    "without_provision",
]
PARTICIPANT_GROUPS = [
    (OrganisationGroup.TECHNOLOGY, "Technology participants"),
    (OrganisationGroup.INDUSTRY, "Industry participants"),
    (OrganisationGroup.SKILLS, "Skills participants"),
    (OrganisationGroup.SPONSOR, "Sponsors"),
]


# When no FOP is marked priority, the best-fitting standards are shown for this many FOPs (by name).
FIT_FOPS_WITHOUT_PRIORITY = 12
# Columns beyond which a table is printed on a landscape page (A4 portrait fits about eight).
LANDSCAPE_COLUMNS = 8


def counted(n: int | None, singular: str, plural: str | None = None) -> str:
    """``"1 capability"``, ``"2 capabilities"``: the noun agrees with the number."""
    return singular if n == 1 else (plural or f"{singular}s")


def sections_for(cycle: Cycle) -> dict[str, ReportSection]:
    return {s.key: s for s in ReportSection.objects.filter(cycle=cycle).select_related("updated_by")}


def _with_svgs(page) -> list[dict]:
    return [{"title": c.get("title", ""), "svg": mark_safe(chart_svg(c))} for c in page.charts]  # noqa: S308 - built from escaped text


def report_context(cycle: Cycle, *, share_token: str = "") -> dict:
    ctx = FindingsContext(cycle)
    data = ctx.data
    pages = {key: build_page(key, cycle, {}, context=ctx) for key in REPORT_PAGES}
    match = ctx.match()
    by_group = defaultdict(list)
    for group, name in data.organisations:
        by_group[group].append(name)
    participants = [(label, by_group.get(group, [])) for group, label in PARTICIPANT_GROUPS if by_group.get(group)]
    width = max((len(names) for _label, names in participants), default=0)
    participant_rows = [[names[i] if i < len(names) else "" for _label, names in participants] for i in range(width)]
    actions_by_horizon = []
    for horizon, label in Horizon.choices:
        items = [a for a in data.actions if a.horizon == horizon]
        if items:
            actions_by_horizon.append((label, items))
    overview = {row["key"]: row["count"] for row in pages["overview"].tables[0].rows}
    without = pages["without_provision"]
    priority_fops = [f for f in data.fops if f.priority]
    fop_label = fop_labels(data.fops)  # two FOPs of one name read apart (their role level)
    sections = sections_for(cycle)
    # Every priority FOP; when none is marked priority, the first FOPs by name, and the report says so.
    fit_fops = priority_fops or data.fops[:FIT_FOPS_WITHOUT_PRIORITY]
    priority_fits = []
    if match is not None:
        for fop in fit_fops:
            best = sorted(match.fit_surplus(fop.id, limit=3), key=lambda f: (-f.fit, f.surplus, f.standard.title))
            best = [f for f in best if f.fit > 0]
            if not best:
                priority = match.priority(fop.id)
                in_run = priority[0] if priority else 0
                priority_fits.append(
                    {
                        "fop": fop_label[fop.id],
                        "standard": None,
                        "none": "No standard matches any of its capabilities at this threshold."
                        if in_run
                        else "None of its capabilities is in the match run.",
                    }
                )
            priority_fits += [
                {
                    "fop": fop_label[fop.id],
                    "standard": f.standard.title,
                    "level": f.standard.level,
                    "fit": f.fit,
                    "surplus": f.surplus,
                }
                for f in best
            ]
    if priority_fops:
        fits_heading = "Best-fitting standards for the priority FOPs"
        fits_note = ""
    else:
        fits_heading = "Best-fitting standards for each FOP"
        shown = len(fit_fops)
        fits_note = "No FOP is marked priority, so " + (
            f"the first {shown} of {len(data.fops)} FOPs by name are shown."
            if shown < len(data.fops)
            else f"all {shown} {counted(shown, 'FOP')} are shown."
        )
    figures = {
        "capabilities": overview.get("capabilities"),
        "fops": overview.get("fops"),
        "priority_fops": overview.get("priority_fops"),
        "partners": overview.get("partners"),
        "role_levels": overview.get("role_levels"),
        "ksb_links": overview.get("ksb_links"),
        "organisations": len({name for _group, name in data.organisations}),
        "without_provision": len(without.tables[0].rows) if without.tables else None,
        "standards": overview.get("standards"),
    }
    provision_assessed = figures["without_provision"] is not None
    n_caps = figures["capabilities"] or 0
    summary = [
        (n_caps, f"future organisational {counted(n_caps, 'capability', 'capabilities')}"),
        (
            figures["fops"] or 0,
            f"future occupational {counted(figures['fops'], 'profile')} ({figures['priority_fops'] or 0} priority)",
        ),
    ]
    if provision_assessed:
        n = figures["without_provision"]
        summary.append((n, f"{counted(n, 'capability', 'capabilities')} without identified provision"))
    summary += [
        (figures["partners"] or 0, counted(figures["partners"], "supply-chain partner")),
        (figures["role_levels"] or 0, counted(figures["role_levels"], "role level")),
        (figures["organisations"], f"participating {counted(figures['organisations'], 'organisation')}"),
        (figures["ksb_links"] or 0, f"KSB {counted(figures['ksb_links'], 'tag')} on capabilities"),
    ]
    if provision_assessed:
        n = figures["without_provision"]
        provision_sentence = (
            f"{n} of {n_caps} {counted(n_caps, 'capability', 'capabilities')} "
            f"{counted(n, 'has', 'have')} no identified provision"
        )
    else:
        provision_sentence = ""
    tables_shown = [pages["fop_priorities"].table(), without.table()]
    wide = {
        key: bool(table and len(table.columns) > LANDSCAPE_COLUMNS)
        for key, table in zip(("fop_priorities", "without_provision"), tables_shown, strict=True)
    }
    return {
        "cycle": cycle,
        "share_token": share_token,
        "generated_at": timezone.localtime(),
        "sections": sections,
        "section_keys": ReportSection.Key,
        "pages": pages,
        "charts": {key: _with_svgs(page) for key, page in pages.items()},
        "figures": figures,
        "summary": summary,
        "provision_assessed": provision_assessed,
        "provision_sentence": provision_sentence,
        "wide": wide,
        "without_provision_source": without.notice,
        "match": match,
        "solutions": list(Solution.objects.filter(cycle=cycle).order_by("-prioritised", "created_at", "id")),
        "themes": list(cycle.themes.order_by("number")),
        "participant_headers": [label for label, _names in participants],
        "participant_rows": participant_rows,
        "partners": data.partners,
        "role_levels": data.role_levels,
        "priority_fops": priority_fops,
        "priority_fop_rows": [(fop_label[f.id], f) for f in priority_fops],
        "actions_by_horizon": actions_by_horizon,
        "attribution": ATTRIBUTION,
        "published": cycle.published_facts or {},
        "priority_fits": priority_fits,
        "fits_heading": fits_heading,
        "fits_note": fits_note,
        "appendix_pages": [(p.title, p.description) for p in PAGES],
        # The Delphi's methods appendix (ACCORD / DELPHISTAR), once a round has been computed.
        "delphi_appendix": methods_appendix(cycle=cycle),
    }


@lru_cache(maxsize=1)
def report_css() -> str:
    return (Path(settings.BASE_DIR) / "static" / "findings" / "report.css").read_text(encoding="utf-8")


def report_html_document(cycle: Cycle) -> str:
    """A standalone HTML document of the report (for the PDF)."""
    context = report_context(cycle)
    context["report_css"] = mark_safe(report_css())  # noqa: S308 - our own stylesheet
    return render_to_string("findings/report_document.html", context)


def report_pdf(cycle: Cycle) -> bytes:
    from weasyprint import HTML

    html = report_html_document(cycle)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()

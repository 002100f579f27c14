"""Every findings page renders for both demo cycles, with the numbers of the published seed files."""

from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from findings.tables import PAGES, build_page
from tests.findings.builders import CGT, POC, seed

PAGE_KEYS = [p.key for p in PAGES]
# Queries of one full page request: session, user, membership, navigation, the cycle's data loaded
# once per kind, plus the match run's reads. It must not grow with the number of rows.
MAX_QUERIES = 30


@pytest.mark.parametrize("slug", [POC, CGT])
@pytest.mark.parametrize("key", PAGE_KEYS)
def test_every_findings_page_renders_for_both_demo_cycles(
    demo, convener_client, django_assert_max_num_queries, slug, key
):
    with django_assert_max_num_queries(MAX_QUERIES):
        response = convener_client.get(f"/cycles/{slug}/findings/{key}/")
    assert response.status_code == 200
    assert b"<h1" in response.content


@pytest.mark.parametrize("slug", [POC, CGT])
def test_the_findings_index_report_and_action_plan_render(demo, convener_client, slug):
    for path in (f"/cycles/{slug}/findings/", f"/cycles/{slug}/report/", f"/cycles/{slug}/actions/"):
        assert convener_client.get(path).status_code == 200, path


def test_an_htmx_request_gets_only_the_results_fragment(demo, convener_client):
    response = convener_client.get(f"/cycles/{POC}/findings/fop_matrix/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b'id="results"' in response.content
    assert b"<html" not in response.content


def _queries(cycle, key, params=None):
    with CaptureQueriesContext(connection) as ctx:
        build_page(key, cycle, params or {})
    return len(ctx.captured_queries)


def _grow(mini, n=40):
    """Add ``n`` capabilities with partners, FOP proficiencies, tags and consensus to the mini cycle."""
    from workshops.models import Capability, CapabilityTag, DelphiItem, FOPCapability, Tag

    cycle = mini["cycle"]
    f1, f2, _f3 = mini["fops"]
    ops, pro = mini["levels"]
    tag = Tag.objects.get(name="GMP")
    for i in range(n):
        cap = Capability.objects.create(
            cycle=cycle, ref=f"X{i:02d}", statement=f"Extra capability {i}.", status="accepted"
        )
        cap.partners.set(mini["partners"])
        FOPCapability.objects.create(fop=f1 if i % 2 else f2, capability=cap, proficiency=1 + i % 3)
        CapabilityTag.objects.create(capability=cap, tag=tag)
        DelphiItem.objects.create(cycle=cycle, capability=cap, role_level=ops if i % 2 else pro, consensus_value=i % 4)


@pytest.mark.parametrize("key", PAGE_KEYS)
def test_query_count_does_not_grow_with_the_number_of_rows(mini, key):
    params = {"fop": str(mini["fops"][0].id)}
    before = _queries(mini["cycle"], key, params)
    _grow(mini)
    assert _queries(mini["cycle"], key, params) == before


def test_poc_overview_counts_match_the_seed_file(demo):
    data = seed(POC)
    counts = {r["key"]: r for r in build_page("overview", demo[POC], {}).table().rows}
    assert counts["capabilities"]["count"] == len(data["capabilities"])
    assert counts["fops"]["count"] == len(data["fops"])
    assert counts["priority_fops"]["count"] == sum(1 for f in data["fops"] if f["priority"])
    assert counts["partners"]["count"] == len(data["supply_chain_partners"])
    assert counts["role_levels"]["count"] == len(data["role_levels"])
    # The published report's own figures sit beside ours.
    assert counts["capabilities"]["published"] == data["headline_figures"]["capabilities_unique_identified"]
    assert counts["without_provision"]["published"] == data["headline_figures"]["capabilities_without_provision"]


def test_poc_fop_matrix_holds_every_published_proficiency(demo):
    data = seed(POC)
    page = build_page("fop_matrix", demo[POC], {})
    table = page.table()
    fop_columns = {c.label.rstrip(" ★"): c.key for c in table.columns if c.key.startswith("prof_")}
    cells = {(row["ref"], name): row[key] for row in table.rows for name, key in fop_columns.items() if row.get(key)}
    expected = {(p["capability_ref"], p["fop"]): p["value"] for p in data["fop_proficiencies"]}
    assert cells == expected


def test_poc_fop_distribution_counts_fops_per_capability_and_proficiency(demo):
    data = seed(POC)
    expected = Counter((p["capability_ref"], p["value"]) for p in data["fop_proficiencies"])
    for row in build_page("fop_distribution", demo[POC], {}).table().rows:
        for level in (1, 2, 3):
            assert row[f"n{level}"] == expected[(row["ref"], level)], (row["ref"], level)


def test_poc_highlighted_capabilities_reproduce_the_report_tables(demo):
    data = seed(POC)
    page = build_page("highlighted", demo[POC], {})
    highlighted = [c for c in data["capabilities"] if c["highlighted"]]
    assert [r["ref"] for r in page.table().rows] == [c["ref"] for c in highlighted]
    first = page.extra["cards"][0]
    expected = sorted((p["fop"], p["value"]) for p in data["fop_proficiencies"] if p["capability_ref"] == "C01")
    assert sorted(first["fop_rows"]) == expected
    c02 = page.table().rows[1]
    assert c02["standard"] == "Science industry process and plant engineer (degree)"


def test_poc_capabilities_without_provision_list_their_partners(demo):
    data = seed(POC)
    page = build_page("without_provision", demo[POC], {})
    expected = {
        c["ref"]: set(c["supply_chain_partners"] or [])
        for c in data["capabilities"]
        if c["provision"]["status"] == "none"
    }
    table = page.table()
    partner_cols = {c.key: c.label for c in table.columns if c.key.startswith("p") and c.kind == "bool"}
    got = {r["ref"]: {label for key, label in partner_cols.items() if r[key]} for r in table.rows}
    assert got == expected


def test_poc_most_frequent_tags_show_the_published_frequencies_until_educators_tag(demo):
    data = seed(POC)
    page = build_page("ksb", demo[POC], {"top": "50"})
    knowledge = [(r["tag"], r["count"]) for r in page.table("top_knowledge").rows]
    expected = sorted(
        ((t["tag"], t["count"]) for t in data["tag_frequencies"]["knowledge"]), key=lambda t: (-t[1], t[0].lower())
    )
    assert knowledge == expected
    assert "published report" in page.notice


def test_cgt_proficiency_distribution_shows_the_published_percentages(demo):
    data = seed(CGT)
    page = build_page("proficiency", demo[CGT], {"source": "published"})
    got = {r["role_level"]: (r["pct1"], r["pct2"], r["pct3"]) for r in page.table().rows}
    expected = {level: (v["A"], v["P"], v["E"]) for level, v in data["proficiency_distribution_by_role_level"].items()}
    assert got.keys() == expected.keys()
    for level, values in expected.items():
        assert got[level] == pytest.approx(values)


def test_cgt_fops_are_counted_by_role_level(demo):
    data = seed(CGT)
    page = build_page("overview", demo[CGT], {})
    counts = {r["key"]: r["count"] for r in page.table().rows}
    assert counts["fops"] == len(data["fops"]) == 25

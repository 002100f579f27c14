"""Findings tables of the hand-made mini cycle against numbers worked out by hand.

The mini cycle (tests/findings/builders.py::build_mini) has five counted capabilities
(C1 Design/p1, C2 Implement/p1+p2, C3 Implement/p2, C4 Logistics/no partner, C5 unclassified/p2),
one rejected (C6) and one merged (C7) capability that must never count, three FOPs and seven tag
links of which one goes through a merged tag.
"""

import pytest

from findings.tables import build_page


def rows(page, table=None):
    return page.table(table).rows


def by(rows, key):
    return {r[key]: r for r in rows}


def test_overview_counts_only_accepted_and_submitted_capabilities(mini):
    page = build_page("overview", mini["cycle"], {})
    counts = {r["key"]: r["count"] for r in rows(page)}
    assert counts["capabilities"] == 5
    assert counts["functions"] == 3  # Design, Implement, Logistics (C5 is unclassified)
    assert counts["domains"] == 3
    assert counts["areas"] == 3
    assert counts["partners"] == 2
    assert counts["role_levels"] == 2
    assert counts["proficiency_levels"] == 4
    assert counts["fops"] == 3
    assert counts["priority_fops"] == 1
    # C1 GMP, C2 GMP, C3 GMP (through the merged tag), C3 Automation, C2+C4 data analysis, C1 teamwork
    assert counts["ksb_links"] == 7
    assert (counts["knowledge"], counts["skills"], counts["behaviours"]) == (4, 2, 1)
    assert counts["distinct_tags"] == 4
    assert counts["academic_levels"] == 4  # 4–6 and 3–5 cover 3, 4, 5, 6
    assert counts["standards"] is None  # no match run


def test_functions_page_shares_add_up_to_the_capabilities_shown(mini):
    page = build_page("functions", mini["cycle"], {})
    summary = by(rows(page, "by_function"), "function")
    assert {k: v["future"] for k, v in summary.items()} == {
        "Design": 1,
        "Implement": 2,
        "Logistics": 1,
        "Unclassified": 1,
    }
    assert summary["Implement"]["future_pct"] == pytest.approx(40.0)
    assert summary["Unclassified"]["future_pct"] == pytest.approx(20.0)
    assert page.charts[0]["labels"] == ["Design", "Implement", "Logistics", "Unclassified"]
    assert page.needs_match_run  # the current-state proxy needs a match run


def test_functions_page_filters_by_function_and_partner(mini):
    p1, p2 = mini["partners"]
    page = build_page("functions", mini["cycle"], {"function": ["Implement"], "partner": [str(p2.id)]})
    assert [r["ref"] for r in rows(page, "capabilities")] == ["C2", "C3"]
    assert [r["function"] for r in rows(page, "by_function")] == ["Implement"]


def test_partner_matrix_counts_a_capability_once_per_partner(mini):
    page = build_page("partners", mini["cycle"], {})
    matrix = by(rows(page, "matrix"), "partner")
    table = page.table("matrix")
    labels = {c.key: c.label for c in table.columns}
    p1_row = {labels[k]: v for k, v in matrix["Equipment providers"].items() if k in labels}
    p2_row = {labels[k]: v for k, v in matrix["NHS workforce"].items() if k in labels}
    assert p1_row == {
        "Supply-chain partner": "Equipment providers",
        "Design": 1,
        "Implement": 1,
        "Logistics": 0,
        "Unclassified": 0,
        "Total": 2,
    }
    assert p2_row == {
        "Supply-chain partner": "NHS workforce",
        "Design": 0,
        "Implement": 2,
        "Logistics": 0,
        "Unclassified": 1,
        "Total": 3,
    }
    assert page.figures[0].value == 1  # C4 has no partner


def test_proficiency_distribution_from_consensus(mini):
    page = build_page("proficiency", mini["cycle"], {})
    dist = by(rows(page), "role_level")
    ops = dist["Operational leadership"]
    assert (ops["not_needed"], ops["n1"], ops["n2"], ops["n3"], ops["total"]) == (1, 1, 1, 1, 3)
    pro = dist["Professional & delivery"]
    assert (pro["n1"], pro["n2"], pro["n3"]) == (1, 0, 2)
    assert pro["pct3"] == pytest.approx(200 / 3)
    assert pro["pct2"] == 0


def test_proficiency_distribution_from_fops_groups_fops_without_a_role_level(mini):
    page = build_page("proficiency", mini["cycle"], {"source": "fops"})
    dist = by(rows(page), "role_level")
    assert (
        dist["Operational leadership"]["n1"],
        dist["Operational leadership"]["n2"],
        dist["Operational leadership"]["n3"],
    ) == (1, 1, 1)
    assert (dist["Professional & delivery"]["n1"], dist["Professional & delivery"]["n3"]) == (1, 1)
    assert dist["No role level"]["n2"] == 2


def test_fop_matrix_hides_empty_rows_and_filters_by_role_level(mini):
    ops, _pro = mini["levels"]
    page = build_page("fop_matrix", mini["cycle"], {})
    matrix = by(rows(page), "ref")
    assert sorted(matrix) == ["C1", "C2", "C3", "C4", "C5"]
    assert matrix["C2"]["fops"] == 3
    f1, f2, f3 = mini["fops"]
    assert (matrix["C2"][f"prof_{f1.id}"], matrix["C2"][f"prof_{f2.id}"], matrix["C2"][f"prof_{f3.id}"]) == (2, 1, 2)
    only_ops = build_page("fop_matrix", mini["cycle"], {"role_level": [str(ops.id)]})
    assert [r["ref"] for r in rows(only_ops)] == ["C1", "C2", "C5"]
    unassigned = build_page("fop_matrix", mini["cycle"], {"role_level": ["none"]})
    assert [r["ref"] for r in rows(unassigned)] == ["C2", "C4"]


def test_fop_detail_defaults_to_the_first_priority_fop_with_its_tags(mini):
    page = build_page("fop_detail", mini["cycle"], {})
    assert page.extra["fop"].name == "Validation Engineer"
    detail = by(rows(page), "ref")
    assert {k: v["proficiency"] for k, v in detail.items()} == {"C1": 3, "C2": 2, "C5": 1}
    assert detail["C1"]["knowledge"] == ["GMP"] and detail["C1"]["behaviours"] == ["Teamwork"]
    assert detail["C2"]["skills"] == ["Perform data analysis"]
    f2 = mini["fops"][1]
    other = build_page("fop_detail", mini["cycle"], {"fop": str(f2.id)})
    assert [r["ref"] for r in rows(other)] == ["C2", "C3"]


def test_fop_distribution_counts_fops_per_proficiency(mini):
    page = build_page("fop_distribution", mini["cycle"], {})
    dist = rows(page)
    assert [r["ref"] for r in dist] == ["C2", "C1", "C3", "C4", "C5"]
    c2 = dist[0]
    assert (c2["total"], c2["n1"], c2["n2"], c2["n3"]) == (3, 1, 2, 0)
    assert c2["names2"] == ["Logistics Lead", "Validation Engineer"]
    assert page.charts[0]["labels"][0] == "C2"


def test_tag_frequencies_follow_merges_and_ignore_rejected_capabilities(mini):
    page = build_page("ksb", mini["cycle"], {})
    knowledge = [(r["tag"], r["count"]) for r in rows(page, "top_knowledge")]
    assert knowledge == [("GMP", 3), ("Automation", 1)]
    assert [(r["tag"], r["count"]) for r in rows(page, "top_skill")] == [("Perform data analysis", 2)]
    assert [(r["tag"], r["count"]) for r in rows(page, "top_behaviour")] == [("Teamwork", 1)]
    c3 = by(rows(page, "capabilities"), "ref")["C3"]
    assert c3["knowledge"] == ["Automation", "GMP"]


def test_highlighted_capabilities_fall_back_to_the_published_provision(mini):
    page = build_page("highlighted", mini["cycle"], {})
    (row,) = rows(page)
    assert row["ref"] == "C1"
    assert row["fops"] == ["Validation Engineer (3)"]
    assert (row["best_match"], row["standard"], row["source"]) == (
        "Design facilities.",
        "Facilities engineer",
        "Published report",
    )


def test_capabilities_without_provision_without_a_match_run_use_the_published_list(mini):
    page = build_page("without_provision", mini["cycle"], {})
    (row,) = rows(page)
    p1, p2 = mini["partners"]
    assert row["ref"] == "C3" and row[f"p{p2.id}"] is True and row[f"p{p1.id}"] is False
    assert page.needs_match_run


def test_search_text_filters_rows_and_sort_orders_them(mini):
    page = build_page("functions", mini["cycle"], {"q": "cold chain"})
    assert [r["ref"] for r in rows(page, "capabilities")] == ["C4"]
    assert len(rows(page, "by_function")) == 4  # summary tables ignore the search
    page = build_page("fop_distribution", mini["cycle"], {"sort": "ref", "dir": "desc"})
    assert [r["ref"] for r in rows(page)] == ["C5", "C4", "C3", "C2", "C1"]


@pytest.mark.parametrize(
    "key",
    [
        "capability_matches",
        "fit_surplus",
        "fit_surplus_matrix",
        "fop_capability_matches",
        "fop_vs_provision",
        "fop_priorities",
    ],
)
def test_provision_pages_say_a_match_run_is_missing(mini, key):
    page = build_page(key, mini["cycle"], {})
    assert page.needs_match_run and not page.tables

"""Provision pages of the mini cycle against a hand-made match run (tests/findings/builders.py).

Scores (threshold 0.5), duties D1-D3 of S1 (level 6), D4-D5 of S2 (level 3), D6-D7 of S3 (level 2):
C1 0.80 D1 (0.60 D6 is outside its window 3–7), C2 0.70 D4 / 0.55 D2, C3 0.52 D6, C4 0.45 D7 at
best, C5 0.51 D4. FOPs: Validation Engineer (C1, C2, C5; window 3–7), Manufacturing Operative (C2,
C3; window 2–6), Logistics Lead (C2, C4; no role level, every level).
"""

import pytest

from findings.tables import build_page


def rows(page, table=None):
    return page.table(table).rows


def by(rows, key):
    return {r[key]: r for r in rows}


def test_capability_matches_show_best_match_and_served_at_the_run_threshold(matched):
    page = build_page("capability_matches", matched["cycle"], {})
    caps = by(rows(page, "capabilities"), "ref")
    assert {ref: r["served"] for ref, r in caps.items()} == {
        "C1": True,
        "C2": True,
        "C3": True,
        "C4": False,
        "C5": True,
    }
    assert caps["C1"]["score"] == pytest.approx(80.0, abs=0.05)
    assert caps["C1"]["standard"] == "Facilities engineer"  # the 0.60 duty of a level-2 standard is outside the window
    assert caps["C4"]["score"] == pytest.approx(45.0, abs=0.05)
    assert caps["C2"]["matching"] == 2  # D4 and D2
    duties = [(r["ref"], r["standard"], r["level"]) for r in rows(page, "duties")]
    assert ("C2", "Manufacturing technician", 3) in duties and ("C2", "Facilities engineer", 6) in duties
    assert not any(ref == "C4" for ref, _s, _l in duties)


def test_a_higher_threshold_recomputes_served_capabilities_from_the_stored_scores(matched):
    page = build_page("capability_matches", matched["cycle"], {"threshold": "56"})
    served = {r["ref"]: r["served"] for r in rows(page, "capabilities")}
    assert served == {"C1": True, "C2": True, "C3": False, "C4": False, "C5": False}
    only_unserved = build_page("capability_matches", matched["cycle"], {"threshold": "56", "served": "no"})
    assert [r["ref"] for r in rows(only_unserved, "capabilities")] == ["C3", "C4", "C5"]


def test_fit_and_surplus_of_a_fop_equal_the_hand_computed_factors(matched):
    f1, f2, f3 = matched["fops"]
    page = build_page("fit_surplus", matched["cycle"], {"fop": str(f1.id)})
    fits = {r["standard"]: (r["fit"], r["surplus"], r["duties"], r["matching_duties"]) for r in rows(page)}
    # S3 (level 2) is outside the Validation Engineer's window 3–7.
    assert set(fits) == {"Facilities engineer", "Manufacturing technician"}
    assert fits["Facilities engineer"] == pytest.approx((200 / 3, 100 / 3, 3, 2))  # C1 and C2 matched; D1, D2 used
    assert fits["Manufacturing technician"] == pytest.approx((200 / 3, 50.0, 2, 1))  # C2 and C5 via D4
    f2_fits = {
        r["standard"]: (r["fit"], r["surplus"])
        for r in rows(build_page("fit_surplus", matched["cycle"], {"fop": str(f2.id)}))
    }
    assert f2_fits == {
        "Facilities engineer": pytest.approx((50.0, 200 / 3)),
        "Manufacturing technician": pytest.approx((50.0, 50.0)),
        "Supply chain practitioner": pytest.approx((50.0, 50.0)),
    }


def test_the_fit_surplus_matrix_has_one_point_per_standard_with_quadrant_labels(matched):
    f1 = matched["fops"][0]
    page = build_page("fit_surplus_matrix", matched["cycle"], {"fop": str(f1.id)})
    (chart,) = page.charts
    points = {p["label"]: (p["x"], p["y"]) for p in chart["points"]}
    assert points["Facilities engineer"] == pytest.approx((200 / 3, 100 / 3))
    assert len(points) == 2
    assert set(chart["quadrants"]["labels"]) == {"top_left", "top_right", "bottom_left", "bottom_right"}
    assert by(rows(page), "standard")["Facilities engineer"]["quadrant"] == "Strong fit, little surplus"


def test_fop_capability_matches_count_matching_duties(matched):
    f3 = matched["fops"][2]
    page = build_page("fop_capability_matches", matched["cycle"], {"fop": str(f3.id)})
    caps = by(rows(page), "ref")
    assert (caps["C2"]["matches"], caps["C4"]["matches"]) == (2, 0)
    assert caps["C2"]["type"] == "Implement"
    unmatched = build_page("fop_capability_matches", matched["cycle"], {"fop": str(f3.id), "matched": "no"})
    assert [r["ref"] for r in rows(unmatched)] == ["C4"]


def test_fop_vs_provision_marks_each_capability_against_the_top_standards(matched):
    f1 = matched["fops"][0]
    page = build_page("fop_vs_provision", matched["cycle"], {"fop": str(f1.id)})
    standards = [r["standard"] for r in rows(page, "standards")]
    assert standards == ["Facilities engineer", "Manufacturing technician"]  # equal fit: less surplus first
    matrix = by(rows(page, "matrix"), "ref")
    assert matrix["C1"]["s0"] == "Matched (80.0)" and matrix["C1"]["s1"] == "Not matched (10.0)"
    assert matrix["C5"]["s1"] == "Matched (51.0)"
    assert matrix["C2"]["matched_in"] == 2


def test_fop_priorities_rank_fops_by_capabilities_without_provision(matched):
    page = build_page("fop_priorities", matched["cycle"], {})
    ranked = [(r["fop"], r["without_provision"], round(r["max_fit"], 1)) for r in rows(page)]
    assert ranked == [
        ("Logistics Lead", 1, 50.0),
        ("Manufacturing Operative", 0, 50.0),
        ("Validation Engineer", 0, 66.7),
    ]


def test_capabilities_without_provision_come_from_the_match_run(matched):
    page = build_page("without_provision", matched["cycle"], {})
    assert [r["ref"] for r in rows(page)] == ["C4"]
    assert not page.needs_match_run
    stricter = build_page("without_provision", matched["cycle"], {"threshold": "0.56"})
    assert [r["ref"] for r in rows(stricter)] == ["C3", "C4", "C5"]


def test_highlighted_capabilities_take_the_best_match_of_the_run(matched):
    (row,) = rows(build_page("highlighted", matched["cycle"], {}))
    assert row["source"] == "Match run" and row["standard"] == "Facilities engineer (level 6)"
    assert row["best_match"].startswith("Findings test duty one")


def test_the_current_state_proxy_classifies_duties_by_their_nearest_capability(matched):
    page = build_page("functions", matched["cycle"], {})
    summary = by(rows(page, "by_function"), "function")
    # D1, D7 -> Design; D2, D4, D5 -> Implement; D3, D6 -> Logistics
    assert {k: v["current"] for k, v in summary.items()} == {
        "Design": 2,
        "Implement": 3,
        "Logistics": 2,
        "Unclassified": 0,
    }
    assert summary["Implement"]["current_pct"] == pytest.approx(300 / 7)
    s1 = matched["standards"]["S1"]
    one = by(rows(build_page("functions", matched["cycle"], {"standard": [str(s1.id)]}), "by_function"), "function")
    assert (one["Design"]["current"], one["Implement"]["current"], one["Logistics"]["current"]) == (1, 1, 1)


def test_overview_counts_standards_and_levels_of_the_run(matched):
    counts = {r["key"]: r["count"] for r in rows(build_page("overview", matched["cycle"], {}))}
    assert counts["standards"] == 3
    assert counts["academic_levels"] == 3  # levels 2, 3 and 6
    assert counts["without_provision"] == 1


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
def test_provision_page_csvs_equal_the_tables_shown(matched, mini_people, key):
    from tests.findings.conftest import client_for
    from tests.findings.test_downloads import csv_table, page_tables, unquote

    client = client_for(mini_people["observer"])
    params = {"fop": str(matched["fops"][0].id)}
    shown = page_tables(client.get(f"/cycles/mini/findings/{key}/", params).content)
    data = build_page(key, matched["cycle"], params)
    assert {t.key for t in data.tables if t.rows} == set(shown)
    for table in data.tables:
        if table.rows:
            response = client.get(f"/cycles/mini/findings/{key}/download.csv", {**params, "table": table.key})
            assert [[unquote(c) for c in row] for row in csv_table(response.content)] == shown[table.key]


@pytest.mark.parametrize(
    "key",
    [
        "capability_matches",
        "fit_surplus",
        "fit_surplus_matrix",
        "fop_capability_matches",
        "fop_vs_provision",
        "fop_priorities",
        "functions",
        "overview",
        "without_provision",
        "highlighted",
    ],
)
def test_pages_with_a_match_run_need_a_bounded_number_of_queries(
    matched, mini_people, django_assert_max_num_queries, key
):
    from tests.findings.conftest import client_for
    from tests.findings.test_pages_demo import MAX_QUERIES

    client = client_for(mini_people["observer"])
    with django_assert_max_num_queries(MAX_QUERIES):
        assert client.get(f"/cycles/mini/findings/{key}/").status_code == 200


def test_a_limited_fit_list_is_the_head_of_the_full_list(matched):
    from findings.provision import load_match_view

    view = load_match_view(matched["cycle"])
    for fop in matched["fops"]:
        full = [(r.standard.id, r.fit, r.surplus) for r in view.fit_surplus(fop.id, limit=None)]
        assert [(r.standard.id, r.fit, r.surplus) for r in view.fit_surplus(fop.id, limit=1)] == full[:1]


@pytest.mark.parametrize("threshold", [None, 0.56])
def test_fop_priorities_agree_with_the_matching_selector(matched, threshold):
    from findings.provision import load_match_view
    from matching import selectors

    view = load_match_view(matched["cycle"], threshold)
    for p in selectors.priority_fops(matched["run"], threshold):
        capabilities, unsupported, max_fit, standard = view.priority(p.fop.pk)
        assert (capabilities, unsupported) == (p.capabilities, p.unsupported)
        assert max_fit == pytest.approx(100 * p.max_fit)
        assert (standard.id if standard else None) == (p.best_standard.pk if p.best_standard else None)

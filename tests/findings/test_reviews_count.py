"""Educators' reviews change what the findings count, and how confident a match reads.

The mini run (tests/findings/builders.py, threshold 0.5): C3's only match is D6 (0.52, S3) and C4's
best is D7 (0.45, S3), below the threshold. Logistics Lead = C2 and C4 (every level).
"""

import pytest

from findings.tables import build_page
from matching import calibration, services
from matching.models import Framework, MatchCalibration, MatchReview
from tests.factories import UserFactory
from tests.findings.builders import add_member


def served(cycle, threshold=None):
    params = {"threshold": str(threshold * 100)} if threshold else {}
    return {r["ref"]: r["served"] for r in build_page("capability_matches", cycle, params).table("capabilities").rows}


def without(cycle):
    return {r["fop"]: r["without_provision"] for r in build_page("fop_priorities", cycle, {}).table("priorities").rows}


@pytest.fixture
def educator(matched):
    from cycles.models import Role

    user = UserFactory()
    add_member(matched["cycle"], user, Role.EDUCATOR)
    return user


def test_a_confirmed_match_below_the_threshold_counts_as_provision(matched, educator):
    caps = {c.ref: c for c in matched["caps"]}
    d7 = matched["statements"][6]
    assert served(matched["cycle"])["C4"] is False
    before = without(matched["cycle"])["Logistics Lead"]
    services.match_review_record(capability=caps["C4"], statement=d7, decision="confirm", reviewer=educator)
    assert served(matched["cycle"])["C4"] is True
    assert without(matched["cycle"])["Logistics Lead"] == before - 1
    without_page = build_page("without_provision", matched["cycle"], {})
    assert "C4" not in {r.get("ref") for t in without_page.tables for r in t.rows}


def test_a_rejected_match_never_counts_as_provision_at_any_threshold(matched, educator):
    caps = {c.ref: c for c in matched["caps"]}
    d6 = matched["statements"][5]
    assert served(matched["cycle"])["C3"] is True
    services.match_review_record(capability=caps["C3"], statement=d6, decision="reject", reviewer=educator)
    assert served(matched["cycle"])["C3"] is False
    assert served(matched["cycle"], threshold=0.1)["C3"] is True  # other duties reach 0.1 — D6 never does
    fits = {
        r["standard"]: r["fit"]
        for r in build_page("fit_surplus", matched["cycle"], {"fop": str(matched["fops"][1].id)}).table().rows
    }
    assert "Supply chain practitioner" not in fits  # S3 fitted Manufacturing Operative only through D6


def test_a_confirmed_match_is_never_shown_as_unlikely(matched, educator):
    framework = Framework.objects.get(kind="ifate")
    # every pair under 0.5 wrong, every pair above right: 0.45 reads "unlikely"
    pairs = [[0.3 + i * 0.004, 0] for i in range(40)] + [[0.7 + i * 0.002, 1] for i in range(40)]
    MatchCalibration.objects.update_or_create(framework=framework, defaults={"ranking": "test", "pairs": pairs})
    caps = {c.ref: c for c in matched["caps"]}
    page = build_page("capability_matches", matched["cycle"], {})
    confidence = {r["ref"]: r["confidence"] for r in page.table("capabilities").rows}
    assert confidence["C4"].startswith("unlikely") and confidence["C1"].startswith("likely")
    services.match_review_record(
        capability=caps["C4"], statement=matched["statements"][6], decision="confirm", reviewer=educator
    )
    page = build_page("capability_matches", matched["cycle"], {})
    confidence = {r["ref"]: r["confidence"] for r in page.table("capabilities").rows}
    assert confidence["C4"] == "confirmed"
    assert MatchReview.objects.count() == 1
    assert calibration.CONFIRMED_LABEL == "confirmed"


def test_priorities_name_no_standard_at_a_fit_of_zero(matched):
    rows = build_page("fop_priorities", matched["cycle"], {"threshold": "99"}).table("priorities").rows
    assert rows and all(r["max_fit"] == 0 and r["best_standard"] == "No standard matches" for r in rows)
    from findings.provision import load_match_view

    view = load_match_view(matched["cycle"], 0.99)
    assert all(view.priority(f.id)[3] is None for f in matched["fops"])


def test_priority_and_fit_pages_say_how_their_figures_are_computed(matched):
    for key, params in (("fop_priorities", {}), ("fit_surplus", {"fop": str(matched["fops"][0].id)})):
        notice = build_page(key, matched["cycle"], params).notice
        assert notice.startswith("How it is computed:") and "50.0 %" in notice and "rejected" in notice


def test_the_calibration_command_learns_from_reviews(matched, educator):
    from django.core.management import call_command

    caps = {c.ref: c for c in matched["caps"]}
    services.match_review_record(
        capability=caps["C4"], statement=matched["statements"][6], decision="confirm", reviewer=educator
    )
    services.match_review_record(
        capability=caps["C3"], statement=matched["statements"][5], decision="reject", reviewer=educator
    )
    call_command("calibrate_matching", "ifate", "--no-labelled", stdout=open("/dev/null", "w"))  # noqa: SIM115
    record = MatchCalibration.objects.get(framework__kind="ifate")
    assert record.sources == {"labelled set": 0, "reviews": 2, "confirmed": 1}
    assert sorted(right for _score, right in record.pairs) == [0, 1]

"""Fit and surplus against a hand-computed 3-capability × 2-standard example.

Scores (capability × duty), threshold 0.6:

            a1    a2    a3  |  b1    b2
    c1    0.70  0.20  0.10  | 0.65  0.10
    c2    0.30  0.62  0.10  | 0.20  0.20
    c3    0.10  0.10  0.10  | 0.59  0.30

Standard A: c1 (a1) and c2 (a2) are matched → fit 2/3; a3 matches nobody → surplus 1/3.
Standard B: only c1 (b1) → fit 1/3; b2 matches nobody → surplus 1/2.
c3 is matched by nothing → it lacks provision; the FOP has 1 unsupported capability, max fit 2/3.
"""

import numpy as np
import pytest
from django.utils import timezone

from matching import scoring, selectors, services
from matching.models import MatchReview, MatchRun, MatchScores, Statement
from tests.factories import RoleLevelFactory
from tests.matching.conftest import make_capability, make_fop, make_framework

pytestmark = pytest.mark.django_db

SCORES = {
    "c1": {"a1": 0.70, "a2": 0.20, "a3": 0.10, "b1": 0.65, "b2": 0.10},
    "c2": {"a1": 0.30, "a2": 0.62, "a3": 0.10, "b1": 0.20, "b2": 0.20},
    "c3": {"a1": 0.10, "a2": 0.10, "a3": 0.10, "b1": 0.59, "b2": 0.30},
}


@pytest.fixture
def example(personas):
    cycle = personas.cycle
    version = make_framework(
        "ifate",
        [("A", "Standard A", 5, ["duty a1", "duty a2", "duty a3"]), ("B", "Standard B", 6, ["duty b1", "duty b2"])],
    )
    caps = [make_capability(cycle, ref, f"capability {ref}") for ref in ("c1", "c2", "c3")]
    fop = make_fop(
        cycle,
        "Process engineer",
        caps,
        role_level=RoleLevelFactory(cycle=cycle, academic_level_min=5, academic_level_max=6),
    )
    vm = scoring.version_matrix(version)
    text_of = dict(zip(vm.hashes, vm.texts, strict=True))
    matrix = np.array([[SCORES[c.ref][text_of[h].split()[-1]] for h in vm.hashes] for c in caps], dtype=np.float16)
    run = MatchRun.objects.create(
        cycle=cycle,
        framework_version=version,
        model_name="hand-made",
        threshold=0.6,
        status=MatchRun.Status.DONE,
        finished_at=timezone.now(),
        windows={str(c.pk): [4, 7] for c in caps},
        fop_snapshot={str(fop.pk): {"capabilities": [c.pk for c in caps], "levels": [5, 6], "window": [4, 7]}},
    )
    MatchScores.objects.create(
        run=run,
        capability_ids=np.array([c.pk for c in caps], dtype=np.int64).tobytes(),
        column_hashes=b"".join(bytes.fromhex(h) for h in vm.hashes),
        matrix=matrix.tobytes(),
        rows=len(caps),
        columns=len(vm.hashes),
    )
    return run, fop, {c.ref: c for c in caps}


def _by_standard(rows):
    return {r.standard.ref: (round(r.fit, 4), round(r.surplus, 4)) for r in rows}


def test_fit_and_surplus_equal_the_hand_computed_example(example):
    run, fop, _ = example
    rows = selectors.fit_surplus(run, fop)
    assert _by_standard(rows) == {"A": (round(2 / 3, 4), round(1 / 3, 4)), "B": (round(1 / 3, 4), 0.5)}
    assert [r.standard.ref for r in rows] == ["A", "B"]
    a = rows[0]
    assert (a.capabilities_matched, a.capabilities, a.statements_matched, a.statements) == (2, 3, 2, 3)


def test_capabilities_without_provision_and_priority_fops_follow_the_example(example):
    run, fop, caps = example
    missing = selectors.capabilities_without_provision(run)
    assert [m.capability.ref for m in missing] == ["c3"]
    assert missing[0].score == pytest.approx(0.59, abs=1e-3)
    assert missing[0].statement.text == "duty b1"
    (priority,) = selectors.priority_fops(run)
    assert (priority.fop, priority.unsupported, round(priority.max_fit, 4)) == (fop, 1, round(2 / 3, 4))
    assert priority.best_standard.ref == "A"
    assert selectors.run_summary(run)["without_provision"] == 1


def test_a_lower_threshold_recomputes_from_the_stored_scores(example):
    run, fop, _ = example
    services.match_run_set_threshold(run=run, actor=None, threshold=0.55)
    assert _by_standard(selectors.fit_surplus(run, fop)) == {
        "A": (round(2 / 3, 4), round(1 / 3, 4)),
        "B": (round(2 / 3, 4), 0.5),
    }
    assert selectors.capabilities_without_provision(run) == []
    # And any threshold can be asked for without changing the run.
    assert _by_standard(selectors.fit_surplus(run, fop, threshold=0.66)) == {
        "A": (round(1 / 3, 4), round(2 / 3, 4)),
        "B": (0.0, 1.0),
    }


def test_reviews_override_the_threshold_both_ways_and_keep_the_score(example, personas):
    run, fop, caps = example
    a1 = Statement.objects.get(text="duty a1")
    b2 = Statement.objects.get(text="duty b2")
    services.match_review_record(
        capability=caps["c1"], statement=a1, decision=MatchReview.Decision.REJECT, reviewer=personas.educator
    )
    services.match_review_record(
        capability=caps["c3"], statement=b2, decision=MatchReview.Decision.CONFIRM, reviewer=personas.educator
    )
    assert _by_standard(selectors.fit_surplus(run, fop)) == {
        "A": (round(1 / 3, 4), round(2 / 3, 4)),
        "B": (round(2 / 3, 4), 0.0),
    }
    assert selectors.capabilities_without_provision(run) == []
    best = {m.capability.ref: m for m in selectors.capability_best_matches(run)}
    assert best["c1"].statement == a1
    assert best["c1"].score == pytest.approx(0.70, abs=1e-3)
    assert best["c1"].review.decision == MatchReview.Decision.REJECT
    assert best["c1"].matched  # still served, by b1
    assert best["c3"].confirmed == b2


def test_standards_outside_the_fops_level_window_are_left_out(example):
    run, fop, _ = example
    run.fop_snapshot[str(fop.pk)]["window"] = [4, 5]
    run.save()
    assert [r.standard.ref for r in selectors.fit_surplus(run, fop)] == ["A"]

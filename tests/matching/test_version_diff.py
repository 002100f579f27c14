"""A cycle matched again against a newer framework version: what changed in the findings.

Version 1 (threshold 0.6): A = a1, a2; B = b1.   Version 2: A = a1 (a2 withdrawn); B = b1, b3 (new).
    c1: a1 0.70 → served by A in both versions
    c2: a2 0.62 → served in v1; a2 is gone in v2 → no longer served; A's fit 2/3 → 1/3
    c3: b3 0.80 (v2 only) → newly served; B's fit 0 → 1/3
"""

import numpy as np
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from matching import scoring, selectors
from matching.importers.base import ParsedFramework, ParsedStandard, ParsedStatement, save_framework
from matching.models import MatchRun, MatchScores
from tests.matching.conftest import make_capability, make_fop

pytestmark = pytest.mark.django_db

SCORES = {
    "c1": {"a1": 0.70, "a2": 0.20, "b1": 0.10, "b3": 0.10},
    "c2": {"a1": 0.30, "a2": 0.62, "b1": 0.20, "b3": 0.20},
    "c3": {"a1": 0.10, "a2": 0.10, "b1": 0.30, "b3": 0.80},
}


def version(label: str, standards: dict[str, list[str]]):
    parsed = ParsedFramework(
        kind="ifate",
        label=label,
        source="tests",
        checksum=f"diff-{label}",
        has_levels=True,
        standards=[ParsedStandard(ref=ref, title=f"Standard {ref}", level=5) for ref in standards],
        statements=[
            ParsedStatement(ref, f"{ref}-{d}", "duty", f"duty {d}") for ref, duties in standards.items() for d in duties
        ],
    )
    return save_framework(parsed).version


def run_of(cycle, fop, caps, framework_version):
    vm = scoring.version_matrix(framework_version)
    text_of = dict(zip(vm.hashes, vm.texts, strict=True))
    matrix = np.array([[SCORES[c.ref][text_of[h].split()[-1]] for h in vm.hashes] for c in caps], dtype=np.float16)
    run = MatchRun.objects.create(
        cycle=cycle,
        framework_version=framework_version,
        model_name="hand-made",
        threshold=0.6,
        status=MatchRun.Status.DONE,
        finished_at=timezone.now(),
        windows={str(c.pk): [4, 6] for c in caps},
        fop_snapshot={str(fop.pk): {"capabilities": [c.pk for c in caps], "levels": [5, 5], "window": [4, 6]}},
    )
    MatchScores.objects.create(
        run=run,
        capability_ids=np.array([c.pk for c in caps], dtype=np.int64).tobytes(),
        column_hashes=b"".join(bytes.fromhex(h) for h in vm.hashes),
        matrix=matrix.tobytes(),
        rows=len(caps),
        columns=len(vm.hashes),
    )
    return run


@pytest.fixture
def two_runs(personas):
    cycle = personas.cycle
    caps = [make_capability(cycle, ref, f"capability {ref}") for ref in ("c1", "c2", "c3")]
    fop = make_fop(cycle, "Process engineer", caps)
    v1 = version("v1", {"A": ["a1", "a2"], "B": ["b1"]})
    v2 = version("v2", {"A": ["a1"], "B": ["b1", "b3"]})
    return run_of(cycle, fop, caps, v1), run_of(cycle, fop, caps, v2), fop, personas


def test_the_diff_lists_capabilities_newly_and_no_longer_served_and_changed_fits(two_runs):
    earlier, later, fop, _ = two_runs
    assert selectors.previous_version_run(later) == earlier
    assert selectors.previous_version_run(earlier) is None
    diff = selectors.version_diff(earlier, later)
    assert [c.ref for c in diff.newly_served] == ["c3"]
    assert [c.ref for c in diff.no_longer_served] == ["c2"]
    changes = {(c.standard_ref, round(c.before, 4), round(c.after, 4)) for c in diff.fit_changes}
    assert changes == {("A", round(2 / 3, 4), round(1 / 3, 4)), ("B", 0.0, round(1 / 3, 4))}


def test_the_run_page_shows_what_changed(two_runs):
    earlier, later, _fop, personas = two_runs
    client = Client()
    client.force_login(personas.convener)
    page = client.get(reverse("matching:run_detail", args=[later.cycle.slug, later.pk])).content.decode()
    assert 'id="version-diff"' in page and "newly served: c3" in page and "no longer served: c2" in page

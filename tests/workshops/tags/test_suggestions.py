"""KSB suggestions on the real ESCO data with the real model, and tag normalisation."""

import json
from pathlib import Path

import pytest
from django.conf import settings

from matching.suggestions import prepare, similar_tag_pairs, suggest_tags
from tests.matching.frameworks import imported_for_module
from tests.workshops.fops.factories import build_needs
from workshops.tags.selectors import tag_merge_candidates, tag_suggestions
from workshops.tags.services import tag_add, tag_normalise

CASES = json.loads((Path(__file__).parent / "ksb_expected.json").read_text())["cases"]
HIT_RATE_FLOOR = 0.75


@pytest.fixture(scope="module")
def esco(django_db_setup, django_db_blocker):
    """The real ESCO v1.1.1 download, imported once for this module by the real importer."""
    with imported_for_module(django_db_blocker, "esco", Path(settings.SHARED_DATA_DIR) / "esco") as version:
        with django_db_blocker.unblock():
            prepare()  # the worker's warm-up: the ~14k concept labels, embedded once for this module
        yield version


def hit_rate(k=5):
    hits = 0
    for case in CASES:
        names = [s["name"].strip().lower() for s in suggest_tags(case["statement"], case["kind"], [], k)]
        hits += any(e.strip().lower() in names for e in case["expected"])
    return hits / len(CASES)


@pytest.mark.slow
@pytest.mark.django_db
def test_esco_suggestions_put_the_expected_concept_in_the_top_five_for_most_statements(esco):
    assert len(CASES) >= 15
    assert hit_rate() >= HIT_RATE_FLOOR


@pytest.mark.slow
@pytest.mark.django_db
def test_suggestions_come_from_the_esco_list_of_the_tag_kind(esco):
    knowledge = suggest_tags("Maintain cold chain integrity during transport.", "K", [], 5)
    assert knowledge and all(s["source"] == "ESCO knowledge" for s in knowledge)
    behaviour = suggest_tags("Work with colleagues in multidisciplinary teams.", "B", [], 5)
    assert behaviour and all(s["source"] == "ESCO transversal skill" for s in behaviour)


@pytest.mark.slow
def test_tags_already_used_in_the_cycle_are_suggested_first_when_they_fit(esco, personas):
    levels, caps = build_needs(personas.cycle)
    tag_add(capability=caps[1], actor=None, kind="K", name="Cold chain logistics")
    suggestions = tag_suggestions(capability=caps[0], kind="K", k=5)
    assert suggestions[0].name == "Cold chain logistics"
    assert suggestions[0].source == "Used in 1 capability"


@pytest.mark.slow
def test_near_duplicate_tags_are_offered_for_merging_but_different_ones_are_not(personas):
    levels, caps = build_needs(personas.cycle)
    tag_add(capability=caps[0], actor=None, kind="S", name="Perform data analysis")
    tag_add(capability=caps[1], actor=None, kind="S", name="Analyse data")
    tag_add(capability=caps[2], actor=None, kind="S", name="Operate a forklift truck")
    pairs = tag_merge_candidates(cycle=personas.cycle, threshold=0.7)
    names = [{p.a.name, p.b.name} for p in pairs]
    assert {"Perform data analysis", "Analyse data"} in names
    assert all("Operate a forklift truck" not in n for n in names)


@pytest.mark.django_db
def test_similar_pairs_of_fewer_than_two_tags_is_empty():
    assert similar_tag_pairs([(1, "Cold chain")]) == []


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Process Optimisation", "process  optimization"),
        ("Behaviour change", "behavior change"),
        ("Health & Safety", "health and safety"),
        ("Real-time monitoring", "real time monitoring"),
        ("Analyse data.", "analyze data"),
        ("Process Analytical Technology (PAT)", "process analytical technology (pat)"),
    ],
)
def test_tags_written_differently_normalise_to_the_same_key(a, b):
    assert tag_normalise(a) == tag_normalise(b)


@pytest.mark.parametrize(("a", "b"), [("Quality control", "Quality assurance"), ("four", "for"), ("GMP", "GDP")])
def test_different_tags_keep_different_keys(a, b):
    assert tag_normalise(a) != tag_normalise(b)

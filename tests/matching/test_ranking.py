"""The second stage (matching/ranking.py) and the hand-labelled set it is measured on."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings

from matching import ranking

LABELLED = Path(__file__).parent / "data" / "ifate_labelled.csv"


def unit_rows(n, dim=384, seed=0):
    v = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_hubness_is_the_mean_of_the_k_nearest_other_rows():
    v = unit_rows(60)
    sims = v @ v.T
    np.fill_diagonal(sims, -np.inf)
    expected = np.sort(sims, axis=1)[:, -10:].mean(axis=1)
    assert np.allclose(ranking.hubness(v, k=10), expected, atol=1e-5)


def test_a_statement_near_everything_is_scored_down_and_an_ordinary_one_keeps_its_cosine():
    cos = np.array([[0.6, 0.6, 0.6]])
    hub = np.array([0.30, 0.20, 0.10])  # median 0.20
    out = ranking.hub_corrected(cos, hub, beta=0.5)
    assert out[0].tolist() == pytest.approx([0.55, 0.60, 0.65])


def test_small_corpora_are_scored_by_plain_cosine():
    v = unit_rows(ranking.MIN_STATEMENTS - 1)
    q = unit_rows(3, seed=1)
    cands = ranking.candidates(v)
    assert not cands.second_stage
    assert np.allclose(ranking.score_all(q, cands), np.clip(q @ v.T, 0, 1))


def test_search_returns_what_scoring_every_column_ranks_first():
    v = unit_rows(400)
    context = unit_rows(400, seed=2)
    q = unit_rows(5, seed=3)
    cands = ranking.candidates(v, context)
    assert cands.second_stage
    full = ranking.score_all(q, cands)
    indices, scores = ranking.search(q, cands, 5)
    for row in range(len(q)):
        best = np.argsort(-full[row], kind="stable")[:5]
        # the search re-scores the first stage's 50 best; on random vectors those hold the top 5
        assert list(indices[row]) == list(best)
        assert np.allclose(scores[row], full[row][best], atol=1e-6)


def test_the_adopted_second_stage_changes_scores_by_a_hub_and_a_context_term():
    v = unit_rows(100)
    context = unit_rows(100, seed=4)
    q = unit_rows(2, seed=5)
    cands = ranking.candidates(v, context)
    cos = q @ v.T
    expected = (1 - ranking.CONTEXT_GAMMA) * cos + ranking.CONTEXT_GAMMA * (q @ context.T)
    expected -= ranking.HUB_BETA * (cands.hub - np.median(cands.hub))[None, :]
    assert np.allclose(ranking.score_all(q, cands), np.clip(expected, 0, 1), atol=1e-6)


def read_labelled():
    with LABELLED.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_the_labelled_set_has_80_pairs_and_20_capabilities_without_provision():
    rows = read_labelled()
    pairs = [r for r in rows if r["standard_ref"]]
    none = [r for r in rows if not r["standard_ref"]]
    assert len(pairs) >= 80 and len(none) >= 20
    for r in rows:
        text = r["capability"]
        assert text[0].isupper() and text.endswith(".") and text.count(". ") == 0  # one sentence
    assert len({r["capability"] for r in rows}) == len(rows)


def test_the_labelled_duties_are_the_standards_data_as_imported():
    source = Path(settings.SHARED_DATA_DIR) / "ifate" / "standards_2020.json"
    if not source.exists():
        pytest.skip("the IfATE extract is not in this checkout's shared data")
    standards = {f"LARS{s['larsCode']}": s for s in json.loads(source.read_text(encoding="utf-8")) if s.get("duties")}
    for r in read_labelled():
        if not r["standard_ref"]:
            continue
        duty = standards[r["standard_ref"]]["duties"][int(r["duty_code"][1:]) - 1]
        assert duty["dutyID"] == r["duty_id"]
        assert " ".join(duty["dutyDetail"].split()) == r["duty_text"]
        for alt in filter(None, r["also"].split(";")):
            ref, code = alt.split(":")
            assert int(code[1:]) <= len(standards[ref]["duties"])

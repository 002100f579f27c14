"""KSB tag suggestions for a capability statement, ranked by meaning.

Knowledge tags come from ESCO knowledge concepts, Skill tags from ESCO skills/competences,
Behaviour tags from ESCO's transversal skills collection, each alongside the tags already used in
this and earlier cycles (reusing a tag keeps the vocabulary consistent, so those get a small
bonus). The ESCO lists are corpora of the embedding store built from the latest imported ESCO
version (``import_framework esco``); before ESCO is imported, only the tags already in use are
suggested.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.readiness import NotReady
from matching import ranking
from matching.embeddings import Corpus, encode, get_corpus, require_model

# Knowledge: every knowledge concept; Skill: the concepts typed skill/competence (not the few
# without a type); Behaviour: the concepts of the transversal skills collection.
CORPUS_KEYS = {"K": "esco:knowledge", "S": "esco:skills", "B": "esco:transversal"}  # in matching/corpora.py
SOURCE_LABELS = {"K": "ESCO knowledge", "S": "ESCO skill", "B": "ESCO transversal skill"}
# Reusing a tag already in use keeps a cycle's vocabulary consistent: nudge those up a little.
REUSE_BONUS = 0.05
DUPLICATE_THRESHOLD = 0.80
# The cycle's accent (issue 14) is discounted by ``ranking.without_accent`` (its weight,
# ``ranking.ACCENT_DISCOUNT``, measured by bench/ksb_suggestions.py on tests/workshops/tags/
# ksb_cycle_accent.json), so a word every statement shares ("food", "aircraft") does not pull the
# suggestions. The capability library's search was measured with the same discount and keeps the
# accent (``library.ACCENT_DISCOUNT``, matching/library.py).


def esco_corpus(kind: str, *, stored_only: bool = False) -> Corpus:
    """The ESCO concepts suggested for a tag kind (K, S or B) with their unit vectors; empty when
    ESCO is not imported. ``stored_only``: never encode (a request), ``NotReady`` until the
    worker has embedded them."""
    return get_corpus(CORPUS_KEYS[kind], stored_only=stored_only)


def corpus_ranking(corpus: Corpus) -> ranking.Candidates:
    """The second stage's view of an ESCO list, built once per process and list version."""
    # Through the one second stage, but without its hub term: on the 24 expected-tag cases
    # (bench/ksb_suggestions.py) it lifted @1 71 % → 79 % and MRR 0.788 → 0.827 but lost a case at
    # @5 (92 % → 88 %) and @10 (96 % → 92 %), so it is not adopted here (docs/benchmarks.md).
    return ranking.for_corpus(corpus, hub=False)


def prepare(progress=None) -> None:
    """Embed the three ESCO lists the suggestions need (what the worker's warm-up does)."""
    for key in CORPUS_KEYS.values():
        get_corpus(key, progress)


def _label_key(label: str) -> str:
    from workshops.tags.services import tag_normalise  # noqa: PLC0415

    return tag_normalise(label)


def suggest_tags(
    statement: str, kind: str, existing: list[tuple[int, str, int]], k: int = 8, context: Sequence[str] = ()
) -> list[dict]:
    """Top ``k`` tags for ``statement``: ESCO concepts of the kind and tags already in use.

    ``existing`` is [(tag id, name, uses)]; ``context`` the other statements of the cycle, whose
    shared accent is discounted (``ranking.without_accent``). Returns dicts with name, source, score (cosine,
    with the reuse bonus for tags in use) and ref (ESCO URI or tag id), best first, one per
    normalised name.
    Called by a page: it raises ``core.readiness.NotReady`` rather than load the model or embed an
    ESCO list itself (the worker's warm-up does; ``matching.tasks.warm_up``). While only the ESCO
    list is missing, the ``NotReady`` carries the suggestions from tags in use (``partial``).
    """
    require_model()
    query = encode([statement])[0]
    others = [text for text in context if text != statement]
    if len(others) >= ranking.ACCENT_MIN_CONTEXT:
        query = ranking.without_accent(query, encode(others))
    candidates = _in_use_candidates(query, existing)
    try:
        corpus = esco_corpus(kind, stored_only=True)
    except NotReady as not_ready:
        not_ready.partial = _best(candidates, k)
        raise
    if len(corpus):
        # The adopted ranking (matching/ranking.py): cosine candidates, re-scored by the second stage.
        top, scores = ranking.search(query[None, :], corpus_ranking(corpus), max(k * 3, 20))
        for order, (idx, score) in enumerate(zip(top[0], scores[0], strict=True)):
            item = corpus.items[int(idx)]
            candidates.append(
                (float(score), order, {"name": item.text, "source": SOURCE_LABELS[kind], "ref": item.ref})
            )
    return _best(candidates, k)


def _in_use_candidates(query: np.ndarray, existing: list[tuple[int, str, int]]) -> list[tuple[float, int, dict]]:
    """The cycle's tags in use as (score with the reuse bonus, order, suggestion)."""
    if not existing:
        return []
    scores = encode([name for _, name, _ in existing]) @ query
    return [
        (
            float(score) + REUSE_BONUS,
            -1 - order,
            {"name": name, "source": f"Used in {uses} capabilit{'y' if uses == 1 else 'ies'}", "ref": str(tag_id)},
        )
        for order, ((tag_id, name, uses), score) in enumerate(zip(existing, scores, strict=True))
    ]


def _best(candidates: list[tuple[float, int, dict]], k: int) -> list[dict]:
    """The ``k`` best candidates, one per normalised name, scores clipped to [0, 1]."""
    candidates = sorted(candidates, key=lambda c: (-round(c[0], 6), c[1]))
    seen, out = set(), []
    for score, _, item in candidates:
        key = _label_key(item["name"])
        if key in seen:
            continue
        seen.add(key)
        out.append({**item, "score": round(min(max(score, 0.0), 1.0), 4)})
        if len(out) == k:
            break
    return out


def similar_tag_pairs(
    tags: list[tuple[int, str]], threshold: float = DUPLICATE_THRESHOLD
) -> list[tuple[int, int, float]]:
    """Pairs of tags (same kind, given by the caller) whose names mean nearly the same."""
    if len(tags) < 2:
        return []
    vectors = encode([name for _, name in tags])
    sims = vectors @ vectors.T
    pairs = []
    for i in range(len(tags)):
        for j in range(i + 1, len(tags)):
            if sims[i, j] >= threshold:
                pairs.append((tags[i][0], tags[j][0], float(sims[i, j])))
    pairs.sort(key=lambda p: (-round(p[2], 6), p[0], p[1]))
    return pairs

"""The second stage of matching: how a capability's cosine scores against a framework's statements
become the scores every page, run and command uses.

The first stage is plain cosine of all-MiniLM-L6-v2 embeddings (``matching.embeddings``). The
second stage re-scores the candidates of the first; ``bench/matching_quality.py`` measures every
variant here against plain cosine on the labelled IfATE set (``tests/matching/data/``), the O*NET
DWA siblings and revision pairs, and the point-of-care report's provision statuses. What it
measured, adopted or not, is in ``docs/matching.md`` and ``docs/benchmarks.md``.

Primitives (pure numpy, used by the bench with any parameters):

``hubness(vectors, reference, k)``
    Per row, the mean cosine of its k nearest rows of ``reference`` (itself excluded when
    ``reference is vectors``): how close a statement sits to everything (CSLS's r).
``hub_corrected(scores, column_hub, beta)``
    ``cos − β·(r_d − median r)``: CSLS-style local scaling on the statement side, centred so a
    statement of ordinary density keeps its cosine (and the threshold keeps its meaning).
``with_context(scores, context_scores, gamma)``
    ``(1 − γ)·cos(q, duty) + γ·cos(q, context of the duty)``.
``rank_fusion(dense, lexical, candidates, k)``
    reciprocal-rank fusion of the dense and a lexical order over the top candidates.
``without_accent(query, context, weight)``
    the query less part of its component along the mean of the cycle's statements (issue 14): what
    every statement of a cycle shares ("food", "aircraft") stops leading a search inside it.

The adopted ranking is ``rescore(...)``: the one function match runs, ``match_statements``, the
capability library and KSB suggestions call.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

# The adopted second stage (see ``rescore``); the bench prints these figures beside the others.
NAME = "cosine + hub correction (β 0.5, k 10) + standard context (γ 0.1)"
HUB_K = 10
HUB_BETA = 0.5
CONTEXT_GAMMA = 0.1
# Below this many distinct statements a corpus has no neighbourhood to speak of (k = 10 nearest
# among a handful is noise): it is scored by plain cosine.
MIN_STATEMENTS = 50
FAISS_FROM = 4096
HUB_MARGIN = 32
# How many first-stage candidates per query a search re-scores (runs re-score every column: the
# correction is per column, so it costs one subtraction of a vector).
CANDIDATES = 50
# The cycle's accent (issue 14): a query loses this share of its component along the mean of the
# cycle's capability statements. KSB suggestions' weight, measured against 0 by bench/ksb_suggestions.py
# on tests/workshops/tags/ksb_cycle_accent.json; library search measured it too (bench/
# matching_quality.py §6) and does not discount (``library.ACCENT_DISCOUNT`` 0). Fewer statements
# than ACCENT_MIN_CONTEXT have no accent to speak of.
ACCENT_DISCOUNT = 0.5
ACCENT_MIN_CONTEXT = 5


def hubness(vectors: np.ndarray, reference: np.ndarray | None = None, k: int = HUB_K) -> np.ndarray:
    """Mean cosine of each row of ``vectors`` to its k nearest rows of ``reference`` (default:
    ``vectors`` itself, the row excluded). Blocks of 1,024 rows keep memory bounded."""
    vectors = np.asarray(vectors, dtype=np.float32)
    self_reference = reference is None
    reference = vectors if self_reference else np.asarray(reference, dtype=np.float32)
    n = len(vectors)
    out = np.zeros(n, dtype=np.float32)
    if n == 0 or len(reference) == 0:
        return out
    k = max(1, min(k, len(reference) - (1 if self_reference else 0)))
    if n >= FAISS_FROM and len(reference) > k + HUB_MARGIN:
        # faiss's exact top-k (BLAS blocks, a heap per row) instead of a full partition per block:
        # the same neighbours, a few times faster on a corpus of 18,000 statements.
        from matching import embeddings

        _idx, scores = embeddings.topk(vectors, reference, k + HUB_MARGIN)
        if self_reference:
            scores = np.where(scores > 0.9999, np.nan, scores)  # itself and identical texts
        kept = np.sort(np.where(np.isnan(scores), -np.inf, scores), axis=1)[:, ::-1][:, :k]
        finite = np.isfinite(kept)
        return (np.where(finite, kept, 0.0).sum(axis=1) / np.maximum(finite.sum(axis=1), 1)).astype(np.float32)
    for start in range(0, n, 1024):
        block = vectors[start : start + 1024] @ reference.T
        if self_reference:
            rows = np.arange(len(block))
            block[rows, start + rows] = -np.inf
            # A duplicate text is the same statement, not a neighbour.
            block[block > 0.9999] = -np.inf
        part = np.partition(block, block.shape[1] - k, axis=1)[:, block.shape[1] - k :]
        part = np.where(np.isfinite(part), part, 0.0)
        out[start : start + len(block)] = part.mean(axis=1)
    return out


def hub_corrected(
    scores: np.ndarray, column_hub: np.ndarray, beta: float = HUB_BETA, centre: float | None = None
) -> np.ndarray:
    """``cos − β·(r_d − median r)`` per column (``centre``: the median of the whole corpus when
    ``column_hub`` is only some of its columns)."""
    if not beta or len(column_hub) == 0:
        return scores
    centre = float(np.median(column_hub)) if centre is None else centre
    return scores - beta * (column_hub - centre)[None, :]


def csls(scores: np.ndarray, column_hub: np.ndarray, row_hub: np.ndarray) -> np.ndarray:
    """Full CSLS, ``2·cos − r_q − r_d`` (its scale is not a cosine's)."""
    return 2 * scores - row_hub[:, None] - column_hub[None, :]


def with_context(scores: np.ndarray, context_scores: np.ndarray, gamma: float = CONTEXT_GAMMA) -> np.ndarray:
    if not gamma:
        return scores
    return (1 - gamma) * scores + gamma * context_scores


def rank_fusion(dense: np.ndarray, lexical: np.ndarray, candidates: int = CANDIDATES, k: int = 60) -> np.ndarray:
    """Reciprocal-rank fusion over each row's top ``candidates`` by ``dense``: 1/(k + dense rank) +
    1/(k + lexical rank among those candidates); columns outside the candidates get −inf."""
    n, m = dense.shape
    c = min(candidates, m)
    top = np.argpartition(-dense, c - 1, axis=1)[:, :c]
    out = np.full(dense.shape, -np.inf, dtype=np.float64)
    rows = np.arange(n)[:, None]
    dense_top = dense[rows, top]
    lexical_top = lexical[rows, top]
    dense_rank = np.argsort(np.argsort(-dense_top, axis=1, kind="stable"), axis=1) + 1
    lexical_rank = np.argsort(np.argsort(-lexical_top, axis=1, kind="stable"), axis=1) + 1
    out[rows, top] = 1.0 / (k + dense_rank) + 1.0 / (k + lexical_rank)
    return out


def without_accent(
    query: np.ndarray, context: np.ndarray, weight: float | None = None, centre: np.ndarray | None = None
) -> np.ndarray:
    """``query`` (a unit vector) less ``weight`` (default ``ACCENT_DISCOUNT``) of its component along
    the mean direction of ``context`` (the cycle's statements, unit rows), renormalised; unchanged
    for a small context. ``centre``: what every statement has in common anyway (the mean vector of
    the corpus searched); the accent is then the cycle's mean beyond it."""
    weight = ACCENT_DISCOUNT if weight is None else weight
    if weight <= 0 or len(context) < ACCENT_MIN_CONTEXT:
        return query
    accent = np.asarray(context, dtype=np.float32).mean(axis=0)
    if centre is not None:
        accent = accent - centre
    norm = float(np.linalg.norm(accent))
    if norm == 0.0:
        return query
    accent = accent / norm
    discounted = query - weight * float(query @ accent) * accent
    return (discounted / max(float(np.linalg.norm(discounted)), 1e-12)).astype(np.float32)


def rescore(
    scores: np.ndarray,
    *,
    column_hub: np.ndarray | None = None,
    context_scores: np.ndarray | None = None,
    centre: float | None = None,
) -> np.ndarray:
    """The adopted second stage over first-stage cosines (rows: queries, columns: statements)."""
    out = scores
    if context_scores is not None:
        out = with_context(out, context_scores, CONTEXT_GAMMA)
    if column_hub is not None:
        out = hub_corrected(out, column_hub, HUB_BETA, centre)
    return out


# --- the adopted ranking over the product's corpora ------------------------------------------------


@dataclass
class Candidates:
    """What the second stage knows about the statements it re-scores: their unit vectors, their
    density among themselves (``hub``) and, for a framework's statements, the vector of the
    standard(s) they belong to (``context``: "title. overview"). ``hub``/``context`` are None when
    the corpus is too small for the second stage (``MIN_STATEMENTS``)."""

    vectors: np.ndarray  # (U, DIM)
    hub: np.ndarray | None = None  # (U,)
    context: np.ndarray | None = None  # (U, DIM)
    centre: float | None = None  # what ``hub`` is centred on (default: its median)

    @property
    def second_stage(self) -> bool:
        return self.hub is not None

    @property
    def median_hub(self) -> float:
        if self.centre is None:
            self.centre = float(np.median(self.hub)) if self.hub is not None else 0.0
        return self.centre


def candidates(
    vectors: np.ndarray,
    context: np.ndarray | None = None,
    *,
    key: str | None = None,
    hashes: list[str] | None = None,
) -> Candidates:
    """The second stage's view of a corpus. With ``key`` and the texts' ``hashes`` the hub term is
    read from (or written to) the database, so only the first process ever computes it (seconds
    for the 33,000 statements of the library)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if len(vectors) < MIN_STATEMENTS:
        return Candidates(vectors=vectors)
    hub = stored_hubness(key, vectors, hashes) if key and hashes else hubness(vectors, k=HUB_K)
    return Candidates(vectors=vectors, hub=hub, context=context)


def stored_hubness(key: str, vectors: np.ndarray, hashes: list[str]) -> np.ndarray:
    """``hubness(vectors)`` kept as a one-column ``StoredMatrix`` under ``hub:<key>``, keyed by the
    digest of the ordered text hashes (and k), so it can only ever belong to exactly these texts."""
    import hashlib

    from matching.embeddings import MODEL_NAME
    from matching.models import StoredMatrix

    digest = hashlib.sha256(f"hub:k={HUB_K}:".encode() + "".join(hashes).encode("ascii")).hexdigest()
    blob = StoredMatrix.objects.filter(model=MODEL_NAME, digest=digest).values_list("vectors", flat=True).first()
    if blob is not None and len(blob) == 4 * len(vectors):
        return np.frombuffer(bytearray(blob), dtype=np.float32).copy()
    hub = hubness(vectors, k=HUB_K)
    StoredMatrix.objects.filter(model=MODEL_NAME, key=f"hub:{key}").exclude(digest=digest).delete()
    StoredMatrix.objects.bulk_create(
        [StoredMatrix(model=MODEL_NAME, key=f"hub:{key}", digest=digest, rows=len(hub), vectors=hub.tobytes())],
        ignore_conflicts=True,
    )
    return hub


def score_all(query_vectors: np.ndarray, cands: Candidates) -> np.ndarray:
    """(Q, U) final scores in [0, 1] of every query against every candidate statement: what match
    runs store and ``match_statements`` prints."""
    queries = np.atleast_2d(np.asarray(query_vectors, dtype=np.float32))
    cos = queries @ cands.vectors.T
    if cands.second_stage:
        context = queries @ cands.context.T if cands.context is not None else None
        cos = rescore(cos, column_hub=cands.hub, context_scores=context, centre=cands.median_hub)
    return np.clip(cos, 0.0, 1.0).astype(np.float32)


def search(query_vectors: np.ndarray, cands: Candidates, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` per query: the ``CANDIDATES`` best by cosine (first stage, exact), re-scored by the
    second stage and sorted again (ties by index). Scores in [0, 1]."""
    from matching import embeddings

    queries = np.atleast_2d(np.asarray(query_vectors, dtype=np.float32))
    if not len(cands.vectors):
        return np.zeros((len(queries), 0), np.int64), np.zeros((len(queries), 0), np.float32)
    first = max(k, CANDIDATES) if cands.second_stage else k
    indices, scores = embeddings.topk(queries, cands.vectors, first)
    if cands.second_stage:
        rows = []
        for row in range(len(queries)):
            idx = indices[row]
            cos = scores[row][None, :]
            context = (queries[row] @ cands.context[idx].T)[None, :] if cands.context is not None else None
            # centred on the whole corpus's median, so a pair scores as in ``score_all``
            rows.append(rescore(cos, column_hub=cands.hub[idx], context_scores=context, centre=cands.median_hub)[0])
        rescored = np.vstack(rows)
        order = np.argsort(-rescored, axis=1, kind="stable")[:, :k]
        indices = np.take_along_axis(indices, order, axis=1)
        scores = np.take_along_axis(rescored, order, axis=1)
    return indices, np.clip(scores, 0.0, 1.0).astype(np.float32)


def stack(parts: list[Candidates]) -> Candidates:
    """Several corpora searched as one (the capability library): each keeps its own hub term,
    centred on its own median; parts too small for the second stage get none."""
    if not parts:
        return Candidates(vectors=np.zeros((0, 384), np.float32))
    vectors = np.vstack([p.vectors for p in parts])
    if not any(p.second_stage for p in parts):
        return Candidates(vectors=vectors)
    hub = np.concatenate([p.hub - p.median_hub if p.second_stage else np.zeros(len(p.vectors)) for p in parts])
    return Candidates(vectors=vectors, hub=hub.astype(np.float32), context=None, centre=0.0)


_cache: dict[tuple, Candidates] = {}
_lock = threading.Lock()


def cached(key: tuple, build) -> Candidates:
    """Candidates per corpus, built once per process (``key`` must change when the corpus does)."""
    found = _cache.get(key)
    if found is not None:
        return found
    with _lock:
        found = _cache.get(key)
        if found is None:
            if len(_cache) > 32:
                _cache.clear()
            found = _cache[key] = build()
        return found


def for_corpus(corpus, *, hub: bool = True) -> Candidates:
    """The second stage's view of a named corpus of ``matching.embeddings`` (the library's lists, the
    KSB suggestion lists), built once per process and corpus version, its hub term stored.
    ``hub=False``: no hub term (the KSB suggestion lists, where it was measured and lost)."""
    from matching.embeddings import text_hash

    def build() -> Candidates:
        if not hub:
            return Candidates(vectors=np.ascontiguousarray(corpus.vectors, dtype=np.float32))
        hashes = [item.text_hash or text_hash(item.text) for item in corpus.items]
        return candidates(corpus.vectors, key=corpus.key, hashes=hashes)

    return cached(("corpus", corpus.key, corpus.signature, hub), build)


def forget() -> None:
    _cache.clear()

#!/usr/bin/env python
"""Query expansion by pseudo-relevance feedback against plain cosine (issue 14; docs/benchmarks.md).

q' = q + a·mean(its k nearest O*NET tasks), renormalised (itself and identical texts excluded), on
the same 3,000 DWA sibling queries (seed 0) and 48 revision pairs as ``bench/matching_quality.py``,
whose loaders and measures it uses. Vectors come straight from the encoder (nothing stored).

    python bench/query_expansion.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import matching_quality as mq  # noqa: E402  (sets Django up on the bench's own database)
import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402

from matching import encoders, ranking  # noqa: E402


def expand(queries: np.ndarray, corpus: np.ndarray, k: int, a: float, exclude=None, weighted=False) -> np.ndarray:
    scores = queries @ corpus.T
    if exclude is not None:
        scores[np.arange(len(queries)), exclude] = -np.inf
    scores[scores > 0.9999] = -np.inf
    idx = np.argpartition(-scores, k, axis=1)[:, :k]
    if weighted:
        weights = np.maximum(np.take_along_axis(scores, idx, 1), 0)
        mean = np.einsum("qk,qkd->qd", weights / weights.sum(1, keepdims=True), corpus[idx])
    else:
        mean = corpus[idx].mean(1)
    out = queries + a * mean
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def main() -> None:
    _ids, texts, _occupation, dwas, task_dwas, revisions = mq.load(Path(settings.SHARED_DATA_DIR) / "onet")
    encoder = encoders.load()
    vectors = encoder.encode(texts, 64)
    revised = encoder.encode([text for text, _ in revisions], 64)
    rng = np.random.default_rng(0)
    queries, siblings = mq.sibling_queries(texts, dwas, task_dwas, 3000, rng)
    hub = ranking.hubness(vectors)
    hub = hub - np.median(hub)

    def measure(name: str, k: int = 0, a: float = 0.0, beta: float = 0.0, weighted: bool = False) -> None:
        q, r = vectors[queries], revised
        if k:
            q = expand(q, vectors, k, a, exclude=queries, weighted=weighted)
            r = expand(r, vectors, k, a, weighted=weighted)
        scores = q @ vectors.T - beta * hub
        scores[np.arange(len(queries)), queries] = -np.inf
        sib = mq.retrieval(mq.ranks_of(scores, siblings))
        rev = mq.retrieval(mq.ranks_of(r @ vectors.T - beta * hub, [{t} for _, t in revisions]))
        print(f"| {name} | {sib['R@1']:.3f} | {sib['R@10']:.3f} | {sib['MRR']:.3f} | {rev['R@1']:.3f} |", flush=True)

    print(f"\n{len(texts):,} O*NET tasks · {len(queries):,} sibling queries · {len(revisions)} revision pairs\n")
    print("| ranking | DWA R@1 | DWA R@10 | DWA MRR | revisions R@1 |\n|---|---|---|---|---|")
    measure("plain cosine")
    measure("hub β 0.5", beta=0.5)
    for k, a in ((3, 0.3), (5, 0.3), (10, 0.3), (5, 0.5), (10, 1.0)):
        measure(f"PRF k {k}, a {a}", k, a)
    measure("PRF k 5, a 0.5, then hub β 0.5", 5, 0.5, beta=0.5)
    measure("PRF k 10, a 0.5, score-weighted mean", 10, 0.5, weighted=True)


if __name__ == "__main__":
    main()

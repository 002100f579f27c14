#!/usr/bin/env python
"""Transforms of the embedding space against plain cosine on O*NET DWA siblings (issue 14).

Two families, measured on the same 3,000 DWA sibling queries (seed 0) and 48 revision pairs as
``bench/matching_quality.py``, whose loaders and measures it uses; vectors straight from the
encoder (nothing stored):

* unsupervised: centre the task vectors and remove their top D principal directions ("all but
  the top"), or whiten them partly (each principal direction scaled by (s / s_max)^-p);
* supervised: a linear map W (384 × 384, from the identity) trained with an in-batch contrastive
  loss on pairs of tasks that share a DWA, with an L2 pull λ·‖W − I‖² back to the identity. Held
  out by task: the tasks are split in two folds, each fold's queries are ranked with the map
  trained on pairs of the other fold's tasks only (targets are searched among all tasks).

    python bench/embedding_transforms.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import matching_quality as mq  # noqa: E402  (sets Django up on the bench's own database)
import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402

from matching import encoders  # noqa: E402

MAX_PAIRS = 200_000


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def train_map(vectors: np.ndarray, dwas: dict, in_fold: np.ndarray, lam: float, epochs: int, seed: int) -> np.ndarray:
    import torch

    rng = np.random.default_rng(seed)
    pairs = []
    for members in dwas.values():
        kept = [t for t in members if in_fold[t]]
        pairs += [(a, b) for i, a in enumerate(kept) for b in kept[i + 1 :]]
    pairs = np.array(pairs)
    rng.shuffle(pairs)
    pairs = pairs[:MAX_PAIRS]
    torch.manual_seed(seed)
    x = torch.tensor(vectors)
    eye = torch.eye(vectors.shape[1])
    w = torch.nn.Parameter(eye.clone())
    optimiser = torch.optim.Adam([w], lr=1e-3)
    for epoch in range(epochs):
        order = np.random.default_rng(seed + epoch).permutation(len(pairs))
        for start in range(0, len(order), 512):
            batch = pairs[order[start : start + 512]]
            a = torch.nn.functional.normalize(x[batch[:, 0]] @ w, dim=1)
            b = torch.nn.functional.normalize(x[batch[:, 1]] @ w, dim=1)
            logits = a @ b.T / 0.05
            labels = torch.arange(len(batch))
            loss = (
                torch.nn.functional.cross_entropy(logits, labels) + torch.nn.functional.cross_entropy(logits.T, labels)
            ) / 2
            loss = loss + lam * ((w - eye) ** 2).sum()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return w.detach().numpy()


def main() -> None:
    _ids, texts, _occupation, dwas, task_dwas, revisions = mq.load(Path(settings.SHARED_DATA_DIR) / "onet")
    encoder = encoders.load()
    vectors = encoder.encode(texts, 64)
    revised = encoder.encode([text for text, _ in revisions], 64)
    rng = np.random.default_rng(0)
    queries, siblings = mq.sibling_queries(texts, dwas, task_dwas, 3000, rng)
    targets = [{t} for _, t in revisions]

    def sibling_ranks(v: np.ndarray) -> np.ndarray:
        scores = v[queries] @ v.T
        scores[np.arange(len(queries)), queries] = -np.inf
        return mq.ranks_of(scores, siblings)

    def row(name: str, sib_ranks: np.ndarray, rev: str) -> None:
        sib = mq.retrieval(sib_ranks)
        print(f"| {name} | {sib['R@1']:.3f} | {sib['R@10']:.3f} | {sib['MRR']:.3f} | {rev} |", flush=True)

    def revisions_r1(v: np.ndarray, r: np.ndarray) -> str:
        return f"{mq.retrieval(mq.ranks_of(r @ v.T, targets))['R@1']:.3f}"

    print(f"\n{len(texts):,} O*NET tasks · {len(queries):,} sibling queries · {len(revisions)} revision pairs\n")
    print("| transform | DWA R@1 | DWA R@10 | DWA MRR | revisions R@1 |\n|---|---|---|---|---|")
    row("plain cosine", sibling_ranks(vectors), revisions_r1(vectors, revised))
    mean = vectors.mean(0)
    _u, s, vt = np.linalg.svd(vectors - mean, full_matrices=False)
    for d in (0, 1, 2, 5, 12):
        top = vt[:d]

        def centred(x: np.ndarray, top=top) -> np.ndarray:
            y = x - mean
            return unit(y - (y @ top.T) @ top)

        row(
            f"centred, top {d} directions removed",
            sibling_ranks(centred(vectors)),
            revisions_r1(centred(vectors), centred(revised)),
        )
    for p in (0.25, 0.5):
        whiten = vt.T @ np.diag((s / s.max()) ** -p) @ vt
        v, r = unit((vectors - mean) @ whiten), unit((revised - mean) @ whiten)
        row(f"whitened, p {p}", sibling_ranks(v), revisions_r1(v, r))

    fold = rng.integers(0, 2, size=len(texts))
    for lam, epochs in ((0.1, 3), (0.01, 3), (0.001, 6)):
        started = time.perf_counter()
        ranks = np.zeros(len(queries), dtype=np.int64)
        for held_out in (0, 1):
            w = train_map(vectors, dwas, fold != held_out, lam, epochs, seed=held_out)
            fold_ranks = sibling_ranks(unit(vectors @ w))
            mine = fold[queries] == held_out
            ranks[mine] = fold_ranks[mine]
        took = time.perf_counter() - started
        row(f"linear map, λ {lam}, {epochs} epochs (held out by task; {took:.0f} s)", ranks, "—")


if __name__ == "__main__":
    main()

import numpy as np
import pytest

from matching.embeddings import TOPK_FAISS_MIN_QUERIES, topk


def exact(queries, corpus, k):
    full = queries @ corpus.T
    expected = np.argsort(-full, axis=1, kind="stable")[:, : min(k, len(corpus))]
    return expected, np.take_along_axis(full, expected, axis=1)


@pytest.mark.parametrize(
    ("n", "m", "k", "chunk"),
    [
        (300, 5000, 10, None),
        (300, 5000, 10, 64),
        (50, 40, 10, None),
        (7, 3, 10, None),
        (100, 9000, 1, 33),
        (80, 12, 10, None),
    ],
)
def test_topk_equals_a_full_sort(n, m, k, chunk):
    rng = np.random.default_rng(n + m)
    queries = rng.standard_normal((n, 16)).astype(np.float32)
    corpus = rng.standard_normal((m, 16)).astype(np.float32)
    indices, scores = topk(queries, corpus, k, chunk=chunk)
    expected, expected_scores = exact(queries, corpus, k)
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.take_along_axis(queries @ corpus.T, indices, axis=1), scores, rtol=1e-5, atol=1e-5)
    assert (indices == expected).mean() > 0.999  # random floats: only a rounding-level near-tie may swap
    assert (np.diff(scores, axis=1) <= 1e-6).all()


@pytest.mark.parametrize("n", [5, TOPK_FAISS_MIN_QUERIES * 3])  # numpy's path and faiss's
def test_ties_are_ordered_by_index_exactly_as_a_stable_sort(n):
    # Small integers: every product is exact in float32, so ties are real ties.
    rng = np.random.default_rng(n)
    queries = rng.integers(-2, 3, (n, 8)).astype(np.float32)
    corpus = rng.integers(-2, 3, (3000, 8)).astype(np.float32)
    indices, scores = topk(queries, corpus, 10)
    expected, expected_scores = exact(queries, corpus, 10)
    assert (indices == expected).all()
    assert (scores == expected_scores).all()


def test_faiss_runs_the_blas_kernels_of_this_cpu():
    # faiss-cpu's bundled OpenBLAS (0.3.15) read a Sapphire Rapids Xeon as a generic "Prescott" and
    # ran SSE3 kernels: top-k 4.7x slower than with its AVX-512 ones (matching.embeddings._import_faiss).
    import ctypes
    import os
    from pathlib import Path

    from matching.embeddings import _cpu_flags, openblas_coretype

    expected = openblas_coretype(_cpu_flags())
    if expected is None or "OPENBLAS_CORETYPE" in os.environ:
        pytest.skip("OpenBLAS chooses its own kernels here (no AVX2, or OPENBLAS_CORETYPE set)")
    rng = np.random.default_rng(0)
    topk(
        rng.standard_normal((TOPK_FAISS_MIN_QUERIES, 8), dtype=np.float32),
        rng.standard_normal((50, 8), dtype=np.float32),
        3,
    )
    import faiss

    [library] = (Path(faiss.__file__).parent.parent / "faiss_cpu.libs").glob("libopenblas*.so*")
    corename = ctypes.CDLL(str(library)).openblas_get_corename
    corename.restype = ctypes.c_char_p
    assert corename().decode().lower() == expected.lower()
    assert "OPENBLAS_CORETYPE" not in os.environ  # put back: nothing else loaded later is told

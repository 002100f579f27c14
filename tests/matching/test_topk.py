import numpy as np
import pytest

from matching.embeddings import topk


@pytest.mark.parametrize(
    ("n", "m", "k", "chunk"), [(300, 5000, 10, 64), (50, 40, 10, None), (7, 3, 10, None), (100, 9000, 1, 33)]
)
def test_blocked_topk_equals_a_full_sort(n, m, k, chunk):
    rng = np.random.default_rng(n + m)
    queries = rng.standard_normal((n, 16)).astype(np.float32)
    corpus = rng.standard_normal((m, 16)).astype(np.float32)
    indices, scores = topk(queries, corpus, k, chunk=chunk)
    full = queries @ corpus.T
    expected = np.argsort(-full, axis=1, kind="stable")[:, : min(k, m)]
    np.testing.assert_allclose(scores, np.take_along_axis(full, expected, axis=1), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.take_along_axis(full, indices, axis=1), scores, rtol=1e-5, atol=1e-5)
    assert (np.diff(scores, axis=1) <= 1e-6).all()

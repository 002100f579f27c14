"""``embeddings.stored_vectors``: the store's vectors for text hashes, without ever encoding."""

from __future__ import annotations

import numpy as np
import pytest

from findings import current_state
from matching import embeddings
from tests.matching.conftest import store_vectors


def test_stored_vectors_returns_what_the_store_holds_and_skips_the_rest(db, no_model):
    store_vectors({"Weld the frame.": [1.0, 0.0], "Paint the frame.": [0.0, 1.0]})
    known = embeddings.text_hash("Weld the frame.")
    unknown = embeddings.text_hash("Never seen.")
    vectors = embeddings.stored_vectors([known, unknown, known])
    assert set(vectors) == {known}
    assert vectors[known].dtype == np.float32 and vectors[known].shape == (embeddings.DIM,)
    assert vectors[known][0] == pytest.approx(1.0)


def test_the_current_state_proxy_reads_vectors_through_the_store(db, no_model, monkeypatch):
    store_vectors({"Weld the frame.": [1.0, 0.1], "Paint the frame.": [0.1, 1.0], "Weld seams.": [0.9, 0.2]})
    asked = []
    real = embeddings.stored_vectors
    monkeypatch.setattr(embeddings, "stored_vectors", lambda hashes: asked.append(set(hashes)) or real(hashes))
    h = embeddings.text_hash
    duties = [(h("Weld seams."), "Weld seams."), (h("Unknown duty."), "Unknown duty.")]
    anchors = [
        (h("Weld the frame."), "Weld the frame.", "Fabrication"),
        (h("Paint the frame."), "Paint the frame.", "Finishing"),
    ]
    assert current_state.classify_duties(duties, anchors) == {"Fabrication": 1}
    assert asked == [{h("Weld seams."), h("Unknown duty."), h("Weld the frame."), h("Paint the frame.")}]

"""Matching fixtures: the real embedding model (loaded once per session) and tiny frameworks."""

from __future__ import annotations

import numpy as np
import pytest

from matching import embeddings, library, scoring, selectors
from matching.importers.base import ParsedFramework, ParsedStandard, ParsedStatement, save_framework
from matching.models import Embedding
from workshops.models import FOP, Capability, FOPCapability


@pytest.fixture(scope="session")
def embedding_model():
    """The shipped model, loaded once for the whole session (nothing is downloaded)."""
    return embeddings.get_model()


@pytest.fixture(autouse=True)
def _fresh_matching_caches():
    # Per-process caches key on database ids, which a rolled-back test may hand out again.
    embeddings.forget_corpora()
    scoring.forget_matrices()
    selectors._cache.clear()
    library.forget()
    yield


def make_framework(kind: str, standards: list[tuple[str, str, int | None, list[str]]], *, has_levels: bool = True):
    """A framework version from (ref, title, level, [statement texts]); statements are duties/tasks."""
    statement_kind = {"ifate": "duty", "onet": "task", "esco": "essential_skill"}[kind]
    parsed = ParsedFramework(
        kind=kind,
        label=f"{kind} test",
        source="tests",
        checksum=f"{kind}-{standards!r}"[:64],
        has_levels=has_levels,
        standards=[ParsedStandard(ref=ref, title=title, level=level) for ref, title, level, _ in standards],
        statements=[
            ParsedStatement(ref, f"{ref}-{i + 1}", statement_kind, text)
            for ref, _title, _level, texts in standards
            for i, text in enumerate(texts)
        ],
    )
    return save_framework(parsed).version


def store_vectors(vectors_by_text: dict[str, list[float]]) -> None:
    """Put hand-made unit vectors in the store, so a test can fix scores without the model."""
    rows = []
    for text, values in vectors_by_text.items():
        vector = np.zeros(embeddings.DIM, dtype=np.float32)
        vector[: len(values)] = values
        vector /= np.linalg.norm(vector)
        rows.append(
            Embedding(model=embeddings.MODEL_NAME, text_hash=embeddings.text_hash(text), vector=vector.tobytes())
        )
    Embedding.objects.bulk_create(rows)


def make_capability(cycle, ref: str, statement: str, **kwargs) -> Capability:
    kwargs.setdefault("status", Capability.Status.ACCEPTED)
    return Capability.objects.create(cycle=cycle, ref=ref, statement=statement, **kwargs)


def make_fop(cycle, name: str, capabilities: list[Capability], role_level=None) -> FOP:
    fop = FOP.objects.create(cycle=cycle, name=name, role_level=role_level)
    for capability in capabilities:
        FOPCapability.objects.create(fop=fop, capability=capability, proficiency=2)
    return fop

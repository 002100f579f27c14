"""The capture assists answer at once: by meaning when the model is loaded and the vectors are at
hand, otherwise by wording, saying which; a request never loads the model."""

import json

import numpy as np
import pytest
from django.conf import settings

from matching import assist, embeddings
from matching.lexical import LexicalIndex
from tests.matching.conftest import make_capability
from tests.workshops.capture.factories import FunctionalAreaFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh():
    assist.forget()
    yield
    assist.forget()


@pytest.fixture
def model_spy(monkeypatch):
    """The real model, loaded in this process, with a note of every text the code asks it to encode
    (stored or not): the tests count what one request encodes."""
    embeddings.get_model()
    encoded: list[str] = []
    real_encode, real_unstored = embeddings.encode, embeddings.encode_unstored

    def encode(texts, progress=None):
        encoded.extend(texts)
        return real_encode(texts, progress)

    def encode_unstored(texts):
        encoded.extend(embeddings.normalise(t) for t in texts)
        return real_unstored(texts)

    monkeypatch.setattr(embeddings, "encode", encode)
    monkeypatch.setattr(embeddings, "encode_unstored", encode_unstored)
    return encoded


def published_statements():
    data = json.loads((settings.SHARED_DATA_DIR / "seed_cycles" / "poc_manufacturing_2025.json").read_text())
    return [c["statement"] for c in data["capabilities"]]


def test_the_wording_index_gives_scikit_learn_s_char_wb_tfidf_cosines():
    text = pytest.importorskip("sklearn.feature_extraction.text")
    pairwise = pytest.importorskip("sklearn.metrics.pairwise")
    statements = published_statements()
    queries = ["Implement maintenance plans to keep equipment qualified", "QA", "", "a  b\ncd  e"]
    vectorizer = text.TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    matrix = vectorizer.fit_transform(statements)
    expected = pairwise.linear_kernel(vectorizer.transform(queries), matrix)
    assert np.allclose(LexicalIndex(statements).scores(queries), expected, atol=1e-12)


def test_without_the_model_loaded_duplicates_are_found_by_wording(personas, no_model):
    make_capability(personas.cycle, "C04", "Support compliance audits within spoke sites to meet HTA and MHRA rules.")
    make_capability(personas.cycle, "C05", "Implement maintenance plans to sustain equipment uptime.")
    answer = assist.similar_statements(personas.cycle.pk, "Support compliance audits at spoke sites")
    assert answer["method"] == "lexical" and answer["threshold"] == assist.DUPLICATE_THRESHOLD["lexical"]
    assert [m["ref"] for m in answer["matches"]] == ["C04"] and answer["compared"] == 2
    assert assist.similar_statements(personas.cycle.pk, "Support")["method"] is None  # too short to compare


def test_with_the_model_loaded_unseen_statements_are_embedded_a_few_per_request(personas, model_spy):
    for i in range(20):
        make_capability(personas.cycle, f"C{i:02d}", f"Develop automated process number {i} for spoke sites.")
    draft = "Develop automated processes for spoke sites."
    methods = [assist.similar_statements(personas.cycle.pk, draft)["method"] for _ in range(4)]
    # 20 statements never embedded: 8 per request, answering by wording until all are at hand.
    assert methods == ["lexical", "lexical", "embedding", "embedding"]
    assert len([t for t in model_spy if "number" in t]) == 20
    assert model_spy.count(embeddings.normalise(draft)) == 2  # the draft itself, never stored


def test_stored_vectors_are_used_without_encoding_any_statement(personas, model_spy):
    make_capability(personas.cycle, "C01", "Maintain the cold chain for raw materials.")
    make_capability(personas.cycle, "C02", "Recruit qualified persons for hub sites.")
    embeddings.encode(["Maintain the cold chain for raw materials.", "Recruit qualified persons for hub sites."])
    model_spy.clear()  # both statements are now stored, as a capture board's are
    draft = "Maintain the cold chain of the raw materials."
    answer = assist.similar_statements(personas.cycle.pk, draft)
    assert answer["method"] == "embedding"
    assert [m["ref"] for m in answer["matches"]] == ["C01"] and answer["matches"][0]["score"] > 0.9
    assert model_spy == [embeddings.normalise(draft)]


def test_the_suggestion_is_the_majority_of_the_nearest_classified_statements(personas, no_model):
    cold, inventory = FunctionalAreaFactory(name="Maintain Cold Chain"), FunctionalAreaFactory(name="Manage Inventory")
    inventory.domain = cold.domain
    inventory.save()

    def classified(ref, text, where):
        return make_capability(
            personas.other_cycle, ref, text, function=where.domain.function, domain=where.domain, area=where
        )

    classified("C01", "Maintain the cold chain capacity for raw materials.", cold)
    classified("C02", "Ensure cold chain capacity for finished therapies.", cold)
    classified("C03", "Manage the inventory of raw materials.", inventory)
    mine = make_capability(personas.cycle, "C01", "Ensure cold chain capacity for raw materials.")
    answer = assist.suggest_classifications([(mine.pk, mine.statement)])
    suggestion = answer["suggestions"][mine.pk]
    assert answer["method"] == "lexical"
    assert (suggestion["function"], suggestion["domain"], suggestion["area"]) == (
        cold.domain.function_id,
        cold.domain_id,
        cold.pk,
    )
    assert suggestion["basis"] == "neighbours" and suggestion["neighbours"] == 3
    assert 0.5 < suggestion["confidence"] <= 1.0


def test_a_statement_is_never_its_own_neighbour(personas, no_model):
    area = FunctionalAreaFactory(name="Zz")
    c = make_capability(
        personas.cycle, "C01", "Qwv plonk zzyzx.", function=area.domain.function, domain=area.domain, area=area
    )
    assert c.pk not in assist.suggest_classifications([(c.pk, c.statement)])["suggestions"]

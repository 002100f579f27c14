"""A corpus or a framework version's statements are read back as one stored array in one query,
always equal to what the embedding store holds for exactly those texts."""

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from matching import embeddings, scoring
from matching.models import StoredMatrix
from tests.matching.conftest import make_framework, store_vectors

pytestmark = pytest.mark.django_db

DUTIES = ["Calibrate flow meters", "Audit batch records", "Audit batch records", "Service chillers"]


def tables_read(queries) -> list[str]:
    return [q["sql"].split(" FROM ")[1].split()[0].strip('"') for q in queries if q["sql"].startswith("SELECT")]


def from_rows(texts):
    stored = embeddings.stored_vectors(embeddings.text_hash(t) for t in texts)
    return np.stack([stored[embeddings.text_hash(t)] for t in texts])


def test_a_corpus_is_stacked_once_then_read_in_one_query(embedding_model):
    make_framework("ifate", [("ST1", "Technician", 3, DUTIES[:2]), ("ST2", "Engineer", 4, DUTIES[2:])])
    first = embeddings.get_corpus("ifate:duties").vectors
    assert StoredMatrix.objects.filter(key="ifate:duties").count() == 1

    embeddings.forget_corpora()  # a new process
    with CaptureQueriesContext(connection) as queries:
        again = embeddings.get_corpus("ifate:duties", stored_only=True)
    read = tables_read(queries.captured_queries)
    assert read.count("matching_storedmatrix") == 1 and "matching_embedding" not in read
    assert np.array_equal(again.vectors, first)
    assert np.array_equal(again.vectors, from_rows([item.text for item in again.items]))  # the store's vectors


def test_a_new_version_replaces_the_corpus_array_and_never_reads_a_stale_one():
    store_vectors({"Calibrate flow meters": [1, 0], "Service chillers": [0, 1], "Weld pipework": [1, 1]})
    make_framework("ifate", [("ST1", "Technician", 3, ["Calibrate flow meters", "Service chillers"])])
    embeddings.get_corpus("ifate:duties")
    make_framework("ifate", [("ST1", "Technician", 3, ["Weld pipework", "Service chillers"])])
    corpus = embeddings.get_corpus("ifate:duties")
    assert [item.text for item in corpus.items] == ["Weld pipework", "Service chillers"]
    assert np.array_equal(corpus.vectors, from_rows(["Weld pipework", "Service chillers"]))
    assert StoredMatrix.objects.filter(key="ifate:duties").count() == 1  # one per corpus


def test_a_versions_match_statements_are_one_stored_array():
    store_vectors({"Calibrate flow meters": [1, 0], "Service chillers": [0, 1]})
    version = make_framework("ifate", [("ST1", "Technician", 3, ["Calibrate flow meters", "Service chillers"])])
    built = scoring.version_matrix(version).vectors()
    scoring.forget_matrices()
    with CaptureQueriesContext(connection) as queries:
        again = scoring.version_matrix(version).vectors()
    assert "matching_embedding" not in tables_read(queries.captured_queries)
    assert np.array_equal(again, built)
    assert StoredMatrix.objects.get(key=f"version:{version.pk}").rows == 2


def test_a_second_match_run_in_the_same_process_reads_no_statement_again():
    store_vectors({"Calibrate flow meters": [1, 0], "Service chillers": [0, 1]})
    version = make_framework("ifate", [("ST1", "Technician", 3, ["Calibrate flow meters", "Service chillers"])])
    first = scoring.version_matrix(version)
    first.vectors()
    copy = type(version).objects.get(pk=version.pk)  # a new run's own instance
    with CaptureQueriesContext(connection) as queries:
        again = scoring.version_matrix(copy)
        again.vectors()
    assert again is first
    assert not tables_read(queries.captured_queries)


def test_a_corpus_the_store_lacks_is_not_ready_and_stores_no_array():
    store_vectors({"Calibrate flow meters": [1, 0]})
    make_framework("ifate", [("ST1", "Technician", 3, ["Calibrate flow meters", "Service chillers"])])
    with pytest.raises(embeddings.NotReady) as not_ready:
        embeddings.get_corpus("ifate:duties", stored_only=True)
    assert (not_ready.value.done, not_ready.value.total) == (1, 2)
    assert not StoredMatrix.objects.exists()


def test_a_corpus_load_builds_its_items_without_the_cyclic_collector_and_gives_it_back(monkeypatch):
    import gc

    seen = []

    def loader(fail: bool):
        def items():
            seen.append(gc.isenabled())
            if fail:
                raise RuntimeError("the framework's rows could not be read")
            return [embeddings.CorpusItem(id=n, text=f"Statement {n}") for n in range(3)]

        return items

    embeddings._ensure_sources()
    monkeypatch.setitem(embeddings._SOURCES, "test:broken", lambda: (("broken",), loader(fail=True)))
    monkeypatch.setitem(embeddings._SOURCES, "test:empty", lambda: (("empty",), lambda: []))
    monkeypatch.setitem(embeddings._SOURCES, "test:items", lambda: (("items",), loader(fail=False)))
    assert gc.isenabled()

    with pytest.raises(RuntimeError, match="could not be read"):
        embeddings.get_corpus("test:broken", stored_only=True)
    assert gc.isenabled()  # back on after a loader that failed

    assert len(embeddings.get_corpus("test:empty")) == 0
    with pytest.raises(embeddings.NotReady):  # its texts are not embedded: a request gets "not ready"
        embeddings.get_corpus("test:items", stored_only=True)
    assert seen == [False, False] and gc.isenabled()
    embeddings.forget_corpora()

"""The worker's warm-up: one at a time per machine, and a version counts as embedded only once its
corpora are."""

import pytest

from matching import embeddings, services
from matching.corpora import latest_version
from matching.importers import import_framework
from matching.tasks import warm_up
from tests.matching.frameworks import write_esco

pytestmark = pytest.mark.django_db

SKILLS = [("knowledge", "cold chain logistics"), ("skill/competence", "monitor refrigerated storage temperatures")]


@pytest.fixture
def esco(tmp_path, settings, embedding_model):
    settings.WARM_UP_LOCK = tmp_path / "warm-up.lock"
    embeddings.forget_corpora()
    import_framework("esco", str(write_esco(tmp_path / "esco", skills=SKILLS)))
    return latest_version("esco")


def test_a_second_warm_up_while_one_runs_returns_at_once_and_encodes_nothing(esco):
    before = embeddings.STATS.encoded
    with services.warm_up_lock() as mine:
        assert mine  # this "worker" holds the lock
        assert warm_up.delay(["esco"]).get() == {}  # another slot's warm-up
    assert embeddings.STATS.encoded == before
    esco.refresh_from_db()
    assert esco.embedded_at is None

    encoded = warm_up.delay(["esco"]).get()  # the lock is free again
    assert encoded[str(esco)] > 0


def test_a_version_counts_as_embedded_once_its_corpora_are(esco):
    warm_up.delay(["esco"]).get()
    esco.refresh_from_db()
    assert esco.embedded_at is not None
    for key in ("esco:knowledge", "esco:skills", "esco:occupations"):
        embeddings.forget_corpora()
        assert embeddings.get_corpus(key, stored_only=True) is not None  # nothing left to embed

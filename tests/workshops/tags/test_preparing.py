"""The suggestion panel never waits for the model or a first embedding of ESCO: it answers at once
with how far the preparation is, queues the worker's warm-up, and shows suggestions once ready."""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from matching import embeddings
from matching.importers import import_framework
from matching.services import WARM_UP_QUEUED_KEY
from matching.suggestions import CORPUS_KEYS, prepare
from tests.matching.frameworks import write_esco
from tests.workshops.fops.factories import build_needs

pytestmark = pytest.mark.django_db

SKILLS = [
    ("knowledge", "cold chain logistics"),
    ("knowledge", "good manufacturing practice"),
    ("knowledge", "aseptic processing"),
    ("skill/competence", "monitor refrigerated storage temperatures"),
]


@pytest.fixture
def esco(tmp_path):
    embeddings.get_model()  # a warm server: the model is loaded, the ESCO lists are not embedded
    embeddings.forget_corpora()
    cache.delete(WARM_UP_QUEUED_KEY)
    import_framework("esco", str(write_esco(tmp_path / "esco", skills=SKILLS)))
    yield
    embeddings.forget_corpora()


def fragment(client, cycle, capability):
    url = reverse("workshops:tag_capability", args=[cycle.slug, capability.pk])
    return client.get(f"{url}?kind=K&part=suggestions", HTTP_HX_REQUEST="true").content.decode()


def test_the_panel_says_how_far_preparing_is_queues_the_warm_up_and_then_suggests(
    personas, esco, django_capture_on_commit_callbacks
):
    _, capabilities = build_needs(personas.cycle)
    educator = personas.client_for(personas.educator)
    # One of the three knowledge concepts is already stored (the worker has begun).
    embeddings.encode(["good manufacturing practice"])

    with django_capture_on_commit_callbacks(execute=False) as queued:
        body = fragment(educator, personas.cycle, capabilities[0])
    assert "Preparing suggestions — 33 %" in body and "Embedding ESCO knowledge (1 of 3 texts)" in body
    assert 'hx-trigger="load delay:3s"' in body  # it asks again by itself
    assert len(queued) == 1  # the worker's warm-up, queued once...
    with django_capture_on_commit_callbacks(execute=False) as again:
        fragment(educator, personas.cycle, capabilities[0])
    assert again == []  # ...not on every poll
    assert not embeddings.stored_vectors([embeddings.text_hash("cold chain logistics")])  # the page encoded nothing

    prepare()  # the worker's warm-up
    body = fragment(educator, personas.cycle, capabilities[0])
    assert "Preparing" not in body and "delay:3s" not in body
    names = re.findall(r'<span class="flex-grow-1">([^<]+)</span>', body)
    assert set(names) == {"cold chain logistics", "good manufacturing practice", "aseptic processing"}
    assert "The score is the similarity of meaning to the statement, from 0 to 1" in body  # what the numbers are


def test_every_suggestion_corpus_can_be_prepared_by_the_warm_up(personas, esco):
    prepare()
    for key in CORPUS_KEYS.values():
        assert embeddings.get_corpus(key, stored_only=True) is not None


def test_while_esco_is_prepared_the_panel_offers_the_tags_already_in_use(personas, esco):
    from workshops.tags.services import tag_add

    _, capabilities = build_needs(personas.cycle)
    tag_add(capability=capabilities[1], actor=personas.educator, kind="K", name="Cold chain validation")
    educator = personas.client_for(personas.educator)

    body = fragment(educator, personas.cycle, capabilities[0])
    assert "Preparing suggestions — 0 %" in body
    assert "Ready now, from the tags already in use:" in body
    assert re.findall(r'<span class="flex-grow-1">([^<]+)</span>', body) == ["Cold chain validation"]
    assert "Used in 1 capability" in body
    assert 'aria-label="Add Cold chain validation"' in body  # one press adds it, as any suggestion

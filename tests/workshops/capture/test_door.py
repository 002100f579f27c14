"""Duplicates at the door: while a technologist types, a near statement already captured is shown
(issue 13, item 13). The request never loads the embedding model: without it, wording answers."""

import pytest
from django.urls import reverse

from matching import assist, embeddings
from tests.workshops.capture.factories import CapabilityFactory
from workshops.models import Capability

pytestmark = pytest.mark.django_db

AUDITS = "Support compliance audits within spoke sites to meet regulatory requirements e.g. HTA, JACIE and MHRA."
MAINTENANCE = "Implement maintenance plans to sustain equipment uptime and qualified status."
COLD_CHAIN = "Ensure cold chain capacity for supply of raw materials into the manufacturing process."


@pytest.fixture(autouse=True)
def _fresh_assists():
    assist.forget()
    yield
    assist.forget()


def check(client, text):
    return client.post(
        reverse("workshops:capture_check", args=["cycle-a"]), {"statement": text}, HTTP_HX_REQUEST="true"
    ).content.decode()


def _captured(cycle):
    return [
        CapabilityFactory(cycle=cycle, ref="C01", statement=COLD_CHAIN),
        CapabilityFactory(cycle=cycle, ref="C02", statement=AUDITS),
        CapabilityFactory(cycle=cycle, ref="C03", statement=MAINTENANCE),
    ]


def test_a_near_statement_is_shown_while_typing_with_its_reference_and_similarity(personas, no_model):
    rows = _captured(personas.cycle)
    body = check(personas.client_for(personas.technologist), "Support regulatory compliance audits at spoke sites (HTA")
    assert 'data-similarity="lexical"' in body
    assert "Looks like <a href=" in body and f'/capture/{rows[1].pk}/"' in body
    assert f'aria-label="C02 (opens in a new tab)">C02</a>: {AUDITS}' in body
    assert "% similar in wording)" in body
    assert "C01" not in body and "C03" not in body


def test_a_new_capability_is_not_taken_for_a_duplicate(personas, no_model):
    _captured(personas.cycle)
    body = check(personas.client_for(personas.technologist), "Train hospital pharmacy staff in aseptic handling.")
    assert 'data-similarity="lexical"' in body and "Looks like" not in body


def test_only_this_cycle_s_submitted_and_accepted_statements_are_compared(personas, no_model):
    CapabilityFactory(cycle=personas.other_cycle, ref="C01", statement=AUDITS)
    CapabilityFactory(cycle=personas.cycle, ref="C02", statement=AUDITS, status=Capability.Status.REJECTED)
    body = check(personas.client_for(personas.technologist), AUDITS)
    assert "Looks like" not in body


def test_with_the_model_loaded_the_draft_is_compared_by_meaning(personas):
    rows = _captured(personas.cycle)
    embeddings.get_model()  # this process has the real model, as a worker or a warm server has
    embeddings.encode([COLD_CHAIN, AUDITS, MAINTENANCE])
    # A re-wording of C03 (MAINTENANCE) that shares few of its words: found by meaning.
    body = check(
        personas.client_for(personas.technologist), "Plan equipment maintenance to keep machines up and qualified."
    )
    assert 'data-similarity="embedding"' in body
    assert f'/capture/{rows[2].pk}/"' in body and "Looks like" in body and "(82 % similar)" in body
    assert f'/capture/{rows[0].pk}/"' not in body and f'/capture/{rows[1].pk}/"' not in body


def test_the_check_answers_quickly_without_the_model_for_a_cycle_of_140_statements(personas, no_model):
    Capability.objects.bulk_create(
        Capability(cycle=personas.cycle, ref=f"C{i:03d}", statement=f"Develop process {i} for the spoke site {i % 7}.")
        for i in range(140)
    )
    client = personas.client_for(personas.technologist)
    check(client, "Develop process 12 for the spoke site 5.")  # the first builds the cycle's index
    answer = assist.similar_statements(personas.cycle.pk, "Develop process 12 for the spoke site 5.")
    assert answer["method"] == "lexical" and answer["compared"] == 140
    assert answer["matches"][0]["ref"] == "C012"
    assert answer["took_ms"] >= 0  # reported with the answer; its size is measured, not asserted

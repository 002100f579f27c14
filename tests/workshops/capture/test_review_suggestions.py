"""Classification help on the review screen: each statement's suggested classification, and
"apply suggested" to a selection (issue 13, item 14)."""

import pytest
from django.urls import reverse

from cycles.models import AuditEvent
from matching import assist, embeddings
from tests.workshops.capture.factories import CapabilityFactory
from workshops.capture import bulk
from workshops.capture.taxonomy import taxonomy_load_default
from workshops.models import Capability, FunctionalArea

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _wording_only(monkeypatch):
    # The page must not wait for the model; these tests pin the wording path so scores are fixed.
    assist.forget()
    monkeypatch.setattr(embeddings, "model_loaded", lambda: False)
    yield
    assist.forget()


def area(name):
    return FunctionalArea.objects.select_related("domain__function").get(name=name)


def capture_url():
    return reverse("workshops:capture", args=["cycle-a"])


def test_each_statement_shows_the_classification_of_the_nearest_classified_statements(personas):
    taxonomy_load_default()
    cold_chain = area("Maintain Cold Chain")
    classified = {"function": cold_chain.domain.function, "domain": cold_chain.domain, "area": cold_chain}
    for ref, text in [("C07", "Maintain the cold chain for raw materials shipped to hospitals."),
                      ("C08", "Ensure cold chain capacity for the supply of finished therapies.")]:  # fmt: skip
        CapabilityFactory(cycle=personas.other_cycle, ref=ref, statement=text, status="accepted", **classified)
    mine = CapabilityFactory(cycle=personas.cycle, ref="C01", statement="Ensure cold chain capacity for raw materials.")
    body = personas.client_for(personas.convener).get(capture_url()).content.decode()
    assert 'Suggested: <span class="fw-semibold">Logistics › Materials Management › Maintain Cold Chain</span>' in body
    assert "(2 similar classified statements)" in body
    expected = f"{cold_chain.domain.function_id}:{cold_chain.domain_id}:{cold_chain.pk}"
    assert f'name="suggested-{mine.pk}" value="{expected}" form="capture-bulk"' in body
    # Only the convener reviews: a technologist's list carries no suggestion.
    assert "Suggested:" not in personas.client_for(personas.technologist).get(capture_url()).content.decode()


def test_with_nothing_classified_the_closest_taxonomy_entry_is_offered(personas):
    taxonomy_load_default()
    CapabilityFactory(
        cycle=personas.cycle, ref="C01", statement="Implement maintenance plans to sustain qualified status."
    )
    body = personas.client_for(personas.convener).get(capture_url()).content.decode()
    assert "Support › Repair &amp; Maintenance › Maintain Qualified Status" in body
    assert "(closest taxonomy entry)" in body


def test_a_statement_classified_as_suggested_shows_no_suggestion(personas):
    taxonomy_load_default()
    qualified = area("Maintain Qualified Status")
    CapabilityFactory(
        cycle=personas.cycle,
        ref="C01",
        statement="Implement maintenance plans to sustain qualified status.",
        function=qualified.domain.function,
        domain=qualified.domain,
        area=qualified,
    )
    assert "Suggested:" not in personas.client_for(personas.convener).get(capture_url()).content.decode()


def test_apply_suggested_gives_each_selected_statement_its_own_suggestion_or_refuses_naming_those_without(personas):
    taxonomy_load_default()
    qualified, cold_chain = area("Maintain Qualified Status"), area("Maintain Cold Chain")
    a = CapabilityFactory(cycle=personas.cycle, ref="C01", statement="Implement maintenance plans for qualified kit.")
    b = CapabilityFactory(cycle=personas.cycle, ref="C02", statement="Ensure cold chain capacity for raw materials.")
    c = CapabilityFactory(cycle=personas.cycle, ref="C03", statement="Zzyzx qwv plonk.")
    client = personas.client_for(personas.convener)
    page = client.get(capture_url()).content.decode()
    assert f'name="suggested-{c.pk}"' not in page  # nothing is near the nonsense
    suggested = {
        f"suggested-{x.pk}": f"{ar.domain.function_id}:{ar.domain_id}:{ar.pk}"
        for x, ar in ((a, qualified), (b, cold_chain))
    }
    url = reverse("workshops:capabilities_bulk", args=["cycle-a"])

    page = client.post(url, {"action": "suggested", "ids": [a.pk, b.pk, c.pk], **suggested}, follow=True)
    assert "C03 has no suggested classification" in page.content.decode()
    assert not Capability.objects.filter(area__isnull=False).exists()

    page = client.post(url, {"action": "suggested", "ids": [a.pk, b.pk], **suggested}, follow=True)
    assert "2 statements given their suggested classification." in page.content.decode()
    assert Capability.objects.get(pk=a.pk).area == qualified and Capability.objects.get(pk=b.pk).area == cold_chain
    assert Capability.objects.get(pk=b.pk).function.name == "Logistics"
    event = AuditEvent.objects.get(verb=bulk.BULK_VERB)
    bulk.capabilities_bulk_undo(cycle=personas.cycle, actor=personas.convener, event_id=event.pk)
    assert not Capability.objects.filter(area__isnull=False).exists()

"""A FOP's drafted description follows its capabilities; a description a person wrote is kept.

Issue 13, stumble 2: after an employer removed a capability and uprated another, the proposed FOP's
description still named the removed capability and the old proficiency.
"""

from html import unescape

import pytest
from django.urls import reverse

from tests.workshops.fops.factories import build_needs, make_fop
from workshops.fops import services as svc
from workshops.fops.description import description_for, description_is_drafted, draft_description, strongest
from workshops.fops.proposals import fop_proposals_replace
from workshops.fops.selectors import fop_history_verify
from workshops.fops.types import ProposalParameters, ProposedProfile
from workshops.models import FOP


@pytest.fixture
def proposed(personas):
    """A FOP as a proposal run leaves it (three logistics capabilities), in review by the employer."""
    levels, caps = build_needs(personas.cycle)
    level, chosen = levels[0], caps[:3]
    entries = {chosen[0].pk: 3, chosen[1].pk: 2, chosen[2].pk: 1}
    profile = ProposedProfile(
        role_level_id=level.pk,
        name="Cold Chain Coordinator",
        description=draft_description(level.name, [(c.statement, entries[c.pk]) for c in chosen]),
        entries=entries,
    )
    fop_proposals_replace(
        cycle=personas.cycle, actor=None, parameters=ProposalParameters(), profiles=[profile], summary={}
    )
    fop = FOP.objects.get(cycle=personas.cycle, name="Cold Chain Coordinator")
    svc.fop_assign_reviewers(fop=fop, actor=personas.convener, reviewers=[personas.employer])
    return {"fop": fop, "caps": chosen, "level": level}


def detail_text(client, fop) -> str:
    response = client.get(reverse("workshops:fop_detail", args=[fop.cycle.slug, fop.pk]))
    assert response.status_code == 200
    return response.content.decode()


def description_on_page(html: str) -> str:
    start = html.index('id="fop-description">') + len('id="fop-description">')
    return unescape(html[start : html.index("</p>", start)])


def test_the_builder_names_the_strongest_capabilities_with_their_proficiency():
    text = draft_description(
        "Operational Leadership", strongest([("C02", "Track shipments.", 2), ("C01", "Audit sites.", 3)])
    )
    assert (
        text
        == "A Operational Leadership role that must be able to audit sites (Expert); and track shipments (Practitioner)."
    )
    assert draft_description(None, [("Audit sites", 1)]) == "A role that must be able to audit sites (Awareness)."
    assert draft_description("Any", []) == ""


def test_an_employers_edits_redraft_the_proposed_description(personas, proposed):
    fop, caps = proposed["fop"], proposed["caps"]
    client = personas.client_for(personas.employer)
    before = description_on_page(detail_text(client, fop))
    assert "maintain cold chain integrity" in before and "(Expert)" in before
    assert "coordinate courier collections and deliveries between hospital sites (Awareness)" in before

    url = reverse("workshops:fop_capability_change", args=[fop.cycle.slug, fop.pk, caps[0].pk])
    assert client.post(url, {"action": "remove", "reason": "Not ours"}).status_code == 302
    url = reverse("workshops:fop_capability_change", args=[fop.cycle.slug, fop.pk, caps[2].pk])
    assert client.post(url, {"proficiency": "3", "reason": "We need experts"}).status_code == 302

    after = description_on_page(detail_text(client, fop))
    assert "cold chain integrity" not in after  # the removed capability is gone
    assert "(Awareness)" not in after  # the old proficiency is gone
    assert after == (
        f"A {proposed['level'].name} role that must be able to coordinate courier collections and deliveries "
        "between hospital sites (Expert); and track the temperature and location of therapy shipments in real "
        "time (Practitioner)."
    )
    fop.refresh_from_db()
    assert fop_history_verify(fop=fop).ok
    describe = fop.history.filter(action="describe")
    assert describe.count() == 2 and {c.actor_name for c in describe} == {"System"}


def test_a_description_a_person_wrote_is_kept(personas, proposed):
    fop, caps = proposed["fop"], proposed["caps"]
    client = personas.client_for(personas.employer)
    written = "Coordinates every cold-chain shipment between the hub and the hospitals."
    edit = reverse("workshops:fop_edit", args=[fop.cycle.slug, fop.pk])
    client.post(edit, {"name": fop.name, "description": written, "reason": "Our words"})
    url = reverse("workshops:fop_capability_change", args=[fop.cycle.slug, fop.pk, caps[0].pk])
    client.post(url, {"action": "remove", "reason": "Not ours"})
    assert description_on_page(detail_text(client, fop)) == written
    fop.refresh_from_db()
    assert not description_is_drafted(fop)
    assert not fop.history.filter(action="describe").exists()


def test_published_and_hand_made_descriptions_are_never_redrafted(personas):
    _, caps = build_needs(personas.cycle)
    fop = svc.fop_create(
        cycle=personas.cycle,
        actor=personas.convener,
        name="Hand made",
        description="Written by the convener.",
        entries={caps[0].pk: 2, caps[1].pk: 2},
    )
    svc.fop_set_proficiency(fop=fop, actor=personas.convener, capability=caps[0], proficiency=3)
    fop.refresh_from_db()
    assert fop.description == "Written by the convener."
    bare = make_fop(personas.cycle, capabilities=caps[:2], name="No description")
    svc.fop_remove_capability(fop=bare, actor=personas.convener, capability=caps[0])
    bare.refresh_from_db()
    assert bare.description == ""


def test_merge_split_and_role_level_redraft_a_drafted_description(personas, proposed):
    fop, level = proposed["fop"], proposed["level"]
    other_level = personas.cycle.role_levels.exclude(pk=level.pk).first()
    svc.fop_update(fop=fop, actor=personas.convener, role_level=other_level)
    fop.refresh_from_db()
    assert fop.description.startswith(f"A {other_level.name} role")
    new = svc.fop_split(fop=fop, actor=personas.convener, capability_ids=[proposed["caps"][0].pk], new_name="Part")
    fop.refresh_from_db()
    assert "cold chain integrity" not in fop.description
    assert new.description == description_for(new) and "cold chain integrity" in new.description
    assert fop_history_verify(fop=fop).ok and fop_history_verify(fop=new).ok

"""The FOP list before any FOP says where FOPs come from and who makes them (issue 13, item 18)."""

import pytest
from django.urls import reverse

from tests.factories import RoleLevelFactory
from tests.findings.test_report_wording import page_text
from workshops.models import Capability, DelphiItem

pytestmark = pytest.mark.django_db


def _list(personas, user, query=""):
    return personas.client_for(user).get(reverse("workshops:fops", args=["cycle-a"]) + query)


def test_without_consensus_the_convener_is_sent_to_the_delphi_rounds(personas):
    response = _list(personas, personas.convener)
    assert (
        "No FOPs yet. They are proposed from the Delphi consensus, and no item has reached consensus yet."
        in page_text(response)
    )
    assert 'href="/cycles/cycle-a/delphi/">Go to the Delphi rounds' in response.content.decode()


def test_with_consensus_the_convener_is_offered_the_proposals(personas):
    capability = Capability.objects.create(cycle=personas.cycle, ref="C1", statement="Design pods.", status="accepted")
    level = RoleLevelFactory(cycle=personas.cycle)
    DelphiItem.objects.create(cycle=personas.cycle, capability=capability, role_level=level, consensus_value=2)
    response = _list(personas, personas.convener)
    assert 'href="/cycles/cycle-a/fops/propose/">Propose them from the consensus' in response.content.decode()


def test_others_are_told_who_makes_the_fops(personas):
    text = page_text(_list(personas, personas.employer))
    assert "The convener proposes them from the Delphi consensus; employers then ratify them." in text
    assert "Go to the Delphi rounds" not in text


def test_an_empty_filter_says_so_rather_than_no_fops_yet(personas):
    text = page_text(_list(personas, personas.convener, "?source=manual"))
    assert "No FOP matches these filters." in text and "No FOPs yet." not in text

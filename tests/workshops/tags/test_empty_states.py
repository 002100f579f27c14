"""The tagging board before any capability says where capabilities come from (issue 13, item 18)."""

import pytest
from django.urls import reverse

from tests.findings.test_report_wording import page_text
from workshops.models import Capability, CapabilityTag, Tag, TagKind

pytestmark = pytest.mark.django_db


def _board(personas, user, query=""):
    return personas.client_for(user).get(reverse("workshops:tags", args=["cycle-a"]) + query)


def test_the_convener_is_sent_to_the_capture_board(personas):
    response = _board(personas, personas.convener)
    assert "No capability to tag yet." in page_text(response)
    assert 'href="/cycles/cycle-a/capture/">Open the capture board' in response.content.decode()


def test_an_educator_is_told_where_the_capabilities_come_from(personas):
    text = page_text(_board(personas, personas.educator))
    assert "Capabilities appear here once technologists submit them and the convener reviews them" in text


def test_a_filter_with_nothing_left_says_so(personas):
    capability = Capability.objects.create(cycle=personas.cycle, ref="C1", statement="Design pods.", status="accepted")
    tag = Tag.objects.create(kind=TagKind.KNOWLEDGE, name="GMP", normalised="gmp")
    CapabilityTag.objects.create(capability=capability, tag=tag)
    text = page_text(_board(personas, personas.educator, "?show=missing-K"))
    assert "No capability lacks these tags: nothing to show for this choice." in text
    assert "No capability to tag yet." not in text

"""The capture board with nothing on it says why and who acts (issue 13, item 18)."""

import re

import pytest
from django.urls import reverse

from tests.findings.test_report_wording import page_text as _page_text
from workshops.models import Capability

pytestmark = pytest.mark.django_db


def page_text(response) -> str:
    return re.sub(r" ([.,;:])", r"\1", _page_text(response))  # a link's text next to its full stop


def _board(personas, user, query=""):
    return personas.client_for(user).get(reverse("workshops:capture", args=["cycle-a"]) + query)


def test_without_partners_the_convener_is_sent_to_prepare(personas):
    response = _board(personas, personas.convener)
    assert "This cycle has no supply-chain partners yet: add them in Prepare." in page_text(response)
    assert 'href="/cycles/cycle-a/prepare/partners/">add them in Prepare' in response.content.decode()
    technologist = page_text(_board(personas, personas.technologist))
    assert "This cycle has no supply-chain partners yet; the convener adds them in Prepare." in technologist


def test_an_empty_board_asks_a_technologist_for_the_first_statement(personas):
    text = page_text(_board(personas, personas.technologist))
    assert "No statement yet: submit the first one with the form" in text


def test_an_empty_board_tells_an_employer_who_submits(personas):
    text = page_text(_board(personas, personas.employer))
    assert "No statement yet: technologists submit them in the capture workshops" in text


def test_an_empty_view_of_a_busy_board_offers_every_statement(personas):
    Capability.objects.create(cycle=personas.cycle, ref="C1", statement="Design modular pods.", status="submitted")
    response = _board(personas, personas.convener, "?status=rejected")
    assert "No rejected statement in this view: show every statement." in page_text(response)
    assert 'href="/cycles/cycle-a/capture/?status=all">show every statement' in response.content.decode()

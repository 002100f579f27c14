"""The Delphi page before round 1 says what the round asks and what it needs (issue 13, item 18)."""

import pytest
from django.urls import reverse

from tests.factories import RoleLevelFactory
from tests.findings.test_report_wording import page_text

pytestmark = pytest.mark.django_db


def _home(personas, user):
    return personas.client_for(user).get(reverse("workshops:delphi", args=["cycle-a"]))


def test_before_round_1_the_convener_sees_what_it_needs_with_links(personas):
    response = _home(personas, personas.convener)
    text = page_text(response)
    assert "No round has been opened yet." in text
    assert "Round 1 asks technologists and employers for a proficiency" in text
    html = response.content.decode()
    assert 'href="/cycles/cycle-a/capture/">the capture board' in html
    assert 'href="/cycles/cycle-a/prepare/role-levels/">set them in Prepare' in html


def test_with_role_levels_the_convener_is_not_sent_to_prepare(personas):
    RoleLevelFactory(cycle=personas.cycle)
    assert "set them in Prepare" not in page_text(_home(personas, personas.convener))


def test_a_voter_is_told_they_answer_here_and_an_observer_who_answers(personas):
    assert "The convener opens round 1, and you answer it here." in page_text(_home(personas, personas.technologist))
    observer = page_text(_home(personas, personas.observer))
    assert "The convener opens round 1, and technologists and employers answer it." in observer

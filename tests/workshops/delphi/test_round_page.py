"""The round page as each person finds it: the stumbles a new panel hit, each pinned."""

import re

import pytest
from django.urls import reverse

from tests.workshops.delphi.factories import fast_passwords, start_delphi  # noqa: F401
from workshops.delphi.services import round_close, vote_cast
from workshops.models import Vote

pytestmark = pytest.mark.django_db


@pytest.fixture
def delphi(personas):
    return start_delphi(personas.cycle, personas.convener, capabilities=2, levels=2)


def round_url(number=1):
    return reverse("workshops:delphi_round", args=["cycle-a", number])


def test_an_htmx_vote_also_updates_the_answered_count(personas, delphi):
    client = personas.client_for(personas.employer)
    vote_cast(round_id=delphi.round.pk, panellist=personas.employer, item_id=delphi.items[0].pk, value=1)
    response = client.post(
        reverse("workshops:delphi_vote", args=["cycle-a", 1]),
        {"item": delphi.items[1].pk, "value": "2"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    # The count beside the grid is swapped out of band: two of four answered, without a reload.
    assert re.search(r'<span data-mine-count id="mine-count" hx-swap-oob="true">2</span>', body)


def test_the_convener_sees_why_there_is_nothing_to_answer_not_a_dead_grid(personas, delphi):
    body = personas.client_for(personas.convener).get(round_url()).content.decode()
    assert "conveners do not answer" in body and "facilitator view" in body
    assert 'name="value"' not in body  # no answer buttons that cannot be used
    assert "You answered" not in body


def test_an_observer_is_told_who_answers(personas, delphi):
    body = personas.client_for(personas.observer).get(round_url()).content.decode()
    assert "only technologists, employers answer it" in body and 'name="value"' not in body


def test_a_panellist_gets_answer_buttons_with_words_and_no_dash_for_not_needed(personas, delphi):
    body = personas.client_for(personas.technologist).get(round_url()).content.decode()
    item = delphi.items[0]
    assert f'id="v{item.pk}-0"' in body
    label = re.search(rf'<label[^>]*for="v{item.pk}-0"[^>]*>(.*?)</label>', body, re.S).group(1)
    assert "Not needed" in label and "–" not in label


def test_results_say_no_value_yet_for_an_undecided_item_not_a_dash(
    personas, delphi, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        round_close(round_id=delphi.round.pk, actor=personas.convener)
    body = personas.client_for(personas.convener).get(reverse("workshops:delphi_results", args=["cycle-a"])).content
    rows = [row for row in re.findall(r"<tr>(.*?)</tr>", body.decode(), re.S) if "<th" not in row]
    proficiency = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[2] for row in rows]
    # "Not needed" is a value; an item the panel has not settled has none, and says so in words.
    assert len(proficiency) == 4 and all("No value yet" in cell for cell in proficiency)


def test_a_closed_round_shows_one_status_closed(personas, delphi, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        round_close(round_id=delphi.round.pk, actor=personas.convener)
    body = personas.client_for(personas.technologist).get(round_url()).content.decode()
    status = re.search(r'id="round-status">([^<]*)<', body).group(1)
    assert status == "Closed" and 'data-status="closed"' in body
    assert Vote.objects.count() == 0


def test_the_cycle_menu_folds_behind_a_button_on_phones(personas, delphi):
    body = personas.client_for(personas.technologist).get(round_url()).content.decode()
    assert 'data-bs-target="#cycle-nav-pages"' in body and 'id="cycle-nav-pages"' in body

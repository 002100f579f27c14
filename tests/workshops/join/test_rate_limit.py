"""Guessing codes is rate limited: 20 codes that do not exist per address and 10 per person a minute,
then a 429 that says when to try again. Right codes are not counted, and a member with a right code
is not locked out by other people's typos on the same network."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.workshops.join.conftest import join_url, round_url
from tests.workshops.join.test_join import markup
from workshops.join.limits import PER_ADDRESS, PER_PERSON

pytestmark = pytest.mark.django_db

ROOM = "10.9.0.1"  # the venue's Wi-Fi: every phone in the room behind one address
WRONG = "K7QM2XPA"


@pytest.fixture(autouse=True)
def _rate_limits_on(rate_limits_on):
    yield


def guess(client, code=WRONG, ip=ROOM):
    return client.get(join_url(code), REMOTE_ADDR=ip)


def limit(rate: str) -> int:
    return int(rate.split("/")[0])


def test_twenty_wrong_codes_from_one_address_then_a_clear_429():
    statuses = [guess(Client()).status_code for _ in range(limit(PER_ADDRESS))]
    assert set(statuses) == {404}
    refused = guess(Client())
    assert refused.status_code == 429
    seconds = int(refused["Retry-After"])
    assert 1 <= seconds <= 60
    assert f"Try again in {seconds} seconds." in markup(refused)


def test_the_typed_form_is_limited_the_same_way():
    for _ in range(limit(PER_ADDRESS)):
        Client().get(reverse("join"), {"code": WRONG}, REMOTE_ADDR=ROOM)
    assert Client().get(reverse("join"), {"code": WRONG}, REMOTE_ADDR=ROOM).status_code == 429


def test_right_codes_are_not_counted(personas, code):
    client = personas.client_for(personas.technologist)
    for _ in range(limit(PER_ADDRESS) + 5):
        assert guess(client, code.code).status_code == 302


def test_a_member_with_the_right_code_still_gets_in_after_the_rooms_typos(personas, code):
    for _ in range(limit(PER_ADDRESS) + 1):
        guess(Client())
    assert guess(Client()).status_code == 429  # the address is over its limit
    member = personas.client_for(personas.employer)
    response = guess(member, code.code)
    assert response.status_code == 302 and response["Location"] == round_url()


def test_past_the_address_limit_an_anonymous_guess_learns_nothing(code):
    for _ in range(limit(PER_ADDRESS) + 1):
        guess(Client())
    # Refused whether the code exists or not: the answer tells a guesser nothing.
    assert guess(Client(), code.code).status_code == 429
    assert guess(Client(), WRONG).status_code == 429
    assert guess(Client(), code.code, ip="10.9.0.2").status_code == 200  # another address is not affected


def test_a_person_past_their_own_limit_is_refused_even_the_right_code(personas, code):
    client = personas.client_for(personas.technologist)
    for n in range(limit(PER_PERSON)):
        assert guess(client, ip=f"10.8.0.{n}").status_code == 404
    assert guess(client, ip="10.8.1.1").status_code == 429
    assert guess(client, code.code, ip="10.8.1.2").status_code == 429
    # Someone else on the same addresses is not.
    assert guess(personas.client_for(personas.employer), code.code, ip="10.8.0.1").status_code == 302

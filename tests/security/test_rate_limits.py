"""Password guessing is throttled: the login page and invitation acceptance (which also takes a
password) refuse with 429 after 10 tries per account or 20 per address in a minute (at the login,
20 wrong passwords per address: a room logging in together behind one address is never refused)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from cycles.models import Invitation


@pytest.fixture(autouse=True)
def _rate_limits_on(rate_limits_on):
    yield


def _login(client, email, ip):
    return client.post(
        reverse("accounts:login"), {"username": email, "password": "wrong-guess"}, REMOTE_ADDR=ip
    ).status_code


def test_login_allows_ten_wrong_passwords_per_account_then_refuses(client, personas):
    statuses = [_login(client, personas.convener.email, "10.0.0.1") for _ in range(10)]
    assert 429 not in statuses
    assert _login(client, personas.convener.email, "10.0.0.1") == 429


def test_login_guessing_one_account_from_many_addresses_is_still_refused(client, personas):
    for n in range(10):
        _login(client, personas.convener.email, f"10.0.1.{n}")
    assert _login(client, personas.convener.email, "10.0.1.200") == 429


def test_login_spraying_many_accounts_from_one_address_is_refused(client, db):
    statuses = [_login(client, f"person{n}@spray.test", "10.0.2.1") for n in range(21)]
    assert 429 not in statuses[:20] and statuses[20] == 429


def test_a_workshop_room_behind_one_address_logs_in_together(client, db):
    """Fifty people at one venue's Wi-Fi sign in within the minute: right passwords never count."""
    from tests.factories import PASSWORD, UserFactory

    people = [UserFactory(email=f"room{n}@venue.test") for n in range(50)]
    statuses = [
        client.post(
            reverse("accounts:login"), {"username": person.email, "password": PASSWORD}, REMOTE_ADDR="10.0.4.1"
        ).status_code
        for person in people
    ]
    assert statuses == [302] * 50


def test_a_refused_login_says_why(client, personas):
    for _ in range(11):
        response = client.post(
            reverse("accounts:login"), {"username": personas.convener.email, "password": "x"}, REMOTE_ADDR="10.0.3.1"
        )
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()


@pytest.fixture
def invitation(personas):
    return Invitation.objects.create(
        cycle=personas.cycle,
        email="new@a.test",
        role="employer",
        expires_at=timezone.now() + timezone.timedelta(days=7),
    )


def _accept(client, token, username, ip):
    return client.post(
        reverse("cycles:invitation_accept", args=[token]),
        {"login-username": username, "login-password": "wrong-guess", "action": "login"},
        REMOTE_ADDR=ip,
    ).status_code


def test_invitation_acceptance_throttles_password_guesses_per_account(client, invitation, personas):
    statuses = [_accept(client, invitation.token, personas.employer.email, f"10.1.0.{n}") for n in range(10)]
    assert 429 not in statuses
    assert _accept(client, invitation.token, personas.employer.email, "10.1.0.99") == 429


def test_invitation_acceptance_throttles_token_guessing_per_address(client, db):
    statuses = [_accept(client, f"guess-{n}", f"x{n}@a.test", "10.2.0.1") for n in range(21)]
    assert statuses[:20].count(429) == 0
    assert statuses[20] == 429

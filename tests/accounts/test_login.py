"""Logging in and out, password reset by email, and the login rate limit."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_user_logs_in_with_their_email_in_any_case_and_lands_on_the_dashboard(client, password):
    UserFactory(email="case@example.test")
    response = client.post(reverse("accounts:login"), {"username": "CASE@example.test", "password": password})
    assert response.status_code == 302 and response["Location"] == reverse("cycles:dashboard")


def test_a_wrong_password_is_refused_with_a_message(client):
    UserFactory(email="wrong@example.test")
    response = client.post(reverse("accounts:login"), {"username": "wrong@example.test", "password": "nope"})
    assert response.status_code == 200
    assert "enter a correct" in response.content.decode().lower()


def test_logging_out_needs_a_post_and_returns_to_the_login_page(client, password):
    user = UserFactory()
    client.force_login(user)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")


def test_password_reset_sends_a_link_that_sets_a_new_password(client):
    user = UserFactory(email="forgot@example.test")
    client.post(reverse("accounts:password_reset"), {"email": "forgot@example.test"})
    assert len(mail.outbox) == 1
    link = re.search(r"http://\S+/reset/\S+/\S+/", mail.outbox[0].body).group(0)
    path = link.split("testserver", 1)[-1]
    form_page = client.get(path, follow=True)
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "another-long-passphrase-1", "new_password2": "another-long-passphrase-1"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("another-long-passphrase-1")


def test_login_attempts_are_rate_limited(client, rate_limits_on):
    UserFactory(email="limited@example.test")
    codes = [
        client.post(reverse("accounts:login"), {"username": "limited@example.test", "password": "x"}).status_code
        for _ in range(12)
    ]
    assert codes[-1] == 429
    assert (
        "Too many attempts"
        in client.post(
            reverse("accounts:login"), {"username": "limited@example.test", "password": "x"}
        ).content.decode()
    )

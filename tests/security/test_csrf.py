"""Every POST in the URL configuration refuses a request without a CSRF token.

Driven by the permission matrix: for each URL that takes a POST, a role that *may* post it (so a
refusal can only come from the missing token) posts without a token and must get a 403 CSRF failure.
No view is exempt.
"""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from tests.security.matrix import ANONYMOUS, OK, OUTSIDER, ROWS
from tests.security.test_permission_matrix import World, url_names, world  # noqa: F401 - the fixture

PREFERRED = (ANONYMOUS, "convener", "employer", "educator", "technologist", "observer", OUTSIDER)


def _poster(expect: dict) -> str:
    return next((role for role in PREFERRED if expect.get(role) == OK), "convener")


def _client(personas, role: str) -> Client:
    client = Client(enforce_csrf_checks=True)
    if role != ANONYMOUS:
        user = personas.outsider if role == OUTSIDER else getattr(personas, role)
        client.force_login(user)
    return client


def test_every_post_without_a_csrf_token_is_refused(world, personas):  # noqa: F811
    accepted = []
    posts = 0
    for name in url_names():
        row = ROWS.get(name)
        if row is None or row.post is None:
            continue
        role = _poster(row.post)
        response = _client(personas, role).post(reverse(name, kwargs=row.kwargs(world)), row.data(world))
        posts += 1
        if response.status_code != 403 or b"CSRF" not in response.content:
            accepted.append((name, role, response.status_code))
    assert accepted == [], accepted
    assert posts > 40


def test_a_post_with_the_token_from_the_form_is_accepted(world, personas):  # noqa: F811
    client = _client(personas, "convener")
    page = client.get(reverse("findings:action_create", args=[world.slug]))
    token = page.cookies["csrftoken"].value if "csrftoken" in page.cookies else client.cookies["csrftoken"].value
    response = client.post(
        reverse("findings:action_create", args=[world.slug]),
        {
            "csrfmiddlewaretoken": token,
            "topic": "CPD",
            "action": "Run a course",
            "horizon": "short",
            "status": "planned",
        },
    )
    assert response.status_code in (200, 302)
    assert b"CSRF" not in response.content

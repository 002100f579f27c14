"""Every POST in the URL configuration refuses a request without a CSRF token.

Driven by the permission matrix: for each URL that takes a POST, a role that *may* post it (so a
refusal can only come from the missing token) posts without a token and must get a 403 CSRF failure.
No view is exempt but those in ``CSRF_EXEMPT``, each with its reason (and its own test that a
forged request changes nothing).
"""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from tests.security.matrix import ANONYMOUS, OK, OUTSIDER, ROWS
from tests.security.test_permission_matrix import World, url_names, world  # noqa: F401 - the fixture

# RFC 8058 one-click unsubscribe: mail clients POST the link without a page (so without a token);
# the signed token in the URL is the authority and only stops its owner's reminders
# (tests/workshops/delphi/test_reminders.py: a forged or damaged token unsubscribes no one).
CSRF_EXEMPT = {"workshops:delphi_reminders_unsubscribe"}

# The SAML 2.0 HTTP-POST binding: the identity provider's page posts the signed response across
# sites, so no CSRF token can come with it. The signature, the audience and the InResponseTo of a
# request this session made (python3-saml, via django-allauth) are its protection instead.
CSRF_EXEMPT |= {"saml_acs", "saml_sls"}

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
        if row is None or row.post is None or name in CSRF_EXEMPT:
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

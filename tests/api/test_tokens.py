"""The tokens page: a person creates a token (shown once, kept hashed), lists and revokes their own."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from django.urls import reverse
from django.utils import timezone

from api.models import ApiToken
from api.services import api_token_create
from tests.api.conftest import TokenClient

ME = "api:v1:me"


def _create(client, name="Power BI", lifetime="90"):
    return client.post(reverse("api:tokens"), {"name": name, "lifetime": lifetime})


def test_it_shows_a_new_token_once_and_keeps_only_its_digest(personas):
    client = personas.client_for(personas.employer)
    response = _create(client)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    [raw] = re.findall(r'value="(wfp_[^"]+)"', response.content.decode())
    token = ApiToken.objects.get(user=personas.employer)
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {token.name, token.prefix, token.digest} and raw.startswith(token.prefix)
    assert token.expires_at > timezone.now() + dt.timedelta(days=89)
    page = client.get(reverse("api:tokens")).content.decode()
    assert raw not in page and token.prefix in page and "Power BI" in page
    assert TokenClient(raw).get(reverse(ME)).json()["email"] == personas.employer.email


def test_a_token_without_a_name_is_not_created(personas):
    response = _create(personas.client_for(personas.employer), name="")
    assert response.status_code == 400 and not ApiToken.objects.exists()


def test_a_revoked_token_is_refused(personas):
    client = personas.client_for(personas.educator)
    token, raw = api_token_create(user=personas.educator, name="script", lifetime_days=None)
    response = client.post(reverse("api:token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert TokenClient(raw).get(reverse(ME)).status_code == 401
    assert "Revoked" in client.get(reverse("api:tokens")).content.decode()


def test_nobody_revokes_someone_elses_token(personas):
    token, raw = api_token_create(user=personas.educator, name="script", lifetime_days=None)
    response = personas.client_for(personas.convener).post(reverse("api:token_revoke", args=[token.pk]))
    assert response.status_code == 404
    assert TokenClient(raw).get(reverse(ME)).status_code == 200


def test_an_expired_token_is_refused(personas):
    token, raw = api_token_create(user=personas.observer, name="old", lifetime_days=30)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert TokenClient(raw).get(reverse(ME)).status_code == 401
    assert "Expired" in personas.client_for(personas.observer).get(reverse("api:tokens")).content.decode()


def test_a_deactivated_persons_token_is_refused(personas):
    _, raw = api_token_create(user=personas.observer, name="bi", lifetime_days=None)
    type(personas.observer).objects.filter(pk=personas.observer.pk).update(is_active=False)
    assert TokenClient(raw).get(reverse(ME)).status_code == 401


def test_anything_but_a_bearer_token_of_ours_is_refused(personas):
    for header in ("Bearer nonsense", "Bearer wfp_nonsense", "Basic Y29udmVuZXI6eA==", "wfp_x"):
        response = TokenClient().get(reverse(ME), headers={"Authorization": header})
        assert response.status_code == 401, header
        assert "Bearer" in response.json()["detail"]


def test_a_session_cookie_is_not_enough(personas):
    assert personas.client_for(personas.convener).get(reverse(ME)).status_code == 401


def test_the_profile_page_links_to_the_tokens_page(personas):
    api_token_create(user=personas.technologist, name="bi", lifetime_days=None)
    page = personas.client_for(personas.technologist).get(reverse("accounts:profile")).content.decode()
    assert reverse("api:tokens") in page and "1 active token" in page


def test_the_docs_page_and_schema_are_served_without_a_cdn(db, client):
    docs = client.get(reverse("api:v1:openapi-view")).content.decode()
    assert "swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    schema = client.get(reverse("api:v1:openapi-json")).json()
    assert (
        schema["openapi"].startswith("3.")
        and schema["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
    )


def test_a_cycle_that_requires_single_sign_on_answers_only_tokens_made_after_signing_in_with_it(personas):
    from accounts.sso import SESSION_KEY

    personas.cycle.sign_in_provider = "nhsmail"
    personas.cycle.save(update_fields=["sign_in_provider"])
    url = reverse("api:v1:cycle_detail", args=[personas.cycle.slug])

    _, by_password = api_token_create(user=personas.employer, name="made with a password", lifetime_days=None)
    refused = TokenClient(by_password).get(url)
    assert refused.status_code == 403
    assert "“Cycle A” requires signing in with nhsmail" in refused.json()["detail"]
    assert "create a new token" in refused.json()["detail"]

    # The tokens page records how its session signed in; that token reads the cycle.
    client = personas.client_for(personas.employer)
    session = client.session
    session[SESSION_KEY] = "nhsmail"
    session.save()
    [raw] = re.findall(r'value="(wfp_[^"]+)"', _create(client, name="made with NHSmail").content.decode())
    assert ApiToken.objects.get(name="made with NHSmail").signed_in_with == "nhsmail"
    assert TokenClient(raw).get(url).status_code == 200
    # Other cycles are untouched by the requirement.
    assert TokenClient(by_password).get(reverse(ME)).status_code == 200

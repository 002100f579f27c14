"""Single sign-on without a browser: providers from the environment, matching by verified email,
PASSWORD_LOGIN=false, and a cycle that requires a provider. The whole redirect flow through real
providers is tests/e2e/test_sso.py."""

import json

import pytest
from allauth.account.models import EmailAddress
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.models import SocialAccount, SocialLogin
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.test import RequestFactory
from django.urls import reverse

from accounts import sso
from accounts.sso_config import socialaccount_providers
from cycles.forms import CycleForm
from cycles.services.lifecycle import cycle_update
from cycles.services.members import invitation_create
from tests.factories import CycleFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

OIDC = [
    {
        "id": "nhsmail",
        "name": "NHSmail",
        "issuer": "https://login.microsoftonline.com/tenant/v2.0",
        "client_id": "client",
        "client_secret": "secret",
        "verified_email_domains": ["NHS.net"],
    }
]
SAML = [
    {
        "id": "uni",
        "name": "University of Example",
        "entity_id": "https://idp.example.ac.uk",
        "metadata_url": "https://idp.example.ac.uk/md",
    }
]


@pytest.fixture
def providers(settings):
    settings.SOCIALACCOUNT_PROVIDERS = socialaccount_providers(json.dumps(OIDC), json.dumps(SAML))
    return settings


# --- configuration from the environment -------------------------------------------------------


def test_providers_from_the_environment_become_allauth_apps():
    config = socialaccount_providers(json.dumps(OIDC), json.dumps(SAML))
    (oidc,) = config["openid_connect"]["APPS"]
    assert oidc["provider_id"] == "nhsmail" and oidc["secret"] == "secret"
    assert oidc["settings"]["server_url"] == "https://login.microsoftonline.com/tenant/v2.0"
    assert oidc["settings"]["verified_email"] == ["nhs.net"]
    (saml,) = config["saml"]["APPS"]
    assert saml["client_id"] == "uni"
    assert saml["settings"]["idp"] == {
        "entity_id": "https://idp.example.ac.uk",
        "metadata_url": "https://idp.example.ac.uk/md",
    }
    assert saml["settings"]["advanced"]["want_assertion_signed"] is True
    assert saml["settings"]["verified_email"] is False  # nobody's address is trusted unless the operator says


def test_nothing_configured_means_no_provider():
    assert socialaccount_providers("", "") == {
        "openid_connect": {"APPS": [], "OAUTH_PKCE_ENABLED": True},
        "saml": {"APPS": []},
    }


@pytest.mark.parametrize(
    ("oidc", "saml", "says"),
    [
        ("{not json", "", "not valid JSON"),
        ('{"id": "x"}', "", "JSON list of objects"),
        (json.dumps([{"id": "x", "issuer": "https://i"}]), "", "needs 'client_id'"),
        (json.dumps([{**OIDC[0], "id": "Bad Id"}]), "", "lower-case letters"),
        (json.dumps(OIDC), json.dumps([{**SAML[0], "id": "nhsmail"}]), "two providers have the id 'nhsmail'"),
        ("", json.dumps([{"id": "uni", "entity_id": "e"}]), "needs 'sso_url'"),
        (json.dumps([{**OIDC[0], "verified_email": True}]), "", "not both"),
        ("", json.dumps([{**SAML[0], "verified_email": "yes"}]), "must be true or false"),
        ("/no/such/file.json", "", "neither a JSON list nor the path"),
    ],
)
def test_a_bad_provider_setting_fails_loudly(oidc, saml, says):
    with pytest.raises(ImproperlyConfigured, match=says):
        socialaccount_providers(oidc, saml)


def test_a_provider_list_can_live_in_a_file(tmp_path):
    path = tmp_path / "oidc.json"
    path.write_text(json.dumps(OIDC))
    assert socialaccount_providers(str(path), "")["openid_connect"]["APPS"][0]["provider_id"] == "nhsmail"


# --- the login page ---------------------------------------------------------------------------


def test_the_login_page_has_no_provider_buttons_when_none_is_configured(client):
    html = client.get(reverse("accounts:login")).content.decode()
    assert "Sign in with" not in html and 'name="password"' in html


def test_the_login_page_has_a_button_per_provider_that_posts_to_its_flow(client, providers):
    html = client.get(reverse("accounts:login") + "?next=/cycles/").content.decode()
    assert "Sign in with NHSmail" in html and "Sign in with University of Example" in html
    assert 'action="/accounts/sso/oidc/nhsmail/login/"' in html
    assert 'action="/accounts/sso/saml/uni/login/"' in html
    assert 'name="next" value="/cycles/"' in html


def test_password_login_off_hides_the_form_and_refuses_a_right_password(client, providers, password):
    providers.PASSWORD_LOGIN = False
    user = UserFactory(email="pw@trust.test")
    html = client.get(reverse("accounts:login")).content.decode()
    assert 'name="password"' not in html and "Sign in with NHSmail" in html
    response = client.post(reverse("accounts:login"), {"username": user.email, "password": password})
    assert response.status_code == 403
    assert sso.PASSWORD_LOGIN_OFF in response.content.decode().replace("&#x27;", "'")
    assert "_auth_user_id" not in client.session


# --- a cycle that requires a provider -----------------------------------------------------------


@pytest.fixture
def sso_cycle(providers):
    cycle = CycleFactory(title="Ward robotics", slug="ward-robotics", sign_in_provider="nhsmail")
    member = UserFactory(email="nurse@nhs.net")
    MembershipFactory(cycle=cycle, user=member, role="employer")
    return cycle, member


def test_a_password_login_to_an_sso_required_cycle_is_refused_naming_the_cycle_and_the_sign_in(
    client, sso_cycle, password
):
    cycle, member = sso_cycle
    response = client.post(
        reverse("accounts:login"), {"username": member.email, "password": password, "next": f"/cycles/{cycle.slug}/"}
    )
    assert response.status_code == 403
    message = sso.SSO_REQUIRED.format(cycle="Ward robotics", provider="NHSmail")
    assert response.context["form"].non_field_errors() == [message]
    assert "_auth_user_id" not in client.session


def test_a_password_login_elsewhere_is_let_in_but_the_cycle_asks_for_its_sign_in(client, sso_cycle, password):
    cycle, member = sso_cycle
    response = client.post(reverse("accounts:login"), {"username": member.email, "password": password})
    assert response.status_code == 302
    response = client.get(reverse("cycles:cycle_detail", args=[cycle.slug]))
    assert response.status_code == 403
    html = response.content.decode()
    assert "requires signing in with NHSmail" in html
    assert 'action="/accounts/sso/oidc/nhsmail/login/"' in html and "University of Example" not in html


def test_a_session_signed_in_with_the_named_provider_opens_the_cycle(client, sso_cycle):
    cycle, member = sso_cycle
    client.force_login(member)
    session = client.session
    session[sso.SESSION_KEY] = "nhsmail"
    session.save()
    assert client.get(reverse("cycles:cycle_detail", args=[cycle.slug])).status_code == 200


def test_a_password_login_to_a_cycle_someone_does_not_belong_to_reveals_nothing(client, sso_cycle, password):
    cycle, _ = sso_cycle
    outsider = UserFactory(email="outsider@else.test")
    response = client.post(
        reverse("accounts:login"), {"username": outsider.email, "password": password, "next": f"/cycles/{cycle.slug}/"}
    )
    assert response.status_code == 302  # signed in; the cycle itself then answers 404


def test_a_convener_chooses_a_configured_provider_only(sso_cycle):
    cycle, _ = sso_cycle
    convener = UserFactory()
    MembershipFactory(cycle=cycle, user=convener, role="convener")
    form = CycleForm(instance=cycle)
    assert [c[0] for c in form.fields["sign_in_provider"].choices] == ["", "nhsmail", "uni"]
    with pytest.raises(ValidationError, match="not a configured single sign-on provider"):
        cycle_update(cycle=cycle, actor=convener, sign_in_provider="keycloak")
    cycle_update(cycle=cycle, actor=convener, sign_in_provider="")
    cycle.refresh_from_db()
    assert cycle.sign_in_provider == ""


def test_the_cycle_form_has_no_sign_in_choice_without_providers():
    assert "sign_in_provider" not in CycleForm().fields


# --- matching a first sign-in by verified email -------------------------------------------------


def _sociallogin(email: str, *, verified: bool, provider: str = "nhsmail") -> SocialLogin:
    from allauth.socialaccount.adapter import get_adapter

    account = SocialAccount(provider=provider, uid=f"uid-{email}", extra_data={})
    return SocialLogin(
        account=account,
        user=sso.User(email=email),
        provider=get_adapter().get_provider(_request(), provider),
        email_addresses=[EmailAddress(email=email, verified=verified, primary=True)],
    )


def _request():
    request = RequestFactory().get("/")
    from django.contrib.sessions.backends.db import SessionStore

    request.session = SessionStore()
    return request


def test_an_unverified_address_is_refused_even_when_its_account_exists(providers):
    UserFactory(email="victim@trust.test")
    with pytest.raises(ImmediateHttpResponse) as refused:
        sso.SocialAccountAdapter().pre_social_login(_request(), _sociallogin("victim@trust.test", verified=False))
    assert refused.value.response.status_code == 403
    assert "did not confirm that victim@trust.test" in refused.value.response.content.decode()
    assert not SocialAccount.objects.exists()


def test_a_verified_address_nobody_invited_is_refused(providers):
    with pytest.raises(ImmediateHttpResponse) as refused:
        sso.SocialAccountAdapter().pre_social_login(_request(), _sociallogin("stranger@nhs.net", verified=True))
    assert "Nobody has invited stranger@nhs.net yet" in refused.value.response.content.decode()


def test_a_verified_address_is_linked_to_its_account_and_accepts_its_invitations(providers):
    user = UserFactory(email="matron@nhs.net")
    cycle = CycleFactory(slug="theatres")
    convener = UserFactory()
    MembershipFactory(cycle=cycle, user=convener, role="convener")
    invitation_create(cycle=cycle, email="Matron@nhs.net", role="educator", invited_by=convener)
    request = _request()
    login = _sociallogin("MATRON@nhs.net", verified=True)
    sso.SocialAccountAdapter().pre_social_login(request, login)
    assert SocialAccount.objects.get(provider="nhsmail").user == user
    assert cycle.memberships.get(user=user).role == "educator"
    assert request.session[sso.LANDING_KEY] == reverse("cycles:cycle_detail", args=["theatres"])


def test_a_domain_the_operator_vouches_for_counts_as_verified(providers):
    from allauth.socialaccount.adapter import get_adapter

    provider = get_adapter().get_provider(_request(), "nhsmail")
    assert get_adapter().is_email_verified(provider, "someone@nhs.net")
    assert not get_adapter().is_email_verified(provider, "someone@gmail.com")


def test_a_closed_account_is_not_reopened_by_sso(providers):
    UserFactory(email="gone@nhs.net", is_active=False)
    with pytest.raises(ImmediateHttpResponse) as refused:
        sso.SocialAccountAdapter().pre_social_login(_request(), _sociallogin("gone@nhs.net", verified=True))
    assert "is closed" in refused.value.response.content.decode()


def test_erasing_a_person_deletes_their_single_sign_on_links():
    from accounts.services import user_anonymise

    user = UserFactory(email="leaver@nhs.net")
    SocialAccount.objects.create(user=user, provider="nhsmail", uid="oid-123", extra_data={"email": "leaver@nhs.net"})
    user_anonymise(user=user)
    assert not SocialAccount.objects.filter(uid="oid-123").exists()


def test_an_invitation_to_an_sso_required_cycle_offers_only_its_provider(client, sso_cycle, password):
    cycle, member = sso_cycle
    invitation = invitation_create(cycle=cycle, email="new@nhs.net", role="educator", invited_by=None)
    url = reverse("cycles:invitation_accept", args=[invitation.token])
    html = client.get(url).content.decode()
    assert "requires signing in with NHSmail" in html and 'action="/accounts/sso/oidc/nhsmail/login/"' in html
    assert 'name="signup-password1"' not in html and 'name="login-password"' not in html
    response = client.post(url, {"action": "signup", "signup-password1": password, "signup-password2": password})
    assert response.status_code == 403
    assert not sso.User.objects.filter(email="new@nhs.net").exists()


def test_password_login_off_also_closes_the_invitation_page_password_forms(client, providers):
    providers.PASSWORD_LOGIN = False
    cycle = CycleFactory(slug="open-cycle")
    invitation = invitation_create(cycle=cycle, email="someone@nhs.net", role="educator", invited_by=None)
    html = client.get(reverse("cycles:invitation_accept", args=[invitation.token])).content.decode()
    assert "Sign in with NHSmail" in html and "Sign in with University of Example" in html
    assert 'name="login-password"' not in html


def test_password_login_off_offers_no_password_reset(client, providers):
    providers.PASSWORD_LOGIN = False
    UserFactory(email="pw@nhs.net")
    response = client.post(reverse("accounts:password_reset"), {"email": "pw@nhs.net"})
    assert response.status_code == 403
    from django.core import mail

    assert mail.outbox == []


def test_a_forged_saml_post_signs_nobody_in(client, settings):
    """The ACS takes cross-site POSTs without a CSRF token (the SAML HTTP-POST binding): a response
    that is not the IdP's signed answer to this session's request is refused."""
    import base64

    saml = [
        {
            "id": "uni",
            "name": "Uni",
            "entity_id": "https://idp.test",
            "sso_url": "https://idp.test/sso",
            "x509cert": "MIIBforged",
        }
    ]
    settings.SOCIALACCOUNT_PROVIDERS = socialaccount_providers("", json.dumps(saml))
    settings.ALLOWED_HOSTS = ["sp.example.test"]
    UserFactory(email="target@uni.test")
    forged = base64.b64encode(
        b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_1" Version="2.0" '
        b'IssueInstant="2026-01-01T00:00:00Z"><samlp:Status><samlp:StatusCode '
        b'Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:Response>'
    ).decode()
    csrf_client = type(client)(enforce_csrf_checks=True)
    response = csrf_client.post(
        "/accounts/sso/saml/uni/acs/", {"SAMLResponse": forged}, follow=True, HTTP_HOST="sp.example.test"
    )
    assert response.status_code in (400, 401, 403)
    assert "_auth_user_id" not in csrf_client.session
    assert not SocialAccount.objects.exists()

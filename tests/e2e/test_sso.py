"""Single sign-on through real identity providers, the whole redirect flow in Chromium.

The providers are real implementations started here, on free ports of 127.0.0.1 (tests/e2e/idp):
panva's ``oidc-provider`` (OpenID Connect, with its development sign-in and consent pages) and a
SAML 2.0 IdP built on ``samlify`` that signs its assertions with a certificate made for the run.
The application runs in its own ASGI server, started with ``OIDC_PROVIDERS`` and ``SAML_PROVIDERS``
pointing at them, exactly as an operator would configure it. Nothing is mocked.

Needs node and npm (``npm ci`` installs tests/e2e/idp/package-lock.json on first use); without
them the module is skipped with that reason.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pytest

from tests.e2e.conftest import CHROMIUM, DEFAULT_TIMEOUT_MS, _child_setup, _make_application, _SpawnedDaphne

pytestmark = pytest.mark.e2e

IDP_DIR = Path(__file__).resolve().parent / "idp"
OIDC_ID, OIDC_NAME = "testoidc", "Test OpenID"
SAML_ID, SAML_NAME = "testuni", "Test University"
CLIENT_ID, CLIENT_SECRET = "foresight", "a-client-secret-for-the-test-provider-only"
SCREENSHOTS = os.environ.get("SSO_SCREENSHOTS")  # a folder: the login page at 1280 and 390 px


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the identity provider exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own 127.0.0.1 server
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s: {log.read_text()[-2000:]}")


def _certificate(folder: Path) -> tuple[Path, Path, str]:
    """A self-signed signing certificate for the SAML IdP: (certificate file, key file, base64 body)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test SAML IdP")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_path, key_path = folder / "idp.crt", folder / "idp.key"
    cert_path.write_bytes(pem)
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    body = "".join(line for line in pem.decode().splitlines() if "CERTIFICATE" not in line)
    return cert_path, key_path, body


@pytest.fixture(scope="module")
def idp_packages() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node and npm are needed for the test identity providers (tests/e2e/idp); not installed")
    if not (IDP_DIR / "node_modules" / ".package-lock.json").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=IDP_DIR, check=True, timeout=300)
    return node


@pytest.fixture(scope="module")
def sso(idp_packages, django_db_setup, django_db_blocker):
    """The application's own ASGI server configured with both providers, and the two providers."""
    from django.db import connections

    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM}")
    folder = Path(tempfile.mkdtemp(prefix="sso-e2e-"))
    oidc_port, saml_port = _free_port(), _free_port()
    cert_path, key_path, cert_body = _certificate(folder)
    oidc = {
        "id": OIDC_ID,
        "name": OIDC_NAME,
        "issuer": f"http://127.0.0.1:{oidc_port}",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    saml = {
        "id": SAML_ID,
        "name": SAML_NAME,
        "entity_id": f"http://127.0.0.1:{saml_port}/metadata",
        "sso_url": f"http://127.0.0.1:{saml_port}/sso",
        "x509cert": cert_body,
        # Like a UK federation IdP: no email_verified attribute; the operator vouches for its mail.
        "verified_email": True,
    }
    env = {"OIDC_PROVIDERS": json.dumps([oidc]), "SAML_PROVIDERS": json.dumps([saml]), "MATCHING_PRELOAD": "false"}
    with django_db_blocker.unblock():
        db_name = connections["default"].settings_dict["NAME"]
    log_path = folder / "server.log"
    log_path.touch()
    # The spawned server reads its settings from the environment it starts with.
    with mock.patch.dict(os.environ, env):
        server = _SpawnedDaphne("127.0.0.1", _make_application, setup=partial(_child_setup, db_name, str(log_path)))
        server.daemon = True
        server.start()
        if not server.ready.wait(timeout=90):
            server.terminate()
            raise RuntimeError("The ASGI server for the SSO tests did not start")
    url = f"http://127.0.0.1:{server.port.value}"
    idps = []
    try:
        for script, port, extra, probe in [
            (
                "oidc.mjs",
                oidc_port,
                {"REDIRECT_URI": f"{url}/accounts/sso/oidc/{OIDC_ID}/login/callback/"},
                "/.well-known/openid-configuration",
            ),
            (
                "saml.mjs",
                saml_port,
                {
                    "IDP_CERT": str(cert_path),
                    "IDP_KEY": str(key_path),
                    "SP_ENTITY_ID": f"{url}/accounts/sso/saml/{SAML_ID}/metadata/",
                    "SP_ACS_URL": f"{url}/accounts/sso/saml/{SAML_ID}/acs/",
                },
                "/metadata",
            ),
        ]:
            log = folder / f"{script}.log"
            process_env = {
                **os.environ,
                "PORT": str(port),
                "CLIENT_ID": CLIENT_ID,
                "CLIENT_SECRET": CLIENT_SECRET,
                **extra,
            }
            with log.open("wb") as out:
                process = subprocess.Popen([idp_packages, script], cwd=IDP_DIR, env=process_env, stdout=out, stderr=out)
            idps.append(process)
            _wait_http(f"http://127.0.0.1:{port}{probe}", process, log)
        yield SimpleNamespace(url=url, log=log_path, folder=folder)
    finally:
        for process in idps:
            process.terminate()
            process.wait(timeout=10)
        server.terminate()
        server.join(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def sso_page(sso, browser, transactional_db, request):
    contexts = []

    def make(width: int = 1280, height: int = 900):
        context = browser.new_context(base_url=sso.url, viewport={"width": width, "height": height}, locale="en-GB")
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    failed = getattr(request.node, "rep_call", None) and request.node.rep_call.failed
    if failed:
        print(sso.log.read_text()[-4000:])
    for context in contexts:
        context.close()


def _invite(email: str, title: str, **cycle_fields):
    from cycles.services.members import invitation_create
    from tests.factories import CycleFactory, MembershipFactory, UserFactory

    convener = UserFactory(email=f"convener-{title.lower().replace(' ', '-')}@host.example")
    cycle = CycleFactory(title=title, slug=title.lower().replace(" ", "-"), **cycle_fields)
    MembershipFactory(cycle=cycle, user=convener, role="convener")
    invitation_create(
        cycle=cycle, email=email, role="employer", invited_by=convener, organisation_name="St Elsewhere NHS Trust"
    )
    return cycle


def _sign_in_at_the_oidc_provider(page, login: str) -> None:
    page.get_by_role("button", name=f"Sign in with {OIDC_NAME}").click()
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("anything: the test provider's development login")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()  # the provider's consent screen


def test_an_invited_person_signs_in_through_the_openid_provider_and_lands_on_their_cycle(sso_page):
    from allauth.socialaccount.models import SocialAccount

    from accounts.models import User
    from cycles.models import Membership

    cycle = _invite("ada.lovelace@trust.example", "Theatre nursing 2030")
    page = sso_page()
    page.goto("/accounts/login/")
    _sign_in_at_the_oidc_provider(page, "ada.lovelace@trust.example")
    page.wait_for_url(f"**/cycles/{cycle.slug}/")
    assert page.get_by_role("heading", name=cycle.title).first.is_visible()

    user = User.objects.get(email="ada.lovelace@trust.example")
    assert user.display_name == "Ada Lovelace"
    assert not user.has_usable_password()
    assert Membership.objects.get(cycle=cycle, user=user).role == "employer"
    assert SocialAccount.objects.get(user=user).provider == OIDC_ID


def test_an_unverified_email_claim_is_never_matched_to_an_account(sso_page):
    from allauth.socialaccount.models import SocialAccount

    from tests.factories import UserFactory

    UserFactory(email="grace@trust.example")
    page = sso_page()
    page.goto("/accounts/login/")
    _sign_in_at_the_oidc_provider(page, "unverified:grace@trust.example")
    refusal = page.locator("#sso-refusal")
    assert "did not confirm that grace@trust.example is your email address" in refusal.inner_text()
    assert not SocialAccount.objects.exists()
    page.goto("/cycles/")
    assert "/accounts/login/" in page.url  # not signed in


def test_an_invited_person_signs_in_through_the_saml_provider_and_lands_on_their_cycle(sso_page):
    from allauth.socialaccount.models import SocialAccount

    from accounts.models import User

    cycle = _invite("mary.somerville@uni.example", "Space robotics")
    page = sso_page()
    page.goto("/accounts/login/")
    page.get_by_role("button", name=f"Sign in with {SAML_NAME}").click()
    page.get_by_label("Email").fill("mary.somerville@uni.example")
    page.get_by_role("button", name="Sign in to the test IdP").click()
    page.wait_for_url(f"**/cycles/{cycle.slug}/")
    assert page.get_by_role("heading", name=cycle.title).first.is_visible()
    user = User.objects.get(email="mary.somerville@uni.example")
    assert user.display_name == "Mary Somerville"
    assert SocialAccount.objects.get(user=user).provider == SAML_ID


def test_an_sso_required_cycle_refuses_a_password_login_and_opens_after_the_named_sign_in(sso_page):
    from tests.factories import PASSWORD, CycleFactory, MembershipFactory, UserFactory

    cycle = CycleFactory(title="Ward robotics", slug="ward-robotics", sign_in_provider=OIDC_ID)
    member = UserFactory(email="nurse@trust.example")
    MembershipFactory(cycle=cycle, user=member, role="employer")
    page = sso_page()

    # Straight to the cycle with a password: refused, naming the cycle and the sign-in to use.
    page.goto(f"/accounts/login/?next=/cycles/{cycle.slug}/")
    page.get_by_label("Email").fill(member.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    error = page.locator("#login-error")
    assert error.inner_text() == (
        f"“Ward robotics” requires signing in with {OIDC_NAME}: use the “Sign in with {OIDC_NAME}” button."
    )
    page.goto("/cycles/")
    assert "/accounts/login/" in page.url  # the refused login did not sign them in

    # Signed in with a password for their other work, the cycle still refuses them, with the button.
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(member.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    response = page.goto(f"/cycles/{cycle.slug}/")
    assert response.status == 403
    assert "“Ward robotics” requires signing in with Test OpenID" in page.locator("#sso-required").inner_text()
    assert page.get_by_role("button", name=f"Sign in with {SAML_NAME}").count() == 0

    # The named sign-in matches their account by its verified email and opens the cycle.
    _sign_in_at_the_oidc_provider(page, member.email)
    page.wait_for_url(f"**/cycles/{cycle.slug}/")
    assert page.get_by_role("heading", name=cycle.title).first.is_visible()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_login_page_shows_each_provider_at_desktop_and_phone_widths(sso_page, width):
    page = sso_page(width=width, height=844 if width < 500 else 900)
    page.goto("/accounts/login/")
    for name in (OIDC_NAME, SAML_NAME):
        button = page.get_by_role("button", name=f"Sign in with {name}")
        assert button.is_visible()
        box = button.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
    assert page.get_by_label("Email").is_visible() and page.get_by_label("Password").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"login-{width}.png"), full_page=True)


def test_the_sign_in_pages_meet_wcag_22_aa(sso_page):
    """axe-core (vendored for tests/e2e/test_accessibility_axe.py) on the login page with its
    provider buttons, a cycle's "sign in with your organisation" page and a refusal."""
    from tests.e2e.test_accessibility_axe import AXE, RUN_AXE, WCAG_TAGS, _describe
    from tests.factories import CycleFactory, MembershipFactory, UserFactory

    cycle = CycleFactory(title="Ward robotics", slug="ward-robotics", sign_in_provider=OIDC_ID)
    member = UserFactory(email="nurse@trust.example")
    MembershipFactory(cycle=cycle, user=member, role="employer")
    page = sso_page()

    def check(where: str) -> None:
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate(RUN_AXE, WCAG_TAGS)
        assert not violations, f"{where}: " + _describe(violations)
        if SCREENSHOTS:
            page.screenshot(
                path=str(Path(SCREENSHOTS) / f"{where.replace(' ', '-').replace(chr(39), '')}.png"), full_page=True
            )

    page.goto("/accounts/login/")
    check("the login page")
    _sign_in_at_the_oidc_provider(page, "nobody@trust.example")
    assert "Nobody has invited nobody@trust.example" in page.locator("#sso-refusal").inner_text()
    check("the refusal page")
    from tests.factories import PASSWORD

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(member.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.goto(f"/cycles/{cycle.slug}/")
    check("the cycle's sign-in page")

"""Single sign-on: who may come in through an identity provider, and how they are matched.

django-allauth runs the OpenID Connect and SAML flows; these adapters decide what happens when a
provider hands a person back. A first sign-in is matched by a *verified* email only (the provider's
``email_verified``, or an operator's statement in ``verified_email_domains``): to the account with
that address, or, for someone new, to a pending invitation addressed to it. An unverified claim, or
an address nobody invited, is refused with a page that says so; nobody gets an account the
invitations did not give them.

accounts knows nothing of cycles: cycles registers a ``SignInPolicy`` from its ``AppConfig.ready``
(has an invitation, accept invitations, why a password login must be refused).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter, get_adapter
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest
from django.shortcuts import render

from accounts.models import User

EMAIL_NOT_VERIFIED = (
    "{provider} did not confirm that {email} is your email address, so it cannot be matched to an "
    "invitation or an account. Ask your organisation's IT team, or sign in another way."
)
NO_EMAIL = "{provider} did not tell us your email address, so it cannot be matched to an invitation or an account."
NOT_INVITED = (
    "Nobody has invited {email} yet. Ask the convener of your cycle to invite this address, then sign in "
    "with {provider} again."
)
ACCOUNT_CLOSED = "The account for {email} is closed. Ask the convener of your cycle if you need it back."
PASSWORD_LOGIN_OFF = "Sign-in with a password is turned off on this site: use your organisation's sign-in below."
SSO_REQUIRED = "“{cycle}” requires signing in with {provider}: use the “Sign in with {provider}” button."

#: The session key that says how this session signed in: a provider id, or PASSWORD.
SESSION_KEY = "accounts.signed_in_with"
PASSWORD = "password"
#: The request attribute a sessionless request (an API token's) answers ``signed_in_with`` by.
SIGNED_IN_WITH_ATTR = "signed_in_with_carried"
#: Where a single sign-on that just joined a cycle lands (read once, after the login).
LANDING_KEY = "accounts.sso_landing"


class SignInRequired(PermissionDenied):
    """A cycle requires a single sign-on provider this session did not sign in with
    (accounts.middleware turns it into a page with that provider's button)."""

    def __init__(self, *, cycle_title: str, provider_id: str, next_url: str = "") -> None:
        self.cycle_title, self.provider_id, self.next_url = cycle_title, provider_id, next_url
        self.message = SSO_REQUIRED.format(cycle=cycle_title, provider=provider_name(provider_id))
        super().__init__(self.message)


@dataclass(frozen=True)
class SignInPolicy:
    """What a higher app contributes to sign-in (cycles: invitations and SSO-required cycles)."""

    key: str
    # (verified email) -> whether someone invited it
    has_invitation: Callable[[str], bool]
    # (user, verified email) -> the URL to land on (the cycle just joined), or None
    on_sso_sign_in: Callable[[User, str], str | None]
    # (user, next URL) -> why a password sign-in must be refused (an SSO-required cycle), or None
    password_refusal: Callable[[User, str], str | None]


POLICIES: list[SignInPolicy] = []


def register_sign_in_policy(policy: SignInPolicy) -> None:
    """Add a sign-in policy (idempotent by key)."""
    if all(existing.key != policy.key for existing in POLICIES):
        POLICIES.append(policy)


def password_login_enabled() -> bool:
    return bool(settings.PASSWORD_LOGIN)


def signed_in_with(request: HttpRequest) -> str:
    """How this session signed in: a provider id, or ``PASSWORD`` (also for sessions from before SSO).
    A request authenticated otherwise (an API token) carries its own answer in ``SIGNED_IN_WITH_ATTR``."""
    if (carried := getattr(request, SIGNED_IN_WITH_ATTR, None)) is not None:
        return carried
    return session_signed_in_with(getattr(request, "session", None))


def session_signed_in_with(session) -> str:
    """How a session (a request's, or a websocket scope's) signed in; ``PASSWORD`` without one."""
    return session.get(SESSION_KEY, PASSWORD) if session is not None else PASSWORD


def configured_providers() -> dict[str, str]:
    """Every configured provider: id -> the name people see."""
    return {
        app["provider_id"]: app["name"] for conf in settings.SOCIALACCOUNT_PROVIDERS.values() for app in conf["APPS"]
    }


def provider_name(provider_id: str) -> str:
    return configured_providers().get(provider_id, provider_id)


def provider_buttons(request: HttpRequest) -> list[dict[str, str]]:
    """The login page's buttons: each provider's name and the URL its form posts to."""
    return [
        {"id": p.sub_id, "name": p.name, "url": p.get_login_url(request)}
        for p in get_adapter(request).list_providers(request)
    ]


def password_refusal(user: User, next_url: str) -> str | None:
    """Why ``user`` may not sign in with a password now (``next_url``: where they were going)."""
    if not password_login_enabled():
        return PASSWORD_LOGIN_OFF
    for policy in POLICIES:
        message = policy.password_refusal(user, next_url)
        if message:
            return message
    return None


def verified_email(sociallogin) -> str | None:
    """The address the provider vouches for, lower-cased, or None."""
    for address in sociallogin.email_addresses:
        if address.verified and address.email:
            return address.email.strip().lower()
    return None


def claimed_email(sociallogin) -> str:
    for address in sociallogin.email_addresses:
        if address.email:
            return address.email.strip().lower()
    return (sociallogin.user.email or "").strip().lower() if sociallogin.user else ""


def _refuse(request: HttpRequest, message: str) -> ImmediateHttpResponse:
    response = render(request, "accounts/sso_refused.html", {"message": message}, status=403)
    return ImmediateHttpResponse(response)


def _has_invitation(email: str) -> bool:
    return any(policy.has_invitation(email) for policy in POLICIES)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # No self sign-up: accounts come from invitations (cycles) or from SSO matched to one.
        return False

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        landing = request.session.pop(LANDING_KEY, None)
        return landing or super().get_login_redirect_url(request)

    def get_signup_redirect_url(self, request: HttpRequest) -> str:
        # A first sign-in by SSO "signs up": it lands on the cycle it joined, like any other login.
        return self.get_login_redirect_url(request)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def pre_social_login(self, request: HttpRequest, sociallogin) -> None:
        provider = sociallogin.provider.name if sociallogin.provider else provider_name(sociallogin.account.provider)
        email = verified_email(sociallogin)
        if sociallogin.is_existing:
            user = sociallogin.user
        else:
            if email is None:
                claimed = claimed_email(sociallogin)
                message = EMAIL_NOT_VERIFIED.format(provider=provider, email=claimed) if claimed else NO_EMAIL
                raise _refuse(request, message.format(provider=provider))
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                if not _has_invitation(email):
                    raise _refuse(request, NOT_INVITED.format(email=email, provider=provider))
                return  # allauth signs them up (is_open_for_signup), then save_user joins their cycles
            if not user.is_active:
                raise _refuse(request, ACCOUNT_CLOSED.format(email=email))
            sociallogin.connect(request, user)
        if user.is_active and email and email == user.email.lower():
            self._land(request, user, email)

    def is_open_for_signup(self, request: HttpRequest, sociallogin) -> bool:
        email = verified_email(sociallogin)
        return bool(email) and _has_invitation(email)

    def is_auto_signup_allowed(self, request: HttpRequest, sociallogin) -> bool:
        return True

    def populate_user(self, request: HttpRequest, sociallogin, data: dict[str, Any]) -> User:
        user = super().populate_user(request, sociallogin, data)
        user.email = verified_email(sociallogin) or ""
        name = data.get("name") or " ".join(p for p in (data.get("first_name"), data.get("last_name")) if p)
        user.display_name = " ".join(str(name or "").split())[:150]
        return user

    def save_user(self, request: HttpRequest, sociallogin, form=None) -> User:
        user = super().save_user(request, sociallogin, form)  # with an unusable password
        self._land(request, user, user.email)
        return user

    def _land(self, request: HttpRequest, user: User, email: str) -> None:
        """The provider proved the address, as the invitation link would: accept what it was sent."""
        for policy in POLICIES:
            landing = policy.on_sso_sign_in(user, email)
            if landing:
                request.session[LANDING_KEY] = landing


@receiver(user_logged_in, dispatch_uid="accounts.sso.record_sign_in")
def _record_sign_in(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    # allauth's social flow records the provider; any other login (the password form, the
    # invitation's new-account form) is a password one.
    records = request.session.get("account_authentication_methods") or []
    last = records[-1] if records else {}
    # A record counts only if it was made for this login (allauth records just before it logs in).
    fresh = time.time() - float(last.get("at") or 0) < 120
    if last.get("method") == "socialaccount" and last.get("uid") and fresh:
        request.session[SESSION_KEY] = last["provider"]
    else:
        request.session[SESSION_KEY] = PASSWORD

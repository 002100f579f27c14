"""Writes of API tokens: a person creates and revokes their own."""

from __future__ import annotations

import datetime as dt
import secrets

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.sso import PASSWORD
from api.models import ApiToken
from api.selectors import TOKEN_PREFIX, token_digest

NOT_YOUR_TOKEN = "Only the token's owner may revoke it."
SIGN_IN_FIRST = "Sign in to create an API token."
#: Lifetimes offered on the tokens page, in days (None: until revoked).
LIFETIMES = (30, 90, 365, None)


def api_token_create(
    *, user: User, name: str, lifetime_days: int | None, signed_in_with: str = PASSWORD
) -> tuple[ApiToken, str]:
    """A new token for ``user``: the row, and the token itself (returned this once, never stored).
    ``signed_in_with`` is how the creating session signed in (``accounts.sso.signed_in_with``)."""
    if user is None or not user.is_authenticated or not user.is_active:
        raise PermissionDenied(SIGN_IN_FIRST)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = timezone.now() + dt.timedelta(days=lifetime_days) if lifetime_days else None
    token = ApiToken.objects.create(
        user=user,
        name=name.strip()[:100],
        prefix=raw[:12],
        digest=token_digest(raw),
        expires_at=expires,
        signed_in_with=signed_in_with[:100],
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    if actor is None or actor.pk != token.user_id:
        raise PermissionDenied(NOT_YOUR_TOKEN)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token

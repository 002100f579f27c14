"""Reads of API tokens: a person's list, and who a presented token acts for."""

from __future__ import annotations

import hashlib

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from api.models import ApiToken

#: Every token starts with this, so a leaked one is recognisable (secret scanners, logs).
TOKEN_PREFIX = "wfp_"


def token_digest(raw: str) -> str:
    # A token is 256 random bits, so one SHA-256 is as strong as a slow password hash here and
    # lets the lookup be a single indexed equality.
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def api_tokens_of(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def api_tokens_active_count(*, user: User) -> int:
    now = timezone.now()
    return (
        ApiToken.objects.filter(user=user, revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .count()
    )


def api_token_of(*, raw: str) -> ApiToken | None:
    """The active token presented (its ``user`` is who it acts for), or None (unknown, revoked,
    expired, or its owner's account is deactivated)."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(digest=token_digest(raw)).first()
    if token is None or not token.is_active or not token.user.is_active:
        return None
    return token

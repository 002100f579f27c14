"""A personal token for every persona, and a client that sends one."""

from __future__ import annotations

import pytest
from django.test import Client

from api.services import api_token_create, api_token_revoke
from tests.api.matrix import ANONYMOUS, OUTSIDER, REVOKED


class TokenClient(Client):
    """A test client whose every request carries ``Authorization: Bearer <token>`` (none: no header)."""

    def __init__(self, token: str | None = None, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        super().__init__(headers=headers, **kwargs)


@pytest.fixture
def tokens(personas) -> dict[str, str | None]:
    """Role → a token of that persona; ``revoked``: the convener's, revoked; ``anonymous``: None."""
    out: dict[str, str | None] = {ANONYMOUS: None}
    for role in ("convener", "technologist", "employer", "educator", "observer", OUTSIDER):
        user = personas.outsider if role == OUTSIDER else getattr(personas, role)
        out[role] = api_token_create(user=user, name=f"{role} tool", lifetime_days=None)[1]
    revoked, out[REVOKED] = api_token_create(user=personas.convener, name="old laptop", lifetime_days=30)
    api_token_revoke(token=revoked, actor=personas.convener)
    return out


@pytest.fixture
def api_client(tokens):
    """``api_client(role)``: a client calling with that role's token."""
    return lambda role: TokenClient(tokens[role])

"""What every endpoint shares: the token check, the pagination and the refusals.

Authorisation is the pages' own: a token acts as its owner (``request.user``), and every endpoint
opens with ``member(request, slug)``, which is ``cycles.access.get_cycle_for_member`` — a cycle
that is not the caller's is a 404, a role the page refuses is a 403.
"""

from __future__ import annotations

from typing import Annotated

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Path, Schema
from ninja.pagination import LimitOffsetPagination
from ninja.security import HttpBearer

from accounts.sso import SIGNED_IN_WITH_ATTR, SignInRequired, provider_name
from api.schemas import ErrorOut, ValidationErrorOut
from api.selectors import api_token_of
from cycles.access import Access, get_cycle_for_member

MAX_PAGE = 500
#: The largest id a database integer holds: bigger ones are refused (422) before any query.
DB_INT_MAX = 2**63 - 1
#: An id in a path: refused (422) when no database row could have it.
Id = Annotated[int, Path(ge=1, le=DB_INT_MAX)]
#: A cycle's slug, as the pages' ``<slug:slug>`` takes it (a NUL byte, say, never reaches the database).
Slug = Annotated[str, Path(pattern=r"^[-a-zA-Z0-9_]+$", max_length=80)]


class TokenAuth(HttpBearer):
    """``Authorization: Bearer wfp_…``: a personal token from the tokens page. Sessions are not
    accepted, so no browser can be made to call the API with its cookie (no CSRF to defend). A
    request with a token counts as signed in the way the session that made the token was, so a
    cycle that requires a single sign-on provider answers only tokens made after signing in with it."""

    def authenticate(self, request: HttpRequest, token: str):
        found = api_token_of(raw=token)
        if found is None:
            return None
        request.user = found.user
        setattr(request, SIGNED_IN_WITH_ATTR, found.signed_in_with)
        return found.user


class Pages(LimitOffsetPagination):
    """``limit`` (1–500, default 100) and ``offset``; the answer carries ``items`` and ``count``."""

    class Input(Schema):
        limit: int = Field(100, ge=1, le=MAX_PAGE)
        # Bounded so no offset can overflow a database integer.
        offset: int = Field(0, ge=0, le=10_000_000)

    def __init__(self, **kwargs):
        super().__init__(max_limit=MAX_PAGE, **kwargs)


#: The refusals every endpoint can answer, documented in the schema.
REFUSALS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ValidationErrorOut}


#: A token for a cycle that requires single sign-on, made in a session that had not used it.
TOKEN_NEEDS_SSO = (
    "“{cycle}” requires signing in with {provider}: sign in with {provider}, then create a new token on"
    " the API tokens page."
)


def member(request: HttpRequest, slug: str) -> Access:
    try:
        return get_cycle_for_member(request, slug)
    except SignInRequired as refusal:
        raise PermissionDenied(
            TOKEN_NEEDS_SSO.format(cycle=refusal.cycle_title, provider=provider_name(refusal.provider_id))
        ) from None


class Mapped:
    """Rows (a queryset or a list) for ``@paginate``: it counts them and slices out the page asked
    for, and only that page's rows are read and turned into their answer by ``convert``."""

    def __init__(self, rows, convert):
        self.rows, self.convert = rows, convert

    def __len__(self) -> int:
        return self.rows.count() if isinstance(self.rows, QuerySet) else len(self.rows)

    def __getitem__(self, window: slice) -> list:
        return [self.convert(row) for row in self.rows[window]]

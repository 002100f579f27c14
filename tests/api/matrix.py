"""Who may read what through the API: one row per API URL name, one expected outcome per role.

Roles are the page matrix's personas, each calling with a personal token of their own, plus
``revoked`` (the convener's token after it was revoked) and ``anonymous`` (no token). Outcomes:
``OK`` (200), ``UNAUTHORIZED`` (401), ``FORBIDDEN`` (403), ``NOT_FOUND`` (404).

Every URL under ``api:v1`` must have a row (``test_every_api_url_has_a_row``). The page matrix
(tests/security/matrix.py) takes its rows for these URLs from ``session_rows``: with only a
session cookie the API answers 401, so no browser session can be used to call it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

OK, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, NOT_ALLOWED = "ok", "401", "403", "404", "405"
CONVENER, TECHNOLOGIST, EMPLOYER, EDUCATOR, OBSERVER = "convener", "technologist", "employer", "educator", "observer"
OUTSIDER, ANONYMOUS, REVOKED = "outsider", "anonymous", "revoked"
MEMBERS = (CONVENER, TECHNOLOGIST, EMPLOYER, EDUCATOR, OBSERVER)
ROLES = (*MEMBERS, OUTSIDER, ANONYMOUS, REVOKED)
TOKENS_ONLY = "the read API takes personal tokens only"

Expect = dict[str, str]


def public() -> Expect:
    return dict.fromkeys(ROLES, OK)


def token_holders() -> Expect:
    """Anyone with a valid token, member of this cycle or not."""
    return {**dict.fromkeys(ROLES, OK), ANONYMOUS: UNAUTHORIZED, REVOKED: UNAUTHORIZED}


def cycle(*allowed: str) -> Expect:
    """A cycle's data: the allowed roles get it, other members are refused, outsiders told it does not exist."""
    out = {role: (OK if role in allowed else FORBIDDEN) for role in MEMBERS}
    return {**out, OUTSIDER: NOT_FOUND, ANONYMOUS: UNAUTHORIZED, REVOKED: UNAUTHORIZED}


def members() -> Expect:
    """As the pages it mirrors: every member of the cycle (the Delphi results, FOPs, match runs and
    findings pages are all members' pages)."""
    return cycle(*MEMBERS)


@dataclass(frozen=True)
class ApiRow:
    expect: Expect
    # URL arguments, from the world of tests/security/test_permission_matrix.py
    kwargs: Callable[[object], dict] = field(default=lambda w: {})
    # A schema's or docs page's URL is not an operation: it answers any method.
    operation: bool = True
    note: str = ""


def slug_and(**extra: str) -> dict:
    """URL arguments: the cycle's slug plus world attributes by name (``fop_id="fop_pk"``) or, for a
    value that is not in the world, ``=value``."""

    def kwargs(w) -> dict:
        out = {"slug": w.slug}
        for name, source in extra.items():
            out[name] = source[1:] if source.startswith("=") else getattr(w, source)
        return out

    return {"kwargs": kwargs}


SLUG = slug_and()
TABLE = slug_and(key="page_key", table="=counts")  # the overview page's table of counts

ROWS: dict[str, ApiRow] = {
    "api:v1:openapi-json": ApiRow(public(), operation=False),
    "api:v1:openapi-view": ApiRow(public(), operation=False, note="the docs page (Swagger UI)"),
    "api:v1:api-root": ApiRow(dict.fromkeys(ROLES, NOT_FOUND), operation=False, note="django-ninja's root"),
    "api:v1:me": ApiRow(token_holders()),
    "api:v1:cycle_list": ApiRow(token_holders(), note="an outsider lists their own cycles"),
    "api:v1:cycle_detail": ApiRow(members(), **SLUG),
    "api:v1:capability_list": ApiRow(members(), **SLUG),
    "api:v1:delphi_results": ApiRow(members(), **SLUG),
    "api:v1:fop_list": ApiRow(members(), **SLUG),
    "api:v1:fop_detail": ApiRow(members(), **slug_and(fop_id="fop_pk")),
    "api:v1:match_run_list": ApiRow(members(), **SLUG),
    "api:v1:match_run_detail": ApiRow(members(), **slug_and(run_id="run_pk")),
    "api:v1:match_run_capabilities": ApiRow(members(), **slug_and(run_id="run_pk")),
    "api:v1:findings_pages": ApiRow(members(), **SLUG),
    "api:v1:findings_page": ApiRow(members(), **slug_and(key="page_key")),
    "api:v1:findings_table": ApiRow(members(), **TABLE),
    "api:v1:findings_table_csv": ApiRow(members(), **TABLE),
}


def session_rows() -> dict:
    """The page matrix's rows for the API's URLs: what a session (no token) gets."""
    from tests.security import matrix as pages  # the page matrix imports this module

    session = "status 401"  # the page matrix files a status it has no name for as "status <code>"
    rows = {}
    for name, row in ROWS.items():
        if not row.operation:  # the same answer for everyone, token or session
            [outcome] = set(row.expect.values())
            expect = dict.fromkeys(pages.ROLES, {OK: pages.OK, NOT_FOUND: pages.NOT_FOUND}[outcome])
            rows[name] = pages.Row(get=expect, post=expect, kwargs=row.kwargs, note=row.note)
        else:
            # No POST row: the API has no writes, and tests/api/test_permission_matrix.py checks that
            # every other method is refused (405) before anything else.
            rows[name] = pages.Row(get=dict.fromkeys(pages.ROLES, session), kwargs=row.kwargs, note=TOKENS_ONLY)
    return rows

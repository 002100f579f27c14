"""Every websocket route: who may connect, and from which origin, and how the others are refused.

Routes come from config.routing, so a new live screen without a row here fails
``test_every_websocket_route_has_a_row``. Connections go through the real ASGI application
(config.asgi: origin validation, session authentication, URL routing, the consumer).

A visitor the consumer turns away gets the socket closed with 4401 (not signed in) or 4403 (may
not join) right after the handshake, with no message before the close (see
``workshops.realtime.refuse``); a foreign origin is refused before the handshake (no code).
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from config.routing import websocket_urlpatterns
from tests.portability.fixtures import build_rich_cycle
from workshops import realtime
from workshops.models import FOP, Round

pytestmark = pytest.mark.django_db(transaction=True)

# route pattern → how to fill it from the world (a dict of ids built by the fixture below). The
# paths are spelt out here on purpose: they are what pages and clients out there open.
ROUTES = {
    "ws/rounds/<int:round_id>/": lambda w: f"/ws/rounds/{w['round_id']}/",
    "ws/cycles/<slug:slug>/capture/": lambda w: f"/ws/cycles/{w['slug']}/capture/",
    "ws/fops/<int:fop_id>/": lambda w: f"/ws/fops/{w['fop_id']}/",
}
REFUSED = "refused before the handshake"
MEMBER_ROLES = ("convener", "technologist", "employer", "educator", "observer")


def test_every_websocket_route_has_a_row():
    patterns = [str(p.pattern) for p in websocket_urlpatterns]
    assert [p for p in patterns if p not in ROUTES] == []
    assert [p for p in ROUTES if p not in patterns] == []


def test_the_paths_views_give_pages_are_the_paths_routing_serves():
    """Views build ws paths with workshops.realtime from the very patterns routing registers."""
    by_name = {p.name: str(p.pattern) for p in websocket_urlpatterns}
    assert by_name == realtime.WS_ROUTES
    world = {"round_id": 7, "slug": "cycle-a", "fop_id": 12}
    built = {
        by_name[realtime.WS_ROUND]: realtime.ws_path(realtime.WS_ROUND, round_id=7),
        by_name[realtime.WS_CAPTURE]: realtime.ws_path(realtime.WS_CAPTURE, slug="cycle-a"),
        by_name[realtime.WS_FOP]: realtime.ws_path(realtime.WS_FOP, fop_id=12),
    }
    assert built == {pattern: fill(world) for pattern, fill in ROUTES.items()}
    for pattern in websocket_urlpatterns:
        match = pattern.resolve(built[str(pattern.pattern)].lstrip("/"))
        assert match is not None, pattern


@pytest.fixture
def world(personas) -> dict:
    cycle = build_rich_cycle(personas)
    return {
        "slug": cycle.slug,
        "round_id": Round.objects.get(cycle=cycle, status="open").pk,
        "fop_id": FOP.objects.filter(cycle=cycle).first().pk,
        "cookies": {role: _session(getattr(personas, role)) for role in (*MEMBER_ROLES, "outsider")},
    }


def _session(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def _attempt(path: str, *, cookie: str | None, origin: bytes | None = b"http://testserver") -> int | str | None:
    """None when the socket is let in (and its first message arrives); else the close code, or
    ``REFUSED`` when the handshake itself was turned down."""
    headers = [(b"host", b"testserver")]
    if origin is not None:
        headers.append((b"origin", origin))
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    ws = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await ws.connect(timeout=5)
    if not connected:
        return REFUSED
    first = await ws.receive_output(timeout=5)
    if first["type"] == "websocket.close":
        # Refused after the handshake: nothing may have been sent before the close.
        return first.get("code")
    assert first["type"] == "websocket.send" and first.get("text"), first
    await ws.disconnect()
    return None


async def _connects(path: str, *, cookie: str | None, origin: bytes | None = b"http://testserver") -> bool:
    return await _attempt(path, cookie=cookie, origin=origin) is None


async def test_every_member_connects_to_every_live_screen_of_their_cycle(world):
    refused = []
    for pattern, fill in ROUTES.items():
        for role in MEMBER_ROLES:
            if not await _connects(fill(world), cookie=world["cookies"][role]):
                refused.append((pattern, role))
    assert refused == []


async def test_anonymous_visitors_and_members_of_other_cycles_cannot_connect(world):
    """Every consumer closes with the same codes: 4401 not signed in, 4403 signed in but not allowed."""
    outcomes = {}
    for pattern, fill in ROUTES.items():
        outcomes[pattern, "anonymous"] = await _attempt(fill(world), cookie=None)
        outcomes[pattern, "forged cookie"] = await _attempt(fill(world), cookie="forged-session-key")
        outcomes[pattern, "outsider"] = await _attempt(fill(world), cookie=world["cookies"]["outsider"])
    expected = {"anonymous": 4401, "forged cookie": 4401, "outsider": 4403}
    assert outcomes == {(pattern, who): expected[who] for pattern in ROUTES for who in expected}
    assert (realtime.CLOSE_NOT_SIGNED_IN, realtime.CLOSE_NOT_ALLOWED) == (4401, 4403)


async def test_a_room_that_does_not_exist_looks_like_one_you_may_not_join(world):
    cookie = world["cookies"]["convener"]
    missing = {"slug": "no-such-cycle", "round_id": 999_999, "fop_id": 999_999}
    codes = {pattern: await _attempt(fill(missing), cookie=cookie) for pattern, fill in ROUTES.items()}
    assert codes == dict.fromkeys(ROUTES, realtime.CLOSE_NOT_ALLOWED)


async def test_a_page_on_another_site_cannot_open_a_socket_with_the_members_cookie(world):
    """Cross-site websocket hijacking: the browser would send the cookie; the origin check refuses."""
    let_in = []
    cookie = world["cookies"]["convener"]
    for pattern, fill in ROUTES.items():
        for origin in (b"https://evil.example", b"http://testserver.evil.example", b"null", None):
            if await _attempt(fill(world), cookie=cookie, origin=origin) != REFUSED:
                let_in.append((pattern, origin))
    assert let_in == []


async def test_a_removed_member_can_no_longer_connect(world, personas):
    from cycles.models import Membership

    await database_sync_to_async(
        lambda: Membership.objects.filter(user=personas.employer).update(status=Membership.Status.REMOVED)
    )()
    codes = {
        pattern: await _attempt(fill(world), cookie=world["cookies"]["employer"]) for pattern, fill in ROUTES.items()
    }
    assert codes == dict.fromkeys(ROUTES, realtime.CLOSE_NOT_ALLOWED)


async def test_a_cycle_that_requires_single_sign_on_refuses_other_sessions_on_every_live_screen(world):
    """The pages' rule (cycles.access.sign_in_refused) holds for sockets too: a password session
    of a member is closed with 4403; the same member signed in with the provider connects."""
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.sso import SESSION_KEY
    from cycles.models import Cycle

    await database_sync_to_async(lambda: Cycle.objects.filter(slug=world["slug"]).update(sign_in_provider="nhsmail"))()
    password = world["cookies"]["employer"]

    def signed_in_with_provider(key: str) -> None:
        session = SessionStore(session_key=key)
        session[SESSION_KEY] = "nhsmail"
        session.save()

    provider = world["cookies"]["technologist"]
    await database_sync_to_async(signed_in_with_provider)(provider)
    outcomes = {
        (pattern, who): await _attempt(fill(world), cookie=cookie)
        for pattern, fill in ROUTES.items()
        for who, cookie in (("password", password), ("provider", provider))
    }
    assert outcomes == {(p, who): code for p in ROUTES for who, code in (("password", 4403), ("provider", None))}

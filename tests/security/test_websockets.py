"""Every websocket route: who may connect, and from which origin.

Routes come from config.routing, so a new live screen without a row here fails
``test_every_websocket_route_has_a_row``. Connections go through the real ASGI application
(config.asgi: origin validation, session authentication, URL routing, the consumer).
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from config.routing import websocket_urlpatterns
from tests.portability.fixtures import build_rich_cycle
from workshops.models import FOP, Round

pytestmark = pytest.mark.django_db(transaction=True)

# route pattern → how to fill it from the world (a dict of ids built by the fixture below)
ROUTES = {
    "ws/rounds/<int:round_id>/": lambda w: f"/ws/rounds/{w['round_id']}/",
    "ws/cycles/<slug:slug>/capture/": lambda w: f"/ws/cycles/{w['slug']}/capture/",
    "ws/fops/<int:fop_id>/": lambda w: f"/ws/fops/{w['fop_id']}/",
}
MEMBER_ROLES = ("convener", "technologist", "employer", "educator", "observer")


def test_every_websocket_route_has_a_row():
    patterns = [str(p.pattern) for p in websocket_urlpatterns]
    assert [p for p in patterns if p not in ROUTES] == []
    assert [p for p in ROUTES if p not in patterns] == []


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


async def _connects(path: str, *, cookie: str | None, origin: bytes | None = b"http://testserver") -> bool:
    headers = [(b"host", b"testserver")]
    if origin is not None:
        headers.append((b"origin", origin))
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    ws = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await ws.connect(timeout=5)
    if connected:
        first = await ws.receive_json_from(timeout=5)
        assert first.get("type"), first
        await ws.disconnect()
    return connected


async def test_every_member_connects_to_every_live_screen_of_their_cycle(world):
    refused = []
    for pattern, fill in ROUTES.items():
        for role in MEMBER_ROLES:
            if not await _connects(fill(world), cookie=world["cookies"][role]):
                refused.append((pattern, role))
    assert refused == []


async def test_anonymous_visitors_and_members_of_other_cycles_cannot_connect(world):
    let_in = []
    for pattern, fill in ROUTES.items():
        if await _connects(fill(world), cookie=None):
            let_in.append((pattern, "anonymous"))
        if await _connects(fill(world), cookie=world["cookies"]["outsider"]):
            let_in.append((pattern, "outsider"))
        if await _connects(fill(world), cookie="forged-session-key"):
            let_in.append((pattern, "forged cookie"))
    assert let_in == []


async def test_a_page_on_another_site_cannot_open_a_socket_with_the_members_cookie(world):
    """Cross-site websocket hijacking: the browser would send the cookie; the origin check refuses."""
    let_in = []
    cookie = world["cookies"]["convener"]
    for pattern, fill in ROUTES.items():
        for origin in (b"https://evil.example", b"http://testserver.evil.example", b"null", None):
            if await _connects(fill(world), cookie=cookie, origin=origin):
                let_in.append((pattern, origin))
    assert let_in == []


async def test_a_removed_member_can_no_longer_connect(world, personas):
    from cycles.models import Membership

    await database_sync_to_async(
        lambda: Membership.objects.filter(user=personas.employer).update(status=Membership.Status.REMOVED)
    )()
    for fill in ROUTES.values():
        assert not await _connects(fill(world), cookie=world["cookies"]["employer"])

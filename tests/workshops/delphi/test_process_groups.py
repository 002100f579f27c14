"""A round's screens in one server process share one channel-layer subscription.

Through the real ASGI application: several sockets of a round put the process's one channel in
the round's group (not one channel per socket), a broadcast reaches each socket once, a socket
that is still loading its snapshot gets its events after the snapshot, and the last socket to
leave takes the process out of the group. Runs on whichever layer is configured (in-memory, or
Redis with DATABASE_URL/REDIS_URL).
"""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer

from tests.workshops.delphi.factories import add_panellists, fast_passwords, start_delphi  # noqa: F401
from tests.workshops.delphi.test_websocket import connect, drain, session_cookie, until
from workshops import realtime
from workshops.delphi.realtime import round_group
from workshops.delphi.services import vote_cast

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _immediate_broadcasts(settings):
    settings.DELPHI_PROGRESS_INTERVAL = 0


@pytest.fixture
def live(personas):
    return start_delphi(personas.cycle, personas.convener, capabilities=2, levels=2, live=True, live_quorum=1)


async def _screens(round_id, people) -> list:
    screens = []
    for person in people:
        ws, _ = await connect(round_id, await database_sync_to_async(session_cookie)(person))
        screens.append(ws)
    return screens


async def test_the_sockets_of_a_round_share_one_subscription_and_get_each_broadcast_once(personas, live):
    people = await database_sync_to_async(add_panellists)(personas.cycle, 4)
    screens = await _screens(live.round.pk, people)
    hub = realtime.process_groups()
    group = round_group(live.round.pk)
    assert hub.local_sockets(group) == 4
    layer = get_channel_layer()
    in_memory = isinstance(layer, InMemoryChannelLayer)  # whose members a test can see
    if in_memory:
        assert set(layer.groups[group]) == {hub.channel}

    await database_sync_to_async(vote_cast)(
        round_id=live.round.pk, panellist=personas.technologist, item_id=live.items[0].pk, value=2
    )
    for ws in screens:
        received = [await until(ws, "progress"), *await drain(ws)]
        progress = [m for m in received if m["type"] == "progress"]
        assert [m["sequence"] for m in progress] == [1], received

    for ws in screens:
        await ws.disconnect()
    assert hub.local_sockets(group) == 0
    assert hub.receiver is None
    if in_memory:
        assert group not in layer.groups


async def test_an_event_for_a_socket_still_loading_its_snapshot_comes_after_the_snapshot(personas, live):
    hub = realtime.process_groups()
    group = round_group(live.round.pk)

    class Screen:
        def __init__(self):
            self.frames = []

        async def round_discussing(self, event):
            self.frames.append(event["payload"])

    screen = Screen()
    await hub.join(group, screen)
    try:
        await get_channel_layer().group_send(
            group, realtime.group_message(group, {"type": "round.discussing", "payload": {"n": 1}})
        )
        for _ in range(100):  # the process's receive loop runs on this event loop
            if hub.held[screen]:
                break
            await asyncio.sleep(0.05)
        assert screen.frames == [] and len(hub.held[screen]) == 1  # held while the snapshot loads
        screen.frames.append("snapshot")
        await hub.release(screen)
        assert screen.frames == ["snapshot", {"n": 1}]
    finally:
        await hub.leave(group, screen)

"""The live FOP socket through the real ASGI application: presence and changes after commit."""

import pytest
from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import Client
from django.urls import reverse

from config.asgi import application
from tests.workshops.fops.factories import build_needs, make_fop
from tests.workshops.malformed_frames import MALFORMED
from workshops import realtime
from workshops.fops.services import FOP_GROUP
from workshops.models import FOP
from workshops.realtime import CLOSE_NOT_ALLOWED, CLOSE_NOT_SIGNED_IN, fop_ws_path

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def _close_thread_connections():
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture
def fop(personas):
    levels, caps = build_needs(personas.cycle)
    return make_fop(personas.cycle, capabilities=caps[:2], role_level=levels[0], reviewers=[personas.employer])


async def open_socket(user, fop_id):
    headers = [(b"origin", b"http://testserver")]
    if user is not None:
        client = Client()
        await sync_to_async(client.force_login)(user)
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    communicator = WebsocketCommunicator(application, fop_ws_path(FOP(pk=fop_id)), headers=headers)
    connected, code = await communicator.connect()
    return communicator, connected, code


async def closed_with(communicator) -> int | None:
    """The code a refused socket is closed with, right after the handshake and before any message."""
    message = await communicator.receive_output(timeout=5)
    assert message["type"] == "websocket.close", message
    return message.get("code")


async def test_viewers_see_who_else_is_looking_and_who_left(personas, fop):
    first, connected, _ = await open_socket(personas.observer, fop.pk)
    assert connected
    hello = await first.receive_json_from()
    assert hello["type"] == "hello"

    second, connected, _ = await open_socket(personas.employer, fop.pk)
    assert connected
    assert (await second.receive_json_from())["type"] == "hello"

    joined = await first.receive_json_from(timeout=5)
    assert (joined["type"], joined["action"], joined["name"]) == ("presence", "join", "Employer A")
    here = await second.receive_json_from(timeout=5)
    assert (here["type"], here["action"], here["name"]) == ("presence", "here", "Observer A")
    assert "observer@a.test" not in str(here)

    await second.disconnect()
    left = await first.receive_json_from(timeout=5)
    assert (left["action"], left["name"]) == ("leave", "Employer A")
    await first.disconnect()


async def test_a_committed_change_reaches_every_viewer(personas, fop):
    viewer, connected, _ = await open_socket(personas.observer, fop.pk)
    assert connected
    await viewer.receive_json_from()
    client = Client()
    await sync_to_async(client.force_login)(personas.employer)
    cap_id = await sync_to_async(lambda: fop.entries.order_by("capability__ref").first().capability_id)()
    url = reverse("workshops:fop_capability_change", args=[personas.cycle.slug, fop.pk, cap_id])
    response = await sync_to_async(client.post)(url, {"proficiency": 3})
    assert response.status_code == 302
    message = await viewer.receive_json_from(timeout=5)
    assert (message["type"], message["action"], message["actor"]) == ("changed", "uprate", "Employer A")
    assert "Expert" in message["summary"]
    await viewer.disconnect()


async def test_a_refused_change_sends_nothing(personas, fop):
    viewer, connected, _ = await open_socket(personas.observer, fop.pk)
    assert connected
    await viewer.receive_json_from()
    client = Client()
    await sync_to_async(client.force_login)(personas.educator)
    cap_id = await sync_to_async(lambda: fop.entries.first().capability_id)()
    url = reverse("workshops:fop_capability_change", args=[personas.cycle.slug, fop.pk, cap_id])
    response = await sync_to_async(client.post)(url, {"proficiency": 3})
    assert response.status_code == 403
    assert await viewer.receive_nothing(timeout=0.5)
    await viewer.disconnect()


async def test_outsiders_get_4403_and_anonymous_visitors_4401(personas, fop):
    outsider, _, _ = await open_socket(personas.outsider, fop.pk)
    assert await closed_with(outsider) == CLOSE_NOT_ALLOWED == 4403
    anonymous, _, _ = await open_socket(None, fop.pk)
    assert await closed_with(anonymous) == CLOSE_NOT_SIGNED_IN == 4401


async def test_a_missing_fop_is_refused_like_a_forbidden_one(personas, fop):
    socket, _, _ = await open_socket(personas.convener, fop.pk + 1000)
    assert await closed_with(socket) == CLOSE_NOT_ALLOWED


async def test_the_socket_only_listens(personas, fop):
    viewer, connected, _ = await open_socket(personas.employer, fop.pk)
    await viewer.receive_json_from()
    await viewer.send_json_to({"type": "set", "proficiency": 3})
    reply = await viewer.receive_json_from()
    assert reply["type"] == "error" and "only listens" in reply["message"]
    await viewer.send_json_to({"type": "ping"})
    assert (await viewer.receive_json_from())["type"] == "pong"
    await viewer.disconnect()


@pytest.mark.parametrize(("event", "code"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
async def test_a_malformed_frame_gets_the_documented_error_and_the_socket_stays_open(personas, fop, event, code):
    viewer, connected, _ = await open_socket(personas.employer, fop.pk)
    assert connected
    await viewer.receive_json_from()
    await viewer.send_input(event)
    reply = await viewer.receive_json_from(timeout=5)
    assert (reply["type"], reply["code"], reply["retry"], reply["client_id"]) == ("error", code, False, None)
    await viewer.send_json_to({"type": "ping"})
    assert (await viewer.receive_json_from(timeout=5))["type"] == "pong"
    await viewer.disconnect()


async def test_presence_answers_reach_only_the_newcomer(personas, fop):
    first, connected, _ = await open_socket(personas.observer, fop.pk)
    assert connected
    first_id = (await first.receive_json_from())["you"]
    second, connected, _ = await open_socket(personas.employer, fop.pk)
    assert connected
    second_id = (await second.receive_json_from())["you"]
    assert (await first.receive_json_from(timeout=5))["action"] == "join"
    assert (await second.receive_json_from(timeout=5))["id"] == first_id

    third, connected, _ = await open_socket(personas.convener, fop.pk)
    assert connected
    hello = await third.receive_json_from()
    assert hello["type"] == "hello" and len({first_id, second_id, hello["you"]}) == 3
    answers = [await third.receive_json_from(timeout=5) for _ in range(2)]
    assert sorted((m["action"], m["id"]) for m in answers) == sorted([("here", first_id), ("here", second_id)])
    for earlier in (first, second):
        joined = await earlier.receive_json_from(timeout=5)
        assert (joined["action"], joined["id"]) == ("join", hello["you"])
        # The answers to the newcomer went through the group, but no other socket passes them on.
        assert await earlier.receive_nothing(timeout=0.5)
    assert await third.receive_nothing(timeout=0.2)  # nor its own announcement
    for socket in (first, second, third):
        await socket.disconnect()


async def test_the_sockets_of_a_fop_share_the_process_subscription_and_get_each_change_once(personas, fop):
    screens = []
    for person in (personas.observer, personas.employer):
        socket, connected, _ = await open_socket(person, fop.pk)
        assert connected
        assert (await socket.receive_json_from())["type"] == "hello"
        screens.append(socket)
    assert (await screens[0].receive_json_from(timeout=5))["action"] == "join"
    assert (await screens[1].receive_json_from(timeout=5))["action"] == "here"
    hub = realtime.process_groups()
    group = realtime.group_name(FOP_GROUP, fop.pk)
    assert hub.local_sockets(group) == 2
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):  # whose members a test can see
        assert set(layer.groups[group]) == {hub.channel}

    client = Client()
    await sync_to_async(client.force_login)(personas.employer)
    cap_id = await sync_to_async(lambda: fop.entries.order_by("capability__ref").first().capability_id)()
    url = reverse("workshops:fop_capability_change", args=[personas.cycle.slug, fop.pk, cap_id])
    assert (await sync_to_async(client.post)(url, {"proficiency": 3})).status_code == 302
    for socket in screens:
        message = await socket.receive_json_from(timeout=5)
        assert (message["type"], message["action"]) == ("changed", "uprate")
        assert await socket.receive_nothing(timeout=0.5)  # once, not once per socket of the process

    for socket in screens:
        await socket.disconnect()
    assert hub.local_sockets(group) == 0
    assert hub.receiver is None

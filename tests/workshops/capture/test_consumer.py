"""The live capture socket, through the real ASGI application (auth middleware, routing, layer)."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import Client
from django.urls import reverse

from config.asgi import application
from cycles.models import Cycle
from tests.workshops.malformed_frames import MALFORMED
from workshops.models import Capability
from workshops.realtime import CLOSE_NOT_ALLOWED, CLOSE_NOT_SIGNED_IN, capture_ws_path

pytestmark = pytest.mark.django_db(transaction=True)
STATEMENT = "Develop automated fill-finish processes for spoke sites."


@pytest.fixture(autouse=True)
async def _close_thread_connections():
    yield
    # The consumer's queries run in asgiref's worker thread; close its connection so the test
    # database (PostgreSQL) can be dropped at the end of the run.
    await sync_to_async(connections.close_all)()


async def open_socket(user, slug="cycle-a"):
    headers = [(b"origin", b"http://testserver")]
    if user is not None:
        client = Client()
        await sync_to_async(client.force_login)(user)
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    communicator = WebsocketCommunicator(application, capture_ws_path(Cycle(slug=slug)), headers=headers)
    connected, _ = await communicator.connect()
    return communicator, connected


async def submit(user, statement=STATEMENT, slug="cycle-a"):
    client = Client()
    await sync_to_async(client.force_login)(user)
    response = await sync_to_async(client.post)(reverse("workshops:capture", args=[slug]), {"statement": statement})
    assert response.status_code == 302


async def test_a_submission_reaches_every_member_socket_without_naming_the_submitter(personas):
    observer, connected = await open_socket(personas.observer)
    assert connected
    assert (await observer.receive_json_from())["type"] == "hello"
    submitter, connected = await open_socket(personas.technologist)
    assert connected
    await submitter.receive_json_from()

    await submit(personas.technologist)

    for socket in (observer, submitter):
        message = await socket.receive_json_from(timeout=5)
        assert message["type"] == "capture"
        assert message["action"] == "submitted"
        [capability] = message["capabilities"]
        assert (capability["ref"], capability["statement"], capability["status"]) == ("C01", STATEMENT, "submitted")
        assert "submitted_by" not in capability
        assert personas.technologist.email not in str(message)
    await observer.disconnect()
    await submitter.disconnect()


async def test_convener_decisions_reach_the_room(personas):
    capability = await sync_to_async(Capability.objects.create)(cycle=personas.cycle, ref="C01", statement=STATEMENT)
    technologist, _ = await open_socket(personas.technologist)
    await technologist.receive_json_from()
    client = Client()
    await sync_to_async(client.force_login)(personas.convener)
    await sync_to_async(client.post)(
        reverse("workshops:capability_reject", args=["cycle-a", capability.pk]), {"reason": "Out of scope."}
    )
    message = await technologist.receive_json_from(timeout=5)
    assert (message["action"], message["capabilities"][0]["status"]) == ("rejected", "rejected")
    await technologist.disconnect()


async def closed_with(communicator) -> int | None:
    """The code a refused socket is closed with, right after the handshake and before any message."""
    message = await communicator.receive_output(timeout=5)
    assert message["type"] == "websocket.close", message
    return message.get("code")


async def test_a_non_member_socket_is_refused_with_4403(personas):
    socket, _ = await open_socket(personas.outsider, slug="cycle-a")
    assert await closed_with(socket) == CLOSE_NOT_ALLOWED == 4403


async def test_an_anonymous_socket_is_refused_with_4401(personas):
    socket, _ = await open_socket(None)
    assert await closed_with(socket) == CLOSE_NOT_SIGNED_IN == 4401


async def test_a_removed_member_is_refused_with_4403(personas):
    from cycles.models import Membership

    await sync_to_async(
        lambda: Membership.objects.filter(user=personas.technologist).update(status=Membership.Status.REMOVED)
    )()
    socket, _ = await open_socket(personas.technologist)
    assert await closed_with(socket) == CLOSE_NOT_ALLOWED


async def test_another_cycle_socket_hears_nothing_of_this_cycle(personas):
    outsider, connected = await open_socket(personas.outsider, slug="cycle-b")
    assert connected
    await outsider.receive_json_from()
    await submit(personas.technologist)
    assert await outsider.receive_nothing(timeout=0.3)
    await outsider.disconnect()


async def test_the_socket_only_listens(personas):
    socket, _ = await open_socket(personas.technologist)
    await socket.receive_json_from()
    await socket.send_json_to({"type": "submit", "statement": STATEMENT})
    assert (await socket.receive_json_from())["type"] == "error"
    await socket.send_json_to({"type": "ping"})
    assert (await socket.receive_json_from())["type"] == "pong"
    await socket.disconnect()
    assert not await sync_to_async(Capability.objects.exists)()


@pytest.mark.parametrize(("event", "code"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
async def test_a_malformed_frame_gets_the_documented_error_and_the_socket_stays_open(personas, event, code):
    socket, _ = await open_socket(personas.technologist)
    await socket.receive_json_from()
    await socket.send_input(event)
    reply = await socket.receive_json_from(timeout=5)
    assert (reply["type"], reply["code"], reply["retry"], reply["client_id"]) == ("error", code, False, None)
    await socket.send_json_to({"type": "ping"})
    assert (await socket.receive_json_from(timeout=5))["type"] == "pong"
    await socket.disconnect()
    assert not await sync_to_async(Capability.objects.exists)()

"""The live round through the real ASGI application, authenticated by a real session cookie."""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.models import Session
from django.test import Client

from config.asgi import application
from cycles.models import Membership
from tests.workshops.delphi.factories import (
    add_panellists,
    fast_passwords,  # noqa: F401
    start_delphi,
)
from workshops.delphi.consumers import BAD_VOTE
from workshops.delphi.selectors import MIN_ANSWERS_SHOWN
from workshops.delphi.services import (
    ITEM_NOT_IN_ROUND,
    NOT_A_MEMBER,
    NOT_A_VOTER,
    ROUND_NOT_OPEN,
    VALUE_OUT_OF_RANGE,
    round_close,
    vote_cast,
)
from workshops.models import Round, Vote
from workshops.realtime import CLOSE_NOT_ALLOWED, CLOSE_NOT_SIGNED_IN, round_ws_path

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _immediate_broadcasts(settings):
    settings.DELPHI_PROGRESS_INTERVAL = 0


@pytest.fixture
def live(personas):
    return start_delphi(personas.cycle, personas.convener, capabilities=2, levels=2, live=True, live_quorum=1)


@pytest.fixture
def classic(personas):
    return start_delphi(personas.cycle, personas.convener, capabilities=2, levels=2)


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def communicator(round_id, cookie: str | None) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    return WebsocketCommunicator(application, round_ws_path(Round(pk=round_id)), headers=headers)


async def connect(round_id, cookie):
    ws = communicator(round_id, cookie)
    connected, _ = await ws.connect(timeout=5)
    assert connected
    snapshot = await ws.receive_json_from(timeout=5)
    assert snapshot["type"] == "snapshot"
    return ws, snapshot


async def drain(ws, timeout=0.3) -> list[dict]:
    # receive_nothing() waits without cancelling the application (a receive timeout would).
    messages = []
    while not await ws.receive_nothing(timeout=timeout):
        messages.append(await ws.receive_json_from())
    return messages


async def until(ws, kind: str, timeout=5) -> dict:
    async def _wait():
        while True:
            message = await ws.receive_json_from(timeout=timeout)
            if message["type"] == kind:
                return message

    return await asyncio.wait_for(_wait(), timeout)


@database_sync_to_async
def db_votes(round_id):
    return list(Vote.objects.filter(round_id=round_id).values_list("panellist_id", "item_id", "value"))


async def refused_with(round_id, cookie) -> int | None:
    """The close code of a refused socket: closed right after the handshake, nothing sent first."""
    ws = communicator(round_id, cookie)
    await ws.connect(timeout=5)
    message = await ws.receive_output(timeout=5)
    assert message["type"] == "websocket.close", message
    return message.get("code")


async def test_anonymous_visitors_are_refused_with_4401(classic):
    assert await refused_with(classic.round.pk, None) == CLOSE_NOT_SIGNED_IN == 4401


async def test_an_ended_session_is_refused_with_4401(personas, classic):
    cookie = await database_sync_to_async(session_cookie)(personas.technologist)
    await database_sync_to_async(Session.objects.filter(session_key=cookie).delete)()
    assert await refused_with(classic.round.pk, cookie) == CLOSE_NOT_SIGNED_IN


async def test_a_member_of_another_cycle_is_refused_with_4403(personas, classic):
    cookie = await database_sync_to_async(session_cookie)(personas.outsider)
    assert await refused_with(classic.round.pk, cookie) == CLOSE_NOT_ALLOWED == 4403


async def test_a_removed_member_and_a_missing_round_are_refused_with_4403(personas, classic):
    cookie = await database_sync_to_async(session_cookie)(personas.employer)
    await database_sync_to_async(
        lambda: Membership.objects.filter(user=personas.employer).update(status=Membership.Status.REMOVED)
    )()
    assert await refused_with(classic.round.pk, cookie) == CLOSE_NOT_ALLOWED
    convener = await database_sync_to_async(session_cookie)(personas.convener)
    assert await refused_with(classic.round.pk + 1000, convener) == CLOSE_NOT_ALLOWED


async def test_a_vote_updates_another_panellists_progress_without_revealing_who_voted(personas, live):
    tech_cookie = await database_sync_to_async(session_cookie)(personas.technologist)
    emp_cookie = await database_sync_to_async(session_cookie)(personas.employer)
    tech, _ = await connect(live.round.pk, tech_cookie)
    emp, emp_snapshot = await connect(live.round.pk, emp_cookie)
    assert emp_snapshot["progress"]["answers"][str(live.items[0].pk)] == 0

    await tech.send_json_to(
        {"type": "vote", "client_id": "t-1", "item": live.items[0].pk, "value": 2, "rationale": "Mine"}
    )
    ack = await until(tech, "ack")
    assert (ack["client_id"], ack["item"], ack["value"]) == ("t-1", live.items[0].pk, 2)

    progress = await until(emp, "progress")
    assert progress["answers"][str(live.items[0].pk)] == 1
    assert progress["panellists"]["started"] == 1
    assert progress["sequence"] >= ack["sequence"]
    # One frame per broadcast: the progress carries the distributions this viewer may see.
    assert str(live.items[0].pk) not in progress["distributions"]  # one answer: below the anonymity floor
    others = await database_sync_to_async(add_panellists)(personas.cycle, 2)
    for n, person in enumerate(others):
        await database_sync_to_async(vote_cast)(
            round_id=live.round.pk, panellist=person, item_id=live.items[0].pk, value=n
        )
    seen = [progress, *await drain(emp)]
    last = [m for m in seen if "distributions" in m][-1]
    assert last["distributions"][str(live.items[0].pk)] == [1, 1, 1, 0]  # three answers: shown
    text = json.dumps(seen)
    assert personas.technologist.email not in text and "Mine" not in text
    assert all("panellist" not in m and "user" not in m for m in seen)
    assert all(m["type"] == "progress" for m in seen)
    await tech.disconnect()
    await emp.disconnect()


async def test_a_classic_round_shows_progress_but_no_distribution_to_panellists(personas, classic):
    tech, _ = await connect(classic.round.pk, await database_sync_to_async(session_cookie)(personas.technologist))
    emp, snapshot = await connect(classic.round.pk, await database_sync_to_async(session_cookie)(personas.employer))
    assert snapshot["distributions"] is None
    await tech.send_json_to({"type": "vote", "client_id": "c-1", "item": classic.items[1].pk, "value": 3})
    await until(tech, "ack")
    messages = await drain(emp, timeout=0.5)
    assert [m["type"] for m in messages] == ["progress"]
    assert messages[0]["answers"][str(classic.items[1].pk)] == 1
    assert "distributions" not in messages[0]
    await tech.disconnect()
    await emp.disconnect()


async def test_the_convener_sees_live_distributions_even_in_a_classic_round(personas, classic):
    conv, snapshot = await connect(classic.round.pk, await database_sync_to_async(session_cookie)(personas.convener))
    assert snapshot["distributions"] == {}
    tech, _ = await connect(classic.round.pk, await database_sync_to_async(session_cookie)(personas.technologist))
    await tech.send_json_to({"type": "vote", "client_id": "c-1", "item": classic.items[0].pk, "value": 1})
    progress = await until(conv, "progress")
    assert progress["distributions"] == {str(classic.items[0].pk): [0, 1, 0, 0]}
    await tech.disconnect()
    await conv.disconnect()


async def test_a_broadcast_is_one_frame_and_unchanged_distributions_are_not_resent(personas, live, settings):
    settings.DELPHI_PROGRESS_INTERVAL = 0.05  # coalesced, as in production (0 sends every change whole)
    conv, _ = await connect(live.round.pk, await database_sync_to_async(session_cookie)(personas.convener))
    cast = database_sync_to_async(vote_cast)
    item = str(live.items[0].pk)
    await cast(round_id=live.round.pk, panellist=personas.technologist, item_id=live.items[0].pk, value=2)
    first = await until(conv, "progress")
    assert first["distributions"] == {item: [0, 0, 1, 0]}
    await drain(conv)
    # A new rationale for the same answer: the progress moves on, the counts stay.
    await cast(
        round_id=live.round.pk, panellist=personas.technologist, item_id=live.items[0].pk, value=2, rationale="why"
    )
    frames = await drain(conv, timeout=1.0)
    assert [m["type"] for m in frames] == ["progress"] and frames[0]["sequence"] > first["sequence"]
    assert "distributions" not in frames[0]  # the screen already shows these counts
    await cast(round_id=live.round.pk, panellist=personas.employer, item_id=live.items[0].pk, value=3)
    frames = await drain(conv, timeout=1.0)
    assert [m["type"] for m in frames] == ["progress"]
    assert frames[0]["distributions"] == {item: [0, 0, 1, 1]}
    await conv.disconnect()


async def assert_refused(ws, message: dict, code: str, text: str):
    await ws.send_json_to(message)
    reply = await until(ws, "error")
    assert (reply["client_id"], reply["code"], reply["message"]) == (message.get("client_id"), code, text)


async def test_votes_out_of_range_or_on_items_outside_the_round_are_refused_and_store_nothing(personas, classic):
    @database_sync_to_async
    def foreign_item():
        other = start_delphi(personas.other_cycle, personas.outsider, capabilities=1, levels=1)
        return other.items[0].pk

    other_item = await foreign_item()
    ws, _ = await connect(classic.round.pk, await database_sync_to_async(session_cookie)(personas.technologist))
    item = classic.items[0].pk
    await assert_refused(
        ws, {"type": "vote", "client_id": "a", "item": item, "value": 4}, "invalid_value", VALUE_OUT_OF_RANGE
    )
    await assert_refused(
        ws, {"type": "vote", "client_id": "b", "item": item, "value": -1}, "invalid_value", VALUE_OUT_OF_RANGE
    )
    await assert_refused(
        ws, {"type": "vote", "client_id": "c", "item": item, "value": "x"}, "invalid_value", VALUE_OUT_OF_RANGE
    )
    await assert_refused(
        ws, {"type": "vote", "client_id": "d", "item": other_item, "value": 2}, "item_not_in_round", ITEM_NOT_IN_ROUND
    )
    await assert_refused(
        ws, {"type": "vote", "client_id": "e", "item": 10**9, "value": 2}, "item_not_in_round", ITEM_NOT_IN_ROUND
    )
    await assert_refused(ws, {"type": "vote", "item": item, "value": 2}, "invalid_request", BAD_VOTE)
    assert await db_votes(classic.round.pk) == []
    await ws.disconnect()


async def test_a_vote_on_a_closed_round_is_refused_and_stores_nothing(personas, classic):
    ws, _ = await connect(classic.round.pk, await database_sync_to_async(session_cookie)(personas.technologist))
    await database_sync_to_async(round_close)(round_id=classic.round.pk, actor=personas.convener)
    closed = await until(ws, "round_closed")
    assert closed["round"] == classic.round.pk
    await assert_refused(
        ws,
        {"type": "vote", "client_id": "late", "item": classic.items[0].pk, "value": 1},
        "round_closed",
        ROUND_NOT_OPEN,
    )
    assert await db_votes(classic.round.pk) == []
    await ws.disconnect()


async def test_a_member_removed_during_the_round_and_a_non_voting_role_are_refused(personas, classic):
    tech, _ = await connect(classic.round.pk, await database_sync_to_async(session_cookie)(personas.technologist))
    observer, _ = await connect(classic.round.pk, await database_sync_to_async(session_cookie)(personas.observer))
    await assert_refused(
        observer,
        {"type": "vote", "client_id": "o", "item": classic.items[0].pk, "value": 1},
        "not_a_voter",
        NOT_A_VOTER,
    )
    await database_sync_to_async(
        lambda: Membership.objects.filter(user=personas.technologist).update(status=Membership.Status.REMOVED)
    )()
    await assert_refused(
        tech, {"type": "vote", "client_id": "t", "item": classic.items[0].pk, "value": 1}, "not_a_member", NOT_A_MEMBER
    )
    assert await db_votes(classic.round.pk) == []
    await tech.disconnect()
    await observer.disconnect()


async def test_resending_a_client_id_returns_the_same_ack_and_counts_once(personas, classic):
    ws, _ = await connect(classic.round.pk, await database_sync_to_async(session_cookie)(personas.technologist))
    vote = {"type": "vote", "client_id": "same-1", "item": classic.items[0].pk, "value": 2}
    await ws.send_json_to(vote)
    first = await until(ws, "ack")
    await ws.send_json_to({**vote, "value": 3})  # a resend carries the same id; the first answer stands
    second = await until(ws, "ack")
    assert first == second
    assert await db_votes(classic.round.pk) == [(personas.technologist.pk, classic.items[0].pk, 2)]
    sequence = await database_sync_to_async(lambda: Round.objects.get(pk=classic.round.pk).sequence)()
    assert sequence == first["sequence"]
    await ws.disconnect()


async def test_a_reconnect_yields_a_snapshot_equal_to_the_database(personas, live):
    cookie = await database_sync_to_async(session_cookie)(personas.technologist)
    ws, _ = await connect(live.round.pk, cookie)
    for n, item in enumerate(live.items):
        await ws.send_json_to(
            {"type": "vote", "client_id": f"v{n}", "item": item.pk, "value": n % 4, "rationale": f"r{n}"}
        )
        await until(ws, "ack")
    await ws.send_json_to({"type": "vote", "client_id": "v-change", "item": live.items[0].pk, "value": 3})
    await until(ws, "ack")
    other = await database_sync_to_async(add_panellists)(personas.cycle, 1)
    await database_sync_to_async(vote_cast)(
        round_id=live.round.pk, panellist=other[0], item_id=live.items[1].pk, value=0
    )
    await ws.disconnect()

    ws, snapshot = await connect(live.round.pk, cookie)

    @database_sync_to_async
    def expected():
        rnd = Round.objects.get(pk=live.round.pk)
        mine = {
            str(i): {"value": v, "rationale": r}
            for i, v, r in Vote.objects.filter(round=rnd, panellist=personas.technologist).values_list(
                "item_id", "value", "rationale"
            )
        }
        answers = {str(item.pk): Vote.objects.filter(round=rnd, item=item).count() for item in live.items}
        dist = {}
        for item in live.items:
            counts = [Vote.objects.filter(round=rnd, item=item, value=v).count() for v in range(4)]
            if sum(counts) >= MIN_ANSWERS_SHOWN:  # a panellist's snapshot: the anonymity floor
                dist[str(item.pk)] = counts
        return rnd.sequence, mine, answers, dist

    sequence, mine, answers, dist = await expected()
    assert snapshot["sequence"] == sequence
    assert snapshot["mine"] == mine
    assert snapshot["progress"]["answers"] == answers
    assert snapshot["distributions"] == dist
    assert snapshot["progress"]["panellists"]["started"] == 2
    await ws.send_json_to({"type": "resync"})
    again = await until(ws, "snapshot")
    assert again == snapshot
    await ws.disconnect()


async def test_coalesced_broadcasts_still_deliver_the_last_change(personas, live, settings):
    settings.DELPHI_PROGRESS_INTERVAL = 0.05
    tech, _ = await connect(live.round.pk, await database_sync_to_async(session_cookie)(personas.technologist))
    emp, _ = await connect(live.round.pk, await database_sync_to_async(session_cookie)(personas.employer))
    for n, item in enumerate(live.items):
        await tech.send_json_to({"type": "vote", "client_id": f"burst{n}", "item": item.pk, "value": 1})
    for _ in live.items:
        await until(tech, "ack")
    messages = [m for m in await drain(emp, timeout=0.5) if m["type"] == "progress"]
    assert messages, "no progress arrived"
    assert messages[-1]["panellists"]["finished"] == 1
    assert all(v == 1 for v in messages[-1]["answers"].values())
    await tech.disconnect()
    await emp.disconnect()


async def test_unknown_messages_get_a_clear_error(personas, classic):
    ws, _ = await connect(classic.round.pk, await database_sync_to_async(session_cookie)(personas.technologist))
    await ws.send_json_to({"type": "dance"})
    reply = await until(ws, "error")
    assert reply["code"] == "invalid_request"
    await ws.disconnect()

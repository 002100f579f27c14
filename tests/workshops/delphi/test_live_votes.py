"""The socket's votes on the event loop (workshops.delphi.live_votes): PostgreSQL only.

Every websocket test of test_websocket.py runs again here with votes stored by the asyncio
statement instead of ``vote_cast`` on a thread (the refusals, resends and snapshots still go
through the synchronous service), plus what only this path has.
"""

import pytest
from channels.db import database_sync_to_async
from django.db import connection

from tests.workshops.delphi.test_websocket import *  # noqa: F403 - the same tests, on the asyncio path
from tests.workshops.delphi.test_websocket import _immediate_broadcasts, connect, db_votes, session_cookie, until  # noqa: F401
from workshops.delphi import live_votes
from workshops.models import Round, VoteReceipt

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the asyncio vote path is PostgreSQL's"),
]


@pytest.fixture(autouse=True)
def _votes_on_the_loop(settings):
    settings.DELPHI_ASYNC_VOTES = True
    yield


async def test_a_vote_is_stored_and_acknowledged_by_the_asyncio_statement(personas, live, monkeypatch):
    calls = []
    real = live_votes.VoteConnections.cast

    async def counted(self, params):
        stored = await real(self, params)
        calls.append(stored)
        return stored

    monkeypatch.setattr(live_votes.VoteConnections, "cast", counted)
    tech, _ = await connect(live.round.pk, await database_sync_to_async(session_cookie)(personas.technologist))
    emp, _ = await connect(live.round.pk, await database_sync_to_async(session_cookie)(personas.employer))
    await tech.send_json_to({"type": "vote", "client_id": "loop-1", "item": live.items[0].pk, "value": 2})
    ack = await until(tech, "ack")
    assert len(calls) == 1 and calls[0][1] == ack["sequence"]  # stored here, not by the fallback
    assert await db_votes(live.round.pk) == [(personas.technologist.pk, live.items[0].pk, 2)]

    @database_sync_to_async
    def stored():
        receipt = VoteReceipt.objects.get(client_id="loop-1")
        return receipt.sequence, Round.objects.get(pk=live.round.pk).sequence

    receipt_sequence, round_sequence = await stored()
    assert receipt_sequence == round_sequence == ack["sequence"]
    progress = await until(emp, "progress")
    assert progress["sequence"] == ack["sequence"]
    assert progress["answers"][str(live.items[0].pk)] == 1
    await tech.disconnect()
    await emp.disconnect()


async def test_a_database_that_cannot_be_reached_answers_unavailable_and_stores_nothing(personas, live, monkeypatch):
    real = live_votes.VoteConnections._connect

    async def refused(self):
        conn, opened_at = await real(self)
        await conn.close()  # the server went away between connecting and the statement
        return conn, opened_at

    monkeypatch.setattr(live_votes.VoteConnections, "_connect", refused)
    tech, _ = await connect(live.round.pk, await database_sync_to_async(session_cookie)(personas.technologist))
    await tech.send_json_to({"type": "vote", "client_id": "gone-1", "item": live.items[0].pk, "value": 1})
    error = await until(tech, "error")
    assert error["code"] == "unavailable" and error["retry"] is True
    assert await db_votes(live.round.pk) == []
    monkeypatch.setattr(live_votes.VoteConnections, "_connect", real)
    await tech.send_json_to({"type": "vote", "client_id": "gone-1", "item": live.items[0].pk, "value": 1})
    assert (await until(tech, "ack"))["client_id"] == "gone-1"
    assert await db_votes(live.round.pk) == [(personas.technologist.pk, live.items[0].pk, 1)]
    await tech.disconnect()


async def test_a_vote_connection_the_database_terminated_answers_unavailable_then_the_resend_is_stored_once(
    personas, live
):
    live_votes.vote_connections().max_age = 60  # kept between votes, as with services mode's CONN_MAX_AGE
    try:
        await _vote_through_a_terminated_connection(personas, live)
    finally:
        await live_votes.close_vote_connections()


async def _vote_through_a_terminated_connection(personas, live):
    tech, _ = await connect(live.round.pk, await database_sync_to_async(session_cookie)(personas.technologist))
    await tech.send_json_to({"type": "vote", "client_id": "kept-1", "item": live.items[0].pk, "value": 1})
    assert (await until(tech, "ack"))["client_id"] == "kept-1"
    backends = [conn.info.backend_pid for conn, _ in live_votes.vote_connections().idle]
    assert backends  # the vote's connection is kept for the next vote

    @database_sync_to_async
    def terminate():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", [backends])

    await terminate()  # a restart or failover: the kept connection is gone
    await tech.send_json_to({"type": "vote", "client_id": "kept-2", "item": live.items[1].pk, "value": 3})
    error = await until(tech, "error")
    assert (error["code"], error["client_id"], error["retry"]) == ("unavailable", "kept-2", True)
    assert sorted(await db_votes(live.round.pk)) == [(personas.technologist.pk, live.items[0].pk, 1)]
    await tech.send_json_to({"type": "vote", "client_id": "kept-2", "item": live.items[1].pk, "value": 3})
    assert (await until(tech, "ack"))["client_id"] == "kept-2"
    assert sorted(await db_votes(live.round.pk)) == sorted(
        [(personas.technologist.pk, live.items[0].pk, 1), (personas.technologist.pk, live.items[1].pk, 3)]
    )
    await tech.disconnect()

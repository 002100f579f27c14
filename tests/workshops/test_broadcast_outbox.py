"""A Celery worker's broadcasts reach the web server's sockets in the embedded default (issue 12).

An in-memory channel layer lives inside one process, so a worker process writes its broadcasts to
the outbox (``core.models.Broadcast``) and the web process relays them onto its own layer
(``workshops.realtime``). Here one process plays both: the worker's flag is set for the write, the
sockets connect through the real ASGI application. With Redis (services mode) the same broadcasts
go straight through the layer and the outbox stays empty.
"""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.utils import timezone

from core.models import Broadcast
from tests.workshops.delphi.factories import fast_passwords, start_delphi  # noqa: F401
from tests.workshops.delphi.test_websocket import connect, drain, session_cookie, until
from workshops import realtime
from workshops.delphi.realtime import round_group
from workshops.delphi.services import round_discuss, rounds_close_due
from workshops.models import Round

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _immediate_broadcasts(settings):
    settings.DELPHI_PROGRESS_INTERVAL = 0


@pytest.fixture
def in_worker(monkeypatch):
    """What config/celery.py does as a worker process starts (tests/e2e/test_worker_broadcasts.py
    proves it on a real worker)."""
    monkeypatch.setattr(realtime, "_outside_web_server", False)
    realtime.outside_the_web_server()


@pytest.fixture
def live(personas):
    return start_delphi(personas.cycle, personas.convener, capabilities=2, levels=2, live=True, live_quorum=1)


def _through_outbox() -> bool:
    return isinstance(get_channel_layer(), InMemoryChannelLayer)


@database_sync_to_async
def _close_at_deadline(round_id: int) -> list[int]:
    """What beat's ``workshops.tasks.close_due_rounds`` does once the deadline has passed."""
    Round.objects.filter(pk=round_id).update(deadline=timezone.now() - timedelta(minutes=1))
    return rounds_close_due()


async def test_a_round_closed_by_the_worker_reaches_the_open_socket(personas, live, in_worker):
    ws, snapshot = await connect(live.round.pk, await database_sync_to_async(session_cookie)(personas.technologist))
    assert snapshot["status"] == "open"

    assert await _close_at_deadline(live.round.pk) == [live.round.pk]

    closed = await until(ws, "round_closed")
    assert closed["round"] == live.round.pk
    assert closed["sequence"] > snapshot["sequence"]
    written = await database_sync_to_async(lambda: set(Broadcast.objects.values_list("group", flat=True)))()
    assert written == ({round_group(live.round.pk)} if _through_outbox() else set())
    await ws.disconnect()
    assert realtime.process_groups().relay is None, "the relay stops with the last socket"


async def test_a_socket_gets_what_the_worker_sends_after_it_joined_and_nothing_from_before(personas, live, in_worker):
    first, second = live.items[0].pk, live.items[1].pk
    await database_sync_to_async(round_discuss)(round_id=live.round.pk, actor=personas.convener, item_id=first)
    ws, snapshot = await connect(live.round.pk, await database_sync_to_async(session_cookie)(personas.technologist))
    assert snapshot["discussing"] == first
    # Several polls pass: a row written before the socket joined is not replayed.
    assert [m for m in await drain(ws, timeout=3 * realtime.OUTBOX_POLL_SECONDS) if m["type"] == "discussing"] == []

    await database_sync_to_async(round_discuss)(round_id=live.round.pk, actor=personas.convener, item_id=second)

    discussing = await until(ws, "discussing")
    assert discussing["item"] == second
    later = [m for m in await drain(ws, timeout=3 * realtime.OUTBOX_POLL_SECONDS) if m["type"] == "discussing"]
    assert later == [], "each broadcast is relayed once"
    await ws.disconnect()


def test_the_worker_deletes_rows_every_server_has_long_read(monkeypatch, in_worker):
    monkeypatch.setattr(realtime, "_outbox_pruned_at", 0.0)
    old = Broadcast.objects.create(
        group="round-1",
        message={"type": "round.closed", "payload": {}},
        created_at=timezone.now() - timedelta(seconds=realtime.OUTBOX_KEEP_SECONDS + 1),
    )
    recent = Broadcast.objects.create(group="round-1", message={"type": "round.closed", "payload": {}})

    realtime.outbox_write("round-2", {"type": "round.closed", "payload": {"round": 2}})

    left = list(Broadcast.objects.order_by("id").values_list("id", "group"))
    assert left[0] == (recent.pk, "round-1")
    assert left[1:] == [(left[1][0], "round-2")]
    assert not Broadcast.objects.filter(pk=old.pk).exists()


async def test_a_round_closed_by_the_cron_command_reaches_the_open_socket(personas, live, monkeypatch):
    """``manage.py close_due_rounds`` from cron is a process of its own, like a worker."""
    from django.core.management import call_command

    monkeypatch.setattr(realtime, "_outside_web_server", False)
    ws, snapshot = await connect(live.round.pk, await database_sync_to_async(session_cookie)(personas.technologist))
    await database_sync_to_async(
        lambda: Round.objects.filter(pk=live.round.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    )()

    await database_sync_to_async(call_command)("close_due_rounds")

    closed = await until(ws, "round_closed")
    assert closed["round"] == live.round.pk
    if _through_outbox():
        assert await database_sync_to_async(Broadcast.objects.count)() >= 1
    assert realtime._outside_web_server is False, "the command leaves the process as it found it"
    await ws.disconnect()

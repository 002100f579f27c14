"""Live Delphi events: the round's group, and coalesced broadcasts of its state.

A vote changes the round's progress; sending a message to every connected screen for every vote
would cost (votes × screens) frames, which a room of 200 panellists voting at once cannot afford.
So a change only *announces* the round: within ``DELPHI_PROGRESS_INTERVAL`` seconds (default
0.5 s) the server reads the round's state once and sends one message to the group, which each
screen forwards as one ``progress`` frame (with the distributions its viewer may see). The state
is read after the change committed, so the last change of a burst is always included; clients
order messages by ``sequence``.

With several server processes sharing a Redis channel layer, each process coalesces the changes
it saw on its own timer, so every screen would get the round's state once per process per
interval. A short Redis lease per round (``SET NX PX interval``) lets one process broadcast per
interval; a process that finds the lease taken tries again when it expires, and skips the send
if the state it reads is the one already broadcast (a digest kept beside the lease).

The interval grows with the room: ``DELPHI_PROGRESS_INTERVAL`` up to ``ROOM_SCREENS_PER_INTERVAL``
eligible panellists, proportionally longer above (at most ``MAX_INTERVAL_FACTOR`` times), so the
frames a vote costs stay bounded however many screens watch. Distributions whose counts did not
change since the round's last broadcast are not sent again: the frame is the progress alone (the
digests of what was sent are kept beside the lease, per part).

Broadcasts are best-effort: a failure is logged and never reaches the vote that caused it; a
client that missed messages asks for a snapshot (``resync``).
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import json
import logging
import os
import threading
from contextlib import contextmanager

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import InterfaceError, OperationalError, connection

from workshops.realtime import group_message, group_name, send_after_commit

logger = logging.getLogger(__name__)

GROUP_KIND = "round"


def round_group(round_id: int) -> str:
    """``round-<id>``: the one group of a round's live screens."""
    return group_name(GROUP_KIND, round_id)


#: Up to this many eligible panellists a round is broadcast every DELPHI_PROGRESS_INTERVAL.
ROOM_SCREENS_PER_INTERVAL = 100
MAX_INTERVAL_FACTOR = 5
_room_size: dict[int, int] = {}


def _interval(round_id: int | None = None) -> float:
    base = float(settings.DELPHI_PROGRESS_INTERVAL)
    screens = _room_size.get(round_id, 0) if round_id is not None else 0
    return base * min(max(screens / ROOM_SCREENS_PER_INTERVAL, 1.0), MAX_INTERVAL_FACTOR)


def round_state_messages(round_id: int) -> list[dict]:
    """Group messages describing the round now (its state, and whether it closed)."""
    from workshops.delphi.selectors import (
        default_plan,
        distributions_visible,
        public_quorum,
        round_progress,
        round_tallies,
    )
    from workshops.models import DelphiPlan, Round

    rnd = Round.objects.select_related("cycle__delphi_plan").get(pk=round_id)  # the round and its plan: one query
    try:
        plan = rnd.cycle.delphi_plan
    except DelphiPlan.DoesNotExist:
        plan = default_plan(rnd.cycle)  # none saved (the join found none): the defaults
    counts, cant_judge = round_tallies(round_id)
    progress = round_progress(rnd=rnd, plan=plan, counts=counts, cant_judge=cant_judge)
    progress["revealed"] = rnd.results_revealed
    quorum = public_quorum(plan)  # never fewer answers than the anonymity floor
    # One group message carries the round's state as frames already encoded (one json.dumps per
    # broadcast instead of one per screen), and each screen gets one frame of it: the progress,
    # with the distributions its viewer may see (the convener's, or the public ones) when any.
    items_all = {str(k): v for k, v in counts.items() if sum(v) > 0}
    items_public = {str(k): v for k, v in counts.items() if sum(v) >= quorum}
    public = distributions_visible(rnd=rnd, plan=plan, is_convener=False)
    _room_size[round_id] = progress["panellists"]["eligible"]
    messages = [
        {
            "type": "round.state",
            "progress": json.dumps(progress),
            "progress_all": json.dumps({**progress, "distributions": items_all}),
            "progress_public": json.dumps({**progress, "distributions": items_public}) if public else None,
        }
    ]
    if rnd.status == Round.Status.CLOSED:
        messages.append(
            {
                "type": "round.closed",
                "payload": {"type": "round_closed", "round": rnd.pk, "sequence": progress["sequence"]},
            }
        )
    return messages


def discussing_message(rnd) -> dict:
    """The ``discussing`` message: the item the room is discussing (or null), at the round's sequence."""
    return {"type": "discussing", "item": rnd.discussing_id, "sequence": rnd.sequence}


def announce_discussing(rnd) -> None:
    """Tell every screen of the round, once committed, which item the room discusses now. Sent at
    once, not coalesced: it is one message per click of the convener, and phones jump on it."""
    send_after_commit(round_group(rnd.pk), {"type": "round.discussing", "payload": discussing_message(rnd)})


# --- Coalescing ----------------------------------------------------------------------------------

_loop: asyncio.AbstractEventLoop | None = None
_pending: set[int] = set()
_last_sent: dict[int, float] = {}
_local = threading.local()


def register_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Called by the consumer: broadcasts of this process are coalesced on the server's loop."""
    global _loop
    _loop = loop


def announce_round_change(round_id: int) -> None:
    """Something in the round changed and is committed. Never raises."""
    try:
        batch = getattr(_local, "batch", None)
        if batch is not None:
            batch.add(round_id)
            return
        interval = _interval(round_id)
        loop = _loop
        if interval > 0 and loop is not None and loop.is_running():
            # A fresh context: the caller's (a sync_to_async worker) must not leak into the flush task.
            loop.call_soon_threadsafe(_schedule, loop, round_id, interval, context=contextvars.Context())
        else:
            broadcast_round_state(round_id)
    except Exception:  # noqa: BLE001 - best effort: the vote is committed whatever happens here
        logger.exception("Announcing a change of round %s failed", round_id)


async def announce_round_change_from_loop(round_id: int) -> None:
    """``announce_round_change`` from a coroutine on the server's loop (a vote stored there):
    scheduled without a thread hop; sent at once (through a thread) when nothing is coalesced."""
    try:
        interval = _interval(round_id)
        loop = asyncio.get_running_loop()
        if interval > 0 and loop is _loop and getattr(_local, "batch", None) is None:
            _schedule(loop, round_id, interval)
            return
        await database_sync_to_async(announce_round_change)(round_id)
    except Exception:  # noqa: BLE001 - best effort: the vote is committed whatever happens here
        logger.exception("Announcing a change of round %s failed", round_id)


def broadcast_round_state(round_id: int) -> None:
    """Send the round's state now, from synchronous code."""
    try:
        for message in round_state_messages(round_id):
            send_after_commit(round_group(round_id), message)
    except Exception:  # noqa: BLE001
        logger.exception("Broadcasting round %s failed", round_id)


def _schedule(loop: asyncio.AbstractEventLoop, round_id: int, interval: float, wait: float | None = None) -> None:
    if round_id in _pending:
        return
    _pending.add(round_id)
    if wait is None:
        wait = max(0.0, _last_sent.get(round_id, 0.0) + interval - loop.time())
    loop.call_later(wait, lambda: loop.create_task(_flush(loop, round_id), context=contextvars.Context()))


_FLUSH_RETRIES = 5
_failures: dict[int, int] = {}


def _read_round_state(round_id: int) -> list[dict]:
    try:
        return round_state_messages(round_id)
    except (InterfaceError, OperationalError):
        # The database dropped this thread's persistent connection (restart, failover): the last
        # change of a burst must still reach the screens, so read again on a fresh connection.
        connection.close()
        return round_state_messages(round_id)


# --- One broadcaster per round across server processes ------------------------------------------

_redis_client = None
_redis_lock = threading.Lock()


def _shared_redis():
    """The Redis the server processes share (services mode), or None with one process."""
    global _redis_client
    url = getattr(settings, "REDIS_URL", None)
    if not url:
        return None
    with _redis_lock:
        if _redis_client is None:
            import redis

            _redis_client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        return _redis_client


def _keys(round_id: int) -> tuple[str, str]:
    # The database name keeps separate installations (and test databases) on one Redis apart.
    base = f"delphi:broadcast:{settings.DATABASES['default'].get('NAME')}:{round_id}"
    return f"{base}:lease", f"{base}:sent"


# The frames that carry distributions besides the progress (``progress`` alone is always there).
_DISTRIBUTIONS = ("progress_all", "progress_public")
# Without Redis (one process) the digests of what was sent stay in this process.
_sent_here: dict[int, dict[str, str]] = {}


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def _part_digests(messages: list[dict]) -> dict[str, str]:
    """Digests of the broadcast's parts: everything but the distributions, and each distribution's
    counts (its sequence left out: a vote elsewhere must not make unchanged counts look new)."""
    state = messages[0]
    digests = {"state": _digest([{k: v for k, v in m.items() if k not in _DISTRIBUTIONS} for m in messages])}
    for key in _DISTRIBUTIONS:
        if state.get(key) is not None:
            digests[key] = _digest(json.loads(state[key])["distributions"])
    return digests


def _sent_digests(client, round_id: int) -> dict[str, str]:
    if client is None:
        return _sent_here.get(round_id, {})
    return {k.decode(): v.decode() for k, v in client.hgetall(_keys(round_id)[1]).items()}


def _claim_and_read(round_id: int, interval: float) -> tuple[list[dict], float]:
    """The messages this process should send now, and how long to wait before trying again.

    ``([], wait)`` with ``wait > 0``: another process holds the round's lease; try again then.
    ``([], 0)``: the state is the one another process already sent; nothing to do.
    """
    client = _shared_redis()
    if client is not None:
        lease = _keys(round_id)[0]
        if not client.set(lease, os.getpid(), nx=True, px=max(int(interval * 1000), 1)):
            remaining = client.pttl(lease)
            return [], max(remaining, 1) / 1000 if remaining > 0 else 0.001
    messages = _read_round_state(round_id)
    digests = _part_digests(messages)
    sent = _sent_digests(client, round_id)
    if sent.get("state") == digests["state"]:
        return [], 0.0
    state = messages[0]
    for key in _DISTRIBUTIONS:
        if key in digests and sent.get(key) == digests[key]:
            state[key] = None  # the screens already show these counts: the progress alone
    state["digests"] = digests
    return messages, 0.0


def _remember_sent(round_id: int, messages: list[dict], interval: float) -> None:
    # Only after the send succeeded: a failed send is retried and must not then be skipped.
    if not messages:
        return
    digests = messages[0].get("digests") or _part_digests(messages)
    client = _shared_redis()
    if client is None:
        _sent_here[round_id] = digests
        return
    key = _keys(round_id)[1]
    pipe = client.pipeline(transaction=True)
    pipe.delete(key)
    pipe.hset(key, mapping=digests)
    pipe.expire(key, max(60, int(interval * 20)))
    pipe.execute()


async def _flush(loop: asyncio.AbstractEventLoop, round_id: int) -> None:
    # Cleared before reading, so a change committed while we read schedules another flush.
    _pending.discard(round_id)
    _last_sent[round_id] = loop.time()
    try:
        interval = _interval(round_id)
        messages, retry_in = await database_sync_to_async(_claim_and_read)(round_id, interval)
        if retry_in > 0:
            # Another process is broadcasting this round: ours follows once its lease ends, and
            # reads the state then, so a change made here in the meantime is not left out.
            _schedule(loop, round_id, interval, wait=retry_in)
            return
        layer = get_channel_layer()
        for message in messages:
            await layer.group_send(round_group(round_id), group_message(round_group(round_id), message))
        if messages:
            await sync_to_async(_remember_sent, thread_sensitive=False)(round_id, messages, interval)
        _failures.pop(round_id, None)
    except ObjectDoesNotExist:
        _failures.pop(round_id, None)  # the round was deleted: no screen is left to tell
    except Exception:  # noqa: BLE001
        logger.exception("Broadcasting round %s failed", round_id)
        # Nothing else may change in the round for a while, so a lost broadcast would leave every
        # screen behind: try again (bounded, backing off) once Redis or the database is back.
        failures = _failures.get(round_id, 0) + 1
        if failures <= _FLUSH_RETRIES:
            _failures[round_id] = failures
            _schedule(loop, round_id, _interval(round_id) * 2**failures)
        else:
            _failures.pop(round_id, None)


@contextmanager
def batched_announcements():
    """Collect announcements (e.g. a simulation casting thousands of votes) and send each round once."""
    outer = getattr(_local, "batch", None)
    _local.batch = set() if outer is None else outer
    try:
        yield
    finally:
        if outer is None:
            batch, _local.batch = _local.batch, None
            for round_id in sorted(batch):
                broadcast_round_state(round_id)

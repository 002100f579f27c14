"""A round's broadcast reaches every socket on two server processes exactly once per interval.

Real processes on real Redis (the fault tests' stack): two daphne servers share the channel layer,
each with open screens of one round; panellists vote on both. Each server process receives a
round's broadcast once (its one subscription) and writes it to each of its sockets; one process
broadcasts per interval (the lease). So every screen, on either server, sees the same broadcasts,
each once, and no more of them than intervals passed.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter

import pytest
from websockets.asyncio.client import connect

from tests.faults.wsclient import Panellist, plan_votes

pytestmark = pytest.mark.faults

SCREENS_PER_SERVER = 10
VOTERS = 10
INTERVAL = 0.5  # DELPHI_PROGRESS_INTERVAL's default, which the stack's servers run with


async def _watch_and_vote(stack, live: dict) -> tuple[list[Panellist], list[Panellist], float]:
    people = live["panellists"]
    url = f"/ws/rounds/{live['round_id']}/"
    screens = [
        Panellist(
            name=person["email"],
            session=person["session"],
            url=stack.ws_url(url, n % 2),
            origin=stack.origin(n % 2),
            votes=[],
            keep_messages=True,
        )  # fmt: skip
        for n, person in enumerate(people[: 2 * SCREENS_PER_SERVER])
    ]
    rng = random.Random(16)
    voters = [
        Panellist(
            name=person["email"],
            session=person["session"],
            url=stack.ws_url(url, n % 2),
            origin=stack.origin(n % 2),
            votes=plan_votes(tag=f"b{person['id']}", items=live["items"], rng=rng),
            pace=0.3,
        )  # fmt: skip
        for n, person in enumerate(people[2 * SCREENS_PER_SERVER :])
    ]
    deadline = time.monotonic() + 120
    everyone_done = asyncio.Event()
    for client in [*screens, *voters]:
        client.linger = everyone_done
    watching = [asyncio.create_task(s.run(deadline=deadline)) for s in screens]
    while not all(s.snapshots for s in screens) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    started = time.monotonic()
    voting = [asyncio.create_task(v.run(deadline=deadline)) for v in voters]
    while not all(v.done for v in voters) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    final = max(ack["sequence"] for v in voters for ack in v.acked.values())
    # The last change of the burst is always broadcast: wait for it on every screen.
    while not all(s.shown_sequence >= final for s in screens) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    elapsed = time.monotonic() - started
    await asyncio.sleep(3 * INTERVAL)  # anything sent twice would arrive by now
    everyone_done.set()
    await asyncio.gather(*watching, *voting)
    return screens, voters, elapsed


def test_a_rounds_broadcast_reaches_every_socket_on_two_servers_exactly_once_per_interval(stack):
    panel = stack.django("create_panel", slug="broadcast-once", panellists=2 * SCREENS_PER_SERVER + VOTERS)
    live = {
        **panel,
        **stack.django("open_round", cycle_id=panel["cycle_id"], convener_id=panel["convener"]["id"], capabilities=5),
    }
    screens, voters, elapsed = asyncio.run(_watch_and_vote(stack, live))

    assert all(s.connects == 1 for s in [*screens, *voters]), "a socket dropped: the count would be off"
    votes = sum(len(v.acked) for v in voters)
    final = max(ack["sequence"] for v in voters for ack in v.acked.values())
    received = [Counter(m["sequence"] for m in s.seen if m["type"] == "progress") for s in screens]
    broadcasts = set().union(*received)
    print(
        f"\n[broadcast] {votes} votes in {elapsed:.1f} s, {len(broadcasts)} broadcasts, "
        f"{len(screens)} screens on 2 servers, {sum(s.messages.total() for s in screens)} frames to screens"
    )
    assert final in broadcasts
    duplicated = [(s.name, seq, n) for s, got in zip(screens, received, strict=True) for seq, n in got.items() if n > 1]
    assert duplicated == [], f"screens got a broadcast more than once: {duplicated[:5]}"
    missing = [(s.name, sorted(broadcasts - got.keys())) for s, got in zip(screens, received, strict=True)]
    assert [m for m in missing if m[1]] == [], "a screen missed a broadcast another screen got"
    # One broadcaster per interval across both processes (a broadcast per process would double it).
    assert len(broadcasts) <= elapsed / INTERVAL + 2, (len(broadcasts), elapsed)
    assert len(broadcasts) < votes, "broadcasts were not coalesced"


IDLE = 12.0  # longer than redis-py's and channels-redis's 5 s read and BZPOPMIN timeouts together


async def _idle_then_vote(stack, live: dict) -> tuple[list[Panellist], Panellist]:
    url = f"/ws/rounds/{live['round_id']}/"
    people = live["panellists"]
    screens = [
        Panellist(name=p["email"], session=p["session"], url=stack.ws_url(url, n), origin=stack.origin(n), votes=[])
        for n, p in enumerate(people[:2])
    ]
    voter = Panellist(
        name=people[2]["email"], session=people[2]["session"], url=stack.ws_url(url, 0), origin=stack.origin(0),
        votes=plan_votes(tag="idle", items=live["items"][:1], rng=random.Random(5)),
    )  # fmt: skip
    deadline = time.monotonic() + 60
    everyone_done = asyncio.Event()
    for client in [*screens, voter]:
        client.linger = everyone_done
    tasks = [asyncio.create_task(s.run(deadline=deadline)) for s in screens]
    while not all(s.snapshots for s in screens) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(IDLE)
    tasks.append(asyncio.create_task(voter.run(deadline=deadline)))
    while not (voter.done and all(s.shown_sequence >= 1 for s in screens)) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    everyone_done.set()
    await asyncio.gather(*tasks)
    return screens, voter


def test_an_idle_screen_keeps_receiving_broadcasts_after_the_redis_read_timeouts(stack):
    panel = stack.django("create_panel", slug="broadcast-idle", panellists=3)
    live = {
        **panel,
        **stack.django("open_round", cycle_id=panel["cycle_id"], convener_id=panel["convener"]["id"], capabilities=1),
    }
    tracebacks = sum(d.log_text().count("Traceback") for d in stack.daphnes)
    screens, voter = asyncio.run(_idle_then_vote(stack, live))
    assert voter.acked, "the vote after the idle wait was not acknowledged"
    assert [s.connects for s in screens] == [1, 1], "an idle socket was dropped"
    assert all(s.shown_sequence >= 1 for s in screens), "an idle screen missed the broadcast after the wait"
    assert sum(d.log_text().count("Traceback") for d in stack.daphnes) == tracebacks, stack.daphnes[0].log_tail()


async def _idle_capture_screen(stack, panel: dict) -> list[dict]:
    convener = panel["convener"]
    async with connect(
        stack.ws_url(f"/ws/cycles/{panel['slug']}/capture/"),
        origin=stack.origin(),
        additional_headers={"Cookie": f"sessionid={convener['session']}"},
    ) as socket:
        frames = [json.loads(await asyncio.wait_for(socket.recv(), 10))]
        await asyncio.sleep(IDLE)
        await asyncio.to_thread(
            stack.django,
            "submit_capability",
            cycle_id=panel["cycle_id"],
            actor_id=convener["id"],
            statement="Monitor cleanroom particle counts against the batch record.",
        )
        frames.append(json.loads(await asyncio.wait_for(socket.recv(), 20)))
        return frames


def test_an_idle_capture_screen_still_hears_the_next_statement(stack):
    panel = stack.django("create_panel", slug="capture-idle", panellists=1)
    tracebacks = sum(d.log_text().count("Traceback") for d in stack.daphnes)
    hello, event = asyncio.run(_idle_capture_screen(stack, panel))
    assert hello["type"] == "hello"
    assert event["type"] == "capture" and event["action"] == "submitted", event
    assert [c["statement"] for c in event["capabilities"]] == [
        "Monitor cleanroom particle counts against the batch record."
    ]
    assert sum(d.log_text().count("Traceback") for d in stack.daphnes) == tracebacks, stack.daphnes[0].log_tail()

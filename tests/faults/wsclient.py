"""A panellist's browser, reduced to its websocket: the reconnect and resend rules of docs/realtime.md.

Each panellist has a list of votes to cast (some items twice, as people change their minds). It sends
them a few at a time, each with its own ``client_id``; a vote is done only when its ``ack`` arrives.
When the connection drops (server restarted, Redis gone) it reconnects with backoff, waits for the
snapshot, and resends every vote it has not seen acknowledged, in the original order: the server
answers a resent client id with the first acknowledgement, so nothing counts twice. An ``error``
with ``retry`` is sent again after a pause; any other error is recorded as final.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus


@dataclass
class PlannedVote:
    client_id: str
    item: int
    value: int
    rationale: str = ""


@dataclass
class Panellist:
    name: str
    session: str
    url: str
    origin: str
    votes: list[PlannedVote]
    window: int = 2  # votes in flight before waiting for an acknowledgement
    pace: float = 0.2  # seconds between votes, with jitter (a fast human clicking through a grid)

    acked: dict[str, dict] = field(default_factory=dict)
    final_errors: dict[str, dict] = field(default_factory=dict)
    retry_errors: int = 0
    connects: int = 0
    failed_connects: int = 0
    drops: int = 0
    resent: int = 0
    snapshots: list[dict] = field(default_factory=list)
    messages: Counter = field(default_factory=Counter)
    seen: list[dict] = field(default_factory=list)  # every message, for the anonymity checks
    keep_messages: bool = False
    sent: set[str] = field(default_factory=set)
    # The highest round sequence this client's screen has shown (from snapshots and progress).
    shown_sequence: int = -1
    # Set by the caller when everyone is done: until then a finished client stays connected and
    # keeps following the round, as an open browser tab does.
    linger: asyncio.Event | None = None
    # Answers per item as last shown (from the message with the highest sequence).
    shown_answers: dict[str, int] = field(default_factory=dict)
    want_resync: bool = False
    resyncs: int = 0

    @property
    def done(self) -> bool:
        return all(v.client_id in self.acked or v.client_id in self.final_errors for v in self.votes)

    def _finished(self) -> bool:
        return self.done and (self.linger is None or self.linger.is_set())

    def unacked(self) -> list[PlannedVote]:
        return [v for v in self.votes if v.client_id not in self.acked and v.client_id not in self.final_errors]

    async def run(self, *, deadline: float, start: asyncio.Event | None = None) -> None:
        if start is not None:
            await start.wait()
        backoff = 0.1
        while not self._finished() and time.monotonic() < deadline:
            try:
                async with connect(
                    self.url,
                    origin=self.origin,
                    additional_headers={"Cookie": f"sessionid={self.session}"},
                    open_timeout=10,
                    close_timeout=2,
                    ping_interval=5,
                    ping_timeout=10,
                    max_queue=None,
                ) as ws:
                    self.connects += 1
                    backoff = 0.1
                    await self._session(ws, deadline)
            except (ConnectionClosed, OSError, InvalidHandshake, InvalidStatus, TimeoutError):
                if self.connects:
                    self.drops += 1
                self.failed_connects += 1
            if not self._finished():
                await asyncio.sleep(backoff + random.random() * backoff)  # noqa: S311
                backoff = min(backoff * 2, 1.0)

    async def _session(self, ws, deadline: float) -> None:
        snapshot = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
        self._note(snapshot)
        if snapshot.get("type") != "snapshot":
            raise ConnectionError(f"expected a snapshot first, got {snapshot}")
        self.snapshots.append(snapshot)
        in_flight: dict[str, PlannedVote] = {}
        not_before: dict[str, float] = {}
        reader = asyncio.create_task(self._read(ws, in_flight, not_before))
        try:
            while not self._finished() and time.monotonic() < deadline:
                if self.want_resync:
                    # The screen may have missed broadcasts (they are best effort): ask for the state.
                    self.want_resync = False
                    self.resyncs += 1
                    await ws.send(json.dumps({"type": "resync"}))
                vote = self._next(in_flight, not_before)
                if vote is None or len(in_flight) >= self.window:
                    await self._wait_or_raise(reader, 0.02)
                    continue
                await self._wait_or_raise(reader, self.pace * (0.5 + random.random()))  # noqa: S311
                if vote.client_id in self.sent:
                    self.resent += 1
                self.sent.add(vote.client_id)
                in_flight[vote.client_id] = vote
                message = {"type": "vote", "client_id": vote.client_id, "item": vote.item, "value": vote.value}
                if vote.rationale:
                    message["rationale"] = vote.rationale
                await ws.send(json.dumps(message))
        finally:
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader

    def _next(self, in_flight: dict[str, PlannedVote], not_before: dict[str, float]) -> PlannedVote | None:
        """The first vote not acknowledged and not in flight, in the original order.

        A later vote on an item waits until the earlier one on the same item is acknowledged, so a
        retried old answer can never overwrite a newer one.
        """
        now = time.monotonic()
        blocked: set[int] = set()
        for vote in self.unacked():
            if vote.item in blocked:
                continue
            blocked.add(vote.item)
            if vote.client_id in in_flight or not_before.get(vote.client_id, 0) > now:
                continue
            return vote
        return None

    async def _wait_or_raise(self, reader: asyncio.Task, seconds: float) -> None:
        done, _ = await asyncio.wait({reader}, timeout=seconds)
        if done:
            reader.result()  # re-raises the connection error that ended the reader
            raise ConnectionError("the server closed the connection")

    async def _read(self, ws, in_flight: dict[str, PlannedVote], not_before: dict[str, float]) -> None:
        async for raw in ws:
            message = json.loads(raw)
            self._note(message)
            kind = message.get("type")
            client_id = message.get("client_id")
            if kind == "ack":
                self.acked.setdefault(client_id, message)
                in_flight.pop(client_id, None)
            elif kind == "error":
                vote = in_flight.pop(client_id, None)
                if message.get("retry"):
                    self.retry_errors += 1
                    not_before[client_id] = time.monotonic() + 0.1
                elif vote is not None:
                    self.final_errors[client_id] = message
            elif kind == "snapshot":
                self.snapshots.append(message)

    def _note(self, message: dict) -> None:
        self.messages[message.get("type", "?")] += 1
        kind = message.get("type")
        if kind in ("snapshot", "progress") and isinstance(message.get("sequence"), int):
            if message["sequence"] >= self.shown_sequence:
                answers = message["progress"]["answers"] if kind == "snapshot" else message["answers"]
                self.shown_answers = {str(k): int(v) for k, v in answers.items()}
            self.shown_sequence = max(self.shown_sequence, message["sequence"])
        if self.keep_messages:
            self.seen.append(message)


def plan_votes(*, tag: str, items: list[int], rng: random.Random, changes: int = 0) -> list[PlannedVote]:
    """One vote per item in a shuffled order, then ``changes`` items answered again differently."""
    order = list(items)
    rng.shuffle(order)
    votes = [PlannedVote(client_id=f"{tag}-{n}", item=item, value=rng.randint(0, 3)) for n, item in enumerate(order)]
    for n, item in enumerate(rng.sample(order, k=min(changes, len(order)))):
        previous = next(v.value for v in votes if v.item == item)
        votes.append(PlannedVote(client_id=f"{tag}-c{n}", item=item, value=(previous + 1 + rng.randint(0, 2)) % 4))
    return votes


def final_values(votes: list[PlannedVote]) -> dict[int, int]:
    """What the database must hold per item once every vote is in: the last one sent for it."""
    out: dict[int, int] = {}
    for vote in votes:
        out[vote.item] = vote.value
    return out

"""N real websocket clients voting in one live Delphi round against a running server.

Services mode: start the server yourself (daphne with the Redis channel layer and PostgreSQL),
then run this with the *same* DATABASE_URL so it can set up its own cycle, round and panellists
and count what was stored:

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/delphi_bench REDIS_URL=redis://127.0.0.1:6379/3
    .venv/bin/python manage.py migrate
    DB_CONN_MAX_AGE=60 .venv/bin/daphne -b 127.0.0.1 -p 18733 config.asgi:application &
    .venv/bin/python bench/delphi_load.py --url http://127.0.0.1:18733 --clients 200 --votes 50

Each client logs in with its own session cookie (sessions are created in the database, as the
login view would), opens ``ws/rounds/<id>/``, waits for the snapshot and casts ``--votes`` votes,
one at a time, each after a think time (uniform 0–2×``--think`` seconds; a person in a room does
not click 50 times a second), waiting for the acknowledgement before the next. It prints sent /
acknowledged / refused / stored / lost, the acknowledgement latency percentiles and throughput.
``lost`` counts votes acknowledged but not in the database (or stored with another value) plus
votes that got neither an ack nor an error. Only 127.0.0.1 is contacted; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def create_round(clients: int, votes: int, tag: str) -> tuple[int, list[tuple[int, str]], list[int]]:
    """A cycle with ``votes`` items, ``clients`` technologists with sessions, and round 1 open."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.models import Organisation, User
    from cycles.models import Cycle, Membership, RoleLevel
    from workshops.delphi.services import round_open
    from workshops.models import Capability, DelphiItem, DelphiPlan

    cycle = Cycle.objects.create(slug=f"bench-load-{tag}", title=f"Load benchmark {tag}", challenge="Benchmark")
    DelphiPlan.objects.create(cycle=cycle, voting_roles=["technologist"], feedback_mode="live")
    for n in range(2):
        RoleLevel.objects.create(cycle=cycle, name=f"Level {n}", order=n)
    Capability.objects.bulk_create(
        [
            Capability(cycle=cycle, ref=f"L{n:03d}", statement=f"Do thing {n}.", status="accepted")
            for n in range(-(-votes // 2))
        ]
    )
    orgs = [
        Organisation.objects.get_or_create(name=f"Bench {g}", defaults={"group": g})[0]
        for g in ("technology", "industry", "skills")
    ]
    users = [
        User.objects.create(email=f"load-{tag}-{n}@bench.test", organisation=orgs[n % 3], password="!")
        for n in range(clients)
    ]
    Membership.objects.bulk_create([Membership(cycle=cycle, user=u, role="technologist") for u in users])
    rnd = round_open(cycle=cycle, actor=None)
    items = list(DelphiItem.objects.filter(cycle=cycle).order_by("pk").values_list("pk", flat=True))[:votes]
    sessions = []
    backend = settings.AUTHENTICATION_BACKENDS[0]
    for user in users:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = backend
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        sessions.append((user.pk, store.session_key))
    return rnd.pk, sessions, items


def stored_votes(round_id: int) -> dict[tuple[int, int], int]:
    from workshops.models import Vote

    return {
        (p, i): v for p, i, v in Vote.objects.filter(round_id=round_id).values_list("panellist_id", "item_id", "value")
    }


def cleanup(tag: str) -> None:
    from django.contrib.sessions.models import Session

    from accounts.models import User
    from cycles.models import Cycle

    Cycle.objects.filter(slug=f"bench-load-{tag}").delete()
    users = User.objects.filter(email__startswith=f"load-{tag}-")
    ids = {str(pk) for pk in users.values_list("pk", flat=True)}
    for session in Session.objects.all().iterator():
        if session.get_decoded().get("_auth_user_id") in ids:
            session.delete()
    users.delete()


class Stats:
    def __init__(self):
        self.sent = 0
        self.acked: dict[str, tuple[int, int, int]] = {}  # client_id -> (user, item, value)
        self.refused: dict[str, str] = {}
        self.unanswered = 0
        self.latencies: list[float] = []
        self.sent_at: list[float] = []  # when each acknowledged vote was sent, s after the run's start
        self.started = time.monotonic()
        self.connect_failures = 0
        self.connect_retries = 0
        self.messages_received = 0
        self.reconnects = 0
        self.lags: list[tuple[float, float]] = []  # (s after the start, ms the load generator's loop was late)
        self.started_loop = 0.0  # the loop's clock at the start (watch_lag)


async def client(
    n, url, origin, round_id, user_id, session_key, items, think, ramp, stats: Stats, deadline, ping_interval
):
    import websockets

    rng = random.Random(n)
    headers = {"Cookie": f"sessionid={session_key}", "Origin": origin}
    await asyncio.sleep(rng.uniform(0, ramp))  # people join a room over some seconds, not at once
    pending: dict[str, asyncio.Future] = {}

    async def open_socket():
        last_error = None
        for attempt in range(6):  # like the browser client: retry with backoff
            try:
                # A browser's WebSocket never sends pings (the API has none); the server's own
                # keepalive pings still come every 20 s (--client-pings to add the library's).
                return await websockets.connect(
                    url, additional_headers=headers, open_timeout=30, max_queue=None, ping_interval=ping_interval
                )
            except Exception as exc:  # noqa: BLE001
                stats.connect_retries += 1
                last_error = exc
                await asyncio.sleep(0.5 * 2**attempt * rng.uniform(0.5, 1.5))
        stats.connect_failures += 1
        print(f"client {n}: could not connect: {last_error}", file=sys.stderr)
        return None

    async def reader(ws):
        try:
            async for raw in ws:
                stats.messages_received += 1
                # Broadcasts (progress, distribution) are counted, not parsed: the load generator shares
                # the machine's two cores with the server it measures.
                if not raw.startswith(('{"type": "ack"', '{"type": "error"')):
                    continue
                message = json.loads(raw)
                future = pending.pop(message.get("client_id") or "", None)
                if future is not None and not future.done():
                    future.set_result(message)
        finally:
            # The connection dropped: whoever waits for an answer learns it now, not after a timeout.
            for future in pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("connection closed"))
            pending.clear()

    ws = await open_socket()
    if ws is None:
        return
    read_task = asyncio.create_task(reader(ws))
    try:
        for item in items:
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(rng.uniform(0, 2 * think))
            client_id = str(uuid.uuid4())
            value = rng.randint(0, 3)
            start, send_time = time.perf_counter(), time.monotonic()
            reply = None
            for _ in range(4):  # a dropped connection: reconnect and resend the same client id
                future = asyncio.get_running_loop().create_future()
                pending[client_id] = future
                try:
                    await ws.send(json.dumps({"type": "vote", "client_id": client_id, "item": item, "value": value}))
                    stats.sent += 1
                    reply = await asyncio.wait_for(future, timeout=30)
                    break
                except TimeoutError:
                    break
                except (ConnectionError, websockets.ConnectionClosed):
                    stats.reconnects += 1
                    read_task.cancel()
                    ws = await open_socket()
                    if ws is None:
                        return
                    read_task = asyncio.create_task(reader(ws))
            if reply is None:
                stats.unanswered += 1
                continue
            if reply["type"] == "ack":
                stats.latencies.append(time.perf_counter() - start)
                stats.sent_at.append(send_time - stats.started)
                stats.acked[client_id] = (user_id, item, value)
            else:
                stats.refused[client_id] = reply.get("code", "?")
    finally:
        read_task.cancel()
        if ws is not None:
            await ws.close()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


async def watch_lag(stats: Stats, every: float = 0.05) -> None:
    # The latencies are measured on this process's loop: while it is busy (1,000 handshakes in the
    # ramp) an answer that has arrived waits to be read, and counts as the server's time.
    loop = asyncio.get_running_loop()
    while True:
        expected = loop.time() + every
        await asyncio.sleep(every)
        stats.lags.append((expected - stats.started_loop, (loop.time() - expected) * 1000))


async def run(args, round_id, sessions, items) -> tuple[Stats, float]:
    # Several servers (comma-separated --url): clients are spread over them in turn.
    servers = []
    for url in args.url.split(","):
        parsed = urlparse(url)
        ws_url = f"{'wss' if parsed.scheme == 'https' else 'ws'}://{parsed.netloc}/ws/rounds/{round_id}/"
        servers.append((ws_url, f"{parsed.scheme}://{parsed.netloc}"))
    stats = Stats()
    stats.started_loop = asyncio.get_running_loop().time()
    watcher = asyncio.create_task(watch_lag(stats))
    start = time.perf_counter()
    deadline = time.monotonic() + args.max_seconds
    await asyncio.gather(
        *[
            client(
                n,
                *servers[n % len(servers)],
                round_id,
                user_id,
                key,
                items,
                args.think,
                args.ramp,
                stats,
                deadline,
                20 if args.client_pings else None,
            )
            for n, (user_id, key) in enumerate(sessions)
        ]
    )
    watcher.cancel()
    return stats, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description="Websocket load test of a live Delphi round.")
    parser.add_argument(
        "--url",
        default="http://127.0.0.1:18733",
        help="Base URL of the running server, or several comma-separated (127.0.0.1 only).",
    )
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--votes", type=int, default=50, help="Votes per client (one per item).")
    parser.add_argument("--think", type=float, default=0.5, help="Mean think time between a client's votes (s).")
    parser.add_argument("--ramp", type=float, default=10.0, help="Clients connect spread over this many seconds.")
    parser.add_argument("--max-seconds", type=float, default=600, help="Stop sending after this long.")
    parser.add_argument("--keep", action="store_true", help="Keep the bench cycle, users and votes afterwards.")
    parser.add_argument(
        "--client-pings",
        action="store_true",
        help="Clients also send keepalive pings every 20 s (the websockets library's default; browsers send none).",
    )
    args = parser.parse_args()
    hosts = {urlparse(url).hostname for url in args.url.split(",")}
    if not hosts <= {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit("Only servers on this machine (127.0.0.1) may be load-tested.")

    setup_django()
    from django.db import connection

    tag = f"{int(time.time())}-{os.getpid()}"
    round_id, sessions, items = create_round(args.clients, args.votes, tag)
    print(f"database {connection.vendor}; round {round_id}: {len(items)} items, {len(sessions)} panellists")
    try:
        stats, elapsed = asyncio.run(run(args, round_id, sessions, items))
        time.sleep(0.5)
        stored = stored_votes(round_id)
        lost_acked = sum(1 for user, item, value in stats.acked.values() if stored.get((user, item)) != value)
        lost = lost_acked + stats.unanswered
        lat_ms = [x * 1000 for x in stats.latencies]
        print(f"clients {args.clients} (connect failures {stats.connect_failures}, retries {stats.connect_retries}, "
              f"reconnects after a drop {stats.reconnects}), "
              f"votes per client {args.votes}, "
              f"think time mean {args.think} s")  # fmt: skip
        print(f"sent {stats.sent}  acknowledged {len(stats.acked)}  refused {len(stats.refused)}  "
              f"stored {len(stored)}  lost {lost} (acked but not stored: {lost_acked}, unanswered: {stats.unanswered})")  # fmt: skip
        if lat_ms:
            print(f"ack latency ms: p50 {percentile(lat_ms, 0.5):.1f}  p95 {percentile(lat_ms, 0.95):.1f}  "
                  f"p99 {percentile(lat_ms, 0.99):.1f}  max {max(lat_ms):.1f}  mean {statistics.mean(lat_ms):.1f}")  # fmt: skip
            # Where the tail is: while clients still connect (the ramp: handshakes and snapshots beside
            # the votes) or in the steady state after it; and the worst 10 s of the run.
            ramp = [ms for ms, at in zip(lat_ms, stats.sent_at, strict=True) if at < args.ramp]
            steady = [ms for ms, at in zip(lat_ms, stats.sent_at, strict=True) if at >= args.ramp]
            windows: dict[int, list[float]] = {}
            for ms, at in zip(lat_ms, stats.sent_at, strict=True):
                windows.setdefault(int(at // 10), []).append(ms)
            worst = max(windows, key=lambda w: percentile(windows[w], 0.99))
            print("ack p99 ms per 10 s window: " + ", ".join(
                f"{w * 10}s {percentile(windows[w], 0.99):.0f}" for w in sorted(windows)))  # fmt: skip
            print(f"ack p99 ms: during the {args.ramp:g} s ramp {percentile(ramp, 0.99):.1f} ({len(ramp)} votes), "
                  f"after it {percentile(steady, 0.99):.1f} ({len(steady)} votes); worst 10 s window "
                  f"{worst * 10}-{worst * 10 + 10} s: p99 {percentile(windows[worst], 0.99):.1f} ({len(windows[worst])} votes)")  # fmt: skip
        ramp_lag = [ms for at, ms in stats.lags if at < args.ramp]
        steady_lag = [ms for at, ms in stats.lags if at >= args.ramp]
        print(f"load generator's loop late by, p99 ms: during the ramp {percentile(ramp_lag, 0.99):.1f} "
              f"(max {max(ramp_lag, default=float('nan')):.1f}), after it {percentile(steady_lag, 0.99):.1f} "
              f"(max {max(steady_lag, default=float('nan')):.1f})")  # fmt: skip
        print(f"duration {elapsed:.1f} s, throughput {len(stats.acked) / elapsed:.1f} acknowledged votes/s, "
              f"{stats.messages_received} messages received by clients")  # fmt: skip
        if stats.refused:
            codes: dict[str, int] = {}
            for code in stats.refused.values():
                codes[code] = codes.get(code, 0) + 1
            print("refusals by code:", codes)
    finally:
        if not args.keep:
            cleanup(tag)


if __name__ == "__main__":
    main()

"""A live Delphi round with 50 panellists voting over websockets while the services around it fail.

Whatever breaks, the rules of docs/realtime.md must hold: a vote is acknowledged only once it is
committed, a client resends what was not acknowledged, and a resent vote is answered, not counted
again. So, after every fault: every vote sent is acknowledged, the database holds exactly the
acknowledged votes (one per panellist and item, with the last value sent), and the round's
sequence moved once per committed vote. The counts are printed.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
from collections.abc import Callable

import psycopg
import pytest

from tests.faults.services import HarnessError, _conninfo, wait_until
from tests.faults.wsclient import Panellist, final_values, plan_votes

pytestmark = pytest.mark.faults

CLIENTS = int(os.environ.get("FAULTS_CLIENTS", "50"))
CAPABILITIES = 10  # × 2 role levels = 20 items per round
CHANGES = 4  # items each panellist answers a second time
DEADLINE = 180.0
BROADCAST_SETTLE = 20.0


def _live_round(stack, slug: str) -> dict:
    panel = stack.django("create_panel", slug=slug, panellists=CLIENTS, role_levels=2)
    opened = stack.django(
        "open_round", cycle_id=panel["cycle_id"], convener_id=panel["convener"]["id"], capabilities=CAPABILITIES
    )
    return {**panel, **opened}


def _clients(stack, live: dict, *, seed: int) -> list[Panellist]:
    rng = random.Random(seed)
    clients = []
    for index, person in enumerate(live["panellists"]):
        server = index % len(stack.daphne_ports)  # spread over both ASGI servers
        clients.append(
            Panellist(
                name=person["email"],
                session=person["session"],
                url=stack.ws_url(f"/ws/rounds/{live['round_id']}/", server),
                origin=stack.origin(server),
                votes=plan_votes(tag=f"p{person['id']}", items=live["items"], rng=rng, changes=CHANGES),
            )
        )
    return clients


async def _vote_through(clients: list[Panellist], *, fault: Callable[[], None] | None, at_share: float = 0.3) -> dict:
    """Run every client; when ``at_share`` of the votes are acknowledged, inject the fault (in a thread)."""
    deadline = time.monotonic() + DEADLINE
    total = sum(len(c.votes) for c in clients)
    everyone_done = asyncio.Event()
    for client in clients:
        client.linger = everyone_done
    tasks = [asyncio.create_task(client.run(deadline=deadline)) for client in clients]
    fault_at = None
    if fault is not None:
        while sum(len(c.acked) for c in clients) < at_share * total and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        fault_at = sum(len(c.acked) for c in clients)
        await asyncio.to_thread(fault)
    while not all(c.done for c in clients) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    # Every vote is in. Broadcasts are best effort: give them time to reach the open screens, then
    # let any screen still behind ask for a snapshot, as docs/realtime.md tells a client to.
    final = max((ack.get("sequence", 0) for c in clients for ack in c.acked.values()), default=0)
    settle = time.monotonic() + BROADCAST_SETTLE
    while time.monotonic() < settle and not all(c.shown_sequence >= final for c in clients):
        await asyncio.sleep(0.05)
    caught_up = sum(1 for c in clients if c.shown_sequence >= final)
    for client in clients:
        if client.shown_sequence < final:
            client.want_resync = True
    settle = time.monotonic() + BROADCAST_SETTLE
    while time.monotonic() < settle and not all(c.shown_sequence >= final for c in clients):
        await asyncio.sleep(0.05)
    everyone_done.set()
    await asyncio.gather(*tasks)
    return {
        "planned": total,
        "acked before the fault": fault_at,
        "screens up to date by broadcast": caught_up,
        "screens that needed a resync": sum(1 for c in clients if c.resyncs),
    }


def _check_round(stack, live: dict, clients: list[Panellist], *, label: str, extra: dict | None = None) -> dict:
    state = stack.django("round_state", round_id=live["round_id"])
    by_email = {p["email"]: p["id"] for p in live["panellists"]}
    acked = {(by_email[c.name], client_id) for c in clients for client_id in c.acked}
    receipts = {(panellist, client_id) for panellist, client_id, _, _ in state["receipts"]}
    stored = {(panellist, item): value for panellist, item, value in state["votes"]}
    expected = {(by_email[c.name], item): value for c in clients for item, value in final_values(c.votes).items()}
    planned = sum(len(c.votes) for c in clients)
    counts = {
        "clients": len(clients),
        "votes planned": planned,
        "sent (with resends)": sum(len(c.sent) + c.resent for c in clients),
        "resent": sum(c.resent for c in clients),
        "acknowledged": len(acked),
        "receipts stored": len(receipts),
        "answers stored": len(stored),
        "answers expected": len(expected),
        "lost": len(expected.keys() - stored.keys()) + len(acked - receipts),
        "acknowledged without commit": len(acked - receipts),
        "counted twice": len(state["votes"]) - len(stored) + max(0, state["sequence"] - len(receipts)),
        "wrong value": sum(1 for key, value in expected.items() if stored.get(key) != value),
        "round sequence": state["sequence"],
        "reconnects": sum(max(0, c.connects - 1) for c in clients),
        "failed connection attempts": sum(c.failed_connects for c in clients),
        "retryable errors": sum(c.retry_errors for c in clients),
        "final errors": sum(len(c.final_errors) for c in clients),
        "screens showing the final state": sum(1 for c in clients if c.shown_sequence == state["sequence"]),
        **(extra or {}),
    }
    print(f"\n[faults] {label}")
    for key, value in counts.items():
        print(f"    {key:<30} {value}")
    final_errors = [e for c in clients for e in c.final_errors.values()]
    assert final_errors == [], final_errors[:3]
    assert len(acked) == planned, "some votes were never acknowledged"
    assert receipts == acked, "stored receipts differ from the acknowledgements clients saw"
    assert stored == expected, "stored answers differ from the last answer each panellist sent"
    assert len(state["votes"]) == len(stored)
    assert state["sequence"] == len(receipts), "the round counted a committed vote more than once"
    answers = {str(item): 0 for item in live["items"]}
    for _, item, _ in state["votes"]:
        answers[str(item)] += 1
    behind = [c.name for c in clients if c.shown_sequence != state["sequence"] or c.shown_answers != answers]
    assert behind == [], f"{len(behind)} open screens never showed the round as stored, even after a resync"
    return counts


def test_redis_restarted_mid_round_loses_no_vote_and_counts_none_twice(stack):
    live = _live_round(stack, "fault-redis")
    clients = _clients(stack, live, seed=1)

    def fault():
        stack.redis.kill()
        time.sleep(1.0)  # long enough for every server to notice
        stack.redis.start()

    run = asyncio.run(_vote_through(clients, fault=fault))
    _check_round(stack, live, clients, label="Redis killed and restarted mid-round", extra=run)


def test_asgi_servers_restarted_mid_round_lose_no_vote_and_count_none_twice(stack):
    live = _live_round(stack, "fault-asgi")
    clients = _clients(stack, live, seed=2)

    def fault():
        # One server shut down cleanly, the other crashed, both started again.
        stopper = threading.Thread(target=stack.daphnes[0].stop)
        stopper.start()
        stack.daphnes[1].kill()
        stopper.join()
        time.sleep(0.5)
        for daphne in stack.daphnes:
            daphne.start()

    run = asyncio.run(_vote_through(clients, fault=fault))
    counts = _check_round(stack, live, clients, label="both ASGI servers restarted mid-round", extra=run)
    assert counts["reconnects"] >= len(clients), "every client should have had to reconnect"


def test_postgresql_dropping_connections_refuses_votes_until_they_commit(stack):
    live = _live_round(stack, "fault-postgres")
    clients = _clients(stack, live, seed=3)
    dropped = []

    def fault():
        for _ in range(3):
            dropped.append(stack.db.terminate_backends(application_name="faults-daphne-1"))
            dropped.append(stack.db.terminate_backends(application_name="faults-daphne-2"))
            time.sleep(0.7)

    run = asyncio.run(_vote_through(clients, fault=fault))
    counts = _check_round(
        stack,
        live,
        clients,
        label="PostgreSQL terminated the servers' connections 3 times",
        extra={**run, "connections dropped": sum(dropped)},
    )
    assert sum(dropped) > 0
    assert counts["retryable errors"] + counts["reconnects"] > 0, "no vote met a dropped connection"


def _worker_waiting_on_lock(stack) -> bool:
    rows = stack.db.rows(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND application_name = 'faults-celery' AND wait_event_type = 'Lock'"
    )
    return rows[0][0] > 0


def test_celery_worker_killed_during_aggregation_gets_the_task_again_and_results_equal_a_clean_run(stack):
    live = _live_round(stack, "fault-celery")
    clients = _clients(stack, live, seed=4)
    asyncio.run(_vote_through(clients, fault=None))
    _check_round(stack, live, clients, label="votes before the worker is killed")

    # Hold the round's row lock so the aggregation task, once started, waits inside its transaction:
    # the worker is then killed exactly *during* aggregation.
    stack.worker.stop()
    stack.django("close_round", round_id=live["round_id"], convener_id=live["convener"]["id"])
    lock = psycopg.connect(_conninfo(stack.db.url))
    try:
        lock.execute("SELECT id FROM workshops_round WHERE id = %s FOR UPDATE", (live["round_id"],))
        stack.worker.start()
        first_worker_log = stack.worker.log_path.read_text()
        wait_until(lambda: _worker_waiting_on_lock(stack), timeout=60, what="the worker to start aggregating")
        stack.worker.kill()
    finally:
        lock.rollback()
        lock.close()
    assert stack.django("round_state", round_id=live["round_id"])["aggregated_at"] is None

    started = time.monotonic()
    stack.worker.start()
    try:
        wait_until(
            lambda: stack.django("round_state", round_id=live["round_id"])["aggregated_at"] is not None,
            timeout=120,
            interval=1.0,
            what="the task to be delivered again and finish",
        )
    except HarnessError:
        raise HarnessError("aggregation never completed; worker log:\n" + stack.worker.log_tail(60)) from None
    redelivered_after = time.monotonic() - started
    after_fault = stack.django("results", round_id=live["round_id"])
    clean = stack.django("aggregate_now", round_id=live["round_id"])
    log = stack.worker.log_path.read_text()[len(first_worker_log) :]
    print("\n[faults] Celery worker SIGKILLed while aggregating")
    print(f"    items aggregated               {len(after_fault)}")
    print(f"    votes in the round             {sum(r['n'] for r in after_fault)}")
    print(f"    task received (all workers)    {stack.worker.log_text().count('aggregate_round[')}")
    print(f"    redelivered and done after     {redelivered_after:.1f} s (visibility timeout 8 s)")
    assert "aggregate_round" in log
    assert len(after_fault) == len(live["items"])
    assert after_fault == clean
    assert sum(r["n"] for r in after_fault) == CLIENTS * len(live["items"])

"""The harness itself: its own processes start, serve, restart and die without touching anything else."""

from __future__ import annotations

import urllib.request

import pytest
import redis

pytestmark = pytest.mark.faults


def _get(url: str, session: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url)
    if session:
        request.add_header("Cookie", f"sessionid={session}")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, response.read().decode()


def test_the_harness_serves_a_logged_in_page_from_its_own_database(stack):
    panel = stack.django("create_panel", slug="harness-a", panellists=2)
    status, body = _get(
        f"http://127.0.0.1:{stack.daphne_ports[0]}/cycles/harness-a/", panel["panellists"][0]["session"]
    )
    assert status == 200
    assert "Fault cycle harness-a" in body


def test_both_asgi_servers_share_one_database(stack):
    stack.django("create_panel", slug="harness-b", panellists=1)
    panel_session = stack.django("create_panel", slug="harness-c", panellists=1)["panellists"][0]["session"]
    for port in stack.daphne_ports:
        status, body = _get(f"http://127.0.0.1:{port}/cycles/harness-c/", panel_session)
        assert status == 200


def test_its_redis_restarts_on_its_own_port_and_keeps_what_was_written(stack):
    assert stack.redis_port != 6379
    client = redis.Redis(host="127.0.0.1", port=stack.redis_port)
    client.set("faults:probe", "kept")
    stack.redis.restart(kill=True)
    assert redis.Redis(host="127.0.0.1", port=stack.redis_port).get("faults:probe") == b"kept"


def test_the_celery_worker_can_be_killed_and_started_again(stack):
    first = stack.worker.proc.pid
    stack.worker.kill()
    assert not stack.worker.running
    stack.worker.start()
    assert stack.worker.running and stack.worker.proc.pid != first


def test_the_servers_database_connections_can_be_dropped(stack):
    panel = stack.django("create_panel", slug="harness-d", panellists=1)
    session = panel["panellists"][0]["session"]
    _get(f"http://127.0.0.1:{stack.daphne_ports[0]}/cycles/harness-d/", session)
    dropped = stack.db.terminate_backends(application_name="faults-daphne-1")
    print(f"\n[faults] terminated {dropped} daphne connection(s)")
    # The server notices the dead connection on its next use; one request may fail, then it reconnects.
    statuses = []
    for _ in range(3):
        try:
            statuses.append(_get(f"http://127.0.0.1:{stack.daphne_ports[0]}/cycles/harness-d/", session)[0])
        except urllib.error.HTTPError as exc:
            statuses.append(exc.code)
    assert statuses[-1] == 200

"""The browser guard (tests/e2e/conftest.py) sees what it is for: an error response, a console
error, an uncaught page error and a traceback in the server's log, and lets a refusal the test
asks for pass."""

import re

import pytest

from tests.e2e.conftest import BrowserGuard

pytestmark = pytest.mark.e2e


def test_the_guard_sees_error_pages_console_errors_and_server_tracebacks(asgi_server, server_url, new_page):
    guard = BrowserGuard(asgi_server, new_page, log_start=asgi_server.log_size())
    page = guard.new_page()
    page.goto("/accounts/login/")
    guard.check()  # nothing yet

    guard.allow(404, r"/asked-for/$")
    page.goto("/asked-for/")
    guard.check()
    page.goto("/no-such-page/")
    page.evaluate("console.error('a console error')")
    page.evaluate("setTimeout(() => { throw new Error('an uncaught error'); })")
    page.wait_for_timeout(200)
    assert guard.problems[0] == f"404 for GET {server_url}/no-such-page/ (document)"
    assert any("console error on" in p and "a console error" in p for p in guard.problems)
    assert any("uncaught error on" in p and "an uncaught error" in p for p in guard.problems)

    # The server's own log: a websocket to a path no consumer serves ends in a traceback there.
    guard.problems.clear()
    page.evaluate("new WebSocket(`ws://${location.host}/ws/no-such-room/`)")
    with pytest.raises(AssertionError) as failure:
        guard.check(settle=True)
    assert re.search(r"server log: .* ERROR \[daphne\.server\] Exception inside application", str(failure.value))
    assert "Traceback (most recent call last)" in str(failure.value)

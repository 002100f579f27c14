"""Two panellists in the same live Delphi round see each other's progress without reloading; a
page the server refuses (session ended, removed from the cycle) stops reconnecting and says why."""

import re

import pytest
from django.contrib.sessions.models import Session
from playwright.sync_api import expect

from cycles.models import Membership
from tests.factories import PASSWORD
from tests.workshops.delphi.factories import start_delphi
from workshops.models import Vote

pytestmark = pytest.mark.e2e


def cell(page, item):
    return page.locator(f"#item-{item.pk}")


def test_two_panellists_see_each_others_progress_live(server_url, new_page, login, personas):
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=2, levels=2, live=True, live_quorum=1)
    first, second = delphi.items[0], delphi.items[1]
    technologist = login(new_page(), personas.technologist.email)
    employer = login(new_page(), personas.employer.email)
    for page in (technologist, employer):
        page.goto(f"/cycles/cycle-a/delphi/rounds/{delphi.round.number}/")
        page.wait_for_function("window.delphiClient && window.delphiClient.online()")
        expect(page.locator("#delphi-live")).to_have_text("Live")

    technologist.locator(f"label[for='v{first.pk}-2']").click()
    expect(cell(technologist, first).locator("[data-status]")).to_have_text("Saved")
    # The employer's screen updates by itself: answer count, panel progress and (live mode) the
    # distribution — counts only, never who answered.
    expect(cell(employer, first).locator("[data-answers]")).to_have_text("1 answer")
    expect(employer.locator("[data-panel-started]")).to_have_text("1")
    # No distribution of a single answer: a panellist could read another's answer from it.
    expect(cell(employer, first).locator("[data-dist]")).not_to_contain_text("P 1")
    expect(employer.locator("body")).not_to_contain_text(personas.technologist.display_name)

    employer.locator(f"label[for='v{second.pk}-3']").click()
    expect(cell(employer, second).locator("[data-status]")).to_have_text("Saved")
    expect(cell(technologist, second).locator("[data-answers]")).to_have_text("1 answer")
    expect(technologist.locator("[data-panel-started]")).to_have_text("2")

    assert sorted(Vote.objects.values_list("panellist__email", "item_id", "value")) == sorted(
        [(personas.technologist.email, first.pk, 2), (personas.employer.email, second.pk, 3)]
    )
    # A reload draws the same state from the server.
    technologist.reload()
    expect(technologist.locator(f"#v{first.pk}-2")).to_be_checked()


def test_the_grid_saves_through_htmx_when_the_socket_is_down(server_url, new_page, login, personas):
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=1, levels=1)
    item = delphi.items[0]
    page = new_page()
    # No websockets at all in this browser: the cells post through htmx instead.
    page.add_init_script("delete window.WebSocket;")
    login(page, personas.employer.email)
    page.goto(f"/cycles/cycle-a/delphi/rounds/{delphi.round.number}/")
    page.locator(f"label[for='v{item.pk}-1']").click()
    expect(cell(page, item).locator("[data-status]")).to_have_text("Saved")
    assert Vote.objects.get(item=item).value == 1


# --- Refusals: the page stops reconnecting and says why ------------------------------------------


def through_the_server(page, pattern: str) -> list:
    """Let the page's websockets through to the real server, keeping a handle on each connection
    (to drop it, as a server restart or a network blip would). The list grows with every attempt."""
    connections = []

    def route(ws):
        connections.append(ws)
        ws.connect_to_server()

    page.route_web_socket(re.compile(pattern), route)
    return connections


def assert_no_more_attempts(page, connections, seconds=3):
    # The first two backoff delays are 0.25–0.75 s and 0.5–1.5 s: a page still retrying would try again.
    attempts = len(connections)
    page.wait_for_timeout(seconds * 1000)
    assert len(connections) == attempts


def test_a_panellist_removed_from_the_cycle_is_told_and_the_page_stops_reconnecting(
    server_url, new_page, login, personas
):
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=1, levels=1)
    page = new_page()
    connections = through_the_server(page, r"/ws/rounds/")
    login(page, personas.employer.email)
    page.goto(f"/cycles/cycle-a/delphi/rounds/{delphi.round.number}/")
    page.wait_for_function("window.delphiClient && window.delphiClient.online()")
    status = page.locator("#delphi-live")
    expect(status).to_have_text("Live")

    # The convener removes the employer; later the connection drops and the page reconnects.
    Membership.objects.filter(user=personas.employer).update(status=Membership.Status.REMOVED)
    connections[-1].close(code=1012, reason="Service restart")

    expect(status).to_have_text("You are not allowed in this room.")
    expect(status).to_have_attribute("data-live-state", "not-allowed")
    assert page.evaluate("window.delphiClient.online()") is False
    assert len(connections) == 2
    assert_no_more_attempts(page, connections)


def test_when_the_session_ends_the_page_says_sign_in_again_and_stops_reconnecting(
    server_url, new_page, login, personas
):
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=1, levels=1)
    url = f"/cycles/cycle-a/delphi/rounds/{delphi.round.number}/"
    page = new_page()
    connections = through_the_server(page, r"/ws/rounds/")
    login(page, personas.technologist.email)
    page.goto(url)
    page.wait_for_function("window.delphiClient && window.delphiClient.online()")

    # The session ends on the server (signed out elsewhere, expired); then the connection drops.
    [session_key] = [c["value"] for c in page.context.cookies() if c["name"] == "sessionid"]
    Session.objects.filter(session_key=session_key).delete()
    connections[-1].close(code=1001, reason="Going away")

    status = page.locator("#delphi-live")
    expect(status).to_have_text("Your session has ended: sign in again.")
    expect(status).to_have_attribute("data-live-state", "signed-out")
    assert_no_more_attempts(page, connections)

    # The link signs in again and comes back to the round, live.
    status.get_by_role("link", name="sign in again").click()
    page.wait_for_url(re.compile(r"/accounts/login/\?next="))
    page.get_by_label("Email").fill(personas.technologist.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(re.escape(url) + "$"))
    expect(page.locator("#delphi-live")).to_have_text("Live")

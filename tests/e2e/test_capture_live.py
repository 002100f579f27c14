"""Two workshop members on the capture page: a submission by one appears on the other's screen;
when the session ends, the page stops reconnecting and says so."""

import re

import pytest
from django.contrib.sessions.models import Session
from playwright.sync_api import expect

from tests.factories import SupplyChainPartnerFactory
from workshops.capture.taxonomy import taxonomy_load_default

pytestmark = pytest.mark.e2e
STATEMENT = "Develop closed automated systems for spoke sites."


def test_a_statement_submitted_by_one_member_appears_live_for_another(server_url, new_page, login, personas):
    taxonomy_load_default()
    SupplyChainPartnerFactory(cycle=personas.cycle, name="NHS workforce")
    technologist = login(new_page(), personas.technologist.email)
    observer = login(new_page(), personas.observer.email)
    for page in (technologist, observer):
        page.goto("/cycles/cycle-a/capture/")
        page.wait_for_function("window.captureLive === true")

    technologist.get_by_label("Capability statement", exact=True).fill("Developing closed automated systems")
    hints = technologist.locator("#statement-hints")
    hints.get_by_text("rather than “Developing …”").wait_for()
    technologist.get_by_label("Capability statement", exact=True).fill(STATEMENT)
    technologist.get_by_label("NHS workforce").check()
    technologist.get_by_label("Function", exact=True).select_option(label="Design")
    domains = technologist.get_by_label("Functional domain")
    expect(domains).not_to_contain_text("Service Delivery")  # narrowed to Design's domains
    expect(domains).to_contain_text("Process Design & Implementation")
    technologist.get_by_role("button", name="Submit statement").click()

    # The observer never reloads: the list refreshes when the socket announces the new statement.
    expect(observer.locator("#capture-list")).to_contain_text(STATEMENT)
    expect(observer.locator("#capture-list")).to_contain_text("NHS workforce")
    expect(technologist.locator("#messages")).to_contain_text("C01 submitted")


def test_when_the_session_ends_the_capture_page_says_sign_in_again_and_stops_reconnecting(
    server_url, new_page, login, personas
):
    page = new_page()
    connections = []

    def through(ws):
        connections.append(ws)
        ws.connect_to_server()

    page.route_web_socket(re.compile(r"/ws/cycles/"), through)
    # Here the socket is the one to learn it: the list's fallback poll, which could fire between
    # the two connections, is held back (the next test is that case).
    page.route(re.compile(r"/capture/\?status="), lambda route: route.abort())
    login(page, personas.observer.email)
    page.goto("/cycles/cycle-a/capture/")
    page.wait_for_function("window.captureLive === true")
    expect(page.locator("#capture-live")).to_have_text("Live")

    [session_key] = [c["value"] for c in page.context.cookies() if c["name"] == "sessionid"]
    Session.objects.filter(session_key=session_key).delete()
    connections[-1].close(code=1012, reason="Service restart")

    status = page.locator("#capture-live")
    expect(status).to_have_text("Your session has ended: sign in again.")
    expect(status.get_by_role("link", name="sign in again")).to_have_attribute(
        "href", "/accounts/login/?next=%2Fcycles%2Fcycle-a%2Fcapture%2F"
    )
    assert page.evaluate("window.captureLive") is False
    attempts = len(connections)
    page.wait_for_timeout(3000)  # a page still retrying would have tried again by now
    assert len(connections) == attempts == 2


def test_when_the_list_learns_first_that_the_session_ended_the_page_says_so_and_stays(
    server_url, new_page, login, personas
):
    # The socket drops and its next attempts hang; the list's fallback poll (every 15 s while the
    # socket is down) is the first to hear of the ended session. The page must not jump to the
    # login form: it says what the socket's refusal would say, and stops reconnecting.
    page = new_page()
    connections = []

    def through(ws):
        connections.append(ws)
        if len(connections) == 1:
            ws.connect_to_server()  # later attempts reach no server: they never get in

    page.route_web_socket(re.compile(r"/ws/cycles/"), through)
    login(page, personas.observer.email)
    listed = re.compile(r"/capture/\?status=")
    with page.expect_response(listed):  # the list's catch-up when the socket is first live
        page.goto("/cycles/cycle-a/capture/")
        page.wait_for_function("window.captureLive === true")

    [session_key] = [c["value"] for c in page.context.cookies() if c["name"] == "sessionid"]
    Session.objects.filter(session_key=session_key).delete()
    connections[-1].close(code=1012, reason="Service restart")
    # The poll itself, within 15 s (an event dispatched by the test instead can fall while htmx is
    # still settling the list it just swapped in, and go unheard).
    with page.expect_response(listed, timeout=30_000):
        pass

    status = page.locator("#capture-live")
    expect(status).to_have_text("Your session has ended: sign in again.")
    expect(status.get_by_role("link", name="sign in again")).to_have_attribute(
        "href", "/accounts/login/?next=%2Fcycles%2Fcycle-a%2Fcapture%2F"
    )
    assert page.url == f"{server_url}/cycles/cycle-a/capture/"
    attempts = len(connections)
    page.wait_for_timeout(3000)  # a page still retrying would have tried again by now
    assert len(connections) == attempts

"""An employer reviews a FOP while an observer watches: the uprate and the ratification appear on
the observer's screen without reloading, and each sees the other in the presence list. A member
removed from the cycle is told so, and the page stops reconnecting."""

import re

import pytest
from playwright.sync_api import expect

from cycles.models import Membership
from tests.workshops.fops.factories import build_needs, make_fop
from workshops.fops.selectors import fop_history_verify
from workshops.models import FOP, FOPCapability

pytestmark = pytest.mark.e2e


def test_an_employer_uprates_and_ratifies_and_an_observer_sees_it_live(server_url, new_page, login, personas):
    levels, caps = build_needs(personas.cycle)
    fop = make_fop(personas.cycle, capabilities=caps[:3], role_level=levels[0], reviewers=[personas.employer])
    url = f"/cycles/{personas.cycle.slug}/fops/{fop.pk}/"

    employer = login(new_page(), personas.employer.email)
    observer = login(new_page(), personas.observer.email)
    for page in (observer, employer):
        page.goto(url)
        page.wait_for_function("window.fopLive === true")

    # Presence: each sees the other by name.
    expect(observer.locator("#fop-presence")).to_contain_text("Employer A")
    expect(employer.locator("#fop-presence")).to_contain_text("Observer A")

    # The observer sees proficiencies as text, not as controls.
    c01 = observer.locator(f"#entry-{caps[0].pk}")
    expect(c01.locator(".prof-value")).to_have_text("Practitioner")
    expect(observer.locator("#ratify-button")).to_have_count(0)

    # The employer uprates C01 to Expert (the select posts on change).
    employer.get_by_label("Proficiency for C01").select_option(label="Expert")
    expect(employer.locator("#fop-body")).to_contain_text("C01 proficiency saved.")
    expect(c01.locator(".prof-value")).to_have_text("Expert")

    # ... and ratifies.
    employer.get_by_label("Comment (optional)").fill("Agreed with the hub")
    employer.locator("#ratify-button").click()
    expect(observer.locator("#fop-status")).to_have_text("Ratified")
    expect(employer.locator("#fop-status")).to_have_text("Ratified")
    expect(observer.locator("#history-badge")).to_contain_text("History verified")

    fop.refresh_from_db()
    assert fop.status == FOP.Status.RATIFIED
    assert FOPCapability.objects.get(fop=fop, capability=caps[0]).proficiency == 3
    assert fop_history_verify(fop=fop).ok

    # When the employer leaves, the observer's presence list says so.
    employer.close()
    expect(observer.locator("#fop-presence")).not_to_contain_text("Employer A")


def test_a_member_removed_from_the_cycle_is_told_and_the_fop_page_stops_reconnecting(
    server_url, new_page, login, personas
):
    levels, caps = build_needs(personas.cycle)
    fop = make_fop(personas.cycle, capabilities=caps[:1], role_level=levels[0], reviewers=[personas.employer])
    page = new_page()
    connections = []

    def through(ws):
        connections.append(ws)
        ws.connect_to_server()

    page.route_web_socket(re.compile(r"/ws/fops/"), through)
    login(page, personas.observer.email)
    page.goto(f"/cycles/{personas.cycle.slug}/fops/{fop.pk}/")
    page.wait_for_function("window.fopLive === true")

    Membership.objects.filter(user=personas.observer).update(status=Membership.Status.REMOVED)
    connections[-1].close(code=1012, reason="Service restart")

    status = page.locator("#fop-live")
    expect(status).to_have_text("You are not allowed in this room.")
    expect(status).to_have_attribute("data-live-state", "not-allowed")
    attempts = len(connections)
    page.wait_for_timeout(3000)  # a page still retrying would have tried again by now
    assert len(connections) == attempts == 2


def test_on_a_phone_an_employer_reads_each_capability_of_a_fop_as_one_block(server_url, new_page, login, personas):
    levels, caps = build_needs(personas.cycle)
    fop = make_fop(personas.cycle, capabilities=caps[:2], role_level=levels[0], reviewers=[personas.employer])
    page = login(new_page(viewport={"width": 390, "height": 844}), personas.employer.email)
    page.goto(f"/cycles/{personas.cycle.slug}/fops/{fop.pk}/")
    row = page.locator(f"#entry-{caps[0].pk}")
    statement = row.locator("td").first
    # The statement takes the screen's width (five squeezed columns left it a word a line), and
    # each other cell is a line under its column's name.
    assert statement.bounding_box()["width"] > 300
    expect(row.locator("td[data-label=Consensus]")).to_be_visible()
    assert (
        page.evaluate(
            "(td) => getComputedStyle(td, '::before').content", row.locator("td[data-label=Required]").element_handle()
        )
        == '"Required: "'
    )
    expect(row.locator("select[name=proficiency]")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

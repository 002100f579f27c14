"""The room: the convener's projector (1280 × 720) and two panellists' phones (390 × 844), each in its
own browser. As the phones vote, the projector's bars and progress move without a reload; the
convener puts an item up for discussion; closing from the projector shows "closed" on every screen
without a reload. And the facilitator's consensus colours show (Bootstrap used to paint them white)."""

import re

import pytest
from playwright.sync_api import expect

from tests.workshops.delphi.factories import add_panellists, start_delphi
from workshops.delphi.services import vote_cast
from workshops.models import Round, Vote
from workshops.realtime import round_ws_path

pytestmark = pytest.mark.e2e

PROJECTOR = {"viewport": {"width": 1280, "height": 720}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}

# Votes through a socket of the page's own (its session), when the page offers no answer button
# for the item: the same frame the round page sends (docs/realtime.md), acknowledged by the server.
VOTE_OVER_THE_SOCKET = """([path, item, value]) => new Promise((resolve, reject) => {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + path);
    const id = "e2e-" + Math.random().toString(36).slice(2);
    ws.onmessage = (event) => {
        const m = JSON.parse(event.data);
        if (m.type === "snapshot") ws.send(JSON.stringify({type: "vote", client_id: id, item: item, value: value}));
        else if (m.type === "ack" && m.client_id === id) { ws.close(); resolve(m.value); }
        else if (m.type === "error") { ws.close(); reject(new Error(m.message)); }
    };
})"""
VALUES = {"Not needed": 0, "Awareness": 1, "Practitioner": 2, "Expert": 3}


def vote(page, rnd, item, label: str) -> None:
    """Answer ``item`` on a panellist's round page: by tapping the answer when the page shows it
    (the phone screen shows one item at a time), else over the page's socket."""
    answer = page.locator(f"#item-{item.pk}").locator("label", has_text=label)
    if answer.count() and answer.first.is_visible():
        answer.first.click()
        expect(page.locator(f"#item-{item.pk} [data-status]")).to_have_text("Saved")
    else:
        assert page.evaluate(VOTE_OVER_THE_SOCKET, [round_ws_path(rnd), item.pk, VALUES[label]]) == VALUES[label]


def count(page, item, value: int):
    return page.locator(f'#present-item-{item.pk} [data-bars] [data-value="{value}"] [data-count]')


def bar_width(page, item, value: int) -> str:
    return page.locator(f'#present-item-{item.pk} [data-bars] [data-value="{value}"] .delphi-bar').evaluate(
        "(el) => el.style.width"
    )


def test_the_projector_follows_two_phones_and_closing_shows_closed_everywhere(server_url, new_page, login, personas):
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=2, levels=2, live=True)
    rnd, first, second = delphi.round, delphi.items[0], delphi.items[1]
    # Two others in the room have answered the first item: two answers are not shown to the room.
    for person in add_panellists(personas.cycle, 2, groups=("technology", "skills")):
        vote_cast(round_id=rnd.pk, panellist=person, item_id=first.pk, value=2)
    url = f"/cycles/cycle-a/delphi/rounds/{rnd.number}/"

    projector = login(new_page(**PROJECTOR), personas.convener.email)
    projector.goto(url + "present/")
    projector.wait_for_function("window.presenterClient && window.presenterClient.online()")
    projector.evaluate("window.sameDocument = true")  # gone if the page ever reloads
    expect(projector.locator("#delphi-live")).to_have_text("Live")
    expect(projector.locator("[data-join-code]")).to_be_visible()
    expect(projector.locator("[data-panel-started]")).to_have_text("2")
    expect(projector.locator(f"#present-item-{first.pk} [data-bars]")).to_have_count(0)
    assert projector.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    projector.get_by_role("button", name="Full screen").click()
    projector.wait_for_function("Boolean(document.fullscreenElement)")
    expect(projector.locator("#fullscreen-toggle")).to_have_attribute("aria-pressed", "true")
    projector.keyboard.press("Escape")
    projector.wait_for_function("!document.fullscreenElement")

    # The personas' technologist and employer (both of the industry group) on their phones.
    phones = []
    for person in (personas.technologist, personas.employer):
        phone = login(new_page(**PHONE), person.email)
        phone.goto(url)
        phone.wait_for_function("window.delphiClient && window.delphiClient.online()")
        phones.append(phone)
    industry = projector.locator('[data-group="industry"] [data-group-started]')
    expect(industry).to_have_text("0")

    # The third answer: the room now sees the first item's bars, and the progress moves.
    vote(phones[0], rnd, first, "Practitioner")
    expect(count(projector, first, 2)).to_have_text("3")
    expect(projector.locator("[data-panel-started]")).to_have_text("3")
    expect(industry).to_have_text("1")
    assert bar_width(projector, first, 2) == "100%"

    # The fourth: the bars are redrawn (counts and lengths), the progress again.
    vote(phones[1], rnd, first, "Expert")
    expect(count(projector, first, 3)).to_have_text("1")
    expect(count(projector, first, 2)).to_have_text("3")
    expect(projector.locator(f"#present-item-{first.pk}")).to_contain_text("4 answers")
    expect(projector.locator("[data-panel-started]")).to_have_text("4")
    expect(industry).to_have_text("2")
    assert (bar_width(projector, first, 2), bar_width(projector, first, 3)) == ("75%", "25%")

    # "Now discussing": the convener puts the second item up; the projector shows it large.
    projector.locator(f"#present-item-{second.pk}").get_by_role("button", name=re.compile("^Discuss")).click()
    spotlight = projector.locator("#spotlight")
    expect(spotlight).to_contain_text("Now discussing")
    expect(spotlight).to_contain_text(second.capability.statement)
    expect(spotlight).to_contain_text(second.role_level.name)
    assert Round.objects.get(pk=rnd.pk).discussing_id == second.pk
    # Each phone offers the discussed item; one tap shows it (one item per screen).
    for phone in phones:
        offer = phone.locator("#delphi-discussing")
        expect(offer).to_be_visible()
        expect(offer).to_contain_text(f"{second.capability.ref} at {second.role_level.name}")
        offer.get_by_role("button", name="Go to it").tap()
        expect(phone.locator(f"#item-{second.pk}")).to_be_visible()
        expect(phone.locator(".delphi-cell:visible")).to_have_count(1)

    # Closing from the projector: "closed" on every screen, none of them reloaded.
    projector.get_by_role("button", name="Close the round").click()
    expect(projector.locator("#round-status")).to_have_text("Closed")
    expect(projector.locator("#round-closed-banner")).to_be_visible()
    expect(projector.locator("#presenter-countdown")).to_have_text("Round closed")
    expect(projector.get_by_role("button", name="Close the round")).to_have_count(0)
    for phone in phones:
        expect(phone.locator("#round-status")).to_have_text("Closed")
        expect(phone.locator("#round-closed-banner")).to_be_visible()
    assert projector.evaluate("window.sameDocument") is True
    assert Round.objects.get(pk=rnd.pk).status == Round.Status.CLOSED
    assert Vote.objects.filter(round=rnd).count() == 4


def test_the_facilitators_consensus_colours_show_and_answers_are_bars(server_url, new_page, login, personas):
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=1, levels=2, live=True)
    agreed, open_item = delphi.items
    people = add_panellists(personas.cycle, 3)
    for person in people:
        vote_cast(round_id=delphi.round.pk, panellist=person, item_id=agreed.pk, value=1)
    for person, value in zip(people, (0, 2, 3), strict=True):
        vote_cast(round_id=delphi.round.pk, panellist=person, item_id=open_item.pk, value=value)

    page = login(new_page(), personas.convener.email)
    page.goto(f"/cycles/cycle-a/delphi/rounds/{delphi.round.number}/facilitator/")
    consensus = page.locator(f'td[data-item="{agreed.pk}"]')
    no_consensus = page.locator(f'td[data-item="{open_item.pk}"]')
    # Bootstrap's table cells paint var(--bs-table-bg): before the fix every cell was white.
    background = "(el) => getComputedStyle(el).backgroundColor"
    assert consensus.evaluate(background) == "rgb(209, 231, 221)"
    assert no_consensus.evaluate(background) == "rgb(255, 243, 205)"
    expect(consensus).to_contain_text("Consensus")
    # A chart with the value names, not "– 0 · A 3 · P 0 · E 0".
    bars = consensus.locator("[data-bars] li")
    expect(bars).to_have_count(4)
    expect(bars.nth(1)).to_contain_text("Awareness")
    expect(bars.nth(1).locator("[data-count]")).to_have_text("3")
    assert bars.nth(1).locator(".delphi-bar").evaluate("(el) => el.getBoundingClientRect().width") > 0
    expect(page.get_by_role("link", name="Present")).to_have_attribute(
        "href", f"/cycles/cycle-a/delphi/rounds/{delphi.round.number}/present/"
    )

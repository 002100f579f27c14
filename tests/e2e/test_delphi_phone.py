"""A panellist on a 390 × 844 phone: one item per screen, big answer buttons, no sideways scrolling,
the count that follows their taps, and a live close that every screen shows without a reload."""

import pytest
from playwright.sync_api import expect

from tests.workshops.delphi.factories import start_delphi
from workshops.models import Vote

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_panellist_answers_three_items_on_a_phone_by_tapping_and_moving_next(server_url, new_page, login, personas):
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=3, levels=2, live=True, live_quorum=3)
    page = login(new_page(**PHONE), personas.technologist.email)
    page.goto(f"/cycles/cycle-a/delphi/rounds/{delphi.round.number}/")
    page.wait_for_function("window.delphiClient && window.delphiClient.online()")
    assert no_sideways_scroll(page)
    # The cycle's menu is folded away: the first screen is the question itself.
    expect(page.locator("#cycle-nav-pages")).to_be_hidden()
    expect(page.locator(".delphi-cell:visible")).to_have_count(1)
    expect(page.locator("[data-pager-position]")).to_have_text("1 of 6")

    for n, item in enumerate(delphi.items[:3]):
        current = page.locator(f"#item-{item.pk}")
        expect(current).to_be_visible()
        answer = current.locator("label", has_text="Practitioner")
        box = answer.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 300  # a thumb-sized target
        answer.tap()
        expect(current.locator("[data-status]")).to_have_text("Saved")
        expect(page.locator("#mine-count")).to_have_text(str(n + 1))  # no reload
        page.get_by_role("button", name="Next", exact=True).tap()
    expect(page.locator("[data-pager-position]")).to_have_text("4 of 6")
    assert no_sideways_scroll(page)
    # The rationale reads as a control that opens (the summary's triangle, drawn by the page's
    # style), and tapping it opens the box.
    rationale = page.locator(f"#item-{delphi.items[3].pk} details.delphi-rationale")
    marker = "(s) => getComputedStyle(s, '::before').content"
    assert page.evaluate(marker, rationale.locator("summary").element_handle()) == '"▸"'
    rationale.locator("summary").tap()
    expect(rationale.locator("textarea")).to_be_visible()
    assert page.evaluate(marker, rationale.locator("summary").element_handle()) == '"▾"'
    assert sorted(Vote.objects.filter(panellist=personas.technologist).values_list("item_id", "value")) == [
        (item.pk, 2) for item in delphi.items[:3]
    ]

    # "Go to the next unanswered" skips what is done; Previous goes back to an answered item.
    page.get_by_role("button", name="Previous").tap()
    expect(page.locator("[data-pager-position]")).to_have_text("3 of 6")
    page.get_by_role("button", name="Go to the next unanswered").tap()
    expect(page.locator("[data-pager-position]")).to_have_text("4 of 6")

    # A reload keeps the answers and starts at the first unanswered item.
    page.goto(f"/cycles/cycle-a/delphi/rounds/{delphi.round.number}/")
    expect(page.locator("#mine-count")).to_have_text("3")
    expect(page.locator("[data-pager-position]")).to_have_text("4 of 6")


def test_a_live_close_shows_closed_and_no_open_badge_without_a_reload(server_url, new_page, login, personas):
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=1, levels=1, live=True)
    page = login(new_page(**PHONE), personas.employer.email)
    page.goto(f"/cycles/cycle-a/delphi/rounds/{delphi.round.number}/")
    page.wait_for_function("window.delphiClient && window.delphiClient.online()")
    expect(page.locator("#round-status")).to_have_text("Open")

    # The convener closes it from the facilitator screen (another browser; the server broadcasts).
    convener = login(new_page(), personas.convener.email)
    convener.goto(f"/cycles/cycle-a/delphi/rounds/{delphi.round.number}/facilitator/")
    convener.get_by_role("button", name="Close the round").click()

    expect(page.locator("#round-status")).to_have_text("Closed")
    expect(page.locator("#round-closed-banner")).to_be_visible()
    expect(page.locator(".badge", has_text="Open")).to_have_count(0)
    expect(page.locator(f"#v{delphi.items[0].pk}-2")).to_be_disabled()


def test_at_the_deadline_the_phone_shows_the_round_closed_by_itself(server_url, new_page, login, personas):
    from datetime import timedelta

    from django.utils import timezone

    from workshops.models import Round

    delphi = start_delphi(personas.cycle, personas.convener, capabilities=1, levels=1, live=True)
    Round.objects.filter(pk=delphi.round.pk).update(deadline=timezone.now() + timedelta(seconds=4))
    page = login(new_page(**PHONE), personas.employer.email)
    page.goto(f"/cycles/cycle-a/delphi/rounds/{delphi.round.number}/")
    expect(page.locator("#round-status")).to_have_text("Open")
    # Nobody closes it: the scheduler may be minutes away, the screen follows the deadline.
    expect(page.locator("#round-status")).to_have_text("Closed", timeout=10_000)
    expect(page.locator(f"#v{delphi.items[0].pk}-2")).to_be_disabled()

"""The convener rewords an item between rounds in a real browser (a refused change first), opens the
next round, and a panellist sees what changed with the old wording."""

import pytest
from playwright.sync_api import expect

from tests.workshops.delphi.factories import start_delphi
from workshops.delphi.aggregation import round_aggregate
from workshops.delphi.services import round_close, vote_cast
from workshops.models import ItemChange, Round

pytestmark = pytest.mark.e2e

NEW_WORDING = "Operate capability one safely, including its weekly calibration."


def test_the_convener_rewords_an_item_with_a_reason_and_the_panel_sees_the_change(
    server_url, new_page, login, personas
):
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=2, levels=1, max_rounds=3)
    for item in delphi.items:
        for person, value in ((personas.technologist, 1), (personas.employer, 3)):
            vote_cast(round_id=delphi.round.pk, panellist=person, item_id=item.pk, value=value)
    round_close(round_id=delphi.round.pk, actor=personas.convener)
    round_aggregate(round_id=delphi.round.pk)
    first = delphi.items[0]

    page = login(new_page(), personas.convener.email)
    page.goto(f"/cycles/{personas.cycle.slug}/delphi/")
    page.locator("#change-items").click()
    expect(page.get_by_role("heading", name="Change items between rounds")).to_be_visible()
    page.get_by_label("Reword one item").check()
    page.locator(f"input[name=items][value='{first.pk}']").check()
    page.get_by_label("New wording").fill(NEW_WORDING)
    page.get_by_role("button", name="Record the change").click()
    # Refused without a reason: the form comes back with what was typed, nothing recorded.
    expect(page.locator("#reason-errors")).to_be_visible()
    expect(page.get_by_label("New wording")).to_have_value(NEW_WORDING)
    assert ItemChange.objects.count() == 0
    page.get_by_label("Reason").fill("Panellists read “operate” two ways.")
    page.get_by_role("button", name="Record the change").click()
    expect(page.locator("#change-log")).to_contain_text("Panellists read “operate” two ways.")
    expect(page.locator("#change-log")).to_contain_text(first.capability.statement)

    page.goto(f"/cycles/{personas.cycle.slug}/delphi/rounds/open/")
    page.get_by_role("button", name="Open round 2").click()
    expect(page).to_have_url(f"{server_url}/cycles/{personas.cycle.slug}/delphi/rounds/2/")
    assert Round.objects.get(cycle=personas.cycle, number=2).items.count() == 2

    panellist = login(new_page(viewport={"width": 390, "height": 844}), personas.technologist.email)
    panellist.goto(f"/cycles/{personas.cycle.slug}/delphi/rounds/2/")
    note = panellist.locator("[data-change=reword]")
    expect(note).to_contain_text("Reworded since round 1")
    expect(note).to_contain_text(first.capability.statement)
    expect(panellist.get_by_text(NEW_WORDING).first).to_be_visible()

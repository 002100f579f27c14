"""Two panellists in the same live Delphi round see each other's progress without reloading."""

import pytest
from playwright.sync_api import expect

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
    expect(cell(employer, first).locator("[data-dist]")).to_contain_text("P 1")
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

"""The timeline in a real browser: a phase's dates are edited inline (htmx), errors shown in the row."""

import pytest
from playwright.sync_api import expect

from cycles.models import PhasePlan

pytestmark = pytest.mark.e2e


def test_the_convener_edits_a_phase_inline_and_sees_errors_in_the_row(server_url, page, login, personas):
    login(page, personas.convener.email)
    page.goto("/cycles/cycle-a/timeline/")
    expect(page.locator("#timeline .timeline-bar.planned")).to_have_count(0)

    page.get_by_role("link", name="Edit the dates of Prepare").click()
    row = page.locator("#phase-row-3")
    row.get_by_label("Prepare: planned start").fill("2026-05-01")
    row.get_by_label("Prepare: planned end").fill("2026-04-01")
    row.get_by_role("button", name="Save").click()
    expect(row).to_contain_text("The planned end is before its start.")
    # Nothing saved (the phase's row may not exist yet: its first valid edit creates it).
    assert not PhasePlan.objects.filter(cycle=personas.cycle, phase=3, planned_start__isnull=False).exists()

    row.get_by_label("Prepare: planned end").fill("2026-06-30")
    row.get_by_role("button", name="Save").click()
    expect(row).to_contain_text("30 Jun 2026")
    expect(row.locator("form")).to_have_count(0)
    expect(page.locator("#messages")).to_contain_text("Saved the dates of Prepare")
    # The chart above was refreshed out of band: Prepare now has its planned bar.
    expect(page.locator("#timeline .timeline-bar.planned")).to_have_count(1)
    # Still a full page (not a fragment swapped into itself): one navigation bar, one main.
    expect(page.locator("main")).to_have_count(1)

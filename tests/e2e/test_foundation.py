"""The foundation in a real browser: create a cycle, invite a technologist who accepts in a second
browser, and move the cycle from Consider through Identify to Prepare."""

import re

import pytest
from playwright.sync_api import expect

from cycles.models import Cycle, Membership, Phase, Role

pytestmark = pytest.mark.e2e


def test_a_convener_creates_a_cycle_invites_a_technologist_and_advances_to_prepare(
    server_url, new_page, login, personas
):
    convener = new_page()
    login(convener, personas.convener.email)

    # Create the cycle.
    convener.goto("/cycles/new/")
    convener.get_by_label("Title").fill("Robotic fill-finish by 2030")
    convener.get_by_label("Challenge (the what)").fill("Automate aseptic fill-finish in NHS hospital pharmacies.")
    convener.get_by_role("button", name="Create the cycle").click()
    expect(convener.get_by_role("heading", level=1)).to_have_text("Robotic fill-finish by 2030")
    expect(convener.locator("#messages")).to_contain_text("It starts in Consider")
    cycle = Cycle.objects.get(title="Robotic fill-finish by 2030")

    # Advancing straight away is refused, and the page says why (Advance asks first).
    convener.get_by_role("button", name="Advance to Identify").click()
    convener.get_by_role("dialog").get_by_role("button", name="Advance to Identify").click()
    expect(convener.locator("#messages")).to_contain_text("Identify cannot start yet")

    # Consider: propose a candidate solution (through the cycle navigation).
    convener.get_by_role("navigation", name=re.compile("Cycle:")).get_by_role(
        "link", name="Solutions", exact=True
    ).click()
    convener.get_by_label("Title").fill("Robotic aseptic filling")
    convener.get_by_role("button", name="Propose").click()
    expect(convener.locator("#solution-section")).to_contain_text("Robotic aseptic filling")

    # Invite a technologist; the members page shows the pending invitation and its link.
    convener.goto(f"/cycles/{cycle.slug}/members/invite/")
    convener.get_by_label("Email address").fill("tech.new@example.test")
    convener.get_by_label("Role").select_option("technologist")
    convener.get_by_label("Name (optional)").fill("Tess Tech")
    convener.get_by_role("button", name="Send the invitation").click()
    expect(convener.locator("#messages")).to_contain_text("Invited tech.new@example.test")
    row = convener.locator("tr", has_text="tech.new@example.test")
    expect(row).to_contain_text("Invited")
    row.get_by_text("Link", exact=True).click()
    link = row.get_by_label("Invitation link for tech.new@example.test").input_value()

    # A second browser (no shared cookies) accepts the invitation and creates the account.
    invitee = new_page()
    invitee.goto(link)
    expect(invitee.get_by_role("heading", level=1)).to_contain_text("Robotic fill-finish by 2030")
    invitee.get_by_label("Your name").fill("Tess Tech")
    invitee.get_by_label("Choose a password").fill("a-long-passphrase-9")
    invitee.get_by_label("Repeat the password").fill("a-long-passphrase-9")
    invitee.get_by_role("button", name="Create my account and join").click()
    expect(invitee.locator("#messages")).to_contain_text("Your account is ready")
    assert Membership.objects.get(cycle=cycle, user__email="tech.new@example.test").role == Role.TECHNOLOGIST

    # The link works only once.
    third = new_page()
    third.goto(link)
    expect(third.get_by_role("alert")).to_contain_text("accepted")

    # Consider → Identify (an htmx form: the phase panel is replaced in place).
    convener.goto(f"/cycles/{cycle.slug}/")
    convener.get_by_role("button", name="Advance to Identify").click()
    convener.get_by_role("dialog").get_by_role("button", name="Advance to Identify").click()
    expect(convener.locator("#messages")).to_contain_text("now in Identify")

    # The technologist rates the solution.
    invitee.goto(f"/cycles/{cycle.slug}/solutions/rate/")
    card = invitee.locator("section", has_text="Robotic aseptic filling")
    card.get_by_role("group", name=re.compile("Impact")).get_by_label("4").check()
    card.get_by_role("group", name=re.compile("Feasibility")).get_by_label("3").check()
    invitee.get_by_role("button", name="Save my ratings").click()
    expect(invitee.locator("#messages")).to_contain_text("Saved your ratings of 1 solution")

    # The convener prioritises it on the results page, then Identify → Prepare.
    convener.goto(f"/cycles/{cycle.slug}/solutions/results/")
    expect(convener.locator("#results-table")).to_contain_text("4")
    convener.get_by_role("button", name=re.compile("^Prioritise")).click()
    expect(convener.get_by_role("button", name=re.compile("^Prioritised"))).to_be_visible()
    convener.goto(f"/cycles/{cycle.slug}/")
    convener.get_by_role("button", name="Advance to Prepare").click()
    convener.get_by_role("dialog").get_by_role("button", name="Advance to Prepare").click()
    expect(convener.locator("#messages")).to_contain_text("now in Prepare")
    expect(convener.locator(".phase-badge")).to_contain_text("Prepare")

    cycle.refresh_from_db()
    assert cycle.phase == Phase.PREPARE
    assert list(cycle.audit_events.filter(verb="phase.advanced").values_list("detail__to", flat=True)) == [3, 2]

"""The join flow on a phone, in a fresh browser: the code typed at /join (or the QR code's link)
leads through logging in, or signing up when the convener allows open join, to the live round."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from cycles.models import Membership
from tests.factories import PASSWORD
from tests.workshops.delphi.factories import start_delphi
from workshops.join.codes import shown
from workshops.models import JoinCode

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def live_round(personas):
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=2, levels=1)
    return delphi, JoinCode.objects.get(round=delphi.round)


def test_a_code_typed_on_a_phone_leads_through_login_to_the_live_round(server_url, new_page, personas):
    delphi, code = live_round(personas)
    page = new_page(**PHONE)
    page.goto("/join/")
    assert no_sideways_scroll(page)
    field = page.get_by_label("Code on the screen")
    expect(field).to_be_focused()
    field.fill(shown(code.code).lower())  # as people type it: lower case, with the space
    page.get_by_role("button", name="Join").click()

    expect(page.get_by_role("heading", name="Log in to join")).to_be_visible()
    expect(page.get_by_role("heading", name="Delphi round 1")).to_be_visible()
    assert no_sideways_scroll(page)
    page.get_by_label("Email", exact=True).fill(personas.technologist.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in and join").click()

    page.wait_for_url(re.compile(rf"/cycles/cycle-a/delphi/rounds/{delphi.round.number}/$"))
    expect(page.get_by_role("heading", name=f"Delphi round {delphi.round.number}")).to_be_visible()


def test_a_wrong_code_says_so_and_can_be_corrected(server_url, new_page, personas):
    _, code = live_round(personas)
    page = new_page(**PHONE)
    page.goto("/join/")
    page.get_by_label("Code on the screen").fill("K7QM 2XPA")
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_role("alert")).to_have_text(
        "No live session has the code K7QM 2XPA: check the code on the screen."
    )
    page.get_by_label("Code on the screen").fill(code.code)
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_role("heading", name="Log in to join")).to_be_visible()


def test_open_join_from_the_qr_code_signs_up_and_lands_on_the_round(server_url, new_page, personas):
    delphi, code = live_round(personas)
    code.open_join, code.role, code.group = True, "employer", "industry"
    code.save()
    page = new_page(**PHONE)
    page.goto(f"/join/{code.code}/")  # what the phone's camera opens from the QR code
    expect(page.get_by_role("heading", name="Sign up and join")).to_be_visible()
    assert no_sideways_scroll(page)
    page.get_by_label("Your name").fill("Grace Newcomer")
    page.get_by_label("Your email").fill("grace@new.test")
    page.get_by_label("Your organisation").fill("Newcomer Fabrication")
    page.get_by_label("Choose a password").fill("a-long-pass-phrase-9")
    page.get_by_label("Repeat the password").fill("a-long-pass-phrase-9")
    page.get_by_role("button", name="Sign up and join").click()

    page.wait_for_url(re.compile(rf"/cycles/cycle-a/delphi/rounds/{delphi.round.number}/$"))
    expect(page.get_by_text("Welcome to “Cycle A”: you take part as employer.")).to_be_visible()
    user = User.objects.get(email="grace@new.test")
    assert Membership.objects.get(cycle=personas.cycle, user=user).role == "employer"
    assert user.group == "industry"
    code.refresh_from_db()
    assert code.uses == 1

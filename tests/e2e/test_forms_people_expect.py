"""Forms people expect (issue 13, item 16), in a real browser: a filter of several choices is a set
of checkboxes that filters the table; a count axis has no 0.5 tick; "Advance to <phase>" asks
first and Cancel leaves the phase; rating several solutions is one Save; the sign-up keeps the
invited name and puts the cursor where the person types next; the match form starts at IfATE,
then at the framework the cycle's last run used."""

import re

import pytest
from playwright.sync_api import expect

from cycles.models import Cycle, Phase, Role, SolutionRating
from tests.cycles.factories import InvitationFactory, SolutionFactory
from tests.findings import builders

pytestmark = pytest.mark.e2e


@pytest.fixture
def mini(server_url, personas):
    cycle = builders.build_mini()
    builders.add_member(cycle["cycle"], personas.convener, Role.CONVENER)
    return cycle


def test_the_findings_filter_is_a_set_of_checkboxes_that_filters_the_table(server_url, new_page, login, personas, mini):
    page = login(new_page(), personas.convener.email)
    page.goto("/cycles/mini/findings/fop_matrix/")
    assert page.locator("select[multiple]").count() == 0
    rows = page.locator("table[data-table=matrix] tbody tr")
    expect(rows).to_have_count(5)
    functions = page.get_by_role("group", name="Function")
    expect(functions.locator("summary")).to_have_text("All")
    functions.locator("summary").click()
    functions.get_by_role("checkbox", name="Design").check()
    page.wait_for_url("**function=Design**")
    expect(rows).to_have_count(1)  # C1, the only Design capability a FOP needs
    expect(page.locator("table[data-table=matrix] tbody")).to_contain_text("C1")
    functions.get_by_role("checkbox", name="Logistics").check()
    page.wait_for_url("**function=Logistics**")
    expect(rows).to_have_count(2)
    expect(functions.locator("summary")).to_have_text("Design, Logistics")
    page.keyboard.press("Escape")
    expect(functions.get_by_role("checkbox", name="Design")).to_be_hidden()  # the list closed
    # The URL holds the choice: reloading shows the same boxes ticked and the same rows.
    page.reload()
    expect(rows).to_have_count(2)
    functions.locator("summary").click()
    expect(functions.get_by_role("checkbox", name="Design")).to_be_checked()
    expect(functions.get_by_role("checkbox", name="Implement")).not_to_be_checked()


def test_a_count_charts_axis_has_no_half_ticks(server_url, new_page, login, personas, mini):
    page = login(new_page(), personas.convener.email)
    page.goto("/cycles/mini/findings/partners/")  # at most 3 capabilities per partner
    canvas = page.locator("canvas[data-chart]").first
    expect(canvas).to_be_visible()
    ticks = page.evaluate("(c) => Chart.getChart(c).scales.x.ticks.map((t) => t.value)", canvas.element_handle())
    assert ticks and all(float(t).is_integer() for t in ticks), ticks
    labels = page.evaluate("(c) => Chart.getChart(c).scales.x.ticks.map((t) => t.label)", canvas.element_handle())
    assert "0.5" not in labels and "1.5" not in labels


def test_advance_asks_to_confirm_and_cancel_leaves_the_phase(server_url, new_page, login, personas):
    SolutionFactory(cycle=personas.cycle, title="Robotic aseptic filling")
    page = login(new_page(), personas.convener.email)
    page.goto(f"/cycles/{personas.cycle.slug}/")
    page.get_by_role("button", name="Advance to Identify").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text("Advance to Identify?")
    expect(dialog).to_contain_text("The cycle moves from Consider to Identify")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    page.reload()
    expect(page.locator("#phase-panel [aria-current=step]")).to_contain_text("Consider")
    assert Cycle.objects.get(pk=personas.cycle.pk).phase == Phase.CONSIDER

    page.get_by_role("button", name="Advance to Identify").click()
    page.get_by_role("dialog").get_by_role("button", name="Advance to Identify").click()
    expect(page.locator("#messages")).to_contain_text("now in Identify")
    expect(page.locator("#phase-panel [aria-current=step]")).to_contain_text("Identify")
    assert Cycle.objects.get(pk=personas.cycle.pk).phase == Phase.IDENTIFY


def test_without_javascript_advance_is_a_confirmation_page(server_url, new_page, login, personas):
    SolutionFactory(cycle=personas.cycle, title="Robotic aseptic filling")
    page = login(new_page(java_script_enabled=False), personas.convener.email)
    page.goto(f"/cycles/{personas.cycle.slug}/")
    page.get_by_role("button", name="Advance to Identify").click()
    expect(page.get_by_role("heading", name="Advance to Identify?")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(re.compile(rf"/cycles/{personas.cycle.slug}/$"))
    assert Cycle.objects.get(pk=personas.cycle.pk).phase == Phase.CONSIDER


def test_rating_several_solutions_is_one_save(server_url, new_page, login, personas):
    Cycle.objects.filter(pk=personas.cycle.pk).update(phase=Phase.IDENTIFY)
    for title in ("Robotic aseptic filling", "Closed automated systems", "Digital batch records"):
        SolutionFactory(cycle=personas.cycle, title=title)
    page = login(new_page(viewport={"width": 390, "height": 844}), personas.technologist.email)
    page.goto(f"/cycles/{personas.cycle.slug}/solutions/rate/")
    expect(page.get_by_role("button", name=re.compile("Save"))).to_have_count(1)

    def score(title, impact, feasibility=None):
        card = page.locator("section", has_text=title)
        card.get_by_role("group", name=re.compile("Impact")).get_by_label(str(impact)).check()
        if feasibility:
            card.get_by_role("group", name=re.compile("Feasibility")).get_by_label(str(feasibility)).check()
        return card

    score("Robotic aseptic filling", 4, 3)
    half = score("Closed automated systems", 5)
    page.get_by_role("button", name="Save my ratings").click()
    expect(page.locator("#messages")).to_contain_text("Nothing was saved")
    expect(half).to_contain_text("Choose a score from 1 to 5.")
    assert not SolutionRating.objects.exists()

    half.get_by_role("group", name=re.compile("Feasibility")).get_by_label("2").check()
    page.get_by_role("button", name="Save my ratings").click()
    expect(page.locator("#messages")).to_contain_text("Saved your ratings of 2 solutions")
    saved = {(r.solution.title, r.impact, r.feasibility) for r in SolutionRating.objects.all()}
    assert saved == {("Robotic aseptic filling", 4, 3), ("Closed automated systems", 5, 2)}


def test_the_sign_up_keeps_the_invited_name_and_focuses_the_password(server_url, new_page, personas):
    invitation = InvitationFactory(cycle=personas.cycle, email="priya@example.test", name="Priya Patel")
    page = new_page()
    page.goto(f"/invitations/{invitation.token}/")
    expect(page.get_by_label("Your name")).to_have_value("Priya Patel")
    expect(page.get_by_label("Choose a password")).to_be_focused()
    page.keyboard.type("a-long-passphrase-9")
    page.get_by_label("Repeat the password").fill("a-long-passphrase-9")
    page.get_by_role("button", name="Create my account and join").click()
    expect(page.locator("#messages")).to_contain_text("Your account is ready")


def test_the_match_form_starts_at_skills_england_and_then_keeps_the_cycles_framework(
    server_url, new_page, login, personas
):
    from matching.models import MatchRun
    from tests.matching.conftest import make_framework

    onet = make_framework("onet", [("O1", "Lab technician", None, ["Keep records of tests"])], has_levels=False)
    ifate = make_framework("ifate", [("ST1", "Laboratory technician", 3, ["Maintain laboratory equipment"])])
    page = login(new_page(), personas.convener.email)
    page.goto(f"/cycles/{personas.cycle.slug}/matching/")
    expect(page.get_by_label("Reference framework version")).to_have_value(str(ifate.pk))
    # The convener changed it for a run: the next run starts from that framework.
    MatchRun.objects.create(cycle=personas.cycle, framework_version=onet, threshold=0.6)
    page.reload()
    expect(page.get_by_label("Reference framework version")).to_have_value(str(onet.pk))

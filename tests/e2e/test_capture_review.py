"""The capture page at real scale in a browser (issue 13, items 12–14): the convener reviews many
statements at once from the keyboard and undoes the last bulk action; a technologist is shown a
near duplicate while typing, and can still submit."""

import pytest
from playwright.sync_api import expect

from tests.factories import SupplyChainPartnerFactory
from tests.workshops.capture.factories import CapabilityFactory
from workshops.capture.taxonomy import taxonomy_load_default
from workshops.models import Capability, FunctionalArea

pytestmark = pytest.mark.e2e
CAPTURE = "/cycles/cycle-a/capture/"
# Worded unlike the published statements: tests/findings/builders.py stores hand-made vectors for
# those, which the test server's in-process vector cache keeps after the database is flushed.
STATEMENTS = [
    "Ensure cold chain capacity for supply of raw materials into the manufacturing process.",
    "Support compliance audits within the spoke sites to meet regulatory requirements such as HTA and MHRA.",
    "Implement maintenance plans to sustain equipment uptime and qualified status.",
    "Develop NHS-specific inventory models for modular manufacturing units to optimise stock levels.",
    "Design modular cleanroom pods for rapid deployment across multiple NHS sites.",
    "Automate assays on laboratory robotics to improve efficiency.",
]


def _capture(cycle):
    return [
        CapabilityFactory(cycle=cycle, ref=f"C{i:02d}", statement=text) for i, text in enumerate(STATEMENTS, start=1)
    ]


def _statuses():
    return dict(Capability.objects.values_list("ref", "status"))


def _watch_console(page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def test_the_convener_reviews_in_bulk_from_the_keyboard_and_undoes_the_last_action(
    server_url, new_page, login, personas
):
    taxonomy_load_default()
    SupplyChainPartnerFactory(cycle=personas.cycle, name="NHS workforce")
    rows = _capture(personas.cycle)
    page = login(new_page(), personas.convener.email)
    problems = _watch_console(page)
    page.goto(CAPTURE)
    count = page.locator("#bulk-count")
    expect(count).to_have_text("None selected")
    # Connected, the page catches up once (a refresh of the list): a person starts after that.
    expect(page.locator("#capture-live")).to_have_text("Live")
    page.wait_for_load_state("networkidle")

    # Space on a row's checkbox, x on a row that holds the focus (its statement link).
    page.get_by_label("Select C06").focus()
    page.keyboard.press("Space")
    page.get_by_role("link", name=STATEMENTS[4]).focus()
    page.keyboard.press("x")
    expect(count).to_have_text("2 of 6 selected")
    expect(page.locator("#bulk-all")).to_have_js_property("indeterminate", True)
    page.get_by_label("Select C06").press("Enter")  # Enter on a tick box must not press "Accept"
    page.wait_for_timeout(300)
    assert set(_statuses().values()) == {"submitted"}

    # The list refreshes itself (another member's change): the ticks survive the swap.
    page.evaluate("document.body.dispatchEvent(new CustomEvent('capture:changed'))")
    page.wait_for_timeout(500)
    expect(page.get_by_label("Select C05")).to_be_checked()
    expect(count).to_have_text("2 of 6 selected")

    page.get_by_label("Select all shown").focus()
    page.keyboard.press("Space")
    expect(count).to_have_text("6 of 6 selected")
    page.get_by_role("button", name="Accept", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.locator("#bulk-done")).to_contain_text("6 statements accepted.")
    assert set(_statuses().values()) == {"accepted"}
    page.locator("#bulk-undo").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#messages")).to_contain_text("Undone: 6 statements are back as they were")
    assert set(_statuses().values()) == {"submitted"}
    page.wait_for_load_state()  # the page the undo led to has its scripts (the toolbar's panels) running

    # Reject needs one reason; the toolbar says so before anything is sent.
    page.get_by_label("Select C01").check()
    page.get_by_role("button", name="Reject…").press("Enter")
    reason = page.get_by_label("Reason for rejecting the selected statements")
    expect(reason).to_be_focused()
    page.get_by_role("button", name="Reject selected").click()
    expect(page.locator("#bulk-problem")).to_have_text("Say why the statements are rejected.")
    reason.fill("Out of scope for this cycle")
    page.get_by_role("button", name="Reject selected").click()
    expect(page.locator("#bulk-done")).to_contain_text("1 statement rejected: Out of scope for this cycle")

    # All or nothing: a statement that cannot take the action refuses it, naming it.
    page.goto(f"{CAPTURE}?status=all")
    page.get_by_label("Select C01").check()
    page.get_by_label("Select C02").check()
    page.get_by_role("button", name="Reject…").click()
    page.get_by_label("Reason for rejecting the selected statements").fill("Duplicate")
    page.get_by_role("button", name="Reject selected").click()
    expect(page.locator("#messages")).to_contain_text("Nothing was changed: C01 was already rejected.")
    assert _statuses()["C02"] == "submitted"

    # Classify and assign partners: one select, one checkbox list.
    page.get_by_label("Select C02").check()
    page.get_by_label("Select C03").check()
    page.get_by_role("button", name="Classify…").click()
    page.get_by_label("Classify the selected statements as").select_option(
        label="Repair & Maintenance › Maintain Qualified Status"
    )
    page.get_by_role("button", name="Classify selected").click()
    expect(page.locator("#bulk-done")).to_contain_text("2 statements classified as Support › Repair & Maintenance")
    page.get_by_label("Select C04").check()
    page.get_by_role("button", name="Partners…").click()
    page.locator("#bulk-partners").get_by_label("NHS workforce").check()
    page.get_by_role("button", name="Assign partners").click()
    expect(page.locator("#bulk-done")).to_contain_text("1 statement tagged with NHS workforce.")
    expect(page.locator(f"#capability-{rows[3].pk}")).to_contain_text("NHS workforce")
    assert problems == []


def test_the_suggested_classification_is_shown_per_statement_and_applied_to_a_selection(
    server_url, new_page, login, personas
):
    taxonomy_load_default()
    cold_chain = FunctionalArea.objects.select_related("domain__function").get(name="Maintain Cold Chain")
    CapabilityFactory(
        cycle=personas.other_cycle,
        ref="C09",
        statement="Maintain cold chain capacity for raw materials and finished therapies.",
        status="accepted",
        function=cold_chain.domain.function,
        domain=cold_chain.domain,
        area=cold_chain,
    )
    rows = _capture(personas.cycle)
    page = login(new_page(), personas.convener.email)
    page.goto(CAPTURE)
    row = page.locator(f"#capability-{rows[0].pk}")
    expect(row).to_contain_text("Suggested: Logistics › Materials Management › Maintain Cold Chain")
    expect(row).to_contain_text("(1 similar classified statement)")
    page.get_by_role("button", name="Classify…").click()
    page.get_by_role("button", name="Select the statements with a suggestion").click()
    expect(page.get_by_label("Select C01")).to_be_checked()
    suggested = page.locator('input[type=hidden][name^="suggested-"]').count()
    expect(page.locator("#bulk-count")).to_have_text(f"{suggested} of 6 selected")
    page.get_by_role("button", name="Apply suggested classification").click()
    expect(page.locator("#bulk-done")).to_contain_text(f"{suggested} statement")
    expect(page.locator("#bulk-done")).to_contain_text("suggested classification.")
    expect(page.locator(f"#capability-{rows[0].pk}")).to_contain_text(
        "Logistics › Materials Management › Maintain Cold Chain"
    )
    assert Capability.objects.get(pk=rows[0].pk).area == cold_chain


def test_the_review_toolbar_fits_a_phone(server_url, new_page, login, personas):
    taxonomy_load_default()
    _capture(personas.cycle)
    page = login(new_page(viewport={"width": 390, "height": 844}), personas.convener.email)
    page.goto(CAPTURE)
    page.get_by_role("button", name="Classify…").click()
    expect(page.get_by_label("Classify the selected statements as")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_near_duplicate_is_shown_while_typing_and_submitting_still_works(server_url, new_page, login, personas):
    _capture(personas.cycle)
    page = login(new_page(), personas.technologist.email)
    problems = _watch_console(page)
    page.goto(CAPTURE)
    box = page.get_by_label("Capability statement", exact=True)
    box.press_sequentially("Support regulatory compliance audits at spoke sites", delay=20)
    duplicates = page.locator("#statement-duplicates")
    expect(duplicates).to_contain_text("Looks like C02: " + STATEMENTS[1])
    expect(duplicates).to_contain_text("% similar")
    # The test server has the model loaded (tests/e2e/conftest.py), so it compares by meaning;
    # the wording fallback of a process without the model is tested in tests/workshops/capture.
    expect(page.locator("#statement-hints")).to_have_attribute("data-similarity", "embedding")
    expect(duplicates.get_by_role("link", name="C02 (opens in a new tab)")).to_have_attribute("target", "_blank")

    # A hint, never a gate: the statement can be sent as it is.
    box.press_sequentially(" for HTA and MHRA inspections.", delay=5)
    page.get_by_role("button", name="Submit statement").click()
    expect(page.locator("#messages")).to_contain_text("C07 submitted")
    assert Capability.objects.filter(ref="C07", cycle=personas.cycle).exists()
    assert problems == []

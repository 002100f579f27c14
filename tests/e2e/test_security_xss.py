"""Text that people type is shown as text: statements, rationales, tags, names and report prose
containing HTML or script never run in a real browser, on the page or when inserted live.

Every payload sets ``window.__xss`` if it ever executes; each page is loaded in Chromium and the flag
must stay undefined, while the payload's text is visible as typed.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from cycles.models import Solution, SupplyChainPartner, Theme
from findings.models import ActionItem, ReportSection
from tests.portability.fixtures import build_rich_cycle
from workshops.models import FOP, Capability, Round, Tag, Vote

pytestmark = pytest.mark.e2e

IMG = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>window.__xss=1</script>"
SVG = '</text></svg><svg onload="window.__xss=1">'
ATTR = '" autofocus onfocus="window.__xss=1" x="'
PAYLOADS = [IMG, SCRIPT, SVG, ATTR]


def _all(text: str) -> str:
    return f"{text} {IMG} {SCRIPT} {SVG} {ATTR}"


@pytest.fixture
def hostile_cycle(personas):
    cycle = build_rich_cycle(personas)
    cycle.title = _all("Cycle A")
    cycle.save()
    Capability.objects.filter(cycle=cycle).update(statement=_all("Design units"))
    Vote.objects.filter(round__cycle=cycle).update(rationale=_all("Because"))
    Tag.objects.update(name=_all("Quality"))
    FOP.objects.filter(cycle=cycle).update(name=_all("Technician"), description=_all("Builds"))
    for n, solution in enumerate(Solution.objects.filter(cycle=cycle)):
        solution.title, solution.description = _all(f"Units {n}"), _all("Small")
        solution.save()
    for n, partner in enumerate(SupplyChainPartner.objects.filter(cycle=cycle)):
        partner.name = _all(f"Partner {n}")
        partner.save()
    Theme.objects.filter(cycle=cycle).update(title=_all("Theme"))
    ActionItem.objects.filter(cycle=cycle).update(topic=_all("Act"), action=_all("Do"))
    ReportSection.objects.update_or_create(
        cycle=cycle,
        key=ReportSection.Key.EXECUTIVE_SUMMARY,
        defaults={"body": _all("Summary") + "\n\n[click me](javascript:window.__xss=1) <a href=javascript:x>raw</a>"},
    )
    return cycle


def _pages(cycle, personas) -> dict[str, list[str]]:
    slug = cycle.slug
    capability = Capability.objects.filter(cycle=cycle, status="accepted").first()
    fop = FOP.objects.filter(cycle=cycle).first()
    open_round = Round.objects.get(cycle=cycle, status="open").number
    convener = [
        reverse("cycles:cycle_detail", args=[slug]),
        reverse("cycles:dashboard"),
        reverse("cycles:solutions", args=[slug]),
        reverse("cycles:solution_results", args=[slug]),
        reverse("cycles:partners", args=[slug]),
        reverse("cycles:audit", args=[slug]),
        reverse("workshops:capture", args=[slug]),
        reverse("workshops:capability_detail", args=[slug, capability.pk]),
        reverse("workshops:delphi_round", args=[slug, open_round]),
        reverse("workshops:delphi_facilitator", args=[slug, open_round]),
        reverse("workshops:delphi_results", args=[slug]),
        reverse("workshops:fops", args=[slug]),
        reverse("workshops:fop_detail", args=[slug, fop.pk]),
        reverse("workshops:fop_matrix", args=[slug]),
        reverse("workshops:tags", args=[slug]),
        reverse("findings:home", args=[slug]),
        reverse("findings:page", args=[slug, "overview"]),
        reverse("findings:page", args=[slug, "partners"]),
        reverse("findings:page", args=[slug, "highlighted"]),
        reverse("findings:actions", args=[slug]),
        reverse("findings:report", args=[slug]),
    ]
    # A panellist sees the previous round's anonymous rationales as feedback.
    technologist = [reverse("workshops:delphi_round", args=[slug, open_round])]
    return {personas.convener.email: convener, personas.technologist.email: technologist}


def test_hostile_text_on_every_page_is_shown_inert(hostile_cycle, personas, new_page, login, server_url):
    ran, errors = [], []
    for email, urls in _pages(hostile_cycle, personas).items():
        page = new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        login(page, email)
        for url in urls:
            page.goto(server_url + url)
            page.wait_for_load_state("networkidle")
            if page.evaluate("() => window.__xss") is not None:
                ran.append(url)
            # Focus every element once: an injected onfocus attribute would fire now.
            page.evaluate("() => document.querySelectorAll('*').forEach((e) => { try { e.focus(); } catch (x) {} })")
            if page.evaluate("() => window.__xss") is not None and url not in ran:
                ran.append(url)
    assert ran == [], f"script ran on {ran}"
    page = login(new_page(), personas.convener.email)
    capability = Capability.objects.filter(cycle=hostile_cycle, status="accepted").first()
    page.goto(server_url + reverse("workshops:capability_detail", args=[hostile_cycle.slug, capability.pk]))
    expect(page.locator("body")).to_contain_text(IMG)  # shown as typed, not swallowed


def test_a_hostile_statement_arriving_live_on_the_capture_screen_is_shown_inert(
    hostile_cycle, personas, new_page, login
):
    technologist = login(new_page(), personas.technologist.email)
    observer = login(new_page(), personas.observer.email)
    for page in (technologist, observer):
        page.goto(reverse("workshops:capture", args=[hostile_cycle.slug]))
        page.wait_for_function("window.captureLive === true")
    statement = "Inspect arriving units " + IMG + SCRIPT
    technologist.get_by_label("Capability statement", exact=True).fill(statement)
    technologist.get_by_role("button", name="Submit statement").click()

    # The observer's list refreshes from the socket; the statement shows as text and runs nothing.
    expect(observer.locator("#capture-list")).to_contain_text("Inspect arriving units")
    expect(observer.locator("#capture-list")).to_contain_text(IMG)
    assert observer.evaluate("() => window.__xss") is None
    assert technologist.evaluate("() => window.__xss") is None

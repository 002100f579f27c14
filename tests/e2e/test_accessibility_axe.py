"""WCAG 2.2 AA in a real browser: axe-core checks the pages people use most, as the convener and as a
panellist, on the published point-of-care demo cycle (findings, FOPs, report) and on a small live
cycle with an open Delphi round and a FOP in review, plus a few states (a failed login, an invalid
statement, a vote, an open menu, the phase-dates form, the projector view) and the keyboard path in.

axe-core is vendored under tests/e2e/vendor/axe-core (test-only, never served by the app). Each page
is its own test; the data is built once for the module and one browser context is kept per persona,
so the whole file costs one demo build, three logins and one page load per test. Because the data
outlives a single test, this module overrides ``transactional_db`` to commit it once and flush it at
the end of the module (``server_url`` would flush after every test); it drives the same session
server and browser as the other browser tests. A failure lists each rule with its impact, help text,
the first elements' selectors and HTML, and leaves a screenshot in test-artifacts/.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from tests.e2e.conftest import ARTIFACTS, DEFAULT_TIMEOUT_MS, _safe_name
from tests.findings import builders

pytestmark = pytest.mark.e2e

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
DEMO_PASSWORD = "foresight-demo"
PERSONAS = {
    "anonymous": None,
    "convener": "convener@demo.test",
    # Votes in the Delphi round of the live cycle and reviews its FOP (so sees the review controls).
    "panellist": "employer@demo.test",
}
POC = builders.POC
CGT = builders.CGT  # the demo cycle with solutions and ratings
LIVE = "axe-live"
FINDINGS = ["functions", "highlighted", "proficiency", "fop_matrix", "ksb", "capability_matches", "fit_surplus_matrix"]
BOTH = ("convener", "panellist")
#: A persona name ending in PHONE is the same person on a 390 × 844 phone (the live room's screens).
PHONE = "@phone"


def failed_login(page):
    page.get_by_label("Email").fill("nobody@demo.test")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("alert").wait_for()


def open_cycles_menu(page):
    page.get_by_role("button", name="Cycles").click()
    page.locator(".dropdown-menu.show").wait_for()


def edit_phase_dates(page):
    page.get_by_role("link", name="Edit the dates of Carry out").click()
    page.get_by_role("button", name="Save").wait_for()


def submit_empty_statement(page):
    page.get_by_role("button", name="Submit statement").click()
    page.locator("#capture-form .is-invalid, #capture-form [role=alert]").first.wait_for()


def vote_once(page):
    # The first answer button on screen (on a phone: of the one item shown).
    page.locator(".delphi-cell:visible label[for^='v']").first.click()
    page.locator("[data-status]:visible", has_text="Saved").first.wait_for()


def type_wrong_code(page):
    page.get_by_label("Code on the screen").fill("K7QM 2XPA")
    page.get_by_role("button", name="Join").click()
    page.get_by_role("alert").wait_for()


def submit_empty_sign_up(page):
    page.get_by_role("button", name="Sign up and join").click()
    page.locator(".invalid-feedback").first.wait_for()


def projector_view(page):
    page.get_by_role("button", name="Projector view").click()
    page.locator("body.projector-mode").wait_for()


# (page name, path, personas, what to do on the page before the check). Paths are formatted with
# the ids of the data built below; a state left by an action is undone by the next page load.
PAGES = [
    ("login", "/accounts/login/", ("anonymous",), None),
    ("login-failed", "/accounts/login/", ("anonymous",), failed_login),
    ("dashboard", "/", BOTH, None),
    ("dashboard-cycles-menu", "/", ("convener",), open_cycles_menu),
    ("profile", "/accounts/profile/", BOTH, None),
    ("cycle-list", "/cycles/", BOTH, None),
    ("cycle-overview", f"/cycles/{POC}/", BOTH, None),
    ("timeline", f"/cycles/{POC}/timeline/", BOTH, None),
    ("timeline-editing", f"/cycles/{POC}/timeline/", ("convener",), edit_phase_dates),
    ("members", f"/cycles/{POC}/members/", ("convener",), None),  # conveners only
    ("audit", f"/cycles/{POC}/audit/", ("convener",), None),  # conveners and observers
    ("solutions", f"/cycles/{CGT}/solutions/", BOTH, None),
    ("solution-results", f"/cycles/{CGT}/solutions/results/", BOTH, None),
    ("partners", f"/cycles/{POC}/prepare/partners/", BOTH, None),
    ("role-levels", f"/cycles/{POC}/prepare/role-levels/", BOTH, None),
    ("workshops", f"/cycles/{POC}/prepare/workshops/", BOTH, None),
    ("capture", f"/cycles/{LIVE}/capture/", BOTH, None),
    # Only conveners and technologists submit statements.
    ("capture-invalid", f"/cycles/{LIVE}/capture/", ("convener",), submit_empty_statement),
    ("delphi-home", f"/cycles/{LIVE}/delphi/", BOTH, None),
    ("delphi-grid", f"/cycles/{LIVE}/delphi/rounds/{{round}}/", ("panellist", "panellist@phone", "convener"), None),
    ("delphi-grid-voted", f"/cycles/{LIVE}/delphi/rounds/{{round}}/", ("panellist", "panellist@phone"), vote_once),
    ("delphi-facilitator", f"/cycles/{LIVE}/delphi/rounds/{{round}}/facilitator/", ("convener",), None),
    ("delphi-presenter", f"/cycles/{LIVE}/delphi/rounds/{{round}}/present/", ("convener",), None),
    ("fops", f"/cycles/{POC}/fops/", BOTH, None),
    ("fop-matrix", f"/cycles/{POC}/fops/matrix/", BOTH, None),
    ("fop-detail", f"/cycles/{LIVE}/fops/{{fop}}/", BOTH, None),
    ("capability-trace", f"/cycles/{LIVE}/capabilities/{{capability}}/trace/", BOTH, None),
    ("tags", f"/cycles/{POC}/tags/", BOTH, None),
    ("tag-frequency", f"/cycles/{POC}/tags/frequency/", BOTH, None),
    ("matching-runs", f"/cycles/{POC}/matching/", BOTH, None),
    ("matching-run", f"/cycles/{POC}/matching/runs/{{run}}/", BOTH, None),
    ("frameworks", "/matching/frameworks/", ("convener",), None),
    ("findings-index", f"/cycles/{POC}/findings/", BOTH, None),
    *((f"findings-{key}", f"/cycles/{POC}/findings/{key}/", BOTH, None) for key in FINDINGS),
    ("findings-functions-projector", f"/cycles/{POC}/findings/functions/", ("convener",), projector_view),
    # Join (workshops/join): the phone's screens (the round's code has open join, the workshop's not).
    ("join", "/join/", ("anonymous", "anonymous@phone"), None),
    ("join-wrong-code", "/join/", ("anonymous@phone",), type_wrong_code),
    ("join-log-in", "/join/{workshop_code}/", ("anonymous", "anonymous@phone"), None),
    ("join-sign-up", "/join/{join_code}/", ("anonymous@phone",), None),
    ("join-sign-up-invalid", "/join/{join_code}/", ("anonymous@phone",), submit_empty_sign_up),
    ("join-settings", f"/cycles/{LIVE}/delphi/rounds/{{round}}/join-code/", ("convener", "convener@phone"), None),
    ("capture-workshop-join", f"/cycles/{LIVE}/capture/workshops/{{workshop}}/", ("convener",), None),
    ("report", f"/cycles/{POC}/report/", BOTH, None),
    ("actions", f"/cycles/{POC}/actions/", BOTH, None),
]
CASES = [
    pytest.param(persona, path, action, id=f"{persona}-{name}")
    for name, path, personas, action in PAGES
    for persona in personas
]

RUN_AXE = """async (tags) => {
    const results = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
    return results.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
        nodes: v.nodes.map((n) => ({target: n.target, html: n.html, summary: n.failureSummary})),
    }));
}"""


def build_data() -> dict:
    """The published demo cycles with a matching run, and a small live cycle for the demo people:
    an open Delphi round (the panellist votes), the default taxonomy and a FOP in review."""
    from accounts.models import User
    from cycles.models import Role
    from tests.factories import CycleFactory, MembershipFactory, SupplyChainPartnerFactory
    from tests.workshops.delphi.factories import start_delphi
    from tests.workshops.fops.factories import make_fop
    from workshops.capture.taxonomy import taxonomy_load_default

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        cycles = builders.build_demo()
    builders.build_demo_match(cycles[POC])
    people = {u.email: u for u in User.objects.filter(email__endswith="@demo.test")}
    live = CycleFactory(slug=LIVE, title="Live workshop cycle")
    for email, role in (
        ("convener@demo.test", Role.CONVENER),
        ("technologist@demo.test", Role.TECHNOLOGIST),
        ("employer@demo.test", Role.EMPLOYER),
    ):
        MembershipFactory(cycle=live, user=people[email], role=role)
    taxonomy_load_default()
    SupplyChainPartnerFactory(cycle=live, name="NHS workforce")
    delphi = start_delphi(live, people["convener@demo.test"], capabilities=4, levels=2)
    caps = [item.capability for item in delphi.items[::2]]
    fop = make_fop(
        live, capabilities=caps, role_level=delphi.items[0].role_level, reviewers=[people["employer@demo.test"]]
    )
    from matching.models import MatchRun

    run = MatchRun.objects.filter(cycle=cycles[POC]).latest("id")
    from tests.factories import WorkshopFactory
    from workshops.join.services import join_code_for_workshop, join_code_update

    join_code = join_code_update(
        code=delphi.round.join_code, actor=None, open_join=True, role="technologist", group="technology"
    )
    workshop = WorkshopFactory(cycle=live, title="Capture workshop")
    workshop_code = join_code_for_workshop(workshop=workshop, actor=None)
    return {
        "round": delphi.round.number, "fop": fop.pk, "capability": caps[0].pk, "run": run.pk,
        "join_code": join_code.code, "workshop": workshop.pk, "workshop_code": workshop_code.code,
    }  # fmt: skip


@dataclass
class Site:
    """The server, the data and one logged-in browser context per persona, all made on first use."""

    url: str
    browser: object
    _data: dict | None = None
    _pages: dict = field(default_factory=dict)

    def data(self) -> dict:
        if self._data is None:
            self._data = build_data()
        return self._data

    def page(self, persona: str):
        if persona not in self._pages:
            on_phone = persona.endswith(PHONE)
            context = self.browser.new_context(
                base_url=self.url,
                viewport={"width": 390, "height": 844} if on_phone else {"width": 1366, "height": 900},
                is_mobile=on_phone,
                has_touch=on_phone,
                locale="en-GB",
                timezone_id="Europe/London",
                reduced_motion="reduce",  # no half-faded elements while the contrast is measured
            )
            context.set_default_timeout(DEFAULT_TIMEOUT_MS)
            page = context.new_page()
            email = PERSONAS[persona.removesuffix(PHONE)]
            if email is not None:
                # As the ``login`` fixture does: through the real login form.
                page.goto("/accounts/login/")
                page.get_by_label("Email").fill(email)
                page.get_by_label("Password").fill(DEMO_PASSWORD)
                page.get_by_role("button", name="Log in").click()
                page.wait_for_url(lambda url: "/accounts/login/" not in url)
            self._pages[persona] = page
        return self._pages[persona]

    def close(self) -> None:
        for page in self._pages.values():
            page.context.close()


@pytest.fixture(scope="module")
def transactional_db(django_db_setup, django_db_blocker):
    """Overrides pytest-django's for this module: the data is committed once (the server runs in
    another process and sees only committed rows) and flushed when the module ends, not after each
    test. The name also tells pytest-django that the session needs the test database."""
    with pytest.MonkeyPatch.context() as mp, django_db_blocker.unblock():
        # The ORM beside Playwright's event loop, as tests/e2e/conftest.py allows for each test.
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        try:
            yield
        finally:
            builders.clear_matching_caches()
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(scope="module")
def site(asgi_server, browser, transactional_db):
    site = Site(asgi_server.url, browser)
    yield site
    site.close()


def _describe(violations: list[dict], nodes_per_rule: int = 4) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} [{len(v['nodes'])} element(s)] {v['helpUrl']}")
        for node in v["nodes"][:nodes_per_rule]:
            target = " ".join(" >>> ".join(t) if isinstance(t, list) else t for t in node["target"])
            html = " ".join(node["html"].split())
            html = html if len(html) <= 240 else html[:237] + "..."
            lines.append(f"    at {target}\n       {html}")
            summary = (node.get("summary") or "").splitlines()
            if len(summary) > 1:
                lines.append(f"       {summary[1].strip()}")
    return "\n".join(lines)


@pytest.mark.parametrize(("persona", "path", "action"), CASES)
def test_page_meets_wcag_22_aa(site, request, persona, path, action):
    data = site.data()
    page = site.page(persona)
    response = page.goto(path.format(**data))
    assert response is not None and response.status == 200, f"{path} answered {response and response.status}"
    page.wait_for_load_state("load")
    # Charts are drawn by the time axe looks (their canvases carry the accessible names).
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas[data-chart]')].every((c) => window.Chart && Chart.getChart(c))"
    )
    try:
        if action is not None:
            action(page)
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate(RUN_AXE, WCAG_TAGS)
    finally:
        page.evaluate("localStorage.clear()")  # the projector view is remembered per browser
    if violations:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"axe-{_safe_name(request.node.nodeid)}.png"), full_page=True)
    assert not violations, f"{persona} on {path}: {len(violations)} WCAG 2.2 AA rule(s) fail\n" + _describe(violations)


def test_the_keyboard_reaches_the_skip_link_and_the_focus_is_visible(site):
    site.data()
    page = site.page("convener")
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    assert skip.evaluate("(el) => el === document.activeElement")
    assert skip.is_visible()  # visually hidden until focused
    ring = skip.evaluate(
        "(el) => { const s = getComputedStyle(el); return [s.outlineStyle, s.outlineWidth, s.boxShadow]; }"
    )
    # A yellow outline inside a dark ring (static/css/app.css): 3:1 against white and the navbar.
    assert ring[0] == "solid" and ring[1] == "3px" and "6px" in ring[2], ring
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "(() => { const r = document.activeElement.getBoundingClientRect();"
        " return [document.activeElement.closest('main') !== null, r.top >= 0 && r.bottom <= innerHeight]; })()"
    )
    assert focused == [True, True], "the next Tab stop after the skip link is inside main and on screen"


# The same pages on a 390 px phone, for everyone who reaches them: the page itself never scrolls
# sideways (WCAG 1.4.10 Reflow); a table wider than the screen scrolls inside its own box.
PHONE_CASES = sorted(
    {
        (persona.removesuffix(PHONE) + PHONE, name, path)
        for name, path, personas, action in PAGES
        if action is None
        for persona in personas
    }
)
WIDEST = """() => [...document.querySelectorAll('body *')]
    .map((el) => [el, el.getBoundingClientRect()])
    .filter(([el, r]) => r.right > document.documentElement.clientWidth + 1 && r.width > 0)
    .slice(-5)
    .map(([el, r]) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} ends at ${Math.round(r.right)} px`)"""


@pytest.mark.parametrize(("persona", "path"), [pytest.param(p, path, id=f"{p}-{n}") for p, n, path in PHONE_CASES])
def test_page_fits_a_phone_without_sideways_scrolling(site, persona, path):
    data = site.data()
    page = site.page(persona)
    response = page.goto(path.format(**data))
    assert response is not None and response.status == 200, f"{path} answered {response and response.status}"
    page.wait_for_load_state("load")
    width, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width <= client, f"{persona} on {path}: the page is {width} px wide on a {client} px screen; " + "; ".join(
        page.evaluate(WIDEST)
    )

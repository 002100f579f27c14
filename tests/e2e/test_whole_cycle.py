"""A whole new cycle in real browsers, as its people run it (issue 13, "must show").

The convener creates a cycle with its challenge, proposes solutions that two panellists rate,
prioritises one, sets role levels, partners and a capture workshop, invites the panel (each
accepts in their own browser); a technologist submits statements in the workshop, the convener
reviews them in bulk (accepts several, rejects one with a reason, classifies), opens a Delphi
round that three panellists answer in full, and closes it from the facilitator's screen; the
convener proposes FOPs (the server runs the task in-process, with the real embedding model), an
employer uprates and ratifies one, an educator tags KSBs, the convener runs matching against a
small Skills England (IfATE) framework, visits every findings page and the report, has the PDF
made, and adds an action to the action plan; the sponsor reads the findings, the report and
the plan.

Only the site's own data is set up outside the browser, as an administrator and the worker's
warm-up would before a cycle: the default classification taxonomy and two reference frameworks
(a small Skills England extract and a small ESCO), imported with the real importers. Nothing of
the cycle itself is made outside the browser. ``browser_guard`` fails the test on any 4xx/5xx
response, console error or uncaught page error in any of the five browsers, and on any ERROR
record or traceback in the server's log.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from findings.tables import PAGES
from matching import embeddings, services
from matching.importers import import_framework
from tests.findings import builders
from tests.matching.frameworks import write_esco
from workshops.capture.taxonomy import taxonomy_load_default
from workshops.models import FOP, Capability, DelphiItem, Round

pytestmark = pytest.mark.e2e

TITLE = "Automated aseptic manufacturing in NHS hospitals by 2030"
CHALLENGE = "Increase aseptic production capacity in NHS hospital pharmacies through digitalisation and automation."
SOLUTIONS = ["Robotic aseptic filling", "Digital batch records"]
ROLE_LEVELS = [("Operational leadership", 4, 6), ("Professional & delivery", 3, 5)]
PARTNERS = ["Equipment, data integration & automation providers", "NHS workforce"]
STATEMENTS = [
    "Implement preventive maintenance plans to keep automated filling equipment qualified and available.",
    "Validate automated aseptic filling processes against good manufacturing practice before release.",
    "Analyse batch manufacturing data to detect deviations and trends during production.",
    "Maintain cold chain storage and transport for temperature-sensitive medicines between sites.",
    "Programme collaborative robots to automate repetitive compounding tasks in the pharmacy.",
]
REJECTED = "Organise the staff canteen rota for the night shift."
REJECT_REASON = "Out of scope: not a capability the challenge needs."
# What the panel answers, per role level and statement (0 Not needed … 3 Expert): the three agree
# on every item but one, where the educator differs (two of three is below the plan's 70 %).
ANSWERS = {
    "Operational leadership": [2, 3, 2, 1, 2],
    "Professional & delivery": [3, 2, 1, 2, 3],
}
DISSENT = ("Operational leadership", STATEMENTS[4], 1)  # the educator's answer to that item
PROFICIENCY = {0: "Not needed", 1: "Awareness", 2: "Practitioner", 3: "Expert"}
ACTION = "Add robot programming for aseptic compounding to pharmacy technician CPD."
# A small Skills England (IfATE) extract in the 2020 layout: four standards at levels 3–6.
STANDARDS = [
    (
        "Maintenance and operations engineering technician",
        3,
        [
            "Carry out planned preventive maintenance on automated production equipment to keep it qualified.",
            "Diagnose and repair faults on production machinery and control systems.",
        ],
    ),
    (
        "Science manufacturing technician",
        3,
        [
            "Operate aseptic filling processes in line with good manufacturing practice.",
            "Record batch manufacturing data and report deviations from the process.",
        ],
    ),
    (
        "Process development engineer",
        6,
        [
            "Plan and carry out validation of manufacturing processes and equipment against GMP.",
            "Analyse process data to identify trends and improve yield.",
        ],
    ),
    (
        "Supply chain practitioner",
        4,
        [
            "Coordinate cold chain storage and transport of temperature-controlled products.",
            "Manage stock levels across sites to meet demand.",
        ],
    ),
]
OCCUPATIONS = [
    ("maintenance engineer", "Maintains and repairs automated production equipment.", "7233.1"),
    ("quality assurance manager", "Ensures manufactured medicines meet quality standards.", "2141.2"),
    ("pharmaceutical technician", "Prepares and compounds medicines in a pharmacy.", "3213.1"),
    ("logistics coordinator", "Coordinates storage and transport of goods.", "4323.1"),
]
SKILLS = [
    ("skill/competence", "perform preventive maintenance"),
    ("skill/competence", "validate manufacturing processes"),
    ("knowledge", "good manufacturing practices"),
    ("skill/competence", "programme robots"),
]


def _ifate_json(path):
    records = [
        {
            "larsCode": 900 + n,
            "title": title,
            "level": level,
            "route": "Engineering and manufacturing",
            "duties": [
                {"dutyID": f"d-{n}-{i}", "dutyDetail": text, "isThisACoreDuty": 1}
                for i, text in enumerate(duties, start=1)
            ],
        }
        for n, (title, level, duties) in enumerate(STANDARDS, start=1)
    ]
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


@pytest.fixture
def site(server_url, personas, tmp_path):
    """What a site has before its first cycle: the classification taxonomy and the reference
    frameworks, imported with the real importers."""
    taxonomy_load_default()
    import_framework("ifate", str(_ifate_json(tmp_path / "standards.json")))
    import_framework("esco", str(write_esco(tmp_path / "esco", occupations=OCCUPATIONS, skills=SKILLS)))
    # The worker's warm-up (the e2e server has no worker): ESCO's lists, for FOP names and KSB tag
    # suggestions, embedded with the real model; the match run embeds the IfATE duties itself.
    services.frameworks_embed(kinds=["esco"])
    yield personas
    embeddings.forget_corpora()
    builders.clear_matching_caches()


# --- Steps that repeat -----------------------------------------------------------------------


def advance(page, slug: str, to: str) -> None:
    page.goto(f"/cycles/{slug}/")
    page.get_by_role("button", name=f"Advance to {to}").click()
    page.get_by_role("dialog").get_by_role("button", name=f"Advance to {to}").click()
    expect(page.locator("#messages")).to_contain_text(f"now in {to}")


def nav(page, name: str) -> None:
    page.get_by_role("navigation", name=re.compile("Cycle:")).get_by_role("link", name=name, exact=True).click()


def local(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("Europe/London")).strftime("%Y-%m-%dT%H:%M")


def invite(convener, slug: str, email: str, role: str, organisation: str) -> str:
    convener.goto(f"/cycles/{slug}/members/invite/")
    convener.get_by_label("Email address").fill(email)
    convener.get_by_label("Role").select_option(role)
    convener.get_by_label("Organisation (optional)").fill(organisation)
    convener.get_by_role("button", name="Send the invitation").click()
    expect(convener.locator("#messages")).to_contain_text(f"Invited {email}")
    row = convener.locator("tr", has_text=email)
    row.get_by_text("Link", exact=True).click()
    return row.get_by_label(f"Invitation link for {email}").input_value()


def answer(page, item_pk: int, value: int) -> None:
    cell = page.locator(f"#item-{item_pk}")
    cell.locator(f"label[for='v{item_pk}-{value}']").click()
    expect(cell.locator("[data-status]")).to_have_text("Saved")


# --- The cycle --------------------------------------------------------------------------------


def test_a_whole_new_cycle_from_challenge_to_action_plan(site, browser_guard, login):
    people = site
    convener = login(browser_guard.new_page(), people.convener.email)
    technologist = login(browser_guard.new_page(), people.technologist.email)
    employer = login(browser_guard.new_page(), people.employer.email)
    educator = login(browser_guard.new_page(), people.educator.email)
    observer = login(browser_guard.new_page(), people.observer.email)

    # Consider: the cycle and its challenge, and the candidate solutions.
    convener.goto("/cycles/")
    convener.get_by_role("link", name=re.compile("New cycle")).first.click()
    convener.get_by_label("Title").fill(TITLE)
    convener.get_by_label("Challenge (the what)").fill(CHALLENGE)
    convener.get_by_label("Horizon (the when)").fill("By 2030")
    convener.get_by_role("button", name="Create the cycle").click()
    expect(convener.get_by_role("heading", level=1)).to_have_text(TITLE)
    slug = convener.url.rstrip("/").rsplit("/", 1)[-1]
    nav(convener, "Solutions")
    for title in SOLUTIONS:
        convener.get_by_label("Title").fill(title)
        convener.get_by_role("button", name="Propose").click()
        expect(convener.locator("#solution-section")).to_contain_text(title)

    # The panel: each invitee accepts in their own browser.
    for page, person, role, organisation in (
        (technologist, people.technologist, "technologist", "Cellular Robotics Ltd"),
        (employer, people.employer, "employer", "Northern NHS Trust"),
        (educator, people.educator, "educator", "City College"),
        (observer, people.observer, "observer", "Regional Skills Board"),
    ):
        link = invite(convener, slug, person.email, role, organisation)
        page.goto(link)
        page.get_by_role("button", name="Accept and join the cycle").click()
        expect(page.locator("#messages")).to_contain_text(f"Welcome to “{TITLE}” as {role}")

    # Identify: the panel rates every solution in one form; the convener prioritises.
    advance(convener, slug, "Identify")
    for page, scores in ((technologist, [(5, 4), (3, 4)]), (employer, [(4, 4), (4, 2)])):
        page.goto(f"/cycles/{slug}/solutions/rate/")
        for title, (impact, feasibility) in zip(SOLUTIONS, scores, strict=True):
            card = page.locator("section", has_text=title)
            card.get_by_role("group", name=re.compile("Impact")).get_by_label(str(impact)).check()
            card.get_by_role("group", name=re.compile("Feasibility")).get_by_label(str(feasibility)).check()
        page.get_by_role("button", name="Save my ratings").click()
        expect(page.locator("#messages")).to_contain_text("Saved your ratings of 2 solutions")
    convener.goto(f"/cycles/{slug}/solutions/results/")
    convener.get_by_role("button", name=f"Prioritise {SOLUTIONS[0]}").click()
    expect(convener.get_by_role("button", name=f"Prioritised {SOLUTIONS[0]}")).to_be_visible()

    # Prepare: role levels, partners and the technologists' capture workshop (started just now).
    advance(convener, slug, "Prepare")
    nav(convener, "Role levels")
    for name, low, high in ROLE_LEVELS:
        convener.get_by_label("Name").fill(name)
        convener.get_by_label("Lowest academic level").fill(str(low))
        convener.get_by_label("Highest academic level").fill(str(high))
        convener.get_by_role("button", name="Add", exact=True).click()
        expect(convener.locator("#section")).to_contain_text(name)
    nav(convener, "Partners")
    for name in PARTNERS:
        convener.get_by_label("Name").fill(name)
        convener.get_by_role("button", name="Add", exact=True).click()
        expect(convener.locator("#section")).to_contain_text(name)
    nav(convener, "Workshops")
    now = datetime.now(ZoneInfo("Europe/London"))
    convener.get_by_label("Kind").select_option("technologist")
    convener.get_by_label("Title").fill("Technologist capture workshop")
    convener.get_by_label("Starts").fill(local(now - timedelta(minutes=30)))
    convener.get_by_label("Ends").fill(local(now + timedelta(hours=3)))
    convener.get_by_label("Facilitator").select_option(label=people.convener.display_name)
    convener.get_by_role("button", name="Add", exact=True).click()
    expect(convener.locator("#section")).to_contain_text("Technologist capture workshop")

    # Carry out: capture in the workshop, the convener following live and reviewing in bulk.
    advance(convener, slug, "Carry out")
    for page in (convener, technologist):
        page.goto(f"/cycles/{slug}/")
        nav(page, "Capture")
        page.get_by_role("navigation", name="Workshops").get_by_role(
            "link", name=re.compile("Technologist capture workshop")
        ).click()
        page.wait_for_function("window.captureLive === true")
    for n, statement in enumerate([*STATEMENTS, REJECTED], start=1):
        technologist.get_by_label("Capability statement", exact=True).fill(statement)
        technologist.get_by_label(PARTNERS[n % 2]).check()
        technologist.get_by_role("button", name="Submit statement").click()
        expect(technologist.locator("#messages")).to_contain_text(f"C{n:02d} submitted")
        expect(convener.locator("#capture-list")).to_contain_text(statement)  # live, no reload
    refs = [f"C{n:02d}" for n in range(1, len(STATEMENTS) + 1)]
    for ref in refs:
        convener.get_by_label(f"Select {ref}").check()
    expect(convener.locator("#bulk-count")).to_have_text("5 of 6 selected")
    convener.get_by_role("button", name="Accept", exact=True).click()
    expect(convener.locator("#bulk-done")).to_contain_text("5 statements accepted.")
    convener.get_by_label("Select C06").check()
    convener.get_by_role("button", name="Reject…").click()
    convener.get_by_label("Reason for rejecting the selected statements").fill(REJECT_REASON)
    convener.get_by_role("button", name="Reject selected").click()
    expect(convener.locator("#bulk-done")).to_contain_text(f"1 statement rejected: {REJECT_REASON}")
    convener.get_by_label("Select C01").check()
    convener.get_by_label("Select C02").check()
    convener.get_by_role("button", name="Classify…").click()
    convener.get_by_label("Classify the selected statements as").select_option(
        label="Repair & Maintenance › Maintain Qualified Status"
    )
    convener.get_by_role("button", name="Classify selected").click()
    expect(convener.locator("#bulk-done")).to_contain_text("2 statements classified as Support › Repair & Maintenance")
    statuses = dict(Capability.objects.filter(cycle__slug=slug).values_list("ref", "status"))
    assert statuses == {**dict.fromkeys(refs, "accepted"), "C06": "rejected"}

    # Delphi: the plan (three roles vote, at least three answers), round 1, the panel answers.
    nav(convener, "Delphi")
    convener.get_by_role("link", name="Edit the plan").click()
    for role in ("Technologist", "Employer", "Educator"):
        convener.get_by_label(role, exact=True).check()
    convener.get_by_label("Minimum answers per item").fill("3")
    convener.get_by_role("button", name="Save the plan").click()
    expect(convener.locator("#messages")).to_contain_text("The Delphi plan is saved.")
    convener.get_by_role("link", name="Open round 1").click()
    expect(convener.locator("main")).to_contain_text("10 items")
    convener.get_by_role("button", name="Open round 1").click()
    expect(convener.locator("#messages")).to_contain_text("Round 1 is open with 10 items.")
    convener.get_by_role("link", name="Facilitator view", exact=True).click()  # the room's screen

    items = {
        (item.capability.statement, item.role_level.name): item.pk
        for item in DelphiItem.objects.filter(cycle__slug=slug).select_related("capability", "role_level")
    }
    for page in (technologist, employer, educator):
        page.goto(f"/cycles/{slug}/delphi/")
        page.get_by_role("link", name="Answer round 1").click()
        page.wait_for_function("window.delphiClient && window.delphiClient.online()")
        for level, values in ANSWERS.items():
            for statement, value in zip(STATEMENTS, values, strict=True):
                if page is educator and (level, statement) == DISSENT[:2]:
                    value = DISSENT[2]
                answer(page, items[statement, level], value)
        expect(page.locator("#mine-count")).to_have_text("10")
    convener.reload()
    convener.get_by_role("button", name="Close the round").click()
    expect(convener.locator("#delphi-facilitator .badge").first).to_have_text("Closed")
    # Nine of the ten items reached consensus; the educator's dissent left one open.
    expect(convener.locator("td.delphi-consensus")).to_have_count(9)
    assert Round.objects.get(cycle__slug=slug, number=1).status == Round.Status.CLOSED
    for page in (convener, technologist):
        page.goto(f"/cycles/{slug}/delphi/")
        page.get_by_role("link", name="Consensus results").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Consensus results")
        page.get_by_role("link", name="Delphi report").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Delphi report")

    # FOPs: proposed from the consensus; an employer reviews one, uprates and ratifies.
    nav(convener, "FOPs")
    convener.get_by_role("link", name="Propose FOPs", exact=True).click()
    convener.get_by_role("button", name="Propose FOPs").click()
    expect(convener.locator("#fop-run-status")).to_contain_text("Latest run done", timeout=120_000)
    fop = FOP.objects.filter(cycle__slug=slug).order_by("pk").first()
    convener.get_by_role("link", name="FOP matrix").click()
    expect(convener.get_by_role("heading", level=1)).to_have_text("FOP matrix")
    convener.get_by_role("link", name="FOPs", exact=True).first.click()
    convener.get_by_role("link", name=re.compile(re.escape(fop.name))).first.click()
    convener.get_by_text("Edit title, description and priority").click()
    convener.get_by_label("Priority FOP").check()
    convener.get_by_label("Why (recorded in the history)").fill("The hospitals' first need.")
    convener.get_by_role("button", name="Save", exact=True).click()
    expect(convener.locator("#fop-priority")).to_be_visible()
    convener.get_by_label(people.employer.display_name).check()
    convener.get_by_role("button", name=re.compile("Save reviewers")).click()
    expect(convener.locator("#fop-status")).to_have_text("In review")

    employer.goto("/")
    employer.locator("li", has_text="to ratify").get_by_role("link", name="Open").click()
    employer.get_by_role("link", name=re.compile(re.escape(fop.name))).first.click()
    employer.wait_for_function("window.fopLive === true")
    entry = fop.entries.select_related("capability").filter(proficiency__lt=3).order_by("capability__ref").first()
    employer.get_by_label(f"Proficiency for {entry.capability.ref}").select_option(
        label=PROFICIENCY[entry.proficiency + 1]
    )
    expect(employer.locator("#fop-body")).to_contain_text(f"{entry.capability.ref} proficiency saved.")
    employer.get_by_label("Comment (optional)").fill("Matches what our pharmacy teams need.")
    employer.locator("#ratify-button").click()
    expect(employer.locator("#fop-status")).to_have_text("Ratified")

    # KSB tags: an educator tags two capabilities, typing some tags and taking suggested ones.
    educator.goto(f"/cycles/{slug}/")
    nav(educator, "KSB tags")
    educator.locator("tr", has_text="C02").get_by_role("link", name="Tag").click()
    educator.get_by_role("button", name="Add good manufacturing practices").click()
    expect(educator.locator("#tags-K")).to_contain_text("good manufacturing practices")
    educator.get_by_role("link", name="Skill", exact=True).click()
    educator.get_by_label("Add a Skill tag").fill("Validate aseptic processes")
    educator.get_by_role("button", name="Add tag").click()
    expect(educator.locator("#tags-S")).to_contain_text("Validate aseptic processes")
    educator.get_by_role("link", name="KSB tags").first.click()
    educator.locator("tr", has_text="C05").get_by_role("link", name="Tag").click()
    educator.get_by_label("Add a Knowledge tag").fill("Robot programming languages")
    educator.get_by_role("button", name="Add tag").click()
    expect(educator.locator("#tags-K")).to_contain_text("Robot programming languages")
    educator.get_by_role("link", name="Skill", exact=True).click()
    educator.get_by_role("button", name="Add programme robots").click()
    expect(educator.locator("#tags-S")).to_contain_text("programme robots")
    educator.get_by_role("link", name="KSB tags").first.click()
    educator.get_by_role("link", name="Most frequent tags").click()
    expect(educator.get_by_role("heading", level=1)).to_have_text("Most frequent KSB tags")

    # Matching against Skills England (IfATE), the form's default framework.
    nav(convener, "Matching")
    expect(convener.get_by_label("Reference framework version").locator("option:checked")).to_contain_text(
        "Skills England"
    )
    convener.get_by_role("button", name="Start the run").click()
    expect(convener.get_by_role("heading", level=1)).to_contain_text("Match run")
    expect(convener.locator("#run-progress")).to_have_count(0, timeout=60_000)
    expect(convener.locator("main")).not_to_contain_text("The run failed")

    # Communicate: every findings page, the report and its PDF.
    advance(convener, slug, "Communicate")
    nav(convener, "Findings")
    expect(convener.get_by_role("heading", name="Findings", exact=True)).to_be_visible()
    for p in PAGES:
        convener.goto(f"/cycles/{slug}/findings/{p.key}/")
        expect(convener.get_by_role("heading", level=1)).to_have_text(p.title)
        for canvas in convener.locator("canvas[data-chart]").all():
            assert convener.evaluate("(c) => !!Chart.getChart(c)", canvas.element_handle()), p.key
        if p.key == "without_provision":
            # No standard duty is about robot programming; the other four are served.
            rows = convener.locator("main table tbody tr")
            expect(rows).to_have_count(1)
            expect(rows.first).to_contain_text(STATEMENTS[4])
    nav(convener, "Report")
    report = convener.locator("main")
    expect(report).to_contain_text(TITLE)
    expect(report).to_contain_text("1 capability without identified provision")
    priorities = report.get_by_role("heading", name="Priority future occupational profiles")
    expect(priorities.locator("xpath=following-sibling::table[1]")).to_contain_text(fop.name)
    convener.get_by_role("button", name="Generate PDF").click()
    expect(convener.locator("#export-status")).to_contain_text("Ready.", timeout=60_000)
    with convener.expect_download() as download:
        convener.get_by_role("link", name=re.compile(r"^Download .*\.pdf$")).click()
    assert download.value.suggested_filename.endswith(".pdf")
    assert open(download.value.path(), "rb").read(5) == b"%PDF-"

    # Cause action: an action on the plan, linked to the ratified FOP and a capability.
    advance(convener, slug, "Cause action")
    nav(convener, "Actions")
    convener.get_by_role("link", name="Add an action").click()
    convener.get_by_label("Topic").fill("Robotics in aseptic units")
    convener.get_by_role("textbox", name="Action", exact=True).fill(ACTION)
    convener.get_by_label("Who").fill("City College with Northern NHS Trust")
    convener.get_by_label("When").fill("2026/27")
    convener.get_by_role("group", name="Linked FOPs").get_by_label(re.compile(re.escape(fop.name))).check()
    convener.get_by_role("group", name="Linked capabilities").get_by_label(re.compile("^C05")).check()
    convener.get_by_role("button", name="Save").click()
    expect(convener.locator("main")).to_contain_text(ACTION)

    # The sponsor reads the findings, the report and the action plan.
    observer.goto(f"/cycles/{slug}/")
    nav(observer, "Findings")
    expect(observer.get_by_role("heading", name="Findings", exact=True)).to_be_visible()
    nav(observer, "Report")
    expect(observer.locator("main")).to_contain_text(TITLE)
    nav(observer, "Actions")
    expect(observer.locator("main")).to_contain_text(ACTION)
    # browser_guard, when the test ends: no error response, console error or server traceback.

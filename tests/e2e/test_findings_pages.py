"""The convener visits every findings page of the point-of-care demo cycle in a real browser,
uses the filters, sorting and downloads, and leaves a screenshot of each page in test-artifacts/."""

import csv
import io

import pytest
from django.test import override_settings
from playwright.sync_api import expect

from findings.tables import PAGES
from tests.e2e.conftest import ARTIFACTS
from tests.findings import builders

pytestmark = pytest.mark.e2e
SHOTS = ARTIFACTS / "findings"
POC = builders.POC


@pytest.fixture
def demo_with_run(server_url):
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        cycles = builders.build_demo()
    builders.build_demo_match(cycles[POC])
    yield cycles
    builders.clear_matching_caches()


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_convener_visits_every_findings_page_of_the_demo_cycle(server_url, new_page, login, demo_with_run):
    page = login(new_page(), "convener@demo.test", "foresight-demo")
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(f"/cycles/{POC}/findings/")
    expect(page.get_by_role("heading", name="Findings", exact=True)).to_be_visible()
    _shot(page, "00-home")
    for n, p in enumerate(PAGES, start=1):
        page.goto(f"/cycles/{POC}/findings/{p.key}/")
        expect(page.get_by_role("heading", level=1)).to_have_text(p.title)
        for canvas in page.locator("canvas[data-chart]").all():
            # Chart.js drew every chart from the JSON beside it.
            assert page.evaluate("(c) => !!Chart.getChart(c)", canvas.element_handle())
        _shot(page, f"{n:02d}-{p.key}")
    for name, path in (("report", f"/cycles/{POC}/report/"), ("actions", f"/cycles/{POC}/actions/")):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        _shot(page, f"{len(PAGES) + 1}-{name}")
    assert errors == []


def test_filters_sorting_and_downloads_work_in_the_browser(server_url, new_page, login, demo_with_run):
    page = login(new_page(), "convener@demo.test", "foresight-demo")
    page.goto(f"/cycles/{POC}/findings/fop_matrix/")
    rows = page.locator("table[data-table=matrix] tbody tr")
    all_rows = rows.count()
    # Filtering swaps the results in place (htmx) and keeps the URL shareable.
    page.get_by_label("FOPs", exact=True).select_option("1")
    page.wait_for_url("**priority=1**")
    header_cells = page.locator("table[data-table=matrix] thead th")
    expect(header_cells.last).to_contain_text("★")
    assert rows.count() <= all_rows

    # Sorting by a column (descending on the second click).
    page.goto(f"/cycles/{POC}/findings/fop_distribution/")
    ref_header = page.locator("table[data-table=distribution] thead a.sort-link").first
    ref_header.click()
    page.wait_for_url("**sort=ref**dir=asc**")
    expect(page.locator("table[data-table=distribution] thead th").first).to_have_attribute("aria-sort", "ascending")
    ref_header.click()
    page.wait_for_url("**dir=desc**")
    expect(page.locator("table[data-table=distribution] thead th").first).to_have_attribute("aria-sort", "descending")
    first = page.locator("table[data-table=distribution] tbody tr td").first.inner_text()
    assert first == "C54"

    # The CSV download holds exactly the rows shown under the current search.
    page.goto(f"/cycles/{POC}/findings/functions/?q=traceab")
    shown = page.locator("table[data-table=capabilities] tbody tr").count()
    with page.expect_download() as info:
        page.locator("section", has=page.locator("#t-capabilities")).get_by_role("link", name="Download CSV").click()
    text = open(info.value.path(), encoding="utf-8").read()
    rows_in_csv = list(csv.reader(io.StringIO(text)))
    assert len(rows_in_csv) - 1 == shown > 0  # a header and the rows shown, nothing after them

    # The threshold control recomputes provision from the stored scores.
    page.goto(f"/cycles/{POC}/findings/capability_matches/")
    served_at_default = page.locator(".findings-figures dd").first.inner_text()
    page.get_by_label("Matching threshold %").fill("70")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**threshold=70**")
    assert int(page.locator(".findings-figures dd").first.inner_text()) < int(served_at_default)
    _shot(page, "threshold-70")


def test_on_a_phone_a_findings_page_opens_on_its_figures(server_url, new_page, login, demo_with_run):
    page = login(new_page(viewport={"width": 390, "height": 844}), "employer@demo.test", "foresight-demo")
    page.goto(f"/cycles/{POC}/findings/fit_surplus/")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Fit & surplus factors")
    # The page's heading comes before the list of findings pages, which a link at the top reaches.
    pages_list = page.get_by_role("complementary", name="Findings pages")
    assert heading.bounding_box()["y"] < pages_list.bounding_box()["y"]
    assert heading.bounding_box()["y"] < 844
    page.get_by_role("link", name="All findings pages").click()
    page.wait_for_url("**#findings-pages")
    # The fit and surplus columns are in view without scrolling the table sideways; the
    # reference and the duty counts are left for wider screens.
    table = page.locator("table[data-table=fit_surplus]")
    for label in ("Standard", "Fit factor %", "Surplus factor %"):
        box = table.get_by_role("columnheader", name=label).bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390, label
    expect(table.get_by_role("columnheader", name="Reference")).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    _shot(page, "phone-fit_surplus")

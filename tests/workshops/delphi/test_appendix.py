"""The methods appendix, written from a simulated three-round Delphi: HTML and Markdown."""

import html
import re

import pytest
from django.urls import reverse

from cycles.models import Membership
from tests.factories import RoleLevelFactory
from tests.workshops.delphi.factories import (
    add_capabilities,
    fast_passwords,  # noqa: F401
)
from workshops.delphi.services import delphi_plan_ensure
from workshops.delphi.simulation import delphi_simulate
from workshops.models import DelphiPlan, Round

pytestmark = pytest.mark.django_db


@pytest.fixture
def simulated(personas):
    add_capabilities(personas.cycle, 5)
    for n, name in enumerate(["Lead", "Technician"]):
        RoleLevelFactory(cycle=personas.cycle, name=name, order=n)
    plan = delphi_plan_ensure(cycle=personas.cycle)
    plan.allow_cant_judge = True
    plan.voting_roles = ["technologist", "employer", "educator"]
    plan.save()
    delphi_simulate(cycle=personas.cycle, panellists=15, rounds=3, seed=7)
    return personas.cycle


def _page(client, cycle) -> str:
    return client.get(reverse("workshops:delphi_appendix", args=[cycle.slug])).content.decode()


def test_the_flow_diagrams_numbers_are_the_round_summaries(personas, simulated):
    page = _page(personas.client_for(personas.employer), simulated)
    figures = {
        (int(r), f): int(v)
        for r, f, v in re.findall(r'data-round="(\d+)" data-figure="(\w+)" data-value="(\d+)"', page)
    }
    rounds = list(Round.objects.filter(cycle=simulated).order_by("number"))
    assert len(rounds) == 3
    for rnd in rounds:
        s = rnd.summary
        for figure in ("eligible", "responded", "completed", "items", "items_reached", "items_stable", "items_carried"):
            assert figures[(rnd.number, figure)] == s[figure], (rnd.number, figure)
        if rnd.number > 1:
            assert figures[(rnd.number, "attrition")] == s["attrition"]
    assert (1, "attrition") not in figures


def test_the_appendix_fills_every_item_the_data_can(personas, simulated):
    page = html.unescape(re.sub(r"<[^>]+>", " ", _page(personas.client_for(personas.technologist), simulated)))
    plan = DelphiPlan.objects.get(cycle=simulated)
    voters = Membership.objects.filter(
        cycle=simulated, status=Membership.Status.ACTIVE, role__in=["technologist", "employer", "educator"]
    ).count()
    assert voters == 18  # the 15 simulated panellists and the three personas
    for text in [
        f"{voters} active members with a voting role",
        "Technology",
        f"Locked on {plan.locked_at:%-d %b %Y}",
        "agreement (share in the modal answer) ≥ 70 %",
        "Consensus in every group not required",
        "Stopping: an item leaves the Delphi at consensus or stability; at most 3 rounds",
        "Feedback shown: no group feedback (independent answers)",
        "Feedback shown: round 1's distribution, median and IQR",
        "Movement since round 1:",
        "Wilcoxon signed-rank W =",
        "“can't judge” answers",
        "No item was reworded, split, merged, dropped or added between rounds.",
        "The Delphi stopped after round 3",
        "scipy 1.17.1",
        "Individual answers were visible to the convener only",
        "Protocol registration",
        "Not given by the convener.",
    ]:
        assert text in page, text
    for rnd in Round.objects.filter(cycle=simulated):
        assert f"Round {rnd.number} " in page


def test_the_convener_fills_in_what_the_data_cannot_know_and_the_markdown_says_it(personas, simulated):
    client = personas.client_for(personas.convener)
    url = reverse("workshops:delphi_appendix", args=[simulated.slug])
    response = client.post(url, {"funding": "Innovate UK grant 10012345.", "registration": "OSF: osf.io/abcd1"})
    assert response.status_code == 302
    markdown = client.get(reverse("workshops:delphi_appendix_md", args=[simulated.slug]))
    assert markdown["Content-Type"].startswith("text/markdown")
    assert "attachment" in markdown["Content-Disposition"]
    text = markdown.content.decode()
    assert "**Funding:** Innovate UK grant 10012345." in text
    assert "**Protocol registration:** OSF: osf.io/abcd1" in text
    assert "**Conflicts of interest:** _to be completed by the authors_" in text
    assert "&amp;" not in text and "&#x27;" not in text  # Markdown, not HTML-escaped
    summaries = [r.summary for r in Round.objects.filter(cycle=simulated).order_by("number")]
    for s in summaries:
        assert f"| {s['round']} | {s['eligible']} | {s['responded']} (" in text
    # A panellist reads what the convener wrote but cannot change it.
    page = _page(personas.client_for(personas.educator), simulated)
    assert "Innovate UK grant 10012345." in page and "Save the appendix" not in page
    assert personas.client_for(personas.educator).post(url, {"funding": "x"}).status_code == 403


def test_the_findings_report_carries_the_appendix_with_the_same_flow(simulated):
    from findings.report import report_html_document

    document = report_html_document(simulated)
    assert "Appendix D — Delphi methods" in document
    for rnd in Round.objects.filter(cycle=simulated):
        value = rnd.summary["responded"]
        assert f'data-round="{rnd.number}" data-figure="responded" data-value="{value}"' in document

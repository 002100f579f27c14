"""What the findings say when there is nothing to say (issue 13): no match run, nothing that fits,
and which capabilities the action plan offers."""

from cycles.models import Role
from findings.models import ActionItem
from matching.models import MatchRun
from tests.factories import CycleFactory, MembershipFactory, UserFactory
from tests.findings.conftest import client_for
from tests.findings.test_report_wording import page_text
from workshops.models import Capability


def _cycle_without_a_run():
    """A cycle with capabilities, no match run and no published report behind it."""
    cycle = CycleFactory(slug="fresh", title="Fresh cycle")
    convener = UserFactory(email="convener@fresh.test")
    observer = UserFactory(email="observer@fresh.test")
    MembershipFactory(cycle=cycle, user=convener, role=Role.CONVENER)
    MembershipFactory(cycle=cycle, user=observer, role=Role.OBSERVER)
    for i in (1, 2):
        Capability.objects.create(cycle=cycle, ref=f"C{i}", statement=f"Capability {i}.", status="accepted")
    return cycle, convener, observer


def test_without_a_match_run_the_provision_page_says_only_that(db):
    _cycle, convener, observer = _cycle_without_a_run()
    response = client_for(convener).get("/cycles/fresh/findings/without_provision/")
    text = page_text(response)
    assert "No completed match run for this cycle yet" in text
    assert 'href="/cycles/fresh/matching/"' in response.content.decode()  # where a convener starts one
    for claim in ("has provision", "0 of 0", "Capabilities without provision 0", "Every capability"):
        assert claim not in text, claim
    observer_text = page_text(client_for(observer).get("/cycles/fresh/findings/without_provision/"))
    assert "A convener can start one from the matching pages" in observer_text
    assert "has provision" not in observer_text


def test_without_a_match_run_the_report_claims_nothing_about_provision(db):
    _cycle, convener, _observer = _cycle_without_a_run()
    response = client_for(convener).get("/cycles/fresh/report/")
    text = page_text(response)
    assert "No match run yet, so the capabilities have not been compared with current provision" in text
    assert "No match run yet, so no capability has been assessed against current provision" in text
    assert 'href="/cycles/fresh/matching/"' in response.content.decode()
    for claim in ("0 of 2", "have no identified provision", "has no identified provision", "0 capabilities without"):
        assert claim not in text, claim


def test_when_nothing_fits_the_priorities_name_no_standard(matched, mini_people):
    client = client_for(mini_people["convener"])
    text = page_text(client.get("/cycles/mini/findings/fop_priorities/?threshold=99"))
    assert "No standard matches" in text
    for title in ("Facilities engineer", "Manufacturing technician", "Supply chain practitioner"):
        assert title not in text, title


def test_when_nothing_fits_the_fop_pages_say_no_standard_matches(matched, mini_people):
    client = client_for(mini_people["convener"])
    fop = matched["fops"][0]
    fit = page_text(client.get(f"/cycles/mini/findings/fit_surplus/?threshold=99&fop={fop.pk}"))
    assert "No standard within this FOP's level window has a matching duty." in fit
    versus = page_text(client.get(f"/cycles/mini/findings/fop_vs_provision/?threshold=99&fop={fop.pk}"))
    assert "No standard matches any of this FOP's capabilities at this threshold." in versus
    highlighted = page_text(client.get("/cycles/mini/findings/highlighted/?threshold=99"))
    assert "No standard matches at the threshold" in highlighted
    assert "Facilities engineer" not in highlighted


def test_when_nothing_fits_the_report_names_no_best_fitting_standard(matched, mini_people):
    MatchRun.objects.filter(pk=matched["run"].pk).update(threshold=0.99)
    text = page_text(client_for(mini_people["convener"]).get("/cycles/mini/report/"))
    fits = text[text.index("Best-fitting standards for the priority FOPs") :]
    fits = fits[: fits.index("have no identified provision")]
    assert "No standard matches any of its capabilities at this threshold." in fits
    for title in ("Facilities engineer", "Manufacturing technician", "Supply chain practitioner"):
        assert title not in fits, title
    priorities = text[text.index("Max fit factor %") : text.index("FOPs ranked by capabilities without provision,")]
    assert "No standard matches" in priorities and "Facilities engineer" not in priorities


def test_the_action_plan_offers_only_live_capabilities(mini, mini_people):
    Capability.objects.filter(cycle=mini["cycle"], ref="C5").update(status=Capability.Status.SUBMITTED)
    text = page_text(client_for(mini_people["convener"]).get("/cycles/mini/actions/new/"))
    for live in ("C1 Design modular cleanroom pods", "C4 Track cold chain shipments", "C5 "):
        assert live in text, live
    assert "A rejected statement." not in text
    assert "A merged duplicate." not in text


def test_editing_an_action_still_shows_its_link_to_a_since_merged_capability(mini, mini_people):
    item = ActionItem.objects.create(cycle=mini["cycle"], topic="Review", action="Review the duplicates.")
    item.capabilities.add(Capability.objects.get(cycle=mini["cycle"], ref="C7"))
    text = page_text(client_for(mini_people["convener"]).get(f"/cycles/mini/actions/{item.pk}/edit/"))
    assert "C7 A merged duplicate. (merged)" in text  # marked, so the convener sees it and can unlink it
    assert "A rejected statement." not in text

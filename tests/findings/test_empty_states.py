"""What the findings say when there is nothing to say (issue 13): no match run, nothing that fits,
and which capabilities the action plan offers."""

from django.test import Client

from cycles.models import Role, SupplyChainPartner
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


# --- Empty states that lead somewhere (issue 13, item 18) ------------------------------------------


def _bare_cycle(slug="bare", capabilities=()):
    """A cycle with a convener, an educator and an observer, and the given capabilities (no FOPs,
    no partners, no tags, no Delphi)."""
    cycle = CycleFactory(slug=slug, title="Bare cycle")
    people = {}
    for role in (Role.CONVENER, Role.EDUCATOR, Role.OBSERVER):
        people[role] = UserFactory(email=f"{role}@{slug}.test")
        MembershipFactory(cycle=cycle, user=people[role], role=role)
    for i, statement in enumerate(capabilities, start=1):
        Capability.objects.create(cycle=cycle, ref=f"C{i}", statement=statement, status="accepted")
    return cycle, people


def _link(response, text: str) -> str | None:
    """The href of the link whose text starts with ``text``."""
    import re

    found = re.search(rf'<a [^>]*href="([^"]+)"[^>]*>\s*{re.escape(text)}', response.content.decode())
    return found.group(1) if found else None


def test_the_by_function_page_of_an_unclassified_cycle_links_to_classification(db):
    _cycle, people = _bare_cycle(capabilities=["Design pods.", "Track shipments."])
    response = client_for(people[Role.CONVENER]).get("/cycles/bare/findings/functions/")
    text = page_text(response)
    assert "None of this cycle's capabilities is classified to a function yet" in text
    assert _link(response, "Classify them on the capture board") == "/cycles/bare/capture/?status=all"
    observer = client_for(people[Role.OBSERVER]).get("/cycles/bare/findings/functions/")
    assert "The convener classifies each capability" in page_text(observer)
    assert _link(observer, "Classify them on the capture board") is None  # told who acts, not sent there


def test_a_findings_page_of_a_cycle_without_capabilities_links_to_capture_and_shows_no_zeros(db):
    _cycle, people = _bare_cycle()
    for key in ("functions", "partners", "highlighted", "capability_matches", "without_provision"):
        response = client_for(people[Role.CONVENER]).get(f"/cycles/bare/findings/{key}/")
        text = page_text(response)
        assert "No capability statement has been captured for this cycle yet." in text, key
        assert _link(response, "Open the capture board") == "/cycles/bare/capture/", key
        for claim in ("Nothing to show for these filters", "Capabilities shown 0", "Start a match run"):
            assert claim not in text, (key, claim)
        assert 'aria-label="Filters"' not in response.content.decode(), key  # nothing to filter
    home = client_for(people[Role.CONVENER]).get("/cycles/bare/findings/")
    assert _link(home, "Open the capture board") == "/cycles/bare/capture/"
    educator = page_text(client_for(people[Role.EDUCATOR]).get("/cycles/bare/findings/functions/"))
    assert "Technologists submit capability statements on the capture board" in educator


def test_the_partners_page_links_to_prepare_when_the_cycle_has_no_partners(db):
    _cycle, people = _bare_cycle(capabilities=["Design pods."])
    response = client_for(people[Role.CONVENER]).get("/cycles/bare/findings/partners/")
    assert "This cycle has no supply-chain partners yet." in page_text(response)
    assert _link(response, "Add the supply-chain partners") == "/cycles/bare/prepare/partners/"


def test_the_partners_page_links_to_the_capture_board_when_no_capability_has_a_partner(db):
    cycle, people = _bare_cycle(capabilities=["Design pods."])
    SupplyChainPartner.objects.create(cycle=cycle, name="NHS workforce")
    response = client_for(people[Role.CONVENER]).get("/cycles/bare/findings/partners/")
    assert "No capability is linked to a supply-chain partner yet." in page_text(response)
    assert _link(response, "Assign partners on the capture board") == "/cycles/bare/capture/?status=all"


def test_the_proficiency_page_links_to_the_delphi_rounds(db):
    _cycle, people = _bare_cycle(capabilities=["Design pods."])
    response = client_for(people[Role.CONVENER]).get("/cycles/bare/findings/proficiency/")
    assert "No proficiency has been agreed yet" in page_text(response)
    assert _link(response, "Go to the Delphi rounds") == "/cycles/bare/delphi/"
    assert "The convener opens the Delphi rounds" in page_text(
        client_for(people[Role.OBSERVER]).get("/cycles/bare/findings/proficiency/")
    )


def test_the_fop_pages_link_to_the_fops_when_there_are_none(db):
    _cycle, people = _bare_cycle(capabilities=["Design pods."])
    for key in ("fop_matrix", "fop_detail", "fop_distribution"):
        response = client_for(people[Role.CONVENER]).get(f"/cycles/bare/findings/{key}/")
        text = page_text(response)
        assert "This cycle has no future occupational profiles (FOPs) yet." in text, key
        assert _link(response, "Propose the FOPs") == "/cycles/bare/fops/", key
        assert "Nothing to show for these filters" not in text, key


def test_the_ksb_page_sends_educators_to_tagging(db):
    _cycle, people = _bare_cycle(capabilities=["Design pods."])
    response = client_for(people[Role.EDUCATOR]).get("/cycles/bare/findings/ksb/")
    assert "No capability has a Knowledge, Skill or Behaviour tag yet." in page_text(response)
    assert _link(response, "Tag the capabilities") == "/cycles/bare/tags/"
    observer = page_text(client_for(people[Role.OBSERVER]).get("/cycles/bare/findings/ksb/"))
    assert "Educators tag each capability" in observer


def test_a_shared_findings_page_says_who_acts_without_a_link(db):
    from findings.services import share_link_create

    _cycle, people = _bare_cycle()
    link = share_link_create(cycle=_cycle, actor=people[Role.CONVENER], label="Board")
    response = Client().get(f"/share/{link.token}/functions/")
    assert "No capability statement has been captured for this cycle yet." in page_text(response)
    assert _link(response, "Open the capture board") is None


def test_an_empty_action_plan_links_the_convener_to_the_first_action(db):
    _cycle, people = _bare_cycle()
    response = client_for(people[Role.CONVENER]).get("/cycles/bare/actions/")
    assert "No action is in the plan yet." in page_text(response)
    assert _link(response, "Add the first action") == "/cycles/bare/actions/new/"
    observer = page_text(client_for(people[Role.OBSERVER]).get("/cycles/bare/actions/"))
    assert "The convener adds the actions in Cause action" in observer
    filtered = page_text(client_for(people[Role.CONVENER]).get("/cycles/bare/actions/?horizon=long"))
    assert "No actions match these filters." in filtered and "Add the first action" not in filtered


def test_a_filter_that_empties_a_page_keeps_the_filters_and_says_so(db):
    _cycle, people = _bare_cycle(capabilities=["Design pods."])
    response = client_for(people[Role.CONVENER]).get("/cycles/bare/findings/ksb/?q=nothing-like-this")
    assert 'aria-label="Filters"' in response.content.decode()  # the search can be cleared
    text = page_text(response)
    assert "Nothing to show for these filters." in text
    assert "No capability has a Knowledge, Skill or Behaviour tag yet." in text

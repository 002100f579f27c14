"""What the findings report says in words: counts that agree with their nouns, participating
organisations that include the members' own, and headings that match what is listed (issue 13)."""

import html
import re

from accounts.models import OrganisationGroup
from cycles.models import Role
from tests.factories import CycleFactory, MembershipFactory, OrganisationFactory, RoleLevelFactory, UserFactory
from tests.findings.conftest import client_for
from workshops.models import FOP, Capability, FOPCapability


def page_text(response) -> str:
    """The page as a reader sees it: no tags, entities decoded, whitespace collapsed."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def _one_of_each_cycle():
    """A new cycle as a convener sets it up: members from organisations, nothing recorded by hand."""
    cycle = CycleFactory(slug="solo", title="Solo cycle")
    convener = UserFactory(
        email="convener@solo.test", organisation=OrganisationFactory(name="Solo Hospital", group="industry")
    )
    MembershipFactory(cycle=cycle, user=convener, role=Role.CONVENER)
    level = RoleLevelFactory(cycle=cycle, academic_level_min=3, academic_level_max=5)
    cycle.partners.create(name="Only partner", order=1)
    cap = Capability.objects.create(
        cycle=cycle, ref="C1", statement="Run the new line.", status=Capability.Status.ACCEPTED
    )
    fop = FOP.objects.create(cycle=cycle, name="Operator", role_level=level, status=FOP.Status.RATIFIED)
    FOPCapability.objects.create(fop=fop, capability=cap, proficiency=2)
    return cycle, convener


def test_the_report_counts_the_members_organisations_as_participating(db):
    cycle, convener = _one_of_each_cycle()
    for email, name, group in (
        ("tech@solo.test", "Robot Makers Ltd", OrganisationGroup.TECHNOLOGY),
        ("college@solo.test", "Solo College", OrganisationGroup.SKILLS),
    ):
        MembershipFactory(
            cycle=cycle, user=UserFactory(email=email, organisation=OrganisationFactory(name=name, group=group))
        )
    removed = UserFactory(email="gone@solo.test", organisation=OrganisationFactory(name="Left Early plc"))
    MembershipFactory(cycle=cycle, user=removed, status="removed")
    text = page_text(client_for(convener).get("/cycles/solo/report/"))
    assert "3 participating organisations" in text
    assert "0 participating organisations" not in text
    assert "No participating organisations recorded" not in text
    for name in ("Solo Hospital", "Robot Makers Ltd", "Solo College"):
        assert name in text
    assert "Left Early plc" not in text  # a removed member no longer takes part


def test_the_report_agrees_its_nouns_with_one_of_each(db):
    cycle, convener = _one_of_each_cycle()
    text = page_text(client_for(convener).get("/cycles/solo/report/"))
    for phrase in (
        "1 future organisational capability ",
        "1 future occupational profile (0 priority)",
        "1 supply-chain partner ",
        "1 role level ",
        "1 participating organisation ",
        "0 KSB tags on capabilities",
    ):
        assert phrase in text, phrase
    for wrong in ("1 future organisational capabilities", "1 participating organisations", "1 role levels"):
        assert wrong not in text, wrong


def test_one_capability_without_provision_has_no_provision_in_the_singular(matched, mini_people):
    text = page_text(client_for(mini_people["convener"]).get("/cycles/mini/report/"))
    assert "1 of 5 capabilities has no identified provision" in text  # C4 (see test_provision_mini.py)
    assert "1 capability without identified provision" in text
    assert "capabilities have no identified provision" not in text
    assert " 1 capabilities" not in text


def test_without_priority_fops_the_report_does_not_claim_to_list_the_priority_fops(matched, mini_people):
    FOP.objects.filter(cycle=matched["cycle"]).update(priority=False)
    text = page_text(client_for(mini_people["convener"]).get("/cycles/mini/report/"))
    assert "No FOP is marked priority yet" in text
    assert "for the priority FOPs" not in text
    assert "Best-fitting standards for each FOP" in text
    assert "No FOP is marked priority, so all 3 FOPs are shown." in text


def test_with_priority_fops_the_report_lists_their_best_fitting_standards(matched, mini_people):
    text = page_text(client_for(mini_people["convener"]).get("/cycles/mini/report/"))
    section = text[text.index("Best-fitting standards for the priority FOPs") :]
    assert section.split("Fit and surplus of")[0].count("Validation Engineer") >= 1
    assert "Manufacturing Operative" not in section.split("Fit and surplus of")[0]  # not a priority FOP

"""The dashboard: what is waiting for me, per role."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cycles import selectors
from cycles.models import Cycle, Phase, Role
from tests.cycles.factories import InvitationFactory
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_pending_invitation_to_my_email_is_on_my_dashboard(personas):
    InvitationFactory(cycle=personas.other_cycle, email=personas.technologist.email.upper())
    board = selectors.dashboard_for(personas.technologist)
    assert [i.cycle for i in board.invitations] == [personas.other_cycle]
    html = personas.client_for(personas.technologist).get(reverse("cycles:dashboard")).content.decode()
    assert "Review and accept" in html and "Cycle B" in html


def test_an_open_round_waits_for_panellists_who_vote(personas):
    from workshops.models import DelphiPlan, Round

    DelphiPlan.objects.create(cycle=personas.cycle, voting_roles=[Role.TECHNOLOGIST])
    Round.objects.create(cycle=personas.cycle, number=1, status="open")
    Round.objects.create(cycle=personas.cycle, number=2, status="draft")
    assert [w.text for w in selectors.dashboard_for(personas.technologist).waiting if w.kind == "round"] == [
        "Delphi round 1 is open: cast your votes"
    ]
    assert not [w for w in selectors.dashboard_for(personas.employer).waiting if w.kind == "round"]
    assert not [w for w in selectors.dashboard_for(personas.outsider).waiting if w.kind == "round"]


def test_fops_in_review_wait_for_their_reviewers(personas):
    from workshops.models import FOP

    fop = FOP.objects.create(cycle=personas.cycle, name="Validation engineer", status="in_review")
    fop.reviewers.add(personas.employer)
    FOP.objects.create(cycle=personas.cycle, name="Not mine", status="in_review")
    items = [w for w in selectors.dashboard_for(personas.employer).waiting if w.kind == "fop"]
    assert [(w.count, w.cycle, w.text) for w in items] == [
        (1, personas.cycle, "1 future occupational profile(s) to ratify")
    ]
    assert items[0].url == reverse("workshops:fops", args=["cycle-a"])  # a link workshops registered
    assert not [w for w in selectors.dashboard_for(personas.educator).waiting if w.kind == "fop"]


def test_untagged_capabilities_wait_for_educators_during_carry_out(personas):
    from workshops.models import Capability

    Cycle.objects.filter(pk=personas.cycle.pk).update(phase=Phase.CARRY_OUT)
    Capability.objects.create(cycle=personas.cycle, ref="C01", statement="Run closed systems.", status="accepted")
    Capability.objects.create(cycle=personas.cycle, ref="C02", statement="Not accepted yet.")
    items = [w for w in selectors.dashboard_for(personas.educator).waiting if w.kind == "tagging"]
    assert [(w.count, w.text) for w in items] == [(1, "1 capabilities have no KSB tags yet")]
    assert not [w for w in selectors.dashboard_for(personas.technologist).waiting if w.kind == "tagging"]


def test_a_convener_sees_what_the_next_phase_needs(personas):
    items = [w for w in selectors.dashboard_for(personas.convener).waiting if w.kind == "phase"]
    assert len(items) == 1 and items[0].text.startswith("Before Identify")
    assert items[0].url == reverse("cycles:timeline", args=["cycle-a"])


def test_the_dashboard_query_count_does_not_grow_with_the_number_of_cycles(personas):
    user = UserFactory()
    MembershipFactory(cycle=personas.cycle, user=user, role=Role.EMPLOYER)
    with CaptureQueriesContext(connection) as one:
        selectors.dashboard_for(user)
    for n in range(5):
        MembershipFactory(
            cycle=Cycle.objects.create(slug=f"more-{n}", title=f"More {n}", challenge="x"),
            user=user,
            role=Role.EMPLOYER,
        )
    with CaptureQueriesContext(connection) as six:
        selectors.dashboard_for(user)
    assert len(six) == len(one)


def test_the_dashboard_fragment_refreshes_alone(personas):
    response = personas.client_for(personas.technologist).get(
        reverse("cycles:dashboard"), headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert 'id="waiting"' in html and "<html" not in html

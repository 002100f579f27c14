"""The presenter page (the room's projector) and "now discussing": who may see and act, what the
room is shown, progress by stakeholder group, and where the convener's buttons lead back to."""

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from cycles.models import AuditEvent, Membership, Role
from tests.factories import MembershipFactory, UserFactory
from tests.workshops.delphi.factories import (
    add_panellists,
    fast_passwords,  # noqa: F401
    start_delphi,
)
from workshops.delphi.selectors import NO_GROUP, round_progress_by_group
from workshops.delphi.services import ITEM_NOT_IN_ROUND, DelphiError, round_close, round_discuss, vote_cast
from workshops.models import JoinCode, Round

pytestmark = pytest.mark.django_db

NOT_CONVENERS = ["technologist", "employer", "educator", "observer"]


@pytest.fixture
def delphi(personas):
    return start_delphi(personas.cycle, personas.convener, capabilities=2, levels=2, live=True)


def url(name, *args):
    return reverse(f"workshops:{name}", args=["cycle-a", *args])


def present(personas, **headers):
    return personas.client_for(personas.convener).get(url("delphi_presenter", 1), **headers)


def vote(rnd, people, item, value):
    for person in people:
        vote_cast(round_id=rnd.pk, panellist=person, item_id=item.pk, value=value)


# --- Who may see it -----------------------------------------------------------------------------


def test_the_convener_gets_the_projector_with_the_join_code_and_without_the_apps_navigation(personas, delphi):
    response = present(personas)
    body = response.content.decode()
    assert response.status_code == 200
    code = JoinCode.objects.get(round=delphi.round)
    assert f'data-join-code="{code.code}"' in body and "<svg" in body
    assert 'aria-label="Main"' not in body and 'id="cycle-nav' not in body  # no navbar, no cycle menu
    assert 'data-ws-path="/ws/rounds/' in body and "js/presenter.js" in body
    assert "Full screen" in body and "No deadline" in body


@pytest.mark.parametrize("persona", NOT_CONVENERS)
def test_other_members_are_refused_the_presenter_and_cannot_choose_the_item(personas, delphi, persona):
    client = personas.client_for(getattr(personas, persona))
    assert client.get(url("delphi_presenter", 1)).status_code == 403
    assert client.post(url("delphi_discuss", 1), {"item": delphi.items[0].pk}).status_code == 403
    assert Round.objects.get(pk=delphi.round.pk).discussing_id is None


def test_outsiders_get_404_and_anonymous_visitors_log_in(personas, delphi):
    assert personas.client_for(personas.outsider).get(url("delphi_presenter", 1)).status_code == 404
    assert personas.client_for(personas.outsider).post(url("delphi_discuss", 1), {"item": 1}).status_code == 404
    response = personas.client_for(None).get(url("delphi_presenter", 1))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_the_facilitator_page_and_the_delphi_home_link_to_the_presenter(personas, delphi):
    client = personas.client_for(personas.convener)
    link = f'href="{url("delphi_presenter", 1)}"'
    assert link in client.get(url("delphi_facilitator", 1)).content.decode()
    assert link in client.get(url("delphi")).content.decode()
    assert link not in personas.client_for(personas.technologist).get(url("delphi")).content.decode()


# --- What the room is shown ---------------------------------------------------------------------


def test_bars_show_from_the_anonymity_floor_while_results_are_revealed(personas, delphi):
    people = add_panellists(personas.cycle, 3)
    first, second = delphi.items[0], delphi.items[1]
    vote(delphi.round, people, first, 2)  # three answers: shown
    vote(delphi.round, people[:2], second, 3)  # two: each could read the other's
    body = present(personas).content.decode()
    assert f'data-bars="{first.pk}"' in body and f'data-bars="{second.pk}"' not in body
    assert "Not needed" in body and "Practitioner" in body and "Consensus" in body
    assert "100 % agree" in body  # the first item's agreement; none for the second


def test_nothing_of_the_answers_reaches_the_room_while_results_are_hidden(personas, delphi):
    Round.objects.filter(pk=delphi.round.pk).update(results_revealed=False)
    vote(delphi.round, add_panellists(personas.cycle, 3), delphi.items[0], 2)
    body = present(personas).content.decode()
    assert "data-bars=" not in body and "% agree" not in body
    assert "presenter-pill is-consensus" not in body and "delphi-consensus" not in body.split("<body", 1)[1]
    assert "3 answers" in body


def test_the_htmx_refresh_is_the_board_with_the_controls_out_of_band(personas, delphi):
    body = present(personas, HTTP_HX_REQUEST="true").content.decode()
    assert body.lstrip().startswith('<div id="board"') and "<html" not in body
    assert 'id="presenter-controls" class="presenter-controls" hx-swap-oob="true"' in body
    assert "join-code" not in body  # the QR is drawn once, with the page


def test_a_closed_round_says_so_and_offers_no_close_button(personas, delphi, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        round_close(round_id=delphi.round.pk, actor=personas.convener)
    body = present(personas).content.decode()
    assert "Round closed" in body and 'id="close-form"' not in body
    assert re.search(r'id="round-closed-banner" class="presenter-closed"', body)


# --- Progress by stakeholder group --------------------------------------------------------------


def test_progress_by_group_counts_eligible_started_and_finished_per_group(personas, delphi):
    # Eligible: the personas' technologist and employer (industry), one new panellist per group,
    # an employer without an organisation; not the observer (skills), who does not vote.
    tech, industry, skills = add_panellists(personas.cycle, 3)
    unaffiliated = UserFactory(email="nobody@a.test", organisation=None)
    MembershipFactory(cycle=personas.cycle, user=unaffiliated, role=Role.EMPLOYER)
    watcher = UserFactory(email="watcher@a.test", organisation=skills.organisation)
    MembershipFactory(cycle=personas.cycle, user=watcher, role=Role.OBSERVER)
    for item in delphi.items:  # four items: finished
        vote_cast(round_id=delphi.round.pk, panellist=tech, item_id=item.pk, value=1)
    for person in (industry, unaffiliated):
        vote_cast(round_id=delphi.round.pk, panellist=person, item_id=delphi.items[0].pk, value=1)

    rows = round_progress_by_group(rnd=delphi.round, plan=delphi.plan)
    assert [(r["label"], r["eligible"], r["started"], r["finished"]) for r in rows] == [
        ("Technology", 1, 1, 1),
        ("Industry", 3, 1, 0),
        ("Skills", 1, 0, 0),
        (NO_GROUP, 1, 1, 0),
    ]  # no Sponsor row: nobody of that group can vote
    industry_row = rows[1]
    assert (industry_row["started_share"], industry_row["finished_share"]) == (33, 0)


def test_a_removed_member_who_voted_still_counts_as_started_but_not_eligible(personas, delphi):
    [person] = add_panellists(personas.cycle, 1, groups=("technology",))
    vote_cast(round_id=delphi.round.pk, panellist=person, item_id=delphi.items[0].pk, value=1)
    Membership.objects.filter(user=person).update(status=Membership.Status.REMOVED)
    rows = {r["group"]: r for r in round_progress_by_group(rnd=delphi.round, plan=delphi.plan)}
    assert (rows["technology"]["eligible"], rows["technology"]["started"]) == (0, 1)
    assert rows["technology"]["started_share"] == 100


def test_the_presenter_shows_the_groups(personas, delphi):
    add_panellists(personas.cycle, 3)
    body = present(personas).content.decode()
    for label in ("Technology", "Industry", "Skills"):
        assert f"<strong>{label}</strong>" in body


# --- Now discussing: the service ----------------------------------------------------------------


def test_the_convener_sets_and_clears_the_discussed_item_with_an_audit_trail_and_a_new_sequence(personas, delphi):
    item = delphi.items[2]
    before = Round.objects.get(pk=delphi.round.pk).sequence
    rnd = round_discuss(round_id=delphi.round.pk, actor=personas.convener, item_id=item.pk)
    assert rnd.discussing_id == item.pk and rnd.sequence == before + 1
    assert round_discuss(round_id=delphi.round.pk, actor=personas.convener, item_id=str(item.pk)).sequence == before + 1
    rnd = round_discuss(round_id=delphi.round.pk, actor=personas.convener, item_id=None)
    assert rnd.discussing_id is None and rnd.sequence == before + 2
    verbs = list(AuditEvent.objects.filter(verb="delphi.discussing").order_by("pk").values_list("summary", flat=True))
    assert verbs == [
        f"Discussing {item.capability.ref} at {item.role_level.name} in Delphi round 1",
        "Stopped discussing an item of Delphi round 1",
    ]


def test_only_an_item_of_the_round_can_be_discussed(personas, delphi):
    other = start_delphi(personas.other_cycle, personas.outsider, capabilities=1, levels=1)
    for bad in (other.items[0].pk, 0, -1, 2**40, "x", True):
        with pytest.raises(DelphiError) as caught:
            round_discuss(round_id=delphi.round.pk, actor=personas.convener, item_id=bad)
        assert (caught.value.code, caught.value.message) == ("item_not_in_round", ITEM_NOT_IN_ROUND)
    assert Round.objects.get(pk=delphi.round.pk).discussing_id is None


@pytest.mark.parametrize("persona", [*NOT_CONVENERS, "outsider"])
def test_no_one_but_the_convener_may_choose_the_item(personas, delphi, persona):
    with pytest.raises(PermissionDenied, match="^Only the cycle's convener may choose the item the room discusses.$"):
        round_discuss(round_id=delphi.round.pk, actor=getattr(personas, persona), item_id=delphi.items[0].pk)


def test_a_closed_round_can_still_be_discussed(personas, delphi):
    round_close(round_id=delphi.round.pk, actor=personas.convener)
    assert round_discuss(round_id=delphi.round.pk, actor=personas.convener, item_id=delphi.items[0].pk).discussing


# --- Now discussing and the convener's buttons: the views ---------------------------------------


def test_discussing_from_the_presenter_shows_the_item_large(personas, delphi):
    client = personas.client_for(personas.convener)
    item = delphi.items[1]
    response = client.post(url("delphi_discuss", 1), {"item": item.pk}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith('<div id="board"')
    assert 'id="spotlight"' in body and "Now discussing" in body and f'data-discussing="{item.pk}"' in body
    # Without JavaScript: a plain form, back to the presenter (never to another site).
    response = client.post(url("delphi_discuss", 1), {"next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == url("delphi_presenter", 1)
    assert Round.objects.get(pk=delphi.round.pk).discussing_id is None
    response = client.post(url("delphi_discuss", 1), {"item": 999999}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and response.content.decode() == ITEM_NOT_IN_ROUND


def test_reveal_and_close_go_back_to_a_safe_next_and_answer_htmx_with_no_content(personas, delphi):
    client = personas.client_for(personas.convener)
    presenter = url("delphi_presenter", 1)
    response = client.post(url("delphi_round_reveal", 1), {"revealed": "0", "next": presenter})
    assert response.status_code == 302 and response["Location"] == presenter
    response = client.post(url("delphi_round_reveal", 1), {"revealed": "1", "next": "//evil.example/x"})
    assert response["Location"] == url("delphi_facilitator", 1)
    response = client.post(url("delphi_round_reveal", 1), {"revealed": "0"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and not Round.objects.get(pk=delphi.round.pk).results_revealed
    response = client.post(url("delphi_round_close", 1), {"next": "https://evil.example/"})
    assert response["Location"] == url("delphi")
    assert client.post(url("delphi_round_close", 1), HTTP_HX_REQUEST="true").status_code == 204

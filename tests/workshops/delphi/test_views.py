"""Every Delphi page per persona: members see, the convener acts, outsiders get 404, anonymous log in."""

import io

import pytest
from django.urls import reverse

from tests.workshops.delphi.factories import (
    add_capabilities,
    fast_passwords,  # noqa: F401
    start_delphi,
)
from workshops.delphi.services import PLAN_LOCKED, delphi_plan_ensure, round_close, round_open, vote_cast
from workshops.models import DelphiPlan, Round, Vote

pytestmark = pytest.mark.django_db

MEMBERS = ["convener", "technologist", "employer", "educator", "observer"]


@pytest.fixture
def delphi(personas):
    return start_delphi(personas.cycle, personas.convener, capabilities=2, levels=2)


def url(name, *args):
    return reverse(f"workshops:{name}", args=["cycle-a", *args])


MEMBER_PAGES = [
    ("delphi", ()),
    ("delphi_round", (1,)),
    ("delphi_results", ()),
    ("delphi_results_csv", ()),
    ("delphi_report", ()),
]
CONVENER_PAGES = [("delphi_plan", ()), ("delphi_round_open", ()), ("delphi_facilitator", (1,))]
CONVENER_POSTS = [("delphi_round_close", (1,)), ("delphi_round_reveal", (1,))]


@pytest.mark.parametrize("name,args", MEMBER_PAGES)
@pytest.mark.parametrize("persona", MEMBERS)
def test_every_member_sees_the_member_pages(personas, delphi, persona, name, args):
    response = personas.client_for(getattr(personas, persona)).get(url(name, *args))
    assert response.status_code == 200


@pytest.mark.parametrize("name,args", MEMBER_PAGES + CONVENER_PAGES)
def test_a_member_of_another_cycle_gets_404_everywhere(personas, delphi, name, args):
    assert personas.client_for(personas.outsider).get(url(name, *args)).status_code == 404


@pytest.mark.parametrize("name,args", MEMBER_PAGES + CONVENER_PAGES)
def test_anonymous_visitors_are_sent_to_log_in(personas, delphi, name, args):
    response = personas.client_for(None).get(url(name, *args))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize("name,args", CONVENER_PAGES)
@pytest.mark.parametrize("persona", ["technologist", "employer", "educator", "observer"])
def test_only_the_convener_reaches_the_convener_pages(personas, delphi, persona, name, args):
    assert personas.client_for(getattr(personas, persona)).get(url(name, *args)).status_code == 403
    assert personas.client_for(personas.convener).get(url(name, *args)).status_code == 200


@pytest.mark.parametrize("name,args", CONVENER_POSTS)
@pytest.mark.parametrize("persona", ["technologist", "employer", "educator", "observer"])
def test_only_the_convener_may_close_or_reveal(personas, delphi, persona, name, args):
    assert personas.client_for(getattr(personas, persona)).post(url(name, *args)).status_code == 403
    assert personas.client_for(personas.outsider).post(url(name, *args)).status_code == 404
    assert Round.objects.get(pk=delphi.round.pk).status == Round.Status.OPEN


def test_a_missing_round_is_404(personas, delphi):
    assert personas.client_for(personas.technologist).get(url("delphi_round", 9)).status_code == 404


def test_the_convener_saves_the_plan_before_round_one(personas):
    client = personas.client_for(personas.convener)
    data = {
        "voting_roles": ["technologist", "educator"], "min_responses": 5, "agreement_percent": 75, "iqr_max": 1,
        "stability_percent": 10, "max_rounds": 4, "feedback_mode": "live", "live_quorum": 3,
    }  # fmt: skip
    response = client.post(url("delphi_plan"), data, follow=True)
    assert "The Delphi plan is saved." in response.content.decode()
    plan = DelphiPlan.objects.get(cycle=personas.cycle)
    assert (plan.voting_roles, plan.min_responses, plan.agreement_threshold, plan.max_rounds) == (
        ["technologist", "educator"], 5, 0.75, 4,
    )  # fmt: skip
    assert (plan.stability_threshold, plan.feedback_mode, plan.live_quorum) == (0.10, "live", 3)


def test_a_bad_plan_is_re_shown_with_errors_and_not_saved(personas):
    response = personas.client_for(personas.convener).post(
        url("delphi_plan"), {"min_responses": 0, "feedback_mode": "x"}
    )
    assert response.status_code == 200
    assert "The plan was not saved" in response.content.decode()
    assert not DelphiPlan.objects.filter(cycle=personas.cycle).exists()


def test_the_plan_is_locked_once_round_one_opens(personas, delphi):
    client = personas.client_for(personas.convener)
    before = DelphiPlan.objects.get(pk=delphi.plan.pk)
    data = {"voting_roles": ["educator"], "min_responses": 9, "agreement_percent": 90, "iqr_max": 0,
            "stability_percent": 1, "max_rounds": 9, "feedback_mode": "live", "live_quorum": 0}  # fmt: skip
    response = client.post(url("delphi_plan"), data, follow=True)
    assert PLAN_LOCKED in response.content.decode()
    after = DelphiPlan.objects.get(pk=delphi.plan.pk)
    assert (after.voting_roles, after.min_responses, after.max_rounds) == (
        before.voting_roles,
        before.min_responses,
        before.max_rounds,
    )
    assert "disabled" in client.get(url("delphi_plan")).content.decode()


def test_the_convener_opens_round_one_with_every_item(personas):
    add_capabilities(personas.cycle, 3)
    from tests.factories import RoleLevelFactory

    RoleLevelFactory(cycle=personas.cycle, name="Lead")
    RoleLevelFactory(cycle=personas.cycle, name="Technician")
    client = personas.client_for(personas.convener)
    assert "<strong>6</strong> items" in client.get(url("delphi_round_open")).content.decode()
    response = client.post(url("delphi_round_open"), {"deadline": ""}, follow=True)
    assert "Round 1 is open with 6 items." in response.content.decode()
    assert DelphiPlan.objects.get(cycle=personas.cycle).locked_at is not None


def test_opening_a_round_with_nothing_to_vote_on_says_why(personas):
    response = personas.client_for(personas.convener).post(url("delphi_round_open"), {}, follow=True)
    assert "There is nothing to vote on yet" in response.content.decode()
    assert not Round.objects.exists()


def test_a_panellist_votes_through_a_plain_form_post(personas, delphi):
    client = personas.client_for(personas.technologist)
    item = delphi.items[0]
    response = client.post(url("delphi_vote", 1), {"item": item.pk, "value": "2", "rationale": "Because."}, follow=True)
    assert "Your answer is saved." in response.content.decode()
    vote = Vote.objects.get(round=delphi.round, panellist=personas.technologist)
    assert (vote.item_id, vote.value, vote.rationale) == (item.pk, 2, "Because.")


def test_an_htmx_vote_returns_the_saved_cell(personas, delphi):
    client = personas.client_for(personas.employer)
    item = delphi.items[1]
    response = client.post(url("delphi_vote", 1), {"item": item.pk, "value": "3"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and f'id="item-{item.pk}"' in body and "Saved" in body
    assert "<html" not in body
    assert Vote.objects.get(round=delphi.round, panellist=personas.employer).value == 3


def test_an_htmx_vote_out_of_range_is_refused_with_the_message(personas, delphi):
    response = personas.client_for(personas.employer).post(
        url("delphi_vote", 1), {"item": delphi.items[0].pk, "value": "7"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400 and "A proficiency must be 0" in response.content.decode()
    assert not Vote.objects.exists()


@pytest.mark.parametrize("persona", ["observer", "educator", "convener"])
def test_members_without_a_voting_role_cannot_vote_over_http(personas, delphi, persona):
    response = personas.client_for(getattr(personas, persona)).post(
        url("delphi_vote", 1), {"item": delphi.items[0].pk, "value": "1"}, follow=True
    )
    assert "does not vote in this Delphi" in response.content.decode()
    assert not Vote.objects.exists()


def test_outsiders_and_anonymous_cannot_vote_over_http(personas, delphi):
    data = {"item": delphi.items[0].pk, "value": "1"}
    assert personas.client_for(personas.outsider).post(url("delphi_vote", 1), data).status_code == 404
    assert personas.client_for(None).post(url("delphi_vote", 1), data).status_code == 302
    assert not Vote.objects.exists()


def test_the_convener_closes_a_round_and_reveals_its_results(personas, delphi, django_capture_on_commit_callbacks):
    client = personas.client_for(personas.convener)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("delphi_round_close", 1), follow=True)
    assert "Round 1 is closed" in response.content.decode()
    rnd = Round.objects.get(pk=delphi.round.pk)
    assert rnd.status == Round.Status.CLOSED and rnd.aggregated_at is not None
    client.post(url("delphi_round_reveal", 1), {"revealed": "1"})
    assert Round.objects.get(pk=delphi.round.pk).results_revealed


def test_a_round_past_its_deadline_reads_as_closed_and_a_page_view_writes_nothing(personas, delphi):
    from django.core.management import call_command
    from django.utils import timezone

    Round.objects.filter(pk=delphi.round.pk).update(deadline=timezone.now() - timezone.timedelta(minutes=1))
    technologist = personas.client_for(personas.technologist)
    body = technologist.get(url("delphi_round", 1)).content.decode()
    assert "This round is closed" in body
    home = technologist.get(url("delphi")).content.decode()
    assert "Closed" in home
    assert Round.objects.get(pk=delphi.round.pk).status == Round.Status.OPEN  # the GETs changed nothing
    call_command("close_due_rounds", stdout=io.StringIO())  # what the scheduled task runs
    rnd = Round.objects.get(pk=delphi.round.pk)
    assert (rnd.status, rnd.close_reason) == (Round.Status.CLOSED, Round.CloseReason.DEADLINE)


def test_a_round_past_its_deadline_waits_for_the_convener_not_for_panellists(personas, delphi):
    from django.utils import timezone

    from cycles.selectors import dashboard_for
    from workshops.delphi.selectors import get_round_for_member, round_snapshot

    Round.objects.filter(pk=delphi.round.pk).update(deadline=timezone.now() - timezone.timedelta(minutes=1))
    assert not [w for w in dashboard_for(personas.technologist).waiting if w.kind == "round"]
    assert [w.text for w in dashboard_for(personas.convener).waiting if w.kind == "round"] == [
        "Delphi round 1 is past its deadline: close it to compute the results"
    ]
    home = personas.client_for(personas.convener).get(url("delphi")).content.decode()
    assert "passed its deadline" in home and "Close round 1" in home  # the convener can close it here

    class Request:  # the websocket's view of the round, as the consumer builds it
        user = personas.technologist

    view = get_round_for_member(Request, "cycle-a", 1)
    snapshot = round_snapshot(view=view, user=personas.technologist)
    assert (snapshot["status"], snapshot["can_vote"]) == ("closed", False)


def test_no_page_shows_a_panellists_answer_or_rationale_to_another_panellist(
    personas, delphi, django_capture_on_commit_callbacks
):
    item = delphi.items[0]
    vote_cast(
        round_id=delphi.round.pk,
        panellist=personas.technologist,
        item_id=item.pk,
        value=3,
        rationale="Tomas-only reason",
    )
    employer = personas.client_for(personas.employer)
    for name, args in MEMBER_PAGES:
        body = employer.get(url(name, *args)).content.decode()
        assert "Tomas-only reason" not in body, name
    with django_capture_on_commit_callbacks(execute=True):
        round_close(round_id=delphi.round.pk, actor=personas.convener)
    round_open(cycle=personas.cycle, actor=personas.convener)
    body = employer.get(url("delphi_round", 2)).content.decode()
    # The rationale comes back as anonymous feedback, never with its author.
    assert "Tomas-only reason" in body
    assert personas.technologist.display_name not in body and personas.technologist.email not in body


def test_the_results_csv_lists_every_item_and_neutralises_formulas(
    personas, delphi, django_capture_on_commit_callbacks
):
    from workshops.models import Capability

    Capability.objects.filter(pk=delphi.items[0].capability_id).update(statement="=HYPERLINK(1)")
    with django_capture_on_commit_callbacks(execute=True):
        round_close(round_id=delphi.round.pk, actor=personas.convener)
    response = personas.client_for(personas.observer).get(url("delphi_results_csv"))
    lines = response.content.decode().strip().splitlines()
    assert lines[0].startswith("capability_ref,capability,role_level,proficiency")
    assert len(lines) == 1 + len(delphi.items)
    assert "'=HYPERLINK(1)" in response.content.decode()


def test_feedback_splits_by_stakeholder_group_only_where_a_group_has_three_answers(
    personas, delphi, django_capture_on_commit_callbacks
):
    from tests.workshops.delphi.factories import add_panellists

    groups = ("technology", "technology", "technology", "industry", "industry", "skills")
    people = add_panellists(personas.cycle, 6, groups=groups)
    item = delphi.items[0]
    for person, value in zip(people, [1, 1, 2, 3, 2, 0], strict=True):
        vote_cast(round_id=delphi.round.pk, panellist=person, item_id=item.pk, value=value)
    with django_capture_on_commit_callbacks(execute=True):
        round_close(round_id=delphi.round.pk, actor=personas.convener)
    round_open(cycle=personas.cycle, actor=personas.convener)
    body = personas.client_for(people[0]).get(url("delphi_round", 2)).content.decode()
    assert "Technology:" in body  # three answers: shown
    # Two and one answers: suppressed, and together three, so the item's counts minus
    # technology's do not give away one person's answer.
    assert "Industry:" not in body and "Skills:" not in body


@pytest.mark.parametrize("name", ["delphi_plan", "delphi_round_open"])
@pytest.mark.parametrize("persona", ["technologist", "employer", "educator", "observer"])
def test_only_the_convener_may_post_the_plan_or_open_a_round(personas, persona, name):
    add_capabilities(personas.cycle, 1)
    from tests.factories import RoleLevelFactory

    RoleLevelFactory(cycle=personas.cycle)
    data = {"voting_roles": ["employer"], "min_responses": 3, "agreement_percent": 70, "iqr_max": 1,
            "stability_percent": 15, "max_rounds": 3, "feedback_mode": "classic", "live_quorum": 0}  # fmt: skip
    assert personas.client_for(getattr(personas, persona)).post(url(name), data).status_code == 403
    assert personas.client_for(personas.outsider).post(url(name), data).status_code == 404
    assert not DelphiPlan.objects.filter(cycle=personas.cycle).exists()
    assert not Round.objects.exists()


def test_the_facilitator_board_refreshes_as_a_partial(personas, delphi):
    vote_cast(round_id=delphi.round.pk, panellist=personas.employer, item_id=delphi.items[0].pk, value=2)
    response = personas.client_for(personas.convener).get(url("delphi_facilitator", 1), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and 'id="board"' in body and "<html" not in body
    assert "1 answer" in body


def test_the_delphi_report_agrees_its_verbs_and_nouns_with_one_of_each(personas, delphi):
    from workshops.models import DelphiItem

    items = DelphiItem.objects.filter(cycle=personas.cycle).order_by("pk")
    outcomes = [DelphiItem.Outcome.CONSENSUS, DelphiItem.Outcome.STABLE, DelphiItem.Outcome.NO_CONSENSUS, ""]
    for item, outcome in zip(items, outcomes, strict=True):
        DelphiItem.objects.filter(pk=item.pk).update(outcome=outcome)
    text = " ".join(personas.client_for(personas.convener).get(url("delphi_report")).content.decode().split())
    assert "1 item reached consensus, 1 was stable without consensus" in text
    assert "and 1 is still undecided" in text


def test_the_plan_refuses_a_minimum_below_the_anonymity_floor(personas):
    from workshops.delphi.selectors import MIN_ANSWERS_SHOWN, plan_for

    data = {"voting_roles": ["employer"], "min_responses": MIN_ANSWERS_SHOWN - 1, "agreement_percent": 70,
            "iqr_max": 1, "max_rounds": 3, "stability_threshold": 15, "feedback_mode": "classic", "live_quorum": 3}  # fmt: skip
    response = personas.client_for(personas.convener).post(url("delphi_plan"), data)
    assert "The plan was not saved" in response.content.decode()
    assert f"greater than or equal to {MIN_ANSWERS_SHOWN}" in response.content.decode()
    assert plan_for(personas.cycle).min_responses != MIN_ANSWERS_SHOWN - 1


def test_opening_a_round_warns_when_the_panel_is_smaller_than_an_item_needs(personas):
    from tests.workshops.delphi.factories import add_panellists

    add_capabilities(personas.cycle, 1)
    plan = delphi_plan_ensure(cycle=personas.cycle)
    plan.min_responses = 5
    plan.save()
    client = personas.client_for(personas.convener)
    voters = len([r for r in ("technologist", "employer", "educator") if r in plan.voting_roles])
    page = client.get(url("delphi_round_open")).content.decode()
    assert "No item can reach consensus with this panel." in page
    assert f"Only {voters} active members can vote" in page and "at least 5 answers" in page
    assert reverse("cycles:members", args=["cycle-a"]) in page and url("delphi_plan") in page

    add_panellists(personas.cycle, 5 - voters)
    assert "No item can reach consensus" not in client.get(url("delphi_round_open")).content.decode()

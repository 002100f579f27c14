"""“I can't judge this”: stored, counted per item and group, left out of n, the statistics and stability."""

import csv
import io

import pytest
from channels.db import database_sync_to_async
from django.urls import reverse

from tests.workshops.delphi.factories import (
    add_panellists,
    fast_passwords,  # noqa: F401
    start_delphi,
)
from tests.workshops.delphi.test_websocket import connect, session_cookie, until
from workshops.delphi.consumers import BAD_CANT_JUDGE
from workshops.delphi.services import (
    CANT_JUDGE_NOT_ALLOWED,
    CANT_JUDGE_WITH_VALUE,
    DelphiError,
    round_close,
    round_open,
    vote_cast,
)
from workshops.models import ItemResult, Round, Vote


def _answer(rnd, people, item, values):
    """``None`` in ``values``: that panellist can't judge the item."""
    for person, value in zip(people, values, strict=True):
        vote_cast(round_id=rnd.pk, panellist=person, item_id=item.pk, value=value, cant_judge=value is None)


def _close(personas, rnd, capture):
    with capture(execute=True):
        round_close(round_id=rnd.pk, actor=personas.convener)


@pytest.fixture
def offered(personas):
    return start_delphi(personas.cycle, personas.convener, capabilities=1, levels=2, allow_cant_judge=True)


@pytest.mark.django_db
def test_cant_judge_answers_are_counted_but_left_out_of_n_and_the_statistics(
    personas, offered, django_capture_on_commit_callbacks
):
    people = add_panellists(personas.cycle, 6)  # technology, industry, skills, technology, industry, skills
    item, other = offered.items
    # Three Practitioner answers and three can't-judge: with them as answers, agreement would be 50 %.
    _answer(offered.round, people, item, [2, None, 2, 2, None, None])
    _answer(offered.round, people, other, [1, 1, 1, 1, 1, 1])
    _close(personas, offered.round, django_capture_on_commit_callbacks)
    result = ItemResult.objects.get(round=offered.round, item=item)
    assert (result.n, result.counts, result.median, result.iqr, result.agreement) == (3, [0, 0, 3, 0], 2.0, 0.0, 1.0)
    assert (result.consensus, result.consensus_value, result.cant_judge) == (True, 2, 3)
    assert result.group_cant_judge == {"industry": 2, "skills": 1}
    assert result.group_counts == {"technology": [0, 0, 2, 0], "skills": [0, 0, 1, 0]}
    assert Vote.objects.filter(round=offered.round, cant_judge=True, value__isnull=True).count() == 3
    summary = Round.objects.get(pk=offered.round.pk).summary
    # Everyone answered both items, so everyone completed the round.
    assert (summary["responded"], summary["completed"], summary["cant_judge"]) == (6, 6, 3)


@pytest.mark.django_db
def test_cant_judge_answers_are_not_paired_for_stability(personas, offered, django_capture_on_commit_callbacks):
    a, b, c, d = add_panellists(personas.cycle, 4)
    item, other = offered.items
    _answer(offered.round, [a, b, c, d], item, [1, 2, 3, None])
    _answer(offered.round, [a, b, c, d], other, [0, 1, 2, 3])
    _close(personas, offered.round, django_capture_on_commit_callbacks)
    second = round_open(cycle=personas.cycle, actor=personas.convener)
    # a changes; b and c keep theirs; d moves from "can't judge" to 2 (not a pair); the other item: d can't judge.
    _answer(second, [a, b, c, d], item, [2, 2, 3, 2])
    _answer(second, [a, b, c, d], other, [0, 1, 2, None])
    _close(personas, second, django_capture_on_commit_callbacks)
    result = ItemResult.objects.get(round=second, item=item)
    assert (result.n, result.n_both, result.changed_share) == (4, 3, round(1 / 3, 6))
    kept = ItemResult.objects.get(round=second, item=other)
    assert (kept.n, kept.n_both, kept.changed_share, kept.stable, kept.cant_judge) == (3, 3, 0.0, True, 1)


@pytest.mark.django_db
def test_a_plan_without_the_option_refuses_cant_judge(personas):
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=1, levels=1)
    with pytest.raises(DelphiError) as error:
        vote_cast(round_id=delphi.round.pk, panellist=personas.technologist, item_id=delphi.items[0].pk,
                  value=None, cant_judge=True)  # fmt: skip
    assert (error.value.code, error.value.message) == ("cant_judge_not_allowed", CANT_JUDGE_NOT_ALLOWED)
    assert not Vote.objects.exists()


@pytest.mark.django_db
def test_cant_judge_with_a_value_is_refused(personas, offered):
    with pytest.raises(DelphiError) as error:
        vote_cast(round_id=offered.round.pk, panellist=personas.technologist, item_id=offered.items[0].pk,
                  value=2, cant_judge=True)  # fmt: skip
    assert (error.value.code, error.value.message) == ("invalid_value", CANT_JUDGE_WITH_VALUE)


@pytest.mark.django_db
def test_the_form_saves_cant_judge_and_redraws_the_item_with_it_chosen(personas, offered):
    client = personas.client_for(personas.technologist)
    item = offered.items[0]
    page = client.get(reverse("workshops:delphi_round", args=[personas.cycle.slug, 1])).content.decode()
    assert "I can't judge this" in page
    response = client.post(
        reverse("workshops:delphi_vote", args=[personas.cycle.slug, 1]),
        {"item": item.pk, "value": "cant_judge"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'value="cant_judge" id="v{item.pk}-x" autocomplete="off" checked' in html
    assert "1 answer" in html and "Saved" in html
    vote = Vote.objects.get(round=offered.round, panellist=personas.technologist)
    assert (vote.value, vote.cant_judge) == (None, True)


@pytest.mark.django_db
def test_the_round_page_offers_cant_judge_only_when_the_plan_does(personas):
    start_delphi(personas.cycle, personas.convener, capabilities=1, levels=1)
    client = personas.client_for(personas.technologist)
    page = client.get(reverse("workshops:delphi_round", args=[personas.cycle.slug, 1])).content.decode()
    assert "I can't judge this" not in page


@pytest.mark.django_db
def test_results_and_csv_report_cant_judge_per_item_and_group(personas, offered, django_capture_on_commit_callbacks):
    people = add_panellists(personas.cycle, 9)
    item, other = offered.items
    # Technology: 2, 2, can't judge; industry: 2, 2, can't judge; skills: 2, 2, 2.
    _answer(offered.round, people, item, [2, 2, 2, 2, 2, 2, None, None, 2])
    _answer(offered.round, people, other, [1] * 9)
    _close(personas, offered.round, django_capture_on_commit_callbacks)
    client = personas.client_for(personas.employer)
    page = client.get(reverse("workshops:delphi_results", args=[personas.cycle.slug])).content.decode()
    assert "+ 2 can't judge" in page
    assert "Technology</span> (2 + 1 can't judge)" in page
    text = client.get(reverse("workshops:delphi_results_csv", args=[personas.cycle.slug])).content.decode()
    rows = {row["role_level"]: row for row in csv.DictReader(io.StringIO(text))}
    row = rows[item.role_level.name]
    assert (row["n"], row["cant_judge"], row["agreement"]) == ("7", "2", "1.0")
    assert (row["technology_n"], row["technology_cant_judge"], row["technology_median"]) == ("2", "1", "")
    assert (row["industry_n"], row["industry_cant_judge"], row["skills_n"], row["skills_cant_judge"]) == (
        "2", "1", "3", "0",
    )  # fmt: skip


@pytest.mark.django_db
def test_a_panellist_sees_no_cant_judge_count_of_fewer_than_three_responses(
    personas, offered, django_capture_on_commit_callbacks
):
    # One answer and one "can't judge": each of the two would learn what the other did.
    a, b = add_panellists(personas.cycle, 2)
    item = offered.items[0]
    _answer(offered.round, [a, b], item, [2, None])
    _close(personas, offered.round, django_capture_on_commit_callbacks)
    text = personas.client_for(a).get(reverse("workshops:delphi_results_csv", args=[personas.cycle.slug]))
    row = next(r for r in csv.DictReader(io.StringIO(text.content.decode())) if r["role_level"] == item.role_level.name)
    assert (row["n"], row["cant_judge"], row["median"]) == ("1", "", "")
    convener = personas.client_for(personas.convener).get(
        reverse("workshops:delphi_results_csv", args=[personas.cycle.slug])
    )
    row = next(
        r for r in csv.DictReader(io.StringIO(convener.content.decode())) if r["role_level"] == item.role_level.name
    )
    assert row["cant_judge"] == "1"


@pytest.mark.django_db
def test_the_plan_form_saves_the_cant_judge_option(personas):
    client = personas.client_for(personas.convener)
    data = {
        "voting_roles": ["technologist"], "min_responses": 3, "agreement_percent": 70, "iqr_max": 1,
        "stability_percent": 15, "max_rounds": 3, "feedback_mode": "classic", "live_quorum": 0,
        "allow_cant_judge": "on",
    }  # fmt: skip
    assert client.post(reverse("workshops:delphi_plan", args=[personas.cycle.slug]), data).status_code == 302
    personas.cycle.delphi_plan.refresh_from_db()
    assert personas.cycle.delphi_plan.allow_cant_judge is True


# --- Through the websocket (the real ASGI application) ---------------------------------------------


@pytest.fixture(autouse=False)
def _immediate(settings):
    settings.DELPHI_PROGRESS_INTERVAL = 0


@pytest.mark.django_db(transaction=True)
async def test_a_cant_judge_vote_over_the_socket_is_stored_then_acknowledged(personas, _immediate):
    delphi = await database_sync_to_async(start_delphi)(
        personas.cycle, personas.convener, capabilities=1, levels=1, live=True, allow_cant_judge=True
    )
    item = delphi.items[0].pk
    cookie = await database_sync_to_async(session_cookie)(personas.technologist)
    ws, _ = await connect(delphi.round.pk, cookie)
    await ws.send_json_to({"type": "vote", "client_id": "cj-1", "item": item, "cant_judge": True})
    ack = await until(ws, "ack")
    assert (ack["client_id"], ack["item"], ack["value"], ack["cant_judge"]) == ("cj-1", item, None, True)
    stored = await database_sync_to_async(
        lambda: list(Vote.objects.filter(round=delphi.round).values_list("value", "cant_judge"))
    )()
    assert stored == [(None, True)]
    # A resend of the same client id is answered from its receipt, even carrying a value.
    await ws.send_json_to({"type": "vote", "client_id": "cj-1", "item": item, "value": 3})
    again = await until(ws, "ack")
    assert (again["value"], again["cant_judge"], again["sequence"]) == (None, True, ack["sequence"])
    await ws.disconnect()
    ws, snapshot = await connect(delphi.round.pk, cookie)
    assert snapshot["mine"] == {str(item): {"value": None, "rationale": "", "cant_judge": True}}
    assert snapshot["progress"]["answers"] == {str(item): 1}
    assert snapshot["distributions"] == {}
    await ws.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_the_socket_refuses_malformed_or_unoffered_cant_judge(personas, _immediate):
    delphi = await database_sync_to_async(start_delphi)(
        personas.cycle, personas.convener, capabilities=1, levels=1, live=True
    )
    item = delphi.items[0].pk
    cookie = await database_sync_to_async(session_cookie)(personas.technologist)
    ws, _ = await connect(delphi.round.pk, cookie)
    cases = [
        ({"cant_judge": "yes"}, "invalid_value", BAD_CANT_JUDGE),
        ({"cant_judge": True, "value": 2}, "invalid_value", CANT_JUDGE_WITH_VALUE),
        ({"cant_judge": True}, "cant_judge_not_allowed", CANT_JUDGE_NOT_ALLOWED),
    ]
    for n, (fields, code, message) in enumerate(cases):
        await ws.send_json_to({"type": "vote", "client_id": f"bad-{n}", "item": item, **fields})
        error = await until(ws, "error")
        assert (error["client_id"], error["code"], error["message"], error["retry"]) == (
            f"bad-{n}",
            code,
            message,
            False,
        )
    assert not await database_sync_to_async(Vote.objects.exists)()
    await ws.disconnect()

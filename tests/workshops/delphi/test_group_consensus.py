"""Consensus within each stakeholder group and divergence between groups, against hand-computed cases."""

import csv
import io

import numpy as np
import pytest
from django.urls import reverse

from tests.workshops.delphi.factories import (
    add_panellists,
    fast_passwords,  # noqa: F401
    start_delphi,
)
from workshops.delphi.aggregation import Rule, divergence_of, every_group_agrees, group_statistics, hidden_groups
from workshops.delphi.services import round_close, vote_cast
from workshops.models import DelphiItem, ItemResult, Round


def groups_of(**answers: list[int]) -> dict[str, dict]:
    counts = {group: np.bincount(values, minlength=4).reshape(1, 4) for group, values in answers.items()}
    return group_statistics(counts, Rule())[0]


def test_a_group_with_fewer_than_three_answers_is_suppressed():
    groups = groups_of(technology=[2, 2, 2], skills=[3, 3], industry=[])
    assert groups["skills"] == {"n": 2, "shown": False}
    assert "industry" not in groups
    tech = groups["technology"]
    assert (tech["n"], tech["median"], tech["iqr"], tech["agreement"], tech["consensus"], tech["value"]) == (
        3, 2.0, 0.0, 1.0, True, 2,
    )  # fmt: skip
    # Skills' two answers (both Expert, a level above) are left out of every comparison.
    assert divergence_of(groups) == []


@pytest.mark.parametrize(
    ("answers", "hidden"),
    [
        # Nobody below the floor: nothing hidden.
        ({"technology": 3, "industry": 4, "skills": 5}, set()),
        # Two skills answers would be the item's counts minus the other two groups': the smaller
        # of those (technology, 3) is hidden with them, so 5 answers stay together.
        ({"technology": 3, "industry": 4, "skills": 2}, {"skills", "technology"}),
        # Two groups below the floor holding 4 answers between them: their sum is not one group's.
        ({"technology": 5, "industry": 2, "skills": 2}, {"industry", "skills"}),
        # One group shown beside one below the floor: the shown one would give the other away.
        ({"technology": 6, "skills": 1}, {"skills", "technology"}),
        # A group without answers hides nothing.
        ({"technology": 3, "industry": 3, "skills": 0}, set()),
    ],
)
def test_no_group_below_the_floor_can_be_worked_out_by_subtraction(answers, hidden):
    assert hidden_groups(answers) == hidden


def test_medians_a_level_apart_make_an_item_divergent():
    # Technology 1, 1, 2: median 1. Skills 2, 2, 3: median 2. Neither reaches 70 % agreement.
    groups = groups_of(technology=[1, 1, 2], skills=[2, 2, 3])
    assert (groups["technology"]["median"], groups["skills"]["median"]) == (1.0, 2.0)
    assert not groups["technology"]["consensus"] and not groups["skills"]["consensus"]
    assert divergence_of(groups) == [{"kind": "median", "high": "skills", "low": "technology", "difference": 1.0}]


def test_medians_half_a_level_apart_do_not_diverge():
    # Technology 1, 2: … 1, 1, 2, 2 → median 1.5; industry 1, 2, 2 → median 2.
    groups = groups_of(technology=[1, 1, 2, 2], industry=[1, 2, 2])
    assert (groups["technology"]["median"], groups["industry"]["median"]) == (1.5, 2.0)
    assert divergence_of(groups) == []


def test_a_value_one_group_agrees_on_and_most_of_another_rejects_is_divergent():
    # Industry: 2, 2, 2, 2 → consensus on Practitioner. Skills: 1, 2, 3 → median 2 too, but two of
    # three (67 %) answered something else.
    groups = groups_of(industry=[2, 2, 2, 2], skills=[1, 2, 3])
    assert groups["industry"]["median"] == groups["skills"]["median"] == 2.0
    assert divergence_of(groups) == [
        {"kind": "rejected", "group": "industry", "value": 2, "by": "skills", "share": round(2 / 3, 6)}
    ]
    assert not every_group_agrees(groups, 2)


def test_half_of_a_group_answering_otherwise_is_not_a_majority():
    groups = groups_of(industry=[2, 2, 2], skills=[2, 2, 1, 3])
    assert divergence_of(groups) == []


# --- Through the real aggregation -----------------------------------------------------------------


@pytest.fixture
def nine(personas):
    """Three panellists in each stakeholder group (technology, industry, skills, technology, …)."""
    return add_panellists(personas.cycle, 9)


def _answer(rnd, people, item, values):
    for person, value in zip(people, values, strict=True):
        vote_cast(round_id=rnd.pk, panellist=person, item_id=item.pk, value=value)


def _close(personas, rnd, capture):
    with capture(execute=True):
        round_close(round_id=rnd.pk, actor=personas.convener)


def _by_group(people, tech, industry, skills):
    """Answers in panellist order for the groups' answers (panellist n is in group n % 3)."""
    answers = {0: list(tech), 1: list(industry), 2: list(skills)}
    return [answers[n % 3].pop(0) for n in range(len(people))]


@pytest.mark.django_db
@pytest.mark.parametrize("required", [False, True])
def test_the_plan_can_require_consensus_in_every_group(personas, nine, django_capture_on_commit_callbacks, required):
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=2, levels=1, require_group_consensus=required)
    skills_split, all_agree = delphi.items
    # 8 of 9 answer Practitioner: the panel agrees (89 %, IQR 0). Skills: 2, 2, 1 → 67 %, no consensus.
    _answer(delphi.round, nine, skills_split, _by_group(nine, [2, 2, 2], [2, 2, 2], [2, 2, 1]))
    _answer(delphi.round, nine, all_agree, _by_group(nine, [3, 3, 3], [3, 3, 3], [3, 3, 3]))
    _close(personas, delphi.round, django_capture_on_commit_callbacks)

    split = ItemResult.objects.get(round=delphi.round, item=skills_split)
    assert (split.n, split.counts, split.agreement, split.iqr) == (9, [0, 1, 8, 0], round(8 / 9, 6), 0.0)
    assert split.panel_consensus is True
    assert split.group_stats["skills"]["consensus"] is False
    assert split.group_stats["technology"]["value"] == split.group_stats["industry"]["value"] == 2
    assert split.consensus is (not required)
    skills_split.refresh_from_db()
    assert skills_split.outcome == ("" if required else DelphiItem.Outcome.CONSENSUS)
    summary = Round.objects.get(pk=delphi.round.pk).summary
    assert summary["plan"]["require_group_consensus"] is required
    assert summary["items_held_back_by_groups"] == (1 if required else 0)
    assert ItemResult.objects.get(round=delphi.round, item=all_agree).consensus is True


@pytest.mark.django_db
def test_an_item_every_group_agrees_on_counts_as_agreed_when_required(
    personas, nine, django_capture_on_commit_callbacks
):
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=1, levels=1, require_group_consensus=True)
    [item] = delphi.items
    _answer(delphi.round, nine, item, _by_group(nine, [1, 1, 1], [1, 1, 1], [1, 1, 1]))
    _close(personas, delphi.round, django_capture_on_commit_callbacks)
    result = ItemResult.objects.get(round=delphi.round, item=item)
    assert (result.consensus, result.consensus_value, result.divergent) == (True, 1, False)


@pytest.mark.django_db
def test_a_group_below_three_answers_neither_blocks_nor_counts_when_required(
    personas, django_capture_on_commit_callbacks
):
    # Seven panellists: technology 3, industry 2, skills 2.
    people = add_panellists(personas.cycle, 7)
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=1, levels=1, require_group_consensus=True)
    [item] = delphi.items
    _answer(delphi.round, people, item, [2, 2, 3, 2, 2, 3, 2])  # technology 2, 2, 2; industry 2, 2; skills 3, 3
    _close(personas, delphi.round, django_capture_on_commit_callbacks)
    result = ItemResult.objects.get(round=delphi.round, item=item)
    assert result.group_stats["industry"] == {"n": 2, "shown": False}
    assert result.group_stats["skills"] == {"n": 2, "shown": False}
    assert (result.agreement, result.consensus, result.consensus_value) == (round(5 / 7, 6), True, 2)
    assert result.divergence == []  # skills' two Expert answers are not compared


@pytest.fixture
def divergent(personas, nine, django_capture_on_commit_callbacks):
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=1, levels=1)
    [item] = delphi.items
    # Technology 1, 1, 1 (consensus on Awareness); industry 2, 2, 2; skills 2, 3, 3 (median 3).
    _answer(delphi.round, nine, item, _by_group(nine, [1, 1, 1], [2, 2, 2], [2, 3, 3]))
    _close(personas, delphi.round, django_capture_on_commit_callbacks)
    return delphi


@pytest.mark.django_db
def test_divergence_is_stored_with_its_reasons(divergent):
    result = ItemResult.objects.get(round=divergent.round)
    assert result.divergent
    kinds = [(r["kind"], r.get("high"), r.get("low"), r.get("group"), r.get("by")) for r in result.divergence]
    assert kinds == [
        ("median", "skills", "technology", None, None),
        ("rejected", None, None, "technology", "industry"),
        ("rejected", None, None, "technology", "skills"),
        ("rejected", None, None, "industry", "technology"),
        ("rejected", None, None, "industry", "skills"),
    ]
    assert Round.objects.get(pk=divergent.round.pk).summary["items_divergent"] == 1


@pytest.mark.django_db
def test_the_results_page_and_csv_show_each_group_and_the_divergence(personas, divergent):
    client = personas.client_for(personas.technologist)
    page = client.get(reverse("workshops:delphi_results", args=[personas.cycle.slug])).content.decode()
    assert "Groups diverge" in page
    assert "Skills and Technology medians differ by 2 levels" in page
    assert "Technology agrees on Awareness; 100 % of Industry and 100 % of Skills answered otherwise" in page
    assert "Industry agrees on Practitioner; 100 % of Technology and 67 % of Skills answered otherwise" in page
    assert "consensus on Awareness" in page and "consensus on Practitioner" in page
    text = client.get(reverse("workshops:delphi_results_csv", args=[personas.cycle.slug])).content.decode()
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert (row["divergent"], row["panel_consensus"]) == ("yes", "no")
    assert (row["technology_n"], row["technology_median"], row["technology_consensus_value"]) == ("3", "1.0", "1")
    assert (row["skills_n"], row["skills_median"], row["skills_consensus_value"]) == ("3", "3.0", "")
    assert "Skills and Technology medians differ by 2 levels" in row["divergence"]


@pytest.mark.django_db
def test_a_panellist_sees_a_small_groups_size_but_nothing_of_its_answers(personas):
    people = add_panellists(personas.cycle, 5)  # technology 2, industry 2, skills 1
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=1, levels=1)
    [item] = delphi.items
    _answer(delphi.round, people, item, [1, 3, 3, 1, 3])  # technology 1, 1; industry 3, 3; skills 3
    round_close(round_id=delphi.round.pk, actor=personas.convener)
    from workshops.delphi.aggregation import round_aggregate

    round_aggregate(round_id=delphi.round.pk)
    client = personas.client_for(personas.technologist)
    text = client.get(reverse("workshops:delphi_results_csv", args=[personas.cycle.slug])).content.decode()
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["n"] == "5"
    for group in ("technology", "industry", "skills"):
        assert (row[f"{group}_median"], row[f"{group}_agreement"], row[f"{group}_consensus_value"]) == ("", "", "")
    assert (row["technology_n"], row["industry_n"], row["skills_n"]) == ("2", "2", "1")
    assert row["divergent"] == "no"


@pytest.mark.django_db
def test_the_facilitator_sees_the_groups_after_close_and_never_a_name(personas, divergent, nine):
    client = personas.client_for(personas.convener)
    page = client.get(reverse("workshops:delphi_facilitator", args=[personas.cycle.slug, 1])).content.decode()
    assert "Groups diverge" in page and "consensus on Awareness" in page
    for person in nine:
        assert person.email not in page and person.display_name not in page


@pytest.mark.django_db
def test_the_facilitator_sees_no_groups_while_the_round_is_open(personas, nine):
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=1, levels=1)
    _answer(delphi.round, nine, delphi.items[0], [1] * 9)
    client = personas.client_for(personas.convener)
    page = client.get(reverse("workshops:delphi_facilitator", args=[personas.cycle.slug, 1])).content.decode()
    assert "consensus on" not in page and "Groups diverge" not in page


@pytest.mark.django_db
def test_the_report_lists_divergent_items(personas, divergent):
    client = personas.client_for(personas.employer)
    page = client.get(reverse("workshops:delphi_report", args=[personas.cycle.slug])).content.decode()
    assert "Divergence between stakeholder groups" in page
    assert "1 item diverges" in page and "C01</span> at Level 1 (round 1)" in page


@pytest.mark.django_db
def test_the_plan_form_saves_the_every_group_requirement(personas):
    client = personas.client_for(personas.convener)
    data = {
        "voting_roles": ["technologist", "employer"], "min_responses": 3, "agreement_percent": 70, "iqr_max": 1,
        "stability_percent": 15, "max_rounds": 3, "feedback_mode": "classic", "live_quorum": 0,
        "require_group_consensus": "on",
    }  # fmt: skip
    response = client.post(reverse("workshops:delphi_plan", args=[personas.cycle.slug]), data)
    assert response.status_code == 302
    personas.cycle.delphi_plan.refresh_from_db()
    assert personas.cycle.delphi_plan.require_group_consensus is True
    page = client.get(reverse("workshops:delphi_plan", args=[personas.cycle.slug])).content.decode()
    assert "Require consensus in every stakeholder group" in page and "checked" in page

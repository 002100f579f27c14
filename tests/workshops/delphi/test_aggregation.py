"""Aggregation against hand-computed cases (numpy 'linear' quartiles; conservative mode ties)."""

import numpy as np
import pytest

from tests.workshops.delphi.factories import (
    add_panellists,
    fast_passwords,  # noqa: F401
    start_delphi,
)
from workshops.delphi.aggregation import Rule, item_statistics
from workshops.delphi.services import round_close, round_open, vote_cast
from workshops.delphi.tasks import aggregate_round
from workshops.models import DelphiItem, ItemResult, Round, Vote


def stats_of(answers: list[int], rule: Rule | None = None) -> dict:
    counts = np.bincount(answers, minlength=4).reshape(1, 4)
    s = item_statistics(counts, rule or Rule())
    return {k: (v[0].item() if hasattr(v[0], "item") else v[0]) for k, v in s.items()}


def test_even_number_of_answers_interpolates_the_quartiles():
    s = stats_of([1, 1, 2, 2, 2, 3])
    assert (s["n"], s["median"], s["q1"], s["q3"], s["iqr"]) == (6, 2.0, 1.25, 2.0, 0.75)
    assert s["agreement"] == 0.5 and s["modal"] == 2 and not s["consensus"]


def test_four_different_answers_give_a_half_point_median_and_wide_iqr():
    s = stats_of([0, 1, 2, 3])
    assert (s["median"], s["q1"], s["q3"], s["iqr"]) == (1.5, 0.75, 2.25, 1.5)
    # Four-way tie: 1 and 2 are equally close to the median 1.5, so the lower one wins.
    assert s["modal"] == 1 and s["agreement"] == 0.25


def test_a_tie_for_the_mode_goes_to_the_value_closest_to_the_median():
    s = stats_of([0, 0, 2, 2, 3])
    assert s["median"] == 2.0 and s["modal"] == 2


def test_a_tie_equally_far_from_the_median_goes_to_the_lower_value():
    s = stats_of([1, 1, 2, 3, 3])
    assert s["median"] == 2.0 and s["modal"] == 1 and s["agreement"] == 0.4


def test_all_not_needed_is_a_consensus_on_zero():
    s = stats_of([0, 0, 0, 0, 0])
    assert (s["median"], s["iqr"], s["agreement"], s["modal"], s["consensus"]) == (0.0, 0.0, 1.0, 0, True)


def test_a_single_answer_is_below_the_minimum_and_no_consensus():
    s = stats_of([3])
    assert (s["n"], s["median"], s["iqr"], s["agreement"]) == (1, 3.0, 0.0, 1.0)
    assert not s["consensus"]


def test_seven_of_eight_agreeing_reaches_consensus():
    s = stats_of([2, 2, 2, 2, 2, 2, 2, 3])
    assert (s["q1"], s["q3"], s["agreement"], s["consensus"]) == (2.0, 2.0, 0.875, True)


def test_no_answers_give_no_statistics():
    s = stats_of([])
    assert s["n"] == 0 and np.isnan(s["median"]) and s["modal"] == -1 and not s["consensus"]


def test_quartiles_match_numpy_linear_for_many_random_items():
    rng = np.random.default_rng(7)
    answers = rng.integers(0, 4, size=(200, 9))
    counts = np.stack([np.bincount(row, minlength=4) for row in answers])
    s = item_statistics(counts, Rule())
    for p, key in [(0.25, "q1"), (0.5, "median"), (0.75, "q3")]:
        assert np.allclose(s[key], np.quantile(answers, p, axis=1, method="linear"))


def _cast(rnd, people, item, values):
    for person, value in zip(people, values, strict=True):
        if value is not None:
            vote_cast(round_id=rnd.pk, panellist=person, item_id=item.pk, value=value)


@pytest.fixture
def close(personas, django_capture_on_commit_callbacks):
    def _close(rnd):
        with django_capture_on_commit_callbacks(execute=True):
            round_close(round_id=rnd.pk, actor=personas.convener)

    return _close


@pytest.mark.django_db
def test_an_item_that_changes_between_rounds_reports_the_changed_share(personas, close):
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=1, levels=2)
    a, b, c, d, e = add_panellists(personas.cycle, 5)
    changing, steady = delphi.items
    _cast(delphi.round, [a, b, c, d], changing, [1, 1, 2, 3])
    _cast(delphi.round, [a, b, c], steady, [1, 2, 3])
    close(delphi.round)

    second = round_open(cycle=personas.cycle, actor=personas.convener)
    assert set(second.items.all()) == {changing, steady}
    _cast(second, [a, b, c, d, e], changing, [2, 1, 2, 2, 2])
    _cast(second, [a, b, c], steady, [1, 2, 3])
    close(second)

    result = ItemResult.objects.get(round=second, item=changing)
    assert (result.n, result.counts, result.n_both, result.changed_share) == (5, [0, 1, 4, 0], 4, 0.5)
    assert (result.agreement, result.iqr, result.consensus, result.consensus_value) == (0.8, 0.0, True, 2)
    assert not result.stable
    steady_result = ItemResult.objects.get(round=second, item=steady)
    assert (steady_result.changed_share, steady_result.stable, steady_result.consensus) == (0.0, True, False)

    changing.refresh_from_db()
    steady.refresh_from_db()
    assert (changing.outcome, changing.consensus_value, changing.outcome_round) == ("consensus", 2, 2)
    assert (steady.outcome, steady.consensus_value, steady.outcome_round) == ("stable", None, 2)
    summary = Round.objects.get(pk=second.pk).summary
    assert summary["items_reached"] == 1 and summary["items_stable"] == 1 and summary["items_carried"] == 0


@pytest.mark.django_db
def test_aggregating_twice_gives_identical_results(personas, close):
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=2, levels=2)
    people = add_panellists(personas.cycle, 6)
    for n, item in enumerate(delphi.items):
        _cast(delphi.round, people, item, [(n + k) % 4 for k in range(6)])
    close(delphi.round)

    def snapshot():
        results = list(ItemResult.objects.filter(round=delphi.round).order_by("item_id").values())
        for row in results:
            row.pop("id")
        items = list(DelphiItem.objects.filter(cycle=personas.cycle).order_by("pk").values())
        return results, items, Round.objects.get(pk=delphi.round.pk).summary

    first = snapshot()
    aggregate_round(delphi.round.pk)
    aggregate_round.delay(delphi.round.pk)
    assert snapshot() == first
    assert ItemResult.objects.filter(round=delphi.round).count() == 4


@pytest.mark.django_db
def test_the_round_summary_reports_response_rate_and_attrition_by_group(personas, close):
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=1, levels=1, max_rounds=3)
    people = add_panellists(personas.cycle, 6)  # technology, industry, skills, technology, industry, skills
    item = delphi.items[0]
    _cast(delphi.round, people, item, [0, 1, 2, 3, 1, 2])
    close(delphi.round)
    first = Round.objects.get(pk=delphi.round.pk).summary
    # Voters: 6 panellists plus the technologist and employer personas.
    assert (first["eligible"], first["responded"], first["attrition"]) == (8, 6, 0)
    assert first["responded_by_group"]["technology"] == 2

    second = round_open(cycle=personas.cycle, actor=personas.convener)
    _cast(second, people[:4], item, [1, 1, 2, 3])
    close(second)
    summary = Round.objects.get(pk=second.pk).summary
    assert (summary["responded"], summary["attrition"], summary["attrition_rate"]) == (4, 2, round(2 / 6, 4))
    assert summary["attrition_by_group"] == {"technology": 0, "industry": 1, "skills": 1}
    assert Vote.objects.filter(round=second).count() == 4

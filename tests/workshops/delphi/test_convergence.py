"""Convergence: agreement and IQR by round per item, and the Wilcoxon test of answers moving."""

import re

import pytest
from django.urls import reverse
from scipy import stats

from tests.workshops.delphi.factories import (
    add_panellists,
    fast_passwords,  # noqa: F401
    start_delphi,
)
from workshops.delphi.aggregation import wilcoxon_test
from workshops.delphi.services import round_close, round_open, vote_cast
from workshops.models import ItemResult, Round

# One panellist's answer in round 1 and round 2, per item.
MOVING_BEFORE, MOVING_AFTER = [1, 1, 2, 2, 3, 0, 1, 2], [2, 2, 2, 3, 3, 1, 2, 3]
STEADY_BEFORE, STEADY_AFTER = [0, 1, 2, 3, 1, 2, 0, 3], [0, 1, 2, 3, 1, 2, 1, 2]


def _scipy(after, before):
    return stats.wilcoxon(after, before, zero_method="wilcox", method="asymptotic")


@pytest.fixture
def two_rounds(personas, django_capture_on_commit_callbacks):
    people = add_panellists(personas.cycle, 8)
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=1, levels=2, max_rounds=3)
    moving, steady = delphi.items

    def answer(rnd, item, values):
        for person, value in zip(people, values, strict=True):
            vote_cast(round_id=rnd.pk, panellist=person, item_id=item.pk, value=value)

    def close(rnd):
        with django_capture_on_commit_callbacks(execute=True):
            round_close(round_id=rnd.pk, actor=personas.convener)

    answer(delphi.round, moving, MOVING_BEFORE)
    answer(delphi.round, steady, STEADY_BEFORE)
    close(delphi.round)
    second = round_open(cycle=personas.cycle, actor=personas.convener)
    answer(second, moving, MOVING_AFTER)
    answer(second, steady, STEADY_AFTER)
    close(second)
    return {"delphi": delphi, "second": second, "moving": moving, "steady": steady, "people": people}


@pytest.mark.django_db
def test_each_items_wilcoxon_result_equals_scipys_on_the_same_pairs(two_rounds):
    for item, before, after in [
        (two_rounds["moving"], MOVING_BEFORE, MOVING_AFTER),
        (two_rounds["steady"], STEADY_BEFORE, STEADY_AFTER),
    ]:
        result = ItemResult.objects.get(round=two_rounds["second"], item=item)
        expected = _scipy(after, before)
        assert result.n_both == 8
        assert result.wilcoxon_statistic == pytest.approx(float(expected.statistic), abs=1e-6)
        assert result.wilcoxon_p == pytest.approx(float(expected.pvalue), abs=1e-6)
    # Six of eight moved up: a small p-value; two moved, one each way: nothing systematic.
    moving = ItemResult.objects.get(round=two_rounds["second"], item=two_rounds["moving"])
    steady = ItemResult.objects.get(round=two_rounds["second"], item=two_rounds["steady"])
    assert moving.wilcoxon_p < 0.05 < steady.wilcoxon_p


@pytest.mark.django_db
def test_the_rounds_pooled_test_equals_scipys_on_every_pair(two_rounds):
    summary = Round.objects.get(pk=two_rounds["second"].pk).summary["wilcoxon"]
    # Pairs in any order: the statistic and p-value do not depend on it.
    expected = _scipy(MOVING_AFTER + STEADY_AFTER, MOVING_BEFORE + STEADY_BEFORE)
    assert (summary["pairs"], summary["changed"]) == (16, 8)
    assert summary["statistic"] == pytest.approx(float(expected.statistic), abs=1e-6)
    assert summary["p"] == pytest.approx(float(expected.pvalue), abs=1e-6)
    assert "scipy.stats.wilcoxon" in summary["method"] and "asymptotic" in summary["method"]
    assert Round.objects.get(pk=two_rounds["delphi"].round.pk).summary["wilcoxon"] is None


def test_no_answer_moving_gives_no_p_value():
    assert wilcoxon_test([1, 2, 3], [1, 2, 3]) == {"pairs": 3, "changed": 0, "statistic": None, "p": None}
    assert wilcoxon_test([], []) == {"pairs": 0, "changed": 0, "statistic": None, "p": None}


def test_the_test_of_a_few_pairs_is_the_library_call():
    before, after = [1, 2, 2, 0], [2, 3, 2, 1]
    expected = _scipy(after, before)
    result = wilcoxon_test(after, before)
    assert (result["pairs"], result["changed"]) == (4, 3)
    assert result["p"] == pytest.approx(float(expected.pvalue), abs=1e-6)


@pytest.mark.django_db
def test_the_convergence_page_charts_each_item_and_shows_the_tests(personas, two_rounds):
    client = personas.client_for(personas.educator)
    page = client.get(reverse("workshops:delphi_convergence", args=[personas.cycle.slug])).content.decode()
    moving = ItemResult.objects.get(round=two_rounds["second"], item=two_rounds["moving"])
    first = ItemResult.objects.get(round=two_rounds["delphi"].round, item=two_rounds["moving"])
    label = (
        f"C01 at Level 1: round 1: agreement {round(100 * first.agreement)} %, IQR {first.iqr:g}; "
        f"round 2: agreement {round(100 * moving.agreement)} %, IQR {moving.iqr:g}"
    )
    assert f'aria-label="{label}"' in page
    assert page.count('<svg class="conv-chart"') == 2
    assert f"p = {moving.wilcoxon_p:.3f}" in page and "(8 pairs)" in page
    assert "75 % changed" in page  # six of the eight
    summary = Round.objects.get(pk=two_rounds["second"].pk).summary["wilcoxon"]
    assert re.search(rf"<td>16</td><td>8</td><td>{summary['statistic']}</td><td>{summary['p']:.4f}</td>", page)


@pytest.mark.django_db
def test_a_panellist_sees_no_statistics_or_test_of_too_few_answers(personas, django_capture_on_commit_callbacks):
    a, b = add_panellists(personas.cycle, 2)
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=1, levels=1, max_rounds=3)
    [item] = delphi.items
    for rnd_values in ([1, 2], [2, 2]):
        rnd = Round.objects.filter(cycle=personas.cycle).order_by("-number").first()
        for person, value in zip((a, b), rnd_values, strict=True):
            vote_cast(round_id=rnd.pk, panellist=person, item_id=item.pk, value=value)
        with django_capture_on_commit_callbacks(execute=True):
            round_close(round_id=rnd.pk, actor=personas.convener)
        if rnd.number == 1:
            round_open(cycle=personas.cycle, actor=personas.convener)
    url = reverse("workshops:delphi_convergence", args=[personas.cycle.slug])
    page = personas.client_for(a).get(url).content.decode()
    assert 'aria-label="C01 at Level 1: too few answers to show"' in page
    assert "2 pairs: too few to show" in page and "p = " not in page
    convener = personas.client_for(personas.convener).get(url).content.decode()
    assert "round 1: agreement 50 %, IQR 0.5" in convener and "(2 pairs)" in convener

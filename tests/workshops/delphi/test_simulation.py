"""simulate_delphi: a full multi-round Delphi through the real services, the same for the same seed."""

import io

import pytest
from django.core.management import CommandError, call_command

from tests.factories import RoleLevelFactory
from tests.workshops.delphi.factories import (
    add_capabilities,
    fast_passwords,  # noqa: F401
)
from workshops.models import DelphiItem, ItemResult, Round, Vote, VoteReceipt

pytestmark = pytest.mark.django_db


@pytest.fixture
def cycle(personas):
    add_capabilities(personas.cycle, 4)
    for n, name in enumerate(["Lead", "Technician"]):
        RoleLevelFactory(cycle=personas.cycle, name=name, order=n)
    return personas.cycle


def outcome_of(cycle):
    results = list(
        ItemResult.objects.filter(round__cycle=cycle)
        .order_by("round__number", "item__capability__ref", "item__role_level__order")
        .values_list("round__number", "n", "counts", "median", "iqr", "agreement", "consensus", "stable")
    )
    items = list(
        DelphiItem.objects.filter(cycle=cycle)
        .order_by("capability__ref", "role_level__order")
        .values_list("outcome", "consensus_value", "outcome_round")
    )
    return results, items


def test_the_simulation_runs_every_round_through_the_services(cycle):
    out = io.StringIO()
    call_command("simulate_delphi", cycle.slug, "--panellists", "9", "--rounds", "3", "--seed", "5", stdout=out)
    text = out.getvalue()
    assert "Round 1:" in text and "Simulated" in text
    rounds = list(Round.objects.filter(cycle=cycle).order_by("number"))
    assert rounds[0].items.count() == 8
    assert all(r.status == Round.Status.CLOSED and r.aggregated_at for r in rounds)
    # Every vote went through vote_cast (one receipt per simulated client id).
    assert VoteReceipt.objects.filter(round__cycle=cycle).count() == Vote.objects.filter(round__cycle=cycle).count()
    items = DelphiItem.objects.filter(cycle=cycle)
    assert all(item.outcome for item in items) or len(rounds) < 3


def test_the_same_seed_gives_the_same_results_and_answers_converge(cycle):
    call_command(
        "simulate_delphi", cycle.slug, "--panellists", "12", "--rounds", "3", "--seed", "11", stdout=io.StringIO()
    )
    first = outcome_of(cycle)
    call_command(
        "simulate_delphi",
        cycle.slug,
        "--panellists",
        "12",
        "--rounds",
        "3",
        "--seed",
        "11",
        "--reset",
        stdout=io.StringIO(),
    )
    assert outcome_of(cycle) == first
    rounds = list(Round.objects.filter(cycle=cycle).order_by("number"))
    if len(rounds) > 1:
        carried = set(rounds[1].items.values_list("pk", flat=True))
        before = ItemResult.objects.filter(round=rounds[0], item__in=carried)
        after = ItemResult.objects.filter(round=rounds[1], item__in=carried)
        mean = lambda rows: sum(r.agreement for r in rows) / len(rows)  # noqa: E731
        assert mean(after) > mean(before)


def test_a_cycle_with_rounds_is_not_simulated_again_without_reset(cycle):
    call_command(
        "simulate_delphi", cycle.slug, "--panellists", "3", "--rounds", "1", "--seed", "1", stdout=io.StringIO()
    )
    with pytest.raises(CommandError, match="pass --reset"):
        call_command("simulate_delphi", cycle.slug, "--panellists", "3", "--rounds", "1", stdout=io.StringIO())


def test_an_unknown_cycle_is_refused():
    with pytest.raises(CommandError, match="No cycle"):
        call_command("simulate_delphi", "nope", stdout=io.StringIO())

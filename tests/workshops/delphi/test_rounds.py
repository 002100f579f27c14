"""Rounds: opening rules, deadlines (lazy and by command) and what each round carries."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.workshops.delphi.factories import (
    add_panellists,
    fast_passwords,  # noqa: F401
    start_delphi,
)
from workshops.delphi.services import (
    MAX_ROUNDS_REACHED,
    NOTHING_TO_CARRY,
    ROUND_NOT_OPEN,
    ROUND_STILL_OPEN,
    DelphiError,
    round_close,
    round_open,
    vote_cast,
)
from workshops.models import Round, Vote

pytestmark = pytest.mark.django_db


@pytest.fixture
def closing(django_capture_on_commit_callbacks, personas):
    def _close(rnd, actor=personas.convener):
        with django_capture_on_commit_callbacks(execute=True):
            round_close(round_id=rnd.pk, actor=actor)

    return _close


def test_a_second_round_cannot_open_while_one_is_open(personas):
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=1, levels=1)
    with pytest.raises(DelphiError, match=ROUND_STILL_OPEN.format(number=1)):
        round_open(cycle=personas.cycle, actor=personas.convener)
    assert Round.objects.filter(cycle=delphi.cycle).count() == 1


def test_later_rounds_carry_only_items_without_consensus_and_not_stable(personas, closing):
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=2, levels=1)
    people = add_panellists(personas.cycle, 4)
    agreed, split = delphi.items
    for person in people:
        vote_cast(round_id=delphi.round.pk, panellist=person, item_id=agreed.pk, value=2)
    for person, value in zip(people, [0, 1, 2, 3], strict=True):
        vote_cast(round_id=delphi.round.pk, panellist=person, item_id=split.pk, value=value)
    closing(delphi.round)
    second = round_open(cycle=personas.cycle, actor=personas.convener)
    assert list(second.items.all()) == [split]


def test_the_delphi_stops_when_nothing_is_left_or_rounds_run_out(personas, closing):
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=1, levels=1, max_rounds=2)
    people = add_panellists(personas.cycle, 3)
    for person in people:
        vote_cast(round_id=delphi.round.pk, panellist=person, item_id=delphi.items[0].pk, value=1)
    closing(delphi.round)
    with pytest.raises(DelphiError, match=NOTHING_TO_CARRY):
        round_open(cycle=personas.cycle, actor=personas.convener)

    other = start_delphi(personas.other_cycle, personas.outsider, capabilities=1, levels=1, max_rounds=1)
    closing(other.round, actor=personas.outsider)  # the other cycle's convener
    with pytest.raises(DelphiError, match=MAX_ROUNDS_REACHED.format(max_rounds=1)):
        round_open(cycle=personas.other_cycle, actor=personas.outsider)
    other.items[0].refresh_from_db()
    assert other.items[0].outcome == "no_consensus"


def test_a_vote_after_the_deadline_is_refused_and_closes_the_round(personas):
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=1, levels=1)
    Round.objects.filter(pk=delphi.round.pk).update(deadline=timezone.now() - timezone.timedelta(seconds=1))
    with pytest.raises(DelphiError, match=ROUND_NOT_OPEN):
        vote_cast(round_id=delphi.round.pk, panellist=personas.technologist, item_id=delphi.items[0].pk, value=1)
    rnd = Round.objects.get(pk=delphi.round.pk)
    assert (rnd.status, rnd.close_reason) == (Round.Status.CLOSED, Round.CloseReason.DEADLINE)
    assert not Vote.objects.exists()


def test_close_due_rounds_closes_only_rounds_past_their_deadline(personas):
    due = start_delphi(personas.cycle, personas.convener, capabilities=1, levels=1)
    later = start_delphi(personas.other_cycle, personas.outsider, capabilities=1, levels=1)
    Round.objects.filter(pk=due.round.pk).update(deadline=timezone.now() - timezone.timedelta(minutes=5))
    Round.objects.filter(pk=later.round.pk).update(deadline=timezone.now() + timezone.timedelta(hours=1))
    out = io.StringIO()
    call_command("close_due_rounds", stdout=out)
    assert "Closed 1 round" in out.getvalue()
    assert Round.objects.get(pk=due.round.pk).status == Round.Status.CLOSED
    assert Round.objects.get(pk=later.round.pk).status == Round.Status.OPEN


def test_closing_twice_changes_nothing_the_second_time(personas, closing):
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=1, levels=1)
    closing(delphi.round)
    first = Round.objects.get(pk=delphi.round.pk)
    closing(delphi.round)
    again = Round.objects.get(pk=delphi.round.pk)
    assert (again.closed_at, again.sequence) == (first.closed_at, first.sequence)


def test_a_vote_changes_the_answer_and_bumps_the_sequence_each_time(personas):
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=1, levels=1)
    item = delphi.items[0].pk
    a = vote_cast(round_id=delphi.round.pk, panellist=personas.employer, item_id=item, value=1, client_id="x1")
    b = vote_cast(round_id=delphi.round.pk, panellist=personas.employer, item_id=item, value=3, client_id="x2")
    assert b.sequence == a.sequence + 1
    assert Vote.objects.get().value == 3
    # A late resend of the first client id answers with its original ack and does not undo the change.
    assert vote_cast(round_id=delphi.round.pk, panellist=personas.employer, item_id=item, value=1, client_id="x1") == a
    assert Vote.objects.get().value == 3


def test_preparing_a_round_after_the_last_one_passed_its_deadline_closes_it_for_good(personas):
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=1, levels=1, max_rounds=1)
    Round.objects.filter(pk=delphi.round.pk).update(deadline=timezone.now() - timezone.timedelta(minutes=1))
    with pytest.raises(DelphiError, match=MAX_ROUNDS_REACHED.format(max_rounds=1)):
        round_open(cycle=personas.cycle, actor=personas.convener)
    rnd = Round.objects.get(pk=delphi.round.pk)
    assert (rnd.status, rnd.close_reason) == (Round.Status.CLOSED, Round.CloseReason.DEADLINE)

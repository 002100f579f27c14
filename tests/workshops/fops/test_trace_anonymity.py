"""The traceability page never shows panellists a round's result of fewer than three answers."""

import pytest

from tests.workshops.delphi.factories import add_panellists, start_delphi
from workshops.delphi.services import round_close, round_reveal, vote_cast
from workshops.fops.trace import capability_trace

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("voters", "panellist_sees"), [(2, False), (3, True)])
def test_a_closed_revealed_rounds_result_shows_only_from_three_answers(
    personas, django_capture_on_commit_callbacks, voters, panellist_sees
):
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=1, levels=1)
    item = delphi.items[0]
    for person in add_panellists(personas.cycle, voters):
        vote_cast(round_id=delphi.round.pk, panellist=person, item_id=item.pk, value=2)
    with django_capture_on_commit_callbacks(execute=True):
        round_close(round_id=delphi.round.pk, actor=personas.convener)
    round_reveal(round_id=delphi.round.pk, actor=personas.convener, revealed=True)

    def result(is_convener):
        trace = capability_trace(capability=item.capability, is_convener=is_convener)
        return trace.levels[0].rounds[0].result

    assert result(True) is not None and result(True).n == voters  # the convener always sees it
    assert (result(False) is not None) is panellist_sees

"""One broadcaster per round across server processes (services mode: the lease lives in Redis).

Two daphne processes share the Redis channel layer; each coalesces the votes it received. Without
a shared lease, every screen would get the round's state once per process per interval. The
lease is keyed in Redis, so two calls from this process stand for two processes.
"""

import json

import pytest
from django.conf import settings

from tests.workshops.delphi.factories import start_delphi
from workshops.delphi import realtime as delphi_realtime
from workshops.delphi.services import vote_cast

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not settings.REDIS_URL, reason="the broadcast lease lives in Redis (services mode)"),
]

INTERVAL = 0.5


@pytest.fixture
def live(personas):
    delphi = start_delphi(personas.cycle, personas.convener, capabilities=2, levels=2, live=True, live_quorum=1)
    client = delphi_realtime._shared_redis()
    client.delete(*delphi_realtime._keys(delphi.round.pk))
    yield delphi
    client.delete(*delphi_realtime._keys(delphi.round.pk))


def _expire_lease(round_id):
    delphi_realtime._shared_redis().delete(delphi_realtime._keys(round_id)[0])


def _sequence(messages):
    return json.loads(messages[0]["progress"])["sequence"]


def test_a_second_process_waits_for_the_lease_instead_of_broadcasting_too(personas, live):
    vote_cast(round_id=live.round.pk, panellist=personas.technologist, item_id=live.items[0].pk, value=2)

    first, wait = delphi_realtime._claim_and_read(live.round.pk, INTERVAL)
    assert first and wait == 0
    second, wait = delphi_realtime._claim_and_read(live.round.pk, INTERVAL)
    assert second == []
    assert 0 < wait <= INTERVAL


def test_after_the_lease_the_same_state_is_not_sent_again_but_a_new_one_is(personas, live):
    vote_cast(round_id=live.round.pk, panellist=personas.technologist, item_id=live.items[0].pk, value=2)
    sent, _ = delphi_realtime._claim_and_read(live.round.pk, INTERVAL)
    delphi_realtime._remember_sent(live.round.pk, sent, INTERVAL)

    _expire_lease(live.round.pk)
    again, wait = delphi_realtime._claim_and_read(live.round.pk, INTERVAL)
    assert (again, wait) == ([], 0)  # the other process already sent exactly this state

    vote_cast(round_id=live.round.pk, panellist=personas.employer, item_id=live.items[1].pk, value=1)
    _expire_lease(live.round.pk)
    newer, _ = delphi_realtime._claim_and_read(live.round.pk, INTERVAL)
    assert newer and _sequence(newer) > _sequence(sent)


def test_a_send_that_failed_is_not_mistaken_for_one_that_was_made(personas, live):
    vote_cast(round_id=live.round.pk, panellist=personas.technologist, item_id=live.items[0].pk, value=3)
    read, _ = delphi_realtime._claim_and_read(live.round.pk, INTERVAL)
    # The group_send failed (Redis restarting), so _remember_sent was never called: the retry
    # must read and send the same state rather than skip it.
    _expire_lease(live.round.pk)
    retry, _ = delphi_realtime._claim_and_read(live.round.pk, INTERVAL)
    assert retry == read

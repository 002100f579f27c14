""" "Now discussing" over the live round, through the real ASGI application and real session cookies:
the convener chooses an item on the presenter (an HTTP POST), every screen of the round is told,
a screen that connects later reads it from its snapshot, and nobody else can choose it."""

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse

from tests.workshops.delphi.factories import (
    fast_passwords,  # noqa: F401
    start_delphi,
)
from tests.workshops.delphi.test_websocket import connect, drain, session_cookie, until
from workshops.models import Round

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _immediate_broadcasts(settings):
    settings.DELPHI_PROGRESS_INTERVAL = 0


@pytest.fixture
def delphi(personas):
    return start_delphi(personas.cycle, personas.convener, capabilities=2, levels=2, live=True)


def discuss_url(delphi) -> str:
    return reverse("workshops:delphi_discuss", args=[delphi.cycle.slug, delphi.round.number])


@database_sync_to_async
def post_discuss(user, delphi, item):
    """What the presenter's button does: a form POST (htmx or plain) with the session cookie."""
    client = Client()
    client.force_login(user)
    data = {} if item is None else {"item": item.pk}
    return client.post(discuss_url(delphi), data, HTTP_HX_REQUEST="true").status_code


@database_sync_to_async
def round_row(delphi):
    return Round.objects.get(pk=delphi.round.pk)


async def test_a_panellists_phone_is_told_when_the_convener_chooses_and_clears_the_item(personas, delphi):
    phone, snapshot = await connect(delphi.round.pk, await database_sync_to_async(session_cookie)(personas.employer))
    presenter, _ = await connect(delphi.round.pk, await database_sync_to_async(session_cookie)(personas.convener))
    assert snapshot["discussing"] is None
    item = delphi.items[2]

    assert await post_discuss(personas.convener, delphi, item) == 200
    sequence = (await round_row(delphi)).sequence
    for screen in (phone, presenter):
        message = await until(screen, "discussing")
        assert message == {"type": "discussing", "item": item.pk, "sequence": sequence}
        # The sequence moved, so a progress of that sequence follows (a client ordering by sequence
        # never keeps an older progress than the discussing it applied).
        assert (await until(screen, "progress"))["sequence"] >= sequence

    assert await post_discuss(personas.convener, delphi, None) == 200
    message = await until(phone, "discussing")
    assert message == {"type": "discussing", "item": None, "sequence": sequence + 1}
    await phone.disconnect()
    await presenter.disconnect()


async def test_a_screen_that_connects_later_reads_the_discussed_item_from_its_snapshot(personas, delphi):
    item = delphi.items[1]
    assert await post_discuss(personas.convener, delphi, item) == 200
    phone, snapshot = await connect(
        delphi.round.pk, await database_sync_to_async(session_cookie)(personas.technologist)
    )
    assert snapshot["discussing"] == item.pk
    assert snapshot["sequence"] == (await round_row(delphi)).sequence
    await phone.disconnect()


async def test_choosing_the_same_item_again_sends_nothing(personas, delphi):
    item = delphi.items[0]
    assert await post_discuss(personas.convener, delphi, item) == 200
    phone, _ = await connect(delphi.round.pk, await database_sync_to_async(session_cookie)(personas.employer))
    assert await post_discuss(personas.convener, delphi, item) == 200
    assert [m for m in await drain(phone) if m["type"] == "discussing"] == []
    await phone.disconnect()


@pytest.mark.parametrize("persona", ["technologist", "employer", "educator", "observer"])
async def test_no_one_but_the_convener_can_choose_the_item(personas, delphi, persona):
    user = getattr(personas, persona)
    phone, _ = await connect(delphi.round.pk, await database_sync_to_async(session_cookie)(personas.employer))
    assert await post_discuss(user, delphi, delphi.items[0]) == 403
    # And there is no socket frame for it: the server refuses it as any unknown type.
    screen, _ = await connect(delphi.round.pk, await database_sync_to_async(session_cookie)(user))
    await screen.send_json_to({"type": "discussing", "item": delphi.items[0].pk})
    error = await until(screen, "error")
    assert (error["code"], error["retry"]) == ("invalid_request", False)
    assert (await round_row(delphi)).discussing_id is None
    assert [m for m in await drain(phone) if m["type"] == "discussing"] == []
    await screen.disconnect()
    await phone.disconnect()


async def test_an_outsider_cannot_choose_the_item_of_another_cycles_round(personas, delphi):
    assert await post_discuss(personas.outsider, delphi, delphi.items[0]) == 404
    assert (await round_row(delphi)).discussing_id is None

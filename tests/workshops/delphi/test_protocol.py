"""Malformed frames on the live round socket: each gets the documented ``error`` (code and
``retry``), the socket stays open (a following valid vote is acknowledged) and nothing is stored.

Every rule tested here is in docs/realtime.md ("Frames", "Error codes"); the frames are sent raw
(``send_to(text_data=...)``/``bytes_data``) so the consumer sees exactly what a client sends.
"""

import json

import pytest
from channels.db import database_sync_to_async
from django.db import DataError, OperationalError

from tests.workshops.delphi.factories import fast_passwords, start_delphi  # noqa: F401
from tests.workshops.delphi.test_websocket import connect, session_cookie, until
from workshops.delphi import consumers
from workshops.models import Vote, VoteReceipt
from workshops.realtime import MAX_FRAME_BYTES, SERVER_MAX_MESSAGE_BYTES

pytestmark = pytest.mark.django_db(transaction=True)

ITEM = "<item>"  # replaced by a real item id of the round


@pytest.fixture(autouse=True)
def _immediate_broadcasts(settings):
    settings.DELPHI_PROGRESS_INTERVAL = 0


@pytest.fixture
def delphi(personas):
    return start_delphi(personas.cycle, personas.convener, capabilities=1, levels=2)


@database_sync_to_async
def stored(round_id):
    votes = sorted(Vote.objects.filter(round_id=round_id).values_list("client_id", "value", "rationale"))
    receipts = sorted(VoteReceipt.objects.filter(round_id=round_id).values_list("client_id", flat=True))
    return votes, receipts


def vote(item, **fields) -> dict:
    return {"type": "vote", "client_id": "bad-1", "item": item, "value": 2, **fields}


def without(message: dict, key: str) -> dict:
    return {k: v for k, v in message.items() if k != key}


# (name, frame: text, bytes or a dict to encode with ITEM replaced, expected code, echoed client id)
TOO_BIG = json.dumps({"type": "vote", "client_id": "big", "item": 1, "value": 2, "rationale": "x" * MAX_FRAME_BYTES})
CASES = [
    ("not JSON", "vote 2 please", "invalid_request", None),
    ("empty text frame", "", "invalid_request", None),
    ("truncated JSON", '{"type": "vote", "client_id": "t", ', "invalid_request", None),
    ("binary frame", b'{"type": "resync"}', "invalid_request", None),
    ("empty binary frame", b"", "invalid_request", None),
    ("a JSON array", "[1, 2]", "invalid_request", None),
    ("a JSON string", '"vote"', "invalid_request", None),
    ("JSON null", "null", "invalid_request", None),
    ("an object without type", {"client_id": "n1", "item": ITEM, "value": 1}, "invalid_request", "n1"),
    ("a type that is not text", {"type": 1, "client_id": "n2"}, "invalid_request", "n2"),
    ("an unknown type", {"type": "dance", "client_id": "n3"}, "invalid_request", "n3"),
    ("nesting too deep to read", "[" * 5000 + "]" * 5000, "invalid_request", None),
    ("a number of 5,000 digits", '{"type": "vote", "value": ' + "1" * 5000 + "}", "invalid_request", None),
    ("value as a numeric string", vote(ITEM, value="2"), "invalid_value", "bad-1"),
    ("value true", vote(ITEM, value=True), "invalid_value", "bad-1"),
    ("value false", vote(ITEM, value=False), "invalid_value", "bad-1"),
    ("value 2.0", vote(ITEM, value=2.0), "invalid_value", "bad-1"),
    ("value 1.5", vote(ITEM, value=1.5), "invalid_value", "bad-1"),
    ("value null", vote(ITEM, value=None), "invalid_value", "bad-1"),
    ("value a list", vote(ITEM, value=[2]), "invalid_value", "bad-1"),
    ("value 4", vote(ITEM, value=4), "invalid_value", "bad-1"),
    ("value NaN", '{"type": "vote", "client_id": "bad-1", "item": <item>, "value": NaN}', "invalid_value", "bad-1"),
    ("item as a numeric string", vote("<item-as-text>"), "invalid_request", "bad-1"),
    ("item true", vote(True), "invalid_request", "bad-1"),
    ("item a float", vote(1.0), "invalid_request", "bad-1"),
    ("item null", vote(None), "invalid_request", "bad-1"),
    ("item beyond any key", vote(2**70), "item_not_in_round", "bad-1"),
    ("item negative", vote(-1), "item_not_in_round", "bad-1"),
    ("item missing", without(vote(ITEM), "item"), "invalid_request", "bad-1"),
    ("value missing", without(vote(ITEM), "value"), "invalid_request", "bad-1"),
    ("rationale a number", vote(ITEM, rationale=5), "invalid_rationale", "bad-1"),
    ("rationale true", vote(ITEM, rationale=True), "invalid_rationale", "bad-1"),
    ("rationale a list", vote(ITEM, rationale=["a"]), "invalid_rationale", "bad-1"),
    ("rationale an object", vote(ITEM, rationale={"text": "a"}), "invalid_rationale", "bad-1"),
    ("rationale with a NUL", vote(ITEM, rationale="a\x00b"), "invalid_rationale", "bad-1"),
    ("rationale a lone surrogate", vote(ITEM, rationale="a\ud800b"), "invalid_rationale", "bad-1"),
    ("rationale of 2,001 characters", vote(ITEM, rationale="é" * 2001), "invalid_rationale", "bad-1"),
    ("client id a number", vote(ITEM, client_id=7), "invalid_request", None),
    ("client id a list", vote(ITEM, client_id=["a"]), "invalid_request", None),
    ("client id empty", vote(ITEM, client_id=""), "invalid_request", ""),
    ("client id null", vote(ITEM, client_id=None), "invalid_request", None),
    ("client id missing", without(vote(ITEM), "client_id"), "invalid_request", None),
    ("client id of 65 characters", vote(ITEM, client_id="c" * 65), "invalid_request", "c" * 65),
    ("client id with a NUL", vote(ITEM, client_id="a\x00b"), "invalid_request", "a\x00b"),
    ("client id with a newline", vote(ITEM, client_id="a\nb"), "invalid_request", "a\nb"),
    ("frame just over the limit", TOO_BIG, "frame_too_large", None),
    ("frame of about 1 MiB", TOO_BIG.replace("x" * MAX_FRAME_BYTES, "x" * 1_000_000), "frame_too_large", None),
    ("binary frame over the limit", b"x" * (MAX_FRAME_BYTES + 1), "frame_too_large", None),
]


def _frame(raw, item: int) -> dict:
    """The ASGI event of a raw frame (sent with ``send_input``: ``send_to`` refuses empty frames)."""
    if isinstance(raw, bytes):
        return {"type": "websocket.receive", "bytes": raw}
    if isinstance(raw, dict):
        raw = json.dumps(raw)
    text = raw.replace('"<item-as-text>"', f'"{item}"').replace('"<item>"', str(item)).replace("<item>", str(item))
    return {"type": "websocket.receive", "text": text}


@pytest.mark.parametrize(("raw", "code", "client_id"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_a_malformed_frame_gets_an_error_the_socket_stays_open_and_nothing_is_stored(
    personas, delphi, raw, code, client_id
):
    item = delphi.items[0].pk
    ws, _ = await connect(delphi.round.pk, await database_sync_to_async(session_cookie)(personas.technologist))
    await ws.send_input(_frame(raw, item))
    error = await until(ws, "error")
    assert (error["code"], error["client_id"], error["retry"]) == (code, client_id, False), error
    assert error["message"] and isinstance(error["message"], str)
    assert await stored(delphi.round.pk) == ([], [])

    # Still open: a valid vote after it is stored and acknowledged.
    await ws.send_json_to({"type": "vote", "client_id": "good-1", "item": item, "value": 1})
    ack = await until(ws, "ack")
    assert (ack["client_id"], ack["value"]) == ("good-1", 1)
    assert await stored(delphi.round.pk) == ([("good-1", 1, "")], ["good-1"])
    await ws.disconnect()


@pytest.mark.parametrize(
    ("rationale", "ensure_ascii"),
    [("é" * 2000, False), ("€" * 2000, True), ("😀" * 2000, True), ("😀" * 2000, False), ("a" * 1999 + "\n", True)],
    ids=["2-byte", "3-byte escaped", "emoji escaped (surrogate pairs)", "emoji raw", "ascii"],
)
async def test_a_vote_with_a_full_2000_character_rationale_fits_the_frame_limit(
    personas, delphi, rationale, ensure_ascii
):
    frame = json.dumps(
        {"type": "vote", "client_id": "long-1", "item": delphi.items[0].pk, "value": 3, "rationale": rationale},
        ensure_ascii=ensure_ascii,
    )
    assert len(frame.encode()) <= MAX_FRAME_BYTES < SERVER_MAX_MESSAGE_BYTES
    ws, _ = await connect(delphi.round.pk, await database_sync_to_async(session_cookie)(personas.technologist))
    await ws.send_to(text_data=frame)
    ack = await until(ws, "ack")
    assert ack["rationale"] == rationale.strip()
    assert await stored(delphi.round.pk) == ([("long-1", 3, rationale.strip())], ["long-1"])
    await ws.disconnect()


async def test_refusals_of_the_service_carry_retry_false(personas, delphi):
    ws, _ = await connect(delphi.round.pk, await database_sync_to_async(session_cookie)(personas.technologist))
    observer, _ = await connect(delphi.round.pk, await database_sync_to_async(session_cookie)(personas.observer))
    await observer.send_json_to({"type": "vote", "client_id": "o-1", "item": delphi.items[0].pk, "value": 1})
    assert (await until(observer, "error"))["retry"] is False
    await ws.send_json_to({"type": "vote", "client_id": "x-1", "item": 10**9, "value": 1})
    error = await until(ws, "error")
    assert (error["code"], error["retry"]) == ("item_not_in_round", False)
    await ws.send_to(text_data='{"type": "resync"}')
    assert (await until(ws, "snapshot"))["type"] == "snapshot"
    assert await stored(delphi.round.pk) == ([], [])
    await ws.disconnect()
    await observer.disconnect()


@pytest.mark.parametrize(
    ("exception", "code", "retry"),
    [
        (OperationalError("server closed the connection"), "unavailable", True),
        (DataError("bad data"), "invalid_request", False),
    ],
    ids=["database down: retry", "data refused: no retry"],
)
async def test_only_an_unavailable_database_invites_a_retry(personas, delphi, monkeypatch, exception, code, retry):
    def failing(**kwargs):
        raise exception

    monkeypatch.setattr(consumers, "vote_cast", failing)
    ws, _ = await connect(delphi.round.pk, await database_sync_to_async(session_cookie)(personas.technologist))
    await ws.send_json_to({"type": "vote", "client_id": "db-1", "item": delphi.items[0].pk, "value": 1})
    error = await until(ws, "error")
    assert (error["code"], error["client_id"], error["retry"]) == (code, "db-1", retry)
    assert await stored(delphi.round.pk) == ([], [])
    await ws.send_json_to({"type": "resync"})
    assert (await until(ws, "snapshot"))["type"] == "snapshot"
    await ws.disconnect()
